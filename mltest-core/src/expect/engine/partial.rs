//! The engine's side of partial states ([`crate::expect::partial`]): each
//! check's figures as the main queries measure them, plus the KLL sketches
//! of quantile checks, which are kept instead of read and dropped.

use std::collections::BTreeMap;

use super::Evaluator;
use crate::expect::figures::{Figures, GroupValue};
use crate::expect::outcome::CheckError;
use crate::expect::{Expectation, Metric};

/// A quantile check's serialised sketches, by group (`None` without groups).
pub(crate) type Sketches = BTreeMap<Option<GroupValue>, Vec<u8>>;

impl Evaluator {
    /// Every check's figures and sketches, or why it has none (a check that
    /// errored, or one whose figures do not merge).
    pub(crate) fn run_partial(
        &self,
        expectations: &[Expectation],
    ) -> Vec<Result<(Figures, Sketches), CheckError>> {
        let plan = self.plan(expectations);
        let measured = self.execute(&plan);
        let mut out: Vec<Result<(Figures, Sketches), CheckError>> = plan
            .outcomes
            .iter()
            .zip(expectations)
            .map(|(o, e)| {
                Err(match o.as_ref().and_then(|o| o.error()) {
                    Some(err) => err.clone(),
                    None => not_mergeable(&e.metric),
                })
            })
            .collect();
        for (i, result) in measured {
            let sketches = plan
                .sketches
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, feed)| feed.serialized())
                .unwrap_or_default();
            out[i] = result.map(|f| (f, sketches));
        }
        out
    }
}

/// Why a check has no partial state.
pub(crate) fn not_mergeable(metric: &Metric) -> CheckError {
    CheckError::Invalid(format!(
        "{} has no state that merges across partitions ({})",
        metric.describe(),
        match metric {
            Metric::DuplicateRows { .. } =>
                "a row may repeat one in another partition: evaluate it on the whole data",
            Metric::MaxAssociation { .. } =>
                "an association needs every feature value beside its label at once",
            Metric::Schema { .. } | Metric::SchemaChange { .. } =>
                "it reads the columns, not the rows: evaluate it on any partition",
            _ => "not measured",
        }
    ))
}

/// A distinct-count check's distinct non-missing values (as text), by
/// group (`None` without groups): the exact state of a distinct count.
pub(crate) type DistinctValues = BTreeMap<Option<GroupValue>, std::collections::BTreeSet<String>>;

impl Evaluator {
    /// The distinct values of `column` in `e`'s rows, per group of a
    /// per-segment check.
    pub(crate) fn distinct_values(
        &self,
        e: &Expectation,
        column: &str,
    ) -> Result<DistinctValues, CheckError> {
        use polars::prelude::*;
        let engine = |err: PolarsError| CheckError::Engine(err.to_string());
        let mut lf = self.frame.lazy();
        if let crate::expect::Segment::Where { filter } = &e.segment {
            lf = lf.filter(super::compile::filter_expr(filter, self));
        }
        let values = col(column).drop_nulls().unique().cast(DataType::String);
        let mut out = DistinctValues::new();
        let texts = |c: &Column| -> Result<std::collections::BTreeSet<String>, CheckError> {
            Ok(c.str()
                .map_err(engine)?
                .iter()
                .flatten()
                .map(str::to_string)
                .collect())
        };
        match &e.segment {
            crate::expect::Segment::EachOf { column: by, .. } => {
                let df = lf
                    .group_by([col(by.as_str())])
                    .agg([values.alias("distinct")])
                    .collect()
                    .map_err(engine)?;
                let keys = df.column(by).map_err(engine)?;
                let lists = df
                    .column("distinct")
                    .map_err(engine)?
                    .list()
                    .map_err(engine)?;
                for r in 0..df.height() {
                    let key = keys.get(r).map_err(engine)?;
                    let set = match lists.get_as_series(r) {
                        Some(s) => texts(&s.into_column())?,
                        None => Default::default(),
                    };
                    out.insert(Some(super::table::group_value(&key)), set);
                }
            }
            _ => {
                let df = lf
                    .select([values.alias("distinct")])
                    .collect()
                    .map_err(engine)?;
                out.insert(None, texts(df.column("distinct").map_err(engine)?)?);
            }
        }
        Ok(out)
    }
}
