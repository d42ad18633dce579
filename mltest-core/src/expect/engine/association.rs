//! The leakage check: each feature's association with the label, by the
//! measure that fits the pair of column types (|Pearson r|, the correlation
//! ratio η, Cramér's V), computed by its own queries on the evaluator's
//! frame. A stage of the engine of its own: the main plan never sees it.

use polars::prelude::*;

use super::Evaluator;
use super::compile::count_true;
use super::execute::scalar;
use super::table::CollectOn;
use crate::data::DType;
use crate::expect::Expectation;
use crate::expect::outcome::{CheckError, CheckOutcome, TableRow};
use crate::text;
use std::collections::BTreeMap;

/// One feature's association with the label, or why it has none: what an
/// engine measures for each feature (the polars queries below, or the
/// DataFusion engine's), decided the same way by [`decide_association`].
pub(crate) enum Association<'a> {
    /// The figure, the measure's name and the rows both columns have.
    Measured {
        value: f64,
        method: &'static str,
        n: f64,
    },
    /// The numeric column `column` holds NaN or infinite values.
    NonFinite {
        column: &'a str,
        method: &'static str,
        nan: u64,
        inf: u64,
    },
}

impl Evaluator {
    /// The leakage check: each feature's association with the label, by the
    /// measure that fits the pair of column types (see `expect::leakage`):
    /// |Pearson r| numeric–numeric, the correlation ratio η numeric–categorical
    /// (the numeric column grouped by the other), Cramér's V otherwise.
    pub(super) fn association(
        &self,
        e: &Expectation,
        target: &str,
        features: &[String],
        bias_corrected: bool,
    ) -> CheckOutcome {
        if self.frame.known_empty() {
            return CheckOutcome::errored(e.clone(), CheckError::NoRows { segment: None });
        }
        let numeric = |c: &str| DType::Numeric.accepts(self.dtype_of(Some(c)));
        decide_association(e, target, features, &numeric, |f, pair| {
            let both = col(f).is_not_null().and(col(target).is_not_null());
            match pair {
                Pair::Pearson => self.pearson(f, target, both),
                Pair::FeatureByTarget => self.correlation_ratio(f, target, both, bias_corrected),
                Pair::TargetByFeature => self.correlation_ratio(target, f, both, bias_corrected),
                Pair::Contingency => self.cramers_v(f, target, both, bias_corrected),
            }
            .map_err(|e| e.to_string())
        })
    }

    /// NaN and infinite counts of a numeric column, as aggregates.
    fn non_finite_aggs(x: Expr, prefix: &str) -> [Expr; 2] {
        [
            count_true(x.clone().is_nan()).alias(format!("{prefix}nan")),
            count_true(x.is_infinite()).alias(format!("{prefix}inf")),
        ]
    }

    /// `NonFinite` for the first of `columns` (name, column prefix in `df`)
    /// holding NaN or infinite values.
    fn non_finite<'a>(
        df: &DataFrame,
        columns: &[(&'a str, &str)],
        method: &'static str,
    ) -> Option<Association<'a>> {
        columns.iter().find_map(|(column, prefix)| {
            let nan = scalar(df, &format!("{prefix}nan")).unwrap_or(0.0) as u64;
            let inf = scalar(df, &format!("{prefix}inf")).unwrap_or(0.0) as u64;
            (nan + inf > 0).then_some(Association::NonFinite {
                column,
                method,
                nan,
                inf,
            })
        })
    }

    /// |Pearson r| of two numeric columns.
    fn pearson<'a>(
        &self,
        feature: &'a str,
        target: &'a str,
        both: Expr,
    ) -> PolarsResult<Association<'a>> {
        const METHOD: &str = "|Pearson r|";
        let (x, y) = (
            col(feature).cast(DataType::Float64),
            col(target).cast(DataType::Float64),
        );
        let mut aggs = vec![
            pearson_corr(x.clone(), y.clone()).alias("r"),
            len().cast(DataType::Float64).alias("n"),
        ];
        aggs.extend(Self::non_finite_aggs(x, "f_"));
        aggs.extend(Self::non_finite_aggs(y, "t_"));
        let df = self
            .frame
            .lazy()
            .filter(both)
            .select(aggs)
            .collect_on(&self.frame)?;
        if let Some(bad) = Self::non_finite(&df, &[(feature, "f_"), (target, "t_")], METHOD) {
            return Ok(bad);
        }
        Ok(Association::Measured {
            value: scalar(&df, "r").unwrap_or(f64::NAN).abs(),
            method: METHOD,
            n: scalar(&df, "n").unwrap_or(0.0),
        })
    }

    /// The correlation ratio η of `numeric` grouped by `categorical`: one
    /// `group_by` giving each group's size, mean and variance.
    fn correlation_ratio<'a>(
        &self,
        numeric: &'a str,
        categorical: &str,
        both: Expr,
        bias_corrected: bool,
    ) -> PolarsResult<Association<'a>> {
        let method = if bias_corrected {
            "bias-corrected η"
        } else {
            "correlation ratio η"
        };
        let x = col(numeric).cast(DataType::Float64);
        let mut aggs = vec![
            len().cast(DataType::Float64).alias("n"),
            x.clone().mean().alias("mean"),
            x.clone().var(0).alias("var"),
        ];
        aggs.extend(Self::non_finite_aggs(x, ""));
        let groups = self
            .frame
            .lazy()
            .filter(both)
            .group_by([col(categorical).cast(DataType::String).alias("g")])
            .agg(aggs)
            .collect_on(&self.frame)?;
        let column = |name: &str| -> PolarsResult<Vec<f64>> {
            Ok(groups
                .column(name)?
                .cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect())
        };
        let (nan, inf) = (column("nan")?, column("inf")?);
        let (nan, inf) = (
            nan.iter().sum::<f64>() as u64,
            inf.iter().sum::<f64>() as u64,
        );
        if nan + inf > 0 {
            return Ok(Association::NonFinite {
                column: numeric,
                method,
                nan,
                inf,
            });
        }
        let moments: Vec<crate::stats::GroupMoments> = column("n")?
            .into_iter()
            .zip(column("mean")?)
            .zip(column("var")?)
            .map(|((n, mean), var)| crate::stats::GroupMoments {
                n,
                mean,
                ss: var * n,
            })
            .collect();
        let n = moments.iter().map(|g| g.n).sum();
        let value = if bias_corrected {
            crate::stats::correlation_ratio_corrected(&moments)
        } else {
            crate::stats::correlation_ratio(&moments)
        };
        Ok(Association::Measured { value, method, n })
    }

    /// Cramér's V of two categorical columns (values compared as text).
    fn cramers_v<'a>(
        &self,
        feature: &str,
        target: &str,
        both: Expr,
        bias_corrected: bool,
    ) -> PolarsResult<Association<'a>> {
        let method = if bias_corrected {
            "bias-corrected Cramér's V"
        } else {
            "Cramér's V"
        };
        let counts = self
            .frame
            .lazy()
            .filter(both)
            .group_by([
                col(feature).cast(DataType::String).alias("f"),
                col(target).cast(DataType::String).alias("t"),
            ])
            .agg([len().cast(DataType::Float64).alias("n")])
            .collect_on(&self.frame)?;
        let f = counts.column("f")?.str()?.clone();
        let t = counts.column("t")?.str()?.clone();
        let n = counts.column("n")?.f64()?.clone();
        let mut rows: BTreeMap<String, f64> = BTreeMap::new();
        let mut cols: BTreeMap<String, f64> = BTreeMap::new();
        let mut cells: Vec<(String, String, f64)> = Vec::new();
        for i in 0..counts.height() {
            let (a, b, c) = (
                f.get(i).unwrap_or("").to_string(),
                t.get(i).unwrap_or("").to_string(),
                n.get(i).unwrap_or(0.0),
            );
            *rows.entry(a.clone()).or_default() += c;
            *cols.entry(b.clone()).or_default() += c;
            cells.push((a, b, c));
        }
        let total: f64 = rows.values().sum();
        let value = if bias_corrected {
            crate::stats::cramers_v_corrected(&rows, &cols, &cells, total)
        } else {
            crate::stats::cramers_v(&rows, &cols, &cells, total)
        };
        Ok(Association::Measured {
            value,
            method,
            n: total,
        })
    }
}

/// Which measure a feature–label pair takes, by the pair's column types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pair {
    /// Both numeric: |Pearson r|.
    Pearson,
    /// A numeric feature grouped by a categorical label: η.
    FeatureByTarget,
    /// A numeric label grouped by a categorical feature: η.
    TargetByFeature,
    /// Both categorical: Cramér's V.
    Contingency,
}

/// The leakage check's decision, whichever engine measures: each feature's
/// association (`measure`), the table of them, worst first, and the
/// verdict on the largest. A feature without a measurable pair errors the
/// check, never passes it.
pub(crate) fn decide_association<'a>(
    e: &Expectation,
    target: &'a str,
    features: &'a [String],
    numeric: &dyn Fn(&str) -> bool,
    mut measure: impl FnMut(&'a str, Pair) -> Result<Association<'a>, String>,
) -> CheckOutcome {
    let mut o = CheckOutcome::new(e.clone());
    let t_numeric = numeric(target);
    let mut table = Vec::new();
    for f in features {
        let pair = match (numeric(f), t_numeric) {
            (true, true) => Pair::Pearson,
            (true, false) => Pair::FeatureByTarget,
            (false, true) => Pair::TargetByFeature,
            (false, false) => Pair::Contingency,
        };
        match measure(f.as_str(), pair) {
            // No row has both values: nothing to measure, never a pass.
            Ok(Association::Measured { n: 0.0, .. }) => {
                return CheckOutcome::errored(
                    e.clone(),
                    CheckError::NoRows {
                        segment: Some(format!("rows where both {f:?} and {target:?} are present")),
                    },
                );
            }
            // A constant column carries no information about the label.
            Ok(Association::Measured { value, method, .. }) => table.push(TableRow {
                name: f.clone(),
                value: if value.is_nan() { 0.0 } else { value },
                method: method.to_string(),
            }),
            Ok(Association::NonFinite {
                column,
                method,
                nan,
                inf,
            }) => {
                let mut o = CheckOutcome::errored(
                    e.clone(),
                    CheckError::NonFinite {
                        column: column.to_string(),
                        metric: method.to_string(),
                        nan,
                        inf,
                    },
                );
                o.worst_segment = Some(format!("feature {f:?}"));
                return o;
            }
            Err(err) => {
                return CheckOutcome::errored(e.clone(), CheckError::Engine(err));
            }
        }
    }
    table.sort_by(|a, b| b.value.total_cmp(&a.value));
    let value = table[0].value;
    o.worst_segment = Some(format!(
        "feature {:?} ({} {})",
        table[0].name,
        table[0].method,
        text::fig(value)
    ));
    o.table = table;
    o.decide(value);
    o
}
