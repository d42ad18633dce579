//! `mltest check`: a production batch through the compiled `data_quality`
//! suite, without a rebuild, with a JSON summary and exit codes for
//! alerting (0 pass, 1 fail, 2 could not run or decide).
//!
//! Needs the `data_quality` test binary, which `cargo test --workspace`
//! and nextest build before any test runs.

use std::path::Path;
use std::process::Command;

use mltest::prelude::*;
use polars::prelude::*;

/// The generator's reviews-like batch, with `age_nulls` of the ages
/// missing, written as CSV.
fn batch(dir: &Path, name: &str, age_nulls: f64) -> std::path::PathBuf {
    let mut spec = ReviewsSpec::reviews_like(mltest::data::reviews::FALLBACK_SEED);
    if age_nulls > 0.0 {
        spec = spec.null_rate("Age", None, age_nulls);
    }
    let data = mltest::data::load_cached(&DataSource::generated(spec)).expect("generated");
    let path = dir.join(name);
    let mut frame = data.frame().clone();
    let mut file = std::fs::File::create(&path).unwrap();
    CsvWriter::new(&mut file).finish(&mut frame).unwrap();
    path
}

fn mltest_check(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mltest"))
        .arg("check")
        .args(args)
        .arg("--json")
        .env("MLTEST_OUT", dir.join("out"))
        .env("MLTEST_HISTORY", dir.join("history.sqlite"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr)
}

#[test]
fn a_batch_with_missing_ages_fails_the_suite_with_a_json_summary_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = batch(dir.path(), "bad.csv", 0.2);
    let arg = format!("reviews={}", bad.display());
    let (code, json, stderr) =
        mltest_check(dir.path(), &["--suite", "data_quality", "--data", &arg]);
    assert_eq!(code, 1, "{json:#}\n{stderr}");
    assert_eq!(json["status"], "fail");
    assert_eq!(json["data"][0]["name"], "reviews");
    assert_eq!(json["data"][0]["path"], bad.display().to_string());
    let problems = json["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["verdict"] == "fail"
            && p["check"]
                .as_str()
                .unwrap()
                .contains("required_fields_are_never_missing")
            && p["description"].as_str().unwrap().contains("\"Age\"")),
        "{json:#}"
    );
    assert!(json["counts"]["fail"].as_u64().unwrap() >= 1);
    // The run is in the history under the batch's sha256.
    let h = mltest::history::History::open_existing(dir.path().join("history.sqlite")).unwrap();
    let sha = json["data"][0]["sha256"].as_str().unwrap();
    assert!(
        h.checks()
            .unwrap()
            .iter()
            .any(|c| c.last.data_sha256.as_deref() == Some(sha)),
        "no history row of the batch"
    );
}

#[test]
fn a_clean_batch_passes_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let good = batch(dir.path(), "good.csv", 0.0);
    let arg = format!("reviews={}", good.display());
    let (code, json, stderr) =
        mltest_check(dir.path(), &["--suite", "data_quality", "--data", &arg]);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    assert_eq!(json["status"], "pass");
    assert_eq!(json["counts"]["fail"], 0);
    assert!(json["counts"]["checks"].as_u64().unwrap() > 10);
}

#[test]
fn an_unknown_suite_or_an_unread_data_set_is_exit_2_listing_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, _) = mltest_check(dir.path(), &["--suite", "data_qualty"]);
    assert_eq!(code, 2);
    let error = json["error"].as_str().unwrap();
    assert!(
        error.contains("no compiled suite named \"data_qualty\"") && error.contains("data_quality"),
        "{error}"
    );

    let good = batch(dir.path(), "good.csv", 0.0);
    let arg = format!("revues={}", good.display());
    let (code, json, _) = mltest_check(dir.path(), &["--suite", "data_quality", "--data", &arg]);
    assert_eq!(code, 2);
    let error = json["error"].as_str().unwrap();
    assert!(
        error.contains("no check of suite data_quality reads a data set named \"revues\"")
            && error.contains("reviews"),
        "{error}"
    );

    let arg = format!("reviews={}", dir.path().join("missing.csv").display());
    let (code, json, _) = mltest_check(dir.path(), &["--suite", "data_quality", "--data", &arg]);
    assert_eq!(code, 2);
    assert!(
        json["error"].as_str().unwrap().contains("missing.csv"),
        "{json:#}"
    );
}
