//! `#[robustness]`: a function declaring perturbations becomes a `#[test]`
//! that measures the model's flip rate under them.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType};

use crate::{args, signature};

const ATTR: &str = "robustness";
const KEYS: &[&str] = &[
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
];

pub fn expand(attr_args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let func: ItemFn = syn::parse2(item)?;
    let args = args::parse(attr_args, KEYS, ATTR)?;
    let reason = args::reason(&args, ATTR, Span::call_site())?;
    let max = match args::lit_f64(&args, "max_flip_rate")? {
        None => {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[robustness] needs `max_flip_rate = ...`: the largest share of flipped predictions that passes",
            ));
        }
        Some((x, span)) if !(0.0..=1.0).contains(&x) => {
            return Err(syn::Error::new(
                span,
                format!("`max_flip_rate` is a share of cases, in [0, 1]; got {x}"),
            ));
        }
        Some((x, _)) => x,
    };
    let model = args::lit_str(&args, "model")?.ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            "#[robustness] needs `model = \"NAME@VERSION\"` (or NAME@ALIAS, or NAME for its champion)",
        )
    })?;
    if model.value().trim().is_empty() {
        return Err(syn::Error::new(model.span(), "`model` must name a model"));
    }
    let cases = match args::lit_usize(&args, "cases")? {
        Some((0, span)) => return Err(syn::Error::new(span, "`cases` must be at least 1")),
        Some((n, _)) => n,
        None => 1000,
    };
    let examples = args::lit_usize(&args, "examples")?.map_or(3, |(n, _)| n);
    let seed = match args::lit_usize(&args, "seed")? {
        Some((n, _)) => {
            let n = n as u64;
            quote!(::core::option::Option::Some(#n))
        }
        None => quote!(::core::option::Option::None),
    };
    let data = match args::path(&args, "data")? {
        Some(p) => {
            quote!(::core::option::Option::Some(|| ::mltest::__private::IntoDataSource::into_data_source(#p())))
        }
        None => quote!(::core::option::Option::None),
    };

    let expect = match args::lit_str(&args, "expect")? {
        None => quote!(::mltest::__private::Expect::NoFlip),
        Some(s) => match s.value().as_str() {
            "no_flip" => quote!(::mltest::__private::Expect::NoFlip),
            "no_increase" => quote!(::mltest::__private::Expect::NoIncrease),
            "no_decrease" => quote!(::mltest::__private::Expect::NoDecrease),
            other => {
                return Err(syn::Error::new(
                    s.span(),
                    format!(
                        "unknown expect \"{other}\"; expected \"no_flip\", \"no_increase\" or \"no_decrease\""
                    ),
                ));
            }
        },
    };
    let baseline = match args::lit_str(&args, "baseline")? {
        Some(b) if b.value().contains('@') => quote!(::core::option::Option::Some(#b)),
        Some(b) => {
            return Err(syn::Error::new(
                b.span(),
                "`baseline` is a model id: NAME@VERSION or NAME@ALIAS",
            ));
        }
        None => quote!(::core::option::Option::None),
    };
    let margin = match args::lit_f64(&args, "margin")? {
        Some((m, span)) if !(0.0..=1.0).contains(&m) => {
            return Err(syn::Error::new(
                span,
                "`margin` is a share of cases, in [0, 1]",
            ));
        }
        Some((m, _)) => m,
        None => 0.01,
    };

    let sig = &func.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            "#[robustness] functions cannot be async",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "#[robustness] functions cannot be generic",
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.ident.span(),
            "#[robustness] functions return the perturbation they declare: `fn name(p: Perturb) -> Perturb`",
        ));
    }
    if sig.inputs.len() != 1 || matches!(sig.inputs.first(), Some(FnArg::Receiver(_))) {
        return Err(syn::Error::new(
            sig.inputs.span(),
            "#[robustness] functions take one parameter, the perturbation to extend: `(p: Perturb)`",
        ));
    }

    let name = &sig.ident;
    let vis = &func.vis;
    let kept = signature::kept_attrs(&func);
    let test_attrs = signature::test_attrs(&func)?;
    let descriptor = format_ident!("__MLTEST_ROBUSTNESS_{}", name);
    let body_fn = format_ident!("__mltest_robustness_body_{}", name);
    let inputs = &sig.inputs;
    // A test that expects to fail is a demonstration; the pipeline skips it.
    let expect_failure = func.attrs.iter().any(|a| a.path().is_ident("should_panic"));
    let output = &sig.output;
    let block = &func.block;

    let ignored = signature::ignored_registration(&func);
    let severity = quote!(::mltest::__private::Severity::Fail);
    let site = signature::site(name, &reason, &severity, &test_attrs);
    Ok(quote! {
        #ignored

        #(#kept)*
        #[test]
        #vis fn #name() {
            ::mltest::__private::run_robustness(&#descriptor);
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[::mltest::__private::linkme::distributed_slice(::mltest::__private::ROBUSTNESS_CHECKS)]
        #[linkme(crate = ::mltest::__private::linkme)]
        static #descriptor: ::mltest::__private::RobustnessCheck = ::mltest::__private::RobustnessCheck {
            site: #site,
            max_flip_rate: #max,
            cases: #cases,
            model: #model,
            data: #data,
            seed: #seed,
            examples: #examples,
            expect_failure: #expect_failure,
            expect: #expect,
            baseline: #baseline,
            margin: #margin,
            body: #body_fn,
        };

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #body_fn(#inputs) #output #block
    })
}
