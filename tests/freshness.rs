//! Freshness: the newest time of a data set's date column against now, and
//! the age of a deployed model, with the clock fixed by `MLTEST_NOW` in a
//! child process (the test process's own clock stays the system's).

use std::process::{Command, Stdio};

use mltest::clock::{days, hours, parse_time};
use mltest::prelude::*;
use polars::prelude::*;

const NOW: &str = "2026-12-03T12:00:00Z";

fn child(test: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            test,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MLTEST_CHILD_FRESHNESS", "1")
        .env("MLTEST_NOW", NOW)
        .env_remove("NEXTEST_RUN_ID")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Child: the data checks, with the clock at 2026-12-03 12:00 UTC.
#[test]
#[ignore = "helper: run as a child process by the tests below"]
fn freshness_child_data_checks() {
    if std::env::var_os("MLTEST_CHILD_FRESHNESS").is_none() {
        return;
    }
    assert_eq!(mltest::clock::now(), parse_time(NOW).unwrap());
    let text = Dataset::from_frame(
        "batch",
        df!("Review Date" => [Some("2026-11-28"), None, Some("2026-12-02T08:00:00")]).unwrap(),
    );
    let date = text.column("Review Date");
    let fresh = text.evaluate_one(date.newest().within(days(2.0)));
    assert!(fresh.passed(), "{}", fresh.render());
    assert_eq!(fresh.observed, parse_time("2026-12-02T08:00:00"));
    let stale = text.evaluate_one(date.newest().within(hours(12.0)));
    assert!(!stale.passed());
    let report = stale.render();
    for needle in [
        "observed: 2026-12-02T08:00:00Z (1.2 days before now)",
        ">= 2026-12-03T00:00:00Z",
        "newest time in \"Review Date\"",
    ] {
        assert!(report.contains(needle), "{needle:?} in\n{report}");
    }
    // Native dates and datetimes give the same instant as the text.
    let day = (parse_time("2026-12-02").unwrap() / 86_400.0) as i32;
    let at = (parse_time("2026-12-02T08:00:00").unwrap() * 1e6) as i64;
    let native = Dataset::from_frame(
        "native",
        DataFrame::new_infer_height(vec![
            Series::new("d".into(), [day])
                .cast(&DataType::Date)
                .unwrap()
                .into_column(),
            Series::new("t".into(), [at])
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .unwrap()
                .into_column(),
        ])
        .unwrap(),
    );
    let d = native.evaluate_one(native.column("d").newest().within(days(2.0)));
    assert_eq!(d.observed, parse_time("2026-12-02"), "{}", d.render());
    let t = native.evaluate_one(native.column("t").newest().within(days(2.0)));
    assert_eq!(
        t.observed,
        parse_time("2026-12-02T08:00:00Z"),
        "{}",
        t.render()
    );
    println!("child checked the data");
}

#[test]
fn a_batch_is_fresh_or_stale_against_a_clock_the_test_fixes() {
    let out = child("freshness_child_data_checks");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("child checked the data"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_same_file_gives_the_same_newest_time_in_memory_and_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.csv");
    let mut csv = String::from("id,at\n");
    for i in 0..5_000u32 {
        // Two formats, a time of day that moves, one blank.
        let (d, h) = (1 + i % 28, i % 24);
        if i == 17 {
            csv.push_str("17,\n");
        } else if i % 2 == 0 {
            csv.push_str(&format!("{i},2026-11-{d:02}T{h:02}:30:00Z\n"));
        } else {
            csv.push_str(&format!("{i},2026-11-{d:02} {h:02}:15:00\n"));
        }
    }
    std::fs::write(&path, csv).unwrap();
    let src = DataSource::csv(&path);
    let checks = || {
        let d = mltest::data::load_cached(&src).unwrap();
        vec![d.column("at").newest().at_least(0.0)]
    };
    let memory = mltest::data::load_cached(&src).unwrap().evaluate(checks());
    let streamed = src.evaluate_streaming(checks()).unwrap().outcomes;
    assert_eq!(memory[0].observed, streamed[0].observed);
    // Row 167 (odd: the space form, no zone: UTC) is the newest.
    assert_eq!(memory[0].observed, parse_time("2026-11-28T23:15:00Z"));
}

#[test]
fn a_date_column_that_is_not_dates_is_an_error_not_a_pass() {
    let data = Dataset::from_frame(
        "d",
        df!("at" => ["2026-12-01", "01/12/2026", "yesterday"], "n" => [1i64, 2, 3]).unwrap(),
    );
    let out = data.evaluate_one(data.column("at").newest().within(days(365.0 * 100.0)));
    assert!(!out.passed());
    assert!(
        out.render()
            .contains("2 of 3 values of \"at\" are not ISO 8601 times"),
        "{}",
        out.render()
    );
    let out = data.evaluate_one(data.column("n").newest().within(days(1.0)));
    assert!(
        out.render().contains("a date, a datetime or ISO 8601 text"),
        "{}",
        out.render()
    );
    let empty = Dataset::from_frame("e", df!("at" => [None::<&str>, None]).unwrap());
    let out = empty.evaluate_one(empty.column("at").newest().within(days(1.0)));
    assert!(
        !out.passed() && out.render().contains("no non-missing values"),
        "{}",
        out.render()
    );
}

#[test]
fn the_champion_s_age_comes_from_its_card_and_the_cli_exits_1_when_stale() {
    use mltest::store::{Card, ModelStore, OutputSchema, Tensors};
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    store
        .save(
            "m",
            Card::new(OutputSchema::binary("y", ["0", "1"], "1")),
            &Tensors::new(),
        )
        .unwrap();
    store
        .promote(
            "m@1",
            "champion",
            mltest::store::Promote {
                force: true,
                reason: Some("test fixture: no gate records".into()),
            },
        )
        .unwrap();
    let created = store.list(Some("m")).unwrap()[0].created_at.clone();
    let created = parse_time(&created).unwrap();
    let run = |now_days: f64| {
        Command::new(env!("CARGO_BIN_EXE_mltest"))
            .args([
                "--store",
                dir.path().to_str().unwrap(),
                "models",
                "freshness",
                "m@champion",
            ])
            .args(["--max-age-days", "30", "--json"])
            .env("MLTEST_NOW", format!("{}", created + now_days * 86_400.0))
            .output()
            .unwrap()
    };
    let fresh = run(10.0);
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&fresh.stdout).unwrap();
    assert_eq!(
        (json["fresh"].as_bool(), json["version"].as_str()),
        (Some(true), Some("m@1"))
    );
    assert!(
        (json["age_days"].as_f64().unwrap() - 10.0).abs() < 1e-6,
        "{json}"
    );
    let stale = run(40.0);
    assert_eq!(stale.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&stale.stdout).unwrap();
    assert_eq!(json["fresh"].as_bool(), Some(false));
    // An unknown alias is an error naming what exists.
    let out = Command::new(env!("CARGO_BIN_EXE_mltest"))
        .args([
            "--store",
            dir.path().to_str().unwrap(),
            "models",
            "freshness",
            "m@prod",
        ])
        .args(["--max-age-days", "30"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no alias \"prod\""),
        "{err}"
    );
}
