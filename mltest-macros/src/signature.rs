//! Checks on the annotated function's signature, and the attributes it keeps.

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ItemFn, Pat, PatType, ReturnType, Type};

/// The one `name: &Type` parameter of a check function.
pub struct Param {
    pub name: syn::Ident,
    pub ty: Type,
}

/// Rejects what a generated `#[test]` cannot call: `async`, generics,
/// receivers, a parameter list other than one `name: &Type`, no return type.
pub fn single_ref_param(func: &ItemFn, attr: &str, hint: &str) -> syn::Result<Param> {
    let sig = &func.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            format!("#[{attr}] functions cannot be async"),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("#[{attr}] functions cannot be generic"),
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!("#[{attr}] functions must return what they check, e.g. `-> {hint}`"),
        ));
    }
    let mut inputs = sig.inputs.iter();
    let (first, rest) = (inputs.next(), inputs.next());
    let first = match (first, rest) {
        (Some(first), None) => first,
        (None, _) => {
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                format!(
                    "#[{attr}] functions take one parameter that names the data set, e.g. `(reviews: &Dataset)`"
                ),
            ));
        }
        (Some(_), Some(extra)) => {
            return Err(syn::Error::new(
                extra.span(),
                format!(
                    "#[{attr}] functions take exactly one parameter; use `data = ...` or a fixture that returns a combined data set"
                ),
            ));
        }
    };
    let PatType { pat, ty, .. } = match first {
        FnArg::Typed(t) => t,
        FnArg::Receiver(r) => {
            return Err(syn::Error::new(
                r.span(),
                format!("#[{attr}] functions cannot take `self`"),
            ));
        }
    };
    let name = match &**pat {
        Pat::Ident(p) => p.ident.clone(),
        other => {
            return Err(syn::Error::new(
                other.span(),
                "expected a plain parameter name, e.g. `reviews: &Dataset`",
            ));
        }
    };
    if !matches!(&**ty, Type::Reference(_)) {
        return Err(syn::Error::new(
            ty.span(),
            "the data set is borrowed: write the parameter as `name: &Dataset`",
        ));
    }
    Ok(Param {
        name,
        ty: (**ty).clone(),
    })
}

/// Attributes the generated `#[test]` keeps: docs, `#[ignore]`,
/// `#[should_panic]`, and anything else the user wrote (lints, cfg). A
/// stray `#[test]` is dropped because the macro adds its own.
/// The `TestAttrs` the runtime needs to report what libtest reports: whether
/// the test is `#[ignore]`d, and its `#[should_panic]` with the message it
/// expects (`#[should_panic(expected = "..")]` or `#[should_panic = ".."]`).
pub fn test_attrs(func: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let ignored = func.attrs.iter().any(|a| a.path().is_ident("ignore"));
    let mut should_panic = quote::quote!(::core::option::Option::None);
    for a in func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("should_panic"))
    {
        let expected: Option<syn::LitStr> = match &a.meta {
            syn::Meta::Path(_) => None,
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.clone()),
                _ => None,
            },
            syn::Meta::List(_) => {
                let mut found = None;
                a.parse_nested_meta(|m| {
                    if m.path.is_ident("expected") {
                        found = Some(m.value()?.parse::<syn::LitStr>()?);
                    }
                    Ok(())
                })?;
                found
            }
        };
        should_panic = match expected {
            Some(e) => {
                quote::quote!(::core::option::Option::Some(::core::option::Option::Some(#e)))
            }
            None => quote::quote!(::core::option::Option::Some(::core::option::Option::None)),
        };
    }
    Ok(quote::quote!(::mltest::__private::TestAttrs {
        ignored: #ignored,
        should_panic: #should_panic,
    }))
}

/// For an `#[ignore]`d test, a registry entry that tells JUnit the test
/// exists (it never runs, so it writes no record); nothing otherwise.
pub fn ignored_registration(func: &ItemFn) -> proc_macro2::TokenStream {
    let reason_of = |meta: &syn::Meta| match meta {
        syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ..
        }) => s.value(),
        _ => String::new(),
    };
    // `#[ignore]`, or `#[cfg_attr(PRED, ignore)]`: then the entry exists
    // under the same predicate, as the attribute does.
    let found = func.attrs.iter().find_map(|a| {
        if a.path().is_ident("ignore") {
            return Some((None, reason_of(&a.meta)));
        }
        if !a.path().is_ident("cfg_attr") {
            return None;
        }
        let metas = a
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .ok()?;
        let mut it = metas.into_iter();
        let predicate = it.next()?;
        let ignore = it.find(|m| m.path().is_ident("ignore"))?;
        Some((Some(predicate), reason_of(&ignore)))
    });
    let Some((predicate, reason)) = found else {
        return proc_macro2::TokenStream::new();
    };
    let cfg = predicate.map(|p| quote::quote!(#[cfg(#p)]));
    let name = &func.sig.ident;
    let entry = quote::format_ident!("__MLTEST_IGNORED_{}", name);
    quote::quote! {
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

pub fn kept_attrs(func: &ItemFn) -> Vec<Attribute> {
    func.attrs
        .iter()
        .filter(|a| !a.path().is_ident("test"))
        .cloned()
        .collect()
}

/// The `reference: &Side, current: &Side` parameters of a `#[drift]`
/// function, in that order.
pub fn two_ref_params(func: &ItemFn, attr: &str, hint: &str) -> syn::Result<(Param, Param)> {
    let sig = &func.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            format!("#[{attr}] functions cannot be async"),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("#[{attr}] functions cannot be generic"),
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!("#[{attr}] functions must return what they check, e.g. `-> {hint}`"),
        ));
    }
    if sig.inputs.len() != 2 {
        let span = if sig.inputs.is_empty() {
            sig.paren_token.span.join()
        } else {
            sig.inputs.span()
        };
        return Err(syn::Error::new(
            span,
            format!(
                "#[{attr}] functions take two parameters that name the reference and the current data, \
                 e.g. `(training: &Side, today: &Side)`"
            ),
        ));
    }
    let mut params = sig.inputs.iter().map(|arg| {
        let PatType { pat, ty, .. } = match arg {
            FnArg::Typed(t) => t,
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    format!("#[{attr}] functions cannot take `self`"),
                ));
            }
        };
        let name = match &**pat {
            Pat::Ident(p) => p.ident.clone(),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "expected a plain parameter name, e.g. `training: &Side`",
                ));
            }
        };
        if !matches!(&**ty, Type::Reference(_)) {
            return Err(syn::Error::new(
                ty.span(),
                "each side is borrowed: write the parameter as `name: &Side`",
            ));
        }
        Ok(Param {
            name,
            ty: (**ty).clone(),
        })
    });
    let first = params.next().expect("two parameters")?;
    let second = params.next().expect("two parameters")?;
    Ok((first, second))
}

/// The `site` of a check's descriptor: the function's name and place, its
/// reason, severity and libtest attributes (`::mltest::__private::Site`).
pub fn site(
    name: &syn::Ident,
    reason: &impl quote::ToTokens,
    severity: &impl quote::ToTokens,
    test_attrs: &impl quote::ToTokens,
) -> proc_macro2::TokenStream {
    quote::quote!(::mltest::__private::Site {
        name: ::core::stringify!(#name),
        module_path: ::core::module_path!(),
        file: ::core::file!(),
        line: ::core::line!(),
        reason: #reason,
        severity: #severity,
        attrs: #test_attrs,
    })
}
