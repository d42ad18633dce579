//! Two-sample Kolmogorov–Smirnov test, computed the way
//! `scipy.stats.ks_2samp(a, b)` (two-sided, `method="auto"`) computes it, so
//! the statistic and p-value agree with scipy's to rounding:
//!
//! - exact when both samples have at most 10,000 values (Hodges' lattice-path
//!   count, in Viehmann's numerically stable form for unequal sizes);
//! - otherwise Kolmogorov's distribution `kstwo.sf(d, round(n·m/(n+m)))`, which
//!   scipy evaluates by Simard & L'Ecuyer's choice of method: twice the
//!   one-sided Smirnov tail for large `n·d²`, the Durbin matrix (Marsaglia,
//!   Tsang and Wang) or the Pelz–Good series otherwise.
//!
//! `tests/stats_reference/check.py` compares both paths with scipy on the
//! real reviews columns.

use super::kolmogorov;

/// Largest sample for which the p-value is exact (scipy's `MAX_AUTO_N`).
pub const KS_EXACT_MAX_N: usize = 10_000;

/// How a KS p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    /// Exact distribution of the two-sample statistic.
    Exact,
    /// Kolmogorov's limiting distribution at the effective sample size.
    Asymptotic,
}

impl std::fmt::Display for KsMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KsMethod::Exact => "exact",
            KsMethod::Asymptotic => "asymptotic",
        })
    }
}

/// Result of a two-sample KS test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    /// Largest distance between the two empirical CDFs.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Exact or asymptotic.
    pub method: KsMethod,
}

/// Two-sample KS test of two samples, as `scipy.stats.ks_2samp(a, b)`.
/// Returns `None` when either sample is empty or holds a NaN: there is no
/// test to run, and the caller must say so rather than pass.
///
/// ```
/// use mltest_core::stats::{ks_2samp, KsMethod};
/// let t = ks_2samp(&[1.0, 2.0, 3.0, 4.0], &[3.5, 5.0, 6.0, 7.0]).unwrap();
/// assert_eq!(t.statistic, 0.75);
/// assert_eq!(t.method, KsMethod::Exact);
/// // scipy.stats.ks_2samp([1,2,3,4], [3.5,5,6,7]).pvalue
/// assert!((t.p_value - 0.22857142857142862).abs() < 1e-12);
/// ```
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Option<KsTest> {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|v| v.is_nan()) {
        return None;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    // Walk the merged distinct values; the ECDFs only change there.
    let (mut i, mut j) = (0usize, 0usize);
    let mut steps = Vec::new();
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let (mut ca, mut cb) = (0u64, 0u64);
        while i < a.len() && a[i] == v {
            i += 1;
            ca += 1;
        }
        while j < b.len() && b[j] == v {
            j += 1;
            cb += 1;
        }
        steps.push((ca, cb));
    }
    Some(ks_from_counts(&steps))
}

/// KS test from counts per distinct value, in ascending value order:
/// `(count in reference, count in current)`. This is how the drift engine
/// calls it: value counts come out of one polars `group_by`, and a profile
/// snapshot can hold them.
///
/// ```
/// // values 1, 2, 3: reference counts 2, 1, 1; current counts 0, 1, 3
/// let t = mltest_core::stats::ks_from_counts(&[(2, 0), (1, 1), (1, 3)]);
/// assert_eq!(t.statistic, 0.5);
/// ```
pub fn ks_from_counts(steps: &[(u64, u64)]) -> KsTest {
    let n1: u64 = steps.iter().map(|s| s.0).sum();
    let n2: u64 = steps.iter().map(|s| s.1).sum();
    if n1 == 0 || n2 == 0 {
        return KsTest {
            statistic: f64::NAN,
            p_value: f64::NAN,
            method: KsMethod::Exact,
        };
    }
    // Same arithmetic as scipy: cdf1 - cdf2 with each CDF an integer count
    // divided by its sample size, evaluated at every data point.
    let (mut c1, mut c2) = (0u64, 0u64);
    let (mut max_s, mut min_s) = (f64::NEG_INFINITY, f64::INFINITY);
    for &(a, b) in steps {
        c1 += a;
        c2 += b;
        if a == 0 && b == 0 {
            continue;
        }
        let diff = c1 as f64 / n1 as f64 - c2 as f64 / n2 as f64;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    let d = if min_s > max_s { min_s } else { max_s };
    let (statistic, p_value, method) = ks_p_value(n1, n2, d);
    KsTest {
        statistic,
        p_value,
        method,
    }
}

/// P-value of a two-sided two-sample KS statistic `d` for sample sizes `n1`
/// and `n2`, with scipy's choice of method. Returns the statistic as scipy
/// reports it (on the exact path it is rounded to the lattice `h / lcm`),
/// the p-value and the method.
pub fn ks_p_value(n1: u64, n2: u64, d: f64) -> (f64, f64, KsMethod) {
    let g = gcd(n1, n2);
    if n1.max(n2) as usize <= KS_EXACT_MAX_N
        && let Some((d, p)) = exact(n1, n2, g, d)
    {
        return (d, p.clamp(0.0, 1.0), KsMethod::Exact);
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even() as u64;
    let p = kolmogorov::kolmogn_sf(en.max(1), d);
    (d, p.clamp(0.0, 1.0), KsMethod::Asymptotic)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy's `_attempt_exact_2kssamp` for the two-sided alternative; `None`
/// when the computation is not representable, as scipy then falls back.
fn exact(n1: u64, n2: u64, g: u64, d: f64) -> Option<(f64, f64)> {
    let lcm = (n1 / g) * n2;
    if (n1 / g) as f64 >= i32::MAX as f64 / (n2 / g) as f64 {
        return None;
    }
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return Some((d, 1.0));
    }
    let p = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        outer_prob_inside_method(n1, n2, g, h)
    };
    (p.is_finite() && (0.0..=1.0).contains(&p)).then_some((d, p))
}

/// Pr(D_{n,n} >= h/n), scipy's `_compute_prob_outside_square`.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as i64);
    let mut p = 0.0;
    let mut k = (n / h as f64).floor() as i64;
    while k >= 0 {
        let mut p1 = 1.0;
        for j in 0..h {
            let (kh, j) = ((k * h) as f64, j as f64);
            p1 = (n - kh - j) * p1 / (n + kh + j + 1.0);
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// Proportion of lattice paths leaving the band |x/m − y/n| < h/lcm, scipy's
/// `_compute_outer_prob_inside_method` (Viehmann's recursion for 1 − p).
fn outer_prob_inside_method(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (m, n, h) = (m as i64, n as i64, h as i64);
    let ceil_div = |a: i64, b: i64| (a as f64 / b as f64).ceil() as i64;
    let floor_div = |a: i64, b: i64| (a as f64 / b as f64).floor() as i64;
    let mut minj = 0i64;
    let mut maxj = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            let src = (jj + minj - lastminj) as usize;
            val = (a[src] * i as f64 + val * j as f64) / (i + j) as f64;
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(a.len());
            for v in &mut a[start..end] {
                *v = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: scipy 1.17.1 `ks_2samp`.
    #[test]
    fn exact_unequal_sizes() {
        let a: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..20).map(|i| i as f64 * 1.5 + 3.0).collect();
        let t = ks_2samp(&a, &b).unwrap();
        assert_eq!(t.method, KsMethod::Exact);
        // scipy: statistic 0.11666666666666667, pvalue 0.992839205347608
        assert!((t.statistic - 0.11666666666666667).abs() < 1e-15, "{t:?}");
        assert!((t.p_value - 0.992839205347608).abs() < 1e-12, "{t:?}");
    }

    #[test]
    fn identical_samples_have_p_one() {
        let a = [1.0, 2.0, 2.0, 3.0];
        let t = ks_2samp(&a, &a).unwrap();
        assert_eq!((t.statistic, t.p_value), (0.0, 1.0));
    }

    #[test]
    fn empty_or_nan_is_no_test() {
        assert!(ks_2samp(&[], &[1.0]).is_none());
        assert!(ks_2samp(&[f64::NAN], &[1.0]).is_none());
    }

    #[test]
    fn equal_sizes_use_the_square_formula() {
        // scipy.stats.ks_2samp([1,2,3,4,5], [6,7,8,9,10]) -> D=1, p=2/252
        let t = ks_2samp(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert_eq!(t.statistic, 1.0);
        assert!((t.p_value - 2.0 / 252.0).abs() < 1e-15, "{t:?}");
    }
}
