//! `#[drift]`: a function declaring a comparison of two data sets becomes a
//! `#[test]` plus a registered descriptor (see `data_expectation.rs` for why
//! descriptors).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::{args, signature};

const ATTR: &str = "drift";
const KEYS: &[&str] = &["reason", "reference", "current", "severity"];

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
    let (reference, current) = signature::two_ref_params(&func, ATTR, "Drift")?;
    let fixture = |key: &str, param: &signature::Param| -> syn::Result<TokenStream> {
        Ok(match args::path(&args, key)? {
            Some(p) => quote!(#p),
            None => {
                let name = &param.name;
                quote!(#name)
            }
        })
    };
    let reference_fixture = fixture("reference", &reference)?;
    let current_fixture = fixture("current", &current)?;

    let name = &func.sig.ident;
    let vis = &func.vis;
    let kept = signature::kept_attrs(&func);
    let test_attrs = signature::test_attrs(&func)?;
    let descriptor = format_ident!("__MLTEST_DRIFT_CHECK_{}", name);
    let body_fn = format_ident!("__mltest_drift_body_{}", name);
    let (rn, rt) = (&reference.name, &reference.ty);
    let (cn, ct) = (&current.name, &current.ty);
    let output = &func.sig.output;
    let block = &func.block;
    let reference_call = quote_spanned!(reference.name.span()=>
        ::mltest::__private::IntoDriftSide::into_drift_side(#reference_fixture())
    );
    let current_call = quote_spanned!(current.name.span()=>
        ::mltest::__private::IntoDriftSide::into_drift_side(#current_fixture())
    );
    let body_call = quote_spanned!(func.sig.output.span()=>
        ::mltest::__private::into_drift(#body_fn(__mltest_reference, __mltest_current))
    );

    let ignored = signature::ignored_registration(&func);
    let site = signature::site(name, &reason, &severity, &test_attrs);
    Ok(quote! {
        #ignored

        #(#kept)*
        #[test]
        #vis fn #name() {
            ::mltest::__private::run_drift_check(&#descriptor);
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[::mltest::__private::linkme::distributed_slice(::mltest::__private::DRIFT_CHECKS)]
        #[linkme(crate = ::mltest::__private::linkme)]
        static #descriptor: ::mltest::__private::DriftCheck = ::mltest::__private::DriftCheck {
            site: #site,
            reference: || #reference_call,
            current: || #current_call,
            body: |__mltest_reference, __mltest_current| #body_call,
        };

        #[doc(hidden)]
        // The parameters name fixtures; a body need not read them.
        #[allow(non_snake_case, unused_variables)]
        fn #body_fn(#rn: #rt, #cn: #ct) #output #block
    })
}
