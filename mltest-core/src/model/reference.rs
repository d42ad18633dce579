//! The reference model: the feature pipeline and a logistic regression
//! (trained by linfa-logistic), stored as two tensors plus the card.
//!
//! A trained model is converted right away into this type, and a loaded one
//! is rebuilt into the same type from the same f64 parameters, so both run
//! the same prediction code and give bit-identical probabilities.

use polars::prelude::DataFrame;

use super::features::{FeaturePipeline, SparseRow};
use super::{Model, ModelError};
use super::{Predictions, StoredModel, TrainingFacts};
use crate::store::{Card, ModelStore, Tensor, Tensors};

/// Kind tag of the pipeline JSON in the card.
pub const KIND: &str = "mltest.reference_logistic.v1";

/// Standardised numeric + one-hot categorical + hashed text → logistic regression.
#[derive(Clone, Debug)]
pub struct ReferenceModel {
    card: Card,
    pipeline: FeaturePipeline,
    weights: Vec<f64>,
    intercept: f64,
}

impl ReferenceModel {
    /// Assembles a model; the card's `pipeline` is set from `pipeline`.
    pub fn new(
        mut card: Card,
        pipeline: FeaturePipeline,
        weights: Vec<f64>,
        intercept: f64,
    ) -> Result<Self, ModelError> {
        if weights.len() != pipeline.width() {
            return Err(ModelError::Format {
                expected: "reference model",
                why: format!(
                    "{} weights for {} features",
                    weights.len(),
                    pipeline.width()
                ),
            });
        }
        card.pipeline = serde_json::json!({ "kind": KIND, "features": pipeline });
        Ok(ReferenceModel {
            card,
            pipeline,
            weights,
            intercept,
        })
    }

    /// Loads and rebuilds `id` from a store (`store.load_as::<ReferenceModel>(id)`).
    pub fn load(store: &ModelStore, id: &str) -> Result<Self, ModelError> {
        store.load_as(id)
    }

    /// The feature pipeline.
    pub fn pipeline(&self) -> &FeaturePipeline {
        &self.pipeline
    }

    /// Coefficients, in feature order.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Mutable card (metrics, description) before saving.
    pub fn card_mut(&mut self) -> &mut Card {
        &mut self.card
    }

    /// P(positive) for rows already turned into features: the sparse dot
    /// product the robustness runner uses to score many perturbed rows.
    pub fn predict_sparse(&self, rows: &[SparseRow]) -> Vec<f64> {
        rows.iter()
            .map(|row| {
                let z = row.iter().fold(self.intercept, |acc, (i, v)| {
                    acc + self.weights[*i as usize] * v
                });
                1.0 / (1.0 + (-z).exp())
            })
            .collect()
    }
}

impl Model for ReferenceModel {
    fn card(&self) -> &Card {
        &self.card
    }

    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        self.predict_proba(rows).map(Predictions::Binary)
    }

    /// The card's facts, with the standard deviations the pipeline
    /// standardises by (cards saved before the input schema kept them lack them).
    fn facts(&self) -> TrainingFacts {
        let mut f = TrainingFacts::from_card(&self.card);
        for n in &self.pipeline.numeric {
            f.stds.entry(n.column.clone()).or_insert(n.std);
        }
        f
    }
}

impl ReferenceModel {
    /// P(positive) per row.
    pub fn predict_proba(&self, rows: &DataFrame) -> Result<Vec<f64>, ModelError> {
        use rayon::prelude::*;
        self.card.check_input(rows)?;
        // Rows are scored independently, in fixed chunks of 1,024 on every
        // core: the output (every value, in row order) is the same on any
        // thread count and as in one piece.
        const CHUNK: usize = 1024;
        let n = rows.height();
        let score = |part: &DataFrame| -> Result<Vec<f64>, ModelError> {
            let z = self.pipeline.margins(part, &self.weights, self.intercept)?;
            Ok(z.into_iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect())
        };
        if n <= CHUNK {
            return score(rows);
        }
        let parts: Vec<Result<Vec<f64>, ModelError>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| score(&rows.slice((c * CHUNK) as i64, CHUNK)))
            .collect();
        let mut out = Vec::with_capacity(n);
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }
}

impl StoredModel for ReferenceModel {
    const KIND: &'static str = KIND;

    fn from_stored(card: Card, tensors: Tensors) -> Result<Self, ModelError> {
        let fmt = |why: String| ModelError::Format {
            expected: "reference model",
            why,
        };
        let pipeline: FeaturePipeline = serde_json::from_value(card.pipeline["features"].clone())
            .map_err(|e| fmt(format!("pipeline: {e}")))?;
        let tensor = |name: &str| {
            tensors
                .get(name)
                .and_then(Tensor::to_f64)
                .ok_or_else(|| fmt(format!("no f64 tensor {name:?}")))
        };
        let weights = tensor("weights")?;
        let intercept = *tensor("intercept")?
            .first()
            .ok_or_else(|| fmt("empty intercept".into()))?;
        ReferenceModel::new(card, pipeline, weights, intercept)
    }

    fn to_tensors(&self) -> Tensors {
        let mut t = Tensors::new();
        t.insert(
            "weights".into(),
            Tensor::f64(vec![self.weights.len()], &self.weights),
        );
        t.insert("intercept".into(), Tensor::f64(vec![1], &[self.intercept]));
        t
    }
}
