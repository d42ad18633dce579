//! What every check kind shares about where it was declared: the mandatory
//! `reason`, the `severity`, and the libtest attributes the generated
//! `#[test]` keeps and the runtime reports. Parsed once here for all three
//! attributes (severity used to be parsed twice, the test attributes read in
//! two places).

use syn::{Attribute, ItemFn, LitStr, Meta};

use super::args::{Args, required};

/// The declaration-site facts every check descriptor carries.
pub struct Site {
    /// Where the threshold comes from and why; printed in every report.
    pub reason: LitStr,
    /// `None` for a kind without a `severity` key (`#[robustness]` always fails).
    pub severity: Option<Severity>,
    pub attrs: TestAttrs,
}

/// What a failed check does to its test.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Severity {
    Fail,
    /// Records and prints the failure, but the test passes.
    Warn,
}

/// The libtest attributes of the annotated function, as the runtime needs
/// them to report what libtest reports.
pub struct TestAttrs {
    /// Everything the generated `#[test]` keeps: docs, `#[ignore]`,
    /// `#[should_panic]`, lints, `cfg`. A stray `#[test]` is dropped because
    /// the macro adds its own.
    pub kept: Vec<Attribute>,
    /// A plain `#[ignore]` (a `cfg_attr` one is known only at the use site).
    pub ignored: bool,
    /// `#[should_panic]`, with the message it expects if it names one
    /// (`#[should_panic(expected = "..")]` or `#[should_panic = ".."]`).
    pub should_panic: Option<Option<LitStr>>,
    /// The test is ignored, always or under a `cfg` predicate: JUnit must
    /// list it although it never runs.
    pub ignore: Option<Ignore>,
}

/// An `#[ignore]` or `#[cfg_attr(PRED, ignore)]`.
pub struct Ignore {
    /// `PRED` of a `cfg_attr`; the registration exists under the same one.
    pub predicate: Option<Meta>,
    /// `#[ignore = "..."]`'s text, or empty.
    pub reason: String,
}

/// Parses `reason`, `severity` (only if `has_severity`) and the test
/// attributes, reporting every mistake among them.
pub fn parse(args: &Args, attr: &str, has_severity: bool, func: &ItemFn) -> syn::Result<Site> {
    let reason = reason(args, attr);
    let severity = if has_severity {
        severity(args).map(Some)
    } else {
        Ok(None)
    };
    let attrs = test_attrs(func);
    all_ok!(reason, severity, attrs);
    Ok(Site {
        reason,
        severity,
        attrs,
    })
}

/// The mandatory, non-empty `reason`. A missing one points at the attribute.
fn reason(args: &Args, attr: &str) -> syn::Result<LitStr> {
    let reason = required(
        args.lit_str("reason"),
        &format!(
            "#[{attr}] needs `reason = \"...\"`: say where the threshold comes from and why \
             (a profile of the data, a business rule, a property of the source)"
        ),
    )?;
    if reason.value().trim().is_empty() {
        return Err(syn::Error::new(
            reason.span(),
            "`reason` must not be empty: say where the threshold comes from and why",
        ));
    }
    Ok(reason)
}

/// `severity = "fail" | "warn"`, `fail` when absent.
fn severity(args: &Args) -> syn::Result<Severity> {
    match args.lit_str("severity")? {
        None => Ok(Severity::Fail),
        Some(s) => match s.value().as_str() {
            "fail" => Ok(Severity::Fail),
            "warn" => Ok(Severity::Warn),
            other => Err(syn::Error::new(
                s.span(),
                format!("unknown severity \"{other}\"; expected \"fail\" or \"warn\""),
            )),
        },
    }
}

fn test_attrs(func: &ItemFn) -> syn::Result<TestAttrs> {
    let mut should_panic = None;
    // The last `#[should_panic]` wins, as it did when each kind read them.
    for a in func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("should_panic"))
    {
        should_panic = Some(expected_panic(a)?);
    }
    Ok(TestAttrs {
        kept: func
            .attrs
            .iter()
            .filter(|a| !a.path().is_ident("test"))
            .cloned()
            .collect(),
        ignored: func.attrs.iter().any(|a| a.path().is_ident("ignore")),
        should_panic,
        ignore: func.attrs.iter().find_map(ignore),
    })
}

/// The message a `#[should_panic]` expects, if it names one.
fn expected_panic(a: &Attribute) -> syn::Result<Option<LitStr>> {
    Ok(match &a.meta {
        Meta::Path(_) => None,
        Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.clone()),
            _ => None,
        },
        Meta::List(_) => {
            let mut found = None;
            a.parse_nested_meta(|m| {
                if m.path.is_ident("expected") {
                    found = Some(m.value()?.parse::<LitStr>()?);
                }
                Ok(())
            })?;
            found
        }
    })
}

/// `#[ignore]`, or `#[cfg_attr(PRED, ignore)]`: then the test is ignored
/// under the same predicate, as the attribute is.
fn ignore(a: &Attribute) -> Option<Ignore> {
    let reason_of = |meta: &Meta| match meta {
        Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ..
        }) => s.value(),
        _ => String::new(),
    };
    if a.path().is_ident("ignore") {
        return Some(Ignore {
            predicate: None,
            reason: reason_of(&a.meta),
        });
    }
    if !a.path().is_ident("cfg_attr") {
        return None;
    }
    let metas = a
        .parse_args_with(syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated)
        .ok()?;
    let mut it = metas.into_iter();
    let predicate = it.next()?;
    let ignore = it.find(|m| m.path().is_ident("ignore"))?;
    Some(Ignore {
        predicate: Some(predicate),
        reason: reason_of(&ignore),
    })
}
