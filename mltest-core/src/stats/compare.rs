//! Two-sample statistics for drift and A/B comparisons. Each follows the
//! scipy/statsmodels definition named in its doc, and
//! `tests/stats_reference/check.py` checks them against those libraries on
//! the real reviews data.

use serde::{Deserialize, Serialize};
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

/// Wasserstein distance between two counted samples: sorted distinct
/// values with their counts, as drift summaries keep them. Equals
/// [`wasserstein`] on the expanded samples (scipy's
/// `wasserstein_distance(u_values, v_values, u_weights, v_weights)` with
/// counts as weights). NaN when a side is empty.
///
/// ```
/// use mltest_core::stats::{wasserstein, wasserstein_counts};
/// let w = wasserstein_counts(&[1.0, 2.0], &[2, 1], &[2.0, 3.0], &[1, 1]);
/// assert!((w - wasserstein(&[1.0, 1.0, 2.0], &[2.0, 3.0])).abs() < 1e-12);
/// ```
pub fn wasserstein_counts(a_values: &[f64], a: &[u64], b_values: &[f64], b: &[u64]) -> f64 {
    let (na, nb): (u64, u64) = (a.iter().sum(), b.iter().sum());
    if na == 0 || nb == 0 {
        return f64::NAN;
    }
    let (mut i, mut j) = (0usize, 0usize);
    let (mut ca, mut cb) = (0u64, 0u64);
    let mut prev: Option<f64> = None;
    let mut prev_diff = 0.0;
    let mut total = 0.0;
    while i < a_values.len() || j < b_values.len() {
        let x = match (a_values.get(i), b_values.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        if let Some(p) = prev {
            total += prev_diff * (x - p);
        }
        while i < a_values.len() && a_values[i] == x {
            ca += a[i];
            i += 1;
        }
        while j < b_values.len() && b_values[j] == x {
            cb += b[j];
            j += 1;
        }
        prev_diff = (ca as f64 / na as f64 - cb as f64 / nb as f64).abs();
        prev = Some(x);
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

/// Which McNemar test [`mcnemar`] runs: the three statsmodels offers in
/// `statsmodels.stats.contingency_tables.mcnemar`.
///
/// The default is [`Exact`](McNemarTest::Exact), as statsmodels' default
/// (`exact=True`): the binomial test is exact at any number of discordant
/// pairs, costs one regularised incomplete beta function, and never rejects
/// more often than alpha says. The chi-square approximations are offered for
/// comparison with other tools; without the continuity correction the
/// chi-square is anti-conservative when there are few discordant pairs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McNemarTest {
    /// Two-sided exact binomial test of `min(b, c)` under Binomial(b + c,
    /// ½): statsmodels `mcnemar(table, exact=True)`.
    #[default]
    Exact,
    /// The chi-square statistic `(|b − c| − k)² / (b + c)` on 1 degree of
    /// freedom, with `k = 1` when `correction` (Edwards' continuity
    /// correction) and `k = 0` otherwise: statsmodels `mcnemar(table,
    /// exact=False, correction=correction)`.
    ChiSquare { correction: bool },
}

impl std::fmt::Display for McNemarTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            McNemarTest::Exact => "exact binomial",
            McNemarTest::ChiSquare { correction: true } => "chi-square, continuity-corrected",
            McNemarTest::ChiSquare { correction: false } => "chi-square, uncorrected",
        })
    }
}

/// The result of [`mcnemar`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// `min(b, c)` for the exact test, the chi-square statistic otherwise.
    pub statistic: f64,
    pub p_value: f64,
    pub test: McNemarTest,
}

/// McNemar's test on the discordant pairs of two classifiers on the same
/// rows: `b` rows only the first got right, `c` only the second. Each
/// [`McNemarTest`] equals statsmodels' `mcnemar([[0, b], [c, 0]], exact=…,
/// correction=…)` (`tests/stats_reference/check.py` checks small and large
/// counts), with one exception: without discordant pairs (`b = c = 0`)
/// every variant gives statistic 0 and p = 1 (no evidence of a
/// difference), where statsmodels' chi-square divides by zero (NaN, or an
/// infinite statistic and p = 0 with the correction). With `b = c > 0` the
/// corrected statistic is `1 / (b + c)`, as in statsmodels and R's
/// `mcnemar.test` (the correction is not clipped at zero).
///
/// ```
/// use mltest_core::stats::{McNemarTest, mcnemar};
/// // statsmodels: mcnemar([[0, 30], [45, 0]], exact=...) for each variant.
/// let exact = mcnemar(30, 45, McNemarTest::Exact);
/// assert_eq!(exact.statistic, 30.0);
/// assert!((exact.p_value - 0.10534226887460482).abs() < 1e-12);
/// let corrected = mcnemar(30, 45, McNemarTest::ChiSquare { correction: true });
/// assert!((corrected.statistic - 196.0 / 75.0).abs() < 1e-12);
/// let plain = mcnemar(30, 45, McNemarTest::ChiSquare { correction: false });
/// assert!((plain.statistic - 3.0).abs() < 1e-12);
/// assert!((plain.p_value - 0.08326451666355042).abs() < 1e-12);
/// ```
pub fn mcnemar(b: u64, c: u64, test: McNemarTest) -> McNemar {
    let n = b + c;
    let (statistic, p_value) = if n == 0 {
        (0.0, 1.0)
    } else {
        match test {
            McNemarTest::Exact => {
                let k = b.min(c);
                let p = Binomial::new(0.5, n).map_or(f64::NAN, |d| (2.0 * d.cdf(k)).min(1.0));
                (k as f64, p)
            }
            McNemarTest::ChiSquare { correction } => {
                let k = if correction { 1.0 } else { 0.0 };
                let stat = ((b as f64 - c as f64).abs() - k).powi(2) / n as f64;
                (stat, ChiSquared::new(1.0).map_or(f64::NAN, |d| d.sf(stat)))
            }
        }
    };
    McNemar {
        statistic,
        p_value,
        test,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    // statsmodels 0.15: mcnemar([[0, 100], [130, 0]], exact=...,
    // correction=...); one pinned value per variant.
    #[test]
    fn mcnemar_variants_match_statsmodels() {
        let e = mcnemar(100, 130, McNemarTest::Exact);
        assert_eq!(e.statistic, 100.0);
        assert!(close(e.p_value, 0.05561357778139238), "{e:?}");
        let y = mcnemar(100, 130, McNemarTest::ChiSquare { correction: true });
        assert!(close(y.statistic, 3.6565217391304348), "{y:?}");
        assert!(close(y.p_value, 0.055850113675743426), "{y:?}");
        let u = mcnemar(100, 130, McNemarTest::ChiSquare { correction: false });
        assert!(close(u.statistic, 3.9130434782608696), "{u:?}");
        assert!(close(u.p_value, 0.04791275500844781), "{u:?}");
        // The exact test at a size where the old code switched to the
        // uncorrected chi-square: 39 vs 86 (the title A/B on the real data).
        let e = mcnemar(86, 39, McNemarTest::Exact);
        assert!(close(e.p_value, 3.17761039127876e-05), "{e:?}");
        assert_eq!(McNemarTest::default(), McNemarTest::Exact);
    }

    #[test]
    fn mcnemar_without_discordant_pairs_is_p_one_for_every_variant() {
        for test in [
            McNemarTest::Exact,
            McNemarTest::ChiSquare { correction: true },
            McNemarTest::ChiSquare { correction: false },
        ] {
            let m = mcnemar(0, 0, test);
            assert_eq!((m.statistic, m.p_value), (0.0, 1.0), "{test}");
        }
        // b = c: the exact p is 1; the corrected statistic is 1 / (b + c),
        // as statsmodels (p = 0.7518296340458492 for 5 vs 5).
        assert_eq!(mcnemar(5, 5, McNemarTest::Exact).p_value, 1.0);
        let y = mcnemar(5, 5, McNemarTest::ChiSquare { correction: true });
        assert!(close(y.statistic, 0.1) && close(y.p_value, 0.7518296340458492));
    }
}

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
