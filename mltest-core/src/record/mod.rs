//! One JSON record per check: the single source every sink reads.
//!
//! Records live under `<out>/records/<binary>/`, one file per check, written
//! atomically. Test processes never share memory (nextest runs each test in
//! a process of its own), so JUnit and reports are rebuilt from these files.
//!
//! A record is typed from the check to the sink: its [`CheckKind`], its
//! [`Threshold`] (a [`Bound`](crate::expect::Bound) or a kind's own
//! requirement) and its per-kind [`Details`] are values, so JUnit and the
//! HTML report render them and never split a rendered string to get a
//! number back.
//!
//! # Layout
//!
//! Every record has the fields of [`Record`]; what a kind adds is in
//! `details`, keyed by the kind:
//!
//! | `kind` | `observed` / `threshold` | `details` |
//! |---|---|---|
//! | `data_expectation` | the measured figure (worst segment's for per-segment checks) / its bound | `{"data_expectation": CheckOutcome}`: the expectation (metric, bound, segment, `mostly`), `status`, `count` (`hits` of `rows`), `segments` (every judged group, worst first), `skipped_segments`, `examples`, `offending_rows`, `unexpected` values with counts, `table`, `error`, `from_cache`, `estimate` |
//! | `robustness` | flip rate / `at_most` the maximum flip rate | `{"robustness": RobustnessDetails}` (`null` when it could not run): `expect`, `baseline` (model and rate on the same cases), `flips`: the [`FlipRate`](crate::robust::FlipRate) (cases, flips, Wilson interval, perturbation, throughput, shrunk examples) |
//! | `drift` | share of drifted columns / below (or with `expect_drift` at least) the data-set share | `{"drift": DriftReport}` (`null` when it could not run): both sides' provenance, `alpha`, and every column's figures ([`ColumnDrift`](crate::drift::ColumnDrift)) |
//! | `ab` | accuracy of B − A / the requirement on the verdict | `{"ab": ModelComparison}` (`null` when it could not run) |
//! | `slices` | weakest segment's accuracy / `at_least` overall − margin | `{"slices": SliceReport}` |
//!
//! Figures that are not finite (an infinite minimum detectable effect, a
//! NaN) are written as `null`, as JSON has no such numbers, and read back
//! as NaN.
//!
//! # Format version
//!
//! Every record carries [`FORMAT`]. A file of another format (older records
//! kept strings where this one keeps values) is skipped, never misread:
//! readers only see records of the current run, which are always current.

mod decode;
mod details;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use details::{Baseline, CheckKind, Details, RobustnessDetails, Threshold};

use crate::data::DataInfo;
use crate::expect::CheckOutcome;
use crate::outdir;

/// The record format this build writes and reads. 1: the untyped layout
/// (string `kind`, `metric` and `threshold`, JSON `details`, no version
/// field); 2: typed kind, threshold and details.
pub const FORMAT: u32 = 2;

/// The verdict as reporters show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Failed, but the check's severity is `warn`.
    Warn,
    /// Could not be decided (bad input, panic); fails the test.
    Error,
    /// A bound learned from history, with too few past runs to learn it:
    /// not a pass and not a failure. The test passes with a warning; `mltest
    /// check` exits 2 (not decided).
    Inconclusive,
}

impl Verdict {
    /// An error, or a failure of a `fail` check: the test fails.
    pub fn fails_test(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error)
    }

    /// `pass`, `fail`, `warn`, `error` or `inconclusive`, as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::Error => "error",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// One check's result with everything a reader or a plot needs; the JSON
/// file holds exactly these fields (see the [module docs](self) for what
/// `details` holds per kind).
///
/// ```
/// use mltest_core::ab::{ModelComparison, Require};
/// use mltest_core::record::{CheckKind, Details, Record, Threshold, Verdict};
/// let c = ModelComparison::from_counts("m@1", "m@2", 1000, 850, 30, 45, 0.05);
/// let record = Record {
///     observed: Some(c.difference),
///     threshold: Threshold::Requirement(Require::NotWorse),
///     ..Record::new("ab_demo", "ab_demo".into(), "a demo", Details::Ab(Some(Box::new(c))))
/// };
/// let json = serde_json::to_vec(&record).unwrap();
/// let back = Record::from_json(&json).unwrap();
/// assert_eq!((back.kind, back.verdict), (CheckKind::Ab, Verdict::Pass));
/// assert_eq!(back.threshold.describe(), "treatment not worse");
/// let Details::Ab(Some(c)) = &back.details else { panic!("an A/B record") };
/// assert_eq!((c.only_a_right, c.only_b_right), (30, 45));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// The record format ([`FORMAT`]).
    pub format: u32,
    /// The run this record belongs to: `NEXTEST_RUN_ID`, else
    /// `MLTEST_RUN_ID`, else `<unix millis>-<pid>` of the test process.
    /// JUnit and reports read only the latest run's records.
    pub run_id: String,
    /// The test binary (`data_quality`, `drift`, …): the record's directory.
    pub binary: String,
    /// `module::path::test_name`.
    pub test: String,
    /// Position of the check within its test (0 for single-check kinds).
    pub check_index: usize,
    /// Short name of the check within the test.
    pub check: String,
    /// The kind of check; always the kind of `details`.
    pub kind: CheckKind,
    /// The declaration's `reason`, verbatim.
    pub reason: String,
    pub verdict: Verdict,
    /// `null fraction of "Age" <= 0.0000`.
    pub description: String,
    /// The measured figure the verdict compares (`null` when none was
    /// measured: an error, a schema problem list).
    pub observed: Option<f64>,
    /// What `observed` is compared with.
    pub threshold: Threshold,
    /// Provenance of the data checked (the current side for drift): name,
    /// origin, sha256, rows, note, load time, and how the parse cache or
    /// streaming served it.
    pub data: Option<DataInfo>,
    /// The seed of a randomised check (robustness), to reproduce it.
    pub seed: Option<u64>,
    /// The model id (robustness, slices) or `A vs B` (A/B).
    pub model: Option<String>,
    /// Seconds the check took.
    pub duration_s: f64,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// Where the check is declared (empty when not known).
    pub file: String,
    pub line: u32,
    /// The human-readable report (the failure text, or a one-line summary).
    pub report: String,
    /// Kind-specific figures.
    pub details: Details,
    /// What libtest reports for the record's test (passed or failed, and
    /// whether it is `#[should_panic]`), which JUnit counts; `null` for
    /// plain `#[test]`s (A/B, slices), whose test outcome follows from the
    /// verdicts.
    pub libtest: Option<crate::libtest::TestResult>,
}

/// Why a file is not a record this build reads.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("record format {found:?}, this build reads format {FORMAT}")]
    Format { found: Option<u64> },
    #[error("a {kind} record holds the details of a {details} check")]
    KindMismatch { kind: CheckKind, details: CheckKind },
}

impl Record {
    /// A record of `test` with this process's run, binary and clock, and
    /// the kind of `details`; the caller sets the figures.
    pub fn new(test: &str, check: String, reason: &str, details: Details) -> Record {
        Record {
            format: FORMAT,
            run_id: outdir::run_id().to_string(),
            binary: outdir::binary_name(),
            test: test.to_string(),
            check_index: 0,
            check,
            kind: details.kind(),
            reason: reason.to_string(),
            verdict: Verdict::Pass,
            description: String::new(),
            observed: None,
            threshold: Threshold::None,
            data: None,
            seed: None,
            model: None,
            duration_s: 0.0,
            timestamp: crate::clock::unix_now(),
            file: String::new(),
            line: 0,
            report: String::new(),
            details,
            libtest: None,
        }
    }

    /// Reads a record file: only of the current [`FORMAT`], and only when
    /// its kind is the kind of its details.
    ///
    /// ```
    /// use mltest_core::record::{Record, RecordError};
    /// // A record of format 1 (no version field, string threshold).
    /// let old = br#"{"run_id": "r", "binary": "b", "test": "t", "check_index": 0,
    ///   "check": "t", "kind": "drift", "reason": "", "verdict": "pass",
    ///   "metric": "drifted_share", "description": "", "observed": 0.5,
    ///   "threshold": "< 0.5000", "data": null, "seed": null, "model": null,
    ///   "duration_s": 0.0, "timestamp": 0.0, "file": "", "line": 0,
    ///   "report": "", "outcome": null, "details": null}"#;
    /// assert!(matches!(Record::from_json(old), Err(RecordError::Format { found: None })));
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Record, RecordError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        let found = value.get("format").and_then(serde_json::Value::as_u64);
        if found != Some(u64::from(FORMAT)) {
            return Err(RecordError::Format { found });
        }
        let record = Record::deserialize(decode::Lenient(value))?;
        if record.kind != record.details.kind() {
            return Err(RecordError::KindMismatch {
                kind: record.kind,
                details: record.details.kind(),
            });
        }
        Ok(record)
    }

    /// The outcome of a data expectation.
    pub fn outcome(&self) -> Option<&CheckOutcome> {
        match &self.details {
            Details::DataExpectation(o) => Some(o),
            _ => None,
        }
    }

    /// The name of the measured figure: the metric's kind for a data
    /// expectation (`null_fraction`), else the kind's figure (`flip_rate`,
    /// `drifted_share`, `accuracy_difference`, `weakest_slice_accuracy`).
    pub fn metric(&self) -> &'static str {
        match &self.details {
            Details::DataExpectation(o) => o.expectation.metric.kind(),
            _ => self.kind.figure(),
        }
    }

    /// `test` or `test[check]` when the test has several checks.
    pub fn case_name(&self, checks_in_test: usize) -> String {
        let short = self
            .test
            .rsplit("::")
            .next()
            .unwrap_or(&self.test)
            .to_string();
        if checks_in_test > 1 {
            format!("{short}[{}]", self.check)
        } else {
            short
        }
    }
}

/// `<out>/records/<binary>`.
pub fn records_dir(out: &Path, binary: &str) -> PathBuf {
    out.join("records").join(outdir::file_safe(binary))
}

/// Writes a test's records, replacing that test's older files (a check
/// removed from a test leaves no record behind).
pub fn write_test_records(out: &Path, records: &[Record]) -> std::io::Result<()> {
    let Some(first) = records.first() else {
        return Ok(());
    };
    let dir = records_dir(out, &first.binary);
    std::fs::create_dir_all(&dir)?;
    let prefix = format!("{}#", outdir::file_safe(&first.test));
    for r in records {
        let path = dir.join(format!("{prefix}{:03}.json", r.check_index));
        let json = serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?;
        outdir::write_atomic(&path, &json)?;
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(idx) = name
                .strip_prefix(&prefix)
                .and_then(|r| r.strip_suffix(".json"))
                && idx.parse::<usize>().is_ok_and(|i| i >= records.len())
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// Reads a binary's records of one run, sorted by test then check. Files
/// that are not records of this format are skipped ([`Record::from_json`]).
pub fn read_run(out: &Path, binary: &str, run_id: &str) -> Vec<Record> {
    let mut out_records: Vec<Record> = read_all(&records_dir(out, binary))
        .into_iter()
        .filter(|r| r.run_id == run_id)
        .collect();
    out_records.sort_by(|a, b| a.test.cmp(&b.test).then(a.check_index.cmp(&b.check_index)));
    out_records
}

/// Every record of the current format in a directory (a foreign,
/// half-written or older-format file is skipped).
pub fn read_all(dir: &Path) -> Vec<Record> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| Record::from_json(&b).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ab::{ModelComparison, Require};

    fn ab_record() -> Record {
        let c = ModelComparison::from_counts("m@1", "m@2", 1000, 850, 30, 45, 0.05);
        Record {
            observed: Some(c.difference),
            threshold: Threshold::Requirement(Require::NotWorse),
            ..Record::new(
                "ab_demo",
                "ab_demo".into(),
                "demo",
                Details::Ab(Some(Box::new(c))),
            )
        }
    }

    #[test]
    fn a_record_of_another_format_is_skipped_never_misread() {
        let dir = tempfile::tempdir().unwrap();
        let current = ab_record();
        write_test_records(dir.path(), std::slice::from_ref(&current)).unwrap();
        let records = records_dir(dir.path(), &current.binary);
        // The format-1 layout of a drift record, and the current layout
        // under a newer version number: both are skipped.
        std::fs::write(
            records.join("old#000.json"),
            r#"{"run_id": "r", "binary": "b", "test": "old", "check_index": 0,
                "check": "old", "kind": "drift", "reason": "", "verdict": "pass",
                "metric": "drifted_share", "description": "", "observed": 0.5,
                "threshold": "< 0.5000", "data": null, "seed": null, "model": null,
                "duration_s": 0.0, "timestamp": 0.0, "file": "", "line": 0,
                "report": "", "outcome": null, "details": {"drifted_share": 0.5}}"#,
        )
        .unwrap();
        let mut newer = serde_json::to_value(&current).unwrap();
        newer["format"] = serde_json::json!(FORMAT + 1);
        newer["test"] = serde_json::json!("newer");
        std::fs::write(records.join("newer#000.json"), newer.to_string()).unwrap();
        let read = read_all(&records);
        assert_eq!(read.len(), 1, "{read:?}");
        assert_eq!(read[0].test, "ab_demo");
        assert_eq!(read[0].threshold, Threshold::Requirement(Require::NotWorse));
        assert!(matches!(
            Record::from_json(&std::fs::read(records.join("old#000.json")).unwrap()),
            Err(RecordError::Format { found: None })
        ));
    }

    #[test]
    fn a_kind_that_is_not_its_details_kind_is_rejected() {
        let mut r = ab_record();
        r.kind = CheckKind::Drift;
        let json = serde_json::to_vec(&r).unwrap();
        assert!(matches!(
            Record::from_json(&json),
            Err(RecordError::KindMismatch { .. })
        ));
    }

    #[test]
    fn non_finite_figures_are_written_as_null_and_read_back_as_nan() {
        let mut r = ab_record();
        let Details::Ab(Some(c)) = &mut r.details else {
            unreachable!()
        };
        c.mcnemar_statistic = f64::INFINITY;
        let json = serde_json::to_vec(&r).unwrap();
        let back = Record::from_json(&json).unwrap();
        let Details::Ab(Some(c)) = &back.details else {
            unreachable!()
        };
        assert!(c.mcnemar_statistic.is_nan());
        assert!(c.p_value.is_finite() && c.p_value > 0.0);
    }
}
