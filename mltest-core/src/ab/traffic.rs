//! A live split: assignment of requests to arms, the two-proportion test
//! of their success rates, and the rows a test needs.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::{AbVerdict, verdict, z_two_sided};

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
    use crate::ab::*;

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
