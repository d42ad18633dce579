//! Collecting every mistake of one attribute before reporting, as rstest's
//! `error.rs` does: a user who wrote an unknown key *and* forgot `reason`
//! sees both in one compile, each at its span, instead of fixing them one
//! build at a time. `syn::Error::combine` keeps every span; the compiler
//! prints them in the order they were found (arguments first, then the
//! signature, as they appear in the source).

/// Rebinds each named `syn::Result` to its value, or returns from the
/// enclosing function with all of their errors combined.
///
/// ```ignore
/// let reason = reason(&args);
/// let severity = severity(&args);
/// all_ok!(reason, severity); // both are plain values from here on
/// ```
///
/// A macro rather than nested `(a, (b, c))` tuples so that a parser of nine
/// keys reads as nine lines.
macro_rules! all_ok {
    ($($name:ident),+ $(,)?) => {
        let mut __errors = $crate::error::Errors::default();
        $( let $name = __errors.take($name); )+
        __errors.finish()?;
        $( let ::core::option::Option::Some($name) = $name else {
            ::core::unreachable!("`finish` returned early when any result was an error")
        }; )+
    };
}

/// The errors found so far; empty means everything parsed.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds one mistake; its span is kept.
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// The value of `result`, or `None` after recording its error(s).
    pub fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `Err` with every recorded mistake, or `Ok` if there was none.
    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Every value, or every error of the results that failed.
pub fn all<T>(results: impl IntoIterator<Item = syn::Result<T>>) -> syn::Result<Vec<T>> {
    let mut errors = Errors::default();
    let values: Vec<T> = results.into_iter().filter_map(|r| errors.take(r)).collect();
    errors.finish()?;
    Ok(values)
}
