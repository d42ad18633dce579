//! `mltest check --suite SUITE [--data NAME=PATH].. [--json] [--binary PATH]`:
//! a production batch through a compiled test suite, without a rebuild.
//!
//! The suite's test binary already holds its checks (the linker registry);
//! it is run with `MLTEST_DATA_<NAME>=PATH` for each `--data`, so every
//! check reading the data set NAME reads the batch instead, under a run id
//! of its own. Its records, JUnit and history rows are written as by cargo
//! test; the report is rebuilt; the summary is printed (JSON with
//! `--json`). Exit codes: 0 every check passed (or only warned), 1 a check
//! failed, 2 the suite could not run or decide (unknown suite, missing file,
//! an override no check reads, a check that errored or is inconclusive).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use mltest::record::{Record, Verdict};
use mltest::store::ModelStore;
use serde::Serialize;

/// What `mltest check` was asked.
pub struct Ask {
    pub suite: String,
    pub data: Vec<(String, PathBuf)>,
    pub json: bool,
    pub binary: Option<PathBuf>,
    /// Passed to the test binary (a test name filter, `--skip X`).
    pub args: Vec<String>,
}

/// `NAME=PATH` of `--data`.
pub fn parse_data(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("{s:?}: expected NAME=PATH, e.g. reviews=batch.csv")),
    }
}

#[derive(Serialize)]
struct DataUsed {
    name: String,
    path: String,
    sha256: Option<String>,
    rows: Option<usize>,
}

#[derive(Serialize, Default)]
struct Counts {
    checks: usize,
    pass: usize,
    fail: usize,
    warn: usize,
    error: usize,
    inconclusive: usize,
}

#[derive(Serialize)]
struct Problem {
    check: String,
    verdict: Verdict,
    description: String,
    observed: Option<f64>,
    bound: String,
    data: Option<String>,
}

#[derive(Serialize)]
struct Summary {
    suite: String,
    binary: String,
    run_id: String,
    /// `pass`, `fail` or `not_decided`.
    status: &'static str,
    exit_code: u8,
    data: Vec<DataUsed>,
    counts: Counts,
    /// Every check that did not pass, failures first.
    problems: Vec<Problem>,
    junit: String,
    report: Option<String>,
    history: Option<String>,
}

/// Runs the command and prints its summary.
pub fn run(ask: Ask, store: &ModelStore) -> ExitCode {
    match check(&ask, store) {
        Ok(summary) => {
            if ask.json {
                match serde_json::to_string_pretty(&summary) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{}", text(&summary));
            }
            ExitCode::from(summary.exit_code)
        }
        Err(e) => {
            if ask.json {
                let v = serde_json::json!({"suite": ask.suite, "status": "not_run", "exit_code": 2, "error": e});
                println!("{v:#}");
            }
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn check(ask: &Ask, store: &ModelStore) -> Result<Summary, String> {
    let binary = match &ask.binary {
        Some(b) => b.clone(),
        None => find_suite(&ask.suite)?,
    };
    let mut cmd = Command::new(&binary);
    cmd.args(&ask.args);
    for (name, path) in &ask.data {
        let abs = std::fs::canonicalize(path)
            .map_err(|e| format!("--data {name}={}: {e}", path.display()))?;
        cmd.env(mltest::config::data_var(name), abs);
    }
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let run_id = format!("check-{millis}-{}", std::process::id());
    let out = mltest::outdir::out_dir();
    let output = cmd
        // nextest's run id outranks MLTEST_RUN_ID: a check run inside a
        // nextest run is still a run of its own.
        .env_remove("NEXTEST_RUN_ID")
        .env("MLTEST_RUN_ID", &run_id)
        .env("MLTEST_OUT", &out)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let suite = binary_suite(&binary);
    let records = mltest::record::read_run(&out, &suite, &run_id);
    let stderr_tail = || {
        let text = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    if records.is_empty() {
        return Err(format!(
            "{} ran no mltest check (exit status {}); its last output:\n{}",
            binary.display(),
            output.status,
            stderr_tail()
        ));
    }
    let read: Vec<&str> = {
        let mut v: Vec<&str> = records
            .iter()
            .filter_map(|r| r.data.as_ref().map(|d| d.name.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for (name, _) in &ask.data {
        if !read.contains(&name.as_str()) {
            return Err(format!(
                "--data {name}: no check of suite {suite} reads a data set named {name:?}; its checks read: {}",
                if read.is_empty() {
                    "no data set".to_string()
                } else {
                    read.join(", ")
                }
            ));
        }
    }
    let report = mltest::report::write_html(&out, std::slice::from_ref(&suite), Some(store))
        .map(|p| p.display().to_string())
        .ok();
    Ok(summarise(
        ask,
        &suite,
        &binary,
        run_id,
        &records,
        output.status.success(),
        report,
        &out,
    ))
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    ask: &Ask,
    suite: &str,
    binary: &Path,
    run_id: String,
    records: &[Record],
    libtest_ok: bool,
    report: Option<String>,
    out: &Path,
) -> Summary {
    let mut counts = Counts {
        checks: records.len(),
        ..Counts::default()
    };
    for r in records {
        match r.verdict {
            Verdict::Pass => counts.pass += 1,
            Verdict::Fail => counts.fail += 1,
            Verdict::Warn => counts.warn += 1,
            Verdict::Error => counts.error += 1,
            Verdict::Inconclusive => counts.inconclusive += 1,
        }
    }
    let rank = |v: Verdict| match v {
        Verdict::Fail => 0,
        Verdict::Error => 1,
        Verdict::Inconclusive => 2,
        _ => 3,
    };
    let mut problems: Vec<Problem> = records
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| Problem {
            check: mltest::history::CheckKey::of(r).to_string(),
            verdict: r.verdict,
            description: r.description.clone(),
            observed: r.observed,
            bound: r.threshold.describe(),
            data: r.data.as_ref().map(|d| d.name.clone()),
        })
        .collect();
    problems.sort_by_key(|p| rank(p.verdict));
    // A failure is a verdict on the data; an error or an inconclusive check
    // means the run did not decide. A libtest failure without a failing
    // record (a plain #[test] of the suite) is a failure too.
    let exit_code = if counts.fail > 0 || (!libtest_ok && counts.error == 0) {
        1
    } else if counts.error > 0 || counts.inconclusive > 0 {
        2
    } else {
        0
    };
    let mut data: Vec<DataUsed> = Vec::new();
    for r in records {
        let Some(d) = &r.data else { continue };
        if data.iter().any(|u| u.name == d.name) {
            continue;
        }
        let path = ask
            .data
            .iter()
            .find(|(n, _)| *n == d.name)
            .map_or(d.origin.clone(), |(_, p)| p.display().to_string());
        data.push(DataUsed {
            name: d.name.clone(),
            path,
            sha256: Some(d.sha256.clone()),
            rows: Some(d.rows),
        });
    }
    Summary {
        suite: suite.to_string(),
        binary: binary.display().to_string(),
        run_id,
        status: match exit_code {
            0 => "pass",
            1 => "fail",
            _ => "not_decided",
        },
        exit_code,
        data,
        counts,
        problems,
        junit: mltest::junit::junit_path(out, suite).display().to_string(),
        report,
        history: mltest::history::default_path().map(|p| p.display().to_string()),
    }
}

fn text(s: &Summary) -> String {
    let mut out = String::new();
    for p in &s.problems {
        out += &format!(
            "{:<12} {}: {}: observed {}, expected {}\n",
            p.verdict.as_str(),
            p.check,
            p.description,
            p.observed.map_or("-".into(), |x| format!("{x:.4}")),
            p.bound
        );
    }
    let c = &s.counts;
    out += &format!(
        "{}: {} checks: {} passed, {} failed, {} warned, {} errors, {} inconclusive → {} (exit {})\n",
        s.suite, c.checks, c.pass, c.fail, c.warn, c.error, c.inconclusive, s.status, s.exit_code
    );
    for d in &s.data {
        out += &format!(
            "  data {}: {} ({} rows, sha256 {})\n",
            d.name,
            d.path,
            d.rows.unwrap_or(0),
            d.sha256.as_deref().map_or("-", |h| &h[..h.len().min(12)])
        );
    }
    out += &format!("  junit: {}\n", s.junit);
    if let Some(r) = &s.report {
        out += &format!("  report: {r}\n");
    }
    out
}

/// The suite's name from its binary: cargo's `<name>-<16 hex>`, else the stem.
fn binary_suite(binary: &Path) -> String {
    let stem = binary
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    }
}

/// The newest compiled test binary of `suite` beside this executable
/// (`<target>/<profile>/deps/<suite>-<hash>`); unknown suites are an error
/// listing the ones there are.
fn find_suite(suite: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate mltest: {e}"))?;
    let deps = exe
        .parent()
        .map(|d| d.join("deps"))
        .ok_or("cannot locate the target directory")?;
    let mut found: Vec<(String, PathBuf, std::time::SystemTime)> = Vec::new();
    for entry in std::fs::read_dir(&deps)
        .map_err(|e| {
            format!(
                "{}: {e}; build the suites first (cargo test --release --no-run)",
                deps.display()
            )
        })?
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some() || !is_executable(&path) {
            continue;
        }
        let name = binary_suite(&path);
        if name
            == path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        {
            continue; // not `<name>-<hash>`
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        found.push((name, path, modified));
    }
    let newest = found
        .iter()
        .filter(|(n, _, _)| n == suite)
        .max_by_key(|(_, _, t)| *t)
        .map(|(_, p, _)| p.clone());
    newest.ok_or_else(|| {
        let mut names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        format!(
            "no compiled suite named {suite:?} in {}; the suites there: {} (build with `cargo test --release --no-run`, or pass --binary PATH)",
            deps.display(),
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
