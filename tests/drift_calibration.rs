//! Calibration of the drift tests' p-values: on splits with no drift (random
//! halves of the reviews data, 500 seeds), each test must raise a false
//! alarm at rate alpha = 0.05, up to sampling noise: the count of p < 0.05
//! must lie in the central 99% of Binomial(500, 0.05), i.e. 13..=38.
//!
//! KS assumes continuous data; on Age, which has 77 distinct values, ties
//! make it conservative (about 14 alarms in 500, 2.8%), inside the band but
//! at its edge. The generated continuous samples show it is exact there.
//!
//! Run: `cargo test --release --test drift_calibration` (about 3 s).

use mltest::drift::{Drift, Side};
use statrs::distribution::{Binomial, DiscreteCDF};

const SEEDS: u64 = 500;
const ALPHA: f64 = 0.05;

/// The central 99% band of Binomial(n, p): the smallest k with CDF ≥ 0.005
/// and the smallest k with CDF ≥ 0.995.
fn band(n: u64, p: f64) -> (u64, u64) {
    let b = Binomial::new(p, n).expect("valid binomial");
    let lo = (0..=n).find(|&k| b.cdf(k) >= 0.005).unwrap_or(0);
    let hi = (0..=n).find(|&k| b.cdf(k) >= 0.995).unwrap_or(n);
    (lo, hi)
}

#[test]
fn false_alarm_rates_on_random_halves_match_alpha() {
    let data = mltest::data::load_cached(&mltest::datasets::reviews()).expect("reviews data");
    // Age (77 distinct values) for KS; Department and Class (6 and 20
    // categories) and Rating (5 levels) for chi-square.
    let columns = ["Age", "Department Name", "Class Name"];
    let drift = Drift::columns(columns).categorical(["Rating"]);
    let mut alarms = vec![0u64; 4];
    for seed in 0..SEEDS {
        let (a, b) = data.split_random(seed, 0.5).expect("split");
        let report = drift
            .evaluate(&Side::data(a), &Side::data(b))
            .expect("drift evaluates");
        for (i, c) in report.columns.iter().enumerate() {
            if c.p_value < ALPHA {
                alarms[i] += 1;
            }
        }
    }
    let (lo, hi) = band(SEEDS, ALPHA);
    assert_eq!((lo, hi), (13, 38), "the band the module doc states");
    let names = [
        "KS on Age",
        "chi-square on Department Name",
        "chi-square on Class Name",
        "chi-square on Rating",
    ];
    let mut bad = Vec::new();
    for (name, &k) in names.iter().zip(&alarms) {
        eprintln!("{name}: {k} false alarms in {SEEDS} (expected {lo}..={hi})");
        if k < lo || k > hi {
            bad.push(format!("{name}: {k}"));
        }
    }
    assert!(
        bad.is_empty(),
        "false-alarm counts outside the binomial 99% band {lo}..={hi}: {bad:?}"
    );
}

/// KS on a continuous variable, where its p-value is exact: generated
/// normal samples, both sides of 300 values (exact path) and of 12,000
/// (asymptotic path).
#[test]
fn ks_p_values_are_calibrated_on_continuous_data_both_paths() {
    use mltest::rng::SplitMix64;
    let (lo, hi) = band(SEEDS, ALPHA);
    for n in [300usize, 12_000] {
        let mut rng = SplitMix64::new(n as u64);
        let mut alarms = 0;
        for _ in 0..SEEDS {
            let a: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let b: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let t = mltest::stats::ks_2samp(&a, &b).expect("non-empty");
            let expected = if n <= mltest::stats::KS_EXACT_MAX_N {
                mltest::stats::KsMethod::Exact
            } else {
                mltest::stats::KsMethod::Asymptotic
            };
            assert_eq!(t.method, expected);
            if t.p_value < ALPHA {
                alarms += 1;
            }
        }
        eprintln!("KS, n = {n}: {alarms} false alarms in {SEEDS}");
        assert!(
            (lo..=hi).contains(&alarms),
            "KS n = {n}: {alarms} false alarms, expected {lo}..={hi}"
        );
    }
}
