//! Violation-rate verdicts that say how sure they are.
//!
//! Is the true violation rate p (flips per perturbed case) below `max`?
//!
//! - [`fixed_verdict`]: a fixed number of cases, judged once by the
//!   two-sided Wilson interval at `confidence`.
//! - [`Sequential`] with [`round_sizes`] (`cases = "auto"`): rounds stop as
//!   soon as an *always-valid* confidence sequence excludes `max`, so looking
//!   after every round keeps a wrong verdict's chance ≤ alpha = 1 − confidence.
//!
//! # The confidence sequence
//!
//! Robbins' beta-binomial mixture martingale (H. Robbins, "Statistical
//! methods related to the law of the iterated logarithm", Ann. Math.
//! Statist. 41(5), 1970; the conjugate "beta-binomial" mixture of S. R.
//! Howard, A. Ramdas, J. McAuliffe, J. Sekhon, "Time-uniform,
//! nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2),
//! 2021). After `n` cases with `k` flips, for a candidate rate q,
//!
//! ```text
//! M_n(q) = ∫ θ^k (1-θ)^(n-k) dBeta(θ; a, b) / (q^k (1-q)^(n-k))
//!        = B(a+k, b+n-k) / (B(a, b) · q^k (1-q)^(n-k)).
//! ```
//!
//! At the true rate q each case multiplies the integrand by a factor of
//! mean 1, so `M_n(q)` is a non-negative martingale with `M_0 = 1` and
//! Ville's inequality gives `P(∃ n: M_n(q) ≥ 1/alpha) ≤ alpha` over the
//! whole unbounded run. So `C_n = {q : M_n(q) < 1/alpha}` covers the true
//! rate at every n at once with probability ≥ 1 − alpha, however often one
//! looks and whenever one stops. `C_n` is an interval around k/n (a
//! superlevel set of the log-concave likelihood): the run stops with *pass*
//! when `M_n(max) ≥ 1/alpha` and k/n < max, *fail* when k/n > max. A wrong
//! verdict needs `C_n` to miss the true rate at some round: chance ≤ alpha.
//!
//! The prior only decides where the sequence is tight, never its validity:
//! Beta with mean `max` and standard deviation `max / 2`
//! (`PRIOR_SD_SHARE`), tuned for rates half of `max` away from it (a
//! uniform prior needs 25–45% more cases at 0.5× and 1.5× `max`).
//! Validity assumes each case flips independently given the earlier ones
//! with the same probability p (cases drawn with replacement, or from a
//! pool much larger than the budget).

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::ln_beta;

use crate::stats::wilson;

/// The prior's standard deviation as a share of `max` (see the module docs).
const PRIOR_SD_SHARE: f64 = 0.5;
/// Cases in the first adaptive round; each later round is 1.25× the last.
const FIRST_ROUND: u64 = 100;

/// How sure a violation-rate test is that the rate is below its maximum.
///
/// ```
/// use mltest_core::stats::RateVerdict;
/// let v = RateVerdict::Inconclusive { cases_to_decide: Some(1200) };
/// assert!(!v.is_decided() && RateVerdict::Pass.is_decided());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateVerdict {
    /// The rate is below the maximum at the confidence asked for.
    Pass,
    /// The rate is above the maximum at the confidence asked for.
    Fail,
    /// Neither could be shown. `cases_to_decide` is the total number of
    /// cases at which the same observed rate would decide (more than were
    /// run); `None` when the observed rate equals the maximum, no cases ran,
    /// or more than 2^53 cases would be needed.
    Inconclusive { cases_to_decide: Option<u64> },
}

impl RateVerdict {
    /// Pass or fail.
    ///
    /// ```
    /// assert!(mltest_core::stats::RateVerdict::Fail.is_decided());
    /// ```
    pub fn is_decided(self) -> bool {
        !matches!(self, RateVerdict::Inconclusive { .. })
    }
}

/// Panics unless `max` is in [0, 1] and `confidence` in (0, 1).
fn check_args(max: f64, confidence: f64) {
    assert!((0.0..=1.0).contains(&max), "max {max} is not in [0, 1]");
    let ok = confidence > 0.0 && confidence < 1.0;
    assert!(ok, "confidence {confidence} is not in (0, 1)");
}

/// z = Φ⁻¹(1 − (1 − confidence)/2), the two-sided normal quantile.
fn two_sided_z(confidence: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// `x·ln y` with `0·ln 0 = 0`.
fn xlny(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x * y.ln() }
}

/// Cases beyond this are reported as "no finite run decides" (`None`).
const MAX_CASES: f64 = 9_007_199_254_740_992.0; // 2^53

/// The verdict on `k` flips of `n` cases by the two-sided Wilson interval
/// at `confidence` (statsmodels `proportion_confint(method="wilson")`),
/// returned with it: pass if it lies below `max`, fail if above, else
/// inconclusive with the smallest total at which the rate k/n would decide.
/// Panics if `k > n`, `max` ∉ [0, 1] or `confidence` ∉ (0, 1).
///
/// ```
/// use mltest_core::stats::{RateVerdict, fixed_verdict};
/// let (v, (lo, hi)) = fixed_verdict(9, 1000, 0.04, 0.95);
/// assert_eq!(v, RateVerdict::Pass);
/// assert!((lo - 0.004742060667477063).abs() < 1e-9 && (hi - 0.01701581616533807).abs() < 1e-9);
/// // 30 of 1000 against 4%: undecided; 3.0% would decide at 1,476 cases.
/// let (v, _) = fixed_verdict(30, 1000, 0.04, 0.95);
/// assert_eq!(v, RateVerdict::Inconclusive { cases_to_decide: Some(1476) });
/// ```
pub fn fixed_verdict(k: u64, n: u64, max: f64, confidence: f64) -> (RateVerdict, (f64, f64)) {
    check_args(max, confidence);
    assert!(k <= n, "{k} flips of {n} cases");
    let z = two_sided_z(confidence);
    let (lo, hi) = wilson(k, n, z);
    let verdict = if hi < max {
        RateVerdict::Pass
    } else if lo > max {
        RateVerdict::Fail
    } else {
        RateVerdict::Inconclusive {
            cases_to_decide: wilson_cases_to_decide(k, n, max, z),
        }
    };
    (verdict, (lo, hi))
}

/// The Wilson interval is the score-test region {q : N(r − q)² ≤ z²q(1 − q)},
/// so at rate r it leaves out `max` exactly when N > z²·max(1 − max)/(r − max)².
fn wilson_cases_to_decide(flips: u64, cases: u64, max: f64, z: f64) -> Option<u64> {
    if cases == 0 {
        return None;
    }
    let gap = flips as f64 / cases as f64 - max;
    if gap == 0.0 {
        return None;
    }
    let bound = z * z * max * (1.0 - max) / (gap * gap);
    (bound < MAX_CASES).then(|| (bound.floor() as u64 + 1).max(cases + 1))
}

/// Adaptive (`cases = "auto"`) state: the beta-binomial mixture confidence
/// sequence of the module docs, fed one round at a time.
///
/// ```
/// use mltest_core::stats::{RateVerdict, Sequential, round_sizes};
/// let mut s = Sequential::new(0.04, 0.95);
/// let mut verdict = None;
/// for size in round_sizes(20_000) {
///     let flips = size / 50; // a model that flips 2% of cases
///     verdict = s.update(flips, size);
///     if verdict.is_some() {
///         break;
///     }
/// }
/// assert_eq!(verdict, Some(RateVerdict::Pass));
/// let (lo, hi) = s.interval();
/// assert!(lo < 0.02 && hi < 0.04 && s.counts().1 < 2_000);
/// ```
#[derive(Clone, Debug)]
pub struct Sequential {
    max: f64,
    alpha: f64,
    a: f64,
    b: f64,
    flips: u64,
    cases: u64,
    decided: Option<RateVerdict>,
}

impl Sequential {
    /// A run against `max` at `confidence` (alpha = 1 − confidence). Panics
    /// if `max` is outside [0, 1] or `confidence` outside (0, 1).
    ///
    /// ```
    /// let s = mltest_core::stats::Sequential::new(0.1, 0.95);
    /// assert_eq!((s.counts(), s.interval()), ((0, 0), (0.0, 1.0)));
    /// ```
    pub fn new(max: f64, confidence: f64) -> Self {
        check_args(max, confidence);
        // Beta(a, b) with mean m and sd PRIOR_SD_SHARE·m: var = m(1-m)/(a+b+1).
        let m = max.clamp(1e-4, 1.0 - 1e-4);
        let r = ((1.0 - m) / (PRIOR_SD_SHARE * PRIOR_SD_SHARE * m) - 1.0).max(2.0);
        let (a, b) = ((r * m).max(0.5), (r * (1.0 - m)).max(0.5));
        Sequential {
            max,
            alpha: 1.0 - confidence,
            a,
            b,
            flips: 0,
            cases: 0,
            decided: None,
        }
    }

    /// Adds a round and returns the verdict once the sequence excludes
    /// `max`: `Some(Pass)` or `Some(Fail)`, `None` while undecided. The first
    /// decision sticks (later rounds are ignored): it is the stopping time
    /// the guarantee is about. Panics if `flips_in_round > cases_in_round`.
    ///
    /// ```
    /// use mltest_core::stats::{RateVerdict, Sequential};
    /// let mut s = Sequential::new(0.04, 0.95);
    /// assert_eq!(s.update(6, 100), None);
    /// assert_eq!(s.update(30, 200), Some(RateVerdict::Fail)); // 12% of 300
    /// assert_eq!(s.update(0, 10_000), Some(RateVerdict::Fail));
    /// ```
    pub fn update(&mut self, flips_in_round: u64, cases_in_round: u64) -> Option<RateVerdict> {
        if self.decided.is_some() {
            return self.decided;
        }
        assert!(
            flips_in_round <= cases_in_round,
            "{flips_in_round} flips of {cases_in_round} cases"
        );
        self.flips += flips_in_round;
        self.cases += cases_in_round;
        let (k, n) = (self.flips as f64, self.cases as f64);
        if self.log_martingale(k, n, self.max) >= self.threshold() {
            // M_n(k/n) ≤ 1 < 1/alpha, so k/n ≠ max here.
            self.decided = Some(if k < self.max * n {
                RateVerdict::Pass
            } else {
                RateVerdict::Fail
            });
        }
        self.decided
    }

    /// (flips, cases) so far.
    ///
    /// ```
    /// let mut s = mltest_core::stats::Sequential::new(0.1, 0.95);
    /// s.update(3, 100);
    /// assert_eq!(s.counts(), (3, 100));
    /// ```
    pub fn counts(&self) -> (u64, u64) {
        (self.flips, self.cases)
    }

    /// The verdict so far: pass or fail once decided, otherwise
    /// inconclusive with the total number of cases at which this sequence
    /// would decide if the observed rate held (`None` as in
    /// [`RateVerdict::Inconclusive`]). Call it when the budget is spent.
    ///
    /// ```
    /// use mltest_core::stats::{RateVerdict, Sequential};
    /// let mut s = Sequential::new(0.04, 0.95);
    /// s.update(30, 1000); // 3% against 4%
    /// let RateVerdict::Inconclusive { cases_to_decide: Some(n) } = s.verdict() else { panic!() };
    /// assert!(n > 1000);
    /// ```
    pub fn verdict(&self) -> RateVerdict {
        self.decided.unwrap_or(RateVerdict::Inconclusive {
            cases_to_decide: self.cases_to_decide(),
        })
    }

    /// The current confidence sequence `C_n = {q : M_n(q) < 1/alpha}` as
    /// (low, high): it holds the true rate at every round at once with
    /// probability ≥ confidence. (0, 1) before any case.
    ///
    /// ```
    /// let mut s = mltest_core::stats::Sequential::new(0.04, 0.95);
    /// s.update(20, 1000);
    /// let (lo, hi) = s.interval();
    /// let (wlo, whi) = mltest_core::stats::wilson(20, 1000, 1.959963984540054);
    /// assert!(lo < wlo && wlo < 0.02 && 0.02 < whi && whi < hi); // wider than Wilson
    /// ```
    pub fn interval(&self) -> (f64, f64) {
        if self.cases == 0 {
            return (0.0, 1.0);
        }
        let (k, n) = (self.flips as f64, self.cases as f64);
        let rate = k / n;
        let inside = |q: f64| self.log_martingale(k, n, q) < self.threshold();
        let lo = (k > 0.0).then(|| bisect(0.0, rate, inside));
        let hi = (k < n).then(|| bisect(rate, 1.0, |q| !inside(q)));
        (lo.unwrap_or(0.0), hi.unwrap_or(1.0))
    }

    /// ln(1/alpha): Ville's threshold on the log scale.
    fn threshold(&self) -> f64 {
        -self.alpha.ln()
    }

    /// ln M_n(q) after `n` cases with `k` flips (both may be fractional).
    fn log_martingale(&self, k: f64, n: f64, q: f64) -> f64 {
        let log_marginal = ln_beta(self.a + k, self.b + n - k) - ln_beta(self.a, self.b);
        log_marginal - xlny(k, q) - xlny(n - k, 1.0 - q)
    }

    /// Smallest total N > cases at which rate k/n would give M_N(max) ≥ 1/alpha.
    fn cases_to_decide(&self) -> Option<u64> {
        if self.cases == 0 {
            return None;
        }
        let rate = self.flips as f64 / self.cases as f64;
        if rate == self.max {
            return None;
        }
        let decides = |n: f64| self.log_martingale(rate * n, n, self.max) >= self.threshold();
        let mut lo = self.cases as f64; // undecided here
        let mut hi = 2.0 * lo;
        while !decides(hi) {
            if hi > MAX_CASES {
                return None;
            }
            lo = hi;
            hi *= 2.0;
        }
        // ln M_N(max) ≈ N·KL(rate‖max) − ½ln N + c increases in N: bisect on integers.
        while hi - lo > 1.0 {
            let mid = ((lo + hi) / 2.0).floor();
            if decides(mid) { hi = mid } else { lo = mid }
        }
        Some(hi as u64)
    }
}

/// The boundary in [lo, hi] where `past` turns true (false at lo, true at hi).
fn bisect(mut lo: f64, mut hi: f64, past: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if past(mid) { hi = mid } else { lo = mid }
    }
    0.5 * (lo + hi)
}

/// Round sizes for `cases = "auto"` with `budget` cases: 100,
/// then each round 1.25× the last, the final one cut so they add up to
/// `budget` exactly.
///
/// ```
/// let sizes: Vec<u64> = mltest_core::stats::round_sizes(1000).collect();
/// assert_eq!(sizes, [100, 125, 156, 195, 243, 181]);
/// assert_eq!(mltest_core::stats::round_sizes(20_000).sum::<u64>(), 20_000);
/// assert_eq!(mltest_core::stats::round_sizes(40).collect::<Vec<_>>(), [40]);
/// ```
pub fn round_sizes(budget: u64) -> impl Iterator<Item = u64> {
    let (mut used, mut next) = (0u64, FIRST_ROUND);
    std::iter::from_fn(move || {
        if used >= budget {
            return None;
        }
        let size = next.min(budget - used);
        used += size;
        next = next.saturating_add(next / 4);
        Some(size)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use RateVerdict::{Fail, Inconclusive, Pass};

    const UNKNOWN: RateVerdict = Inconclusive {
        cases_to_decide: None,
    };

    /// statsmodels `proportion_confint(k, n, alpha=1-c, method="wilson")`, from reference.py.
    const STATSMODELS: [(u64, u64, f64, f64, f64); 12] = [
        (0, 50, 0.9, 0.0, 0.051333185786270163),
        (0, 50, 0.95, 6.938893903907228e-18, 0.07134759913335872),
        (1, 50, 0.99, 0.002352480614833341, 0.1501135274340895),
        (9, 1000, 0.9, 0.00524341777935851, 0.015406257082086322),
        (9, 1000, 0.95, 0.004742060667477063, 0.01701581616533807),
        (30, 1000, 0.99, 0.018906316302827998, 0.04728937870637442),
        (40, 1000, 0.95, 0.02951097368545276, 0.05400964412125796),
        (500, 1000, 0.99, 0.45940700521208483, 0.5405929947879151),
        (1000, 1000, 0.9, 0.9973017567602394, 0.9999999999999998),
        (7, 20000, 0.95, 1.6955317759555281e-4, 7.223484532697996e-4),
        (1234, 20000, 0.9, 0.058960342820097586, 0.06455822510996105),
        (1234, 20000, 0.99, 0.057461236598233704, 0.06622947447789251),
    ];

    fn close(x: f64, y: f64) -> bool {
        (x - y).abs() <= 1e-9 * y.abs() + 1e-15
    }

    #[test]
    fn wilson_matches_statsmodels_at_90_95_99() {
        for (k, n, c, lo, hi) in STATSMODELS {
            let (_, (l, h)) = fixed_verdict(k, n, 0.5, c);
            assert!(close(l, lo) && close(h, hi), "{k}/{n} at {c}: ({l}, {h})");
        }
        assert!(close(two_sided_z(0.95), crate::stats::Z95));
    }

    /// Centre (k + z²/2)/(n + z²), half-width z/(n + z²)·√(k(n−k)/n + z²/4), k real.
    fn wilson_excludes(k: f64, n: f64, max: f64) -> bool {
        let z2 = two_sided_z(0.95).powi(2);
        let centre = (k + z2 / 2.0) / (n + z2);
        (centre - max).abs() > z2.sqrt() / (n + z2) * (k * (n - k) / n + z2 / 4.0).sqrt()
    }

    /// (k, n, max) left undecided at n.
    const UNDECIDED: [(u64, u64, f64); 5] = [
        (30, 1000, 0.04),
        (50, 1000, 0.04),
        (3, 100, 0.02),
        (0, 20, 0.1),
        (11, 100, 0.1),
    ];

    fn to_decide(v: RateVerdict) -> u64 {
        match v {
            Inconclusive {
                cases_to_decide: Some(n),
            } => n,
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn cases_to_decide_is_the_first_deciding_total() {
        assert_eq!(fixed_verdict(9, 1000, 0.04, 0.95).0, Pass);
        assert_eq!(fixed_verdict(80, 1000, 0.04, 0.95).0, Fail);
        assert_eq!(fixed_verdict(40, 1000, 0.04, 0.95).0, UNKNOWN); // rate == max
        assert_eq!(fixed_verdict(0, 0, 0.04, 0.95), (UNKNOWN, (0.0, 1.0)));
        for (k, n, max) in UNDECIDED {
            let r = k as f64 / n as f64;
            let big = to_decide(fixed_verdict(k, n, max, 0.95).0);
            let fixed = |m: u64| wilson_excludes(r * m as f64, m as f64, max);
            assert!(big > n && fixed(big) && !fixed(big - 1), "{k}/{n}: {big}");
            let mut s = Sequential::new(max, 0.95);
            assert_eq!(s.update(k, n), None);
            let seq = to_decide(s.verdict());
            let adaptive = |m: u64| s.log_martingale(r * m as f64, m as f64, max) >= s.threshold();
            assert!(
                seq > big && adaptive(seq) && !adaptive(seq - 1),
                "{k}/{n}: {seq}"
            );
        }
    }

    #[test]
    fn sequential_interval_agrees_with_its_decisions() {
        for (k, n) in [(0, 100), (5, 100), (20, 1000), (60, 1000), (100, 100)] {
            let mut s = Sequential::new(0.04, 0.95);
            let decided = s.update(k, n);
            let (lo, hi) = s.interval();
            let rate = k as f64 / n as f64;
            assert!(lo <= rate && rate <= hi, "{k}/{n}: ({lo}, {hi})");
            assert_eq!(decided.is_none(), lo <= 0.04 && 0.04 <= hi, "{k}/{n}");
            let (wlo, whi) = wilson(k, n, crate::stats::Z95);
            assert!(lo <= wlo + 1e-12 && hi >= whi - 1e-12, "wider than Wilson");
            for q in [lo, hi] {
                let on_threshold = s.log_martingale(k as f64, n as f64, q) - s.threshold();
                assert!(
                    q == 0.0 || q == 1.0 || on_threshold.abs() < 1e-6,
                    "{k}/{n}: {q}"
                );
            }
        }
        let mut s = Sequential::new(0.04, 0.95);
        assert_eq!(s.update(120, 1000), Some(Fail));
        assert_eq!(s.update(0, 100_000), Some(Fail), "sticks");
        assert_eq!(s.counts(), (120, 1000));
    }

    #[test]
    fn round_sizes_spend_the_budget_exactly() {
        assert_eq!(round_sizes(0).count(), 0);
        for budget in [1, 99, 100, 101, 500, 20_000, 1_000_003, u64::MAX] {
            let sizes: Vec<u64> = round_sizes(budget).collect();
            assert_eq!(sizes.iter().sum::<u64>(), budget);
            assert_eq!(sizes[0], budget.min(FIRST_ROUND));
        }
    }

    const SEEDS: u64 = 500;
    const BUDGET: u64 = 20_000;

    fn flips(rng: &mut SplitMix64, p: f64, cases: u64) -> u64 {
        (0..cases).filter(|_| rng.unit() < p).count() as u64
    }

    /// One seeded run: "adaptive" (the confidence sequence), "fixed500", or
    /// "peeking" (the fixed Wilson verdict looked at after every round: invalid).
    fn run(mode: &str, p: f64, max: f64, seed: u64) -> (RateVerdict, u64) {
        let mut rng = SplitMix64::new(seed);
        let mut s = Sequential::new(max, 0.95);
        let (mut k, mut n) = (0, 0);
        for m in round_sizes(if mode == "fixed500" { 500 } else { BUDGET }) {
            (k, n) = (k + flips(&mut rng, p, m), n + m);
            match mode {
                "adaptive" if s.update(k - s.counts().0, m).is_some() => break,
                "peeking" if fixed_verdict(k, n, max, 0.95).0.is_decided() => break,
                _ => {}
            }
        }
        let fixed = || fixed_verdict(k, n, max, 0.95).0;
        (
            if mode == "adaptive" {
                s.verdict()
            } else {
                fixed()
            },
            n,
        )
    }

    /// Calibration: a synthetic model that flips with known p, 500 seeds, confidence 0.95.
    /// `cargo test --release calibration -- --nocapture` prints the table in NOTES.
    #[test]
    fn calibration_wrong_verdicts_at_most_alpha() {
        eprintln!("mode     max  p      wrong pass  fail  inconcl. mean cases");
        for (max, mode) in [0.04, 0.1]
            .map(|m| ["adaptive", "fixed500", "peeking"].map(|x| (m, x)))
            .concat()
        {
            for p in [0.5, 0.9, 1.0, 1.1, 1.5].map(|x| x * max) {
                let runs: Vec<_> = (0..SEEDS).map(|seed| run(mode, p, max, seed)).collect();
                let share = |f: &dyn Fn(RateVerdict) -> bool| {
                    runs.iter().filter(|r| f(r.0)).count() as f64 / SEEDS as f64
                };
                let (pass, fail) = (share(&|v| v == Pass), share(&|v| v == Fail));
                let inconclusive = share(&|v| !v.is_decided());
                // wrong: fail when p < max, pass when p > max, none at p == max
                let wrong = [fail, 0.0, pass][(p >= max) as usize + (p > max) as usize];
                let mean = runs.iter().map(|r| r.1).sum::<u64>() as f64 / SEEDS as f64;
                eprintln!(
                    "{mode:8} {max:<4} {p:<6.3} {wrong:<5.3} {pass:<5.3} {fail:<5.3} {inconclusive:<8.3} {mean:.0}"
                );
                if mode != "peeking" {
                    assert!(wrong <= 0.05, "{mode} p={p} max={max}");
                }
                if mode == "adaptive" && p == max {
                    // a decision at p == max means the sequence missed p: at most alpha
                    assert!(pass + fail <= 0.05, "adaptive at p == max");
                }
            }
        }
    }
}
