//! # mltest
//!
//! Tests for machine-learning data and models that run under `cargo test`
//! and `cargo nextest run`.
//!
//! ```no_run
//! use mltest::prelude::*;
//!
//! #[data_expectation(reason = "The checkout form requires an age: any missing age is an ingestion bug.")]
//! fn age_is_never_missing(reviews: &Dataset) -> Expectation {
//!     reviews.column("Age").null_fraction().at_most(0.0)
//! }
//! # fn main() {}
//! ```
//!
//! The parameter name resolves to a fixture function in scope (`reviews()`
//! here, from the prelude: the reviews data set by the data-path contract),
//! the way rstest resolves fixtures. A failing check panics with a report
//! (reason, check, observed vs threshold, segment, example rows, data
//! sha256, how to rerun), writes a JSON record per check, and rebuilds the
//! binary's JUnit file under `target/mltest/`.
//!
//! The architecture and its contracts are in `ARCHITECTURE.md`.

pub use mltest_macros::{data_expectation, drift, robustness};

pub use mltest_core::data::{
    self, DType, DataError, DataInfo, DataSource, Dataset, LoadOptions, generator,
};
pub use mltest_core::expect::{
    self, CheckOutcome, EvalOptions, Expectation, IntoExpectations, Severity, Status,
};
pub use mltest_core::{
    ab, clock, drift, junit, model, outdir, progress, record, report, robust, runner, stats, store,
};

/// Built-in data sets, usable as fixtures.
pub mod datasets {
    /// The Women's E-Commerce Clothing Reviews data set (see
    /// [`mltest_core::data::reviews`] for how it is found), usable as the
    /// fixture of a `reviews: &Dataset` parameter.
    ///
    /// ```
    /// assert_eq!(mltest::datasets::reviews().name(), "reviews");
    /// ```
    pub fn reviews() -> mltest_core::DataSource {
        mltest_core::data::reviews::source()
    }
}

/// `use mltest::prelude::*;` brings the attribute macros, the data and
/// expectation types, and the built-in fixtures into scope.
pub mod prelude {
    pub use crate::datasets::reviews;
    pub use mltest_core::data::generator::ReviewsSpec;
    pub use mltest_core::drift::{Drift, Profile, Side};
    pub use mltest_core::expect::{Expectation, Filter, Value};
    pub use mltest_core::robust::{
        Perturb, append, case_change, drop_word, duplicate_word, extra_whitespace, noise,
        noise_std, strip_punctuation, typos,
    };
    pub use mltest_core::{DType, DataError, DataSource, Dataset, LoadOptions};
    pub use mltest_macros::{data_expectation, drift, robustness};
}

/// What generated code calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use linkme;
    pub use mltest_core::data::IntoDataSource;
    pub use mltest_core::drift::{DRIFT_CHECKS, DriftCheck, IntoDriftSide, run_drift_check};
    pub use mltest_core::expect::{IntoExpectations, Severity};
    pub use mltest_core::robust::{Expect, ROBUSTNESS_CHECKS, RobustnessCheck, run_robustness};
    pub use mltest_core::runner::{DATA_CHECKS, DataCheck, run_data_check};

    /// Lets a `#[drift]` body return a `Drift` (the spans of a wrong type land on the return type).
    pub fn into_drift(d: mltest_core::drift::Drift) -> mltest_core::drift::Drift {
        d
    }
}
