//! The typed parts of a record: its kind, its threshold and its per-kind
//! details.

use serde::{Deserialize, Serialize};

use crate::ab::{ModelComparison, Require};
use crate::drift::DriftReport;
use crate::expect::{Bound, CheckOutcome};
use crate::robust::{Expect, FlipRate, SliceReport};

/// The kinds of check that write records, in the order the data passes
/// through them (the HTML report's section order).
///
/// ```
/// use mltest_core::record::CheckKind;
/// assert_eq!(CheckKind::DataExpectation.as_str(), "data_expectation");
/// assert_eq!(serde_json::to_string(&CheckKind::Ab).unwrap(), "\"ab\"");
/// assert!(CheckKind::DataExpectation < CheckKind::Drift);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    DataExpectation,
    Drift,
    Robustness,
    Slices,
    Ab,
    /// Performance estimated without labels (CBPE), after deployment.
    Performance,
}

impl CheckKind {
    /// The name records, JUnit and the summary use.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::DataExpectation => "data_expectation",
            CheckKind::Drift => "drift",
            CheckKind::Robustness => "robustness",
            CheckKind::Slices => "slices",
            CheckKind::Ab => "ab",
            CheckKind::Performance => "performance",
        }
    }

    /// The heading of the kind's section in the HTML report.
    pub fn title(self) -> &'static str {
        match self {
            CheckKind::DataExpectation => "Data expectations",
            CheckKind::Drift => "Drift",
            CheckKind::Robustness => "Robustness",
            CheckKind::Slices => "slices",
            CheckKind::Ab => "A/B comparisons",
            CheckKind::Performance => "Performance without labels",
        }
    }

    /// The figure a check of this kind measures (a data expectation's is
    /// its metric's, see [`Record::metric`](super::Record::metric)).
    pub fn figure(self) -> &'static str {
        match self {
            CheckKind::DataExpectation => "data_expectation",
            CheckKind::Drift => "drifted_share",
            CheckKind::Robustness => "flip_rate",
            CheckKind::Slices => "weakest_slice_accuracy",
            CheckKind::Ab => "accuracy_difference",
            CheckKind::Performance => "estimated_accuracy",
        }
    }
}

impl std::fmt::Display for CheckKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so `{:<18}` lines up the summary's columns.
        f.pad(self.as_str())
    }
}

/// What a record's `observed` figure is compared with.
///
/// ```
/// use mltest_core::expect::Bound;
/// use mltest_core::record::Threshold;
/// let t = Threshold::Bound(Bound::Between { min: 40.0, max: 46.0 });
/// assert_eq!((t.describe(), t.limits()), ("in [40, 46]".to_string(), vec![40.0, 46.0]));
/// let drift = Threshold::DriftedShare { share: 0.5, expect_drift: true };
/// assert_eq!(drift.describe(), "≥ 0.5000");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// A bound on the figure: a data expectation's, a robustness check's
    /// maximum flip rate, slices' minimum accuracy.
    Bound(Bound),
    /// A drift check: the share of drifted columns stays below `share`, or
    /// with `expect_drift` reaches it.
    DriftedShare { share: f64, expect_drift: bool },
    /// An A/B test: what the verdict must be; no number.
    Requirement(Require),
    /// A bound learned from the check's history that was not learned in
    /// this run (too few past runs, or the check errored): the rule.
    Learned(crate::expect::Learned),
    /// Nothing to compare with (a drift check that could not run).
    None,
}

impl Threshold {
    /// The threshold as reports print it: `<= 0.0500`, `≥ 0.5000`,
    /// `treatment better`, `-`.
    pub fn describe(&self) -> String {
        match self {
            Threshold::Bound(b) => b.describe(),
            Threshold::DriftedShare {
                share,
                expect_drift,
            } => {
                // A share of 0 means "drifts when any column does": the
                // passing side is then `<= 0`, not `< 0` (which nothing meets).
                let op = match (*expect_drift, *share <= 0.0) {
                    (false, true) => "<=",
                    (false, false) => "<",
                    (true, true) => ">",
                    (true, false) => "≥",
                };
                format!("{op} {}", crate::text::fig(*share))
            }
            Threshold::Requirement(r) => r.describe().to_string(),
            Threshold::Learned(rule) => rule.describe(),
            Threshold::None => "-".into(),
        }
    }

    /// The numbers the figure is compared with, low to high (none for a
    /// requirement on a verdict).
    pub fn limits(&self) -> Vec<f64> {
        match *self {
            Threshold::Bound(Bound::AtMost { max }) => vec![max],
            Threshold::Bound(Bound::AtLeast { min }) => vec![min],
            Threshold::Bound(Bound::Between { min, max }) => vec![min, max],
            Threshold::DriftedShare { share, .. } => vec![share],
            Threshold::Requirement(_) | Threshold::Learned(_) | Threshold::None => Vec::new(),
        }
    }
}

/// The figures of a check beyond observed and threshold, by kind. The
/// variants of kinds that can fail to run hold `None` then.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Details {
    DataExpectation(Box<CheckOutcome>),
    Drift(Option<Box<DriftReport>>),
    Robustness(Option<Box<RobustnessDetails>>),
    Slices(Box<SliceReport>),
    Ab(Option<Box<ModelComparison>>),
    /// An A/B test of two regressors: a paired test on their errors.
    AbErrors(Option<Box<crate::ab::ErrorComparison>>),
    /// A batch's estimated accuracy and F1 (CBPE).
    Performance(Box<crate::monitor::PerformanceEstimate>),
}

impl Details {
    /// The kind of check these details belong to.
    pub fn kind(&self) -> CheckKind {
        match self {
            Details::DataExpectation(_) => CheckKind::DataExpectation,
            Details::Drift(_) => CheckKind::Drift,
            Details::Robustness(_) => CheckKind::Robustness,
            Details::Slices(_) => CheckKind::Slices,
            Details::Ab(_) | Details::AbErrors(_) => CheckKind::Ab,
            Details::Performance(_) => CheckKind::Performance,
        }
    }
}

/// A robustness check's measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RobustnessDetails {
    /// What counted as a violation.
    pub expect: Expect,
    /// The baseline's rate on the same cases, when there is one and it ran.
    pub baseline: Option<Baseline>,
    /// The measurement: cases, flips, interval, perturbation, throughput,
    /// shrunk examples.
    pub flips: FlipRate,
    /// How the rate was decided: the rule, the interval at the stated
    /// confidence, the rounds of an adaptive run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::robust::RateDecision>,
}

/// A baseline model's violation rate on the same cases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub model: String,
    pub rate: f64,
}

#[cfg(test)]
mod tests {
    use super::Threshold;

    #[test]
    fn a_drift_threshold_reads_as_the_condition_that_passes() {
        let t = |share, expect_drift| {
            Threshold::DriftedShare {
                share,
                expect_drift,
            }
            .describe()
        };
        // "drifts when any column does": a pass is no drifted column at all.
        assert_eq!(t(0.0, false), "<= 0");
        assert_eq!(t(0.0, true), "> 0");
        assert_eq!(t(0.5, false), "< 0.5000");
        assert_eq!(t(0.5, true), "≥ 0.5000");
    }
}
