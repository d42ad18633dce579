//! Paired t-test for an A/B comparison of two regressors on the same rows.
//!
//! Each row gives A's and B's error ([`ErrorKind`]: absolute or squared);
//! [`paired_t`] tests the per-row differences d = err_B − err_A exactly as
//! `scipy.stats.ttest_rel(err_b, err_a)` (two-sided): t = mean(d)/(sd(d)/√n)
//! with the n − 1 sample standard deviation, df = n − 1, p from Student's t,
//! and the mean difference's t interval (`result.confidence_interval()`).
//!
//! Degenerate inputs never pass silently:
//! - fewer than 2 rows, unequal lengths or a non-finite error: an error;
//! - every difference exactly zero (A and B err identically): scipy returns
//!   t = p = NaN; mltest returns t = 0, p = 1, the interval (0, 0),
//!   [`PairedT::identical`] set and the verdict *inconclusive*;
//! - every difference the same non-zero value: as scipy, t = ±∞, p = 0, the
//!   interval (d, d); the verdict follows the sign (a difference on every
//!   single row, with no spread, is as consistent as evidence gets).

use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};
use statrs::function::beta::beta_reg;

use serde::{Deserialize, Serialize};

use super::AbVerdict;

/// Which per-row error the models are compared on.
///
/// ```
/// use mltest_core::stats::ErrorKind;
/// assert_eq!(ErrorKind::Absolute.errors(&[1.0, 2.0], &[1.5, 4.0]), [0.5, 2.0]);
/// assert_eq!(ErrorKind::Squared.errors(&[1.0, 2.0], &[1.5, 4.0]), [0.25, 4.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// |y − ŷ|
    Absolute,
    /// (y − ŷ)²
    Squared,
}

impl ErrorKind {
    /// Per-row errors of `predicted` against `actual` (zipped: the shorter
    /// length wins; [`paired_t`] checks lengths).
    ///
    /// ```
    /// let e = mltest_core::stats::ErrorKind::Absolute.errors(&[3.0], &[1.0]);
    /// assert_eq!(e, [2.0]);
    /// ```
    pub fn errors(self, actual: &[f64], predicted: &[f64]) -> Vec<f64> {
        let error = |(y, p): (&f64, &f64)| match self {
            ErrorKind::Absolute => (y - p).abs(),
            ErrorKind::Squared => (y - p) * (y - p),
        };
        actual.iter().zip(predicted).map(error).collect()
    }
}

/// Why a paired test could not be computed.
///
/// ```
/// use mltest_core::stats::{PairedError, paired_t};
/// assert_eq!(paired_t(&[1.0], &[2.0], 0.95).unwrap_err(), PairedError::TooFew { rows: 1 });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PairedError {
    /// Fewer than 2 rows: no spread to test against.
    TooFew { rows: usize },
    /// A and B were scored on different numbers of rows.
    LengthMismatch { a: usize, b: usize },
    /// A NaN or infinite error at this row.
    NonFinite { row: usize },
}

impl std::fmt::Display for PairedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PairedError::TooFew { rows } => {
                write!(f, "a paired t-test needs at least 2 rows, got {rows}")
            }
            PairedError::LengthMismatch { a, b } => {
                write!(f, "model A has {a} row errors but model B has {b}")
            }
            PairedError::NonFinite { row } => write!(f, "row {row}: error is NaN or infinite"),
        }
    }
}

impl std::error::Error for PairedError {}

/// A paired t-test of B's errors against A's.
///
/// ```
/// use mltest_core::ab::AbVerdict;
/// use mltest_core::stats::paired_t;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let b = [0.5, 1.9, 2.2, 3.5, 4.4];
/// let r = paired_t(&a, &b, 0.95).unwrap();
/// assert_eq!((r.rows, r.df), (5, 4.0));
/// assert!((r.mean_difference + 0.5).abs() < 1e-12);
/// assert!(r.t < 0.0 && r.p_value < 0.05 && r.interval.1 < 0.0);
/// assert_eq!(r.verdict, AbVerdict::TreatmentBetter); // B's errors are lower
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedT {
    /// Rows compared.
    pub rows: u64,
    /// Mean error of A and of B.
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean(err_B − err_A): negative when B errs less.
    pub mean_difference: f64,
    /// The t statistic of scipy's `ttest_rel(err_b, err_a)`.
    pub t: f64,
    /// Degrees of freedom, rows − 1.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The t interval of `mean_difference` at `confidence`.
    pub interval: (f64, f64),
    pub confidence: f64,
    /// Every row's difference is exactly zero (see the module docs).
    pub identical: bool,
    /// *Treatment better* when B's errors are significantly lower
    /// (p < 1 − confidence), *treatment worse* when higher.
    pub verdict: AbVerdict,
}

/// The paired t-test of `err_b` against `err_a`, row by row, with the
/// interval at `confidence` and the verdict at alpha = 1 − confidence.
/// Panics if `confidence` is outside (0, 1).
///
/// ```
/// use mltest_core::ab::AbVerdict;
/// use mltest_core::stats::{ErrorKind, paired_t};
/// let y = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0];
/// let a = ErrorKind::Squared.errors(&y, &[2.5, 1.5, 3.0, 1.2, 6.0, 8.0]);
/// let r = paired_t(&a, &a, 0.95).unwrap(); // the same model twice
/// assert!(r.identical && r.t == 0.0 && r.p_value == 1.0);
/// assert_eq!(r.verdict, AbVerdict::Inconclusive);
/// ```
pub fn paired_t(err_a: &[f64], err_b: &[f64], confidence: f64) -> Result<PairedT, PairedError> {
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "confidence must be in (0, 1), got {confidence}"
    );
    if err_a.len() != err_b.len() {
        return Err(PairedError::LengthMismatch {
            a: err_a.len(),
            b: err_b.len(),
        });
    }
    let rows = err_a.len();
    if rows < 2 {
        return Err(PairedError::TooFew { rows });
    }
    if let Some(row) = (0..rows).find(|&i| !(err_a[i].is_finite() && err_b[i].is_finite())) {
        return Err(PairedError::NonFinite { row });
    }
    let n = rows as f64;
    let mean = |v: &mut dyn Iterator<Item = f64>| v.sum::<f64>() / n;
    let diffs: Vec<f64> = err_b.iter().zip(err_a).map(|(b, a)| b - a).collect();
    let d = mean(&mut diffs.iter().copied());
    let var = diffs.iter().map(|x| (x - d) * (x - d)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    let df = n - 1.0;
    let alpha = 1.0 - confidence;
    let identical = diffs.iter().all(|&x| x == 0.0);
    let (t, p_value, interval) = if identical {
        (0.0, 1.0, (0.0, 0.0))
    } else if se == 0.0 {
        (d.signum() * f64::INFINITY, 0.0, (d, d))
    } else {
        let t = d / se;
        let q = t_quantile(df, alpha / 2.0);
        (t, two_sided_p(t, df), (d - q * se, d + q * se))
    };
    let verdict = if p_value < alpha && d < 0.0 {
        AbVerdict::TreatmentBetter
    } else if p_value < alpha && d > 0.0 {
        AbVerdict::TreatmentWorse
    } else {
        AbVerdict::Inconclusive
    };
    Ok(PairedT {
        rows: rows as u64,
        mean_a: mean(&mut err_a.iter().copied()),
        mean_b: mean(&mut err_b.iter().copied()),
        mean_difference: d,
        t,
        df,
        p_value,
        interval,
        confidence,
        identical,
        verdict,
    })
}

/// P(|T_df| ≥ |t|) through the regularized incomplete beta: directly for
/// |t| ≥ 1 (p ≤ 0.5, full relative precision down to tiny p), as the
/// complement of the small central probability below that.
fn two_sided_p(t: f64, df: f64) -> f64 {
    let t2 = t * t;
    if t2 < 1.0 {
        1.0 - beta_reg(0.5, df / 2.0, t2 / (df + t2))
    } else {
        beta_reg(df / 2.0, 0.5, df / (df + t2))
    }
}

/// The upper `tail` quantile of Student's t with `df` degrees of freedom:
/// statrs' inverse, polished by Newton steps on the tail probability.
fn t_quantile(df: f64, tail: f64) -> f64 {
    let dist = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    let mut q = dist.inverse_cdf(1.0 - tail);
    for _ in 0..3 {
        let step = (two_sided_p(q, df) / 2.0 - tail) / dist.pdf(q);
        q += step;
        if step.abs() <= 1e-15 * q.abs() {
            break;
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// scipy `ttest_rel(err_b, err_a)`: (name, t, df, p, mean diff, 95% low, 95% high), from reference.py.
    const SCIPY: [(&str, f64, f64, f64, f64, f64, f64); 10] = [
        (
            "tiny",
            1.5000000000000007,
            1.0,
            0.3743340836219975,
            0.30000000000000004,
            -2.241240947234938,
            2.8412409472349385,
        ),
        (
            "doc5",
            -4.385290096535147,
            4.0,
            0.01182597565826493,
            -0.4999999999999999,
            -0.8165634478083312,
            -0.18343655219166854,
        ),
        (
            "n30",
            -0.8017156445722486,
            29.0,
            0.42923816272376514,
            -0.0176720242524477,
            -0.062754527110276,
            0.027410478605380605,
        ),
        (
            "n1000",
            -30.607533119537845,
            999.0,
            1.1297378032536559e-145,
            -0.029610440444171018,
            -0.031508855280122906,
            -0.027712025608219126,
        ),
        (
            "n20000",
            -20.78233199875554,
            19999.0,
            6.298123170642162e-95,
            -0.008490923376845186,
            -0.009291743576620978,
            -0.007690103177069393,
        ),
        (
            "ties50",
            -1.2151665590764351,
            49.0,
            0.23012547281658965,
            -0.28,
            -0.7430485114928134,
            0.18304851149281332,
        ),
        (
            "null5000",
            -1.5281678712554898,
            4999.0,
            0.1265341314943831,
            -0.008893068203914861,
            -0.02030170656249261,
            0.00251557015466289,
        ),
        (
            "squared200",
            -2.1873623438494785,
            199.0,
            0.029881417970739437,
            -0.014664537369155397,
            -0.027884948936924586,
            -0.0014441258013862066,
        ),
        ("identical", f64::NAN, 2.0, f64::NAN, 0.0, 0.0, 0.0),
        ("constant", f64::INFINITY, 3.0, 0.0, 0.5, 0.5, 0.5),
    ];

    /// The inputs of reference.py's `datasets()`, from the same SplitMix64 streams.
    fn datasets() -> Vec<(&'static str, Vec<f64>, Vec<f64>)> {
        let stream = |seed: u64, n: usize, row: fn(&mut SplitMix64) -> (f64, f64)| {
            let mut r = SplitMix64::new(seed);
            (0..n)
                .map(|_| row(&mut r))
                .unzip::<f64, f64, Vec<f64>, Vec<f64>>()
        };
        let named = |name, (a, b)| (name, a, b);
        vec![
            ("tiny", vec![1.0, 2.0], vec![1.5, 2.1]),
            (
                "doc5",
                vec![1.0, 2.0, 3.0, 4.0, 5.0],
                vec![0.5, 1.9, 2.2, 3.5, 4.4],
            ),
            named(
                "n30",
                stream(1, 30, |r| {
                    let x = 2.0 * r.unit();
                    (x, x + 0.4 * (r.unit() - 0.6))
                }),
            ),
            named(
                "n1000",
                stream(2, 1000, |r| {
                    let x = r.unit() + r.unit();
                    (x, 0.97 * x + 0.1 * (r.unit() - 0.5))
                }),
            ),
            named(
                "n20000",
                stream(3, 20_000, |r| {
                    let x = r.unit();
                    (x, x - 0.008 + 0.2 * (r.unit() - 0.5))
                }),
            ),
            named(
                "ties50",
                stream(4, 50, |r| {
                    ((4.0 * r.unit()).floor(), (4.0 * r.unit()).floor())
                }),
            ),
            named("null5000", stream(5, 5000, |r| (r.unit(), r.unit()))),
            named(
                "squared200",
                stream(6, 200, |r| {
                    let y = 10.0 * r.unit();
                    let (pa, pb) = (y + (r.unit() - 0.5), y + 0.9 * (r.unit() - 0.5));
                    let e = ErrorKind::Squared;
                    (e.errors(&[y], &[pa])[0], e.errors(&[y], &[pb])[0])
                }),
            ),
            ("identical", vec![0.5, 1.0, 2.0], vec![0.5, 1.0, 2.0]),
            (
                "constant",
                vec![0.25, 0.5, 1.0, 2.0],
                vec![0.75, 1.0, 1.5, 2.5],
            ),
        ]
    }

    fn close(x: f64, y: f64) -> bool {
        x == y || (x - y).abs() <= 1e-9 * y.abs()
    }

    #[test]
    fn matches_scipy_ttest_rel() {
        for ((name, a, b), (sname, t, df, p, d, lo, hi)) in datasets().into_iter().zip(SCIPY) {
            assert_eq!(name, sname);
            let r = paired_t(&a, &b, 0.95).unwrap();
            assert!(
                close(r.df, df) && close(r.mean_difference, d),
                "{name}: {r:?}"
            );
            assert!(
                close(r.interval.0, lo) && close(r.interval.1, hi),
                "{name}: {r:?}"
            );
            if name == "identical" {
                // scipy: t = p = NaN; mltest: an explicit "no difference"
                assert!(t.is_nan() && p.is_nan());
                assert!(r.identical && (r.t, r.p_value) == (0.0, 1.0));
                assert_eq!(r.verdict, AbVerdict::Inconclusive);
            } else {
                assert!(
                    close(r.t, t) && close(r.p_value, p),
                    "{name}: {r:?} vs t={t} p={p}"
                );
                assert!(!r.identical);
            }
        }
    }

    #[test]
    fn verdicts_follow_the_sign_of_b_minus_a() {
        let v = |name: &str| {
            let (_, a, b) = datasets().into_iter().find(|d| d.0 == name).unwrap();
            paired_t(&a, &b, 0.95).unwrap().verdict
        };
        assert_eq!(v("n1000"), AbVerdict::TreatmentBetter);
        assert_eq!(v("null5000"), AbVerdict::Inconclusive);
        assert_eq!(
            v("constant"),
            AbVerdict::TreatmentWorse,
            "B errs 0.5 more on every row"
        );
        let r = paired_t(&[1.0, 2.0, 3.0], &[1.5, 2.5, 3.5], 0.95).unwrap();
        assert_eq!(r.verdict, AbVerdict::TreatmentWorse);
        let r = paired_t(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.5], 0.99).unwrap();
        assert_eq!((r.verdict, r.confidence), (AbVerdict::Inconclusive, 0.99));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(
            paired_t(&[], &[], 0.95).unwrap_err(),
            PairedError::TooFew { rows: 0 }
        );
        assert_eq!(
            paired_t(&[1.0], &[1.0], 0.95).unwrap_err(),
            PairedError::TooFew { rows: 1 }
        );
        let e = paired_t(&[1.0, 2.0], &[1.0], 0.95).unwrap_err();
        assert_eq!(e, PairedError::LengthMismatch { a: 2, b: 1 });
        let e = paired_t(&[1.0, 2.0, 3.0], &[1.0, f64::NAN, 3.0], 0.95).unwrap_err();
        assert_eq!(e, PairedError::NonFinite { row: 1 });
        assert!(e.to_string().contains("row 1"));
    }

    #[test]
    fn t_quantile_is_exact() {
        // scipy.stats.t.ppf(0.975, df)
        for (df, q) in [
            (1.0, 12.706204736174694),
            (4.0, 2.7764451051977934),
            (999.0, 1.9623414611334493),
        ] {
            assert!(
                close(t_quantile(df, 0.025), q),
                "df {df}: {}",
                t_quantile(df, 0.025)
            );
        }
    }
}
