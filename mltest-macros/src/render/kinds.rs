//! Each check kind's [`Kind`]: its descriptor type, registry and runner, and
//! the descriptor fields only it has. The shared shape is in [`emit`](super::emit).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::Kind;
use crate::parse::{Check, Details, Expect, Fixture, ModelArg, Robustness};

pub(super) fn kind(check: &Check) -> Kind {
    match &check.details {
        Details::Data { examples } => data(check, *examples),
        Details::Drift => drift(check),
        Details::Robustness(r) => robustness(check, r),
    }
}

/// The fixture function a parameter resolves to: its key's path, else the
/// function of the parameter's name (the way rstest resolves fixtures).
fn fixture_fn(fixture: &Fixture) -> TokenStream {
    match &fixture.path {
        Some(p) => quote!(#p),
        None => {
            let name = &fixture.param;
            quote!(#name)
        }
    }
}

fn data(check: &Check, examples: usize) -> Kind {
    let name = &check.func.sig.ident;
    let body_fn = format_ident!("__mltest_data_check_body_{}", name);
    let [data] = &check.fixtures[..] else {
        unreachable!("the signature check admits one data set")
    };
    let fixture = fixture_fn(data);
    // Spans on the conversions put type errors on the user's code: a fixture
    // that returns the wrong type points at the parameter, a body that
    // returns something that is no expectation points at the return type.
    let data_call = quote_spanned!(data.param.span()=>
        ::mltest::__private::IntoDataSource::into_data_source(#fixture())
    );
    let body_call = quote_spanned!(check.func.sig.output.span()=>
        ::mltest::__private::IntoExpectations::into_expectations(#body_fn(__mltest_data))
    );
    Kind {
        descriptor_ty: quote!(::mltest::__private::DataCheck),
        registry: quote!(::mltest::__private::DATA_CHECKS),
        runner: quote!(::mltest::__private::run_data_check),
        descriptor: format_ident!("__MLTEST_DATA_CHECK_{}", name),
        fields: quote! {
            examples: #examples,
            data: || #data_call,
            body: |__mltest_data| #body_call,
        },
        body_fn,
        body_lints: quote!(#[allow(non_snake_case)]),
    }
}

fn drift(check: &Check) -> Kind {
    let name = &check.func.sig.ident;
    let body_fn = format_ident!("__mltest_drift_body_{}", name);
    let [reference, current] = &check.fixtures[..] else {
        unreachable!("the signature check admits two sides")
    };
    // Spanned as in `data`: a side of the wrong type points at its parameter.
    let side = |fixture: &Fixture| {
        let f = fixture_fn(fixture);
        quote_spanned!(fixture.param.span()=>
            ::mltest::__private::IntoDriftSide::into_drift_side(#f())
        )
    };
    let (reference_call, current_call) = (side(reference), side(current));
    let body_call = quote_spanned!(check.func.sig.output.span()=>
        ::mltest::__private::into_drift(#body_fn(__mltest_reference, __mltest_current))
    );
    Kind {
        descriptor_ty: quote!(::mltest::__private::DriftCheck),
        registry: quote!(::mltest::__private::DRIFT_CHECKS),
        runner: quote!(::mltest::__private::run_drift_check),
        descriptor: format_ident!("__MLTEST_DRIFT_CHECK_{}", name),
        fields: quote! {
            reference: || #reference_call,
            current: || #current_call,
            body: |__mltest_reference, __mltest_current| #body_call,
        },
        body_fn,
        // The parameters name fixtures; a body need not read them.
        body_lints: quote!(#[allow(non_snake_case, unused_variables)]),
    }
}

fn robustness(check: &Check, r: &Robustness) -> Kind {
    let name = &check.func.sig.ident;
    let body_fn = format_ident!("__mltest_robustness_body_{}", name);
    let data = match &r.data {
        Some(p) => quote!(::core::option::Option::Some(
            || ::mltest::__private::IntoDataSource::into_data_source(#p())
        )),
        None => quote!(::core::option::Option::None),
    };
    let seed = option(r.seed.map(|n| quote!(#n)));
    let model = model_ref(&r.model);
    let baseline = option(r.baseline.as_ref().map(model_ref));
    let budget = option(r.budget.map(|n| quote!(#n)));
    let confidence = option(r.confidence.map(|c| quote!(#c)));
    let class = option(r.class.as_ref().map(|c| quote!(#c)));
    let tolerance = option(r.tolerance.map(|(t, relative)| {
        if relative {
            quote!(::mltest::__private::Tolerance::Relative(#t))
        } else {
            quote!(::mltest::__private::Tolerance::Absolute(#t))
        }
    }));
    let expect = match r.expect {
        Expect::NoFlip => quote!(::mltest::__private::Expect::NoFlip),
        Expect::NoIncrease => quote!(::mltest::__private::Expect::NoIncrease),
        Expect::NoDecrease => quote!(::mltest::__private::Expect::NoDecrease),
    };
    // A test that expects to fail is a demonstration; the pipeline skips it.
    let expect_failure = check.site.attrs.should_panic.is_some();
    let (max_flip_rate, cases) = (r.max_flip_rate, r.cases);
    let (examples, margin) = (r.examples, r.margin);
    Kind {
        descriptor_ty: quote!(::mltest::__private::RobustnessCheck),
        registry: quote!(::mltest::__private::ROBUSTNESS_CHECKS),
        runner: quote!(::mltest::__private::run_robustness),
        descriptor: format_ident!("__MLTEST_ROBUSTNESS_{}", name),
        fields: quote! {
            max_flip_rate: #max_flip_rate,
            cases: #cases,
            budget: #budget,
            confidence: #confidence,
            model: #model,
            class: #class,
            tolerance: #tolerance,
            data: #data,
            seed: #seed,
            examples: #examples,
            expect_failure: #expect_failure,
            expect: #expect,
            baseline: #baseline,
            margin: #margin,
            body: #body_fn,
        },
        body_fn,
        body_lints: quote!(#[allow(non_snake_case)]),
    }
}

/// A store id, or a fixture run once per test binary through `shared`.
/// The fixture's call is spanned on its path: a function that returns no
/// model points there.
fn model_ref(m: &ModelArg) -> TokenStream {
    match m {
        ModelArg::Id(id) => quote!(::mltest::__private::ModelRef::Id(#id)),
        ModelArg::Fixture(path) => {
            let name = quote!(#path).to_string().replace(' ', "");
            let call = quote_spanned!(path.span()=> ::mltest::__private::shared_model(#path));
            quote!(::mltest::__private::ModelRef::Fixture {
                name: #name,
                load: || #call,
            })
        }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
