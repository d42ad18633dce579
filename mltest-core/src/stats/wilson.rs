/// Wilson score interval for a binomial proportion: `successes` of `n` at
/// normal quantile `z` (1.959964 for 95%). Returns (low, high); (0, 1) when
/// n is 0. Matches `statsmodels.stats.proportion.proportion_confint(method="wilson")`.
///
/// ```
/// let (lo, hi) = mltest_core::stats::wilson(9, 1000, 1.959963984540054);
/// assert!((lo - 0.004742060667477063).abs() < 1e-12 && (hi - 0.01701581616533807).abs() < 1e-12);
/// ```
pub fn wilson(successes: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The z for a two-sided 95% interval.
pub const Z95: f64 = 1.959963984540054;
