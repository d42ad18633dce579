//! A/B tests: plain `#[test]`s that compare two models and end through the
//! same scaffold as the attribute kinds (record, JUnit, panic).

use crate::ab::{AbError, AbVerdict, ErrorComparison, ModelComparison, Require};
use crate::record::{Details, Record, Threshold, Verdict};

/// Entry point of an A/B cargo test: records the comparison (kind `ab`,
/// JUnit properties included) and panics with the report when the
/// requirement fails or the comparison could not run. Promotion is never a
/// side effect: it stays `mltest models promote`.
///
/// ```
/// use mltest_core::ab::{ModelComparison, Require};
/// # let dir = tempfile::tempdir().unwrap();
/// # unsafe { std::env::set_var("MLTEST_OUT", dir.path()) };
/// let c = ModelComparison::from_counts("m@1", "m@2", 1000, 850, 30, 45, 0.05);
/// // Not significantly worse: passes (and writes its record and JUnit).
/// mltest_core::check::run_model_ab("not_worse", "the gate", Require::NotWorse, Ok(c), 0.1);
/// ```
pub fn run_model_ab(
    test: &str,
    reason: &str,
    require: Require,
    comparison: Result<ModelComparison, AbError>,
    seconds: f64,
) {
    let (record, _) = model_ab_record(test, reason, require, &comparison, seconds);
    super::conclude(std::slice::from_ref(&record), &record.report, true);
}

/// The record of an A/B test and whether it passed, without publishing it.
pub fn model_ab_record(
    test: &str,
    reason: &str,
    require: Require,
    comparison: &Result<ModelComparison, AbError>,
    seconds: f64,
) -> (Record, bool) {
    ab_record(test, reason, require, comparison, seconds)
}

/// What the one A/B scaffold needs of a comparison, classifier or regressor.
trait Comparison: Clone {
    fn verdict(&self) -> AbVerdict;
    fn render(&self) -> String;
    /// The record's description: what `observed` is.
    fn description(&self) -> String;
    fn observed(&self) -> f64;
    fn models(&self) -> String;
    fn details(c: Option<Box<Self>>) -> Details;
}

impl Comparison for ModelComparison {
    fn verdict(&self) -> AbVerdict {
        self.verdict
    }
    fn render(&self) -> String {
        ModelComparison::render(self)
    }
    fn description(&self) -> String {
        format!("accuracy of {} − {}", self.b, self.a)
    }
    fn observed(&self) -> f64 {
        self.difference
    }
    fn models(&self) -> String {
        format!("{} vs {}", self.a, self.b)
    }
    fn details(c: Option<Box<Self>>) -> Details {
        Details::Ab(c)
    }
}

impl Comparison for ErrorComparison {
    fn verdict(&self) -> AbVerdict {
        self.test.verdict
    }
    fn render(&self) -> String {
        ErrorComparison::render(self)
    }
    fn description(&self) -> String {
        format!("mean error of {} − {}", self.b, self.a)
    }
    fn observed(&self) -> f64 {
        self.test.mean_difference
    }
    fn models(&self) -> String {
        format!("{} vs {}", self.a, self.b)
    }
    fn details(c: Option<Box<Self>>) -> Details {
        Details::AbErrors(c)
    }
}

fn ab_record<C: Comparison>(
    test: &str,
    reason: &str,
    require: Require,
    comparison: &Result<C, AbError>,
    seconds: f64,
) -> (Record, bool) {
    let passed = match (comparison, require) {
        (Err(_), _) => false,
        (Ok(c), Require::NotWorse) => c.verdict() != AbVerdict::TreatmentWorse,
        (Ok(c), Require::Better) => c.verdict() == AbVerdict::TreatmentBetter,
    };
    let want = require.describe();
    let rerun = super::rerun_command(test);
    let report = match comparison {
        Ok(c) => format!(
            "A/B test `{test}` {}\n  reason:   {reason}\n  requires: {want}\n{}  rerun:    {rerun}\n",
            if passed { "passed" } else { "failed" },
            c.render()
        ),
        Err(e) => format!(
            "A/B test `{test}` could not run\n  reason:   {reason}\n  error:    {e}\n  rerun:    {rerun}\n"
        ),
    };
    let short = test.rsplit("::").next().unwrap_or(test).to_string();
    let details = C::details(comparison.as_ref().ok().cloned().map(Box::new));
    let record = Record {
        verdict: match (comparison, passed) {
            (Err(_), _) => Verdict::Error,
            (Ok(_), true) => Verdict::Pass,
            (Ok(_), false) => Verdict::Fail,
        },
        description: comparison
            .as_ref()
            .map(C::description)
            .unwrap_or_else(|_| "A/B".into()),
        observed: comparison.as_ref().ok().map(C::observed),
        threshold: Threshold::Requirement(require),
        model: comparison.as_ref().ok().map(C::models),
        duration_s: seconds,
        report,
        ..Record::new(test, short, reason, details)
    };
    (record, passed)
}

/// Entry point of an A/B cargo test of two regressors (a paired t-test on
/// their errors, [`compare_regressors`](crate::ab::compare_regressors)):
/// records it and panics with the report when the requirement fails or the
/// comparison could not run.
///
/// ```
/// use mltest_core::ab::{AbError, ErrorComparison, Require};
/// # let dir = tempfile::tempdir().unwrap();
/// # unsafe { std::env::set_var("MLTEST_OUT", dir.path()) };
/// let failed = std::panic::catch_unwind(|| {
///     let none: Result<ErrorComparison, AbError> = Err(AbError::Empty);
///     mltest_core::check::run_regression_ab("ab", "the gate", Require::NotWorse, none, 0.1)
/// });
/// assert!(failed.is_err(), "no rows to compare on is not a pass");
/// ```
pub fn run_regression_ab(
    test: &str,
    reason: &str,
    require: Require,
    comparison: Result<ErrorComparison, AbError>,
    seconds: f64,
) {
    let (record, _) = ab_record(test, reason, require, &comparison, seconds);
    super::conclude(std::slice::from_ref(&record), &record.report, true);
}
