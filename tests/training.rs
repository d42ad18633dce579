//! The training step and the main job: round trip through the store, label
//! mapping, typed errors before fitting, and interruption of a real run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use mltest::data::generator::ReviewsSpec;
use mltest::data::train_test_split;
use mltest::model::train::{TrainConfig, TrainError, evaluate, train};
use mltest::model::{Model, ReferenceModel, StoredModel};
use mltest::store::ModelStore;
use mltest::{DataSource, Dataset};
use polars::prelude::*;

fn small_config() -> TrainConfig {
    TrainConfig {
        buckets: 128,
        max_iterations: 60,
        ..TrainConfig::reviews()
    }
}

fn generated(rows: usize, seed: u64) -> Dataset {
    let src = DataSource::generated(ReviewsSpec::new(rows, seed));
    (*mltest::data::load_cached(&src).unwrap()).clone()
}

#[test]
fn a_loaded_model_predicts_bit_identical_probabilities() {
    let data = generated(3_000, 1);
    let (tr, te) = train_test_split(data.frame(), 3, 0.2).unwrap();
    let model = train(&tr, &small_config(), data.info()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    let id = model.save(&store, "m").unwrap();
    let loaded = ReferenceModel::load(&store, &id).unwrap();
    let a = model.predict_proba(&te).unwrap();
    let b = loaded.predict_proba(&te).unwrap();
    assert_eq!(a.len(), 600);
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
        "probabilities differ after a round trip"
    );
    assert_eq!(loaded.card().inputs, model.card().inputs);
    let cats = loaded
        .card()
        .inputs
        .iter()
        .find(|i| i.name == "Department Name")
        .unwrap();
    assert_eq!(cats.categories.as_ref().unwrap().len(), 6);
}

/// linfa-logistic's probability is that of the first label it meets; the
/// model must give P(recommend) whichever label the first row carries.
#[test]
fn probability_is_of_the_positive_class_whatever_the_first_row_says() {
    let data = generated(3_000, 2);
    let label = data
        .frame()
        .column("Recommended IND")
        .unwrap()
        .i64()
        .unwrap()
        .clone();
    for first_positive in [true, false] {
        let first = label
            .iter()
            .position(|v| v == Some(i64::from(first_positive)))
            .unwrap() as IdxSize;
        let mut order: Vec<IdxSize> = vec![first];
        order.extend((0..data.height() as IdxSize).filter(|i| *i != first));
        let shuffled = data
            .frame()
            .take(&IdxCa::from_vec("i".into(), order))
            .unwrap();
        let (tr, te) = train_test_split(&shuffled, 5, 0.2).unwrap();
        // The split shuffles; put the chosen row first in the training rows again.
        let row = shuffled.slice(0, 1);
        let tr = row.vstack(&tr).unwrap();
        assert_eq!(
            tr.column("Recommended IND").unwrap().i64().unwrap().get(0),
            Some(i64::from(first_positive))
        );
        let model = train(&tr, &small_config(), data.info()).unwrap();
        let eval = evaluate(&model, &te, "Recommended IND").unwrap();
        assert!(
            eval.accuracy > 0.85,
            "first row positive={first_positive}: accuracy {}",
            eval.accuracy
        );
        let p = model
            .predict_proba(&df!(
                "Age" => [40i64, 40], "Positive Feedback Count" => [0i64, 0],
                "Division Name" => ["General", "General"], "Department Name" => ["Tops", "Tops"], "Class Name" => ["Knits", "Knits"],
                "Title" => ["love it", "returned"],
                "Review Text" => ["love perfect beautiful comfortable flattering", "returned cheap itchy disappointed awful"],
            ).unwrap())
            .unwrap();
        assert!(
            p[0] > 0.8 && p[1] < 0.2,
            "first row positive={first_positive}: P = {p:?}"
        );
    }
}

#[test]
fn too_few_rows_one_class_and_nan_are_typed_errors_before_fitting() {
    let data = generated(1_500, 3);
    let few = data.frame().head(Some(500));
    match train(&few, &small_config(), data.info()) {
        Err(TrainError::TooFewRows {
            usable: 500,
            min: 1_000,
            ..
        }) => {}
        other => panic!("expected TooFewRows, got {other:?}"),
    }

    let one_class = data
        .frame()
        .clone()
        .lazy()
        .with_column(lit(1i64).alias("Recommended IND"))
        .collect()
        .unwrap();
    let e = train(&one_class, &small_config(), data.info()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the label \"Recommended IND\" has one class only (\"1\") in 1500 training rows: nothing to learn"
    );

    let nan = data
        .frame()
        .clone()
        .lazy()
        .with_column(
            when(col("").eq(lit(7i64)))
                .then(lit(f64::NAN))
                .otherwise(col("Age").cast(DataType::Float64))
                .alias("Age"),
        )
        .collect()
        .unwrap();
    let e = train(&nan, &small_config(), data.info()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "feature column \"Age\" holds 1 NaN or infinite values"
    );
}

#[test]
fn predicting_on_data_without_a_trained_column_is_refused() {
    let data = generated(1_200, 4);
    let model = train(data.frame(), &small_config(), data.info()).unwrap();
    let without = data.frame().drop("Class Name").unwrap();
    let e = model.predict_proba(&without).unwrap_err().to_string();
    assert!(
        e.contains("column \"Class Name\" is missing; the model was trained on it"),
        "{e}"
    );
}

// ---- the main job, as a process ----

fn pipeline_exe() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().unwrap().parent().unwrap();
    let exe = profile.join("examples").join("pipeline");
    assert!(
        exe.exists(),
        "{} not built (cargo test builds examples)",
        exe.display()
    );
    exe
}

fn write_csv(spec: &ReviewsSpec, dir: &Path) -> PathBuf {
    let path = dir.join("reviews.csv");
    spec.write_csv(&path).unwrap();
    path
}

fn pipeline(data: &Path, store: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(pipeline_exe());
    c.arg("--data")
        .arg(data)
        .arg("--store")
        .arg(store)
        .args(extra)
        .env("MLTEST_OUT", out);
    c
}

fn run_records(out: &Path) -> Vec<serde_json::Value> {
    let mut v: Vec<serde_json::Value> = std::fs::read_dir(out.join("runs"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .filter_map(|b| serde_json::from_slice(&b).ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|r| {
        r["started"].as_str().unwrap_or("").to_string() + r["run_id"].as_str().unwrap_or("")
    });
    v
}

#[test]
fn five_hundred_rows_are_refused_and_the_store_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(&ReviewsSpec::new(500, 9), dir.path());
    let store = dir.path().join("store");
    let out = pipeline(&csv, &store, &dir.path().join("out"), &[])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("data expectation `enough_rows_to_train` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("observed: 500"), "{stderr}");
    // The rerun hint names the test file that declares the check, which
    // exists as a test target; the main job's own name is none.
    assert!(
        stderr.contains(
            "rerun:    cargo test --release --test data_quality -- enough_rows_to_train --exact"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("--test pipeline"), "{stderr}");
    assert!(stderr.contains("training does not start"), "{stderr}");
    assert!(ModelStore::open(&store).list(None).unwrap().is_empty());
    let runs = run_records(&dir.path().join("out"));
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(runs[0]["steps"][0]["name"], "data gate");
    assert_eq!(runs[0]["steps"][0]["status"], "failed");
}

/// Starts a run, waits until step 2 has fitted the model and not yet
/// saved it (the sparse fit takes a fraction of a second, so the run holds
/// there: `--pause-before-save`), and signals it.
fn interrupt_during_training(
    csv: &Path,
    store: &Path,
    out: &Path,
    signal: &str,
) -> std::process::ExitStatus {
    let mut child = pipeline(
        csv,
        store,
        out,
        &["--buckets", "512", "--pause-before-save", "30000"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut holding = false;
    for line in lines.by_ref() {
        if line.unwrap().contains("--pause-before-save") {
            holding = true;
            break;
        }
    }
    assert!(holding, "the run ended before it reached the save");
    std::thread::sleep(Duration::from_millis(100));
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

#[test]
fn an_interrupted_run_leaves_no_version_says_interrupted_and_the_next_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(
        &ReviewsSpec::reviews_like(5).null_rate("Age", None, 0.0),
        dir.path(),
    );
    let store = dir.path().join("store");
    let out = dir.path().join("out");

    let status = interrupt_during_training(&csv, &store, &out, "TERM");
    assert_eq!(
        status.code(),
        Some(130),
        "SIGTERM must end the run with 130"
    );
    assert!(
        ModelStore::open(&store).list(None).unwrap().is_empty(),
        "no version after SIGTERM"
    );
    let runs = run_records(&out);
    assert_eq!(runs.last().unwrap()["status"], "interrupted");

    let status = interrupt_during_training(&csv, &store, &out, "KILL");
    assert_eq!(status.code(), None, "SIGKILL leaves no exit code");
    assert!(
        ModelStore::open(&store).list(None).unwrap().is_empty(),
        "no version after SIGKILL"
    );

    let ok = pipeline(
        &csv,
        &store,
        &out,
        &["--buckets", "128", "--iterations", "40"],
    )
    .output()
    .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let s = ModelStore::open(&store);
    assert_eq!(s.versions("reviews").unwrap(), vec![1]);
    assert!(s.verify(None).unwrap().iter().all(|(_, r)| r.is_ok()));
    let checks: Vec<(String, bool)> = s
        .checks("reviews@1")
        .unwrap()
        .into_iter()
        .map(|c| (c.kind.to_string(), c.passed))
        .collect();
    assert_eq!(
        checks,
        vec![
            ("data_gate".into(), true),
            ("evaluation".into(), true),
            ("robustness".into(), true)
        ]
    );

    let runs = run_records(&out);
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    // The SIGKILLed run could not write; the next run marked it.
    assert_eq!(
        statuses,
        vec!["interrupted", "interrupted", "passed"],
        "{runs:#?}"
    );
    assert!(runs[1]["steps"].as_array().unwrap().iter().any(|s| {
        s["detail"]
            .as_str()
            .unwrap_or("")
            .contains("found by a later run")
    }));
}
