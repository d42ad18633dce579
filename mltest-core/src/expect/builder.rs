//! Fluent builders: `data.column("Age").null_fraction().at_most(0.0)`.
//! Building never touches the data and never fails; a column that does not
//! exist is reported when the expectation is evaluated.

use super::{Bound, Expectation, Metric, Value};
use crate::data::{DType, Dataset};

/// Expectations about one column (also `dataset.column(name)`).
///
/// ```
/// let e = mltest_core::expect::column("Age").null_fraction().at_most(0.0);
/// assert_eq!(e.describe(), "null fraction of \"Age\" <= 0");
/// ```
pub fn column(name: &str) -> ColumnRef {
    ColumnRef {
        column: name.to_string(),
    }
}

/// The number of rows.
pub fn row_count() -> MetricRef {
    MetricRef(Metric::RowCount)
}

/// Required columns and their dtypes.
pub fn schema() -> SchemaRef {
    SchemaRef {
        required: Vec::new(),
    }
}

/// Rows that repeat an earlier row exactly (all columns).
pub fn duplicate_rows() -> MetricRef {
    MetricRef(Metric::DuplicateRows { columns: None })
}

/// Rows that repeat an earlier row's values in `columns` (a key).
pub fn duplicates_on<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> MetricRef {
    MetricRef(Metric::DuplicateRows {
        columns: Some(columns.into_iter().map(Into::into).collect()),
    })
}

/// Association of features with a label: |Pearson r| for a numeric
/// feature and numeric label, Cramér's V otherwise.
pub fn leakage(target: &str) -> LeakageRef {
    LeakageRef {
        target: target.to_string(),
    }
}

/// The same builders as methods, so a check reads `reviews.column("Age")...`.
impl Dataset {
    /// See [`column`].
    pub fn column(&self, name: &str) -> ColumnRef {
        column(name)
    }

    /// See [`row_count`].
    pub fn row_count(&self) -> MetricRef {
        row_count()
    }

    /// See [`schema`].
    pub fn schema(&self) -> SchemaRef {
        schema()
    }

    /// See [`duplicate_rows`].
    pub fn duplicate_rows(&self) -> MetricRef {
        duplicate_rows()
    }

    /// See [`duplicates_on`].
    pub fn duplicates_on<S: Into<String>>(
        &self,
        columns: impl IntoIterator<Item = S>,
    ) -> MetricRef {
        duplicates_on(columns)
    }

    /// See [`leakage`].
    pub fn leakage(&self, target: &str) -> LeakageRef {
        leakage(target)
    }
}

/// A column, before a metric is chosen.
#[derive(Clone, Debug)]
pub struct ColumnRef {
    column: String,
}

impl ColumnRef {
    fn metric(&self, m: impl FnOnce(String) -> Metric) -> MetricRef {
        MetricRef(m(self.column.clone()))
    }

    /// Share of rows where the column is missing.
    pub fn null_fraction(&self) -> MetricRef {
        self.metric(|column| Metric::NullFraction { column })
    }

    /// Mean of the non-missing values.
    pub fn mean(&self) -> MetricRef {
        self.metric(|column| Metric::Mean { column })
    }

    /// Sample standard deviation (ddof = 1) of the non-missing values.
    pub fn std(&self) -> MetricRef {
        self.metric(|column| Metric::Std { column })
    }

    /// Smallest value.
    pub fn min(&self) -> MetricRef {
        self.metric(|column| Metric::Min { column })
    }

    /// Largest value.
    pub fn max(&self) -> MetricRef {
        self.metric(|column| Metric::Max { column })
    }

    /// Quantile `q` (linear interpolation, as numpy's default).
    pub fn quantile(&self, q: f64) -> MetricRef {
        self.metric(|column| Metric::Quantile { column, q })
    }

    /// The median (quantile 0.5).
    pub fn median(&self) -> MetricRef {
        self.quantile(0.5)
    }

    /// Per-value checks: ranges and sets, with a `mostly` tolerance.
    pub fn values(&self) -> ValuesRef {
        ValuesRef {
            column: self.column.clone(),
        }
    }

    /// Share of the non-missing values equal to `value`.
    pub fn share_of(&self, value: impl Into<Value>) -> MetricRef {
        let value = value.into();
        self.metric(|column| Metric::CategoryShare { column, value })
    }

    /// One share check per `(value, min, max)` band.
    pub fn shares_within<V: Into<Value>>(
        &self,
        bands: impl IntoIterator<Item = (V, f64, f64)>,
    ) -> Vec<Expectation> {
        bands
            .into_iter()
            .map(|(v, lo, hi)| self.share_of(v).between(lo, hi))
            .collect()
    }

    /// Share of rows whose text is missing or only whitespace.
    pub fn empty_fraction(&self) -> MetricRef {
        self.metric(|column| Metric::EmptyTextFraction { column })
    }

    /// Text lengths in characters.
    pub fn lengths(&self) -> LengthsRef {
        LengthsRef {
            column: self.column.clone(),
        }
    }

    /// Every non-missing text matches a regular expression (Rust `regex`
    /// syntax, searched anywhere: anchor with `^...$`); relax with `.mostly(f)`.
    pub fn matching(&self, pattern: &str) -> Expectation {
        Expectation::new(
            Metric::PatternMatchFraction {
                column: self.column.clone(),
                pattern: pattern.to_string(),
            },
            Bound::AtLeast { min: 1.0 },
        )
    }
}

/// A metric waiting for its bound.
#[derive(Clone, Debug)]
pub struct MetricRef(pub(crate) Metric);

impl MetricRef {
    /// Passes when the observed value is `<= max`.
    pub fn at_most(self, max: f64) -> Expectation {
        Expectation::new(self.0, Bound::AtMost { max })
    }

    /// Passes when the observed value is `>= min`.
    pub fn at_least(self, min: f64) -> Expectation {
        Expectation::new(self.0, Bound::AtLeast { min })
    }

    /// Passes when `min <= observed <= max`.
    pub fn between(self, min: f64, max: f64) -> Expectation {
        Expectation::new(self.0, Bound::Between { min, max })
    }
}

/// Per-value range and set checks on a column.
#[derive(Clone, Debug)]
pub struct ValuesRef {
    column: String,
}

impl ValuesRef {
    fn range(&self, min: Option<f64>, max: Option<f64>) -> Expectation {
        Expectation::new(
            Metric::InRangeFraction {
                column: self.column.clone(),
                min,
                max,
            },
            Bound::AtLeast { min: 1.0 },
        )
    }

    /// Every non-missing value in `[min, max]` (relax with `.mostly(f)`).
    pub fn between(&self, min: f64, max: f64) -> Expectation {
        self.range(Some(min), Some(max))
    }

    /// Every non-missing value `>= min`.
    pub fn at_least(&self, min: f64) -> Expectation {
        self.range(Some(min), None)
    }

    /// Every non-missing value `<= max`.
    pub fn at_most(&self, max: f64) -> Expectation {
        self.range(None, Some(max))
    }

    /// Every non-missing value one of `values`; the report lists the others
    /// with their counts.
    pub fn in_set<V: Into<Value>>(&self, values: impl IntoIterator<Item = V>) -> Expectation {
        Expectation::new(
            Metric::InSetFraction {
                column: self.column.clone(),
                values: values.into_iter().map(Into::into).collect(),
            },
            Bound::AtLeast { min: 1.0 },
        )
    }
}

/// Text length checks.
#[derive(Clone, Debug)]
pub struct LengthsRef {
    column: String,
}

impl LengthsRef {
    /// Every non-missing text between `min` and `max` characters.
    pub fn between(&self, min: u32, max: u32) -> Expectation {
        Expectation::new(
            Metric::LengthInRangeFraction {
                column: self.column.clone(),
                min,
                max,
            },
            Bound::AtLeast { min: 1.0 },
        )
    }
}

/// Required columns with dtypes.
#[derive(Clone, Debug)]
pub struct SchemaRef {
    required: Vec<(String, DType)>,
}

impl SchemaRef {
    /// Requires `column` with a dtype `dtype` accepts.
    pub fn column(mut self, column: &str, dtype: DType) -> Self {
        self.required.push((column.to_string(), dtype));
        self
    }

    /// Requires each `(column, dtype)` pair.
    pub fn requires<'a>(
        mut self,
        columns: impl IntoIterator<Item = (&'a str, DType)>,
    ) -> Expectation {
        self.required
            .extend(columns.into_iter().map(|(c, d)| (c.to_string(), d)));
        self.check()
    }

    /// The expectation: no schema problems.
    pub fn check(self) -> Expectation {
        Expectation::new(
            Metric::Schema {
                required: self.required,
            },
            Bound::AtMost { max: 0.0 },
        )
    }
}

/// Leakage check, before the features are named.
#[derive(Clone, Debug)]
pub struct LeakageRef {
    target: String,
}

impl LeakageRef {
    /// The features to test against the label.
    pub fn features<S: Into<String>>(self, features: impl IntoIterator<Item = S>) -> MetricRef {
        MetricRef(Metric::MaxAssociation {
            target: self.target,
            features: features.into_iter().map(Into::into).collect(),
        })
    }
}
