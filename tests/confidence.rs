//! Verdicts that say how sure they are, end to end through the
//! `#[robustness]` runner: a synthetic model flips each perturbed case with
//! a known probability p, and over 500 seeds the wrong verdicts stay under
//! the stated error — for `confidence = 0.95` on a fixed number of cases
//! and for `cases = "auto"` rounds, which stop when an always-valid
//! sequential test decides (peeking after every round keeps the error).

use mltest::check::{RobustnessCheck, RobustnessRun, Site, TestAttrs, evaluate_robustness_on};
use mltest::model::{Model, ModelError, ModelHandle, ModelRef, Predictions};
use mltest::prelude::*;
use mltest::robust::{Expect, RateOutcome};
use mltest::store::{Card, OutputSchema};
use polars::prelude::*;

/// Class 0 on unperturbed rows (integral x); a perturbed row (x moved off
/// the integers by the noise) is class 1 when a hash of its value, read as
/// a uniform number, falls under `p`: each case flips with probability p,
/// independently.
struct FlipsWith {
    card: Card,
    p: f64,
}

impl Model for FlipsWith {
    fn card(&self) -> &Card {
        &self.card
    }
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        let x = rows
            .column("x")
            .map_err(|e| ModelError::Input(e.to_string()))?;
        let x = x.f64().map_err(|e| ModelError::Input(e.to_string()))?;
        Ok(Predictions::binary(
            x.into_no_null_iter()
                .map(|v| {
                    if v.fract() == 0.0 {
                        return 0.0;
                    }
                    let mut z = v.to_bits().wrapping_add(0x9E37_79B9_7F4A_7C15);
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
                    f64::from(u < self.p)
                })
                .collect(),
        ))
    }
}

fn synthetic(p: f64) -> Result<ModelHandle, ModelError> {
    let mut card = Card::new(OutputSchema::binary("y", ["0", "1"], "1"));
    card.name = format!("flips-{p}");
    Ok(ModelHandle::new(FlipsWith { card, p }))
}

/// 40,000 rows: more than any budget here, so rounds never run out of rows.
fn rows() -> DataSource {
    DataSource::frame(
        "integers",
        df!("x" => (0..40_000).map(f64::from).collect::<Vec<_>>()).unwrap(),
    )
}

fn perturb(p: Perturb) -> Perturb {
    p.numeric("x", noise(0.5))
}

const MAX: f64 = 0.04;

fn check(model: ModelRef, budget: Option<usize>, cases: usize) -> RobustnessCheck {
    RobustnessCheck {
        site: Site {
            name: "synthetic",
            module_path: "confidence",
            file: file!(),
            line: line!(),
            reason: "calibration",
            severity: mltest::expect::Severity::Fail,
            attrs: TestAttrs::default(),
        },
        max_flip_rate: MAX,
        cases,
        budget,
        confidence: Some(0.95),
        model,
        class: None,
        tolerance: None,
        data: Some(rows),
        seed: None,
        examples: 0,
        expect_failure: false,
        expect: Expect::NoFlip,
        baseline: None,
        margin: 0.0,
        body: perturb,
    }
}

const LOW: ModelRef = ModelRef::Fixture {
    name: "flips_at_half_the_max",
    load: || synthetic(0.5 * MAX),
};
const HIGH: ModelRef = ModelRef::Fixture {
    name: "flips_at_one_and_a_half_the_max",
    load: || synthetic(1.5 * MAX),
};

/// (wrong, inconclusive, mean cases) over `seeds` runs.
fn calibrate(base: &RobustnessCheck, truth: RateOutcome, seeds: u64) -> (f64, f64, f64) {
    let store = ModelStore::open(tempfile::tempdir().unwrap().path());
    let (mut wrong, mut open, mut cases) = (0, 0, 0u64);
    for seed in 0..seeds {
        let c = RobustnessCheck {
            seed: Some(seed),
            ..*base
        };
        let run: RobustnessRun = evaluate_robustness_on(&c, &store, None);
        let r = run.result.as_ref().expect("the run measures");
        let d = run.decision.as_ref().expect("the run decides");
        cases += r.cases;
        match d.outcome {
            RateOutcome::Inconclusive => open += 1,
            o if o != truth => wrong += 1,
            _ => {}
        }
    }
    let n = seeds as f64;
    (wrong as f64 / n, open as f64 / n, cases as f64 / n)
}

#[test]
fn adaptive_rounds_are_wrong_at_most_as_often_as_the_confidence_allows() {
    for (model, truth) in [(LOW, RateOutcome::Pass), (HIGH, RateOutcome::Fail)] {
        let (wrong, open, mean) = calibrate(&check(model, Some(20_000), 100), truth, 500);
        println!(
            "adaptive, p = {}: wrong {wrong}, inconclusive {open}, mean cases {mean:.0}",
            model.name()
        );
        assert!(wrong <= 0.05, "{}: wrong verdicts {wrong}", model.name());
        // At 0.5x and 1.5x the maximum the budget of 20,000 is ample.
        assert!(open <= 0.01, "{}: inconclusive {open}", model.name());
        assert!(mean < 3_000.0, "{}: mean cases {mean}", model.name());
    }
}

#[test]
fn a_fixed_sample_at_a_confidence_is_inconclusive_rather_than_wrong() {
    for (model, truth) in [(LOW, RateOutcome::Pass), (HIGH, RateOutcome::Fail)] {
        let (wrong, open, _) = calibrate(&check(model, None, 500), truth, 500);
        println!(
            "fixed 500, {}: wrong {wrong}, inconclusive {open}",
            model.name()
        );
        assert!(wrong <= 0.05, "{}: wrong verdicts {wrong}", model.name());
        // 500 cases cannot separate 2% or 6% from 4% every time: a share
        // of the runs must say so instead of guessing.
        assert!(open > 0.1, "{}: inconclusive {open}", model.name());
    }
}

#[test]
fn an_inconclusive_verdict_fails_the_test_and_says_how_many_cases_would_decide() {
    // 100 cases of a 6% model against a 4% maximum: most seeds cannot
    // decide. Every inconclusive run must fail its test and say so; one whose
    // rate is not exactly the maximum must also say how many cases would
    // decide (at the maximum itself, no number does, and it says that).
    let mut with_count = 0;
    for seed in 1..=20 {
        let c = RobustnessCheck {
            seed: Some(seed),
            ..check(HIGH, None, 100)
        };
        let run = evaluate_robustness_on(&c, &ModelStore::open("unused"), None);
        let d = run.decision.as_ref().unwrap();
        if d.outcome != RateOutcome::Inconclusive {
            continue;
        }
        assert!(!run.passed() && run.fails_test());
        let report = run.report();
        assert!(
            report.starts_with("robustness `synthetic` inconclusive"),
            "{report}"
        );
        assert_eq!(run.record().verdict, mltest::record::Verdict::Error);
        let rate = run.result.as_ref().unwrap().rate;
        if (rate - 0.04).abs() > 1e-12 {
            assert!(report.contains("cases would decide"), "{report}");
            with_count += 1;
        } else {
            assert!(report.contains("no number of cases decides"), "{report}");
        }
    }
    assert!(
        with_count >= 5,
        "{with_count} of 20 seeds inconclusive off the maximum"
    );
}
