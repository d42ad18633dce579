//! Rendering: a parsed [`Check`] becomes code. One function, [`emit`],
//! writes what every attribute expands to; what differs between check kinds
//! arrives as a [`Kind`] value built in [`kinds`]. Rendering never
//! validates: [`parse`](crate::parse) has already reported every mistake.
//!
//! Every attribute expands to, in this order:
//! 1. for an ignored test, an `IgnoredTest` registration (JUnit lists the
//!    test although it never runs, so it writes no record);
//! 2. the `#[test]` fn, with the user's attributes, which hands the
//!    descriptor to the kind's runner;
//! 3. the descriptor: a `static` in a linker-gathered slice (linkme), which
//!    lets a pipeline run the very checks the test binary runs without
//!    copying them. An example that includes the test module sees the
//!    descriptors, while `#[test]` fns vanish outside the test harness;
//! 4. the hidden body: the user's function under another name, which the
//!    descriptor calls.

mod kinds;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::parse::{Check, Severity, Site};

/// Everything one attribute expands to.
pub fn check(check: &Check) -> TokenStream {
    emit(check, &kinds::kind(check))
}

/// What differs between check kinds, as data for [`emit`].
struct Kind {
    /// The descriptor's type, e.g. `::mltest::__private::DataCheck`.
    descriptor_ty: TokenStream,
    /// The linkme slice the descriptor joins, e.g. `::mltest::__private::DATA_CHECKS`.
    registry: TokenStream,
    /// The function the `#[test]` calls with the descriptor.
    runner: TokenStream,
    /// The descriptor static's name.
    descriptor: syn::Ident,
    /// The hidden body's name; the kind's `fields` refer to it.
    body_fn: syn::Ident,
    /// The descriptor fields only this kind has (fixtures, body, keys).
    fields: TokenStream,
    /// The lints allowed on the hidden body.
    body_lints: TokenStream,
}

/// The `#[test]`, the descriptor and the hidden body, for every kind.
fn emit(check: &Check, kind: &Kind) -> TokenStream {
    let Kind {
        descriptor_ty,
        registry,
        runner,
        descriptor,
        body_fn,
        fields,
        body_lints,
    } = kind;
    let func = &check.func;
    let name = &func.sig.ident;
    let vis = &func.vis;
    let kept = &check.site.attrs.kept;
    let inputs = &func.sig.inputs;
    let output = &func.sig.output;
    let block = &func.block;
    let site = site_fields(name, &check.site);
    let ignored = ignored_registration(name, &check.site);
    quote! {
        #ignored

        #(#kept)*
        #[test]
        #vis fn #name() {
            #runner(&#descriptor);
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[::mltest::__private::linkme::distributed_slice(#registry)]
        #[linkme(crate = ::mltest::__private::linkme)]
        static #descriptor: #descriptor_ty = #descriptor_ty {
            #site
            #fields
        };

        #[doc(hidden)]
        #body_lints
        fn #body_fn(#inputs) #output #block
    }
}

/// The descriptor fields every kind shares: where the check is declared, its
/// reason and severity, and its libtest attributes.
///
/// This is the one place that knows how the descriptors spell them: every
/// descriptor holds a `site: check::Site`.
fn site_fields(name: &syn::Ident, site: &Site) -> TokenStream {
    let reason = &site.reason;
    // `#[robustness]` has no `severity` key: a failure always fails its test.
    let severity = severity(site.severity.unwrap_or(Severity::Fail));
    let attrs = test_attrs(site);
    quote! {
        site: ::mltest::__private::Site {
            name: ::core::stringify!(#name),
            module_path: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
            reason: #reason,
            severity: #severity,
            attrs: #attrs,
        },
    }
}

fn severity(s: Severity) -> TokenStream {
    match s {
        Severity::Fail => quote!(::mltest::__private::Severity::Fail),
        Severity::Warn => quote!(::mltest::__private::Severity::Warn),
    }
}

/// The `TestAttrs` the runtime needs to report what libtest reports.
fn test_attrs(site: &Site) -> TokenStream {
    let ignored = site.attrs.ignored;
    let should_panic = match &site.attrs.should_panic {
        None => quote!(::core::option::Option::None),
        Some(None) => quote!(::core::option::Option::Some(::core::option::Option::None)),
        Some(Some(expected)) => {
            quote!(::core::option::Option::Some(::core::option::Option::Some(#expected)))
        }
    };
    quote!(::mltest::__private::TestAttrs {
        ignored: #ignored,
        should_panic: #should_panic,
    })
}

/// For an ignored test, a registry entry that tells JUnit the test exists;
/// nothing otherwise. A `#[cfg_attr(PRED, ignore)]` entry exists under the
/// same `PRED`.
fn ignored_registration(name: &syn::Ident, site: &Site) -> TokenStream {
    let Some(ignore) = &site.attrs.ignore else {
        return TokenStream::new();
    };
    let cfg = ignore.predicate.as_ref().map(|p| quote!(#[cfg(#p)]));
    let reason = &ignore.reason;
    let entry = format_ident!("__MLTEST_IGNORED_{}", name);
    quote! {
        #cfg
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[::mltest::__private::linkme::distributed_slice(::mltest::__private::IGNORED_TESTS)]
        #[linkme(crate = ::mltest::__private::linkme)]
        static #entry: ::mltest::__private::IgnoredTest = ::mltest::__private::IgnoredTest {
            name: ::core::stringify!(#name),
            module_path: ::core::module_path!(),
            reason: #reason,
        };
    }
}
