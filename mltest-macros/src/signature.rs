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
