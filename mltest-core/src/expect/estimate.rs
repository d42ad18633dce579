//! How an approximate figure was estimated and how far it may be off: the
//! statement a streamed quantile carries (see the engine's `sketch.rs`).

use serde::{Deserialize, Serialize};

/// The sketch size: DataSketches' default, a single-quantile rank error of
/// about 1.33% at 99% confidence, a few KiB per sketch.
pub const KLL_K: u16 = 200;

/// How an approximate figure was estimated and how far it may be off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// E.g. `KLL sketch (k = 200)`.
    pub method: String,
    /// Values the sketch summarised.
    pub values: u64,
    /// Normalised rank error ε (0 when the sketch kept every value).
    pub rank_error: f64,
    /// Confidence of the rank error bound.
    pub confidence: f64,
    /// The sketch's quantile at rank `q − ε`: the true value is at least this.
    pub low: f64,
    /// The sketch's quantile at rank `q + ε`: the true value is at most this.
    pub high: f64,
}

impl Estimate {
    /// True when the bound cuts through `[low, high]`, so an exact quantile
    /// could be decided the other way.
    pub fn straddles(&self, bound: &super::Bound) -> bool {
        bound.holds(self.low) != bound.holds(self.high)
    }

    /// `KLL sketch (k = 200) of 14,000,000 values: rank error ±1.33% (99%
    /// confidence), so the quantile lies in [36, 39]`.
    pub fn describe(&self) -> String {
        if self.rank_error == 0.0 {
            return format!(
                "{} of {} values: small enough to be kept whole, so exact",
                self.method,
                crate::text::thousands(self.values)
            );
        }
        format!(
            "{} of {} values: rank error ±{:.2}% ({:.0}% confidence), so the quantile lies in [{}, {}]",
            self.method,
            crate::text::thousands(self.values),
            self.rank_error * 100.0,
            self.confidence * 100.0,
            crate::text::fig(self.low),
            crate::text::fig(self.high)
        )
    }
}
