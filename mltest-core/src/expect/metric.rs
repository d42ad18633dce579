//! What a check measures: the metric, one variant per kind of figure.

use serde::{Deserialize, Serialize};

use super::Value;
use crate::data::DType;

/// What is measured. Fractions are over the segment's rows (missingness,
/// empty text) or over its non-missing values (ranges, sets, lengths,
/// patterns): a range says nothing about values that are absent, which the
/// null-fraction checks cover.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Metric {
    RowCount,
    NullFraction {
        column: String,
    },
    Mean {
        column: String,
    },
    Std {
        column: String,
    },
    Min {
        column: String,
    },
    Max {
        column: String,
    },
    /// The newest time in a date, datetime or ISO 8601 text column, as unix
    /// seconds (what a freshness check bounds: see
    /// [`MetricRef::within`](super::MetricRef::within)).
    Newest {
        column: String,
    },
    /// The sum of the non-missing values.
    Sum {
        column: String,
    },
    /// Distinct non-missing values over non-missing values (1 when every
    /// value is unique).
    UniqueFraction {
        column: String,
    },
    Quantile {
        column: String,
        q: f64,
    },
    InRangeFraction {
        column: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    InSetFraction {
        column: String,
        values: Vec<Value>,
    },
    CategoryShare {
        column: String,
        value: Value,
    },
    EmptyTextFraction {
        column: String,
    },
    LengthInRangeFraction {
        column: String,
        min: u32,
        max: u32,
    },
    PatternMatchFraction {
        column: String,
        pattern: String,
    },
    DuplicateRows {
        columns: Option<Vec<String>>,
        /// Which rows count (see [`DuplicateRule`]); older records lack it.
        #[serde(default)]
        rule: DuplicateRule,
    },
    MaxAssociation {
        target: String,
        features: Vec<String>,
        /// Bias-corrected Cramér's V and η (see [`leakage`](super::leakage)); older
        /// records lack it, and it is written only when set.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        bias_corrected: bool,
    },
    Schema {
        required: Vec<(String, DType)>,
    },
    /// Columns removed, re-typed or added since the check's previous run
    /// (a count; see [`schema_change`](super::schema_change)).
    SchemaChange {
        change: super::ColumnChange,
    },
}

/// How a duplicate check counts: which rows take part, and what is counted.
///
/// The default counts the rows that repeat an earlier row (the first
/// occurrence is not a duplicate: four equal rows are 3 duplicates) and
/// ignores rows whose key columns are all missing, because missingness has
/// its own checks and four rows without an id are not four copies of one
/// record. Great Expectations' `expect_compound_columns_to_be_unique`
/// counts every member of a duplicated group instead (four equal rows are
/// 4): [`DuplicateCount::Members`]. The figure is a count of rows unless
/// `fraction` is set, then a share of the rows that take part.
///
/// ```
/// use mltest_core::expect::{DuplicateCount, DuplicateRule, MissingKeys};
/// let rule = DuplicateRule::default();
/// assert_eq!(rule.missing_keys, MissingKeys::Ignore);
/// assert_eq!(rule.count, DuplicateCount::Repeats);
/// assert!(!rule.fraction);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateRule {
    /// Rows whose key columns (every column, for whole-row duplicates) are
    /// all missing: ignored (default) or compared like any other key.
    pub missing_keys: MissingKeys,
    /// Repeats after the first occurrence (default) or every member of a group.
    pub count: DuplicateCount,
    /// The share of the rows that take part instead of a count.
    pub fraction: bool,
}

/// Rows whose key is entirely missing, in a duplicate check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingKeys {
    /// Not compared and not counted (the default).
    #[default]
    Ignore,
    /// Compared like any key: four rows without an id are 3 duplicates.
    Count,
}

/// What a duplicate check counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateCount {
    /// Rows that repeat an earlier row: a group of k equal rows adds k − 1.
    #[default]
    Repeats,
    /// Every row of a group with two or more members: a group adds k
    /// (Great Expectations' convention).
    Members,
}

impl Metric {
    /// The column a metric reads, when it reads one.
    pub fn column(&self) -> Option<&str> {
        match self {
            Metric::NullFraction { column }
            | Metric::Mean { column }
            | Metric::Std { column }
            | Metric::Min { column }
            | Metric::Max { column }
            | Metric::Newest { column }
            | Metric::Sum { column }
            | Metric::UniqueFraction { column }
            | Metric::Quantile { column, .. }
            | Metric::InRangeFraction { column, .. }
            | Metric::InSetFraction { column, .. }
            | Metric::CategoryShare { column, .. }
            | Metric::EmptyTextFraction { column }
            | Metric::LengthInRangeFraction { column, .. }
            | Metric::PatternMatchFraction { column, .. } => Some(column),
            _ => None,
        }
    }

    /// Short machine name (records, JUnit properties).
    pub fn kind(&self) -> &'static str {
        match self {
            Metric::RowCount => "row_count",
            Metric::NullFraction { .. } => "null_fraction",
            Metric::Mean { .. } => "mean",
            Metric::Std { .. } => "std",
            Metric::Min { .. } => "min",
            Metric::Max { .. } => "max",
            Metric::Newest { .. } => "newest",
            Metric::Sum { .. } => "sum",
            Metric::UniqueFraction { .. } => "unique_fraction",
            Metric::Quantile { .. } => "quantile",
            Metric::InRangeFraction { .. } => "in_range_fraction",
            Metric::InSetFraction { .. } => "in_set_fraction",
            Metric::CategoryShare { .. } => "category_share",
            Metric::EmptyTextFraction { .. } => "empty_text_fraction",
            Metric::LengthInRangeFraction { .. } => "length_in_range_fraction",
            Metric::PatternMatchFraction { .. } => "pattern_match_fraction",
            Metric::DuplicateRows { .. } => "duplicate_rows",
            Metric::MaxAssociation { .. } => "max_association",
            Metric::Schema { .. } => "schema",
            Metric::SchemaChange { change } => match change {
                super::ColumnChange::Removed => "columns_removed",
                super::ColumnChange::Retyped => "columns_retyped",
                super::ColumnChange::Added => "columns_added",
            },
        }
    }

    /// Whether the metric is a share of rows or values (so `mostly` applies).
    pub fn is_fraction_of_values(&self) -> bool {
        matches!(
            self,
            Metric::InRangeFraction { .. }
                | Metric::InSetFraction { .. }
                | Metric::LengthInRangeFraction { .. }
                | Metric::PatternMatchFraction { .. }
        )
    }

    /// Human description, e.g. `null fraction of "Age"`.
    pub fn describe(&self) -> String {
        match self {
            Metric::RowCount => "row count".into(),
            Metric::NullFraction { column } => format!("null fraction of {column:?}"),
            Metric::Mean { column } => format!("mean of {column:?}"),
            Metric::Std { column } => format!("standard deviation of {column:?}"),
            Metric::Min { column } => format!("minimum of {column:?}"),
            Metric::Max { column } => format!("maximum of {column:?}"),
            Metric::Newest { column } => format!("newest time in {column:?}"),
            Metric::Sum { column } => format!("sum of {column:?}"),
            Metric::UniqueFraction { column } => {
                format!("share of distinct values among {column:?} values")
            }
            Metric::Quantile { column, q } => format!("quantile {q} of {column:?}"),
            Metric::InRangeFraction { column, min, max } => format!(
                "share of {column:?} values in [{}, {}]",
                min.map_or("-inf".into(), crate::text::fig),
                max.map_or("inf".into(), crate::text::fig)
            ),
            Metric::InSetFraction { column, values } => {
                let v: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                format!("share of {column:?} values in {{{}}}", v.join(", "))
            }
            Metric::CategoryShare { column, value } => {
                format!("share of {column:?} == {value}")
            }
            Metric::EmptyTextFraction { column } => {
                format!("share of {column:?} missing or blank")
            }
            Metric::LengthInRangeFraction { column, min, max } => {
                format!("share of {column:?} lengths in [{min}, {max}] chars")
            }
            Metric::PatternMatchFraction { column, pattern } => {
                format!("share of {column:?} matching /{pattern}/")
            }
            Metric::DuplicateRows { columns, rule } => {
                let what = match (rule.count, rule.fraction) {
                    (DuplicateCount::Repeats, false) => "rows duplicating an earlier row",
                    (DuplicateCount::Repeats, true) => "share of rows duplicating an earlier row",
                    (DuplicateCount::Members, false) => "rows in a group of duplicates",
                    (DuplicateCount::Members, true) => "share of rows in a group of duplicates",
                };
                let missing = match (rule.missing_keys, columns) {
                    (MissingKeys::Ignore, _) => "",
                    (MissingKeys::Count, Some(_)) => ", missing keys counted",
                    (MissingKeys::Count, None) => ", empty rows counted",
                };
                match columns {
                    None => format!("{what}{missing}"),
                    Some(c) => format!("{what} on {c:?}{missing}"),
                }
            }
            Metric::MaxAssociation { target, .. } => {
                format!("strongest association of a feature with {target:?}")
            }
            Metric::Schema { .. } => "schema problems (missing columns or wrong dtypes)".into(),
            Metric::SchemaChange { change } => {
                format!("columns {} since the check's previous run", change.word())
            }
        }
    }
}
