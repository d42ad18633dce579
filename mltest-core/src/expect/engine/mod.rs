//! The polars engine: evaluates a batch of expectations against one table
//! (an in-memory frame or a file scan) in stages with typed seams:
//!
//! `validate` → `compile` (polars queries, aggregates named by figure key)
//! → `execute` (run them, read [`Figures`] back) → [`decide`](crate::expect::decide)
//! (engine-agnostic) → `examples` (only for checks that did not pass).
//!
//! The leakage check (`association`) runs its own queries, one frame per
//! feature; quantiles on the streaming path are answered by KLL sketches
//! fed inside the main query (`sketch`).

use polars::prelude::*;

use super::decide;
use super::figures::Figures;
use super::outcome::CheckOutcome;
use super::{EvalOptions, Expectation, Metric};

mod association;
mod compile;
mod examples;
mod execute;
mod partial;
mod sketch;
mod table;
mod validate;

#[cfg(feature = "datafusion")]
pub(crate) use association::{Association, Pair, decide_association};
#[cfg(feature = "datafusion")]
pub(crate) use compile::set_series;
#[cfg(feature = "datafusion")]
pub(crate) use examples::{clip, too_few};
pub(crate) use partial::{DistinctValues, Sketches, not_mergeable};
pub(crate) use sketch::{merge_sketches, sketch_figures};
pub(crate) use table::Table;

pub(crate) struct Evaluator {
    pub(crate) frame: Table,
    pub(crate) options: EvalOptions,
    /// Rows seen by the main query (a scan does not know its height up front).
    pub(crate) rows_seen: std::cell::Cell<Option<u64>>,
    /// Quantiles from KLL sketches whatever the table, keeping the sketches
    /// (partial states, which merge across partitions).
    pub(crate) keep_sketches: bool,
}

impl Evaluator {
    pub(crate) fn new(frame: Table, options: EvalOptions) -> Self {
        Evaluator {
            frame,
            options,
            rows_seen: Default::default(),
            keep_sketches: false,
        }
    }

    pub(crate) fn run(&self, expectations: Vec<Expectation>) -> Vec<CheckOutcome> {
        self.run_recording(expectations).0
    }

    /// [`run`](Self::run), also returning each check's raw figures (what the
    /// metric cache keeps; `None` for checks that have none: schema,
    /// association, errors).
    pub(crate) fn run_recording(
        &self,
        expectations: Vec<Expectation>,
    ) -> (Vec<CheckOutcome>, Vec<Option<Figures>>) {
        let mut recorded: Vec<Option<Figures>> = vec![None; expectations.len()];
        let plan = self.plan(&expectations);
        let measured = self.execute(&plan);
        let mut outcomes = plan.outcomes;
        for &i in &plan.direct {
            if let Metric::MaxAssociation {
                target,
                features,
                bias_corrected,
            } = &expectations[i].metric
            {
                outcomes[i] =
                    Some(self.association(&expectations[i], target, features, *bias_corrected));
            }
        }
        for (i, result) in measured {
            let e = &expectations[i];
            outcomes[i] = Some(match result {
                Err(err) => CheckOutcome::errored(e.clone(), err),
                Ok(figures) => {
                    let o = decide::figures(e, &figures);
                    recorded[i] = Some(figures);
                    o
                }
            });
        }
        let mut outcomes = super::outcome::every_decided(outcomes, &expectations);
        for o in outcomes.iter_mut() {
            if !o.passed() {
                self.attach_examples(o);
            }
        }
        (outcomes, recorded)
    }

    /// The physical plans polars' streaming engine would run for these
    /// checks, as Graphviz dot, labelled by query.
    pub(crate) fn streaming_plans(
        &self,
        expectations: &[Expectation],
    ) -> PolarsResult<Vec<(String, String)>> {
        let plan = self.plan(expectations);
        let queries = self.queries(&plan);
        let label = queries
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        let Some(lf) = table::combined(queries.into_iter().map(|(_, lf)| lf).collect()) else {
            return Ok(Vec::new());
        };
        let mut ir = lf.with_streaming(true).to_alp_optimized()?;
        let dot = polars_stream::visualize_physical_plan(
            ir.lp_top,
            &mut ir.lp_arena,
            &mut ir.expr_arena,
        )?;
        Ok(vec![(label, dot)])
    }
}
