use std::collections::BTreeMap;

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
    (chi2 / (total * (k as f64 - 1.0))).sqrt().min(1.0)
}
