//! The shape a check function's signature must have, checked once for every
//! attribute. What differs between attributes (how many parameters, whether
//! they are borrowed fixtures, the wording of the hints) is a [`Shape`]
//! value, not another copy of the checks.

use syn::spanned::Spanned;
use syn::{FnArg, Pat, ReturnType, Signature, Type};

use crate::error::Errors;

/// What an attribute requires of the function's signature. Every function
/// must also be neither `async` nor generic: the generated `#[test]` calls
/// it synchronously with no type to choose.
pub struct Shape {
    /// The error when the function returns nothing; it names what to return.
    pub no_return: &'static str,
    pub params: Params,
}

/// The parameters an attribute expects.
pub enum Params {
    /// One `name: &Type` per fixture key, in order; each name resolves to a
    /// fixture function unless its key overrides it.
    Borrowed {
        /// The attribute keys that override each parameter's fixture.
        fixture_keys: &'static [&'static str],
        /// Too few parameters (points at the parameter list).
        missing: &'static str,
        /// Too many (points at the first extra parameter).
        extra: &'static str,
        /// A pattern that is not a plain name.
        not_a_name: &'static str,
        /// A parameter taken by value.
        by_value: &'static str,
    },
    /// One parameter, handed to the body as written (`p: Perturb`).
    One { wrong_count: &'static str },
}

/// Checks the signature against `shape`, reporting every mismatch. Returns
/// the names of the borrowed parameters (none for [`Params::One`]).
pub fn check(sig: &Signature, attr: &str, shape: &Shape) -> syn::Result<Vec<syn::Ident>> {
    let mut errors = Errors::default();
    if let Some(a) = &sig.asyncness {
        errors.push(syn::Error::new(
            a.span(),
            format!("#[{attr}] functions cannot be async"),
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            format!("#[{attr}] functions cannot be generic"),
        ));
    }
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(sig.ident.span(), shape.no_return));
    }
    let names = match &shape.params {
        Params::Borrowed {
            fixture_keys,
            missing,
            extra,
            not_a_name,
            by_value,
        } => {
            count(sig, fixture_keys.len(), missing, extra, &mut errors);
            let names = sig
                .inputs
                .iter()
                .take(fixture_keys.len())
                .map(|arg| borrowed(arg, attr, not_a_name, by_value));
            errors.take(crate::error::all(names))
        }
        Params::One { wrong_count } => {
            count(sig, 1, wrong_count, wrong_count, &mut errors);
            if let Some(FnArg::Receiver(r)) = sig.inputs.first() {
                errors.push(receiver(r, attr));
            }
            Some(Vec::new())
        }
    };
    errors.finish()?;
    Ok(names.unwrap_or_default())
}

/// Too few parameters point at the list (the parentheses when it is empty),
/// too many at the first one beyond `expected`.
fn count(sig: &Signature, expected: usize, missing: &str, extra: &str, errors: &mut Errors) {
    let found = sig.inputs.len();
    if found < expected {
        let span = if sig.inputs.is_empty() {
            sig.paren_token.span.join()
        } else {
            sig.inputs.span()
        };
        errors.push(syn::Error::new(span, missing));
    } else if let Some(first_extra) = sig.inputs.iter().nth(expected) {
        errors.push(syn::Error::new(first_extra.span(), extra));
    }
}

/// The name of one `name: &Type` parameter.
fn borrowed(arg: &FnArg, attr: &str, not_a_name: &str, by_value: &str) -> syn::Result<syn::Ident> {
    let t = match arg {
        FnArg::Typed(t) => t,
        FnArg::Receiver(r) => return Err(receiver(r, attr)),
    };
    let name = match &*t.pat {
        Pat::Ident(p) => Ok(p.ident.clone()),
        other => Err(syn::Error::new(other.span(), not_a_name)),
    };
    let _borrowed = match &*t.ty {
        Type::Reference(_) => Ok(()),
        other => Err(syn::Error::new(other.span(), by_value)),
    };
    all_ok!(name, _borrowed);
    Ok(name)
}

fn receiver(r: &syn::Receiver, attr: &str) -> syn::Error {
    syn::Error::new(r.span(), format!("#[{attr}] functions cannot take `self`"))
}
