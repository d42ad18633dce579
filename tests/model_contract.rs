//! Any model, any task, through the same path: the checks every prediction
//! passes (rows, NaN, range, sums, panics), the rules a robustness test
//! states per task (classes, tolerances), what a legal perturbed row needs
//! (facts from the card, the data, or a clear error), model fixtures run
//! once, and the store's model kinds.

use std::sync::atomic::{AtomicUsize, Ordering};

use mltest::model::{
    IntoModel, Model, ModelError, Predictions, StoredModel, TrainingFacts, predict_checked, shared,
};
use mltest::prelude::*;
use mltest::robust::{Expect, RobustError, Tolerance, Trial};
use mltest::store::{Card, InputColumn, OutputSchema, Tensor, Tensors};
use polars::prelude::*;

/// A model whose predictions are whatever the test hands it.
struct Fixed {
    card: Card,
    out: fn(usize) -> Predictions,
}

impl Model for Fixed {
    fn card(&self) -> &Card {
        &self.card
    }
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        Ok((self.out)(rows.height()))
    }
}

fn named(output: OutputSchema, name: &str) -> Card {
    let mut c = Card::new(output);
    c.name = name.into();
    c
}

fn rows(n: usize) -> DataFrame {
    df!("x" => (0..n).map(|i| i as f64).collect::<Vec<_>>()).unwrap()
}

fn err(card: Card, out: fn(usize) -> Predictions) -> String {
    predict_checked(&Fixed { card, out }, &rows(3))
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn predictions_that_break_the_card_are_errors_naming_the_model() {
    let bin = || named(OutputSchema::binary("y", ["0", "1"], "1"), "churn");
    let e = err(bin(), |_| Predictions::binary(vec![0.5; 2]));
    assert_eq!(e, "churn: returned 2 predictions for 3 rows");
    let e = err(bin(), |n| {
        let mut v = vec![0.5; n];
        v[1] = f64::NAN;
        Predictions::binary(v)
    });
    assert_eq!(
        e,
        "churn: P(positive) of row 1 is NaN; a probability is in [0, 1]"
    );
    let e = err(bin(), |n| Predictions::binary(vec![1.5; n]));
    assert_eq!(
        e,
        "churn: P(positive) of row 0 is 1.5; a probability is in [0, 1]"
    );
    let e = err(bin(), |n| Predictions::regression(vec![1.0; n]));
    assert_eq!(
        e,
        "churn: its card says it is a binary classifier, but it returned the predictions of a regressor"
    );
    let multi = || named(OutputSchema::multiclass("dept", ["a", "b", "c"]), "dept");
    let e = err(multi(), |n| {
        Predictions::multiclass(vec![vec![0.5, 0.5]; n])
    });
    assert_eq!(
        e,
        "dept: returned 2 probabilities per row, but its card lists 3 classes (a, b, c)"
    );
    let e = err(multi(), |n| {
        Predictions::multiclass(vec![vec![0.5, 0.3, 0.1]; n])
    });
    assert_eq!(
        e,
        "dept: the class probabilities of row 0 sum to 0.9, not 1"
    );
    let reg = named(OutputSchema::regression("rating"), "rating");
    let e = err(reg, |n| Predictions::regression(vec![f64::INFINITY; n]));
    assert_eq!(
        e,
        "rating: the prediction of row 0 is inf; a regressor predicts finite numbers"
    );
}

struct Panics(Card);
impl Model for Panics {
    fn card(&self) -> &Card {
        &self.0
    }
    fn predict(&self, _: &DataFrame) -> Result<Predictions, ModelError> {
        panic!("weights not loaded")
    }
}

#[test]
fn a_panicking_model_is_an_error_of_the_check_not_a_crash_or_a_pass() {
    let model = Panics(named(OutputSchema::binary("y", ["0", "1"], "1"), "fragile"));
    let e = predict_checked(&model, &rows(2)).unwrap_err().to_string();
    assert_eq!(e, "fragile panicked while predicting: weights not loaded");
    let data = Dataset::from_frame("d", rows(50));
    let p = Perturb::new().numeric("x", noise(1.0));
    let e = Trial::new(&model, &data, &p).cases(10).run().unwrap_err();
    assert!(
        matches!(e, RobustError::Model(ModelError::Panicked { .. })),
        "{e}"
    );
}

/// Positive when x > 20 (binary), class by x / 20 (multiclass), x itself (regression).
struct ByX(Card);
impl Model for ByX {
    fn card(&self) -> &Card {
        &self.0
    }
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        let x = rows.column("x").unwrap().cast(&DataType::Float64).unwrap();
        let x: Vec<f64> = x.f64().unwrap().into_no_null_iter().collect();
        Ok(match self.0.output.task {
            Task::Binary => Predictions::binary(x.iter().map(|v| f64::from(*v > 20.0)).collect()),
            Task::Multiclass => Predictions::multiclass(
                x.iter()
                    .map(|v| {
                        let c = ((*v / 20.0) as usize).min(2);
                        let mut p = vec![0.1, 0.1, 0.1];
                        p[c] = 0.8;
                        p
                    })
                    .collect(),
            ),
            Task::Regression => Predictions::regression(x),
        })
    }
}

/// x = 0.0, 0.1, ..., 59.9.
fn xs() -> Dataset {
    Dataset::from_frame(
        "xs",
        df!("x" => (0..600).map(|i| f64::from(i) / 10.0).collect::<Vec<_>>()).unwrap(),
    )
}

#[test]
fn each_task_flips_in_its_own_way() {
    let data = xs();
    let p = Perturb::new().numeric("x", noise(3.0));
    // Regression: with a tolerance of 3 no case moves by more than the noise.
    let reg = ByX(named(OutputSchema::regression("x"), "reg"));
    let none = Trial::new(&reg, &data, &p)
        .cases(600)
        .seed(1)
        .tolerance(Tolerance::Absolute(3.0))
        .run()
        .unwrap();
    assert_eq!(none.flips, 0);
    assert_eq!(
        none.measure,
        "share of predictions that moved by more than 3"
    );
    assert_eq!(none.score, "prediction");
    // ... and with a tolerance of 0 every case that moved counts.
    let all = Trial::new(&reg, &data, &p)
        .cases(600)
        .seed(1)
        .tolerance(Tolerance::Absolute(0.0))
        .run()
        .unwrap();
    assert!(all.flips > 590, "{} of 600 moved", all.flips);
    // Multiclass: a flip is a change of the predicted class, only within
    // the noise (3) of the class boundaries at 20 and 40: at most 120 rows.
    let multi = ByX(named(
        OutputSchema::multiclass("band", ["low", "mid", "high"]),
        "band",
    ));
    let r = Trial::new(&multi, &data, &p)
        .cases(600)
        .seed(1)
        .run()
        .unwrap();
    assert!(r.flips > 20 && r.flips <= 120, "{} flips", r.flips);
    for e in &r.examples {
        assert_ne!(e.class_before, e.class_after, "{e:?}");
    }
    // A direction test names the class it watches.
    let up = Trial::new(&multi, &data, &p)
        .cases(600)
        .seed(1)
        .expect(Expect::NoIncrease)
        .class("high")
        .run()
        .unwrap();
    assert_eq!(up.score, "P(high)");
    // P(high) rises only where "mid" became "high" (near 40), and not on
    // the flips near 20: fewer than all flips.
    assert!(
        up.flips > 5 && up.flips < r.flips,
        "{} vs {}",
        up.flips,
        r.flips
    );
}

#[test]
fn a_test_that_does_not_fit_the_task_is_refused_before_any_case_runs() {
    let data = xs();
    let p = Perturb::new().numeric("x", noise(3.0));
    let reg = ByX(named(OutputSchema::regression("x"), "reg"));
    let e = Trial::new(&reg, &data, &p).run().unwrap_err().to_string();
    assert!(
        e.starts_with("reg: it is a regressor: say how far a prediction may move"),
        "{e}"
    );
    let multi = ByX(named(
        OutputSchema::multiclass("band", ["low", "mid", "high"]),
        "band",
    ));
    let e = Trial::new(&multi, &data, &p)
        .expect(Expect::NoDecrease)
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("add `class = \"...\"` (one of low, mid, high)"),
        "{e}"
    );
    let e = Trial::new(&multi, &data, &p)
        .expect(Expect::NoDecrease)
        .class("top")
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`class = \"top\"` is not one of its classes"),
        "{e}"
    );
    let bin = ByX(named(OutputSchema::binary("y", ["0", "1"], "1"), "bin"));
    let e = Trial::new(&bin, &data, &p)
        .tolerance(Tolerance::Relative(0.1))
        .run()
        .unwrap_err()
        .to_string();
    assert!(e.contains("`tolerance` is for regressors"), "{e}");
}

#[test]
fn noise_in_training_deviations_needs_them_from_the_card_or_the_data() {
    let data = xs();
    let p = Perturb::new().numeric("x", noise_std(0.5));
    let bin = ByX(named(OutputSchema::binary("y", ["0", "1"], "1"), "bin"));
    let e = Trial::new(&bin, &data, &p).run().unwrap_err().to_string();
    assert!(
        e.starts_with("bin: noise_std(0.5) on \"x\" scales by the training standard deviation"),
        "{e}"
    );
    // From the card ...
    let mut card = named(OutputSchema::binary("y", ["0", "1"], "1"), "bin");
    card.inputs.push(InputColumn {
        name: "x".into(),
        dtype: DType::Numeric,
        categories: None,
        range: Some((0.0, 59.9)),
        nullable: false,
        std: Some(4.0),
    });
    let with_card = ByX(card);
    assert_eq!(with_card.facts().stds["x"], 4.0);
    assert!(Trial::new(&with_card, &data, &p).cases(20).run().is_ok());
    // ... or from the data (the sample standard deviation of 0.0..59.9, as
    // Python's statistics.stdev: 17.3349).
    let facts = TrainingFacts::from_data(&data);
    assert!((facts.stds["x"] - 17.334935823359714).abs() < 1e-9);
    assert!(
        Trial::new(&bin, &data, &p)
            .facts(&facts)
            .cases(20)
            .run()
            .is_ok()
    );
    // A swap needs the categories.
    let cats = Dataset::from_frame(
        "c",
        df!("x" => [1.0, 2.0], "dept" => ["Tops", "Dresses"]).unwrap(),
    );
    let swap = Perturb::new().swap_category("dept");
    let e = Trial::new(&bin, &cats, &swap)
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("swap_category(\"dept\") picks another category seen in training"),
        "{e}"
    );
}

static BUILT: AtomicUsize = AtomicUsize::new(0);

fn counted() -> ByX {
    BUILT.fetch_add(1, Ordering::SeqCst);
    ByX(named(OutputSchema::binary("y", ["0", "1"], "1"), "counted"))
}

fn failing() -> Result<ByX, String> {
    Err("the weights are not downloaded".into())
}

#[test]
fn a_model_fixture_runs_once_and_its_failure_names_it() {
    let a = shared(counted).unwrap();
    let b = shared(counted).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a.model, &b.model));
    assert_eq!(BUILT.load(Ordering::SeqCst), 1);
    assert_eq!(a.id, "counted");
    let e = shared(failing).unwrap_err().to_string();
    assert_eq!(
        e,
        "model fixture `model_contract::failing`: the weights are not downloaded"
    );
    assert!(Box::new(counted()).into_model().is_ok());
}

/// y = a·x, stored as one tensor.
struct Scale {
    card: Card,
    a: f64,
}
impl Model for Scale {
    fn card(&self) -> &Card {
        &self.card
    }
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        let x = rows.column("x").unwrap().cast(&DataType::Float64).unwrap();
        Ok(Predictions::regression(
            x.f64()
                .unwrap()
                .into_no_null_iter()
                .map(|v| v * self.a)
                .collect(),
        ))
    }
}
impl StoredModel for Scale {
    const KIND: &'static str = "model_contract.scale.v1";
    fn to_tensors(&self) -> Tensors {
        Tensors::from([("a".to_string(), Tensor::f64(vec![1], &[self.a]))])
    }
    fn from_stored(card: Card, t: Tensors) -> Result<Self, ModelError> {
        let a = t["a"].to_f64().unwrap()[0];
        Ok(Scale { card, a })
    }
}
mltest::register_model_kind!(Scale);

#[test]
fn any_model_type_round_trips_through_the_store_with_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path());
    let m = Scale {
        card: Card::new(OutputSchema::regression("y")),
        a: 2.5,
    };
    let id = m.save(&store, "scale").unwrap();
    let back: Scale = store.load_as(&id).unwrap();
    assert_eq!(back.a, 2.5);
    assert_eq!(back.card().kind(), Some("model_contract.scale.v1"));
    assert_eq!(back.card().output.task, Task::Regression);
    // By id, as `model = "scale@1"` loads it: the registered kind rebuilds it.
    let (any, version) = mltest::model::load_any(&store, "scale@1").unwrap();
    assert_eq!(version.card.id(), "scale@1");
    let p = predict_checked(&*any, &rows(3)).unwrap();
    assert_eq!(p, Predictions::regression(vec![0.0, 2.5, 5.0]));
    // Loading it as another type is refused.
    let e = store
        .load_as::<mltest::model::ReferenceModel>(&id)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "stored model is not a mltest.reference_logistic.v1: scale@1 was saved as kind \"model_contract.scale.v1\""
    );
    // A kind no type in the binary registers is named, with the known ones.
    let mut card = Card::new(OutputSchema::regression("y"));
    card.pipeline = serde_json::json!({"kind": "someone_else.v9"});
    store.save("alien", card, &Tensors::new()).unwrap();
    let e = mltest::model::load_any(&store, "alien@1")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("alien@1 is of kind \"someone_else.v9\", which no type in this binary loads")
            && e.contains("mltest.reference_logistic.v1")
            && e.contains("model_contract.scale.v1"),
        "{e}"
    );
}
