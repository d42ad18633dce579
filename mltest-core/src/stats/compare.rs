//! Two-sample statistics for drift and A/B comparisons. Each follows the
//! scipy/statsmodels definition named in its doc, and
//! `tests/stats_reference/check.py` checks them against those libraries on
//! the real reviews data.

use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF, Normal};

/// 1-Wasserstein (earth mover's) distance between two samples, as
/// `scipy.stats.wasserstein_distance(a, b)`: the integral of |F_a − F_b|.
/// NaN if either sample is empty.
///
/// ```
/// let d = mltest_core::stats::wasserstein(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]);
/// assert!((d - 5.0).abs() < 1e-12);
/// ```
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = a.iter().chain(&b).copied().collect();
    all.sort_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut ia, mut ib) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        while ia < a.len() && a[ia] <= w[0] {
            ia += 1;
        }
        while ib < b.len() && b[ib] <= w[0] {
            ib += 1;
        }
        total += (ia as f64 / na - ib as f64 / nb).abs() * (w[1] - w[0]);
    }
    total
}

/// Jensen–Shannon *distance* (the square root of the divergence) between two
/// count or probability vectors over the same categories, natural log, as
/// `scipy.spatial.distance.jensenshannon(p, q)`. Inputs are normalised.
///
/// ```
/// let d = mltest_core::stats::jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]);
/// assert!((d - std::f64::consts::LN_2.sqrt()).abs() < 1e-12);
/// ```
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if sp <= 0.0 || sq <= 0.0 || p.len() != q.len() {
        return f64::NAN;
    }
    let kl = |x: f64, m: f64| if x > 0.0 { x * (x / m).ln() } else { 0.0 };
    let mut js = 0.0;
    for (a, b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        js += kl(a, m) + kl(b, m);
    }
    (js / 2.0).max(0.0).sqrt()
}

/// Chi-square test of homogeneity of a contingency table (rows = samples,
/// columns = categories), as `scipy.stats.chi2_contingency(table,
/// correction=False)`: (statistic, p-value, degrees of freedom). Columns
/// that are empty in every row are dropped.
///
/// ```
/// let (chi2, p, dof) = mltest_core::stats::chi2_homogeneity(&[vec![10.0, 20.0], vec![20.0, 10.0]]);
/// assert_eq!(dof, 1);
/// assert!((chi2 - 6.666666666666667).abs() < 1e-12 && (p - 0.009823274507519247).abs() < 1e-12);
/// ```
pub fn chi2_homogeneity(table: &[Vec<f64>]) -> (f64, f64, usize) {
    let cols = table.first().map_or(0, Vec::len);
    let keep: Vec<usize> = (0..cols)
        .filter(|&j| table.iter().any(|r| r[j] > 0.0))
        .collect();
    let rows: Vec<f64> = table
        .iter()
        .map(|r| keep.iter().map(|&j| r[j]).sum())
        .collect();
    let colsum: Vec<f64> = keep
        .iter()
        .map(|&j| table.iter().map(|r| r[j]).sum())
        .collect();
    let total: f64 = rows.iter().sum();
    let dof = (rows.len().saturating_sub(1)) * (keep.len().saturating_sub(1));
    if total <= 0.0 || dof == 0 {
        return (0.0, 1.0, dof);
    }
    let mut chi2 = 0.0;
    for (r, rs) in table.iter().zip(&rows) {
        for (k, &j) in keep.iter().enumerate() {
            let e = rs * colsum[k] / total;
            if e > 0.0 {
                chi2 += (r[j] - e).powi(2) / e;
            }
        }
    }
    let p = ChiSquared::new(dof as f64).map_or(f64::NAN, |d| d.sf(chi2));
    (chi2, p, dof)
}

/// Population stability index over shared bins:
/// `Σ (c − r) · ln(c / r)` with reference shares r and current shares c.
/// Empty bins get a share of `epsilon` (1e-4, Evidently's choice) so the
/// logarithm stays finite.
///
/// ```
/// assert_eq!(mltest_core::stats::psi(&[50.0, 50.0], &[50.0, 50.0]), 0.0);
/// let d = mltest_core::stats::psi(&[90.0, 10.0], &[50.0, 50.0]);
/// assert!((d - (0.4 * (0.5f64 / 0.1).ln() - 0.4 * (0.5f64 / 0.9).ln())).abs() < 1e-12);
/// ```
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    const EPS: f64 = 1e-4;
    let (sr, sc): (f64, f64) = (reference.iter().sum(), current.iter().sum());
    if sr <= 0.0 || sc <= 0.0 || reference.len() != current.len() {
        return f64::NAN;
    }
    reference
        .iter()
        .zip(current)
        .map(|(r, c)| {
            let (r, c) = ((r / sr).max(EPS), (c / sc).max(EPS));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// McNemar's test on the discordant pairs of two classifiers on the same
/// rows: `b` rows only the first got right, `c` only the second. Exact
/// (binomial, two-sided) when `b + c < 25`, as statsmodels'
/// `mcnemar(table, exact=True)`; otherwise the chi-square statistic without
/// continuity correction (`exact=False, correction=False`). Returns
/// (statistic, p-value, exact).
///
/// ```
/// let (_, p, exact) = mltest_core::stats::mcnemar(2, 9);
/// assert!(exact && (p - 0.0654296875).abs() < 1e-12);
/// ```
pub fn mcnemar(b: u64, c: u64) -> (f64, f64, bool) {
    let n = b + c;
    if n == 0 {
        return (0.0, 1.0, true);
    }
    if n < 25 {
        let k = b.min(c);
        let p = Binomial::new(0.5, n).map_or(f64::NAN, |d| (2.0 * d.cdf(k)).min(1.0));
        (k as f64, p, true)
    } else {
        let stat = (b as f64 - c as f64).powi(2) / n as f64;
        let p = ChiSquared::new(1.0).map_or(f64::NAN, |d| d.sf(stat));
        (stat, p, false)
    }
}

/// Two-sided two-proportion z-test with the pooled variance, as statsmodels'
/// `proportions_ztest([x1, x2], [n1, n2])`: (z, p-value).
///
/// ```
/// let (z, p) = mltest_core::stats::two_proportion_z(120, 1000, 150, 1000);
/// // statsmodels: proportions_ztest([120, 150], [1000, 1000])
/// assert!((z + 1.963049807622355).abs() < 1e-12 && (p - 0.04964038686536878).abs() < 1e-10);
/// ```
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> (f64, f64) {
    if n1 == 0 || n2 == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 {
        return (0.0, 1.0);
    }
    let z = (p1 - p2) / se;
    let p = Normal::standard().sf(z.abs()) * 2.0;
    (z, p)
}
