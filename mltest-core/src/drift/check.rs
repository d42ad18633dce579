//! `#[drift]` tests: the registered descriptor, fixture conversion, and the
//! runner that evaluates, records and panics with the report.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use super::{Drift, DriftReport, Profile, Side};
use crate::data::{DataSource, Dataset, load_cached};
use crate::expect::Severity;
use crate::record::{Record, Verdict};
use crate::runner::panic_text;
use crate::{clock, outdir};

/// What a drift fixture may return: a data source (loaded through the
/// shared cache), a loaded data set, a profile, or a `Result` of one of these.
pub trait IntoDriftSide {
    fn into_drift_side(self) -> Result<Side, String>;
}

impl IntoDriftSide for Side {
    fn into_drift_side(self) -> Result<Side, String> {
        Ok(self)
    }
}

impl IntoDriftSide for DataSource {
    fn into_drift_side(self) -> Result<Side, String> {
        load_cached(&self)
            .map(Side::data)
            .map_err(|e| e.to_string())
    }
}

impl IntoDriftSide for Dataset {
    fn into_drift_side(self) -> Result<Side, String> {
        Ok(Side::data(self))
    }
}

impl IntoDriftSide for Arc<Dataset> {
    fn into_drift_side(self) -> Result<Side, String> {
        Ok(Side::data(self))
    }
}

impl IntoDriftSide for Profile {
    fn into_drift_side(self) -> Result<Side, String> {
        Ok(Side::profile(self))
    }
}

impl<T: IntoDriftSide, E: std::fmt::Display> IntoDriftSide for Result<T, E> {
    fn into_drift_side(self) -> Result<Side, String> {
        self.map_err(|e| e.to_string())?.into_drift_side()
    }
}

/// A registered `#[drift]` test.
pub struct DriftCheck {
    pub name: &'static str,
    pub module_path: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub reason: &'static str,
    pub severity: Severity,
    pub reference: fn() -> Result<Side, String>,
    pub current: fn() -> Result<Side, String>,
    pub body: fn(&Side, &Side) -> Drift,
    /// `#[ignore]` / `#[should_panic]` as the macro saw them.
    pub attrs: crate::libtest::TestAttrs,
}

#[linkme::distributed_slice]
pub static DRIFT_CHECKS: [DriftCheck];

impl DriftCheck {
    /// `module::name` without the crate, as libtest names the test.
    pub fn test_id(&self) -> String {
        clock::libtest_id(self.module_path, self.name)
    }
}

/// The outcome of one `#[drift]` test.
pub struct DriftRun {
    pub test_id: String,
    /// The command that reruns the test alone, in the target that declares it.
    pub rerun: String,
    /// The test's `#[ignore]` / `#[should_panic]`.
    pub attrs: crate::libtest::TestAttrs,
    pub reason: String,
    pub severity: Severity,
    pub result: Result<DriftReport, String>,
    pub seconds: f64,
}

impl DriftRun {
    pub fn passed(&self) -> bool {
        self.result.as_ref().is_ok_and(DriftReport::passed)
    }

    /// True when the test panics: the check could not run, or it found
    /// drift and its severity is `fail`.
    pub fn fails_test(&self) -> bool {
        self.result.is_err() || (!self.passed() && self.severity == Severity::Fail)
    }

    /// The failure (or summary) text.
    pub fn report(&self) -> String {
        let name = self.test_id.rsplit("::").next().unwrap_or(&self.test_id);
        let rerun = &self.rerun;
        match &self.result {
            Err(e) => format!(
                "drift check `{name}` could not run\n  reason:   {}\n  error:    {e}\n  rerun:    {rerun}\n",
                self.reason
            ),
            Ok(r) => {
                let word = match (r.passed(), r.expect_drift) {
                    (true, _) => "passed",
                    (false, true) => "failed: the expected drift was not detected",
                    (false, false) => "failed: the data drifted",
                };
                format!(
                    "drift check `{name}` {word}\n  reason:    {}\n{}  rerun:     {rerun}\n",
                    self.reason,
                    r.render()
                )
            }
        }
    }

    /// The record reporters read.
    pub fn record(&self, file: &str, line: u32) -> Record {
        let verdict = match (&self.result, self.passed(), self.severity) {
            (Err(_), _, _) => Verdict::Error,
            (Ok(_), true, _) => Verdict::Pass,
            (Ok(_), false, Severity::Warn) => Verdict::Warn,
            (Ok(_), false, Severity::Fail) => Verdict::Fail,
        };
        let (observed, threshold, data, details, description) = match &self.result {
            Ok(r) => {
                let drifted: Vec<&str> = r
                    .columns
                    .iter()
                    .filter(|c| c.drifted)
                    .map(|c| c.column.as_str())
                    .collect();
                let op = if r.expect_drift { "≥" } else { "<" };
                (
                    Some(r.drifted_share),
                    format!("{op} {}", crate::text::fig(r.dataset_share)),
                    Some(r.current.clone()),
                    Some(serde_json::json!({
                        "drifted_columns": drifted.join(", "),
                        "drifted_share": r.drifted_share,
                        "reference": r.reference.origin,
                        "reference_sha256": r.reference.sha256,
                        "report": r,
                    })),
                    format!(
                        "share of drifted columns, {} vs {}",
                        r.reference.name, r.current.name
                    ),
                )
            }
            Err(_) => (None, "-".into(), None, None, "drift".into()),
        };
        Record {
            run_id: outdir::run_id().to_string(),
            binary: outdir::binary_name(),
            test: self.test_id.clone(),
            check_index: 0,
            check: self
                .test_id
                .rsplit("::")
                .next()
                .unwrap_or(&self.test_id)
                .to_string(),
            kind: "drift".into(),
            reason: self.reason.clone(),
            verdict,
            metric: "drifted_share".into(),
            description,
            observed,
            threshold,
            data,
            seed: None,
            model: None,
            duration_s: self.seconds,
            timestamp: clock::unix_now(),
            file: file.to_string(),
            line,
            libtest: Some(crate::libtest::TestResult {
                outcome: self.attrs.outcome(self.fails_test(), &self.report()),
                should_panic: self.attrs.should_panic.is_some(),
            }),
            report: self.report(),
            outcome: None,
            details,
        }
    }
}

/// Loads both sides, builds the comparison, evaluates it. Never panics.
pub fn evaluate_drift_check(check: &DriftCheck) -> DriftRun {
    let start = Instant::now();
    let result = (|| {
        let side = |f: fn() -> Result<Side, String>, role: &str| {
            catch_unwind(f)
                .map_err(|p| format!("{role} fixture panicked: {}", panic_text(p)))?
                .map_err(|e| format!("{role}: {e}"))
        };
        let reference = side(check.reference, "reference")?;
        let current = side(check.current, "current")?;
        let drift = catch_unwind(AssertUnwindSafe(|| (check.body)(&reference, &current)))
            .map_err(|p| format!("the test body panicked: {}", panic_text(p)))?;
        drift
            .evaluate(&reference, &current)
            .map_err(|e| e.to_string())
    })();
    DriftRun {
        test_id: check.test_id(),
        rerun: crate::runner::rerun_at(check.file, check.module_path, check.name),
        attrs: check.attrs,
        reason: check.reason.to_string(),
        severity: check.severity,
        result,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Entry point of a generated `#[drift]` test.
pub fn run_drift_check(check: &DriftCheck) {
    let run = evaluate_drift_check(check);
    crate::runner::publish_records(&[run.record(check.file, check.line)]);
    if run.fails_test() {
        panic!("{}", run.report());
    }
    // Captured by libtest (shown with --nocapture); nextest keeps it in its JUnit.
    println!("{}", run.report());
}
