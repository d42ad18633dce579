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
//! A body returns one [`Expectation`], or several as a `Vec` or an array.
//! `shares_within` is several checks (a `Vec<Expectation>`, one per band), so
//! it joins other checks by extending a `Vec`, not as an element of `vec![…]`:
//!
//! ```no_run
//! use mltest::prelude::*;
//!
//! #[data_expectation(reason = "The catalog mix sets the base rate the model learned.")]
//! fn department_mix_is_stable(reviews: &Dataset) -> Vec<Expectation> {
//!     let mut checks = vec![reviews.column("Department Name").null_fraction().at_most(0.001)];
//!     checks.extend(reviews.column("Department Name").shares_within([
//!         ("Tops", 0.40, 0.50),
//!         ("Dresses", 0.22, 0.32),
//!     ]));
//!     checks
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
    ab, check, clock, drift, junit, libtest, model, outdir, prereq, progress, record, report,
    robust, stats, store,
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
/// expectation types, and the built-in fixtures into scope: every name the
/// README writes unqualified.
///
/// ```
/// use mltest::prelude::*;
/// // Data: sources, load options, dtypes, streaming, evaluation options.
/// let _source: DataSource = reviews().streaming(Streaming::Always);
/// let _ = (Streaming::Auto, Streaming::Never, Streaming::Above(1 << 30));
/// let _options = LoadOptions::default().null_tokens(["", "?"]).trim(true).dtype("Age", DType::Integer);
/// let _eval = EvalOptions { exact_quantiles: true, ..EvalOptions::default() };
/// let _spec = ReviewsSpec::new(10, 1);
/// let _: Option<Dataset> = None;
/// let _: Option<(Expectation, Filter, Value, DataError)> = None;
/// // Drift, robustness, the model store.
/// let _: Option<(Drift, Profile, Side, Perturb)> = None;
/// let _ = (typos(1..=2), case_change(), strip_punctuation(), extra_whitespace());
/// let _ = (drop_word(), duplicate_word(), append("!"), noise(1.0), noise_std(0.5));
/// let _store = ModelStore::open("model_store");
/// ```
pub mod prelude {
    pub use crate::datasets::reviews;
    pub use mltest_core::data::Streaming;
    pub use mltest_core::data::generator::ReviewsSpec;
    pub use mltest_core::drift::{Drift, Profile, Side};
    pub use mltest_core::expect::{EvalOptions, Expectation, Filter, Value};
    pub use mltest_core::robust::{
        Perturb, append, case_change, drop_word, duplicate_word, extra_whitespace, noise,
        noise_std, strip_punctuation, typos,
    };
    pub use mltest_core::store::ModelStore;
    pub use mltest_core::{DType, DataError, DataSource, Dataset, LoadOptions};
    pub use mltest_macros::{data_expectation, drift, robustness};
}

/// What generated code calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use linkme;
    pub use mltest_core::check::{
        DATA_CHECKS, DRIFT_CHECKS, DataCheck, DriftCheck, IntoDriftSide, ROBUSTNESS_CHECKS,
        RobustnessCheck, Site, run_data_check, run_drift_check, run_robustness,
    };
    pub use mltest_core::data::IntoDataSource;
    pub use mltest_core::expect::{IntoExpectations, Severity};
    pub use mltest_core::libtest::{IGNORED_TESTS, IgnoredTest, TestAttrs};
    pub use mltest_core::robust::Expect;

    /// Lets a `#[drift]` body return a `Drift` (the spans of a wrong type land on the return type).
    pub fn into_drift(d: mltest_core::drift::Drift) -> mltest_core::drift::Drift {
        d
    }
}
