//! What is particular to each attribute: its [`Spec`] (keys, signature shape
//! and the hints in its errors) and the keys only it has. Everything else is
//! parsed by the shared modules.

use syn::LitStr;

use super::Spec;
use super::args::{Args, required};
use super::signature::{Params, Shape};

/// The three attribute macros.
#[derive(Clone, Copy, Debug)]
pub enum Attr {
    DataExpectation,
    Drift,
    Robustness,
}

impl Attr {
    pub fn spec(self) -> &'static Spec {
        match self {
            Attr::DataExpectation => &DATA_EXPECTATION,
            Attr::Drift => &DRIFT,
            Attr::Robustness => &ROBUSTNESS,
        }
    }
}

const DATA_EXPECTATION: Spec = Spec {
    name: "data_expectation",
    keys: &["reason", "data", "severity", "examples"],
    shape: Shape {
        no_return: "#[data_expectation] functions must return what they check, e.g. `-> Expectation`",
        params: Params::Borrowed {
            fixture_keys: &["data"],
            missing: "#[data_expectation] functions take one parameter that names the data set, \
                      e.g. `(reviews: &Dataset)`",
            extra: "#[data_expectation] functions take exactly one parameter; use `data = ...` \
                    or a fixture that returns a combined data set",
            not_a_name: "expected a plain parameter name, e.g. `reviews: &Dataset`",
            by_value: "the data set is borrowed: write the parameter as `name: &Dataset`",
        },
    },
};

const DRIFT_COUNT: &str = "#[drift] functions take two parameters that name the reference and \
                           the current data, e.g. `(training: &Side, today: &Side)`";

const DRIFT: Spec = Spec {
    name: "drift",
    keys: &["reason", "reference", "current", "severity"],
    shape: Shape {
        no_return: "#[drift] functions must return what they check, e.g. `-> Drift`",
        params: Params::Borrowed {
            fixture_keys: &["reference", "current"],
            missing: DRIFT_COUNT,
            extra: DRIFT_COUNT,
            not_a_name: "expected a plain parameter name, e.g. `training: &Side`",
            by_value: "each side is borrowed: write the parameter as `name: &Side`",
        },
    },
};

const ROBUSTNESS: Spec = Spec {
    name: "robustness",
    keys: &[
        "reason",
        "max_flip_rate",
        "model",
        "cases",
        "data",
        "seed",
        "examples",
        "expect",
        "baseline",
        "margin",
    ],
    shape: Shape {
        no_return: "#[robustness] functions return the perturbation they declare: \
                    `fn name(p: Perturb) -> Perturb`",
        params: Params::One {
            wrong_count: "#[robustness] functions take one parameter, the perturbation to extend: \
                          `(p: Perturb)`",
        },
    },
};

/// The keys only one kind has.
pub enum Details {
    Data {
        /// Offending rows a failure report shows.
        examples: usize,
    },
    Drift,
    Robustness(Robustness),
}

/// The keys of a `#[robustness]`, checked and with their defaults.
pub struct Robustness {
    pub max_flip_rate: f64,
    /// `NAME@VERSION`, `NAME@ALIAS`, or `NAME` (its champion).
    pub model: LitStr,
    pub cases: usize,
    /// The rows to perturb; `None`: the data the model's card names.
    pub data: Option<syn::Path>,
    pub seed: Option<u64>,
    pub examples: usize,
    pub expect: Expect,
    pub baseline: Option<LitStr>,
    pub margin: f64,
}

/// What counts as a violation of a `#[robustness]`.
// The variants mirror the runtime's `Expect` (and `expect = "no_flip"`).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    NoFlip,
    NoIncrease,
    NoDecrease,
}

pub fn details(attr: Attr, args: &Args) -> syn::Result<Details> {
    match attr {
        Attr::DataExpectation => data(args),
        Attr::Drift => Ok(Details::Drift),
        Attr::Robustness => robustness(args).map(Details::Robustness),
    }
}

fn data(args: &Args) -> syn::Result<Details> {
    let examples = match args.lit_usize("examples")? {
        None => 5,
        Some((0, span)) => {
            return Err(syn::Error::new(
                span,
                "`examples` must be at least 1; a report without examples hides where the data is wrong",
            ));
        }
        Some((n, _)) => n,
    };
    Ok(Details::Data { examples })
}

fn robustness(args: &Args) -> syn::Result<Robustness> {
    let max_flip_rate = required(
        args.lit_f64("max_flip_rate"),
        "#[robustness] needs `max_flip_rate = ...`: the largest share of flipped predictions that passes",
    )
    .and_then(|(x, span)| {
        if (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(syn::Error::new(
                span,
                format!("`max_flip_rate` is a share of cases, in [0, 1]; got {x}"),
            ))
        }
    });
    let model = required(
        args.lit_str("model"),
        "#[robustness] needs `model = \"NAME@VERSION\"` (or NAME@ALIAS, or NAME for its champion)",
    )
    .and_then(|m| {
        if m.value().trim().is_empty() {
            Err(syn::Error::new(m.span(), "`model` must name a model"))
        } else {
            Ok(m)
        }
    });
    let cases = match args.lit_usize("cases") {
        Ok(Some((0, span))) => Err(syn::Error::new(span, "`cases` must be at least 1")),
        other => other.map(|found| found.map_or(1000, |(n, _)| n)),
    };
    let examples = args
        .lit_usize("examples")
        .map(|found| found.map_or(3, |(n, _)| n));
    let seed = args
        .lit_usize("seed")
        .map(|found| found.map(|(n, _)| n as u64));
    let data = args.path("data");
    let expect = args.lit_str("expect").and_then(|found| match found {
        None => Ok(Expect::NoFlip),
        Some(s) => match s.value().as_str() {
            "no_flip" => Ok(Expect::NoFlip),
            "no_increase" => Ok(Expect::NoIncrease),
            "no_decrease" => Ok(Expect::NoDecrease),
            other => Err(syn::Error::new(
                s.span(),
                format!(
                    "unknown expect \"{other}\"; expected \"no_flip\", \"no_increase\" or \"no_decrease\""
                ),
            )),
        },
    });
    let baseline = match args.lit_str("baseline") {
        Ok(Some(b)) if !b.value().contains('@') => Err(syn::Error::new(
            b.span(),
            "`baseline` is a model id: NAME@VERSION or NAME@ALIAS",
        )),
        other => other,
    };
    let margin = match args.lit_f64("margin") {
        Ok(Some((m, span))) if !(0.0..=1.0).contains(&m) => Err(syn::Error::new(
            span,
            "`margin` is a share of cases, in [0, 1]",
        )),
        other => other.map(|found| found.map_or(0.01, |(m, _)| m)),
    };
    all_ok!(
        max_flip_rate,
        model,
        cases,
        examples,
        seed,
        data,
        expect,
        baseline,
        margin
    );
    Ok(Robustness {
        max_flip_rate,
        model,
        cases,
        data,
        seed,
        examples,
        expect,
        baseline,
        margin,
    })
}
