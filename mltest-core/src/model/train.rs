//! Training the reference model as a pipeline step.
//!
//! # Errors and interruption
//!
//! Everything that can be known before fitting is checked before fitting:
//! fewer usable rows (rows with a label) than `min_rows` is
//! [`TrainError::TooFewRows`]; a label with one class only is
//! [`TrainError::OneClass`]; a NaN or infinite numeric feature is
//! [`TrainError::NonFinite`] naming the column; a missing column names it
//! and lists the others. None of these writes anything. Fitting itself
//! reports the optimizer's error as [`TrainError::Fit`].
//!
//! # The fit
//!
//! The design stays sparse end to end: the feature pipeline's rows go into
//! a CSR matrix and [`SparseLogisticRegression`] (argmin's L-BFGS on two
//! sparse products per evaluation) fits it. The dense linfa-logistic path
//! this replaced spent 62.8 s on the reviews data at 1,024 buckets, where
//! this one takes well under a second at 4,096 or 65,536 (BENCHMARKS.md). Interruption is handled by
//! the layers around this function: the store writes a version atomically
//! (complete or absent, whatever kills the process), and the pipeline's run
//! record marks a run that did not finish as interrupted.

use std::time::Instant;

use linfa::prelude::*;
use ndarray::Array1;
use polars::prelude::*;

use super::features::FeaturePipeline;
use super::logistic::{Csr, FittedSparseLogistic, LogisticError, SparseLogisticRegression};
use super::{Model, ModelError, ReferenceModel};
use crate::data::{DType, DataInfo};
use crate::store::{Card, DataFingerprint, InputColumn, OutputSchema};

/// What to train on and how.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub label: String,
    pub numeric: Vec<String>,
    pub categorical: Vec<String>,
    pub text: Vec<String>,
    /// Hashed text buckets. The fit is sparse, so its cost grows with the
    /// non-zeros, not with this width; a wider hash means fewer words
    /// sharing a bucket (BENCHMARKS.md: accuracy and typo flips by width).
    pub buckets: usize,
    /// L-BFGS iterations at most.
    pub max_iterations: u64,
    /// The fit stops when no component of the mean-scaled gradient exceeds
    /// this: 1e-4, scikit-learn's default `tol` under the same rule (see
    /// [`SparseLogisticRegression::gradient_tolerance`]).
    pub gradient_tolerance: f64,
    /// L2 penalty (scikit-learn's `1/C`).
    pub alpha: f64,
    /// Jacobi-precondition the fit (see
    /// [`SparseLogisticRegression::precondition`]); `false` takes
    /// scikit-learn's plain lbfgs path.
    pub precondition: bool,
    pub min_rows: usize,
    pub seed: u64,
    pub test_fraction: f64,
    /// Why these inputs (and not others): goes into the card's description.
    pub notes: String,
}

impl TrainConfig {
    /// The reviews model: `Recommended IND` from Age, Positive Feedback
    /// Count, Division/Department/Class and Title + Review Text. Rating is
    /// left out on purpose: it is written in the same form at the same
    /// moment as the recommendation (a second label, |r| = 0.79).
    pub fn reviews() -> Self {
        TrainConfig {
            label: "Recommended IND".into(),
            numeric: vec!["Age".into(), "Positive Feedback Count".into()],
            categorical: vec![
                "Division Name".into(),
                "Department Name".into(),
                "Class Name".into(),
            ],
            text: vec!["Title".into(), "Review Text".into()],
            buckets: 1 << 16,
            max_iterations: 1000,
            gradient_tolerance: 1e-4,
            alpha: 1.0,
            precondition: true,
            min_rows: 1_000,
            seed: 42,
            test_fraction: 0.2,
            notes: "Rating is deliberately not an input: it is written in the same form at the same \
                    moment as the recommendation, a second label rather than a predictor (|r| = 0.79 \
                    with the label in the 2019 export)."
                .into(),
        }
    }
}

/// Why training did not produce a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(
        "too few usable rows to train: {usable} rows have a {label:?} label, at least {min} are needed"
    )]
    TooFewRows {
        usable: usize,
        min: usize,
        label: String,
    },
    #[error(
        "the label {label:?} has one class only ({class:?}) in {rows} training rows: nothing to learn"
    )]
    OneClass {
        label: String,
        class: String,
        rows: usize,
    },
    #[error("feature column {column:?} holds {count} NaN or infinite values")]
    NonFinite { column: String, count: usize },
    #[error("label {label:?}: {why}")]
    Label { label: String, why: String },
    #[error(transparent)]
    Model(ModelError),
    #[error("fitting failed: {0}")]
    Fit(#[from] LogisticError),
}

impl From<ModelError> for TrainError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::NonFinite { column, count } => TrainError::NonFinite { column, count },
            other => TrainError::Model(other),
        }
    }
}

/// Labels as booleans (positive = 1 / "1" / true); rows without a label are dropped.
fn labelled(frame: &DataFrame, label: &str) -> Result<(DataFrame, Vec<bool>), TrainError> {
    let err = |why: String| TrainError::Label {
        label: label.to_string(),
        why,
    };
    let c = frame.column(label).map_err(|_| {
        err(format!(
            "column not found; available: {}",
            crate::data::column_names(frame)
        ))
    })?;
    let mask = c.is_not_null();
    let kept = frame.filter(&mask).map_err(|e| err(e.to_string()))?;
    let col = kept.column(label).map_err(|e| err(e.to_string()))?;
    let y: Vec<bool> = match col.dtype() {
        DataType::Boolean => col
            .bool()
            .map_err(|e| err(e.to_string()))?
            .iter()
            .map(|v| v == Some(true))
            .collect(),
        dt if dt.is_integer() => {
            let c = col.cast(&DataType::Int64).map_err(|e| err(e.to_string()))?;
            let v: Vec<i64> = c
                .i64()
                .map_err(|e| err(e.to_string()))?
                .iter()
                .flatten()
                .collect();
            if let Some(bad) = v.iter().find(|x| !matches!(x, 0 | 1)) {
                return Err(err(format!("expected 0/1, found {bad}")));
            }
            v.into_iter().map(|x| x == 1).collect()
        }
        other => {
            return Err(err(format!(
                "expected a 0/1 or boolean column, found {other}"
            )));
        }
    };
    Ok((kept, y))
}

/// The input schema the card records: dtypes, categories, ranges, nullability.
fn input_schema(frame: &DataFrame, pipeline: &FeaturePipeline) -> Vec<InputColumn> {
    let nullable = |c: &str| frame.column(c).map(|c| c.null_count() > 0).unwrap_or(true);
    let mut inputs = Vec::new();
    for f in &pipeline.numeric {
        inputs.push(InputColumn {
            name: f.column.clone(),
            dtype: DType::Numeric,
            categories: None,
            range: Some((f.min, f.max)),
            nullable: nullable(&f.column),
            std: Some(f.std),
        });
    }
    for f in &pipeline.categorical {
        inputs.push(InputColumn {
            name: f.column.clone(),
            dtype: DType::Text,
            categories: Some(f.categories.clone()),
            range: None,
            nullable: nullable(&f.column),
            std: None,
        });
    }
    for c in &pipeline.text.columns {
        inputs.push(InputColumn {
            name: c.clone(),
            dtype: DType::Text,
            categories: None,
            range: None,
            nullable: nullable(c),
            std: None,
        });
    }
    inputs
}

fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// How a fit went: the optimizer's figures and where the time went.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// Training rows (rows with a label).
    pub rows: usize,
    /// Columns of the design.
    pub width: usize,
    /// Non-zeros of the design.
    pub nnz: usize,
    pub iterations: u64,
    /// Loss-and-gradient evaluations.
    pub evaluations: u64,
    /// The unscaled objective at the solution (see [`FittedSparseLogistic::objective`]).
    pub objective: f64,
    pub converged: bool,
    /// Fitting the pipeline and building the design.
    pub features_seconds: f64,
    /// The optimizer alone.
    pub fit_seconds: f64,
}

/// The design matrix and labels of labelled `rows` under a fitted pipeline:
/// what the fit sees (and what `bench/model_quality.py` hands to
/// scikit-learn to fit the same problem).
pub fn design(
    rows: &DataFrame,
    pipeline: &FeaturePipeline,
    label: &str,
) -> Result<(Csr, Vec<bool>), TrainError> {
    let (rows, y) = labelled(rows, label)?;
    let sparse = pipeline.transform(&rows)?;
    Ok((Csr::from_rows(&sparse, pipeline.width())?, y))
}

/// Fits the reference model on `train`. `data` is the provenance of the
/// whole data set (its fingerprint goes into the card).
///
/// ```
/// use mltest_core::data::{generator::ReviewsSpec, Dataset};
/// use mltest_core::model::train::{train, TrainConfig};
/// let data = Dataset::from_frame("generated", ReviewsSpec::new(3_000, 7).generate().unwrap());
/// let mut config = TrainConfig::reviews();
/// config.buckets = 4096;
/// let model = train(data.frame(), &config, data.info()).unwrap();
/// assert_eq!(model.weights().len(), model.pipeline().width());
/// let again = train(data.frame(), &config, data.info()).unwrap();
/// assert_eq!(model.weights(), again.weights(), "same data and seed: the same model");
/// ```
pub fn train(
    train: &DataFrame,
    config: &TrainConfig,
    data: &DataInfo,
) -> Result<ReferenceModel, TrainError> {
    train_with_report(train, config, data).map(|(m, _)| m)
}

/// [`train`], with the optimizer's figures and timings.
pub fn train_with_report(
    train: &DataFrame,
    config: &TrainConfig,
    data: &DataInfo,
) -> Result<(ReferenceModel, FitReport), TrainError> {
    let start = Instant::now();
    let (rows, y) = labelled(train, &config.label)?;
    if rows.height() < config.min_rows {
        return Err(TrainError::TooFewRows {
            usable: rows.height(),
            min: config.min_rows,
            label: config.label.clone(),
        });
    }
    let positives = y.iter().filter(|v| **v).count();
    if positives == 0 || positives == y.len() {
        return Err(TrainError::OneClass {
            label: config.label.clone(),
            class: if positives == 0 { "0" } else { "1" }.into(),
            rows: y.len(),
        });
    }
    let pipeline = FeaturePipeline::fit(
        &rows,
        &names(&config.numeric),
        &names(&config.categorical),
        &names(&config.text),
        config.buckets,
    )?;
    let x = Csr::from_rows(&pipeline.transform(&rows)?, pipeline.width())?;
    let (width, nnz) = (x.n_cols(), x.nnz());
    let features_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let dataset = linfa::DatasetBase::new(x, Array1::from(y));
    let fitted: FittedSparseLogistic = SparseLogisticRegression::default()
        .alpha(config.alpha)
        .max_iterations(config.max_iterations)
        .gradient_tolerance(config.gradient_tolerance)
        .precondition(config.precondition)
        .fit(&dataset)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let report = FitReport {
        rows: rows.height(),
        width,
        nnz,
        iterations: fitted.iterations(),
        evaluations: fitted.evaluations(),
        objective: fitted.objective(),
        converged: fitted.converged(),
        features_seconds,
        fit_seconds,
    };

    let mut card = Card::new(OutputSchema::binary(config.label.clone(), ["0", "1"], "1"));
    card.description = Some(format!(
        "Logistic regression (sparse L-BFGS, alpha {}, {} of at most {} iterations) predicting \
         {:?} from standardised {}, one-hot {} (with an unknown bucket) and {} hashed-text \
         buckets of {}. {}",
        config.alpha,
        fitted.iterations(),
        config.max_iterations,
        config.label,
        config.numeric.join(", "),
        config.categorical.join(", "),
        pipeline.text.buckets,
        config.text.join(" + "),
        config.notes
    ));
    card.inputs = input_schema(&rows, &pipeline);
    card.training_data = Some(DataFingerprint {
        source: data.origin.clone(),
        rows: data.rows,
        sha256: data.sha256.clone(),
    });
    card.metrics
        .insert("train_rows".into(), rows.height() as f64);
    card.metrics
        .insert("fit_iterations".into(), fitted.iterations() as f64);
    card.metrics
        .insert("fit_objective".into(), fitted.objective());
    let model = ReferenceModel::new(
        card,
        pipeline,
        fitted.weights().to_vec(),
        fitted.intercept(),
    )?;
    Ok((model, report))
}

/// Accuracy and counts on labelled rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub rows: usize,
    pub accuracy: f64,
    pub positives: usize,
    pub predicted_positive: usize,
}

/// Evaluates a model on labelled rows.
pub fn evaluate(
    model: &dyn Model,
    rows: &DataFrame,
    label: &str,
) -> Result<Evaluation, TrainError> {
    let (rows, y) = labelled(rows, label)?;
    let p = super::predict_checked(model, &rows)?;
    let predicted: Vec<bool> = (0..p.len()).map(|i| p.class_of(i) == Some(1)).collect();
    let correct = predicted.iter().zip(&y).filter(|(p, y)| p == y).count();
    Ok(Evaluation {
        rows: y.len(),
        accuracy: correct as f64 / y.len().max(1) as f64,
        positives: y.iter().filter(|v| **v).count(),
        predicted_positive: predicted.iter().filter(|v| **v).count(),
    })
}
