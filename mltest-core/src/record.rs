//! One JSON record per check: the single source every reporter reads.
//!
//! Records live under `<out>/records/<binary>/`, one file per check, written
//! atomically. Test processes never share memory (nextest runs each test in
//! a process of its own), so JUnit and reports are rebuilt from these files.
//!
//! # Layout
//!
//! Every record has the fields of [`Record`]; what a kind adds is in
//! `outcome` (data expectations) or `details` (the others):
//!
//! | `kind` | `observed` / `threshold` | `outcome` | `details` |
//! |---|---|---|---|
//! | `data_expectation` | the measured figure (worst segment's for per-segment checks) / its bound, e.g. `<= 0.0400` | the [`CheckOutcome`]: the expectation (metric, bound, segment, `mostly`), `status`, `count` (`hits` of `rows`), `segments` (every judged group, worst first), `skipped_segments`, `examples` (offending rows), `offending_rows`, `unexpected` values with counts, `table` (e.g. leakage per feature), `error`, `from_cache`, `estimate` (KLL error bound of a streamed quantile) | `null` |
//! | `robustness` | flip rate / `<= max_flip_rate` | `null` | `expect` (`"no_flip"`, `"no_increase"`, `"no_decrease"`), `baseline` and `baseline_rate` (or `null`), `cases`, `flips`, `interval_low` / `interval_high` (Wilson 95% of the flip rate), `perturbation`, `throughput_per_s`, `examples` (each: `row`, `p_before`, `p_after`, `changes` as `[column, before, after]`) |
//! | `drift` | share of drifted columns / `< dataset_share` (`≥` with `expect_drift`) | `null` | `drifted_columns` (comma-separated), `drifted_share`, `reference` (its origin), `reference_sha256`, `report`: the [`DriftReport`](crate::drift::DriftReport) (both sides' provenance, `alpha`, `dataset_share`, `dataset_drifted`, `expect_drift`, and `columns`: per column every figure of [`ColumnDrift`](crate::drift::ColumnDrift) — `test`, `statistic`, `p_value`, `p_adjusted`, `effect` with `effect_low`/`effect_high`, `min_effect`, `smallest_significant_effect`, `power`, `psi`, `extra` as `[name, value]` pairs: `wasserstein` (raw), and for text `oov_rate`, `reference_rare_rate`, `oov_rise`, `max_oov_rise`, `vocabulary` — row and null counts, summaries, plot bins and shares, `drifted`, `why`) |
//! | `ab` | accuracy of B − A / `treatment not worse` or `treatment better` | `null` | `ab_verdict`, `difference_low` / `difference_high` (95% interval), `p_value` (McNemar), `comparison`: the [`ModelComparison`](crate::ab::ModelComparison) (both ids, rows, accuracies, discordant counts, the difference, the McNemar statistic, `verdict`) |
//! | `slices` | weakest segment's accuracy / `>= overall - margin` | `null` | the [`SliceReport`](crate::robust::SliceReport): column, overall accuracy, each segment's accuracy with its interval |
//!
//! Figures that are not finite (an infinite minimum detectable effect, a
//! NaN) are written as `null`, as JSON has no such numbers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::DataInfo;
use crate::expect::CheckOutcome;
use crate::outdir;

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
}

/// One check's result with everything a reader or a plot needs; the JSON
/// file holds exactly these fields (see the [module docs](self) for what
/// `outcome` and `details` hold per kind).
///
/// ```
/// // A real drift record of `tests/drift.rs`, trimmed: `report` shortened,
/// // `details.report` reduced to one column's main figures.
/// let json = r#"{
///   "run_id": "1796162577496-17951", "binary": "drift",
///   "test": "intimates_division_drifts_from_general_profile", "check_index": 0,
///   "check": "intimates_division_drifts_from_general_profile", "kind": "drift",
///   "reason": "Intimates is a segment the main-catalogue model never saw: …",
///   "verdict": "pass", "metric": "drifted_share",
///   "description": "share of drifted columns, reviews[Division Name == General] vs reviews[Division Name == Initmates]",
///   "observed": 0.8333333333333334, "threshold": "≥ 0.5000",
///   "data": { "name": "reviews[Division Name == Initmates]",
///             "origin": "../shared/data/womens_clothing_reviews.csv where Division Name == Initmates",
///             "sha256": "68e2ac49f44b68b7996e2bed91582d8a644dfa27823229fd2f02faf5034e341e",
///             "rows": 1502, "note": null, "load_seconds": 0.109893369,
///             "cache": "parsed and stored in the parse cache" },
///   "seed": null, "model": null, "duration_s": 0.121269364, "timestamp": 1796162577.4967763,
///   "file": "tests/drift.rs", "line": 106, "report": "drift check `…` passed\n…", "outcome": null,
///   "details": {
///     "drifted_columns": "Age, Department Name, Class Name, Rating, Review Text",
///     "drifted_share": 0.8333333333333334,
///     "reference": "../shared/data/womens_clothing_reviews.csv where Division Name == General",
///     "reference_sha256": "15161e9c0339348e820bed2991da3bd9c43326b0310afea4a42da6b18742fe84",
///     "report": { "alpha": 0.05, "dataset_share": 0.5, "dataset_drifted": true, "expect_drift": true,
///       "columns": [ { "column": "Age", "kind": "numeric", "test": "KS", "statistic": 0.10602931350257416,
///         "p_value": 1.0180332052554998e-13, "p_adjusted": 2.0360664105109996e-13,
///         "effect_name": "normalised Wasserstein", "effect": 0.18349453262251908,
///         "effect_low": 0.13229744824791054, "effect_high": 0.22120888869849326, "min_effect": 0.1,
///         "smallest_significant_effect": 0.09251233564110219, "power": "adequate",
///         "psi": 0.0537747935489476, "extra": [["wasserstein", 2.257012310901949]],
///         "reference_rows": 13850, "current_rows": 1502, "drifted": true, "why": "significant and large" } ] } }
/// }"#;
/// let r: mltest_core::record::Record = serde_json::from_str(json).unwrap();
/// assert_eq!((r.kind.as_str(), r.verdict), ("drift", mltest_core::record::Verdict::Pass));
/// let details = r.details.unwrap();
/// assert_eq!(details["report"]["columns"][0]["extra"][0][1], 2.257012310901949);
/// assert_eq!(r.data.unwrap().rows, 1502);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
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
    /// `data_expectation`, `robustness`, `drift`, `ab` or `slices`.
    pub kind: String,
    /// The declaration's `reason`, verbatim.
    pub reason: String,
    /// `pass`, `fail`, `warn` or `error`.
    pub verdict: Verdict,
    /// The metric's kind, e.g. `null_fraction`, `flip_rate`, `drifted_share`,
    /// `accuracy_difference`.
    pub metric: String,
    /// `null fraction of "Age" <= 0.0000`.
    pub description: String,
    /// The measured figure the verdict compares (`null` when none was
    /// measured: an error, a schema problem list).
    pub observed: Option<f64>,
    /// The bound, e.g. `<= 0.0000`.
    pub threshold: String,
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
    /// The full outcome of a data expectation, for plots and tooling.
    pub outcome: Option<CheckOutcome>,
    /// Kind-specific figures (e.g. a robustness check's interval and
    /// examples; a drift check's full report); `null` for data expectations.
    #[serde(default)]
    pub details: Option<serde_json::Value>,
    /// What libtest reports for the record's test (passed or failed, and
    /// whether it is `#[should_panic]`), which JUnit counts; `null` for
    /// plain `#[test]`s (A/B) and records of older versions, whose test
    /// outcome follows from the verdicts.
    #[serde(default)]
    pub libtest: Option<crate::libtest::TestResult>,
}

impl Record {
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
/// that do not parse (a foreign or half-written file) are skipped.
pub fn read_run(out: &Path, binary: &str, run_id: &str) -> Vec<Record> {
    let mut out_records: Vec<Record> = read_all(&records_dir(out, binary))
        .into_iter()
        .filter(|r| r.run_id == run_id)
        .collect();
    out_records.sort_by(|a, b| a.test.cmp(&b.test).then(a.check_index.cmp(&b.check_index)));
    out_records
}

/// Every parseable record in a directory.
pub fn read_all(dir: &Path) -> Vec<Record> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Record>(&b).ok())
        .collect()
}
