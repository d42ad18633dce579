//! Every environment variable mltest reads, read here and nowhere else (as
//! proptest's `test_runner/config.rs` reads every `PROPTEST_*` variable),
//! except cargo's own (`CARGO_MANIFEST_DIR`, `PATH`, `HOME`), which locate
//! files rather than configure mltest.
//!
//! [`VARS`] lists them with their meaning; the README's table is this list.
//! The first read of any of them also looks at the whole environment once
//! and warns, on stderr, about `MLTEST_*` variables mltest does not know (a
//! misspelt `MLTEST_CAHCE=off` would otherwise be silently ignored), naming
//! the closest known one. A value that does not parse is warned about too,
//! and the default is used.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Once;

/// The output directory (records, JUnit, reports, caches).
pub const OUT: &str = "MLTEST_OUT";
/// The run id records carry, when nextest's is not set.
pub const RUN_ID: &str = "MLTEST_RUN_ID";
/// nextest's id of one `cargo nextest run` (all its processes).
pub const NEXTEST_RUN_ID: &str = "NEXTEST_RUN_ID";
/// `off` or `verify` for the parse and metric caches.
pub const CACHE: &str = "MLTEST_CACHE";
/// Where the parse and metric caches live.
pub const CACHE_DIR: &str = "MLTEST_CACHE_DIR";
/// Files larger than this stream under `Streaming::Auto`.
pub const STREAM_ABOVE: &str = "MLTEST_STREAM_ABOVE";
/// `polars` or `datafusion`: the engine every data check runs on.
pub const ENGINE: &str = "MLTEST_ENGINE";
/// The reviews CSV.
pub const REVIEWS_CSV: &str = "MLTEST_REVIEWS_CSV";
/// The model store's root.
pub const MODEL_STORE: &str = "MLTEST_MODEL_STORE";
/// The metric history's SQLite file, or `off`.
pub const HISTORY: &str = "MLTEST_HISTORY";
/// How many runs of each check the history keeps.
pub const HISTORY_KEEP: &str = "MLTEST_HISTORY_KEEP";
/// The time freshness checks compare with.
pub const NOW: &str = "MLTEST_NOW";
/// Prefix of the per-data-set overrides (`MLTEST_DATA_REVIEWS=PATH`).
pub const DATA_PREFIX: &str = "MLTEST_DATA_";
/// The git commit runs are recorded under.
pub const GIT_COMMIT: &str = "MLTEST_GIT_COMMIT";
/// Set by GitHub Actions: the commit being built.
pub const GITHUB_SHA: &str = "GITHUB_SHA";
/// `1` (or `always`) accepts changed drift profiles.
pub const UPDATE: &str = "MLTEST_UPDATE";
/// Replays a robustness check with this seed.
pub const SEED: &str = "MLTEST_SEED";
/// proptest's case count, which robustness checks honour too.
pub const PROPTEST_CASES: &str = "PROPTEST_CASES";
/// Set by CI services: a missing prerequisite fails instead of skipping.
pub const CI: &str = "CI";
/// <https://no-color.org>: no colour in the terminal summary.
pub const NO_COLOR: &str = "NO_COLOR";

/// Who reads a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The library: every test, the pipeline, the CLI.
    Library,
    /// Only this repository's own tests and examples (known, so not warned about).
    Repository,
}

/// One environment variable: its name, what it does, and who reads it.
#[derive(Clone, Copy, Debug)]
pub struct Var {
    pub name: &'static str,
    pub meaning: &'static str,
    pub scope: Scope,
}

const fn lib(name: &'static str, meaning: &'static str) -> Var {
    Var {
        name,
        meaning,
        scope: Scope::Library,
    }
}

const fn repo(name: &'static str, meaning: &'static str) -> Var {
    Var {
        name,
        meaning,
        scope: Scope::Repository,
    }
}

/// Every variable read, library ones first.
///
/// ```
/// use mltest_core::config::{Scope, VARS};
/// assert!(VARS.iter().any(|v| v.name == "MLTEST_CACHE" && v.scope == Scope::Library));
/// ```
pub const VARS: &[Var] = &[
    lib(
        OUT,
        "output directory for records, JUnit, reports and caches (default `<cargo target dir>/mltest`)",
    ),
    lib(
        RUN_ID,
        "the run id records carry, so JUnit and reports read one run (default: `NEXTEST_RUN_ID`, else `<unix ms>-<pid>`)",
    ),
    lib(
        NEXTEST_RUN_ID,
        "set by nextest: every process of one `cargo nextest run` shares the run id",
    ),
    lib(
        CACHE,
        "`off` (also `0`, `false`) bypasses the parse and metric caches; `verify` hashes the source on every load",
    ),
    lib(
        CACHE_DIR,
        "parse and metric cache directory (default `<out dir>/cache/parsed`)",
    ),
    lib(
        STREAM_ABOVE,
        "bytes (`K`/`M`/`G` suffixes) above which `Streaming::Auto` streams a file (default a quarter of the machine's memory)",
    ),
    lib(
        ENGINE,
        "`datafusion` runs every `#[data_expectation]` on Apache DataFusion instead of polars (needs the `datafusion` cargo feature); `polars` forces polars whatever a source asks for",
    ),
    lib(
        REVIEWS_CSV,
        "the reviews CSV (default `../shared/data/womens_clothing_reviews.csv`, else the generated stand-in)",
    ),
    lib(
        MODEL_STORE,
        "model store root (default `model_store/` at the workspace root)",
    ),
    lib(
        "MLTEST_DATA_<NAME>",
        "a file that replaces the data set named NAME (upper case, other characters `_`) in every check that reads it: a production batch through the compiled suite",
    ),
    lib(
        HISTORY,
        "metric history database (default `<out dir>/history.sqlite`); `off` records no history",
    ),
    lib(
        HISTORY_KEEP,
        "runs of each check the history keeps (default 1000; older ones are deleted)",
    ),
    lib(
        NOW,
        "the time freshness checks compare with: ISO 8601 (`2026-12-03`, `2026-12-03T09:00:00Z`) or unix seconds (default the system clock); tests fix it",
    ),
    lib(
        GIT_COMMIT,
        "the commit history rows carry (default `GITHUB_SHA`, else the checkout's `.git/HEAD`)",
    ),
    lib(
        GITHUB_SHA,
        "set by GitHub Actions: the commit history rows carry when `MLTEST_GIT_COMMIT` is not set",
    ),
    lib(
        UPDATE,
        "`1` or `always`: a changed drift profile is written instead of left as `<path>.new` for review",
    ),
    lib(
        SEED,
        "replays a `#[robustness]` check with this seed (nothing persisted, persisted seeds not replayed)",
    ),
    lib(
        PROPTEST_CASES,
        "case count of `#[robustness]` checks (proptest's own variable)",
    ),
    lib(
        CI,
        "set and not empty, `false` or `0`: a missing prerequisite (tool, shared file) fails instead of skipping",
    ),
    lib(
        NO_COLOR,
        "set and not empty: the terminal summary is not coloured",
    ),
    repo(
        "MLTEST_JUNIT_FIXTURE",
        "`tests/junit_fixture.rs` takes its counting forms (set by `tests/junit_counts.rs`)",
    ),
    repo(
        "MLTEST_CHILD_STORE",
        "the store a child process of `tests/model_store.rs` saves to",
    ),
    repo("MLTEST_CHILD_SAVES", "how many saves that child makes"),
    repo(
        "MLTEST_CHILD_HISTORY",
        "the history a child process of `tests/history.rs` appends to",
    ),
    repo(
        "MLTEST_CHILD_FRESHNESS",
        "set on a child process of `tests/freshness.rs` (which fixes its clock with `MLTEST_NOW`)",
    ),
    repo(
        "MLTEST_CHILD_APPENDS",
        "how many publications that child appends",
    ),
    repo(
        "MLTEST_BENCH_NEW_QUANTILE",
        "`examples/bench_data_suite.rs`: adds one new quantile check at this level",
    ),
    repo(
        "MLTEST_BENCH_PER_COLUMN",
        "`examples/bench_drift.rs`: also times each column separately",
    ),
];

/// Reads a known variable; the first read of the process warns about unknown ones.
fn var(name: &'static str) -> Option<OsString> {
    debug_assert!(VARS.iter().any(|v| v.name == name), "{name} is not in VARS");
    warn_unknown_once();
    std::env::var_os(name)
}

fn warn_unknown_once() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        let set = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
        for warning in unknown(set) {
            eprintln!("mltest: {warning}");
        }
    });
}

/// `MLTEST_DATA_<NAME>` for a data set named `name`: upper case, every
/// character but ASCII letters and digits as `_` (`generated reviews` →
/// `MLTEST_DATA_GENERATED_REVIEWS`).
///
/// ```
/// assert_eq!(mltest_core::config::data_var("reviews"), "MLTEST_DATA_REVIEWS");
/// assert_eq!(mltest_core::config::data_var("batch-2026.12"), "MLTEST_DATA_BATCH_2026_12");
/// ```
pub fn data_var(name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{DATA_PREFIX}{tail}")
}

/// The file `MLTEST_DATA_<NAME>` puts in place of the data set `name`.
pub(crate) fn data_override(name: &str) -> Option<PathBuf> {
    warn_unknown_once();
    std::env::var_os(data_var(name))
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn text(name: &'static str) -> Option<String> {
    var(name).map(|v| v.to_string_lossy().into_owned())
}

/// A warning for each `MLTEST_*` name that is not a known variable.
fn unknown(set: impl Iterator<Item = String>) -> Vec<String> {
    let known = || VARS.iter().map(|v| v.name);
    let mut out: Vec<String> = set
        .filter(|k| {
            k.starts_with("MLTEST_") && !k.starts_with(DATA_PREFIX) && !known().any(|n| n == k)
        })
        .map(|k| match crate::text::closest(&k, known()) {
            Some(close) => {
                format!("ignoring unknown environment variable {k} (did you mean {close}?)")
            }
            None => format!("ignoring unknown environment variable {k}"),
        })
        .collect();
    out.sort();
    out
}

fn parse_or_warn<T>(
    name: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
    what: &str,
) -> Option<T> {
    // Said once per variable: some are read on every load.
    static WARNED: std::sync::Mutex<Vec<&str>> = std::sync::Mutex::new(Vec::new());
    let value = text(name)?;
    let parsed = parse(&value);
    if parsed.is_none()
        && let Ok(mut warned) = WARNED.lock()
        && !warned.contains(&name)
    {
        warned.push(name);
        eprintln!("mltest: {name}={value} is not {what}; using the default");
    }
    parsed
}

/// What `MLTEST_CACHE` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Default: trust size + mtime, hash when they change.
    On,
    /// Hash the source on every load.
    Verify,
    /// No cache.
    Off,
}

impl CacheMode {
    /// From `MLTEST_CACHE` (`off`, `verify`; anything else or unset: on).
    ///
    /// ```
    /// use mltest_core::data::parse_cache::CacheMode;
    /// # if std::env::var_os("MLTEST_CACHE").is_some() { return; }
    /// assert_eq!(CacheMode::from_env(), CacheMode::On);
    /// ```
    pub fn from_env() -> Self {
        match text(CACHE).as_deref() {
            Some("off" | "0" | "false") => CacheMode::Off,
            Some("verify") => CacheMode::Verify,
            _ => CacheMode::On,
        }
    }
}

/// `MLTEST_OUT`.
pub(crate) fn out_dir() -> Option<PathBuf> {
    var(OUT).map(PathBuf::from)
}

/// `NEXTEST_RUN_ID`, else `MLTEST_RUN_ID`.
pub(crate) fn run_id() -> Option<String> {
    text(NEXTEST_RUN_ID).or_else(|| text(RUN_ID))
}

/// `MLTEST_CACHE_DIR`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    var(CACHE_DIR).map(PathBuf::from)
}

/// `MLTEST_STREAM_ABOVE` in bytes.
pub(crate) fn stream_above() -> Option<u64> {
    parse_or_warn(STREAM_ABOVE, parse_bytes, "a size in bytes (e.g. 512M)")
}

/// `MLTEST_ENGINE`, lower-cased, when it names a known engine (`polars`,
/// `datafusion`); [`DataSource::engine_in_use`](crate::DataSource::engine_in_use)
/// turns it into an `Engine`.
pub(crate) fn engine() -> Option<String> {
    parse_or_warn(
        ENGINE,
        |s| {
            let s = s.trim().to_ascii_lowercase();
            matches!(s.as_str(), "polars" | "datafusion").then_some(s)
        },
        "`polars` or `datafusion`",
    )
}

/// `MLTEST_REVIEWS_CSV`.
pub(crate) fn reviews_csv() -> Option<PathBuf> {
    var(REVIEWS_CSV).map(PathBuf::from)
}

/// `MLTEST_MODEL_STORE`.
pub(crate) fn model_store() -> Option<PathBuf> {
    var(MODEL_STORE).map(PathBuf::from)
}

/// What `MLTEST_HISTORY` asks for: `None` when unset, `Some(None)` for
/// `off` (also `0`, `false`), else the path.
pub(crate) fn history() -> Option<Option<PathBuf>> {
    let v = var(HISTORY)?;
    match v.to_str() {
        Some("off" | "0" | "false") => Some(None),
        _ => Some(Some(PathBuf::from(v))),
    }
}

/// `MLTEST_NOW` as unix seconds, read with `parse` (the clock's parser: it
/// is passed in so that config does not depend on the clock that reads it);
/// a value that does not parse is warned about.
pub(crate) fn now(parse: fn(&str) -> Option<f64>) -> Option<f64> {
    parse_or_warn(
        NOW,
        parse,
        "a time (ISO 8601 such as 2026-12-03T09:00:00Z, or unix seconds)",
    )
}

/// `MLTEST_HISTORY_KEEP` (at least 1; a value that does not parse is warned about).
pub(crate) fn history_keep() -> Option<u64> {
    parse_or_warn(
        HISTORY_KEEP,
        |s| s.trim().parse().ok().filter(|&n: &u64| n >= 1),
        "a run count of at least 1",
    )
}

/// `MLTEST_GIT_COMMIT`, else `GITHUB_SHA` (empty values ignored).
pub(crate) fn git_commit() -> Option<String> {
    text(GIT_COMMIT)
        .or_else(|| text(GITHUB_SHA))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `MLTEST_UPDATE` is `1` or `always`.
pub(crate) fn update_profiles() -> bool {
    text(UPDATE).is_some_and(|v| v == "1" || v == "always")
}

/// `MLTEST_SEED` as a seed (a value that does not parse is warned about).
pub fn seed() -> Option<u64> {
    parse_or_warn(SEED, |s| s.trim().parse().ok(), "a u64 seed")
}

/// `MLTEST_SEED` is set at all: a replay, so nothing is persisted and
/// persisted seeds are not replayed (even when the value does not parse).
pub fn seed_is_set() -> bool {
    var(SEED).is_some()
}

/// `PROPTEST_CASES`.
pub fn proptest_cases() -> Option<usize> {
    parse_or_warn(PROPTEST_CASES, |s| s.trim().parse().ok(), "a case count")
}

/// Under CI (`CI` set and not empty, `false` or `0`).
pub fn in_ci() -> bool {
    text(CI).is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `NO_COLOR` is set and not empty.
pub fn no_color() -> bool {
    var(NO_COLOR).is_some_and(|v| !v.is_empty())
}

/// Under nextest (`NEXTEST_RUN_ID` set).
pub fn under_nextest() -> bool {
    var(NEXTEST_RUN_ID).is_some()
}

/// `4G`, `512M`, `1000` → bytes.
fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1u64 << 10),
        'M' => (&s[..s.len() - 1], 1 << 20),
        'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .map(|n| (n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variables_are_named_with_the_closest_known_one() {
        let set = [
            "MLTEST_CAHCE",
            "MLTEST_OUT",
            "PATH",
            "MLTEST_ZZZZZZZZZZZZZZZZZZZZ",
        ]
        .map(String::from)
        .into_iter();
        assert_eq!(
            unknown(set),
            vec![
                "ignoring unknown environment variable MLTEST_CAHCE (did you mean MLTEST_CACHE?)"
                    .to_string(),
                "ignoring unknown environment variable MLTEST_ZZZZZZZZZZZZZZZZZZZZ".to_string(),
            ]
        );
    }

    #[test]
    fn repository_variables_are_known() {
        let set = ["MLTEST_JUNIT_FIXTURE", "MLTEST_CHILD_STORE"]
            .map(String::from)
            .into_iter();
        assert!(unknown(set).is_empty());
    }

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("4g"), Some(4 << 30));
        assert_eq!(parse_bytes("lots"), None);
    }

    #[test]
    fn the_readme_table_lists_every_variable() {
        let readme = include_str!("../../README.md");
        for v in VARS {
            assert!(
                readme.contains(&format!("| `{}` |", v.name)),
                "README.md's environment table lacks {}",
                v.name
            );
        }
    }

    #[test]
    fn every_name_is_listed_once() {
        let mut names: Vec<&str> = VARS.iter().map(|v| v.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
