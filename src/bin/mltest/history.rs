//! `mltest history [CHECK] [--json] [--last N] [--file PATH]`: the metric
//! history, every check's latest figure or one check's past runs.

use std::path::PathBuf;
use std::process::ExitCode;

use mltest::history::{CheckHistory, Figure, History};

/// What `mltest history` was asked.
pub struct Ask {
    pub check: Option<String>,
    pub json: bool,
    pub last: usize,
    pub file: Option<PathBuf>,
}

/// Runs the command: 0 with the listing, 1 when the history cannot be read
/// or no check matches.
pub fn run(ask: Ask) -> ExitCode {
    match listing(&ask) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

#[derive(serde::Serialize)]
struct CheckRuns<'a> {
    #[serde(flatten)]
    check: &'a CheckHistory,
    figures: Vec<Figure>,
}

fn listing(ask: &Ask) -> Result<String, Error> {
    let path = match &ask.file {
        Some(p) => p.clone(),
        None => mltest::history::default_path()
            .ok_or("MLTEST_HISTORY=off: no history is recorded; pass --file PATH to read one")?,
    };
    let history = History::open_existing(&path)?;
    let Some(pattern) = &ask.check else {
        let checks = history.checks()?;
        if ask.json {
            return Ok(serde_json::to_string_pretty(&checks)? + "\n");
        }
        return Ok(table(&path, &checks));
    };
    let matching = history.matching(pattern)?;
    let mut runs = Vec::new();
    for c in &matching {
        runs.push(CheckRuns {
            check: c,
            figures: history.last(&c.key, ask.last, None)?,
        });
    }
    if ask.json {
        return Ok(serde_json::to_string_pretty(&runs)? + "\n");
    }
    let mut out = String::new();
    for r in &runs {
        out += &format!(
            "{}  ({} {}, {} runs kept)\n",
            r.check.id,
            r.check.kind.as_str(),
            r.check.metric,
            r.check.runs
        );
        out += &format!(
            "  {:<20} {:<22} {:<10} {:>12}  {:<14} {:<7} data\n",
            "time", "run", "commit", "observed", "bound", "verdict"
        );
        for f in &r.figures {
            out += &format!(
                "  {:<20} {:<22} {:<10} {:>12}  {:<14} {:<7} {}\n",
                when(f.time),
                short(&f.run_id, 22),
                f.git_commit.as_deref().map_or("-".into(), |c| short(c, 10)),
                observed(f),
                f.threshold.describe(),
                f.verdict.as_str(),
                f.data_sha256
                    .as_deref()
                    .map_or("-".into(), |s| format!("sha256 {}", short(s, 12)))
            );
        }
    }
    Ok(out)
}

fn table(path: &std::path::Path, checks: &[CheckHistory]) -> String {
    if checks.is_empty() {
        return format!("no checks recorded in {} yet\n", path.display());
    }
    let width = checks.iter().map(|c| c.id.len()).max().unwrap_or(5).min(70);
    let mut out = format!("{} checks in {}\n", checks.len(), path.display());
    out += &format!(
        "{:<width$} {:>5}  {:<20} {:>12}  {:<14} verdict\n",
        "check", "runs", "last run", "observed", "bound"
    );
    for c in checks {
        out += &format!(
            "{:<width$} {:>5}  {:<20} {:>12}  {:<14} {}\n",
            c.id,
            c.runs,
            when(c.last.time),
            observed(&c.last),
            c.last.threshold.describe(),
            c.last.verdict.as_str()
        );
    }
    out
}

fn observed(f: &Figure) -> String {
    f.observed.map_or("-".into(), |x| format!("{x:.4}"))
}

/// `2026-12-03 07:12:44`.
fn when(unix: f64) -> String {
    mltest::__repo::iso8601(unix)
        .trim_end_matches('Z')
        .replace('T', " ")
}

fn short(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
