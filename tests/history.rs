//! The metric history under real processes: every publication lands in it,
//! parallel writers (nextest's process per test) lose nothing, and a process
//! killed mid-append leaves no half-written run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use mltest::history::{CheckKey, History};
use mltest::prelude::*;
use mltest::record::{Details, Record, Verdict};

/// Checks per publication in the child: a wide transaction, so kills land
/// inside one.
const CHECKS: usize = 200;

fn publication(run: &str, n: usize) -> Vec<Record> {
    (0..CHECKS)
        .map(|i| {
            let mut r = Record::new(
                &format!("child::check_{i:03}"),
                format!("check_{i:03}"),
                "",
                Details::Ab(None),
            );
            r.run_id = run.to_string();
            r.check_index = i;
            r.observed = Some(n as f64 + i as f64 / 1000.0);
            r
        })
        .collect()
}

/// Child mode: appends publications to the history named by the
/// environment, printing `began N` and `committed N` around each.
#[test]
#[ignore = "helper: run as a child process by the tests below"]
fn history_child_appender() {
    let Ok(path) = std::env::var("MLTEST_CHILD_HISTORY") else {
        return;
    };
    let n: usize = std::env::var("MLTEST_CHILD_APPENDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut h = History::open(&path).expect("history opens");
    let pid = std::process::id();
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for i in 0..n {
        let run = format!("{pid}-{i}");
        writeln!(out, "began {run}").unwrap();
        out.flush().unwrap();
        h.append(&publication(&run, i)).expect("append");
        writeln!(out, "committed {run}").unwrap();
        out.flush().unwrap();
    }
}

/// Child mode: one test's publication through the seam every check kind
/// ends in, so the default history (`MLTEST_HISTORY`) receives it.
#[test]
#[ignore = "helper: run as a child process by the tests below"]
fn history_child_publisher() {
    if std::env::var_os("MLTEST_CHILD_HISTORY").is_none() {
        return;
    }
    let mut r = Record::new(
        "history::published",
        "published".into(),
        "",
        Details::Ab(None),
    );
    r.observed = Some(0.25);
    mltest::check::publish_records(&[r]);
}

fn child(test: &str, history: &Path, appends: usize) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--ignored",
        "--exact",
        test,
        "--nocapture",
        "--test-threads=1",
    ])
    .env("MLTEST_CHILD_HISTORY", history)
    // Each child is a run of its own, also under nextest (whose run id
    // every process would otherwise share).
    .env_remove("NEXTEST_RUN_ID")
    .env("MLTEST_CHILD_APPENDS", appends.to_string())
    .stderr(Stdio::null());
    c
}

/// Every run in the file with how many figures it holds, read through
/// mltest's own reader.
fn figures_per_run(path: &Path) -> std::collections::BTreeMap<String, i64> {
    let h = History::open(path).unwrap();
    let mut per_run = std::collections::BTreeMap::new();
    for c in h.checks().unwrap() {
        for f in h.last(&c.key, usize::MAX, None).unwrap() {
            *per_run.entry(f.run_id).or_insert(0) += 1;
        }
    }
    per_run
}

#[test]
fn a_publication_in_two_processes_is_two_runs_of_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    for _ in 0..2 {
        let status = child("history_child_publisher", &path, 0)
            .env("MLTEST_HISTORY", &path)
            .env("MLTEST_OUT", dir.path().join("out"))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let h = History::open_existing(&path).unwrap();
    let checks = h.checks().unwrap();
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].key.test, "history::published");
    assert_eq!(checks[0].key.binary, "history");
    assert_eq!(checks[0].runs, 2);
    let past = h.last(&checks[0].key, 10, None).unwrap();
    assert_eq!(past.len(), 2);
    assert_ne!(
        past[0].run_id, past[1].run_id,
        "each process is its own run"
    );
    assert!(past.iter().all(|f| f.observed == Some(0.25)));
}

#[test]
fn four_processes_appending_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let mut kids: Vec<_> = (0..4)
        .map(|_| {
            child("history_child_appender", &path, 10)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for k in kids.iter_mut() {
        assert!(k.wait().unwrap().success());
    }
    let per_run = figures_per_run(&path);
    assert_eq!(per_run.len(), 40);
    assert!(
        per_run.iter().all(|(_, n)| *n == CHECKS as i64),
        "{per_run:?}"
    );
    let h = History::open(&path).unwrap();
    assert_eq!(h.run_count().unwrap(), 40);
    assert_eq!(h.integrity().unwrap(), "ok");
    let key = CheckKey::new("history", "child::check_007", "check_007");
    assert_eq!(h.last(&key, 100, None).unwrap().len(), 40);
}

#[test]
fn sigkill_mid_append_leaves_every_run_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let mut rng = mltest::rng::SplitMix64::new(7);
    let mut mid_transaction = 0;
    let mut committed = Vec::new();
    let mut interrupted = Vec::new();
    for _ in 0..20 {
        let mut kid = child("history_child_appender", &path, 1_000_000)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = kid.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        std::thread::sleep(std::time::Duration::from_millis(30 + rng.below(200) as u64));
        // SIGKILL: no destructor, no unwinding, no rollback by the process.
        kid.kill().unwrap();
        kid.wait().unwrap();
        let lines = reader.join().unwrap();
        for l in &lines {
            if let Some(run) = l.strip_prefix("committed ") {
                committed.push(run.to_string());
            }
        }
        if let Some(run) = lines.last().and_then(|l| l.strip_prefix("began ")) {
            mid_transaction += 1;
            interrupted.push(run.to_string());
        }
    }
    let per_run = figures_per_run(&path);
    for run in &committed {
        assert_eq!(
            per_run.get(run),
            Some(&(CHECKS as i64)),
            "committed run {run}"
        );
    }
    for run in &interrupted {
        // Killed between `began` and `committed`: the run is absent, or
        // (killed after SQLite's commit but before the print) whole.
        let n = per_run.get(run).copied().unwrap_or(0);
        assert!(
            n == 0 || n == CHECKS as i64,
            "run {run} holds {n} of {CHECKS} figures"
        );
    }
    assert!(per_run.values().all(|&n| n == CHECKS as i64), "{per_run:?}");
    assert!(!committed.is_empty(), "no child committed anything");
    // Each child spends most of its time inside a transaction, so most
    // kills land in one; at least a quarter must, or the test proved nothing.
    assert!(
        mid_transaction >= 5,
        "only {mid_transaction} of 20 kills landed mid-append"
    );
    let h = History::open(&path).unwrap();
    assert_eq!(h.integrity().unwrap(), "ok");
}

fn batch() -> DataSource {
    let rows = std::env::var("MLTEST_CHILD_APPENDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    DataSource::generated(ReviewsSpec::new(rows, 3)).named("batch")
}

/// Child mode: a batch's row count judged by three bounds learned from its
/// own past runs.
#[data_expectation(reason = "helper: a row count judged against its own history")]
#[ignore = "helper: run as a child process by the tests below"]
fn rows_like_their_history(batch: &Dataset) -> Vec<Expectation> {
    let band = history().mean(last(3));
    vec![
        batch
            .row_count()
            .between(band * 0.5, band * 1.5)
            .named("mean_band"),
        batch.row_count().rate_of_change_at_most(2.0).named("ratio"),
        batch
            .row_count()
            .within_history_sigmas(3.0, last(3))
            .named("sigmas"),
    ]
}

#[test]
fn a_history_bound_is_inconclusive_until_enough_runs_then_decided() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let out = dir.path().join("out");
    let mut seen = Vec::new();
    for rows in [100, 110, 90, 105, 400] {
        let status = child("rows_like_their_history", &path, rows)
            .env("MLTEST_HISTORY", &path)
            .env("MLTEST_OUT", &out)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        let records = mltest::record::read_all(&mltest::record::records_dir(&out, "history"));
        let mut verdicts: Vec<(String, Verdict)> = records
            .iter()
            .filter(|r| r.test == "rows_like_their_history")
            .map(|r| (r.check.clone(), r.verdict))
            .collect();
        verdicts.sort_by(|a, b| a.0.cmp(&b.0));
        seen.push((rows, status.success(), verdicts, records));
    }
    use Verdict::{Fail, Inconclusive, Pass};
    let expect = [
        // No history: every rule is undecided, and the test still passes.
        (true, [Inconclusive, Inconclusive, Inconclusive]),
        // One past run decides the ratio (110 / 100), not the 3-run rules.
        (true, [Inconclusive, Pass, Inconclusive]),
        (true, [Inconclusive, Pass, Inconclusive]),
        // 105 against 100, 110, 90: mean 100 → [50, 150]; 3 σ of sd 10 → [70, 130].
        (true, [Pass, Pass, Pass]),
        // 400: outside every learned bound.
        (false, [Fail, Fail, Fail]),
    ];
    for ((rows, ok, verdicts, _), (want_ok, want)) in seen.iter().zip(expect) {
        let got: Vec<Verdict> = verdicts.iter().map(|v| v.1).collect();
        assert_eq!(
            verdicts.iter().map(|v| v.0.as_str()).collect::<Vec<_>>(),
            ["mean_band", "ratio", "sigmas"]
        );
        assert_eq!(
            (*ok, got.as_slice()),
            (want_ok, want.as_slice()),
            "{rows} rows"
        );
    }
    // The first run says how many runs it needs; the fourth names the
    // bound it used and the runs it came from.
    let first = &seen[0].3;
    let band = first.iter().find(|r| r.check == "mean_band").unwrap();
    assert!(
        band.report
            .contains("history holds 0; 3 more run(s) decide it"),
        "{}",
        band.report
    );
    let fourth = &seen[3].3;
    let band = fourth.iter().find(|r| r.check == "mean_band").unwrap();
    assert_eq!(band.threshold.describe(), "in [50, 150]");
    let Some(outcome) = band.outcome() else {
        panic!("a data expectation")
    };
    let basis = outcome.learned.as_ref().expect("the basis is recorded");
    let past: Vec<f64> = basis.runs.iter().map(|r| r.observed).collect();
    assert_eq!(past, [100.0, 110.0, 90.0]);
    let sigmas = fourth.iter().find(|r| r.check == "sigmas").unwrap();
    assert_eq!(sigmas.threshold.describe(), "in [70, 130]");
    // The fifth run's failure reads the three runs before it.
    let fifth = &seen[4].3;
    let band = fifth.iter().find(|r| r.check == "mean_band").unwrap();
    let basis = band.outcome().unwrap().learned.as_ref().unwrap();
    let past: Vec<f64> = basis.runs.iter().map(|r| r.observed).collect();
    assert_eq!(past, [110.0, 90.0, 105.0]);
    assert!(band.report.contains("from runs"), "{}", band.report);
}
