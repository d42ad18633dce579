//! Evaluating `#[data_expectation]` checks: call the fixture, load the data
//! (once per process), build the expectations, evaluate them in one pass per
//! data set, or in one streaming pass for a file that streams. Never panics:
//! a panicking fixture or body, a load error, an empty body — each is an
//! errored run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use super::{DataCheck, DataRun};
use crate::check::panic_text;
use crate::data::{DataInfo, DataSource, Dataset, Engine, load_cached};
use crate::expect::{CheckError, CheckOutcome, EvalOptions, Expectation};

/// Evaluates one check: [`evaluate_checks`] of one.
pub fn evaluate_check(check: &DataCheck) -> DataRun {
    evaluate_checks(&[check]).pop().expect("one run per check")
}

/// Evaluates many checks, one pass per data set: checks that name the same
/// source are evaluated in a single batch; a file that streams
/// ([`DataSource::streams`]) is checked in one streaming pass of its own.
/// Results keep the input order. A run's seconds are its own preparation
/// (fixture, load, body) plus its share of its batch's evaluation.
pub fn evaluate_checks(checks: &[&DataCheck]) -> Vec<DataRun> {
    evaluate_checks_on(checks, None)
}

/// [`evaluate_checks`] on `engine` whatever the sources and `MLTEST_ENGINE`
/// ask for (`None`: as they ask): how a test compares one suite's verdicts
/// on polars and on DataFusion in one process.
///
/// ```
/// use mltest_core::check::{evaluate_checks_on, registered_data_checks};
/// use mltest_core::data::Engine;
/// // Every check linked into this binary, on polars whatever its source asks for.
/// let checks = registered_data_checks();
/// let runs = evaluate_checks_on(&checks, Some(Engine::Polars));
/// assert_eq!(runs.len(), checks.len());
/// ```
pub fn evaluate_checks_on(checks: &[&DataCheck], engine: Option<Engine>) -> Vec<DataRun> {
    let mut runs: Vec<Option<DataRun>> = vec![None; checks.len()];
    let mut batches: Vec<Batch> = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let start = Instant::now();
        match prepare(check, start, engine) {
            Prepared::Done(run) => runs[i] = Some(*run),
            Prepared::Batch(data, exps) => {
                let item = Item {
                    index: i,
                    expectations: exps,
                    seconds: start.elapsed().as_secs_f64(),
                };
                match batches.iter_mut().find(|b| Arc::ptr_eq(&b.data, &data)) {
                    Some(b) => b.items.push(item),
                    None => batches.push(Batch {
                        data,
                        items: vec![item],
                    }),
                }
            }
        }
    }
    for batch in batches {
        let t = Instant::now();
        let all: Vec<Expectation> = batch
            .items
            .iter()
            .flat_map(|item| item.expectations.clone())
            .collect();
        let examples = batch
            .items
            .iter()
            .map(|item| checks[item.index].examples)
            .max()
            .unwrap_or(5);
        let mut outcomes = batch.data.evaluate_with(all, options(examples)).into_iter();
        let share = t.elapsed().as_secs_f64() / batch.items.len().max(1) as f64;
        for item in batch.items {
            runs[item.index] = Some(DataRun {
                site: checks[item.index].site,
                data: Some(batch.data.info().clone()),
                outcomes: outcomes.by_ref().take(item.expectations.len()).collect(),
                seconds: item.seconds + share,
            });
        }
    }
    runs.into_iter()
        .zip(checks)
        .map(|(r, c)| {
            let mut run = r.unwrap_or_else(|| {
                let error = CheckError::Invalid("not evaluated".into());
                errored_run(c, None, error, Instant::now())
            });
            learn_bounds(&mut run);
            compare_schemas(&mut run);
            run
        })
        .collect()
}

/// Judges every check whose bound is learned from history against its own
/// past runs ([`crate::expect::Learned`]), read from the metric history
/// before this run's figures are appended to it. A history that cannot be
/// read errors the check; it never passes it.
fn learn_bounds(run: &mut DataRun) {
    let test = run.site.test_id();
    let binary = crate::outdir::binary_name();
    for o in &mut run.outcomes {
        let Some(rule) = o.expectation.learned else {
            continue;
        };
        let key = crate::history::CheckKey::new(&binary, &test, &o.expectation.short_name());
        match crate::history::past_of_default(&key, rule.runs_needed()) {
            Ok(Some(figures)) => {
                let runs = figures
                    .into_iter()
                    .filter_map(|f| {
                        Some(crate::expect::PastRun {
                            observed: f.observed?,
                            run_id: f.run_id,
                            time: f.time,
                        })
                    })
                    .collect();
                o.judge_learned(rule, runs);
            }
            Ok(None) => o.set_error(CheckError::Invalid(format!(
                "the bound ({}) is learned from the metric history, and MLTEST_HISTORY=off \
                 records none",
                o.expectation.describe_bound()
            ))),
            Err(e) => o.set_error(CheckError::Data(format!(
                "the bound ({}) is learned from the metric history, which cannot be read: {e}",
                o.expectation.describe_bound()
            ))),
        }
    }
}

/// Judges every schema-change check against the columns its previous run
/// recorded in the metric history (read before this run is appended). A
/// history that cannot be read errors the check; it never passes it.
fn compare_schemas(run: &mut DataRun) {
    let test = run.site.test_id();
    let binary = crate::outdir::binary_name();
    for o in &mut run.outcomes {
        if !matches!(
            o.expectation.metric,
            crate::expect::Metric::SchemaChange { .. }
        ) || o.schema.is_none()
        {
            continue;
        }
        let key = crate::history::CheckKey::new(&binary, &test, &o.expectation.short_name());
        match crate::history::previous_schema_of_default(&key) {
            Ok(Some(previous)) => o.judge_schema(previous),
            Ok(None) => o.set_error(CheckError::Invalid(
                "a schema change is judged against the check's previous run in the metric \
                 history, and MLTEST_HISTORY=off records none"
                    .into(),
            )),
            Err(e) => o.set_error(CheckError::Data(format!(
                "a schema change is judged against the check's previous run in the metric \
                 history, which cannot be read: {e}"
            ))),
        }
    }
}

/// A data set and the checks that evaluate on it.
struct Batch {
    data: Arc<Dataset>,
    items: Vec<Item>,
}

/// One check of a batch: its index in the input, its expectations and the
/// seconds its preparation took.
struct Item {
    index: usize,
    expectations: Vec<Expectation>,
    seconds: f64,
}

/// A check ready for its batch, or already decided.
enum Prepared {
    Batch(Arc<Dataset>, Vec<Expectation>),
    Done(Box<DataRun>),
}

/// Fixture, then a streaming pass or a load and the body.
fn prepare(check: &DataCheck, start: Instant, engine: Option<Engine>) -> Prepared {
    let done = Prepared::Done;
    // The fixture runs once per check, whatever path its data takes.
    let source = match fixture(check, start) {
        Ok(s) => s,
        Err(run) => return done(run),
    };
    if engine.unwrap_or_else(|| source.engine_in_use()) == Engine::DataFusion {
        return done(Box::new(super::fusion::evaluate(check, &source, start)));
    }
    if source.streams() {
        return done(Box::new(evaluate_streamed(check, &source, start)));
    }
    if let crate::data::Location::Partitioned(dir) = source.location() {
        return done(Box::new(evaluate_partitioned(check, &source, dir, start)));
    }
    let data = match load_cached(&source) {
        Ok(d) => d,
        Err(e) => {
            let error = CheckError::Data(e.to_string());
            return done(Box::new(errored_run(check, None, error, start)));
        }
    };
    match expectations(check, &data, start) {
        Ok(exps) => Prepared::Batch(data, exps),
        Err(run) => done(run),
    }
}

pub(super) fn options(examples: usize) -> EvalOptions {
    EvalOptions {
        examples,
        ..EvalOptions::default()
    }
}

/// A run that could not get as far as evaluating: one errored outcome.
pub(super) fn errored_run(
    check: &DataCheck,
    data: Option<DataInfo>,
    error: CheckError,
    start: Instant,
) -> DataRun {
    let placeholder = Expectation {
        metric: crate::expect::Metric::RowCount,
        bound: crate::expect::Bound::AtLeast { min: 1.0 },
        segment: crate::expect::Segment::All,
        label: Some(check.site.name.to_string()),
        learned: None,
        severity: None,
    };
    DataRun {
        site: check.site,
        data,
        outcomes: vec![CheckOutcome::errored(placeholder, error)],
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Calls the check's data fixture; a panic becomes an errored run.
fn fixture(check: &DataCheck, start: Instant) -> Result<DataSource, Box<DataRun>> {
    // A production batch named like the fixture's data set replaces it.
    catch_unwind(check.data)
        .map(DataSource::overridden)
        .map_err(|p| {
            let error = CheckError::Panicked(format!("data fixture: {}", panic_text(p)));
            Box::new(errored_run(check, None, error, start))
        })
}

/// Calls the body; a panic or no expectations at all is an errored run.
pub(super) fn expectations(
    check: &DataCheck,
    data: &Dataset,
    start: Instant,
) -> Result<Vec<Expectation>, Box<DataRun>> {
    let info = || Some(data.info().clone());
    match catch_unwind(AssertUnwindSafe(|| (check.body)(data))) {
        Ok(e) if !e.is_empty() => Ok(e),
        Ok(_) => {
            let error = CheckError::Invalid("the function returned no expectations".into());
            Err(Box::new(errored_run(check, info(), error, start)))
        }
        Err(p) => {
            let error = CheckError::Panicked(panic_text(p));
            Err(Box::new(errored_run(check, info(), error, start)))
        }
    }
}

/// A check over a file that streams: its body sees the schema only, and
/// the checks run as one streaming plan over one scan.
fn evaluate_streamed(check: &DataCheck, source: &DataSource, start: Instant) -> DataRun {
    let schema = match crate::expect::schema_only(source) {
        Ok(d) => d,
        Err(e) => return errored_run(check, None, CheckError::Data(e.to_string()), start),
    };
    let exps = match expectations(check, &schema, start) {
        Ok(e) => e,
        Err(run) => return *run,
    };
    match source.evaluate_streaming_with(exps, options(check.examples)) {
        Ok(streamed) => DataRun {
            site: check.site,
            data: Some(streamed.info),
            outcomes: streamed.outcomes,
            seconds: start.elapsed().as_secs_f64(),
        },
        Err(e) => errored_run(
            check,
            Some(schema.info().clone()),
            CheckError::Data(e.to_string()),
            start,
        ),
    }
}

/// A check over a partitioned data set: its body sees the first
/// partition's schema, and the checks are decided from the partitions'
/// merged states, reading only partitions that are new or rewritten.
fn evaluate_partitioned(
    check: &DataCheck,
    source: &DataSource,
    dir: &std::path::Path,
    start: Instant,
) -> DataRun {
    let first = match crate::data::partition_files(dir) {
        Ok(files) => files[0].path.clone(),
        Err(e) => return errored_run(check, None, CheckError::Data(e.to_string()), start),
    };
    let part = crate::data::partitions::partition_source(source, &first);
    let schema = match crate::expect::schema_only(&part) {
        Ok(d) => d,
        Err(e) => return errored_run(check, None, CheckError::Data(e.to_string()), start),
    };
    let exps = match expectations(check, &schema, start) {
        Ok(e) => e,
        Err(run) => return *run,
    };
    match source.evaluate_partitioned(exps) {
        Ok(done) => DataRun {
            site: check.site,
            data: Some(done.info),
            outcomes: done.outcomes,
            seconds: start.elapsed().as_secs_f64(),
        },
        Err(e) => errored_run(check, None, CheckError::Data(e.to_string()), start),
    }
}
