//! After deployment: a binary classifier's performance on batches whose
//! labels come late or never.
//!
//! - [`calibration`]: the reliability curve of a model's P(positive) on
//!   labelled reference data, its expected calibration error, and an
//!   isotonic calibrator (scikit-learn's, as NannyML fits it).
//! - [`cbpe`]: confidence-based performance estimation — estimated accuracy
//!   and F1 of an unlabelled batch with an interval, and the realised figures
//!   beside them once labels arrive.
//!
//! [`Cbpe::from_model`] takes any binary [`Model`](crate::model::Model) and
//! a labelled reference frame; [`crate::check::performance_record`] turns
//! an estimate into a recorded check (JUnit, report, metric history).

pub mod calibration;
pub mod cbpe;

pub use calibration::{Binning, IsotonicCalibrator, ReliabilityBin, ReliabilityCurve};
pub use cbpe::{CalibrationCheck, Cbpe, PerformanceEstimate, Realized};

use polars::prelude::*;

use crate::model::{Model, ModelError, Predictions, predict_checked};

/// Why a calibration or an estimate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{what} is empty: nothing to estimate from")]
    Empty { what: String },
    #[error("{what}: {got} values for {expected} scores")]
    Length {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("{what}: row {row} is {value}; scores must be probabilities in [0, 1]")]
    BadScore {
        what: String,
        row: usize,
        value: f64,
    },
    #[error("{have} {what}, at least {need} are needed")]
    TooFew {
        what: String,
        have: usize,
        need: usize,
    },
    #[error(
        "the reference labels are all {} ({rows} rows): calibration needs both classes",
        if *positive { "positive" } else { "negative" }
    )]
    OneClass { rows: usize, positive: bool },
    #[error("{0}")]
    Parameter(String),
    #[error("model {model}: {why}")]
    Model { model: String, why: String },
    #[error("label column {column:?}: {why}")]
    Label { column: String, why: String },
    #[error(transparent)]
    Predict(#[from] ModelError),
}

fn check_scores(what: &str, scores: &[f64]) -> Result<(), MonitorError> {
    match scores
        .iter()
        .position(|s| !(s.is_finite() && (0.0..=1.0).contains(s)))
    {
        Some(row) => Err(MonitorError::BadScore {
            what: what.into(),
            row,
            value: scores[row],
        }),
        None => Ok(()),
    }
}

fn same_length(what: &str, expected: usize, got: usize) -> Result<(), MonitorError> {
    if expected == got {
        Ok(())
    } else {
        Err(MonitorError::Length {
            what: what.into(),
            expected,
            got,
        })
    }
}

/// A binary model's P(positive) for each row of `rows`, through
/// [`predict_checked`] (wrong row counts, NaN and panics are errors naming
/// the model).
pub fn positive_scores(model: &dyn Model, rows: &DataFrame) -> Result<Vec<f64>, MonitorError> {
    match predict_checked(model, rows)? {
        Predictions::Binary(p) => Ok(p),
        other => Err(MonitorError::Model {
            model: model.card().name.clone(),
            why: format!(
                "performance estimation needs a binary classifier's P(positive), the model \
                 returns {:?} predictions",
                other.task()
            ),
        }),
    }
}

/// A 0/1 or boolean label column as booleans; a null or another value is an
/// error naming the column and the row.
pub fn labels(rows: &DataFrame, column: &str) -> Result<Vec<bool>, MonitorError> {
    let err = |why: String| MonitorError::Label {
        column: column.into(),
        why,
    };
    let s = rows
        .column(column)
        .map_err(|_| err("not in the reference frame".into()))?
        .as_materialized_series()
        .clone();
    let s = s
        .cast(&DataType::Int64)
        .map_err(|e| err(format!("not a 0/1 column ({e})")))?;
    let ca = s.i64().map_err(|e| err(e.to_string()))?;
    ca.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(v) => Err(err(format!("row {i} is {v}, labels must be 0 or 1"))),
            None => Err(err(format!("row {i} is null"))),
        })
        .collect()
}

impl Cbpe {
    /// From a binary model and labelled reference rows (`label` a 0/1 or
    /// boolean column): the model's scores on them, then [`Cbpe::fit`].
    pub fn from_model(
        model: &dyn Model,
        reference: &DataFrame,
        label: &str,
        threshold: f64,
    ) -> Result<Self, MonitorError> {
        let y = labels(reference, label)?;
        let scores = positive_scores(model, reference)?;
        Cbpe::fit(&scores, &y, threshold)
    }

    /// Estimated performance of `model` on an unlabelled batch.
    pub fn estimate_model(
        &self,
        model: &dyn Model,
        batch: &DataFrame,
    ) -> Result<PerformanceEstimate, MonitorError> {
        self.estimate(&positive_scores(model, batch)?)
    }
}

#[cfg(test)]
mod tests;
