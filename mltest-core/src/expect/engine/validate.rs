//! Validation: every check is checked against the table's schema before
//! anything runs (columns exist, dtypes fit, the regex compiles, the bound
//! is not empty), so one bad expectation becomes an error outcome of its
//! own and never takes the batch's query down with it. Schema checks are
//! decided here: they need the column types and nothing else.

use super::Evaluator;
use super::compile::set_series;
use crate::data::DType;
use crate::expect::outcome::{CheckError, CheckOutcome, Count};
use crate::expect::{Bound, Expectation, Metric, Segment};
use crate::text;
use polars::prelude::DataType;

impl Evaluator {
    pub(crate) fn dtype_of(&self, column: Option<&str>) -> DType {
        column.map_or(DType::Other, |c| self.frame.dtype(c))
    }

    /// The error for a column the table lacks, with the closest name.
    pub(crate) fn missing(&self, column: &str) -> CheckError {
        let names = self.frame.column_names();
        CheckError::MissingColumn {
            column: column.to_string(),
            closest: text::closest(column, names.iter().copied()).map(str::to_string),
            available: names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn need(&self, column: &str, expected: DType, why: &str) -> Result<DType, CheckError> {
        let c = self
            .frame
            .column(column)
            .ok_or_else(|| self.missing(column))?;
        let actual = DType::of(c);
        if expected.accepts(actual) {
            Ok(actual)
        } else {
            Err(CheckError::WrongDtype {
                column: column.to_string(),
                actual: format!("{actual} ({c})"),
                expected: format!("{expected} ({why})"),
            })
        }
    }

    pub(crate) fn validate(&self, e: &Expectation) -> Result<(), CheckError> {
        let any = |c: &str| {
            self.frame
                .column(c)
                .map(|_| ())
                .ok_or_else(|| self.missing(c))
        };
        match &e.segment {
            Segment::All => {}
            Segment::Where { filter } => {
                for c in filter.columns() {
                    any(c)?;
                }
            }
            Segment::EachOf { column, .. } => any(column)?,
        }
        if let Bound::Between { min, max } = e.bound
            && (min > max || min.is_nan() || max.is_nan())
        {
            return Err(CheckError::Invalid(format!(
                "bound [{min}, {max}] is empty"
            )));
        }
        // On an empty data set every row-based check has nothing to measure;
        // say that rather than complain about the dtypes a header-only file infers.
        if self.frame.known_empty()
            && !matches!(
                e.metric,
                Metric::RowCount | Metric::Schema { .. } | Metric::SchemaChange { .. }
            )
        {
            return Err(CheckError::NoRows { segment: None });
        }
        let is_mostly = matches!(e.bound, Bound::AtLeast { .. });
        if e.metric.is_fraction_of_values() && !is_mostly {
            return Err(CheckError::Invalid(
                "range, set, length and pattern checks take `.mostly(fraction)`, not another bound"
                    .into(),
            ));
        }
        match &e.metric {
            Metric::RowCount | Metric::Schema { .. } | Metric::SchemaChange { .. } => Ok(()),
            Metric::NullFraction { column } | Metric::UniqueFraction { column } => any(column),
            Metric::Mean { column }
            | Metric::Std { column }
            | Metric::Min { column }
            | Metric::Max { column }
            | Metric::Sum { column } => self
                .need(column, DType::Numeric, "a numeric statistic")
                .map(|_| ()),
            Metric::Newest { column } => {
                let dt = self
                    .frame
                    .column(column)
                    .ok_or_else(|| self.missing(column))?;
                if matches!(
                    dt,
                    DataType::Date | DataType::Datetime(..) | DataType::String
                ) {
                    Ok(())
                } else {
                    Err(CheckError::WrongDtype {
                        column: column.to_string(),
                        actual: dt.to_string(),
                        expected: "a date, a datetime or ISO 8601 text (the newest time)".into(),
                    })
                }
            }
            Metric::Quantile { column, q } => {
                if !(0.0..=1.0).contains(q) {
                    return Err(CheckError::Invalid(format!(
                        "quantile {q} is outside [0, 1]"
                    )));
                }
                self.need(column, DType::Numeric, "a quantile").map(|_| ())
            }
            Metric::InRangeFraction { column, .. } => self
                .need(column, DType::Numeric, "a numeric range")
                .map(|_| ()),
            Metric::InSetFraction { column, values } => {
                any(column)?;
                set_series(values, self.dtype_of(Some(column)), column).map(|_| ())
            }
            Metric::CategoryShare { column, value } => {
                any(column)?;
                set_series(
                    std::slice::from_ref(value),
                    self.dtype_of(Some(column)),
                    column,
                )
                .map(|_| ())
            }
            Metric::EmptyTextFraction { column } | Metric::LengthInRangeFraction { column, .. } => {
                self.need(column, DType::Text, "a text check").map(|_| ())
            }
            Metric::PatternMatchFraction { column, pattern } => {
                self.need(column, DType::Text, "a pattern check")?;
                regex::Regex::new(pattern).map(|_| ()).map_err(|err| {
                    CheckError::Invalid(format!("pattern /{pattern}/ does not compile: {err}"))
                })
            }
            Metric::DuplicateRows { columns, .. } => {
                for c in columns.iter().flatten() {
                    any(c)?;
                }
                Ok(())
            }
            Metric::MaxAssociation {
                target, features, ..
            } => {
                any(target)?;
                if features.is_empty() {
                    return Err(CheckError::Invalid(
                        "leakage check names no features".into(),
                    ));
                }
                for f in features {
                    any(f)?;
                }
                Ok(())
            }
        }
    }

    /// A schema check, decided from the column types alone.
    /// Every column with its polars dtype, in order: what a schema-change
    /// check records.
    pub(crate) fn columns(&self) -> Vec<crate::expect::ColumnType> {
        self.frame
            .column_names()
            .into_iter()
            .map(|name| crate::expect::ColumnType {
                name: name.to_string(),
                dtype: self
                    .frame
                    .column(name)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            })
            .collect()
    }

    pub(crate) fn schema(&self, e: &Expectation, required: &[(String, DType)]) -> CheckOutcome {
        let mut o = CheckOutcome::new(e.clone());
        let mut problems = Vec::new();
        for (column, dtype) in required {
            match self.frame.column(column) {
                None => problems.push(self.missing(column).to_string()),
                Some(c) => {
                    let actual = DType::of(c);
                    if !dtype.accepts(actual) {
                        problems.push(format!(
                            "column {column:?}: expected {dtype}, found {actual} ({c})"
                        ));
                    }
                }
            }
        }
        o.count = Some(Count {
            hits: problems.len() as u64,
            of: required.len() as u64,
            unit: "required columns with a problem".into(),
        });
        o.unexpected = problems.into_iter().map(|p| (p, 1)).collect();
        o.decide(o.count.as_ref().map_or(0.0, |c| c.hits as f64));
        o
    }
}
