//! Survival function of the two-sided one-sample Kolmogorov statistic D_n,
//! following scipy's `scipy.stats._ksstats._kolmogn(n, x, cdf=False)` branch
//! for branch (Simard & L'Ecuyer 2011), which `kstwo.sf` calls. statrs has
//! no Kolmogorov distribution, hence this module.
//!
//! Where scipy uses Pomeranz's recursion (n ≤ 140, 0.754693 < n·x² ≤ 4) this
//! module uses the Durbin matrix instead: both are exact, so they agree to
//! rounding. The one-sided Smirnov tail is the Birnbaum–Tingey sum evaluated
//! in log space (scipy uses double-double arithmetic for the same sum).

use std::f64::consts::PI;

/// `kstwo.sf(x, n)`: P(D_n ≥ x).
pub(crate) fn kolmogn_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() || n == 0 {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/2n <= x <= 1/n
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |p, i| p * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0)))
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 4.0 {
            return (1.0 - durbin_matrix_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_matrix_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

// scipy's coefficients, digit for digit.
#[allow(clippy::excessive_precision)]
const STIRLING: [f64; 8] = [
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
];

fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    let rn = 1.0 / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * (rn / n) + c);
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + rn * poly
}

/// One-sided Smirnov tail P(D_n^+ ≥ x) (scipy.special.smirnov), by the
/// Birnbaum–Tingey sum  x · Σ_j C(n,j) (1−x−j/n)^(n−j) (x+j/n)^(j−1),
/// j = 0..⌊n(1−x)⌋, each term in log space so nothing overflows.
pub(crate) fn smirnov_sf(n: u64, x: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) || n == 0 {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    if -2.0 * nf * x * x < -708.3964185322641 {
        return 0.0;
    }
    if n > 1_000_000 {
        // scipy's approximation for very large n: p ≈ exp(−(6nx+1)²/18n)
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        return if logp < -std::f64::consts::LN_2 {
            logp.exp()
        } else {
            1.0 + logp.exp_m1()
        };
    }
    // scipy sums j = 0 ..= n − 1 − ⌊n·x⌋
    let last = (n - 1).saturating_sub((nf * x).floor() as u64);
    let mut log_terms = Vec::with_capacity(last as usize + 1);
    let ln_n_fact = ln_gamma(nf + 1.0);
    for j in 0..=last {
        let jf = j as f64;
        let a = 1.0 - x - jf / nf;
        if a <= 0.0 {
            break;
        }
        let b = x + jf / nf;
        let ln_c = ln_n_fact - ln_gamma(jf + 1.0) - ln_gamma(nf - jf + 1.0);
        log_terms.push(ln_c + (nf - jf) * a.ln() + (jf - 1.0) * b.ln());
    }
    let max = log_terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = log_terms.iter().map(|l| (l - max).exp()).sum();
    (x.ln() + max + sum.ln()).exp().clamp(0.0, 1.0)
}

fn ln_gamma(x: f64) -> f64 {
    statrs::function::gamma::ln_gamma(x)
}

const EP128: f64 = 3.402823669209385e38; // 2^128
const EM128: f64 = 2.938735877055719e-39; // 2^-128

/// P(D_n < x) by the Durbin matrix, as Marsaglia, Tsang and Wang compute it
/// (scipy's `_kolmogn_DMTW`), with the same rescaling to avoid overflow.
fn durbin_matrix_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut w = vec![0.0; m];
    let mut v: Vec<f64> = (1..=m).map(|i| 1.0 - h.powi(i as i32)).collect();
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut pw = vec![0.0; m * m];
    for i in 0..m {
        pw[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i64 = 0;
    let mut h_expnt: i64 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            pw = matmul(&pw, &hm, m);
            expnt += h_expnt;
        }
        hm = matmul(&hm, &hm, m);
        h_expnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > EP128 {
            for x in &mut hm {
                *x /= EP128;
            }
            h_expnt += 128;
        }
        nn /= 2;
    }
    let mut p = pw[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / n as f64;
        if p.abs() < EM128 {
            p *= EP128;
            expnt -= 128;
        }
    }
    if expnt != 0 {
        p *= 2f64.powi(expnt as i32);
    }
    p.clamp(0.0, 1.0)
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            let row = &b[k * m..(k + 1) * m];
            let dst = &mut out[i * m..(i + 1) * m];
            for (o, bv) in dst.iter_mut().zip(row) {
                *o += aik * bv;
            }
        }
    }
    out
}

/// Pelz–Good approximation of P(D_n ≤ x) (scipy's `_kolmogn_PelzGood`).
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * k as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (acc, c) in kk.iter_mut().zip(coeffs) {
            *acc = *acc * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let div = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (acc, d) in kk.iter_mut().zip(div) {
        *acc = *acc * q * sqrt2pi / d;
    }
    let q = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for k in (1..=maxk).rev() {
        let kf = k as f64;
        let ks2 = kf * kf;
        let qp = q.powf(ks2);
        k2extra += ks2 * qp;
        let kspi = PI * kf;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
    }
    kk[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    kk[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    kk.iter()
        .enumerate()
        .map(|(i, v)| v / nf.powf(i as f64 / 2.0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from scipy 1.17.1: `scipy.stats.kstwo.sf(x, n)`, one
    // per branch of `_kolmogn`.
    #[test]
    fn matches_scipy_on_each_branch() {
        let cases = [
            (5000u64, 0.05, 2.6523052328711187e-11, "2 x smirnov"),
            (5000, 0.012, 0.4639912166690192, "pelz-good"),
            (5000, 0.003, 0.9999999999740126, "durbin matrix"),
            (100, 0.1, 0.2526927570063874, "small n, durbin"),
            (100, 0.25, 5.408871776434847e-06, "small n, pomeranz range"),
            (30, 0.3, 0.006852243362913235, "small n, smirnov"),
            (
                2_000_000,
                0.002,
                2.247704493692889e-07,
                "n above smirnov's exact limit",
            ),
            (200_000, 0.004, 0.003314212822560255, "large n"),
            (150, 0.2, 9.805366045892556e-06, "n just above 140"),
        ];
        for (n, x, want, what) in cases {
            let got = kolmogn_sf(n, x);
            assert!(
                ((got - want) / want).abs() < 1e-9,
                "{what}: kstwo.sf({x}, {n}) = {want}, got {got}"
            );
        }
    }
}
