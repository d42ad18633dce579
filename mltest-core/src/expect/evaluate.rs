//! The entry point: `Dataset::evaluate*` evaluates a batch of expectations
//! in one pass, through the metric cache when the data set has a content
//! identity (figures computed before are decided again, the rest go to the
//! engine), and on the engine directly otherwise. The cache stores figures
//! and never calls the engine; the engine never knows about the cache.

use std::collections::BTreeMap;

use super::engine::{Evaluator, Table};
use super::figures::Figures;
use super::outcome::{CheckError, CheckOutcome, every_decided};
use super::{Expectation, IntoExpectations, Metric, decide, metric_cache};
use crate::Dataset;

/// How many example rows and unexpected values a failure shows.
///
/// ```
/// use mltest_core::expect::EvalOptions;
/// let o = EvalOptions { examples: 10, ..EvalOptions::default() };
/// assert!(!o.exact_quantiles);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    pub examples: usize,
    /// On the streaming path, compute quantiles exactly instead of from a
    /// KLL sketch. Exact quantiles need all values at once, so polars runs
    /// that part of the query in memory. In-memory evaluation is always exact.
    pub exact_quantiles: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            examples: 5,
            exact_quantiles: false,
        }
    }
}

impl Dataset {
    /// Evaluates expectations together (one pass) and returns one outcome each, in order.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0, 3.0]).unwrap());
    /// let out = data.evaluate(vec![data.column("x").mean().between(1.5, 2.5), data.column("x").max().at_most(2.0)]);
    /// assert!(out[0].passed());
    /// assert!(!out[1].passed());
    /// ```
    pub fn evaluate(&self, expectations: impl IntoExpectations) -> Vec<CheckOutcome> {
        self.evaluate_with(expectations, EvalOptions::default())
    }

    /// [`evaluate`](Self::evaluate) for a single expectation.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0, 3.0]).unwrap());
    /// assert_eq!(data.evaluate_one(data.column("x").sum().at_most(6.0)).observed, Some(6.0));
    /// ```
    pub fn evaluate_one(&self, expectation: Expectation) -> CheckOutcome {
        let mut out = self.evaluate(expectation.clone());
        out.pop().unwrap_or_else(|| {
            CheckOutcome::errored(expectation, CheckError::Invalid("not evaluated".into()))
        })
    }

    /// [`evaluate`](Self::evaluate) with options.
    pub fn evaluate_with(
        &self,
        expectations: impl IntoExpectations,
        options: EvalOptions,
    ) -> Vec<CheckOutcome> {
        let expectations = expectations.into_expectations();
        if let Some(identity) = &self.identity
            && metric_cache::enabled()
        {
            return cached(self, identity, expectations, options);
        }
        Evaluator::new(Table::from_frame(self.frame()), options).run(expectations)
    }
}

/// Evaluates `expectations` on `data` through the metric cache: cached
/// figures are decided against today's bounds; the rest are computed (on
/// only the columns they read) and stored; failures decided from cached
/// figures still read the data, for their example rows.
fn cached(
    data: &Dataset,
    identity: &crate::data::dataset::CacheIdentity,
    expectations: Vec<Expectation>,
    options: EvalOptions,
) -> Vec<CheckOutcome> {
    let cache = metric_cache::Cache::open(identity);
    let mut outcomes: Vec<Option<CheckOutcome>> = vec![None; expectations.len()];
    let mut todo: Vec<usize> = Vec::new();
    let mut schema_only: Vec<usize> = Vec::new();
    for (i, e) in expectations.iter().enumerate() {
        // An empty bound is an invalid check, which only the engine's
        // validation says: it is never decided from cached figures.
        let empty_bound = matches!(e.bound, super::Bound::Between { min, max }
            if min > max || min.is_nan() || max.is_nan());
        match cache.get(e).filter(|_| !empty_bound) {
            Some(figures) => {
                let mut o = decide::figures(e, figures);
                o.from_cache = true;
                outcomes[i] = Some(o);
            }
            None if matches!(
                e.metric,
                Metric::Schema { .. } | Metric::SchemaChange { .. }
            ) =>
            {
                schema_only.push(i)
            }
            None => todo.push(i),
        }
    }
    if !schema_only.is_empty() {
        // Column types are known without reading a value.
        let empty = polars::prelude::DataFrame::empty_with_schema(&data.column_schema());
        let ev = Evaluator::new(Table::from_frame(&empty), options);
        let exps = schema_only
            .iter()
            .map(|&i| expectations[i].clone())
            .collect();
        for (&i, o) in schema_only.iter().zip(ev.run(exps)) {
            outcomes[i] = Some(o);
        }
    }
    let illustrate = |o: &CheckOutcome| o.from_cache && !o.passed();
    if todo.is_empty() && !outcomes.iter().flatten().any(illustrate) {
        return every_decided(outcomes, &expectations);
    }
    // Only the columns the checks to compute (or to illustrate) read: on a
    // data set served by the parse cache, the others stay on disk.
    let mut columns: Option<Vec<String>> = Some(Vec::new());
    let readers = todo.iter().map(|&i| &expectations[i]).chain(
        outcomes
            .iter()
            .flatten()
            .filter(|o| illustrate(o))
            .map(|o| &o.expectation),
    );
    for e in readers {
        match (e.columns(), columns.as_mut()) {
            (Some(c), Some(all)) => all.extend(c),
            _ => columns = None,
        }
    }
    let frame = data.frame_of(columns.as_deref());
    let ev = Evaluator::new(Table::from_frame(&frame), options);
    if !todo.is_empty() {
        let exps = todo.iter().map(|&i| expectations[i].clone()).collect();
        let (computed, figures) = ev.run_recording(exps);
        let mut store: BTreeMap<usize, Figures> = BTreeMap::new();
        for ((&i, o), f) in todo.iter().zip(computed).zip(figures) {
            if let Some(f) = f {
                store.insert(i, f);
            }
            outcomes[i] = Some(o);
        }
        cache.put(store.iter().map(|(&i, f)| (&expectations[i], f)));
    }
    for o in outcomes.iter_mut().flatten() {
        if illustrate(o) {
            ev.attach_examples(o);
        }
    }
    every_decided(outcomes, &expectations)
}
