//! One JSON record per check: the single source every reporter reads.
//!
//! Records live under `<out>/records/<binary>/`, one file per check, written
//! atomically. Test processes never share memory (nextest runs each test in
//! a process of its own), so JUnit and reports are rebuilt from these files.

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

/// One check's result with everything a reader or a plot needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub run_id: String,
    pub binary: String,
    /// `module::path::test_name`.
    pub test: String,
    pub check_index: usize,
    /// Short name of the check within the test.
    pub check: String,
    /// `data_expectation`, `robustness`, `drift`, ...
    pub kind: String,
    pub reason: String,
    pub verdict: Verdict,
    pub metric: String,
    /// `null fraction of "Age" <= 0.0000`.
    pub description: String,
    pub observed: Option<f64>,
    /// The bound, e.g. `<= 0.0000`.
    pub threshold: String,
    pub data: Option<DataInfo>,
    pub seed: Option<u64>,
    pub model: Option<String>,
    pub duration_s: f64,
    /// Unix time in seconds.
    pub timestamp: f64,
    pub file: String,
    pub line: u32,
    /// The human-readable report (the failure text, or a one-line summary).
    pub report: String,
    /// The full outcome of a data expectation, for plots and tooling.
    pub outcome: Option<CheckOutcome>,
    /// Kind-specific figures (e.g. a robustness check's interval and examples).
    #[serde(default)]
    pub details: Option<serde_json::Value>,
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
