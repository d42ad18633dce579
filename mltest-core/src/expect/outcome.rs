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

/// The result of one expectation on one data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub expectation: Expectation,
    pub status: Status,
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
    /// Extra figures (e.g. each feature's association), name → value.
    pub table: Vec<(String, f64, String)>,
    pub error: Option<CheckError>,
    /// The figures came from the metric cache (the data was not read for them).
    #[serde(default)]
    pub from_cache: bool,
    /// How an approximate figure was estimated (a quantile from a KLL
    /// sketch on the streaming path) and its error bound; `None` when exact.
    #[serde(default)]
    pub estimate: Option<super::Estimate>,
}

impl CheckOutcome {
    pub(crate) fn new(expectation: Expectation) -> Self {
        CheckOutcome {
            expectation,
            status: Status::Error,
            observed: None,
            count: None,
            worst_segment: None,
            segments: Vec::new(),
            skipped_segments: 0,
            examples: Vec::new(),
            offending_rows: 0,
            unexpected: Vec::new(),
            table: Vec::new(),
            error: None,
            from_cache: false,
            estimate: None,
        }
    }

    pub(crate) fn errored(expectation: Expectation, error: CheckError) -> Self {
        let mut o = CheckOutcome::new(expectation);
        o.error = Some(error);
        o
    }

    /// Decides pass/fail from `observed` and the bound.
    pub(crate) fn decide(&mut self, observed: f64) {
        self.observed = Some(observed);
        self.status = if self.expectation.bound.holds(observed) {
            Status::Pass
        } else {
            Status::Fail
        };
    }

    /// True when the check passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}
