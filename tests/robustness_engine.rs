//! The flip-rate runner itself, on a model trained on generated data:
//! determinism per seed, shrinking to a minimal edit, and the interval.

use mltest::data::generator::ReviewsSpec;
use mltest::model::ReferenceModel;
use mltest::model::train::{TrainConfig, train};
use mltest::prelude::*;
use mltest::robust::{CellChange, TrainingFacts, Trial};

fn setup() -> (ReferenceModel, Dataset) {
    let src = DataSource::generated(ReviewsSpec::new(2_000, 8));
    let data = (*mltest::data::load_cached(&src).unwrap()).clone();
    let config = TrainConfig {
        buckets: 64,
        max_iterations: 40,
        ..TrainConfig::reviews()
    };
    let model = train(data.frame(), &config, data.info()).unwrap();
    (model, data)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j - 1] + usize::from(a[i - 1] != b[j - 1]))
                .min(prev[j] + 1)
                .min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[test]
fn the_same_seed_gives_the_same_result_and_another_seed_another() {
    let (model, data) = setup();
    let facts = mltest::model::Model::facts(&model);
    let p = Perturb::new()
        .text("Review Text", typos(1..=3))
        .numeric("Age", noise(5.0));
    let run = |seed| {
        Trial::new(&model, &data, &p)
            .facts(&facts)
            .cases(500)
            .seed(seed)
            .examples(3)
            .run()
            .unwrap()
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert_eq!(
        (a.cases, a.flips, &a.examples),
        (b.cases, b.flips, &b.examples)
    );
    assert_eq!(a.rate, a.flips as f64 / 500.0);
    assert_eq!(
        a.interval,
        mltest::stats::wilson(a.flips, 500, mltest::stats::Z95)
    );
    assert!(
        a.flips > 0,
        "the generated model must flip on some typos for this test to mean anything"
    );
    assert_ne!(
        (a.flips, &a.examples),
        (c.flips, &c.examples),
        "another seed samples other rows and edits"
    );
}

/// A model with a known weakness: it says "recommend" exactly when the
/// review contains a `q` (no generated word has one). The minimal flipping
/// edit is therefore one typo that puts a `q` in, and shrinking moves the
/// position to the start of the text.
struct FlipsOnQ(mltest::store::Card);

impl mltest::model::Model for FlipsOnQ {
    fn card(&self) -> &mltest::store::Card {
        &self.0
    }
    fn predict(
        &self,
        rows: &polars::prelude::DataFrame,
    ) -> Result<mltest::model::Predictions, mltest::model::ModelError> {
        let text = rows.column("Review Text").unwrap().str().unwrap().clone();
        Ok(mltest::model::Predictions::Binary(
            text.iter()
                .map(|t| {
                    if t.unwrap_or("").contains('q') {
                        0.9
                    } else {
                        0.1
                    }
                })
                .collect(),
        ))
    }
}

#[test]
fn flipping_examples_are_shrunk_to_a_minimal_edit() {
    let (_, data) = setup();
    let model = FlipsOnQ(mltest::store::Card::new(
        mltest::store::OutputSchema::binary("Recommended IND", ["0", "1"], "1"),
    ));
    let p = Perturb::new().text("Review Text", typos(1..=3));
    let r = Trial::new(&model, &data, &p)
        .facts(&TrainingFacts::default())
        .cases(1_000)
        .seed(3)
        .examples(5)
        .run()
        .unwrap();
    assert!(r.flips > 5, "{} flips", r.flips);
    assert_eq!(r.examples.len(), 5);
    for e in &r.examples {
        let CellChange { before, after, .. } = &e.changes[0];
        let (before, after): (String, String) = (
            serde_json::from_str(before).unwrap(),
            serde_json::from_str(after).unwrap(),
        );
        assert!(!before.contains('q') && after.contains('q'));
        // One edit, at position 0: a `q` inserted before or substituted for the first character.
        assert!(
            after == format!("q{before}") || after == format!("q{}", &before[1..]),
            "not minimal: {before:?} → {after:?}"
        );
        assert!(e.shrink_steps > 0);
        assert_eq!((e.p_before, e.p_after), (0.1, 0.9));
    }
}

/// On the trained reference model, shrunk examples still flip and are no
/// larger than what the strategy allowed.
#[test]
fn shrunk_examples_of_a_real_model_still_flip() {
    let (model, data) = setup();
    let facts = mltest::model::Model::facts(&model);
    let p = Perturb::new().text("Review Text", typos(1..=3));
    let r = Trial::new(&model, &data, &p)
        .facts(&facts)
        .cases(1_000)
        .seed(3)
        .examples(5)
        .run()
        .unwrap();
    assert!(!r.examples.is_empty());
    for e in &r.examples {
        let CellChange { before, after, .. } = &e.changes[0];
        assert!(edit_distance(before, after) <= 6, "{before} → {after}");
        assert!(
            (e.p_before >= 0.5) != (e.p_after >= 0.5),
            "a shrunk example still flips: {e:?}"
        );
    }
}

#[test]
fn a_missing_perturbed_column_is_a_clear_error() {
    let (model, data) = setup();
    let facts = mltest::model::Model::facts(&model);
    let p = Perturb::new().text("Review Txt", typos(1..=1));
    let e = Trial::new(&model, &data, &p)
        .facts(&facts)
        .cases(10)
        .seed(1)
        .examples(1)
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the perturbed column \"Review Txt\" is not in the data"),
        "{e}"
    );
}

/// `baseline`: a model more fragile than its baseline by more than the margin
/// fails, and the report shows both rates on the same cases.
#[test]
fn a_candidate_more_fragile_than_its_baseline_fails() {
    use mltest::check::{RobustnessCheck, Site, evaluate_robustness_on};
    use mltest::model::{ModelRef, StoredModel};
    use mltest::robust::Expect;
    let (robust, data) = setup();
    let dir = tempfile::tempdir().unwrap();
    let store = mltest::store::ModelStore::open(dir.path());
    robust.save(&store, "m").unwrap();
    // Eight hashed buckets: almost every typo moves a token into another bucket's weight.
    let config = TrainConfig {
        buckets: 8,
        max_iterations: 40,
        ..TrainConfig::reviews()
    };
    let fragile = train(data.frame(), &config, data.info()).unwrap();
    fragile.save(&store, "m").unwrap();
    fn perturb(p: Perturb) -> Perturb {
        p.text("Review Text", typos(3..=3))
    }
    fn generated() -> DataSource {
        DataSource::generated(ReviewsSpec::new(2_000, 8))
    }
    let check = RobustnessCheck {
        site: Site {
            name: "fragile",
            module_path: "robustness_engine",
            file: file!(),
            line: line!(),
            reason: "test",
            severity: mltest::expect::Severity::Fail,
            attrs: mltest::check::TestAttrs::default(),
        },
        max_flip_rate: 1.0,
        cases: 1_000,
        budget: None,
        confidence: None,
        model: ModelRef::Id("m@1"),
        class: None,
        tolerance: None,
        data: Some(generated),
        seed: Some(5),
        examples: 1,
        expect_failure: false,
        expect: Expect::NoFlip,
        baseline: Some(ModelRef::Id("m@2")),
        margin: 0.005,
        body: perturb,
    };
    let run = evaluate_robustness_on(&check, &store, None);
    let rate = run.result.as_ref().unwrap().rate;
    let base = run.baseline.as_ref().unwrap().result.as_ref().unwrap().rate;
    assert!(
        rate > base + 0.005,
        "m@1 must be more fragile than m@2: {rate} vs {base}"
    );
    assert!(!run.passed());
    assert!(
        run.report()
            .contains("baseline: m@2 0 (0 of 1,000) on the same cases"),
        "{}",
        run.report()
    );
    // The other way round it passes.
    let check = RobustnessCheck {
        model: ModelRef::Id("m@2"),
        baseline: Some(ModelRef::Id("m@1")),
        ..check
    };
    assert!(evaluate_robustness_on(&check, &store, None).passed());
}

/// The failing path on the real model: a zero tolerance for typos fails with
/// shrunk examples (kept out of the project suite `tests/robustness.rs`, whose
/// checks the pipeline runs and the report shows).
#[robustness(
    reason = "Demonstrates the failure report: no model is immune to every typo.",
    max_flip_rate = 0.0,
    cases = 300,
    model = "reviews@1",
    data = reviews
)]
#[should_panic(expected = "minimal flipping examples")]
fn zero_tolerance_for_typos_fails_with_shrunk_examples(p: Perturb) -> Perturb {
    p.text("Review Text", typos(1..=3))
}
