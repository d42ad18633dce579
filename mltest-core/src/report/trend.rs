//! The report over time: each check's figures of its last runs, from the
//! metric history beside the records.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::history::{CheckKey, History};
use crate::record::{Record, Verdict};

use super::svg::TrendPoint;

/// Runs a trend shows: enough to see a drift of the figure, few enough that
/// 50 checks cost one indexed query each (~0.1 ms).
pub const TREND_RUNS: usize = 20;

/// The history the report under `out` reads: `MLTEST_HISTORY` when set
/// (`off`: none), else `out/history.sqlite`.
fn history_path(out: &Path) -> Option<PathBuf> {
    match crate::config::history() {
        Some(choice) => choice,
        None => Some(out.join("history.sqlite")),
    }
}

/// For each record's check with at least two runs in the history, its last
/// [`TREND_RUNS`] figures, keyed by [`CheckKey`]'s display. A missing,
/// foreign or corrupt history gives no trends (the report is still written;
/// `mltest history` names the problem).
pub fn trends(out: &Path, records: &[Record]) -> HashMap<String, Vec<TrendPoint>> {
    let mut all = HashMap::new();
    let Some(path) = history_path(out).filter(|p| p.exists()) else {
        return all;
    };
    let Ok(history) = History::open_existing(&path) else {
        return all;
    };
    for r in records {
        let key = CheckKey::of(r);
        let Ok(figures) = history.last(&key, TREND_RUNS, None) else {
            continue;
        };
        if figures.len() < 2 {
            continue;
        }
        let points = figures
            .into_iter()
            .map(|f| TrendPoint {
                observed: f.observed,
                limits: f.threshold.limits(),
                passed: f.verdict == Verdict::Pass,
            })
            .collect();
        all.insert(key.to_string(), points);
    }
    all
}
