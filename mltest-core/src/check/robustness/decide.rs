//! How a measured violation rate becomes a verdict: the point estimate
//! against the maximum (the default), an interval at a stated confidence
//! (pass only under, fail only over, else inconclusive), or rounds of cases
//! until an always-valid sequential test decides (`cases = "auto"`).

use super::{RobustnessCheck, RobustnessCheckError};
use crate::robust::{FlipRate, RateDecision, RateOutcome, RobustError};
use crate::stats::sequential::{self, Sequential};

/// Runs the check's cases (once, or in rounds) and decides. `run(skip, n)`
/// runs cases `skip..n` of the check's seed: the sample is a seeded shuffle
/// cut to length and the ops are drawn in row order, so the cases of a
/// round are exactly those a single run of `n` cases would add, and no case
/// runs twice.
pub(super) fn measure(
    check: &RobustnessCheck,
    run: impl Fn(usize, usize) -> Result<FlipRate, RobustnessCheckError>,
) -> Result<(FlipRate, RateDecision), RobustnessCheckError> {
    let max = check.max_flip_rate;
    let Some(budget) = check.budget else {
        let r = run(0, check.cases())?;
        let decision = match check.confidence {
            None => RateDecision {
                outcome: if r.rate <= max {
                    RateOutcome::Pass
                } else {
                    RateOutcome::Fail
                },
                confidence: None,
                interval: r.interval,
                rounds: Vec::new(),
                cases_to_decide: None,
            },
            Some(c) => {
                let (v, interval) = sequential::fixed_verdict(r.flips, r.cases, max, c);
                RateDecision::of(v, Some(c), interval, Vec::new())
            }
        };
        return Ok((r, decision));
    };
    let confidence = check.confidence.unwrap_or(0.95);
    let mut seq = Sequential::new(max, confidence);
    let (mut total, mut rounds) = (None::<FlipRate>, Vec::new());
    let mut n = 0usize;
    for size in sequential::round_sizes(budget as u64) {
        let skip = n;
        n += size as usize;
        let r = match run(skip, n) {
            Err(RobustnessCheckError::Measure(RobustError::NoMoreRows { .. })) => break,
            other => other?,
        };
        // Fewer rows than asked: the data is exhausted, this is the last round.
        let exhausted = (r.cases as usize) < size as usize;
        let verdict = seq.update(r.flips, r.cases);
        let merged = match total.take() {
            None => r,
            Some(t) => merge(t, r, check.examples),
        };
        rounds.push(merged.cases);
        total = Some(merged);
        if verdict.is_some() || exhausted {
            break;
        }
    }
    let r = total.ok_or_else(|| {
        RobustnessCheckError::Measure(RobustError::Perturb(
            "the budget allows no round of cases".into(),
        ))
    })?;
    Ok((
        r,
        RateDecision::of(seq.verdict(), Some(confidence), seq.interval(), rounds),
    ))
}

/// Two rounds' measurements as one: counts add up, the interval is
/// recomputed, the most telling examples of both are kept.
fn merge(a: FlipRate, b: FlipRate, examples: usize) -> FlipRate {
    let (cases, flips) = (a.cases + b.cases, a.flips + b.flips);
    let busy = a.cases as f64 / a.throughput.max(1e-9) + b.cases as f64 / b.throughput.max(1e-9);
    let mut all = a.examples;
    all.extend(b.examples);
    all.sort_by(|x, y| {
        (y.p_after - y.p_before)
            .abs()
            .total_cmp(&(x.p_after - x.p_before).abs())
            .then(x.row.cmp(&y.row))
    });
    all.truncate(examples);
    FlipRate {
        cases,
        flips,
        rate: flips as f64 / cases.max(1) as f64,
        interval: crate::stats::wilson(flips, cases, crate::stats::Z95),
        examples: all,
        throughput: cases as f64 / busy.max(1e-9),
        seconds: a.seconds + b.seconds,
        ..a
    }
}
