//! Drift between a reference (training) data set and a current one.
//!
//! A [`Drift`] is a value, like an expectation: the columns to compare and
//! the thresholds. [`Drift::evaluate`] computes, per column,
//!
//! | column kind | significance test | effect size (decides "large enough") | also reported |
//! |---|---|---|---|
//! | numeric | two-sample KS, p as scipy's `ks_2samp` | Wasserstein distance / reference std | raw Wasserstein, PSI |
//! | categorical | chi-square test of homogeneity | Jensen–Shannon distance (natural log) | PSI |
//! | text | KS on the length in characters | length: normalised Wasserstein; vocabulary: rise in the out-of-vocabulary rate | PSI of lengths |
//! | prediction | KS on the model's scores | normalised Wasserstein of the scores | PSI |
//!
//! and then an honest verdict:
//!
//! - a column drifts only when its shift is **significant and large**: the
//!   Benjamini–Hochberg adjusted p-value is below `alpha` (0.05) *and* the
//!   effect is at least the minimum effect (0.1 for both distances, the
//!   value Evidently uses for large samples). Evidently switches from a
//!   p-value rule to a distance rule at 1,000 reference rows, so its verdict
//!   on the same shift changes with sample size; requiring both removes that
//!   flip in both directions (tiny significant shifts of huge samples, and
//!   large-looking but insignificant shifts of tiny ones);
//! - p-values are adjusted for testing many columns at once
//!   (Benjamini–Hochberg, false discovery rate `alpha`);
//! - each effect comes with a 95% interval (Poisson bootstrap of the value
//!   counts, 200 resamples, seeded);
//! - each column reports the *smallest significant effect* its sample sizes
//!   allow; when that exceeds the minimum effect the test is under-powered
//!   (a drift that matters could go unseen), and when it is below a quarter
//!   of it the p-value alone would flag negligible shifts (over-powered), so
//!   the verdict rests on the effect size;
//! - the data set drifts when at least `dataset_share` (0.5, Evidently's
//!   default) of the compared columns drift.
//!
//! Either side can be a committed [`Profile`] snapshot instead of raw rows,
//! for every statistic computable from binned or counted data; exact KS and
//! Wasserstein need the value counts, which a profile keeps for columns with
//! at most [`profile::EXACT_MAX_DISTINCT`] distinct values, and say so when
//! they are missing.

mod column;
pub mod profile;
mod render;
mod side;
pub mod summary;

pub use column::{ColumnDrift, Power};
pub use profile::Profile;
pub use render::DriftReport;
pub use side::{Side, SideData};

use polars::prelude::{Column, DataFrame};

use crate::model::ModelHandle;

/// The model whose predictions a [`Drift`] compares.
#[derive(Clone, Debug)]
pub enum PredictionModel {
    /// A store id, loaded from the default store once per test binary.
    Id(String),
    /// A model already in hand (a fixture's, through [`crate::model::shared`]).
    Model(Result<ModelHandle, String>),
}

impl PredictionModel {
    fn name(&self) -> String {
        match self {
            PredictionModel::Id(id) => id.clone(),
            PredictionModel::Model(Ok(h)) => h.id.clone(),
            PredictionModel::Model(Err(_)) => "the model fixture".into(),
        }
    }

    fn resolve(&self) -> Result<ModelHandle, String> {
        match self {
            PredictionModel::Id(id) => crate::model::from_store(id).map_err(|e| e.to_string()),
            PredictionModel::Model(m) => m.clone(),
        }
    }
}

/// What [`Drift::prediction`] accepts: a store id, a [`ModelHandle`], or a
/// model fixture function (run once per test binary).
///
/// ```
/// use mltest_core::drift::{Drift, IntoPredictionModel};
/// let d = Drift::columns(["Age"]).prediction("reviews@champion");
/// # let _ = d;
/// ```
pub trait IntoPredictionModel {
    fn into_prediction_model(self) -> PredictionModel;
}

impl IntoPredictionModel for &str {
    fn into_prediction_model(self) -> PredictionModel {
        PredictionModel::Id(self.to_string())
    }
}

impl IntoPredictionModel for String {
    fn into_prediction_model(self) -> PredictionModel {
        PredictionModel::Id(self)
    }
}

impl IntoPredictionModel for ModelHandle {
    fn into_prediction_model(self) -> PredictionModel {
        PredictionModel::Model(Ok(self))
    }
}

impl<F, R> IntoPredictionModel for F
where
    F: Fn() -> R + 'static,
    R: crate::model::IntoModel,
{
    fn into_prediction_model(self) -> PredictionModel {
        PredictionModel::Model(crate::model::shared(self).map_err(|e| e.to_string()))
    }
}

/// Significance level for every p-value test (after Benjamini–Hochberg).
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Minimum normalised Wasserstein distance that counts as drift (Evidently's
/// large-sample threshold): a tenth of the reference's standard deviation.
pub const DEFAULT_MIN_WASSERSTEIN: f64 = 0.1;
/// Minimum Jensen–Shannon distance that counts as drift (Evidently's threshold).
pub const DEFAULT_MIN_JENSEN_SHANNON: f64 = 0.1;
/// Rise of the out-of-vocabulary token rate over the reference's own rate of
/// rare words that counts as text drift: 5 points means one token in twenty
/// is new to the model.
pub const DEFAULT_MAX_OOV_RISE: f64 = 0.05;
/// Share of drifted columns at which the data set drifts (Evidently's default).
pub const DEFAULT_DATASET_SHARE: f64 = 0.5;
/// Bootstrap resamples for effect-size intervals.
pub const BOOTSTRAP_RESAMPLES: usize = 200;

/// Errors that stop a drift comparison: each names the side and column.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("{side}: column {column:?} {why}")]
    Column {
        side: String,
        column: String,
        why: String,
    },
    #[error("{side}: no rows to compare{}", .column.as_ref().map(|c| format!(" in column {c:?}")).unwrap_or_default())]
    Empty {
        side: String,
        column: Option<String>,
    },
    #[error("{0}")]
    Side(String),
    #[error("drift declares no columns: add `.columns([...])`, `.text(..)` or `.prediction(..)`")]
    NoColumns,
    #[error("prediction drift with {model}: {why}")]
    Prediction { model: String, why: String },
}

impl DriftError {
    fn polars(side: &str, column: &str, e: impl std::fmt::Display) -> Self {
        DriftError::Column {
            side: side.to_string(),
            column: column.to_string(),
            why: format!("cannot be read: {e}"),
        }
    }
}

pub(crate) fn frame_column<'a>(
    frame: &'a DataFrame,
    side: &str,
    name: &str,
) -> Result<&'a Column, DriftError> {
    frame.column(name).map_err(|_| {
        let names: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect();
        let hint = crate::text::closest(name, names.iter().copied())
            .map(|c| format!(" (did you mean {c:?}?)"))
            .unwrap_or_default();
        DriftError::Column {
            side: side.to_string(),
            column: name.to_string(),
            why: format!(
                "does not exist{hint}; columns: {}",
                crate::data::column_names(frame)
            ),
        }
    })
}

/// How a column is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Numeric columns compare as numbers, string columns as categories.
    Auto,
    Numeric,
    Categorical,
    Text,
    /// The model's scores (not a column of the data).
    Prediction,
}

impl std::fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ColumnKind::Auto => "auto",
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
            ColumnKind::Text => "text",
            ColumnKind::Prediction => "prediction",
        })
    }
}

/// Whether the check passes on no drift (the normal case) or on drift (a
/// test that the detector sees a shift it must see).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    NoDrift,
    Drift,
}

/// A drift comparison: which columns, which thresholds.
///
/// ```
/// use mltest_core::drift::{Drift, Side};
/// use mltest_core::Dataset;
/// use polars::prelude::*;
///
/// let reference = Dataset::from_frame("train", df!(
///     "age" => (0..2000).map(|i| 20.0 + (i % 40) as f64).collect::<Vec<_>>(),
///     "dept" => (0..2000).map(|i| ["Tops", "Dresses"][i % 2]).collect::<Vec<_>>(),
/// ).unwrap());
/// let current = Dataset::from_frame("today", df!(
///     "age" => (0..1000).map(|i| 35.0 + (i % 40) as f64).collect::<Vec<_>>(),
///     "dept" => (0..1000).map(|i| ["Tops", "Dresses"][i % 2]).collect::<Vec<_>>(),
/// ).unwrap());
/// let report = Drift::columns(["age", "dept"])
///     .evaluate(&Side::data(reference), &Side::data(current))
///     .unwrap();
/// assert!(report.column("age").unwrap().drifted);   // shifted by 15 years
/// assert!(!report.column("dept").unwrap().drifted); // same shares
/// ```
#[derive(Clone, Debug)]
pub struct Drift {
    pub(crate) columns: Vec<(String, ColumnKind)>,
    pub(crate) prediction: Option<PredictionModel>,
    pub(crate) alpha: f64,
    pub(crate) min_wasserstein: f64,
    pub(crate) min_jensen_shannon: f64,
    pub(crate) max_oov_rise: f64,
    pub(crate) dataset_share: f64,
    pub(crate) expect: Expect,
    pub(crate) seed: u64,
}

impl Drift {
    /// Compares these columns; numeric dtypes as numbers, others as categories.
    pub fn columns<I, S>(columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Drift {
            columns: columns
                .into_iter()
                .map(|c| (c.into(), ColumnKind::Auto))
                .collect(),
            prediction: None,
            alpha: DEFAULT_ALPHA,
            min_wasserstein: DEFAULT_MIN_WASSERSTEIN,
            min_jensen_shannon: DEFAULT_MIN_JENSEN_SHANNON,
            max_oov_rise: DEFAULT_MAX_OOV_RISE,
            dataset_share: DEFAULT_DATASET_SHARE,
            expect: Expect::NoDrift,
            seed: 0x6d6c_7465_7374,
        }
    }

    fn with(
        mut self,
        columns: impl IntoIterator<Item = impl Into<String>>,
        kind: ColumnKind,
    ) -> Self {
        for c in columns {
            let c = c.into();
            match self.columns.iter_mut().find(|(n, _)| *n == c) {
                Some(entry) => entry.1 = kind,
                None => self.columns.push((c, kind)),
            }
        }
        self
    }

    /// Compares these columns as categories (e.g. a 1–5 rating, as Evidently does).
    pub fn categorical(self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.with(columns, ColumnKind::Categorical)
    }

    /// Compares these columns as numbers.
    pub fn numeric(self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.with(columns, ColumnKind::Numeric)
    }

    /// Compares these columns as free text: length and vocabulary.
    pub fn text(self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.with(columns, ColumnKind::Text)
    }

    /// Also compares a model's predictions on both sides: a store id
    /// (`"NAME@VERSION"`, `"NAME@ALIAS"`), a model fixture function, or a
    /// [`ModelHandle`](crate::model::ModelHandle). P(positive) of a binary
    /// classifier and a regressor's values are compared as numbers, a
    /// multiclass classifier's predicted class as a category. Needs raw rows
    /// on both sides.
    pub fn prediction(mut self, model: impl IntoPredictionModel) -> Self {
        self.prediction = Some(model.into_prediction_model());
        self
    }

    /// Significance level after Benjamini–Hochberg (default 0.05).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Minimum normalised Wasserstein distance that counts (default 0.1).
    pub fn min_wasserstein(mut self, d: f64) -> Self {
        self.min_wasserstein = d;
        self
    }

    /// Minimum Jensen–Shannon distance that counts (default 0.1).
    pub fn min_jensen_shannon(mut self, d: f64) -> Self {
        self.min_jensen_shannon = d;
        self
    }

    /// Largest tolerated rise of the out-of-vocabulary rate (default 0.05).
    pub fn max_oov_rise(mut self, d: f64) -> Self {
        self.max_oov_rise = d;
        self
    }

    /// Share of drifted columns at which the data set drifts (default 0.5;
    /// `0.0` fails on any drifted column).
    pub fn dataset_share(mut self, share: f64) -> Self {
        self.dataset_share = share;
        self
    }

    /// The check passes only when the data set *does* drift: for tests that
    /// the detector sees a shift it must see.
    pub fn expect_drift(mut self) -> Self {
        self.expect = Expect::Drift;
        self
    }

    /// Seed of the bootstrap intervals (default fixed, so reports repeat).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Compares the sides.
    pub fn evaluate(&self, reference: &Side, current: &Side) -> Result<DriftReport, DriftError> {
        if self.columns.is_empty() && self.prediction.is_none() {
            return Err(DriftError::NoColumns);
        }
        // Columns are independent until the verdict: summarise them in parallel.
        let results: Vec<Result<ColumnDrift, DriftError>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .columns
                .iter()
                .map(|(name, kind)| {
                    s.spawn(move || column::compare(self, reference, current, name, *kind))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut columns = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        if let Some(model) = &self.prediction {
            columns.push(column::compare_predictions(
                self, reference, current, model,
            )?);
        }
        Ok(DriftReport::decide(self, reference, current, columns))
    }
}
