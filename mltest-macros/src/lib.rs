//! Attribute macros of [mltest](https://docs.rs/mltest). Use them through the
//! `mltest` facade (`use mltest::prelude::*;`), not directly.
//!
//! The macros only parse and generate: every generated item calls
//! `::mltest::__private`, so all behaviour lives (and is tested) in
//! `mltest-core`. The layout is rstest's: `parse` turns the attribute and
//! the signature into plain data, reporting every mistake at once
//! (`error`); `render` turns that data into the `#[test]`, the registry
//! entry and the hidden body, with one function for all three attributes.
//! The entry points below only dispatch. `tests/ui` holds one trybuild case
//! per error, and cases with several errors at once.

#[macro_use]
mod error;
mod parse;
mod render;

use proc_macro::TokenStream;

use parse::Attr;

/// Parses, then renders; or every mistake, as compile errors at their spans.
fn expand(attr: Attr, args: TokenStream, item: TokenStream) -> TokenStream {
    parse::check(attr, args.into(), item.into())
        .map(|check| render::check(&check))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns a function that returns expectations into a `#[test]` of the same name.
///
/// ```ignore
/// use mltest::prelude::*;
///
/// #[data_expectation(reason = "The checkout form requires an age: a missing one is an ingestion bug.")]
/// fn age_is_never_missing(reviews: &Dataset) -> Expectation {
///     reviews.column("Age").null_fraction().at_most(0.0)
/// }
/// ```
///
/// The parameter names the data set: `reviews: &Dataset` calls the fixture
/// function `reviews()` in scope (it returns a `DataSource`), the way rstest
/// resolves fixtures by name; `data = path::to::fixture` overrides that.
///
/// Keys:
/// - `reason = "..."` (required, non-empty): where the threshold comes from and why;
///   printed in every report.
/// - `data = fixture_fn`: the fixture that returns the `DataSource`.
/// - `severity = "fail" | "warn"`: `warn` records and prints the failure but
///   does not fail the test.
/// - `examples = N`: how many offending rows a failure report shows (default 5).
#[proc_macro_attribute]
pub fn data_expectation(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Attr::DataExpectation, args, item)
}

/// Turns a function that declares perturbations into a `#[test]` that
/// measures how often a model's prediction flips under them.
///
/// ```ignore
/// use mltest::prelude::*;
///
/// #[robustness(
///     reason = "scikit-learn's peer flips 0.9% of predictions under two typos; we allow 2%.",
///     max_flip_rate = 0.02, cases = 1000, model = "reviews@1", data = reviews
/// )]
/// fn survives_typos(p: Perturb) -> Perturb {
///     p.text("Review Text", typos(1..=2))
/// }
/// ```
///
/// Keys: `reason` (required), `max_flip_rate` (required, in [0, 1]),
/// `model` (required: `NAME@VERSION`, `NAME@ALIAS`, or `NAME` for its
/// `champion`), `cases` (default 1000), `data` (a fixture; default: the data
/// the model's card names), `seed`, `examples` (shrunk flips shown, default 3).
#[proc_macro_attribute]
pub fn robustness(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Attr::Robustness, args, item)
}

/// Turns a function that declares a drift comparison into a `#[test]`.
///
/// ```ignore
/// use mltest::prelude::*;
///
/// #[drift(reason = "Held-out rows come from the same export as training: any drift is a split bug.")]
/// fn held_out_matches_training(training: &Side, held_out: &Side) -> Drift {
///     Drift::columns(["Age", "Department Name"]).text(["Review Text"])
/// }
/// ```
///
/// The two parameters name the reference and the current side; each
/// resolves to a fixture function of the same name (returning a
/// `DataSource`, a `Dataset`, a `Profile`, or a `Result` of one), or to the
/// fixture given by `reference = path` / `current = path`.
///
/// Keys: `reason` (required, non-empty), `reference`, `current`,
/// `severity = "fail" | "warn"`. The test fails when the data set drifts
/// (or, with `.expect_drift()`, when it does not), with a per-column report.
#[proc_macro_attribute]
pub fn drift(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Attr::Drift, args, item)
}
