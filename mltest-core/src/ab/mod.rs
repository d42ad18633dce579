//! A/B comparisons of model versions.
//!
//! - [`compare_models`]: two models on the same labelled rows. McNemar's test
//!   on the discordant pairs — by default the exact binomial test at any
//!   number of them, as statsmodels' `mcnemar` defaults to; the chi-square
//!   with or without continuity correction through [`CompareOptions`] and
//!   [`compare_models_with`] — and the accuracy difference B − A with its
//!   95% Wald interval for paired proportions.
//! - [`assign`], [`TrafficTest`], [`sample_size`]: a live split. Requests go
//!   to arms by a hash of their id (deterministic, so a user stays in one
//!   arm); the success rates are compared with the pooled two-proportion
//!   z-test (statsmodels `proportions_ztest`), the lift B − A gets a Wald
//!   interval (statsmodels `confint_proportions_2indep(method="wald")`), and
//!   the rows needed per arm for a minimum detectable effect come from
//!   statsmodels' `NormalIndPower` on Cohen's h.
//!
//! Every verdict is *treatment better*, *treatment worse* or *inconclusive*
//! (p ≥ alpha); promotion stays an explicit `mltest models promote`. An A/B
//! `#[test]` ends through `check::run_model_ab`, which records it.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::model::{Model, ModelError, Task, predict_checked};

mod labels;
mod regression;
mod traffic;

use crate::stats::McNemarTest;
pub(crate) use labels::class_labels;
pub use regression::{ErrorComparison, ErrorOptions, compare_regressors};
pub use traffic::{Arm, Require, TrafficResult, TrafficTest, assign, sample_size};

pub use crate::stats::AbVerdict;

fn verdict(p: f64, diff: f64, alpha: f64) -> AbVerdict {
    if p < alpha && diff > 0.0 {
        AbVerdict::TreatmentBetter
    } else if p < alpha && diff < 0.0 {
        AbVerdict::TreatmentWorse
    } else {
        AbVerdict::Inconclusive
    }
}

/// The two-sided normal critical value at `alpha`.
fn z_two_sided(alpha: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - alpha / 2.0)
}

/// Two models on the same labelled rows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelComparison {
    pub a: String,
    pub b: String,
    pub rows: u64,
    pub accuracy_a: f64,
    pub accuracy_b: f64,
    /// Rows only A got right, and rows only B got right.
    pub only_a_right: u64,
    pub only_b_right: u64,
    /// Accuracy B − A and its 95% Wald interval for paired proportions.
    pub difference: f64,
    pub difference_low: f64,
    pub difference_high: f64,
    /// `min(only_a_right, only_b_right)` for the exact test, the chi-square
    /// statistic otherwise.
    pub mcnemar_statistic: f64,
    pub p_value: f64,
    /// The McNemar test behind `p_value`.
    pub mcnemar_test: McNemarTest,
    pub alpha: f64,
    pub verdict: AbVerdict,
}

/// How [`compare_models_with`] decides: the significance level and the
/// McNemar test.
///
/// The default test is the exact binomial ([`McNemarTest::Exact`]) at any
/// number of discordant rows, as statsmodels' `mcnemar` defaults to: it is
/// exact where the chi-square is an approximation, costs next to nothing
/// even at millions of rows, and never rejects more often than alpha says
/// (the uncorrected chi-square does with few discordant rows). The
/// chi-square variants are there to reproduce another tool's figure.
///
/// ```
/// use mltest_core::ab::CompareOptions;
/// use mltest_core::stats::McNemarTest;
/// let o = CompareOptions::alpha(0.01).mcnemar(McNemarTest::ChiSquare { correction: true });
/// assert_eq!(o.alpha, 0.01);
/// assert_eq!(CompareOptions::default().mcnemar, McNemarTest::Exact);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Significance level of the verdict (default 0.05).
    pub alpha: f64,
    /// Which McNemar test gives the p-value (default exact binomial).
    pub mcnemar: McNemarTest,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            alpha: 0.05,
            mcnemar: McNemarTest::Exact,
        }
    }
}

impl CompareOptions {
    /// The default test at significance `alpha`.
    pub fn alpha(alpha: f64) -> Self {
        CompareOptions {
            alpha,
            ..Default::default()
        }
    }

    /// Another McNemar test.
    pub fn mcnemar(self, test: McNemarTest) -> Self {
        CompareOptions {
            mcnemar: test,
            ..self
        }
    }
}

impl ModelComparison {
    /// From the paired counts (`b` rows only A got right, `c` only B), with
    /// the exact McNemar test.
    ///
    /// ```
    /// use mltest_core::ab::{AbVerdict, ModelComparison};
    /// let c = ModelComparison::from_counts("m@1", "m@2", 1000, 850, 30, 45, 0.05);
    /// assert_eq!(c.verdict, AbVerdict::Inconclusive); // exact McNemar p = 0.105
    /// assert!((c.difference - 0.015).abs() < 1e-12);
    /// ```
    pub fn from_counts(
        a: &str,
        b: &str,
        rows: u64,
        a_right: u64,
        only_a_right: u64,
        only_b_right: u64,
        alpha: f64,
    ) -> Self {
        Self::from_counts_with(
            a,
            b,
            rows,
            a_right,
            only_a_right,
            only_b_right,
            CompareOptions::alpha(alpha),
        )
    }

    /// [`from_counts`](Self::from_counts) with the test chosen in `options`.
    ///
    /// ```
    /// use mltest_core::ab::{CompareOptions, ModelComparison};
    /// use mltest_core::stats::McNemarTest;
    /// let o = CompareOptions::alpha(0.05).mcnemar(McNemarTest::ChiSquare { correction: false });
    /// let c = ModelComparison::from_counts_with("m@1", "m@2", 1000, 850, 30, 45, o);
    /// assert!((c.p_value - 0.08326451666355042).abs() < 1e-12); // statsmodels
    /// ```
    pub fn from_counts_with(
        a: &str,
        b: &str,
        rows: u64,
        a_right: u64,
        only_a_right: u64,
        only_b_right: u64,
        options: CompareOptions,
    ) -> Self {
        let alpha = options.alpha;
        let n = rows.max(1) as f64;
        let b_right = a_right - only_a_right + only_b_right;
        let m = crate::stats::mcnemar(only_a_right, only_b_right, options.mcnemar);
        let (stat, p) = (m.statistic, m.p_value);
        let (bc, cc) = (only_a_right as f64, only_b_right as f64);
        let difference = (cc - bc) / n;
        let se = ((bc + cc) - (cc - bc).powi(2) / n).max(0.0).sqrt() / n;
        let zz = z_two_sided(0.05);
        ModelComparison {
            a: a.into(),
            b: b.into(),
            rows,
            accuracy_a: a_right as f64 / n,
            accuracy_b: b_right as f64 / n,
            only_a_right,
            only_b_right,
            difference,
            difference_low: difference - zz * se,
            difference_high: difference + zz * se,
            mcnemar_statistic: stat,
            p_value: p,
            mcnemar_test: m.test,
            alpha,
            verdict: verdict(p, difference, alpha),
        }
    }

    /// The report a person reads.
    pub fn render(&self) -> String {
        use crate::text::fig;
        format!(
            "  A: {} accuracy {} on {} rows\n  B: {} accuracy {}\n  \
             difference B − A: {} (95% interval {} to {})\n  \
             discordant rows: {} only A right, {} only B right; McNemar ({}) statistic {}, p = {}\n  \
             verdict: {} (alpha {})\n",
            self.a,
            fig(self.accuracy_a),
            crate::text::thousands(self.rows),
            self.b,
            fig(self.accuracy_b),
            fig(self.difference),
            fig(self.difference_low),
            fig(self.difference_high),
            self.only_a_right,
            self.only_b_right,
            self.mcnemar_test,
            fig(self.mcnemar_statistic),
            fig(self.p_value),
            self.verdict,
            fig(self.alpha)
        )
    }
}

/// Errors of a model comparison.
#[derive(Debug, thiserror::Error)]
pub enum AbError {
    #[error("{model}: {source}")]
    Model {
        model: String,
        #[source]
        source: Box<ModelError>,
    },
    #[error("label column {label:?}: {why}")]
    Label { label: String, why: String },
    #[error("no labelled rows to compare on")]
    Empty,
}

/// Compares two models on the rows of `data` that have a label in `label`
/// (0/1, false/true), at significance `alpha`, with the exact McNemar test
/// (see [`CompareOptions`] for why; [`compare_models_with`] picks another).
pub fn compare_models(
    a: (&str, &dyn Model),
    b: (&str, &dyn Model),
    data: &polars::prelude::DataFrame,
    label: &str,
    alpha: f64,
) -> Result<ModelComparison, AbError> {
    compare_models_with(a, b, data, label, CompareOptions::alpha(alpha))
}

/// [`compare_models`] with the significance level and McNemar test of
/// `options`.
pub fn compare_models_with(
    a: (&str, &dyn Model),
    b: (&str, &dyn Model),
    data: &polars::prelude::DataFrame,
    label: &str,
    options: CompareOptions,
) -> Result<ModelComparison, AbError> {
    let err = |why: String| AbError::Label {
        label: label.to_string(),
        why,
    };
    let (rows, y) = class_labels(data, label, a.1)?;
    if y.is_empty() {
        return Err(AbError::Empty);
    }
    let task = a.1.card().output.task;
    if task == Task::Regression || b.1.card().output.task != task {
        return Err(err(format!(
            "McNemar compares two classifiers of one task; {} is a {} and {} a {}{}",
            a.0,
            task,
            b.0,
            b.1.card().output.task,
            if task == Task::Regression {
                " (compare regressors with compare_regressors)"
            } else {
                ""
            }
        )));
    }
    if a.1.card().output.classes != b.1.card().output.classes {
        return Err(err(format!(
            "{} and {} predict different classes ({} vs {})",
            a.0,
            b.0,
            a.1.card().output.classes.join(", "),
            b.1.card().output.classes.join(", ")
        )));
    }
    let predict = |(name, m): (&str, &dyn Model)| {
        predict_checked(m, &rows)
            .map(|p| (0..p.len()).map(|i| p.class_of(i)).collect::<Vec<_>>())
            .map_err(|source| AbError::Model {
                model: name.to_string(),
                source: Box::new(source),
            })
    };
    let (pa, pb) = (predict(a)?, predict(b)?);
    let y: Vec<Option<usize>> = y.into_iter().map(Some).collect();
    let (mut a_right, mut only_a, mut only_b) = (0u64, 0u64, 0u64);
    for ((&t, &x), &z) in y.iter().zip(&pa).zip(&pb) {
        let (ra, rb) = (x == t, z == t);
        a_right += u64::from(ra);
        only_a += u64::from(ra && !rb);
        only_b += u64::from(rb && !ra);
    }
    Ok(ModelComparison::from_counts_with(
        a.0,
        b.0,
        y.len() as u64,
        a_right,
        only_a,
        only_b,
        options,
    ))
}
