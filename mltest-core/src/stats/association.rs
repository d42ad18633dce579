//! Association between two columns, as the leakage check measures it: a
//! measure per pair of column types (see `expect::leakage`).
//!
//! - Cramér's V of two categorical columns ([`cramers_v`], as scipy's
//!   `association(method="cramer")`), or its bias-corrected form
//!   ([`cramers_v_corrected`], Bergsma 2013).
//! - The correlation ratio η of a numeric column grouped by a categorical
//!   one ([`correlation_ratio`]), or its bias-corrected form
//!   ([`correlation_ratio_corrected`], from Kelley's ε²).
//!
//! All are 0 for independent columns in the population and 1 for a
//! perfect association. The plain forms are biased upwards in a sample by
//! about `(k − 1) / n` in their square, where `k` is the number of
//! categories: noise in an id-like column (a category per row) scores ~1.
//! The corrected forms subtract that bias, so noise scores ~0 at any number
//! of categories.

use std::collections::BTreeMap;

/// Chi-square statistic of a contingency table given as marginals and
/// cells (absent cells are 0).
fn chi2(
    rows: &BTreeMap<String, f64>,
    cols: &BTreeMap<String, f64>,
    cells: &[(String, String, f64)],
    total: f64,
) -> f64 {
    let observed: BTreeMap<(&str, &str), f64> = cells
        .iter()
        .map(|(a, b, n)| ((a.as_str(), b.as_str()), *n))
        .collect();
    let mut chi2 = 0.0;
    for (r, rn) in rows {
        for (c, cn) in cols {
            let expected = rn * cn / total;
            let o = observed
                .get(&(r.as_str(), c.as_str()))
                .copied()
                .unwrap_or(0.0);
            chi2 += (o - expected).powi(2) / expected;
        }
    }
    chi2
}

/// Cramér's V of a contingency table given as marginals and cells:
/// `sqrt(chi² / (n · (min(r, c) − 1)))`, without bias correction (as
/// `scipy.stats.contingency.association(method="cramer")`).
///
/// ```
/// use std::collections::BTreeMap;
/// // A perfect association: every "a" is "x", every "b" is "y".
/// let rows = BTreeMap::from([("a".to_string(), 10.0), ("b".to_string(), 5.0)]);
/// let cols = BTreeMap::from([("x".to_string(), 10.0), ("y".to_string(), 5.0)]);
/// let cells = vec![("a".into(), "x".into(), 10.0), ("b".into(), "y".into(), 5.0)];
/// let v = mltest_core::stats::cramers_v(&rows, &cols, &cells, 15.0);
/// assert!((v - 1.0).abs() < 1e-12);
/// ```
pub fn cramers_v(
    rows: &BTreeMap<String, f64>,
    cols: &BTreeMap<String, f64>,
    cells: &[(String, String, f64)],
    total: f64,
) -> f64 {
    let k = rows.len().min(cols.len());
    if k < 2 || total <= 0.0 {
        return 0.0;
    }
    (chi2(rows, cols, cells, total) / (total * (k as f64 - 1.0)))
        .sqrt()
        .min(1.0)
}

/// Bias-corrected Cramér's V (Bergsma 2013, "A bias-correction for
/// Cramér's V and Tschuprow's T"): with φ² = chi² / n over an r × c table,
///
/// `φ̃² = max(0, φ² − (r − 1)(c − 1) / (n − 1))`,
/// `r̃ = r − (r − 1)² / (n − 1)`, `c̃ = c − (c − 1)² / (n − 1)`,
/// `Ṽ = sqrt(φ̃² / min(r̃ − 1, c̃ − 1))`.
///
/// A column with a distinct value in every row (an id) has φ̃² = 0 exactly,
/// where the uncorrected V is 1. Like [`cramers_v`], 0 for fewer than two
/// categories on either side, and at most 1.
///
/// ```
/// use std::collections::BTreeMap;
/// // An id column against a label: every id is its own category.
/// let rows: BTreeMap<String, f64> = (0..6).map(|i| (format!("id{i}"), 1.0)).collect();
/// let cols = BTreeMap::from([("x".to_string(), 3.0), ("y".to_string(), 3.0)]);
/// let cells: Vec<_> = (0..6)
///     .map(|i| (format!("id{i}"), ["x", "y"][i % 2].to_string(), 1.0))
///     .collect();
/// assert_eq!(mltest_core::stats::cramers_v(&rows, &cols, &cells, 6.0), 1.0);
/// assert_eq!(mltest_core::stats::cramers_v_corrected(&rows, &cols, &cells, 6.0), 0.0);
/// ```
pub fn cramers_v_corrected(
    rows: &BTreeMap<String, f64>,
    cols: &BTreeMap<String, f64>,
    cells: &[(String, String, f64)],
    total: f64,
) -> f64 {
    let (r, c) = (rows.len() as f64, cols.len() as f64);
    if r < 2.0 || c < 2.0 || total <= 1.0 {
        return 0.0;
    }
    let phi2 = chi2(rows, cols, cells, total) / total;
    let phi2 = (phi2 - (r - 1.0) * (c - 1.0) / (total - 1.0)).max(0.0);
    let rt = r - (r - 1.0).powi(2) / (total - 1.0);
    let ct = c - (c - 1.0).powi(2) / (total - 1.0);
    let denom = (rt - 1.0).min(ct - 1.0);
    if phi2 <= 0.0 || denom <= 0.0 {
        return 0.0;
    }
    (phi2 / denom).sqrt().min(1.0)
}

/// One group of a numeric column split by a categorical one: its number of
/// values, their mean, and their sum of squared deviations from that mean
/// (`n · variance` with ddof 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupMoments {
    pub n: f64,
    pub mean: f64,
    pub ss: f64,
}

/// Sums of squares of grouped values: (n, between groups, within groups).
fn sums_of_squares(groups: &[GroupMoments]) -> (f64, f64, f64) {
    let n: f64 = groups.iter().map(|g| g.n).sum();
    if n <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let mean = groups.iter().map(|g| g.n * g.mean).sum::<f64>() / n;
    let between = groups.iter().map(|g| g.n * (g.mean - mean).powi(2)).sum();
    let within = groups.iter().map(|g| g.ss).sum();
    (n, between, within)
}

/// The correlation ratio η of a numeric column grouped by a categorical
/// one: `sqrt(SS_between / SS_total)`, the share of the numeric column's
/// variance the categories explain (Pearson 1903). With two categories it
/// equals |point-biserial r| (Pearson's r against the categories coded
/// 0/1); for a 0/1 numeric column it equals Cramér's V of the table. A
/// constant numeric column (SS_total = 0) has η = 0.
///
/// ```
/// use mltest_core::stats::{GroupMoments, correlation_ratio};
/// // x = 1..6 in groups (a, a, b, b, c, c): SS_between = 16, SS_total = 17.5.
/// let g = |m: f64| GroupMoments { n: 2.0, mean: m, ss: 0.5 };
/// let eta = correlation_ratio(&[g(1.5), g(3.5), g(5.5)]);
/// assert!((eta - (16.0f64 / 17.5).sqrt()).abs() < 1e-12);
/// ```
pub fn correlation_ratio(groups: &[GroupMoments]) -> f64 {
    let (_, between, within) = sums_of_squares(groups);
    let total = between + within;
    if total <= 0.0 {
        return 0.0;
    }
    (between / total).sqrt().min(1.0)
}

/// Bias-corrected η: the square root of Kelley's ε² (the adjusted R² of
/// the group means), `ε² = max(0, 1 − (SS_within / (n − k)) / (SS_total /
/// (n − 1)))` for `k` groups of `n` values. Noise scores ~0 whatever the
/// number of groups (η² itself is biased by about `(k − 1) / (n − 1)`); 0
/// when every value is its own group (nothing left to estimate the
/// within-group variance from), or the column is constant.
///
/// ```
/// use mltest_core::stats::{GroupMoments, correlation_ratio_corrected};
/// let g = |m: f64| GroupMoments { n: 2.0, mean: m, ss: 0.5 };
/// // 1 − (1.5 / 3) / (17.5 / 5) = 6 / 7
/// let eta = correlation_ratio_corrected(&[g(1.5), g(3.5), g(5.5)]);
/// assert!((eta - (6.0f64 / 7.0).sqrt()).abs() < 1e-12);
/// ```
pub fn correlation_ratio_corrected(groups: &[GroupMoments]) -> f64 {
    let (n, between, within) = sums_of_squares(groups);
    let k = groups.iter().filter(|g| g.n > 0.0).count() as f64;
    let total = between + within;
    if total <= 0.0 || n - k <= 0.0 || k < 2.0 {
        return 0.0;
    }
    let eps2 = 1.0 - (within / (n - k)) / (total / (n - 1.0));
    eps2.max(0.0).sqrt().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: Bergsma's formula by hand on a 2 × 3 table.
    //   a: x 10, y 5, z 5;  b: x 2, y 8, z 10   (n = 40)
    #[test]
    fn corrected_v_follows_bergsma() {
        let cells: Vec<(String, String, f64)> = [
            ("a", "x", 10.0),
            ("a", "y", 5.0),
            ("a", "z", 5.0),
            ("b", "x", 2.0),
            ("b", "y", 8.0),
            ("b", "z", 10.0),
        ]
        .iter()
        .map(|(a, b, n)| (a.to_string(), b.to_string(), *n))
        .collect();
        let mut rows = BTreeMap::new();
        let mut cols = BTreeMap::new();
        for (a, b, n) in &cells {
            *rows.entry(a.clone()).or_insert(0.0) += n;
            *cols.entry(b.clone()).or_insert(0.0) += n;
        }
        let n = 40.0;
        // Expected counts: rows 20/20, columns 12/13/15.
        let chi2: f64 = [
            (10.0, 6.0),
            (5.0, 6.5),
            (5.0, 7.5),
            (2.0, 6.0),
            (8.0, 6.5),
            (10.0, 7.5),
        ]
        .iter()
        .map(|(o, e)| (o - e) * (o - e) / e)
        .sum();
        let phi2 = chi2 / n;
        let v = (phi2 / 1.0).sqrt();
        assert!((cramers_v(&rows, &cols, &cells, n) - v).abs() < 1e-12);
        let phi2c = phi2 - 2.0 / 39.0;
        let (rt, ct): (f64, f64) = (2.0 - 1.0 / 39.0, 3.0 - 4.0 / 39.0);
        let want = (phi2c / (rt - 1.0).min(ct - 1.0)).sqrt();
        let got = cramers_v_corrected(&rows, &cols, &cells, n);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        assert!(got < v);
    }

    #[test]
    fn eta_edge_cases() {
        let g = |n: f64, mean: f64, ss: f64| GroupMoments { n, mean, ss };
        // Constant column: no variance to explain.
        assert_eq!(
            correlation_ratio(&[g(3.0, 2.0, 0.0), g(2.0, 2.0, 0.0)]),
            0.0
        );
        // One group: nothing explained.
        assert_eq!(correlation_ratio(&[g(5.0, 2.0, 4.0)]), 0.0);
        // Every value its own group: η = 1, corrected 0.
        let ids: Vec<_> = (0..5).map(|i| g(1.0, i as f64, 0.0)).collect();
        assert_eq!(correlation_ratio(&ids), 1.0);
        assert_eq!(correlation_ratio_corrected(&ids), 0.0);
        // Perfect separation with replicates: both 1.
        let two = [g(3.0, 0.0, 0.0), g(3.0, 1.0, 0.0)];
        assert_eq!(correlation_ratio(&two), 1.0);
        assert_eq!(correlation_ratio_corrected(&two), 1.0);
        assert_eq!(correlation_ratio(&[]), 0.0);
    }
}
