//! JUnit counts what the runner counts: the fixture binary
//! (`tests/junit_fixture.rs` with `MLTEST_JUNIT_FIXTURE` set: passing,
//! failing, `#[should_panic]` either way, `#[ignore]`d, errored and warning
//! checks) runs as `cargo test` runs it (one process, libtest's threads) and
//! as `cargo nextest run` runs it (a process per test with `--exact NAME`
//! and one `NEXTEST_RUN_ID`), and `junitparser` — the reader GitLab-style
//! CI uses — must count exactly the tests, failures + errors and skips the
//! runner reported (`tests/junit/counts.py`). `.ci/run` repeats the check
//! with the real `cargo test` and `cargo nextest run` on the same fixture.
//!
//! The binary is run directly, not through cargo: a cargo started from a
//! test inherits the test's environment, which cargo's fingerprints see,
//! and would rebuild polars.
//!
//! Needs Python with `junitparser` (`.ci/run` installs it); without it the
//! test says so and skips, unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixture's test binary, built beside this one by the same `cargo test`.
fn fixture_binary() -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    let deps = me.parent().expect("deps dir");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(deps)
        .expect("deps dir reads")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("junit_fixture-") && !n.contains('.'))
        })
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no junit_fixture binary in {}", deps.display()))
}

fn fixture(bin: &Path, out: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env("MLTEST_JUNIT_FIXTURE", "1")
        .env("MLTEST_OUT", out)
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("MLTEST_RUN_ID");
    c
}

/// Runs `tests/junit/counts.py` on the JUnit file and the runner's output.
fn check_counts(python: &Path, junit: &Path, runner_output: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("runner.txt");
    std::fs::write(&log, runner_output).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/junit/counts.py");
    let out = Command::new(python)
        .arg(script)
        .arg(junit)
        .arg(&log)
        .output()
        .expect("python runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{said}\nJUnit:\n{}",
        std::fs::read_to_string(junit).unwrap_or_default()
    );
    assert!(said.contains("'tests': 10"), "{said}");
}

#[test]
fn junit_readers_count_what_libtest_counts_in_one_process() {
    let Some(python) = mltest::prereq::python_with(&["junitparser"]) else {
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let run = fixture(&fixture_binary(), out.path())
        .output()
        .expect("fixture runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        !run.status.success(),
        "the fixture has failing tests:\n{stdout}"
    );
    assert!(
        stdout.contains("test result: FAILED. 5 passed; 3 failed; 2 ignored"),
        "{stdout}"
    );
    check_counts(
        &python,
        &out.path().join("junit").join("junit_fixture.xml"),
        &stdout,
    );
}

#[test]
fn junit_readers_count_what_nextest_counts_with_a_process_per_test() {
    let Some(python) = mltest::prereq::python_with(&["junitparser"]) else {
        return;
    };
    let bin = fixture_binary();
    let out = tempfile::tempdir().expect("tempdir");
    let list = |extra: &[&str]| -> Vec<String> {
        let o = fixture(&bin, out.path())
            .args(["--list", "--format", "terse"])
            .args(extra)
            .output()
            .expect("lists");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test").map(str::to_string))
            .collect()
    };
    let ignored = list(&["--ignored"]);
    let all = list(&[]);
    assert_eq!(ignored, vec!["cfg_ignored", "ignored"]);
    let (mut passed, mut failed) = (0, 0);
    for test in all.iter().filter(|t| !ignored.contains(t)) {
        let status = fixture(&bin, out.path())
            .args(["--exact", test, "--nocapture"])
            .env("NEXTEST_RUN_ID", "junit-counts-nextest-style")
            .output()
            .expect("runs")
            .status;
        if status.success() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    let summary = format!(
        "     Summary [   0.000s] {} tests run: {passed} passed, {failed} failed, {} skipped",
        passed + failed,
        ignored.len()
    );
    assert_eq!((passed, failed), (5, 3), "{summary}");
    check_counts(
        &python,
        &out.path().join("junit").join("junit_fixture.xml"),
        &summary,
    );
}
