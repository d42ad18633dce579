//! The HTML report (`target/mltest/report.html`) and the terminal summary,
//! both built from the records on disk only (reporters never talk to test
//! processes: under nextest every test is a process of its own).
//!
//! Which records: for every test binary, those of its latest run (the run id
//! of its newest record), so a stale record of an earlier run never shows.

pub mod html;
pub mod svg;
pub mod trend;

use std::path::{Path, PathBuf};

use crate::record::{self, Record, Verdict};
use crate::store::ModelStore;

/// The latest run's records of every binary under `out/records/` (of the
/// named binaries only, when `binaries` is not empty).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(mltest_core::report::latest_records(dir.path(), &[]).is_empty());
/// ```
pub fn latest_records(out: &Path, binaries: &[String]) -> Vec<Record> {
    let Ok(entries) = std::fs::read_dir(out.join("records")) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !binaries.is_empty() && !binaries.iter().any(|b| crate::outdir::file_safe(b) == name) {
            continue;
        }
        let records = record::read_all(&dir);
        let Some(newest) = records
            .iter()
            .max_by(|a, b| a.timestamp.total_cmp(&b.timestamp))
            .map(|r| r.run_id.clone())
        else {
            continue;
        };
        let mut run: Vec<Record> = records.into_iter().filter(|r| r.run_id == newest).collect();
        run.sort_by(|a, b| a.test.cmp(&b.test).then(a.check_index.cmp(&b.check_index)));
        all.extend(run);
    }
    all
}

/// Writes `out/report.html` from the records under `out` and the store's
/// versions (when a store is given and readable); returns the path.
pub fn write_html(
    out: &Path,
    binaries: &[String],
    store: Option<&ModelStore>,
) -> std::io::Result<PathBuf> {
    let records = latest_records(out, binaries);
    let versions = store.and_then(|s| s.list(None).ok());
    let trends = trend::trends(out, &records);
    let page = html::page(
        &records,
        versions.as_deref(),
        &crate::clock::iso_now(),
        &trends,
    );
    let path = out.join("report.html");
    std::fs::create_dir_all(out)?;
    crate::outdir::write_atomic(&path, page.as_bytes())?;
    Ok(path)
}

/// The terminal summary: checks per kind, then every check that did not
/// pass with its one-line description. Colours only when `colour` is true
/// (the caller decides from the terminal and `NO_COLOR`).
pub fn summary(records: &[Record], colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut s = format!(
        "{:<18} {:>7} {:>7} {:>7} {:>7} {:>12}\n",
        "kind", "passed", "failed", "warned", "errors", "inconclusive"
    );
    for c in html::counts(records) {
        s.push_str(&format!(
            "{:<18} {:>7} {:>7} {:>7} {:>7} {:>12}\n",
            c.kind.as_str(),
            c.pass,
            c.fail,
            c.warn,
            c.error,
            c.inconclusive
        ));
    }
    let bad: Vec<&Record> = records
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .collect();
    if bad.is_empty() {
        s.push_str(&paint(
            "32",
            &format!("all {} checks passed", records.len()),
        ));
        s.push('\n');
    } else {
        for r in bad {
            let word = match r.verdict {
                Verdict::Warn => paint("33", "warn "),
                Verdict::Error => paint("35", "error"),
                Verdict::Inconclusive => paint("90", "inconclusive"),
                _ => paint("31", "FAIL "),
            };
            s.push_str(&format!(
                "{word} {} [{}] {}: observed {}, expected {}\n",
                r.test,
                r.binary,
                r.description,
                r.observed.map_or("—".into(), crate::text::fig),
                r.threshold.describe()
            ));
        }
    }
    s
}

/// Whether to colour terminal output: stdout is a terminal and `NO_COLOR`
/// is unset or empty (<https://no-color.org>).
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && !crate::config::no_color()
}
