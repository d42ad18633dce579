//! Models: the [`Model`] trait every model check calls, [`Predictions`] by
//! task (binary, multiclass, regression) and the checks they pass
//! ([`predict_checked`]), [`StoredModel`] for types the store saves and
//! loads, model fixtures ([`shared`], [`IntoModel`]), and the built-in
//! reference model (features + linfa-logistic) with its training step.

mod facts;
mod features;
mod fixture;
pub mod logistic;
#[cfg(feature = "onnx")]
mod onnx;
mod output;
mod reference;
mod stored;
pub mod train;

pub use facts::{MAX_CATEGORIES, TrainingFacts};
pub use features::{
    CategoricalFeature, FeaturePipeline, NumericFeature, SparseRow, TextFeature, hash_token, tokens,
};
pub use fixture::{IntoModel, ModelHandle, ModelRef, from_store, from_store_at, shared};
#[cfg(feature = "onnx")]
pub use onnx::{InputDtype, OnnxError, OnnxInput, OnnxModel, UnsupportedOp};
pub use output::{Predictions, Task, predict_checked};
pub use reference::ReferenceModel;
pub use stored::{MODEL_KINDS, ModelKind, StoredModel, load_any};

use polars::prelude::DataFrame;

use crate::store::{Card, StoreError};

/// Why a model could not predict or be built. Every variant that concerns a
/// model's behaviour names the model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("column {column:?} is missing; available: {available}")]
    MissingColumn { column: String, available: String },
    #[error("column {column:?} holds {count} NaN or infinite values")]
    NonFinite { column: String, count: usize },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored model is not a {expected}: {why}")]
    Format { expected: &'static str, why: String },
    /// The model panicked while predicting.
    #[error("{model} panicked while predicting: {message}")]
    Panicked { model: String, message: String },
    /// The model returned something its card rules out.
    #[error("{model}: {problem}")]
    Output { model: String, problem: String },
    /// A model fixture returned an error.
    #[error("model fixture `{fixture}`: {message}")]
    Fixture { fixture: String, message: String },
}

/// A model of any kind — a binary or multiclass classifier, a regressor —
/// over rows of a data frame. Implement it to test your own model with
/// mltest's robustness, drift, A/B and slice checks; its card's output
/// schema says which task it does, and every check reads its predictions
/// through [`predict_checked`].
///
/// ```
/// use mltest_core::model::{Model, ModelError, Predictions, predict_checked};
/// use mltest_core::store::{Card, OutputSchema};
/// use polars::prelude::*;
///
/// /// Recommends when the rating is 4 or 5.
/// struct ByRating(Card);
/// impl Model for ByRating {
///     fn card(&self) -> &Card { &self.0 }
///     fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
///         let r = rows.column("Rating").and_then(|c| c.cast(&DataType::Int64))
///             .map_err(|e| ModelError::Input(e.to_string()))?;
///         let r = r.i64().map_err(|e| ModelError::Input(e.to_string()))?;
///         Ok(Predictions::binary(r.iter().map(|v| if v.unwrap_or(0) >= 4 { 0.9 } else { 0.1 }).collect()))
///     }
/// }
/// let m = ByRating(Card::new(OutputSchema::binary("Recommended IND", ["0", "1"], "1")));
/// let rows = df!("Rating" => [5i64, 2]).unwrap();
/// let p = predict_checked(&m, &rows).unwrap();
/// assert_eq!((p.class_of(0), p.class_of(1)), (Some(1), Some(0)));
/// ```
pub trait Model: Send + Sync {
    /// The card: input and output schema (the task), pipeline, provenance.
    fn card(&self) -> &Card;

    /// Predictions for each row, in row order, of the task the card states.
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError>;

    /// What a legal perturbed row is: the categories, ranges and standard
    /// deviations training saw. By default the card's input schema; a type
    /// that knows more (the reference model's pipeline) adds it.
    fn facts(&self) -> TrainingFacts {
        TrainingFacts::from_card(self.card())
    }
}

impl<M: Model + ?Sized> Model for std::sync::Arc<M> {
    fn card(&self) -> &Card {
        (**self).card()
    }
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        (**self).predict(rows)
    }
    fn facts(&self) -> TrainingFacts {
        (**self).facts()
    }
}

impl<M: Model + ?Sized> Model for Box<M> {
    fn card(&self) -> &Card {
        (**self).card()
    }
    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        (**self).predict(rows)
    }
    fn facts(&self) -> TrainingFacts {
        (**self).facts()
    }
}
