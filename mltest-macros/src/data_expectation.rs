//! `#[data_expectation]`: a function returning expectations becomes a
//! `#[test]` plus a registered check descriptor.
//!
//! The descriptor (a `static` in a linker-gathered slice) is what lets the
//! pipeline run the very checks the test binary runs without copying them: an
//! example that includes the test module sees the descriptors, while the
//! `#[test]` functions vanish outside the test harness.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::{args, signature};

const ATTR: &str = "data_expectation";
const KEYS: &[&str] = &["reason", "data", "severity", "examples"];

pub fn expand(attr_args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let func: ItemFn = syn::parse2(item)?;
    let args = args::parse(attr_args, KEYS, ATTR)?;
    let reason = args::reason(&args, ATTR, Span::call_site())?;
    let severity = match args::lit_str(&args, "severity")? {
        None => quote!(::mltest::__private::Severity::Fail),
        Some(s) if s.value() == "fail" => quote!(::mltest::__private::Severity::Fail),
        Some(s) if s.value() == "warn" => quote!(::mltest::__private::Severity::Warn),
        Some(s) => {
            return Err(syn::Error::new(
                s.span(),
                format!(
                    "unknown severity \"{}\"; expected \"fail\" or \"warn\"",
                    s.value()
                ),
            ));
        }
    };
    let examples = match args::lit_usize(&args, "examples")? {
        None => 5usize,
        Some((0, span)) => {
            return Err(syn::Error::new(
                span,
                "`examples` must be at least 1; a report without examples hides where the data is wrong",
            ));
        }
        Some((n, _)) => n,
    };
    let param = signature::single_ref_param(&func, ATTR, "Expectation")?;
    let fixture = match args::path(&args, "data")? {
        Some(p) => quote!(#p),
        None => {
            let name = &param.name;
            quote!(#name)
        }
    };

    let name = &func.sig.ident;
    let vis = &func.vis;
    let kept = signature::kept_attrs(&func);
    let test_attrs = signature::test_attrs(&func)?;
    let descriptor = format_ident!("__MLTEST_DATA_CHECK_{}", name);
    let body_fn = format_ident!("__mltest_data_check_body_{}", name);
    let param_name = &param.name;
    let param_ty = &param.ty;
    let output = &func.sig.output;
    let block = &func.block;
    // Spans on the conversions put type errors on the user's code: a fixture
    // that returns the wrong type points at the parameter, a body that
    // returns something that is no expectation points at the return type.
    let data_call = quote_spanned!(param.name.span()=>
        ::mltest::__private::IntoDataSource::into_data_source(#fixture())
    );
    let body_call = quote_spanned!(func.sig.output.span()=>
        ::mltest::__private::IntoExpectations::into_expectations(#body_fn(__mltest_data))
    );

    let ignored = signature::ignored_registration(&func);
    let site = signature::site(name, &reason, &severity, &test_attrs);
    Ok(quote! {
        #ignored

        #(#kept)*
        #[test]
        #vis fn #name() {
            ::mltest::__private::run_data_check(&#descriptor);
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[::mltest::__private::linkme::distributed_slice(::mltest::__private::DATA_CHECKS)]
        #[linkme(crate = ::mltest::__private::linkme)]
        static #descriptor: ::mltest::__private::DataCheck = ::mltest::__private::DataCheck {
            site: #site,
            examples: #examples,
            data: || #data_call,
            body: |__mltest_data| #body_call,
        };

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #body_fn(#param_name: #param_ty) #output #block
    })
}
