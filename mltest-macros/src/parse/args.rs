//! The `key = value` list inside an attribute, and typed look-ups of its
//! values. Written once for every attribute: the keys each accepts are data
//! (its [`Spec`](super::Spec)).

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::error::Errors;

/// A model as an attribute names it.
pub enum ModelArg {
    /// `"NAME@VERSION"`, `"NAME@ALIAS"`, `"NAME"`.
    Id(LitStr),
    /// A fixture function returning a model.
    Fixture(syn::Path),
}

/// One `key = value` argument, with the spans needed for good errors.
struct Arg {
    key: syn::Ident,
    value: Expr,
}

/// The well-formed arguments of one attribute, each key at most once.
pub struct Args {
    items: Vec<Arg>,
}

impl Args {
    /// Parses `a = 1, b = "x"`. Text that is no comma-separated list at all
    /// is the only early return; otherwise every bare word, unknown key and
    /// repeated key is reported (in the second value) and the well-formed
    /// arguments are kept, so the look-ups can report their mistakes too.
    pub fn parse(
        args: TokenStream,
        accepted: &[&str],
        attr: &str,
    ) -> syn::Result<(Args, syn::Result<()>)> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        let mut errors = Errors::default();
        let mut items: Vec<Arg> = Vec::new();
        for meta in metas {
            let nv = match meta {
                Meta::NameValue(nv) => nv,
                other => {
                    errors.push(syn::Error::new(
                        other.span(),
                        format!(
                            "expected `key = value` in #[{attr}(...)]; accepted keys: {}",
                            accepted.join(", ")
                        ),
                    ));
                    continue;
                }
            };
            let Some(key) = nv.path.get_ident().cloned() else {
                errors.push(syn::Error::new(
                    nv.path.span(),
                    "expected a plain key such as `reason`",
                ));
                continue;
            };
            let name = key.to_string();
            if !accepted.contains(&name.as_str()) {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown key `{name}` in #[{attr}(...)]; accepted keys: {}",
                        accepted.join(", ")
                    ),
                ));
            } else if items.iter().any(|a| a.key == key) {
                errors.push(syn::Error::new(
                    key.span(),
                    format!("key `{name}` is given twice"),
                ));
            } else {
                items.push(Arg {
                    key,
                    value: nv.value,
                });
            }
        }
        Ok((Args { items }, errors.finish()))
    }

    /// The value of `key` as a string literal, if given.
    pub fn lit_str(&self, key: &str) -> syn::Result<Option<LitStr>> {
        match self.find(key) {
            None => Ok(None),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => Ok(Some(s.clone())),
            Some(value) => Err(syn::Error::new(
                value.span(),
                format!("`{key}` must be a string literal"),
            )),
        }
    }

    /// The value of `key` as a non-negative integer literal, if given.
    pub fn lit_usize(&self, key: &str) -> syn::Result<Option<(usize, Span)>> {
        match self.find(key) {
            None => Ok(None),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            })) => Ok(Some((i.base10_parse::<usize>()?, i.span()))),
            Some(value) => Err(syn::Error::new(
                value.span(),
                format!("`{key}` must be an integer literal"),
            )),
        }
    }

    /// The value of `key` as a number literal (integer or float), if given.
    pub fn lit_f64(&self, key: &str) -> syn::Result<Option<(f64, Span)>> {
        match self.find(key) {
            None => Ok(None),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Float(f), ..
            })) => Ok(Some((f.base10_parse::<f64>()?, f.span()))),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            })) => Ok(Some((i.base10_parse::<f64>()?, i.span()))),
            Some(value) => Err(syn::Error::new(
                value.span(),
                format!("`{key}` must be a number literal, e.g. `{key} = 0.05`"),
            )),
        }
    }

    /// The value of `key` as a path (e.g. a fixture function), if given.
    pub fn path(&self, key: &str) -> syn::Result<Option<syn::Path>> {
        match self.find(key) {
            None => Ok(None),
            Some(Expr::Path(p)) => Ok(Some(p.path.clone())),
            Some(value) => Err(syn::Error::new(
                value.span(),
                format!("`{key}` must be a path to a function, e.g. `{key} = my_fixture`"),
            )),
        }
    }

    /// The value of `key` as a model: a string literal (a store id) or a
    /// path to a fixture function, if given.
    pub fn model(&self, key: &str) -> syn::Result<Option<ModelArg>> {
        match self.find(key) {
            None => Ok(None),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => {
                let id = s.value();
                if id.trim().is_empty() {
                    Err(syn::Error::new(
                        s.span(),
                        format!("`{key}` must name a model"),
                    ))
                } else {
                    Ok(Some(ModelArg::Id(s.clone())))
                }
            }
            Some(Expr::Path(p)) => Ok(Some(ModelArg::Fixture(p.path.clone()))),
            Some(value) => Err(syn::Error::new(
                value.span(),
                format!(
                    "`{key}` is a store id (`{key} = \"NAME@ALIAS\"`) or a fixture function \
                     returning a model (`{key} = my_model`)"
                ),
            )),
        }
    }

    /// The span of `key`'s value, if given.
    pub fn span_of(&self, key: &str) -> Option<Span> {
        self.find(key).map(Spanned::span)
    }

    fn find(&self, key: &str) -> Option<&Expr> {
        self.items.iter().find(|a| a.key == key).map(|a| &a.value)
    }
}

/// The value of a key the attribute cannot do without. A missing key points
/// at the whole attribute (there is no span of what is not there).
pub fn required<T>(found: syn::Result<Option<T>>, missing: &str) -> syn::Result<T> {
    found?.ok_or_else(|| syn::Error::new(Span::call_site(), missing))
}
