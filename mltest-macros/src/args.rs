//! Parsing of `key = value` attribute arguments shared by the mltest attributes.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

/// One `key = value` argument, with the spans needed for good errors.
pub struct Arg {
    pub key: syn::Ident,
    pub value: Expr,
}

/// Parses `a = 1, b = "x"` and rejects keys outside `accepted`, naming the
/// accepted ones; a repeated key is an error too.
pub fn parse(args: TokenStream, accepted: &[&str], attr: &str) -> syn::Result<Vec<Arg>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut out: Vec<Arg> = Vec::new();
    for meta in metas {
        let nv = match meta {
            Meta::NameValue(nv) => nv,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!(
                        "expected `key = value` in #[{attr}(...)]; accepted keys: {}",
                        accepted.join(", ")
                    ),
                ));
            }
        };
        let key = nv.path.get_ident().cloned().ok_or_else(|| {
            syn::Error::new(nv.path.span(), "expected a plain key such as `reason`")
        })?;
        let name = key.to_string();
        if !accepted.contains(&name.as_str()) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown key `{name}` in #[{attr}(...)]; accepted keys: {}",
                    accepted.join(", ")
                ),
            ));
        }
        if out.iter().any(|a| a.key == key) {
            return Err(syn::Error::new(
                key.span(),
                format!("key `{name}` is given twice"),
            ));
        }
        out.push(Arg {
            key,
            value: nv.value,
        });
    }
    Ok(out)
}

/// The value of `key` as a string literal, if given.
pub fn lit_str(args: &[Arg], key: &str) -> syn::Result<Option<LitStr>> {
    match find(args, key) {
        None => Ok(None),
        Some(Arg {
            value: Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }),
            ..
        }) => Ok(Some(s.clone())),
        Some(arg) => Err(syn::Error::new(
            arg.value.span(),
            format!("`{key}` must be a string literal"),
        )),
    }
}

/// The value of `key` as a non-negative integer literal, if given.
pub fn lit_usize(args: &[Arg], key: &str) -> syn::Result<Option<(usize, Span)>> {
    match find(args, key) {
        None => Ok(None),
        Some(Arg {
            value: Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }),
            ..
        }) => Ok(Some((i.base10_parse::<usize>()?, i.span()))),
        Some(arg) => Err(syn::Error::new(
            arg.value.span(),
            format!("`{key}` must be an integer literal"),
        )),
    }
}

/// The value of `key` as a number literal (integer or float), if given.
pub fn lit_f64(args: &[Arg], key: &str) -> syn::Result<Option<(f64, Span)>> {
    match find(args, key) {
        None => Ok(None),
        Some(Arg {
            value: Expr::Lit(ExprLit {
                lit: Lit::Float(f), ..
            }),
            ..
        }) => Ok(Some((f.base10_parse::<f64>()?, f.span()))),
        Some(Arg {
            value: Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }),
            ..
        }) => Ok(Some((i.base10_parse::<f64>()?, i.span()))),
        Some(arg) => Err(syn::Error::new(
            arg.value.span(),
            format!("`{key}` must be a number literal, e.g. `{key} = 0.05`"),
        )),
    }
}

/// The value of `key` as a path (e.g. a fixture function), if given.
pub fn path(args: &[Arg], key: &str) -> syn::Result<Option<syn::Path>> {
    match find(args, key) {
        None => Ok(None),
        Some(Arg {
            value: Expr::Path(p),
            ..
        }) => Ok(Some(p.path.clone())),
        Some(arg) => Err(syn::Error::new(
            arg.value.span(),
            format!("`{key}` must be a path to a function, e.g. `{key} = my_fixture`"),
        )),
    }
}

/// The mandatory, non-empty `reason`. A missing one points at the attribute.
pub fn reason(args: &[Arg], attr: &str, attr_span: Span) -> syn::Result<LitStr> {
    let reason = lit_str(args, "reason")?.ok_or_else(|| {
        syn::Error::new(
            attr_span,
            format!(
                "#[{attr}] needs `reason = \"...\"`: say where the threshold comes from and why \
                 (a profile of the data, a business rule, a property of the source)"
            ),
        )
    })?;
    if reason.value().trim().is_empty() {
        return Err(syn::Error::new(
            reason.span(),
            "`reason` must not be empty: say where the threshold comes from and why",
        ));
    }
    Ok(reason)
}

fn find<'a>(args: &'a [Arg], key: &str) -> Option<&'a Arg> {
    args.iter().find(|a| a.key == key)
}
