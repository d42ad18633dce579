//! Schema change against the check's previous run: each run of the child is
//! a process of its own with a new batch in place of the fixture
//! (`MLTEST_DATA_BATCH`, as `mltest check --data batch=PATH` sets it), all
//! sharing one metric history.

use std::path::Path;
use std::process::{Command, Stdio};

use mltest::prelude::*;
use mltest::record::Verdict;

/// The fixture the batches replace.
fn batch() -> DataSource {
    DataSource::generated(ReviewsSpec::new(50, 1)).named("batch")
}

/// Child: the batch's columns against the previous run's.
#[data_expectation(reason = "helper: a batch whose columns must match the previous batch's")]
#[ignore = "helper: run as a child process by the test below"]
fn batch_columns_unchanged(batch: &Dataset) -> Vec<Expectation> {
    batch.schema_change().unchanged()
}

/// Runs the child on `csv`; whether the test passed and each check's
/// verdict and report.
fn run(dir: &Path, csv: &str) -> (bool, Vec<(String, Verdict, String)>) {
    let file = dir.join("batch.csv");
    std::fs::write(&file, csv).unwrap();
    let out = dir.join("out");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "batch_columns_unchanged",
            "--test-threads=1",
        ])
        .env("MLTEST_DATA_BATCH", &file)
        .env("MLTEST_HISTORY", dir.join("history.sqlite"))
        .env("MLTEST_OUT", &out)
        // A run of its own, also under nextest.
        .env_remove("NEXTEST_RUN_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let mut checks: Vec<(String, Verdict, String)> =
        mltest::record::read_all(&mltest::record::records_dir(&out, "schema_change"))
            .into_iter()
            .filter(|r| r.test == "batch_columns_unchanged")
            .map(|r| (r.check, r.verdict, r.report))
            .collect();
    checks.sort_by(|a, b| a.0.cmp(&b.0));
    (status.success(), checks)
}

fn verdicts(checks: &[(String, Verdict, String)]) -> Vec<(&str, Verdict)> {
    checks.iter().map(|c| (c.0.as_str(), c.1)).collect()
}

#[test]
fn a_removed_or_retyped_column_fails_an_added_one_warns_and_the_first_run_is_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    use Verdict::{Fail, Inconclusive, Pass, Warn};
    let base = "id,age,text\n1,30,fits\n2,41,small\n";

    let (ok, first) = run(dir.path(), base);
    assert!(ok, "nothing to compare with is not a failure");
    assert_eq!(
        verdicts(&first),
        [
            ("columns_added", Inconclusive),
            ("columns_removed", Inconclusive),
            ("columns_retyped", Inconclusive)
        ]
    );
    assert!(
        first[1].2.contains("no earlier run of this check"),
        "{}",
        first[1].2
    );

    // Other rows, same columns and dtypes.
    let (ok, same) = run(dir.path(), "id,age,text\n3,25,long\n");
    assert!(ok);
    assert_eq!(
        verdicts(&same),
        [
            ("columns_added", Pass),
            ("columns_removed", Pass),
            ("columns_retyped", Pass)
        ]
    );

    // `text` dropped, `age` now text (one bad cell upstream), `tag` new.
    let (ok, changed) = run(dir.path(), "id,age,tag\n4,unknown,x\n5,33,y\n");
    assert!(!ok, "a removed or re-typed column fails the test");
    assert_eq!(
        verdicts(&changed),
        [
            ("columns_added", Warn),
            ("columns_removed", Fail),
            ("columns_retyped", Fail)
        ]
    );
    // Each check names its own change first, then the others.
    let retyped = &changed[2].2;
    assert!(
        retyped.contains("columns:  \"age\" re-typed i64 → str\n"),
        "{retyped}"
    );
    assert!(
        retyped.contains("also:     \"text\" removed (was str)\n            \"tag\" added (str)"),
        "{retyped}"
    );
    assert!(
        retyped.contains("observed: 1 (1 of 3 columns of the previous run)"),
        "{retyped}"
    );
    let added = &changed[0].2;
    assert!(added.contains("columns:  \"tag\" added (str)"), "{added}");
    assert!(
        added.contains("verdict:  warn: this check only warns"),
        "{added}"
    );

    // The next run compares with the changed batch, not the first one.
    let (ok, again) = run(dir.path(), "id,age,tag\n6,unknown,z\n");
    assert!(ok);
    assert!(
        verdicts(&again).iter().all(|(_, v)| *v == Pass),
        "{again:?}"
    );
}

#[test]
fn outside_the_check_scaffold_a_schema_change_has_no_verdict() {
    let data = Dataset::from_frame("d", polars::df!("x" => [1.0]).unwrap());
    let out = data.evaluate_one(data.schema_change().removed().at_most(0.0));
    assert_eq!(out.status(), mltest::expect::Status::Error);
    assert!(
        out.error()
            .unwrap()
            .to_string()
            .contains("only a #[data_expectation] check reads"),
        "{:?}",
        out.error()
    );
    let basis = out.schema.as_ref().expect("the columns are recorded");
    assert_eq!(basis.current.len(), 1);
    assert_eq!(basis.current[0].dtype, "f64");
}

#[test]
fn the_columns_recorded_are_the_same_in_memory_and_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.csv");
    std::fs::write(
        &file,
        "id,when,score,flag,text\n1,2026-12-01,0.5,true,a\n2,,1.5,false,\n",
    )
    .unwrap();
    let check = || mltest::expect::schema_change().retyped().at_most(0.0);
    let columns = |o: &mltest::expect::CheckOutcome| o.schema.as_ref().unwrap().current.clone();
    let source = DataSource::csv(&file).named("b");
    let loaded = mltest::data::load_cached(&source).unwrap();
    let in_memory = columns(&loaded.evaluate_one(check()));
    let streamed = source
        .clone()
        .streaming(Streaming::Always)
        .evaluate_streaming(check())
        .unwrap();
    assert_eq!(columns(&streamed.outcomes[0]), in_memory);
    let names: Vec<(&str, &str)> = in_memory
        .iter()
        .map(|c| (c.name.as_str(), c.dtype.as_str()))
        .collect();
    assert_eq!(names[0], ("id", "i64"));
    assert_eq!(names[2], ("score", "f64"));
    assert_eq!(names.len(), 5);
}
