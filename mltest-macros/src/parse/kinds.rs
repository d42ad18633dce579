//! What is particular to each attribute: its [`Spec`] (keys, signature shape
//! and the hints in its errors) and the keys only it has. Everything else is
//! parsed by the shared modules.

use syn::LitStr;

use super::Spec;
use super::args::{Args, ModelArg, required};
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
        "max_change_rate",
        "model",
        "cases",
        "budget",
        "confidence",
        "class",
        "tolerance",
        "relative_tolerance",
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
    Robustness(Box<Robustness>),
}

/// The keys of a `#[robustness]`, checked and with their defaults.
pub struct Robustness {
    /// `max_flip_rate`, or `max_change_rate` (the same, for regressors).
    pub max_flip_rate: f64,
    /// A store id or a fixture function.
    pub model: ModelArg,
    pub cases: usize,
    /// `cases = "auto", budget = N`.
    pub budget: Option<usize>,
    pub confidence: Option<f64>,
    pub class: Option<LitStr>,
    /// The amount and whether it is relative.
    pub tolerance: Option<(f64, bool)>,
    /// The rows to perturb; `None`: the data the model's card names.
    pub data: Option<syn::Path>,
    pub seed: Option<u64>,
    pub examples: usize,
    pub expect: Expect,
    pub baseline: Option<ModelArg>,
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
        Attr::Robustness => robustness(args).map(|r| Details::Robustness(Box::new(r))),
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
    let rate = |key: &str| {
        args.lit_f64(key).and_then(|found| match found {
            Some((x, span)) if !(0.0..=1.0).contains(&x) => Err(syn::Error::new(
                span,
                format!("`{key}` is a share of cases, in [0, 1]; got {x}"),
            )),
            other => Ok(other.map(|(x, _)| x)),
        })
    };
    let max_flip_rate = match (rate("max_flip_rate"), rate("max_change_rate")) {
        (Ok(Some(_)), Ok(Some(_))) => Err(syn::Error::new(
            args.span_of("max_change_rate")
                .unwrap_or_else(proc_macro2::Span::call_site),
            "give `max_flip_rate` (classifiers) or `max_change_rate` (regressors), not both",
        )),
        (Ok(Some(x)), Ok(None)) | (Ok(None), Ok(Some(x))) => Ok(x),
        (Ok(None), Ok(None)) => Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[robustness] needs `max_flip_rate = ...`: the largest share of flipped predictions \
             that passes (`max_change_rate` for a regressor, with `tolerance`)",
        )),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let model = required(
        args.model("model"),
        "#[robustness] needs `model = \"NAME@VERSION\"` (or NAME@ALIAS, or NAME for its champion), \
         or `model = my_model`, a fixture function returning your model",
    );
    // `cases = "auto"` runs rounds; then `budget` caps them.
    let auto = matches!(args.lit_str("cases"), Ok(Some(s)) if s.value() == "auto");
    let cases = if auto {
        Ok(100)
    } else {
        match args.lit_usize("cases") {
            Ok(Some((0, span))) => Err(syn::Error::new(span, "`cases` must be at least 1")),
            Err(e) => Err(syn::Error::new(
                e.span(),
                "`cases` is a number of cases, or \"auto\" (rounds until a sequential test decides, with `budget`)",
            )),
            other => other.map(|found| found.map_or(1000, |(n, _)| n)),
        }
    };
    let budget = match (auto, args.lit_usize("budget")) {
        (_, Err(e)) => Err(e),
        (true, Ok(None)) => Ok(Some(10_000)),
        (true, Ok(Some((b, span)))) if b < 100 => Err(syn::Error::new(
            span,
            "`budget` is the most cases the rounds may run; at least 100",
        )),
        (true, Ok(Some((b, _)))) => Ok(Some(b)),
        (false, Ok(Some((_, span)))) => Err(syn::Error::new(
            span,
            "`budget` caps adaptive rounds: use it with `cases = \"auto\"`",
        )),
        (false, Ok(None)) => Ok(None),
    };
    let confidence = match args.lit_f64("confidence") {
        Ok(Some((c, span))) if !(c > 0.5 && c < 1.0) => Err(syn::Error::new(
            span,
            format!("`confidence` is a probability in (0.5, 1), e.g. 0.95; got {c}"),
        )),
        other => other.map(|found| found.map(|(c, _)| c)),
    };
    let class = args.lit_str("class");
    let tolerance = match (
        args.lit_f64("tolerance"),
        args.lit_f64("relative_tolerance"),
    ) {
        (Ok(Some(_)), Ok(Some((_, span)))) => Err(syn::Error::new(
            span,
            "give `tolerance` (absolute) or `relative_tolerance`, not both",
        )),
        (Ok(Some((t, span))), Ok(None)) | (Ok(None), Ok(Some((t, span))))
            if t.is_nan() || t < 0.0 =>
        {
            Err(syn::Error::new(span, "a tolerance is a number >= 0"))
        }
        (Ok(Some((t, _))), Ok(None)) => Ok(Some((t, false))),
        (Ok(None), Ok(Some((t, _)))) => Ok(Some((t, true))),
        (Ok(None), Ok(None)) => Ok(None),
        (Err(e), _) | (_, Err(e)) => Err(e),
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
    let baseline = match args.model("baseline") {
        Ok(Some(ModelArg::Id(b))) if !b.value().contains('@') => Err(syn::Error::new(
            b.span(),
            "`baseline` is a model id (NAME@VERSION or NAME@ALIAS) or a fixture function",
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
        budget,
        confidence,
        class,
        tolerance,
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
        budget,
        confidence,
        class,
        tolerance,
        data,
        seed,
        examples,
        expect,
        baseline,
        margin,
    })
}
