//! When a perturbed case violates the test, for every task: a binary or
//! multiclass classifier flips when its predicted class changes, a
//! regressor "flips" when its prediction moves by more than a tolerance;
//! direction tests watch P(positive), the probability of a named class, or
//! the predicted value.

use super::error::RobustError;
use crate::model::{Predictions, Task};
use crate::store::Card;
use crate::text::fig;

/// What counts as a violation (CheckList's INV and DIR tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Invariance: the predicted label must not change.
    #[default]
    NoFlip,
    /// Direction: P(positive) must not rise (e.g. after a negative sentence).
    NoIncrease,
    /// Direction: P(positive) must not fall (e.g. after a positive sentence).
    NoDecrease,
}

impl Expect {
    /// For reports of a binary classifier (a trial's [`FlipRate::measure`](super::FlipRate::measure)
    /// says it for every task).
    pub fn describe(self) -> &'static str {
        match self {
            Expect::NoFlip => "flip rate",
            Expect::NoIncrease => "share of cases where P(positive) rose",
            Expect::NoDecrease => "share of cases where P(positive) fell",
        }
    }
}

/// How far a regressor's prediction may move before the case counts as
/// changed (`tolerance = 0.5`, or `tolerance = 0.1, relative` for 10% of
/// the original prediction's magnitude).
///
/// ```
/// use mltest_core::robust::Tolerance;
/// assert!(Tolerance::Absolute(0.5).exceeded(3.0, 3.6));
/// assert!(!Tolerance::Absolute(0.5).exceeded(3.0, 3.5));
/// assert!(Tolerance::Relative(0.1).exceeded(100.0, 111.0));
/// assert!(!Tolerance::Relative(0.1).exceeded(-100.0, -95.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// |after − before| > the amount.
    Absolute(f64),
    /// |after − before| > the share × |before|.
    Relative(f64),
}

impl Tolerance {
    /// Whether the move from `before` to `after` exceeds the tolerance.
    pub fn exceeded(self, before: f64, after: f64) -> bool {
        let moved = (after - before).abs();
        match self {
            Tolerance::Absolute(t) => moved > t,
            Tolerance::Relative(r) => moved > r * before.abs(),
        }
    }

    /// For reports.
    pub fn describe(self) -> String {
        match self {
            Tolerance::Absolute(t) => fig(t),
            Tolerance::Relative(r) => format!("{}% of the prediction", fig(r * 100.0)),
        }
    }
}

/// The rule a trial judges each case by, checked against the model's card
/// before any case runs.
#[derive(Clone, Debug)]
pub(super) struct Judge {
    expect: Expect,
    task: Task,
    /// The class a multiclass direction test watches.
    class: Option<usize>,
    classes: Vec<String>,
    tolerance: Option<Tolerance>,
}

/// A tolerance of 1e-9 keeps rounding noise from counting as movement.
const EPS: f64 = 1e-9;

impl Judge {
    pub(super) fn new(
        expect: Expect,
        card: &Card,
        class: Option<&str>,
        tolerance: Option<Tolerance>,
    ) -> Result<Judge, RobustError> {
        let task = card.output.task;
        let model = card.display_id();
        let refuse = |why: String| {
            Err(RobustError::Rule {
                model: model.clone(),
                why,
            })
        };
        let class = match (task, class) {
            (_, None) => None,
            (Task::Regression, Some(c)) => {
                return refuse(format!(
                    "it is a regressor, which has no class {c:?} to watch; drop `class`"
                ));
            }
            (Task::Binary, Some(c)) if c == card.output.positive_class => None,
            (_, Some(c)) => match card.output.class_index(c) {
                Some(i) if task == Task::Multiclass => Some(i),
                _ => {
                    return refuse(format!(
                        "`class = {c:?}` is not {}; its classes: {}",
                        if task == Task::Binary {
                            "its positive class"
                        } else {
                            "one of its classes"
                        },
                        card.output.classes.join(", ")
                    ));
                }
            },
        };
        if task == Task::Multiclass && expect != Expect::NoFlip && class.is_none() {
            return refuse(format!(
                "a direction test on a multiclass classifier names the class whose probability \
                 it watches: add `class = \"...\"` (one of {})",
                card.output.classes.join(", ")
            ));
        }
        match (task, tolerance) {
            (Task::Regression, None) if expect == Expect::NoFlip => {
                return refuse(
                    "it is a regressor: say how far a prediction may move, e.g. \
                     `tolerance = 0.5` (or `tolerance = 0.1, relative`)"
                        .into(),
                );
            }
            (Task::Binary | Task::Multiclass, Some(_)) => {
                return refuse(format!(
                    "`tolerance` is for regressors; it is a {task}, which flips when its predicted class changes"
                ));
            }
            (_, Some(Tolerance::Absolute(t) | Tolerance::Relative(t)))
                if !(t >= 0.0 && t.is_finite()) =>
            {
                return refuse(format!(
                    "the tolerance must be a finite number >= 0; got {t}"
                ));
            }
            _ => {}
        }
        Ok(Judge {
            expect,
            task,
            class,
            classes: card.output.classes.clone(),
            tolerance,
        })
    }

    /// The number a case's examples show: P(positive), P(class), the value.
    pub(super) fn score(&self, p: &Predictions, i: usize) -> f64 {
        p.score(i, self.class)
    }

    /// Whether row `i` of `before` and row `j` of `after` violate the test.
    pub(super) fn violated(
        &self,
        before: &Predictions,
        i: usize,
        after: &Predictions,
        j: usize,
    ) -> bool {
        match self.expect {
            Expect::NoFlip => match self.task {
                Task::Regression => self
                    .tolerance
                    .is_some_and(|t| t.exceeded(before.score(i, None), after.score(j, None))),
                _ => before.class_of(i) != after.class_of(j),
            },
            Expect::NoIncrease => self.score(after, j) > self.score(before, i) + EPS,
            Expect::NoDecrease => self.score(after, j) < self.score(before, i) - EPS,
        }
    }

    /// The predicted class's name (classifiers), for examples.
    pub(super) fn class_name(&self, p: &Predictions, i: usize) -> Option<String> {
        match self.task {
            Task::Multiclass => p.class_of(i).and_then(|c| self.classes.get(c).cloned()),
            _ => None,
        }
    }

    /// What `score` is, for reports: `P(positive)`, `P(Dresses)`, `prediction`.
    pub(super) fn score_name(&self) -> String {
        match (self.task, self.class) {
            (Task::Regression, _) => "prediction".into(),
            (Task::Multiclass, Some(c)) => format!("P({})", self.classes[c]),
            (Task::Multiclass, None) => "P(predicted class)".into(),
            (Task::Binary, _) => "P(positive)".into(),
        }
    }

    /// The rate measured, for reports.
    pub(super) fn describe(&self) -> String {
        let s = self.score_name();
        match (self.expect, self.task) {
            (Expect::NoFlip, Task::Regression) => format!(
                "share of predictions that moved by more than {}",
                self.tolerance.map_or_else(String::new, Tolerance::describe)
            ),
            (Expect::NoFlip, _) => "flip rate".into(),
            (Expect::NoIncrease, _) => format!("share of cases where {s} rose"),
            (Expect::NoDecrease, _) => format!("share of cases where {s} fell"),
        }
    }
}
