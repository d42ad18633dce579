//! A verdict on a violation rate that says how sure it is: the point
//! estimate against the maximum, an interval at a stated confidence, or an
//! always-valid sequential test over rounds of cases.

use serde::{Deserialize, Serialize};

use crate::stats::sequential::RateVerdict;

/// Pass, fail, or not decided by the cases run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateOutcome {
    Pass,
    Fail,
    /// The interval straddles the maximum: not a pass, and not a failure
    /// either; the test fails as undecided and says how many cases would decide.
    Inconclusive,
}

/// The verdict on a rate and what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateDecision {
    pub outcome: RateOutcome,
    /// The confidence the interval is at; `None`: the point estimate decided.
    pub confidence: Option<f64>,
    /// The interval the verdict read (Wilson at `confidence`; the
    /// confidence sequence's bounds in adaptive mode; Wilson 95% for the
    /// point rule, for the report).
    pub interval: (f64, f64),
    /// Adaptive mode: the cases of each round, cumulative.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<u64>,
    /// Inconclusive: how many cases, at the rate seen, would decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases_to_decide: Option<u64>,
}

impl RateDecision {
    /// From a statistical verdict.
    pub fn of(
        v: RateVerdict,
        confidence: Option<f64>,
        interval: (f64, f64),
        rounds: Vec<u64>,
    ) -> RateDecision {
        let (outcome, cases_to_decide) = match v {
            RateVerdict::Pass => (RateOutcome::Pass, None),
            RateVerdict::Fail => (RateOutcome::Fail, None),
            RateVerdict::Inconclusive { cases_to_decide } => {
                (RateOutcome::Inconclusive, cases_to_decide)
            }
        };
        RateDecision {
            outcome,
            confidence,
            interval,
            rounds,
            cases_to_decide,
        }
    }

    /// The verdict in a report line.
    pub fn describe(&self) -> String {
        let (lo, hi) = self.interval;
        let conf = self.confidence.map_or_else(
            || "point estimate decides".to_string(),
            |c| {
                format!(
                    "{}% interval [{}, {}]",
                    crate::text::fig(c * 100.0),
                    crate::text::fig(lo),
                    crate::text::fig(hi)
                )
            },
        );
        let rounds = if self.rounds.is_empty() {
            String::new()
        } else {
            format!(
                "; {} round(s), stopped at {} cases",
                self.rounds.len(),
                crate::text::thousands(*self.rounds.last().unwrap_or(&0))
            )
        };
        match self.outcome {
            RateOutcome::Pass | RateOutcome::Fail => format!("{conf}{rounds}"),
            RateOutcome::Inconclusive => format!(
                "inconclusive: {conf} contains the maximum{rounds}; {}",
                self.cases_to_decide.map_or_else(
                    || "the rate equals the maximum, so no number of cases decides".to_string(),
                    |n| format!("about {} cases would decide", crate::text::thousands(n))
                )
            ),
        }
    }
}
