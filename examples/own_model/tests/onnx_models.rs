//! Models trained in Python (scikit-learn) and exported to ONNX, run by
//! mltest in pure Rust: the same predictions as onnxruntime, then the same
//! checks as any model.
//!
//! `tests/onnx/train_export.py` trains them on the reviews data. The
//! exported graphs are committed under `examples/own_model/onnx/` (a fresh clone
//! needs no Python); CI runs the script again into `MLTEST_ONNX_DIR` with
//! held-out rows and onnxruntime's predictions on them, which the equality
//! test reads.

use std::path::PathBuf;

use mltest::model::{Model, ModelError, OnnxModel, StoredModel, predict_checked};
use mltest::prelude::*;
use polars::prelude::*;

fn committed(name: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("onnx");
    (
        dir.join(format!("{name}.onnx")),
        dir.join(format!("{name}.json")),
    )
}

fn onnx_binary() -> Result<OnnxModel, ModelError> {
    let (onnx, json) = committed("binary");
    OnnxModel::from_export(onnx, json)
}

fn onnx_multiclass() -> Result<OnnxModel, ModelError> {
    let (onnx, json) = committed("multiclass");
    OnnxModel::from_export(onnx, json)
}

fn onnx_regression() -> Result<OnnxModel, ModelError> {
    let (onnx, json) = committed("regression");
    OnnxModel::from_export(onnx, json)
}

/// onnxruntime's figures for the models the CI step just trained.
fn fresh_export() -> Option<PathBuf> {
    let dir = std::env::var_os("MLTEST_ONNX_DIR").map(PathBuf::from);
    match dir {
        Some(d) if d.join("heldout.csv").exists() => Some(d),
        _ => mltest::prereq::missing(
            "MLTEST_ONNX_DIR with models exported by tests/onnx/train_export.py",
            "python3 tests/onnx/train_export.py ../shared/data/womens_clothing_reviews.csv DIR \
             && MLTEST_ONNX_DIR=DIR cargo test (.ci/run does both)",
        ),
    }
}

fn read_csv(path: &std::path::Path) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

#[test]
fn mltest_predicts_what_onnxruntime_predicts_to_1e_6() {
    let Some(dir) = fresh_export() else { return };
    let heldout = read_csv(&dir.join("heldout.csv"));
    for name in ["binary", "multiclass", "regression"] {
        let model = OnnxModel::from_export(
            dir.join(format!("{name}.onnx")),
            dir.join(format!("{name}.json")),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = read_csv(&dir.join(format!("{name}_expected.csv")));
        let p = predict_checked(&model, &heldout).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.len(), heldout.height(), "{name}");
        let mut worst = 0f64;
        for (c, col) in expected.columns().iter().enumerate() {
            let want = col.cast(&DataType::Float64).unwrap();
            for (i, w) in want.f64().unwrap().into_no_null_iter().enumerate() {
                let got =
                    match &p {
                        mltest::model::Predictions::Multiclass { .. } => p.row(i).unwrap()[c],
                        // Binary: expected holds P(class) per class; mltest P(positive).
                        mltest::model::Predictions::Binary(v) if expected.width() == 2 => {
                            if c == 1 { v[i] } else { 1.0 - v[i] }
                        }
                        _ => p.score(i, None),
                    };
                worst = worst.max((got - w).abs());
            }
        }
        println!(
            "{name}: {} held-out rows, max |mltest - onnxruntime| = {worst:e}",
            heldout.height()
        );
        assert!(worst <= 1e-6, "{name}: max abs difference {worst}");
    }
}

#[robustness(
    reason = "Half a standard deviation of age, and another department, must rarely flip the \
              recommendation of the scikit-learn model.",
    model = onnx_binary,
    data = reviews,
    max_flip_rate = 0.05,
    cases = 1000
)]
fn the_sklearn_classifier_survives_age_noise(p: Perturb) -> Perturb {
    // The standard deviation and the departments are the card's, from the
    // training rows (the export's `schema`).
    p.numeric("Age", noise_std(0.5))
        .swap_category("Department Name")
}

#[robustness(
    reason = "A year of age must not move the random forest's rating class in more than 10% of reviews.",
    model = onnx_multiclass,
    data = reviews,
    max_flip_rate = 0.10,
    cases = 1000
)]
fn a_year_of_age_rarely_changes_the_forests_rating(p: Perturb) -> Perturb {
    p.numeric("Age", noise(1.0))
}

#[robustness(
    reason = "Ridge on standardised age: five years of age moves the rating by under 0.05 stars.",
    model = onnx_regression,
    data = reviews,
    max_change_rate = 0.0,
    tolerance = 0.05,
    cases = 1000
)]
fn five_years_of_age_barely_move_the_ridge_rating(p: Perturb) -> Perturb {
    p.numeric("Age", noise(5.0))
}

fn first_half() -> Result<Dataset, Box<dyn std::error::Error + Send + Sync>> {
    let d = mltest::data::load_cached(&reviews())?;
    let n = d.frame().height();
    Ok(Dataset::from_frame(
        "reviews[..n/2]",
        d.frame().head(Some(n / 2)),
    ))
}

fn second_half() -> Result<Dataset, Box<dyn std::error::Error + Send + Sync>> {
    let d = mltest::data::load_cached(&reviews())?;
    let n = d.frame().height();
    Ok(Dataset::from_frame(
        "reviews[n/2..]",
        d.frame().tail(Some(n - n / 2)),
    ))
}

#[drift(
    reason = "The two halves of one export are one population: the scikit-learn model's \
                  scores must not drift between them."
)]
fn the_sklearn_scores_do_not_drift_between_halves(first_half: &Side, second_half: &Side) -> Drift {
    Drift::columns(["Age"]).prediction(onnx_binary)
}

#[drift(reason = "Nor the forest's predicted rating class.")]
fn the_forest_classes_do_not_drift_between_halves(first_half: &Side, second_half: &Side) -> Drift {
    Drift::columns(["Age"]).prediction(onnx_multiclass)
}

/// A/B of two regressors: the Ridge model against predicting the mean
/// rating, by a paired t-test on absolute errors (scipy's `ttest_rel`).
#[test]
fn the_ridge_model_beats_the_mean_rating() {
    let start = std::time::Instant::now();
    let data = mltest::data::load_cached(&reviews()).unwrap();
    let ridge = onnx_regression().unwrap();
    let mean = MeanRating::fit(data.frame());
    let comparison = mltest::ab::compare_regressors(
        ("mean rating", &mean),
        ("ridge (onnx)", &ridge),
        data.frame(),
        "Rating",
        mltest::ab::ErrorOptions::default(),
    );
    mltest::check::run_regression_ab(
        "the_ridge_model_beats_the_mean_rating",
        "A model that cannot beat the mean rating is not worth deploying.",
        mltest::ab::Require::Better,
        comparison,
        start.elapsed().as_secs_f64(),
    );
}

/// Predicts the mean rating of the rows it was fitted on.
struct MeanRating(mltest::store::Card, f64);
impl MeanRating {
    fn fit(rows: &DataFrame) -> Self {
        let r = rows
            .column("Rating")
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap();
        let mean = r.f64().unwrap().mean().unwrap();
        MeanRating(
            mltest::store::Card::new(mltest::store::OutputSchema::regression("Rating")),
            mean,
        )
    }
}
impl Model for MeanRating {
    fn card(&self) -> &mltest::store::Card {
        &self.0
    }
    fn predict(&self, rows: &DataFrame) -> Result<mltest::model::Predictions, ModelError> {
        Ok(mltest::model::Predictions::regression(vec![
            self.1;
            rows.height()
        ]))
    }
}

#[test]
fn an_onnx_model_round_trips_through_the_store_and_tampering_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    let m = onnx_binary().unwrap();
    let id = m.save(&store, "sklearn").unwrap();
    let back: OnnxModel = store.load_as(&id).unwrap();
    let rows = mltest::data::load_cached(&reviews())
        .unwrap()
        .frame()
        .head(Some(100));
    assert_eq!(
        predict_checked(&back, &rows).unwrap(),
        predict_checked(&m, &rows).unwrap()
    );
    assert_eq!(back.card().kind(), Some("mltest.onnx.v1"));
    // Another graph's bytes under this card: the recorded sha256 refuses them.
    let other = onnx_regression().unwrap();
    let tensors = other.to_tensors();
    let e = OnnxModel::from_stored(back.card().clone(), tensors)
        .unwrap_err()
        .to_string();
    assert!(e.contains("refusing a tampered graph"), "{e}");
}

fn load_err(bytes: Vec<u8>, inputs: Vec<mltest::model::OnnxInput>) -> String {
    let card = mltest::store::Card::new(mltest::store::OutputSchema::binary(
        "Recommended IND",
        ["0", "1"],
        "1",
    ));
    OnnxModel::from_bytes(bytes, card, inputs, "probabilities")
        .unwrap_err()
        .to_string()
}

fn binary_inputs() -> Vec<mltest::model::OnnxInput> {
    onnx_binary().unwrap().inputs().to_vec()
}

/// Bad graphs are errors that say what is wrong, never a panic in tract.
#[test]
fn a_file_that_is_not_onnx_or_needs_a_missing_operator_is_refused() {
    let good = std::fs::read(committed("binary").0).unwrap();
    let e = load_err(good[..good.len() / 2].to_vec(), binary_inputs());
    assert!(e.contains("ONNX: not an ONNX model"), "{e}");
    let e = load_err(b"PK\x03\x04 this is a zip file".to_vec(), binary_inputs());
    assert!(e.contains("ONNX: not an ONNX model"), "{e}");
    let bad = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("onnx/bad");
    let x = vec![mltest::model::OnnxInput {
        name: "x".into(),
        columns: vec!["Age".into(), "Rating".into()],
        dtype: mltest::model::InputDtype::Float32,
    }];
    let e = load_err(std::fs::read(bad.join("mlscaler.onnx")).unwrap(), x.clone());
    assert!(
        e.contains("unsupported ONNX operator: ai.onnx.ml:Scaler (node `scaler`)"),
        "{e}"
    );
    let e = load_err(std::fs::read(bad.join("madeup_op.onnx")).unwrap(), x);
    assert!(
        e.contains("com.example.madeup:FrobnicateRows (node `frob`)"),
        "{e}"
    );
    // The card maps columns to inputs the graph does not have.
    let mut wrong = binary_inputs();
    wrong[0].name = "Age".into();
    let e = load_err(good, wrong);
    assert!(e.contains("graph inputs do not match the spec"), "{e}");
    assert!(e.contains("\"age\""), "{e}");
}
