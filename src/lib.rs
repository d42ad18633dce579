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

pub use mltest_core::register_model_kind;

/// The polars mltest's data frames are of: write a model's `predict` against it.
pub use polars;

/// The DataFusion of mltest's second engine (cargo feature `datafusion`).
#[cfg(feature = "datafusion")]
pub use mltest_core::datafusion;

pub use mltest_core::data::{self, DType, DataError, DataInfo, DataSource, Dataset, LoadOptions};
pub use mltest_core::expect::{
    self, CheckOutcome, EvalOptions, Expectation, IntoExpectations, Severity, Status,
};
pub use mltest_core::{ab, drift, model, monitor, prereq, rng, robust, stats, store};

/// Running registered checks outside `cargo test` (a pipeline's data gate
/// includes a test file as a module and runs its checks), A/B comparisons
/// from a plain `#[test]`, and publishing their records. One scaffold
/// serves every kind: see [`check::Site`].
///
/// ```no_run
/// use mltest::check::{evaluate_checks, publish, registered_data_checks};
/// // Every check linked into this binary (a pipeline includes
/// // `tests/data_quality.rs` as a module), one pass per data set.
/// let checks = registered_data_checks();
/// let runs = evaluate_checks(&checks);
/// for run in &runs {
///     publish(run); // records + JUnit
/// }
/// let failed = runs.iter().filter(|r| r.fails_test()).count();
/// assert_eq!(failed, 0, "{}", runs.iter().map(|r| r.report()).collect::<String>());
/// ```
pub use mltest_core::check;

/// Records: one JSON file per check, which JUnit, the HTML report and your
/// own tooling read.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(mltest::record::read_all(dir.path()).is_empty());
/// ```
pub mod record {
    pub use mltest_core::libtest::{Outcome, Skipped, TestResult};
    pub use mltest_core::record::{
        Baseline, CheckKind, Details, FORMAT, Record, RecordError, RobustnessDetails, Threshold,
        Verdict, read_all, read_run, records_dir, write_test_records,
    };
}

/// The metric history: every check's figures of every run, in SQLite
/// (`target/mltest/history.sqlite`, `MLTEST_HISTORY`).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let h = mltest::history::History::open(dir.path().join("h.sqlite")).unwrap();
/// assert!(h.checks().unwrap().is_empty());
/// ```
pub mod history {
    pub use mltest_core::history::{
        APPLICATION_ID, BUSY_TIMEOUT, CheckHistory, CheckKey, DEFAULT_KEEP, Figure, History,
        HistoryError, SCHEMA_VERSION, append_to_default, default_path,
    };
}

/// JUnit XML rebuilt from a binary's records (one testcase per test).
pub mod junit {
    pub use mltest_core::junit::{junit_path, rebuild, render};
}

/// The HTML report and the terminal summary, built from records.
pub mod report {
    pub use mltest_core::report::{latest_records, summary, use_colour, write_html};
}

/// Where records, JUnit, reports and caches go, and the run they belong to.
///
/// ```
/// assert!(mltest::outdir::out_dir().ends_with("mltest") || std::env::var_os("MLTEST_OUT").is_some());
/// ```
pub mod outdir {
    pub use mltest_core::outdir::{binary_name, out_dir, run_id};
}

/// Progress bars for long work, off unless a program turns them on (and
/// drawn only on a terminal).
pub mod progress {
    pub use mltest_core::progress::enable;
}

/// Every environment variable mltest reads, with its meaning (the README's table).
pub mod config {
    pub use mltest_core::config::{Scope, VARS, Var, data_var};
}

/// The time freshness checks compare with: `MLTEST_NOW` (ISO 8601 or unix
/// seconds) when set, so a test can fix it, else the system clock.
///
/// ```
/// use mltest::clock::{days, parse_time};
/// assert_eq!(days(2.0).as_secs(), 172_800);
/// assert_eq!(parse_time("2026-12-03T00:00:00Z"), Some(1_796_256_000.0));
/// ```
pub mod clock {
    pub use mltest_core::clock::{days, hours, now, parse_time};
}

/// Helpers this repository's own examples and tests use (the pipeline's run
/// record, its progress spinner). Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __repo {
    pub use mltest_core::clock::{iso_now, iso8601};
    pub use mltest_core::outdir::write_atomic;
    pub use mltest_core::progress::spinner;
}

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
    pub use mltest_core::clock::{days, hours};
    pub use mltest_core::data::generator::ReviewsSpec;
    pub use mltest_core::data::{Engine, Streaming};
    pub use mltest_core::drift::{Drift, Profile, Side};
    pub use mltest_core::expect::{EvalOptions, Expectation, Filter, Value, history, last};
    pub use mltest_core::model::{Model, ModelError, Predictions, Task};
    pub use mltest_core::robust::{
        Perturb, append, case_change, drop_word, duplicate_word, extra_whitespace, noise,
        noise_std, strip_punctuation, typos,
    };
    pub use mltest_core::store::{Card, InputColumn, ModelStore, OutputSchema};
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
    pub use mltest_core::model::{
        ModelError, ModelHandle, ModelRef, from_store, shared as shared_model,
    };
    pub use mltest_core::robust::{Expect, Tolerance};

    /// Lets a `#[drift]` body return a `Drift` (the spans of a wrong type land on the return type).
    pub fn into_drift(d: mltest_core::drift::Drift) -> mltest_core::drift::Drift {
        d
    }
}
