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

use crate::model::{Model, ModelError};
use crate::stats::McNemarTest;

/// The outcome of an A/B comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbVerdict {
    /// B is significantly better than A.
    TreatmentBetter,
    /// B is significantly worse than A.
    TreatmentWorse,
    /// No significant difference at alpha.
    Inconclusive,
}

impl std::fmt::Display for AbVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AbVerdict::TreatmentBetter => "treatment better",
            AbVerdict::TreatmentWorse => "treatment worse",
            AbVerdict::Inconclusive => "inconclusive",
        })
    }
}

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
    use polars::prelude::DataType;
    let err = |why: String| AbError::Label {
        label: label.to_string(),
        why,
    };
    let col = data.column(label).map_err(|_| {
        err(format!(
            "not found; columns: {}",
            crate::data::column_names(data)
        ))
    })?;
    let mask = col.is_not_null();
    let rows = data.filter(&mask).map_err(|e| err(e.to_string()))?;
    let y = rows
        .column(label)
        .and_then(|c| c.cast(&DataType::Float64))
        .map_err(|e| err(format!("is not 0/1: {e}")))?;
    let y: Vec<bool> = y
        .f64()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .map(|v| v == Some(1.0))
        .collect();
    if y.is_empty() {
        return Err(AbError::Empty);
    }
    let predict = |(name, m): (&str, &dyn Model)| {
        m.predict(&rows).map_err(|source| AbError::Model {
            model: name.to_string(),
            source: Box::new(source),
        })
    };
    let (pa, pb) = (predict(a)?, predict(b)?);
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

/// The arm a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arm {
    Control,
    Treatment,
}

/// Deterministic assignment: sha256 of `salt:request_id` read as a uniform
/// number in [0, 1); below `treatment_share` goes to treatment. The same id
/// always lands in the same arm, and a new salt reshuffles for a new test.
///
/// ```
/// use mltest_core::ab::{assign, Arm};
/// let arms: Vec<Arm> = (0..10_000).map(|i| assign(&format!("user-{i}"), 0.2, "exp-1")).collect();
/// let treated = arms.iter().filter(|a| **a == Arm::Treatment).count();
/// assert!((1_850..=2_150).contains(&treated));
/// assert_eq!(assign("user-7", 0.2, "exp-1"), arms[7]);
/// ```
pub fn assign(request_id: &str, treatment_share: f64, salt: &str) -> Arm {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{salt}:{request_id}").as_bytes());
    let mut top = [0u8; 8];
    top.copy_from_slice(&digest[..8]);
    let u = (u64::from_be_bytes(top) >> 11) as f64 / (1u64 << 53) as f64;
    if u < treatment_share {
        Arm::Treatment
    } else {
        Arm::Control
    }
}

/// A live split's success counts per arm.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrafficTest {
    pub control_successes: u64,
    pub control_n: u64,
    pub treatment_successes: u64,
    pub treatment_n: u64,
    pub alpha: f64,
}

/// The result of a [`TrafficTest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrafficResult {
    pub control_rate: f64,
    pub treatment_rate: f64,
    /// treatment − control.
    pub lift: f64,
    pub lift_low: f64,
    pub lift_high: f64,
    /// lift / control rate.
    pub relative_lift: f64,
    /// z of treatment vs control (pooled variance).
    pub z: f64,
    pub p_value: f64,
    pub verdict: AbVerdict,
}

impl TrafficTest {
    /// Decides the test.
    ///
    /// ```
    /// use mltest_core::ab::{AbVerdict, TrafficTest};
    /// let r = TrafficTest { control_successes: 120, control_n: 1000,
    ///     treatment_successes: 150, treatment_n: 1000, alpha: 0.05 }.decide();
    /// assert_eq!(r.verdict, AbVerdict::TreatmentBetter); // p = 0.0496
    /// assert!((r.lift - 0.03).abs() < 1e-12);
    /// ```
    pub fn decide(&self) -> TrafficResult {
        let (x1, n1, x2, n2) = (
            self.treatment_successes,
            self.treatment_n,
            self.control_successes,
            self.control_n,
        );
        let (z, p) = crate::stats::two_proportion_z(x1, n1, x2, n2);
        let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
        let lift = p1 - p2;
        let se = (p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64).sqrt();
        let zz = z_two_sided(self.alpha);
        TrafficResult {
            control_rate: p2,
            treatment_rate: p1,
            lift,
            lift_low: lift - zz * se,
            lift_high: lift + zz * se,
            relative_lift: lift / p2,
            z,
            p_value: p,
            verdict: verdict(p, lift, self.alpha),
        }
    }
}

/// Rows needed in the control arm to detect a change of the success rate
/// from `base` to `base + mde` with the given power, two-sided at `alpha`,
/// with `ratio` treatment rows per control row: statsmodels'
/// `NormalIndPower().solve_power(proportion_effectsize(base + mde, base),
/// alpha=alpha, power=power, ratio=ratio)` (not rounded up).
///
/// ```
/// let n = mltest_core::ab::sample_size(0.12, 0.03, 0.05, 0.8, 1.0);
/// assert!((n - 2030.97).abs() < 0.01); // statsmodels: 2030.9748…
/// ```
pub fn sample_size(base: f64, mde: f64, alpha: f64, power: f64, ratio: f64) -> f64 {
    let h = ((base + mde).sqrt().asin() - base.sqrt().asin()).abs() * 2.0;
    let normal = Normal::standard();
    let crit = normal.inverse_cdf(1.0 - alpha / 2.0);
    let power_at = |n1: f64| {
        let n = 1.0 / (1.0 / n1 + 1.0 / (n1 * ratio));
        let d = h * n.sqrt();
        normal.sf(crit - d) + normal.cdf(-crit - d)
    };
    // Power grows with n: bisection on a bracket.
    let (mut lo, mut hi) = (1e-6f64, 1.0f64);
    while power_at(hi) < power {
        hi *= 2.0;
        if hi > 1e15 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if power_at(mid) < power {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// What an A/B test asserts about the treatment (B).
///
/// ```
/// use mltest_core::ab::Require;
/// assert_eq!(Require::NotWorse.describe(), "treatment not worse");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Require {
    /// Fails only when B is significantly worse (a candidate may ship when
    /// it is no worse).
    NotWorse,
    /// Fails unless B is significantly better.
    Better,
}

impl Require {
    /// The requirement as reports print it.
    pub fn describe(self) -> &'static str {
        match self {
            Require::NotWorse => "treatment not worse",
            Require::Better => "treatment better",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // statsmodels: NormalIndPower().solve_power(proportion_effectsize(0.15, 0.12),
    //              alpha=0.05, power=0.8, ratio=1.0) = 2030.9748051289835
    #[test]
    fn sample_size_matches_statsmodels() {
        let n = sample_size(0.12, 0.03, 0.05, 0.8, 1.0);
        assert!((n - 2030.9748051289835).abs() < 1e-6, "{n}");
    }

    // statsmodels: mcnemar([[0, 2], [9, 0]], exact=...): p = 0.0654296875
    // exact, 0.070440429272088 corrected, 0.03480847881186725 uncorrected;
    // only the uncorrected chi-square calls 2 vs 9 significant at 0.05.
    #[test]
    fn the_comparison_uses_the_chosen_mcnemar_test_and_exact_by_default() {
        let default = ModelComparison::from_counts("a", "b", 100, 80, 2, 9, 0.05);
        assert_eq!(default.mcnemar_test, McNemarTest::Exact);
        assert!((default.p_value - 0.0654296875).abs() < 1e-12 * 0.0654296875);
        assert_eq!(default.verdict, AbVerdict::Inconclusive);
        for (test, p, verdict) in [
            (
                McNemarTest::ChiSquare { correction: true },
                0.070440429272088,
                AbVerdict::Inconclusive,
            ),
            (
                McNemarTest::ChiSquare { correction: false },
                0.03480847881186725,
                AbVerdict::TreatmentBetter,
            ),
        ] {
            let o = CompareOptions::alpha(0.05).mcnemar(test);
            let c = ModelComparison::from_counts_with("a", "b", 100, 80, 2, 9, o);
            assert_eq!(c.mcnemar_test, test);
            assert!((c.p_value - p).abs() < 1e-12 * p, "{test}: {}", c.p_value);
            assert_eq!(c.verdict, verdict, "{test}");
            assert!(
                c.render().contains(&format!("McNemar ({test})")),
                "{}",
                c.render()
            );
        }
    }

    // statsmodels: confint_proportions_2indep(150, 1000, 120, 1000, method="wald")
    #[test]
    fn lift_interval_matches_statsmodels() {
        let r = TrafficTest {
            control_successes: 120,
            control_n: 1000,
            treatment_successes: 150,
            treatment_n: 1000,
            alpha: 0.05,
        }
        .decide();
        assert!(
            (r.lift_low - 7.60288212977786e-05).abs() < 1e-12,
            "{}",
            r.lift_low
        );
        assert!(
            (r.lift_high - 0.05992397117870222).abs() < 1e-12,
            "{}",
            r.lift_high
        );
    }
}
