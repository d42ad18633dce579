//! Performance without labels: a batch's CBPE estimate against a minimum
//! accuracy, recorded from a plain `#[test]` (or a monitoring job) so that
//! JUnit, the report and the metric history carry it.

use crate::expect::Bound;
use crate::monitor::PerformanceEstimate;
use crate::record::{Details, Record, Threshold, Verdict};
use crate::text::fig;

/// The verdict of an estimate against `min_accuracy`: pass when the whole
/// interval is at or above it, fail when the whole interval is below it,
/// inconclusive when the interval straddles it (the batch is too small to
/// tell, and saying "pass" would be a guess).
///
/// ```
/// use mltest_core::check::performance_verdict;
/// use mltest_core::monitor::Cbpe;
/// use mltest_core::record::Verdict;
/// let mut rng = mltest_core::rng::SplitMix64::new(3);
/// let scores: Vec<f64> = (0..1_000).map(|_| rng.unit()).collect();
/// let labels: Vec<bool> = scores.iter().map(|s| rng.unit() < *s).collect();
/// let est = Cbpe::fit(&scores, &labels, 0.5).unwrap().estimate(&scores).unwrap();
/// assert_eq!(performance_verdict(&est, 0.5), Verdict::Pass);
/// assert_eq!(performance_verdict(&est, 0.95), Verdict::Fail);
/// assert_eq!(performance_verdict(&est, est.accuracy), Verdict::Inconclusive);
/// ```
pub fn performance_verdict(estimate: &PerformanceEstimate, min_accuracy: f64) -> Verdict {
    if estimate.accuracy_low >= min_accuracy {
        Verdict::Pass
    } else if estimate.accuracy_high < min_accuracy {
        Verdict::Fail
    } else {
        Verdict::Inconclusive
    }
}

/// A record of `estimate` for reports, JUnit and the history: the
/// estimated accuracy against `min_accuracy` (see [`performance_verdict`]).
pub fn performance_record(
    estimate: &PerformanceEstimate,
    test: &str,
    reason: &str,
    min_accuracy: f64,
    model: &str,
    file: &str,
    line: u32,
) -> Record {
    let verdict = performance_verdict(estimate, min_accuracy);
    Record {
        verdict,
        description: format!(
            "estimated accuracy (CBPE) >= {} on {} unlabelled rows",
            fig(min_accuracy),
            estimate.rows
        ),
        observed: Some(estimate.accuracy),
        threshold: Threshold::Bound(Bound::AtLeast { min: min_accuracy }),
        model: Some(model.to_string()),
        file: file.to_string(),
        line,
        report: performance_report(estimate, test, reason, min_accuracy, verdict),
        ..Record::new(
            test,
            "estimated_accuracy".into(),
            reason,
            Details::Performance(Box::new(estimate.clone())),
        )
    }
}

/// The failure message: estimate and interval, F1, the reference's figures
/// and whether a calibrator was needed.
pub fn performance_report(
    e: &PerformanceEstimate,
    test: &str,
    reason: &str,
    min_accuracy: f64,
    verdict: Verdict,
) -> String {
    let word = match verdict {
        Verdict::Pass => "passed",
        Verdict::Fail => "failed",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Warn => "warned",
        Verdict::Error => "errored",
    };
    let pct = |c: f64| format!("{:.0}%", c * 100.0);
    let f1 = match (e.f1, e.f1_low, e.f1_high) {
        (Some(f), Some(lo), Some(hi)) => format!("{} [{}, {}]", fig(f), fig(lo), fig(hi)),
        _ => "undefined (no positive predicted or expected)".into(),
    };
    let mut out = format!(
        "performance `{test}` {word}\n  reason:    {reason}\n  check:     estimated accuracy >= {}\n  \
         estimate:  accuracy {} ({} interval [{}, {}]) on {} rows, {} predicted positive\n  \
         F1:        {f1}\n  reference: accuracy {}, F1 {} on labelled rows; raw scores' calibration error {} ({})",
        fig(min_accuracy),
        fig(e.accuracy),
        pct(e.confidence),
        fig(e.accuracy_low),
        fig(e.accuracy_high),
        e.rows,
        e.predicted_positive,
        fig(e.reference_accuracy),
        e.reference_f1.map_or("undefined".into(), fig),
        fig(e.expected_calibration_error),
        if e.calibrated {
            "an isotonic calibrator is applied"
        } else {
            "calibrated enough: no calibrator"
        },
    );
    if verdict == Verdict::Inconclusive {
        out.push_str(
            "\n  undecided: the interval straddles the minimum; a larger batch narrows it \
             (its half-width shrinks as 1/sqrt(rows))",
        );
    }
    out
}
