//! What a model predicts, by task, and the checks every prediction passes
//! before a check reads it ([`predict_checked`]): the right number of rows,
//! finite numbers, probabilities in [0, 1] that sum to 1, and a panic inside
//! the model turned into an error that names it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Model, ModelError};
pub use crate::store::Task;
use polars::prelude::DataFrame;

/// A model's predictions for a batch of rows, in row order.
///
/// ```
/// use mltest_core::model::{Predictions, Task};
/// let p = Predictions::multiclass(vec![vec![0.2, 0.7, 0.1], vec![0.5, 0.2, 0.3]]);
/// assert_eq!(p.task(), Task::Multiclass);
/// assert_eq!(p.len(), 2);
/// assert_eq!(p.class_of(0), Some(1));
/// assert_eq!(p.score(1, Some(2)), 0.3);
/// assert_eq!(Predictions::binary(vec![0.4, 0.6]).class_of(1), Some(1));
/// assert_eq!(Predictions::regression(vec![3.5]).class_of(0), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// P(positive class) per row.
    Binary(Vec<f64>),
    /// Class probabilities, row-major: `probs[row * classes + class]`, the
    /// classes in the order of the card's `output.classes`.
    Multiclass { classes: usize, probs: Vec<f64> },
    /// The predicted value per row.
    Regression(Vec<f64>),
}

impl Predictions {
    /// A binary classifier's P(positive) per row.
    pub fn binary(p: Vec<f64>) -> Self {
        Predictions::Binary(p)
    }

    /// Class probabilities, one vector per row (every row as long as the first).
    pub fn multiclass(rows: Vec<Vec<f64>>) -> Self {
        let classes = rows.first().map_or(0, Vec::len);
        let mut probs = Vec::with_capacity(rows.len() * classes);
        for r in &rows {
            // A ragged row is padded with NaN so that the checks reject it.
            probs.extend((0..classes).map(|c| r.get(c).copied().unwrap_or(f64::NAN)));
            if r.len() != classes {
                probs.truncate(probs.len() - classes);
                probs.extend(std::iter::repeat_n(f64::NAN, classes));
            }
        }
        Predictions::Multiclass { classes, probs }
    }

    /// A regressor's value per row.
    pub fn regression(values: Vec<f64>) -> Self {
        Predictions::Regression(values)
    }

    /// Which task these predictions are of.
    pub fn task(&self) -> Task {
        match self {
            Predictions::Binary(_) => Task::Binary,
            Predictions::Multiclass { .. } => Task::Multiclass,
            Predictions::Regression(_) => Task::Regression,
        }
    }

    /// Rows predicted.
    pub fn len(&self) -> usize {
        match self {
            Predictions::Binary(v) | Predictions::Regression(v) => v.len(),
            Predictions::Multiclass { classes: 0, .. } => 0,
            Predictions::Multiclass { classes, probs } => probs.len() / classes,
        }
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One row's class probabilities (multiclass only).
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        match self {
            Predictions::Multiclass { classes, probs } => probs.get(i * classes..(i + 1) * classes),
            _ => None,
        }
    }

    /// The predicted class of row `i`: 1 when P(positive) ≥ 0.5 for a binary
    /// classifier, the most probable class (the first on ties, as numpy's
    /// `argmax`) for a multiclass one, `None` for a regressor.
    pub fn class_of(&self, i: usize) -> Option<usize> {
        match self {
            Predictions::Binary(p) => p.get(i).map(|&p| usize::from(p >= 0.5)),
            Predictions::Multiclass { .. } => self.row(i).map(|r| {
                r.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |(bi, bp), (ci, &p)| {
                        if p > bp { (ci, p) } else { (bi, bp) }
                    })
                    .0
            }),
            Predictions::Regression(_) => None,
        }
    }

    /// The number a direction test watches in row `i`: P(positive), the
    /// probability of `class` (multiclass; the predicted class's when
    /// `None`), or the predicted value.
    pub fn score(&self, i: usize, class: Option<usize>) -> f64 {
        match self {
            Predictions::Binary(p) | Predictions::Regression(p) => p[i],
            Predictions::Multiclass { .. } => {
                let c = class.or_else(|| self.class_of(i)).unwrap_or(0);
                self.row(i)
                    .and_then(|r| r.get(c))
                    .copied()
                    .unwrap_or(f64::NAN)
            }
        }
    }

    /// One number per row: P(positive), the predicted class's probability,
    /// or the value (what prediction drift compares for binary and
    /// regression models).
    pub fn scores(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.score(i, None)).collect()
    }
}

/// Smallest gap from 1 tolerated in a row of class probabilities: float32
/// runtimes (ONNX) sum three probabilities to 1 ± 3e-7; 1e-4 leaves room for
/// a softmax over hundreds of classes and still rejects unnormalised scores.
const SUM_TOLERANCE: f64 = 1e-4;

/// Runs `model` on `rows` and checks what it returned against its card:
/// the task, one prediction per row, finite numbers, probabilities in
/// [0, 1] (summing to 1 per row for multiclass). A panic inside the model
/// becomes [`ModelError::Panicked`]. Every check calls the model through
/// this, so a broken model is an error that names it, never a pass.
///
/// ```
/// use mltest_core::model::{Model, ModelError, Predictions, predict_checked};
/// use mltest_core::store::{Card, OutputSchema};
/// use polars::prelude::*;
/// struct Broken(Card);
/// impl Model for Broken {
///     fn card(&self) -> &Card { &self.0 }
///     fn predict(&self, _rows: &DataFrame) -> Result<Predictions, ModelError> {
///         Ok(Predictions::binary(vec![0.5, f64::NAN]))
///     }
/// }
/// let m = Broken(Card::new(OutputSchema::binary("y", ["0", "1"], "1")));
/// let rows = df!("x" => [1.0, 2.0]).unwrap();
/// let err = predict_checked(&m, &rows).unwrap_err().to_string();
/// assert!(err.contains("row 1") && err.contains("NaN"), "{err}");
/// ```
pub fn predict_checked(model: &dyn Model, rows: &DataFrame) -> Result<Predictions, ModelError> {
    let card = model.card();
    let name = card.display_id();
    let out = catch_unwind(AssertUnwindSafe(|| model.predict(rows))).map_err(|p| {
        ModelError::Panicked {
            model: name.clone(),
            message: crate::text::panic_text(p),
        }
    })??;
    let bad = |problem: String| ModelError::Output {
        model: name.clone(),
        problem,
    };
    let expected = card.output.task;
    if out.task() != expected {
        return Err(bad(format!(
            "its card says it is a {expected}, but it returned the predictions of a {}",
            out.task()
        )));
    }
    if out.len() != rows.height() {
        return Err(bad(format!(
            "returned {} predictions for {} rows",
            out.len(),
            rows.height()
        )));
    }
    let nan = |v: f64| {
        if v.is_nan() {
            "NaN".to_string()
        } else {
            v.to_string()
        }
    };
    match &out {
        Predictions::Binary(p) => {
            if let Some((i, v)) = p
                .iter()
                .enumerate()
                .find(|(_, v)| !(0.0..=1.0).contains(*v))
            {
                return Err(bad(format!(
                    "P(positive) of row {i} is {}; a probability is in [0, 1]",
                    nan(*v)
                )));
            }
        }
        Predictions::Regression(v) => {
            if let Some((i, v)) = v.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(bad(format!(
                    "the prediction of row {i} is {}; a regressor predicts finite numbers",
                    nan(*v)
                )));
            }
        }
        Predictions::Multiclass { classes, .. } => {
            let want = card.output.classes.len();
            if *classes != want {
                return Err(bad(format!(
                    "returned {classes} probabilities per row, but its card lists {want} classes ({})",
                    card.output.classes.join(", ")
                )));
            }
            for i in 0..out.len() {
                let row = out.row(i).unwrap_or(&[]);
                if let Some((c, v)) = row
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !(0.0..=1.0).contains(*v))
                {
                    return Err(bad(format!(
                        "P({}) of row {i} is {}; a probability is in [0, 1]",
                        card.output.classes[c],
                        nan(*v)
                    )));
                }
                let sum: f64 = row.iter().sum();
                if (sum - 1.0).abs() > SUM_TOLERANCE {
                    return Err(bad(format!(
                        "the class probabilities of row {i} sum to {sum}, not 1"
                    )));
                }
            }
        }
    }
    Ok(out)
}
