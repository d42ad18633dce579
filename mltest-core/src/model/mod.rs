//! Models: the [`Model`] trait users test through, and the built-in
//! reference model (features + linfa-logistic) with its training step.

mod features;
mod reference;
pub mod train;

pub use features::{
    CategoricalFeature, FeaturePipeline, NumericFeature, SparseRow, TextFeature, hash_token, tokens,
};
pub use reference::ReferenceModel;

use polars::prelude::DataFrame;

use crate::store::{Card, ModelStore, StoreError, Tensors};

/// Why a model could not predict or be built.
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
}

/// A binary classifier over rows of a data frame. Implement it to test
/// your own model with mltest's robustness, drift and A/B checks.
///
/// ```
/// use mltest_core::model::{Model, ModelError};
/// use mltest_core::store::{Card, OutputSchema, Tensors};
/// use polars::prelude::*;
///
/// /// Recommends when the rating is 4 or 5.
/// struct ByRating(Card);
/// impl Model for ByRating {
///     fn card(&self) -> &Card { &self.0 }
///     fn predict_proba(&self, rows: &DataFrame) -> Result<Vec<f64>, ModelError> {
///         let r = rows.column("Rating").map_err(|e| ModelError::Input(e.to_string()))?.i64()
///             .map_err(|e| ModelError::Input(e.to_string()))?.clone();
///         Ok(r.iter().map(|v| if v.unwrap_or(0) >= 4 { 0.9 } else { 0.1 }).collect())
///     }
///     fn tensors(&self) -> Tensors { Tensors::new() }
/// }
/// let m = ByRating(Card::new(OutputSchema { label: "y".into(), classes: vec!["0".into(), "1".into()], positive_class: "1".into() }));
/// let rows = df!("Rating" => [5i64, 2]).unwrap();
/// assert_eq!(m.predict(&rows).unwrap(), vec![true, false]);
/// ```
pub trait Model: Send + Sync {
    /// The card: input and output schema, pipeline, provenance.
    fn card(&self) -> &Card;

    /// P(positive class) for each row, in row order.
    fn predict_proba(&self, rows: &DataFrame) -> Result<Vec<f64>, ModelError>;

    /// The tensors that, with the card, reconstruct the model.
    fn tensors(&self) -> Tensors;

    /// Predicted labels: positive when P ≥ 0.5.
    fn predict(&self, rows: &DataFrame) -> Result<Vec<bool>, ModelError> {
        Ok(self
            .predict_proba(rows)?
            .into_iter()
            .map(|p| p >= 0.5)
            .collect())
    }

    /// Saves a new version to the store; returns its id.
    fn save(&self, store: &ModelStore, name: &str) -> Result<String, StoreError> {
        store.save(name, self.card().clone(), &self.tensors())
    }
}
