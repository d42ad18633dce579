//! What evaluating an expectation found.

use serde::{Deserialize, Serialize};

use super::Expectation;

/// Pass, fail, or an error that made the check impossible (which fails the
/// test too: a check that could not run never passes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Error,
    /// A bound learned from history with too little history to learn it:
    /// not a pass, not a failure.
    Inconclusive,
}

/// Why a check could not be decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
pub enum CheckError {
    #[error("column {column:?} not found{}; available: {available}",
        .closest.as_ref().map(|c| format!(" (did you mean {c:?}?)")).unwrap_or_default())]
    MissingColumn {
        column: String,
        closest: Option<String>,
        available: String,
    },
    #[error("column {column:?} has dtype {actual}, but this check needs {expected}")]
    WrongDtype {
        column: String,
        actual: String,
        expected: String,
    },
    #[error("no rows{}: the check has nothing to measure", .segment.as_ref().map(|s| format!(" in segment {s}")).unwrap_or_default())]
    NoRows { segment: Option<String> },
    #[error("no non-missing values in {column:?}{}: the check has nothing to measure", .segment.as_ref().map(|s| format!(" (segment {s})")).unwrap_or_default())]
    NoValues {
        column: String,
        segment: Option<String>,
    },
    #[error(
        "{column:?} holds {nan} NaN and {inf} infinite values: a {metric} over them is undefined"
    )]
    NonFinite {
        column: String,
        metric: String,
        nan: u64,
        inf: u64,
    },
    #[error("invalid expectation: {0}")]
    Invalid(String),
    #[error("data could not be loaded: {0}")]
    Data(String),
    #[error("the check function panicked: {0}")]
    Panicked(String),
    #[error("polars: {0}")]
    Engine(String),
}

/// `500 of 23,486 rows`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub hits: u64,
    pub of: u64,
    pub unit: String,
}

/// An offending row: its 0-based index in the data set and the value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleRow {
    pub row: u64,
    pub value: String,
}

/// The figure of one group for per-segment checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentFigure {
    /// `column == value`, as reports print it.
    pub segment: String,
    /// The group's value, to select its rows again.
    pub group: super::GroupValue,
    pub rows: u64,
    pub observed: f64,
    pub passed: bool,
}

/// How a check ended. An error carries what made the check impossible; a
/// pass or fail carries none, so neither "an error without an error" nor
/// "an error beside a pass" can be built. Serialised as today's
/// `"status": "error", "error": {...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", content = "error", rename_all = "snake_case")]
pub enum Decision {
    Pass,
    Fail,
    Error(CheckError),
    /// The check's bound is learned from its past runs and the history
    /// holds `have` of the `need` runs the rule reads.
    Inconclusive {
        have: usize,
        need: usize,
    },
}

impl Decision {
    /// The status without its error.
    pub fn status(&self) -> Status {
        match self {
            Decision::Pass => Status::Pass,
            Decision::Fail => Status::Fail,
            Decision::Error(_) => Status::Error,
            Decision::Inconclusive { .. } => Status::Inconclusive,
        }
    }
}

/// Why a learned bound evaluated outside the check scaffold has no verdict.
const UNRESOLVED: &str = "the bound is learned from the metric history, which only a \
                          #[data_expectation] check reads (or resolve it with Learned::resolve)";

/// One row of a check's table of extra figures (the leakage check: each
/// feature's association with the label).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// What the figure is about (a feature).
    pub name: String,
    pub value: f64,
    /// How it was measured (`Cramér's V`, `η`, `|r|`).
    pub method: String,
}

/// One outcome per expectation, in order: a slot no stage filled is an
/// error, never a pass (shared by the engine and the metric-cache path).
pub(crate) fn every_decided(
    outcomes: Vec<Option<CheckOutcome>>,
    expectations: &[Expectation],
) -> Vec<CheckOutcome> {
    outcomes
        .into_iter()
        .zip(expectations)
        .map(|(o, e)| {
            o.unwrap_or_else(|| {
                CheckOutcome::errored(e.clone(), CheckError::Invalid("not evaluated".into()))
            })
        })
        .collect()
}

/// The result of one expectation on one data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub expectation: Expectation,
    /// Pass, fail, or error with its cause: read with
    /// [`status`](Self::status) and [`error`](Self::error).
    #[serde(flatten)]
    decision: Decision,
    /// The measured value (for per-segment checks, the worst segment's).
    pub observed: Option<f64>,
    pub count: Option<Count>,
    /// For per-segment checks: the worst segment.
    pub worst_segment: Option<String>,
    /// For per-segment checks: every judged group, worst first.
    pub segments: Vec<SegmentFigure>,
    /// Groups too small to judge.
    pub skipped_segments: u64,
    pub examples: Vec<ExampleRow>,
    /// How many rows offend in all (examples shows the first few).
    pub offending_rows: u64,
    /// Values outside an expected set, with counts, most frequent first.
    pub unexpected: Vec<(String, u64)>,
    /// Extra figures (e.g. each feature's association), largest first.
    pub table: Vec<TableRow>,
    /// The figures came from the metric cache (the data was not read for them).
    #[serde(default)]
    pub from_cache: bool,
    /// How an approximate figure was estimated (a quantile from a KLL
    /// sketch on the streaming path) and its error bound; `None` when exact.
    #[serde(default)]
    pub estimate: Option<super::Estimate>,
    /// A learned bound's basis: the rule and the past runs it read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<super::LearnedBasis>,
    /// A schema-change check's basis: this run's columns, the previous
    /// run's and the changes between them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<super::SchemaBasis>,
}

impl CheckOutcome {
    /// An outcome not decided yet: an error until [`decide`](Self::decide)
    /// says otherwise, so a path that forgets to decide never passes.
    pub(crate) fn new(expectation: Expectation) -> Self {
        CheckOutcome {
            expectation,
            decision: Decision::Error(CheckError::Invalid("the check was not decided".into())),
            observed: None,
            count: None,
            worst_segment: None,
            segments: Vec::new(),
            skipped_segments: 0,
            examples: Vec::new(),
            offending_rows: 0,
            unexpected: Vec::new(),
            table: Vec::new(),
            from_cache: false,
            estimate: None,
            learned: None,
            schema: None,
        }
    }

    pub(crate) fn errored(expectation: Expectation, error: CheckError) -> Self {
        let mut o = CheckOutcome::new(expectation);
        o.decision = Decision::Error(error);
        o
    }

    /// Decides pass/fail from `observed` and the bound.
    pub(crate) fn decide(&mut self, observed: f64) {
        self.observed = Some(observed);
        // A learned bound is judged once its rule is resolved
        // (`judge_learned` records the basis first); evaluated outside the
        // check scaffold, which reads the history, it is never a verdict.
        if self.expectation.learned.is_some() && self.learned.is_none() {
            self.decision = Decision::Error(CheckError::Invalid(UNRESOLVED.into()));
            return;
        }
        self.decision = if self.expectation.bound.holds(observed) {
            Decision::Pass
        } else {
            Decision::Fail
        };
    }

    /// Judges the outcome against a bound learned from `runs` (the check's
    /// past figures, oldest first): re-decided on the resolved bound, or
    /// inconclusive with too little history. An outcome that errored stays
    /// an error: there was no figure to judge.
    pub(crate) fn judge_learned(&mut self, rule: super::Learned, runs: Vec<super::PastRun>) {
        let needed = rule.runs_needed();
        let past: Vec<f64> = runs.iter().map(|r| r.observed).collect();
        let resolution = rule.resolve(&past);
        self.learned = Some(super::LearnedBasis { rule, runs, needed });
        if matches!(self.expectation.segment, super::Segment::EachOf { .. }) {
            self.decision = Decision::Error(CheckError::Invalid(
                "a bound learned from history judges the check's own figure, not each segment: \
                 drop in_every_segment_of or use a fixed bound"
                    .into(),
            ));
            return;
        }
        // A real error (bad column, no rows) stays; only the placeholder
        // verdict `decide` gave an unresolved rule is replaced.
        let pending =
            matches!(&self.decision, Decision::Error(CheckError::Invalid(m)) if m == UNRESOLVED);
        if matches!(self.decision, Decision::Error(_)) && !pending {
            return;
        }
        match resolution {
            super::Resolution::Bound(bound) => {
                self.expectation.bound = bound;
                match self.observed {
                    Some(x) => self.decide(x),
                    None => {
                        self.decision =
                            Decision::Error(CheckError::Invalid("no figure was measured".into()))
                    }
                }
            }
            super::Resolution::TooFew { have, need } => {
                self.decision = Decision::Inconclusive { have, need };
            }
            super::Resolution::Invalid(why) => {
                self.decision = Decision::Error(CheckError::Invalid(format!(
                    "the bound learned from history ({}): {why}",
                    self.expectation.describe_bound()
                )));
            }
        }
    }

    /// Replaces the outcome's error by a better-named one (a pass or fail
    /// stays as it is).
    pub(crate) fn rename_error(&mut self, error: CheckError) {
        if let Decision::Error(e) = &mut self.decision {
            *e = error;
        }
    }

    /// Makes the outcome an error with `error`, whatever it was (a check
    /// whose bound could not be learned has no verdict).
    pub(crate) fn set_error(&mut self, error: CheckError) {
        self.decision = Decision::Error(error);
    }

    /// Sets the decision (a schema-change check without a previous run is
    /// inconclusive).
    pub(crate) fn set_decision(&mut self, decision: Decision) {
        self.decision = decision;
    }

    /// A passing outcome that must fail (a per-segment check whose worst
    /// group passed while another failed).
    pub(crate) fn fail(&mut self) {
        if self.decision == Decision::Pass {
            self.decision = Decision::Fail;
        }
    }

    /// Pass, fail or error.
    ///
    /// ```
    /// use mltest_core::{Dataset, expect::Status};
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0]).unwrap());
    /// let out = data.evaluate_one(data.column("nope").mean().at_most(1.0));
    /// assert_eq!(out.status(), Status::Error);
    /// assert!(out.error().unwrap().to_string().contains("\"nope\" not found"));
    /// ```
    pub fn status(&self) -> Status {
        self.decision.status()
    }

    /// What made the check impossible, when it errored.
    pub fn error(&self) -> Option<&CheckError> {
        match &self.decision {
            Decision::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The decision, with the error when there is one.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// True when the check passed.
    pub fn passed(&self) -> bool {
        self.decision == Decision::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::column;

    #[test]
    fn the_status_and_its_error_serialise_side_by_side_and_back() {
        let e = column("x").mean().at_most(1.0);
        let err = CheckOutcome::errored(e.clone(), CheckError::Invalid("bad".into()));
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["status"], "error");
        assert_eq!(json["error"]["error"], "invalid");
        assert_eq!(serde_json::from_value::<CheckOutcome>(json).unwrap(), err);
        let mut pass = CheckOutcome::new(e);
        assert_eq!(pass.status(), Status::Error, "undecided is not a pass");
        pass.decide(0.5);
        let json = serde_json::to_value(&pass).unwrap();
        assert_eq!(json["status"], "pass");
        assert!(json.get("error").is_none(), "{json}");
        assert_eq!(serde_json::from_value::<CheckOutcome>(json).unwrap(), pass);
    }
}
