//! Parsing: the attribute's arguments and the function's signature become a
//! [`Check`], plain data that [`render`](crate::render) turns into code.
//! Parsing never emits tokens, and it reports *every* mistake it finds (see
//! [`error`](crate::error)); rendering can then assume a valid check.
//!
//! - [`args`]: the `key = value` list and typed look-ups, for every attribute;
//! - [`site`]: `reason`, `severity` and the libtest attributes, which every
//!   check kind carries;
//! - [`signature`]: the signature's shape, checked once against a [`Shape`]
//!   value per attribute;
//! - [`kinds`]: what is particular to each attribute, as data (its
//!   [`Spec`]) and its own keys ([`Details`]).

mod args;
mod kinds;
mod signature;
mod site;

use proc_macro2::TokenStream;
use syn::ItemFn;

pub use args::ModelArg;
pub use kinds::{Attr, Details, Expect, Robustness};
pub use site::{Severity, Site};

use args::Args;
use signature::{Params, Shape};

/// One annotated function, understood: everything rendering needs.
pub struct Check {
    /// The user's function as written; its body becomes the hidden body fn.
    pub func: ItemFn,
    pub site: Site,
    /// One per borrowed parameter, in order: the data set of a
    /// `#[data_expectation]`, the reference and current side of a `#[drift]`.
    pub fixtures: Vec<Fixture>,
    pub details: Details,
}

/// Where a borrowed parameter's value comes from.
pub struct Fixture {
    /// The parameter; its name is the fixture function by default, and its
    /// span is where a fixture of the wrong type is reported.
    pub param: syn::Ident,
    /// The function given by the parameter's key (`data = path`, ...).
    pub path: Option<syn::Path>,
}

/// What one attribute accepts: the data that makes the shared parsers parse
/// `#[data_expectation]`, `#[drift]` or `#[robustness]`.
pub struct Spec {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub shape: Shape,
}

impl Spec {
    fn has_severity(&self) -> bool {
        self.keys.contains(&"severity")
    }

    fn fixture_keys(&self) -> &'static [&'static str] {
        match self.shape.params {
            Params::Borrowed { fixture_keys, .. } => fixture_keys,
            Params::One { .. } => &[],
        }
    }
}

/// Parses `#[attr(args)] item` into a [`Check`], or every mistake in it.
pub fn check(attr: Attr, args: TokenStream, item: TokenStream) -> syn::Result<Check> {
    let func: ItemFn = syn::parse2(item)?;
    let spec = attr.spec();
    let (args, _keys) = Args::parse(args, spec.keys, spec.name)?;
    let site = site::parse(&args, spec.name, spec.has_severity(), &func);
    let details = kinds::details(attr, &args);
    let paths = crate::error::all(spec.fixture_keys().iter().map(|key| args.path(key)));
    let params = signature::check(&func.sig, spec.name, &spec.shape);
    all_ok!(_keys, site, details, paths, params);
    let fixtures = params
        .into_iter()
        .zip(paths)
        .map(|(param, path)| Fixture { param, path })
        .collect();
    Ok(Check {
        func,
        site,
        fixtures,
        details,
    })
}
