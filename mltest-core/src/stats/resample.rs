//! Resampling and multiple-testing helpers for drift verdicts.

use crate::rng::SplitMix64;

/// A Poisson draw with mean `lambda`: Knuth's product method below 10,
/// Hörmann's transformed rejection (PTRS, as numpy) above.
pub(crate) fn poisson(lambda: f64, rng: &mut SplitMix64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 10.0 {
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= rng.unit();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    let slam = lambda.sqrt();
    let loglam = lambda.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let invalpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.unit() - 0.5;
        let v = rng.unit();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k as u64;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        let lhs = v.ln() + invalpha.ln() - (a / (us * us) + b).ln();
        let rhs = -lambda + k * loglam - statrs::function::gamma::ln_gamma(k + 1.0);
        if lhs <= rhs {
            return k as u64;
        }
    }
}

/// Poisson bootstrap of counts: every count `c` is replaced by a Poisson(c)
/// draw, the standard large-sample stand-in for a multinomial resample
/// (Hanley & MacGibbon 2006) that costs one draw per distinct value instead
/// of one per row.
pub(crate) fn poisson_resample(counts: &[u64], rng: &mut SplitMix64) -> Vec<u64> {
    counts.iter().map(|&c| poisson(c as f64, rng)).collect()
}

/// The `q` quantile (0..=1) of `values` by linear interpolation (numpy's default).
pub(crate) fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let pos = q * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
}

/// Benjamini–Hochberg adjusted p-values (statsmodels'
/// `multipletests(p, method="fdr_bh")[1]`), in the input order. NaNs stay NaN
/// and do not count as tests.
///
/// ```
/// let adj = mltest_core::stats::benjamini_hochberg(&[0.01, 0.04, 0.03, 0.20]);
/// // statsmodels: [0.04, 0.05333333, 0.05333333, 0.2]
/// assert!((adj[0] - 0.04).abs() < 1e-12 && (adj[1] - 0.16 / 3.0).abs() < 1e-12);
/// assert!((adj[2] - 0.16 / 3.0).abs() < 1e-12 && (adj[3] - 0.2).abs() < 1e-12);
/// ```
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len() as f64;
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m / (rank + 1) as f64);
        out[i] = running.min(1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_draws_have_the_right_mean_and_variance() {
        let mut rng = SplitMix64::new(7);
        for lambda in [0.5, 4.0, 25.0, 1000.0] {
            let draws: Vec<f64> = (0..20_000)
                .map(|_| poisson(lambda, &mut rng) as f64)
                .collect();
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
            // 20,000 draws: the mean's standard error is sqrt(lambda / 20000).
            let se = (lambda / 20_000.0).sqrt();
            assert!(
                (mean - lambda).abs() < 5.0 * se,
                "lambda {lambda}: mean {mean}"
            );
            assert!(
                (var / lambda - 1.0).abs() < 0.08,
                "lambda {lambda}: variance {var}"
            );
        }
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&mut v, 0.5), 2.5);
        assert_eq!(quantile(&mut v, 0.0), 1.0);
        assert_eq!(quantile(&mut v, 1.0), 4.0);
    }
}
