//! Why a robustness measurement could not run.

use crate::model::ModelError;

/// Errors of a robustness run (bad data, model, perturbation).
#[derive(Debug, thiserror::Error)]
pub enum RobustError {
    #[error("{0}")]
    Model(#[from] ModelError),
    /// The test's keys do not fit the model's task (a regressor without a
    /// tolerance, a direction test on a multiclass model without a class).
    #[error("{model}: {why}")]
    Rule { model: String, why: String },
    /// Every row of the data already ran in earlier rounds.
    #[error("the data has no rows beyond the {ran} cases already run")]
    NoMoreRows { ran: usize },
    /// A perturbation needs a fact (a standard deviation, categories) that
    /// neither the card nor the test gives.
    #[error("{model}: {why}")]
    Facts { model: String, why: String },
    #[error("{0}")]
    Data(String),
    #[error("perturbation: {0}")]
    Perturb(String),
}
