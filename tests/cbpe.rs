//! Performance without labels (CBPE) on the project's seeded generator, with
//! a planted covariate shift.
//!
//! The generator draws the label first and then the words (sentiment words
//! are 16% of a text and agree with the label 85% of the time), so the
//! exact P(recommended | text) is known: prior odds 0.82/0.18 times
//! (0.85/0.15) per agreeing word. That scorer is calibrated by construction.
//! The shift is shorter reviews (2–6 words instead of 8–60): the inputs
//! change, P(label | input) does not (a review's length does not depend on
//! its label), and with less text the model is right less often. CBPE must
//! see the drop without labels, and the realised figure must land in its
//! interval.

use mltest::data::generator::{NEGATIVE, POSITIVE, ReviewsSpec};
use mltest::monitor::Cbpe;
use polars::prelude::*;

/// The generator's exact log-odds of `Recommended IND` given the title and
/// review text.
fn log_odds(frame: &DataFrame) -> Vec<f64> {
    let per_word = (0.85f64 / 0.15).ln();
    let prior = (0.82f64 / 0.18).ln();
    let text = |c: &str| frame.column(c).unwrap().str().unwrap().clone();
    let (title, review) = (text("Title"), text("Review Text"));
    title
        .iter()
        .zip(review.iter())
        .map(|(t, r)| {
            let words = t.unwrap_or("").split(' ').chain(r.unwrap_or("").split(' '));
            prior
                + words
                    .map(|w| w.trim_end_matches('.').to_lowercase())
                    .map(|w| {
                        if POSITIVE.contains(&w.as_str()) {
                            per_word
                        } else if NEGATIVE.contains(&w.as_str()) {
                            -per_word
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
        })
        .collect()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

struct Batch {
    logits: Vec<f64>,
    labels: Vec<bool>,
}

fn batch(spec: ReviewsSpec) -> Batch {
    let frame = spec.generate().unwrap();
    Batch {
        logits: log_odds(&frame),
        labels: mltest::monitor::labels(&frame, "Recommended IND").unwrap(),
    }
}

fn shorter(rows: usize, seed: u64) -> ReviewsSpec {
    ReviewsSpec {
        review_words: (2, 6),
        ..ReviewsSpec::new(rows, seed)
    }
}

fn scores(b: &Batch, scale: f64) -> Vec<f64> {
    b.logits.iter().map(|z| sigmoid(scale * z)).collect()
}

#[test]
fn the_estimate_tracks_a_planted_covariate_shift_within_its_interval() {
    let reference = batch(ReviewsSpec::new(6_000, 1));
    let (same, shifted) = (batch(ReviewsSpec::new(4_000, 2)), batch(shorter(4_000, 3)));
    let cbpe = Cbpe::fit(&scores(&reference, 1.0), &reference.labels, 0.5).unwrap();
    // Calibrated by construction: the cross-validated calibrator does not
    // beat the raw scores by much, whichever way the rule goes.
    assert!(
        cbpe.calibration.raw.expected_calibration_error < 0.02,
        "{:?}",
        cbpe.calibration
    );

    let unshifted = cbpe.estimate(&scores(&same, 1.0)).unwrap();
    let realized = unshifted.realized(&same.labels).unwrap();
    assert!(realized.accuracy_within, "{unshifted:?}\n{realized:?}");
    assert_eq!(
        realized.f1_within,
        Some(true),
        "{unshifted:?}\n{realized:?}"
    );
    // Without shift the estimate is the reference's accuracy.
    assert!(
        (unshifted.accuracy - cbpe.reference_accuracy).abs() < 0.01,
        "estimate {} vs reference {}",
        unshifted.accuracy,
        cbpe.reference_accuracy
    );

    let drifted = cbpe.estimate(&scores(&shifted, 1.0)).unwrap();
    let after = drifted.realized(&shifted.labels).unwrap();
    // The planted shift does lower accuracy, by several points …
    assert!(
        after.accuracy < realized.accuracy - 0.05,
        "realised {} after the shift, {} before",
        after.accuracy,
        realized.accuracy
    );
    // … and the estimate, made without a single label, sees it.
    assert!(after.accuracy_within, "{drifted:?}\n{after:?}");
    assert_eq!(after.f1_within, Some(true), "{drifted:?}\n{after:?}");
    assert!(drifted.accuracy < unshifted.accuracy - 0.05);
    // The interval is the sampling spread of 4,000 rows, not a blanket.
    assert!(drifted.accuracy_high - drifted.accuracy_low < 0.03);
}

#[test]
fn an_overconfident_model_is_calibrated_on_the_reference_first() {
    // The same ranking, three times the log-odds: P = 0.99 where the truth
    // is 0.82. The reference has reviews of 2-12 words, so that many scores
    // are far from 0 and 1 (on 8-60 words nearly every score is, and even
    // an overconfident model is right about them).
    let reference = batch(ReviewsSpec {
        review_words: (2, 12),
        ..ReviewsSpec::new(6_000, 4)
    });
    let shifted = batch(shorter(4_000, 5));
    let cbpe = Cbpe::fit(&scores(&reference, 3.0), &reference.labels, 0.5).unwrap();
    let check = &cbpe.calibration;
    assert!(check.calibrated, "{check:?}");
    assert!(
        check.raw.expected_calibration_error > 0.05
            && check.cross_validated_ece < check.raw.expected_calibration_error / 2.0,
        "{check:?}"
    );
    let s = scores(&shifted, 3.0);
    let est = cbpe.estimate(&s).unwrap();
    let realized = est.realized(&shifted.labels).unwrap();
    assert!(realized.accuracy_within, "{est:?}\n{realized:?}");
    // Taken at face value, the raw scores promise far more than they deliver.
    let naive = s.iter().map(|p| p.max(1.0 - p)).sum::<f64>() / s.len() as f64;
    assert!(
        naive > est.accuracy_high + 0.03,
        "naive {naive}, calibrated [{}, {}], realised {}",
        est.accuracy_low,
        est.accuracy_high,
        realized.accuracy
    );
}

#[test]
fn an_estimate_is_a_recorded_check_with_a_three_way_verdict() {
    let reference = batch(ReviewsSpec::new(3_000, 6));
    let cbpe = Cbpe::fit(&scores(&reference, 1.0), &reference.labels, 0.5).unwrap();
    let shifted = batch(shorter(2_000, 7));
    let est = cbpe.estimate(&scores(&shifted, 1.0)).unwrap();
    let reason = "Accuracy must stay above 0.9 on production batches; labels come weeks later.";
    let record = mltest::check::performance_record(
        &est,
        "an_estimate_is_a_recorded_check_with_a_three_way_verdict",
        reason,
        0.9,
        "bayes-scorer",
        file!(),
        line!(),
    );
    assert_eq!(record.kind, mltest::record::CheckKind::Performance);
    assert_eq!(
        record.verdict,
        mltest::record::Verdict::Fail,
        "{}",
        record.report
    );
    assert_eq!(record.observed, Some(est.accuracy));
    for needle in ["estimated accuracy >= 0.9", "reference: accuracy", reason] {
        assert!(
            record.report.contains(needle),
            "{needle:?} in\n{}",
            record.report
        );
    }
    // Straddling the minimum is undecided, not a pass.
    let middle = mltest::check::performance_verdict(&est, est.accuracy);
    assert_eq!(middle, mltest::record::Verdict::Inconclusive);
    // JSON round trip: the record reads back with its estimate.
    let json = serde_json::to_string(&record).unwrap();
    let back: mltest::record::Record = serde_json::from_str(&json).unwrap();
    let mltest::record::Details::Performance(e) = &back.details else {
        panic!("a performance record");
    };
    assert_eq!(e.accuracy, est.accuracy);
    mltest::check::publish_records(std::slice::from_ref(&record));
    assert!(
        e.realized(&shifted.labels).is_err(),
        "no scores after a round trip"
    );
}

#[test]
fn bad_input_is_an_error_that_says_what() {
    let e = Cbpe::fit(&[0.5; 50], &[true; 50], 0.5)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("50 labelled reference rows, at least 100"),
        "{e}"
    );
    let labels: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect();
    let mut s = vec![0.3; 200];
    s[17] = f64::NAN;
    let e = Cbpe::fit(&s, &labels, 0.5).unwrap_err().to_string();
    assert!(e.contains("row 17 is NaN"), "{e}");
    s[17] = 1.2;
    let e = Cbpe::fit(&s, &labels, 0.5).unwrap_err().to_string();
    assert!(e.contains("row 17 is 1.2") && e.contains("[0, 1]"), "{e}");
    let e = Cbpe::fit(&[0.3; 200], &[true; 200], 0.5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("all positive"), "{e}");
    let e = Cbpe::fit(&[0.3; 200], &labels[..150], 0.5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("150 values for 200 scores"), "{e}");
    let cbpe = Cbpe::fit(&[0.3; 200], &labels, 0.5).unwrap();
    assert!(
        cbpe.estimate(&[])
            .unwrap_err()
            .to_string()
            .contains("the batch is empty")
    );
    let frame = df!("Recommended IND" => [Some(1i64), None]).unwrap();
    let e = mltest::monitor::labels(&frame, "Recommended IND")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"Recommended IND\"") && e.contains("row 1 is null"),
        "{e}"
    );
    let e = mltest::monitor::labels(&frame, "Label")
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"Label\": not in the reference frame"), "{e}");
}
