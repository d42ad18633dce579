//! Bounds learned from a check's own past runs, as Deequ's anomaly
//! strategies learn them from its metrics repository: a limit that is a
//! statistic of the last runs (`history().mean(last(10)) * 1.2`), a ratio to
//! the previous run (`RelativeRateOfChangeStrategy`), or a band of
//! standard deviations around the recent mean (`OnlineNormalStrategy`).
//!
//! The figures are measured as for any check; only the bound waits. The
//! check scaffold reads the check's past figures from the metric history
//! ([`crate::history`]), leaving out the run being judged, and turns the
//! rule into a [`Bound`] ([`Learned::resolve`]). With fewer past runs than
//! the rule reads the check is *inconclusive* — never a pass — and says how
//! many runs it needs.

use serde::{Deserialize, Serialize};

use super::Bound;
use crate::text::fig;

/// The statistic of past runs a limit is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PastStat {
    Mean,
    Median,
    Min,
    Max,
}

/// The newest `n` runs a rule reads: `last(10)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Last(pub usize);

/// The newest `runs` runs of the check (at least one).
///
/// ```
/// use mltest_core::expect::{last, Last};
/// assert_eq!(last(10), Last(10));
/// assert_eq!(last(0), Last(1));
/// ```
pub fn last(runs: usize) -> Last {
    Last(runs.max(1))
}

/// Where a learned limit starts: `history().mean(last(10))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct HistoryRef;

/// The check's own past runs, to build a limit from.
///
/// ```
/// use mltest_core::Dataset;
/// use mltest_core::expect::{history, last};
/// use polars::prelude::*;
/// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0]).unwrap());
/// let e = data.row_count().at_least(history().mean(last(10)) * 0.8);
/// assert_eq!(e.describe_bound(), ">= 0.8 × mean of the last 10 runs");
/// ```
pub fn history() -> HistoryRef {
    HistoryRef
}

impl HistoryRef {
    fn of(self, stat: PastStat, Last(runs): Last) -> PastValue {
        PastValue {
            stat,
            runs,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// The mean of the last runs' figures.
    pub fn mean(self, runs: Last) -> PastValue {
        self.of(PastStat::Mean, runs)
    }

    /// The median of the last runs' figures.
    pub fn median(self, runs: Last) -> PastValue {
        self.of(PastStat::Median, runs)
    }

    /// The smallest of the last runs' figures.
    pub fn min(self, runs: Last) -> PastValue {
        self.of(PastStat::Min, runs)
    }

    /// The largest of the last runs' figures.
    pub fn max(self, runs: Last) -> PastValue {
        self.of(PastStat::Max, runs)
    }

    /// The previous run's figure.
    pub fn previous(self) -> PastValue {
        self.of(PastStat::Mean, Last(1))
    }
}

/// `scale × stat(last runs) + offset`: a limit learned from the past.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PastValue {
    pub stat: PastStat,
    pub runs: usize,
    pub scale: f64,
    pub offset: f64,
}

impl std::ops::Mul<f64> for PastValue {
    type Output = PastValue;
    fn mul(self, k: f64) -> PastValue {
        PastValue {
            scale: self.scale * k,
            offset: self.offset * k,
            ..self
        }
    }
}

impl std::ops::Add<f64> for PastValue {
    type Output = PastValue;
    fn add(self, k: f64) -> PastValue {
        PastValue {
            offset: self.offset + k,
            ..self
        }
    }
}

impl std::ops::Sub<f64> for PastValue {
    type Output = PastValue;
    fn sub(self, k: f64) -> PastValue {
        self + (-k)
    }
}

impl PastValue {
    /// The value over `past` (the newest `runs` figures, oldest first).
    fn value(&self, past: &[f64]) -> f64 {
        let window = &past[past.len().saturating_sub(self.runs)..];
        let stat = match self.stat {
            PastStat::Mean => window.iter().sum::<f64>() / window.len() as f64,
            PastStat::Min => window.iter().copied().fold(f64::INFINITY, f64::min),
            PastStat::Max => window.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            PastStat::Median => {
                let mut v = window.to_vec();
                v.sort_by(f64::total_cmp);
                let m = v.len() / 2;
                if v.len() % 2 == 1 {
                    v[m]
                } else {
                    (v[m - 1] + v[m]) / 2.0
                }
            }
        };
        self.scale * stat + self.offset
    }

    /// `1.2 × mean of the last 10 runs + 0.01`.
    pub fn describe(&self) -> String {
        let stat = match (self.stat, self.runs) {
            (_, 1) => "the previous run".to_string(),
            (PastStat::Mean, n) => format!("mean of the last {n} runs"),
            (PastStat::Median, n) => format!("median of the last {n} runs"),
            (PastStat::Min, n) => format!("min of the last {n} runs"),
            (PastStat::Max, n) => format!("max of the last {n} runs"),
        };
        let scaled = if self.scale == 1.0 {
            stat
        } else {
            format!("{} × {stat}", self.scale)
        };
        let o = self.offset;
        if o == 0.0 {
            scaled
        } else if o > 0.0 {
            format!("{scaled} + {o}")
        } else {
            format!("{scaled} - {}", -o)
        }
    }
}

/// A bound's limit: a number, or a value learned from past runs. Every
/// `at_most`/`at_least`/`between` of a figure takes either.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Fixed(f64),
    Past(PastValue),
}

impl From<f64> for Limit {
    fn from(x: f64) -> Limit {
        Limit::Fixed(x)
    }
}

impl From<PastValue> for Limit {
    fn from(v: PastValue) -> Limit {
        Limit::Past(v)
    }
}

impl Limit {
    fn runs(&self) -> usize {
        match self {
            Limit::Fixed(_) => 0,
            Limit::Past(v) => v.runs,
        }
    }

    fn value(&self, past: &[f64]) -> f64 {
        match self {
            Limit::Fixed(x) => *x,
            Limit::Past(v) => v.value(past),
        }
    }

    fn describe(&self) -> String {
        match self {
            Limit::Fixed(x) => fig(*x),
            Limit::Past(v) => v.describe(),
        }
    }
}

/// A bound whose limits come from the check's past runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Learned {
    /// `at_most`, `at_least` or `between` with a learned limit.
    Limits {
        min: Option<Limit>,
        max: Option<Limit>,
    },
    /// This run's figure over the previous run's stays within
    /// `[1 / max_ratio, max_ratio]` (Deequ's `RelativeRateOfChangeStrategy`
    /// with `maxRateDecrease = 1 / r`, `maxRateIncrease = r`).
    RateOfChange { max_ratio: f64 },
    /// Within `sigmas` sample standard deviations (n − 1 in the
    /// denominator) of the mean of the last `runs` runs (Deequ's
    /// `OnlineNormalStrategy` over a window).
    Sigmas { sigmas: f64, runs: usize },
}

/// What a learned bound came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    Bound(Bound),
    /// Fewer past runs than the rule reads.
    TooFew {
        have: usize,
        need: usize,
    },
    /// The rule cannot be applied (a ratio below 1, a previous figure of 0).
    Invalid(String),
}

impl Learned {
    /// Past runs the rule reads.
    pub fn runs_needed(&self) -> usize {
        match self {
            Learned::Limits { min, max } => {
                let runs = |l: &Option<Limit>| l.as_ref().map_or(0, Limit::runs);
                runs(min).max(runs(max)).max(1)
            }
            Learned::RateOfChange { .. } => 1,
            Learned::Sigmas { runs, .. } => (*runs).max(2),
        }
    }

    /// The bound over `past`, the check's figures of earlier runs, oldest
    /// first.
    ///
    /// ```
    /// use mltest_core::expect::{Bound, Learned, Limit, Resolution, history, last};
    /// let rule = Learned::Limits { min: None, max: Some(Limit::Past(history().mean(last(3)) * 1.5)) };
    /// assert_eq!(rule.resolve(&[9.0, 1.0, 2.0, 3.0]), Resolution::Bound(Bound::AtMost { max: 3.0 }));
    /// assert_eq!(rule.resolve(&[1.0]), Resolution::TooFew { have: 1, need: 3 });
    /// let ratio = Learned::RateOfChange { max_ratio: 2.0 };
    /// assert_eq!(ratio.resolve(&[10.0]), Resolution::Bound(Bound::Between { min: 5.0, max: 20.0 }));
    /// ```
    pub fn resolve(&self, past: &[f64]) -> Resolution {
        let need = self.runs_needed();
        if past.len() < need {
            return Resolution::TooFew {
                have: past.len(),
                need,
            };
        }
        if let Some(x) = past.iter().find(|x| !x.is_finite()) {
            return Resolution::Invalid(format!("a past figure is {x}"));
        }
        let bound = match *self {
            Learned::Limits { min, max } => match (min, max) {
                (Some(lo), Some(hi)) => Bound::Between {
                    min: lo.value(past),
                    max: hi.value(past),
                },
                (Some(lo), None) => Bound::AtLeast {
                    min: lo.value(past),
                },
                (None, Some(hi)) => Bound::AtMost {
                    max: hi.value(past),
                },
                (None, None) => return Resolution::Invalid("a bound without limits".into()),
            },
            Learned::RateOfChange { max_ratio } => {
                // NaN fails too: it is not at least 1.
                if max_ratio.is_nan() || max_ratio < 1.0 {
                    return Resolution::Invalid(format!(
                        "a rate of change of at most {max_ratio}: the ratio must be at least 1"
                    ));
                }
                let p = past[past.len() - 1];
                if p == 0.0 {
                    return Resolution::Invalid(
                        "the previous run's figure is 0: a ratio to it is undefined".into(),
                    );
                }
                let (a, b) = (p / max_ratio, p * max_ratio);
                Bound::Between {
                    min: a.min(b),
                    max: a.max(b),
                }
            }
            Learned::Sigmas { sigmas, runs } => {
                let w = &past[past.len() - runs.max(2)..];
                let n = w.len() as f64;
                let mean = w.iter().sum::<f64>() / n;
                let var = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
                let sd = var.sqrt();
                Bound::Between {
                    min: mean - sigmas * sd,
                    max: mean + sigmas * sd,
                }
            }
        };
        match bound {
            Bound::Between { min, max } if min > max => Resolution::Invalid(format!(
                "the learned bound [{}, {}] is empty",
                fig(min),
                fig(max)
            )),
            b => Resolution::Bound(b),
        }
    }

    /// The rule as reports print it: `<= 1.2 × mean of the last 10 runs`.
    pub fn describe(&self) -> String {
        match self {
            Learned::Limits {
                min: Some(lo),
                max: Some(hi),
            } => format!("in [{}, {}]", lo.describe(), hi.describe()),
            Learned::Limits {
                min: Some(lo),
                max: None,
            } => format!(">= {}", lo.describe()),
            Learned::Limits {
                min: None,
                max: Some(hi),
            } => format!("<= {}", hi.describe()),
            Learned::Limits {
                min: None,
                max: None,
            } => "-".into(),
            Learned::RateOfChange { max_ratio } => {
                format!("within ×{max_ratio} of the previous run")
            }
            Learned::Sigmas { sigmas, runs } => {
                format!("within {sigmas} σ of the mean of the last {runs} runs")
            }
        }
    }
}

/// The bound a learned check was judged against and the runs it came from
/// (kept in the outcome, so the report shows them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnedBasis {
    pub rule: Learned,
    /// The past runs read, oldest first: run id, unix time, figure.
    pub runs: Vec<PastRun>,
    /// Runs the rule needs.
    pub needed: usize,
}

impl LearnedBasis {
    /// `<= 1.2 × mean of the last 3 runs, from runs r1 (0.0400), r2 (0.0420),
    /// r3 (0.0410)`.
    pub fn describe(&self) -> String {
        if self.runs.is_empty() {
            return format!("{}, from no past run yet", self.rule.describe());
        }
        let runs: Vec<String> = self
            .runs
            .iter()
            .map(|r| format!("{} ({})", r.run_id, fig(r.observed)))
            .collect();
        format!("{}, from runs {}", self.rule.describe(), runs.join(", "))
    }
}

/// One past run a learned bound read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PastRun {
    pub run_id: String,
    pub time: f64,
    pub observed: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max(v: PastValue) -> Learned {
        Learned::Limits {
            min: None,
            max: Some(Limit::Past(v)),
        }
    }

    #[test]
    fn each_statistic_reads_only_the_newest_runs() {
        let past = [100.0, 4.0, 1.0, 3.0, 2.0];
        let at_most = |v| match max(v).resolve(&past) {
            Resolution::Bound(Bound::AtMost { max }) => max,
            r => panic!("{r:?}"),
        };
        assert_eq!(at_most(history().mean(last(4))), 2.5);
        assert_eq!(at_most(history().median(last(4))), 2.5);
        assert_eq!(at_most(history().median(last(3))), 2.0);
        assert_eq!(at_most(history().min(last(4))), 1.0);
        assert_eq!(at_most(history().max(last(4))), 4.0);
        assert_eq!(at_most(history().max(last(5))), 100.0);
        assert_eq!(at_most(history().previous()), 2.0);
        assert_eq!(at_most(history().mean(last(4)) * 2.0 + 1.0), 6.0);
        assert_eq!(at_most((history().mean(last(4)) - 0.5) * 2.0), 4.0);
    }

    #[test]
    fn the_sigma_band_uses_the_sample_standard_deviation() {
        let rule = Learned::Sigmas {
            sigmas: 2.0,
            runs: 4,
        };
        // [1, 2, 3, 4]: mean 2.5, sample variance 5/3.
        let sd = (5.0f64 / 3.0).sqrt();
        let Resolution::Bound(Bound::Between { min, max }) =
            rule.resolve(&[9.0, 1.0, 2.0, 3.0, 4.0])
        else {
            panic!()
        };
        assert!((min - (2.5 - 2.0 * sd)).abs() < 1e-12 && (max - (2.5 + 2.0 * sd)).abs() < 1e-12);
    }

    #[test]
    fn too_little_history_says_how_much_is_needed_and_bad_rules_are_errors() {
        let rule = max(history().mean(last(10)));
        assert_eq!(
            rule.resolve(&[1.0; 9]),
            Resolution::TooFew { have: 9, need: 10 }
        );
        let sig = Learned::Sigmas {
            sigmas: 3.0,
            runs: 1,
        };
        assert_eq!(sig.runs_needed(), 2, "one run has no spread");
        let ratio = Learned::RateOfChange { max_ratio: 0.5 };
        assert!(matches!(ratio.resolve(&[1.0]), Resolution::Invalid(_)));
        let ratio = Learned::RateOfChange { max_ratio: 2.0 };
        assert!(matches!(ratio.resolve(&[0.0]), Resolution::Invalid(_)));
        assert_eq!(
            ratio.resolve(&[-10.0]),
            Resolution::Bound(Bound::Between {
                min: -20.0,
                max: -5.0
            })
        );
        assert!(matches!(
            rule.resolve(&[f64::NAN; 10]),
            Resolution::Invalid(_)
        ));
        let crossed = Learned::Limits {
            min: Some(Limit::Past(history().mean(last(1)) * 2.0)),
            max: Some(Limit::Fixed(1.0)),
        };
        assert!(matches!(crossed.resolve(&[5.0]), Resolution::Invalid(_)));
    }

    #[test]
    fn rules_read_as_a_person_writes_them() {
        assert_eq!(
            max(history().mean(last(10)) * 1.2).describe(),
            "<= 1.2 × mean of the last 10 runs"
        );
        assert_eq!(
            max(history().previous() + 5.0).describe(),
            "<= the previous run + 5"
        );
        assert_eq!(
            max(history().max(last(3)) - 0.5).describe(),
            "<= max of the last 3 runs - 0.5"
        );
    }
}
