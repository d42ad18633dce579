//! The metric history: every check's figures of every run, in SQLite.
//!
//! Records ([`crate::record`]) hold the latest run; the history keeps the
//! figures of past runs so a check can be read over time (`mltest history`,
//! the report's trends) and bounded by its own past (history-learned
//! bounds). Every publication of a test's records — `cargo test`, nextest,
//! the main job, `mltest check` — appends its checks' figures here.
//!
//! # Where
//!
//! `MLTEST_HISTORY` names the file (a shared volume, say), `off` records
//! nothing; the default is `<out dir>/history.sqlite` (`target/mltest/`,
//! see [`crate::outdir`]). The database is SQLite compiled into mltest
//! (rusqlite's `bundled`), so nothing is installed and the file opens in
//! any `sqlite3` shell.
//!
//! # Layout (schema version [`SCHEMA_VERSION`])
//!
//! | table | one row per | columns |
//! |---|---|---|
//! | `runs` | run id | `run_id`, `started` (unix s), `git_commit` |
//! | `checks` | check (binary, test, check) | `id`, `binary`, `test`, `check_name`, `kind`, `metric`, `runs` |
//! | `figures` | check × run × segment | `check_id`, `run_id`, `segment` (`''` for the check's own figure, else a judged segment's label), `observed`, `threshold` (the typed [`Threshold`] as JSON), `verdict`, `rows`, `data_name`, `data_sha256`, `time` |
//! | `schemas` | schema-change check × run | `check_id`, `run_id`, `columns` (JSON `[{"name", "dtype"}]`), `time` |
//!
//! Version 2 added `schemas`; a version-1 file is migrated in place, in one
//! transaction, the first time this build opens it.
//!
//! The file carries SQLite's `application_id` [`APPLICATION_ID`] (`mltH`)
//! and `user_version` = the schema version, so a file of another program,
//! or of a newer mltest, is refused by name ([`HistoryError`]) and never
//! replaced.
//!
//! # Writers
//!
//! nextest runs a process per test, all appending at once: the file is in
//! WAL mode (readers never block the writer) and a writer that finds it
//! locked waits up to [`BUSY_TIMEOUT`] (a publication is a few inserts;
//! 60 processes queue for well under a second). Each publication is one
//! `BEGIN IMMEDIATE` transaction, so a process killed mid-append leaves its
//! figures whole or absent (tested with SIGKILL in `tests/history.rs`).
//!
//! # Retention
//!
//! The newest [`DEFAULT_KEEP`] runs of each check are kept
//! (`MLTEST_HISTORY_KEEP`); older ones are deleted once a check holds a
//! tenth more than that, so pruning costs one query per hundred appends, not
//! one per append. Runs no check refers to any more go with them.

mod git;
mod open;
mod read;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use read::{CheckHistory, Figure};

use crate::record::{CheckKind, Record, Threshold, Verdict};

/// SQLite `application_id` of an mltest history: `mltH` in ASCII.
pub const APPLICATION_ID: i32 = 0x6D6C_7448;
/// The schema this build writes (SQLite's `user_version`).
pub const SCHEMA_VERSION: i64 = 2;
/// Runs kept per check unless `MLTEST_HISTORY_KEEP` says otherwise.
pub const DEFAULT_KEEP: u64 = 1000;
/// How long a writer waits for another one's transaction.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why the history could not be read or written. Every variant names the
/// file; none of them is ever resolved by replacing it.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "metric history {path}: not an SQLite database (it starts with {start:?}); mltest never \
         replaces it: move it away or point MLTEST_HISTORY elsewhere"
    )]
    NotSqlite { path: PathBuf, start: String },
    #[error(
        "metric history {path}: an SQLite database of another program (application_id {found:#x}, \
         mltest's is {APPLICATION_ID:#x}); point MLTEST_HISTORY at a file of its own"
    )]
    Foreign { path: PathBuf, found: i32 },
    #[error(
        "metric history {path}: an SQLite database with tables that are not mltest's ({tables}); \
         point MLTEST_HISTORY at a file of its own"
    )]
    ForeignTables { path: PathBuf, tables: String },
    #[error(
        "metric history {path}: schema version {found}, this build of mltest reads versions up to \
         {SCHEMA_VERSION}; use the newer mltest that wrote it"
    )]
    Newer { path: PathBuf, found: i64 },
    #[error(
        "metric history {path} is corrupt ({detail}); mltest never replaces it: `sqlite3 {path} \
         .recover` may save its rows, or move it away to start a new history"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "metric history {path}: no check matches {pattern:?} (it holds {count} checks{})",
        .closest.as_ref().map(|c| format!("; did you mean {c}?")).unwrap_or_default()
    )]
    NoMatch {
        path: PathBuf,
        pattern: String,
        count: usize,
        closest: Option<String>,
    },
    #[error("metric history {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("metric history {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl HistoryError {
    /// A rusqlite error of `path`, typed: a malformed file is [`Corrupt`](HistoryError::Corrupt).
    fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> HistoryError + '_ {
        move |source| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                HistoryError::Corrupt {
                    path: path.to_path_buf(),
                    detail: source.to_string(),
                }
            }
            _ => HistoryError::Sql {
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

/// A check's identity across runs: the test binary, the test's path and
/// the check's name within the test.
///
/// ```
/// use mltest_core::history::CheckKey;
/// let k = CheckKey::new("data_quality", "reviews::ratings_in_range", "ratings_in_range");
/// assert_eq!(k.to_string(), "data_quality::reviews::ratings_in_range");
/// let k = CheckKey::new("data_quality", "reviews::gates", "age_known");
/// assert_eq!(k.to_string(), "data_quality::reviews::gates[age_known]");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CheckKey {
    pub binary: String,
    pub test: String,
    pub check: String,
}

impl CheckKey {
    pub fn new(binary: &str, test: &str, check: &str) -> CheckKey {
        CheckKey {
            binary: binary.into(),
            test: test.into(),
            check: check.into(),
        }
    }

    /// The key of a record's check.
    pub fn of(record: &Record) -> CheckKey {
        CheckKey::new(&record.binary, &record.test, &record.check)
    }
}

impl std::fmt::Display for CheckKey {
    /// `binary::test`, with `[check]` when the check is not named after its
    /// test (one of several checks in a test).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.binary, self.test)?;
        let short = self.test.rsplit("::").next().unwrap_or(&self.test);
        if self.check != short {
            write!(f, "[{}]", self.check)?;
        }
        Ok(())
    }
}

/// An open history file.
///
/// ```
/// use mltest_core::history::History;
/// use mltest_core::record::{Details, Record};
/// let dir = tempfile::tempdir().unwrap();
/// let mut h = History::open(dir.path().join("history.sqlite")).unwrap();
/// let mut r = Record::new("t::slices", "slices".into(), "", Details::Ab(None));
/// r.observed = Some(0.91);
/// assert_eq!(h.append(&[r.clone()]).unwrap(), 1);
/// let checks = h.checks().unwrap();
/// assert_eq!(checks.len(), 1);
/// assert_eq!(checks[0].last.observed, Some(0.91));
/// ```
pub struct History {
    conn: rusqlite::Connection,
    path: PathBuf,
    keep: u64,
    commit: Option<String>,
}

impl History {
    /// Opens (or creates) the history at `path`, keeping `MLTEST_HISTORY_KEEP`
    /// (default [`DEFAULT_KEEP`]) runs per check.
    pub fn open(path: impl AsRef<Path>) -> Result<History, HistoryError> {
        let path = path.as_ref().to_path_buf();
        let conn = open::connect(&path)?;
        Ok(History {
            conn,
            path,
            keep: crate::config::history_keep().unwrap_or(DEFAULT_KEEP),
            commit: git::commit(),
        })
    }

    /// Opens an existing history for reading; a missing file is an error
    /// naming it (a reader never creates one).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<History, HistoryError> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(HistoryError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no history yet: it is written by the first cargo test, nextest run, main job \
                     or `mltest check`",
                ),
            });
        }
        History::open(path)
    }

    /// Keeps `runs` runs per check from now on (at least 1).
    pub fn keep(mut self, runs: u64) -> History {
        self.keep = runs.max(1);
        self
    }

    /// Records rows under `commit` instead of the detected one.
    pub fn with_commit(mut self, commit: Option<String>) -> History {
        self.commit = commit;
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `MLTEST_HISTORY` (`None` for `off`), else `<out dir>/history.sqlite`.
///
/// ```
/// # if std::env::var_os("MLTEST_HISTORY").is_some() { return; }
/// let p = mltest_core::history::default_path().unwrap();
/// assert!(p.ends_with("history.sqlite"));
/// ```
pub fn default_path() -> Option<PathBuf> {
    match crate::config::history() {
        Some(choice) => choice,
        None => Some(crate::outdir::out_dir().join("history.sqlite")),
    }
}

/// Runs `f` on the default history ([`default_path`]); `None` under
/// `MLTEST_HISTORY=off`. One connection per process, opened on first use:
/// cargo test publishes every test of a binary from one process.
fn with_default<T>(
    f: impl FnOnce(&mut History) -> Result<T, HistoryError>,
) -> Result<Option<T>, HistoryError> {
    static OPEN: Mutex<Option<History>> = Mutex::new(None);
    let Some(path) = default_path() else {
        return Ok(None);
    };
    // A test that panicked while holding the lock left the connection
    // usable: SQLite rolled its transaction back when the guard dropped.
    let mut guard = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    let history = match guard.take() {
        Some(h) if h.path == path => guard.insert(h),
        _ => guard.insert(History::open(&path)?),
    };
    f(history).map(Some)
}

/// Appends `records` to the default history ([`default_path`]); does
/// nothing under `MLTEST_HISTORY=off`.
pub fn append_to_default(records: &[Record]) -> Result<(), HistoryError> {
    if records.is_empty() {
        return Ok(());
    }
    with_default(|h| h.append(records)).map(|_| ())
}

/// The measured figures of `key`'s newest `n` runs before this process's
/// run, oldest first, from the default history: what a bound learned from
/// history reads. `None` under `MLTEST_HISTORY=off`.
pub fn past_of_default(key: &CheckKey, n: usize) -> Result<Option<Vec<Figure>>, HistoryError> {
    with_default(|h| h.past_figures(key, n, crate::outdir::run_id()))
}

/// The columns `key` recorded in its newest run before this process's run,
/// from the default history: what a schema-change check compares with.
/// `None` under `MLTEST_HISTORY=off`.
pub fn previous_schema_of_default(
    key: &CheckKey,
) -> Result<Option<Option<crate::expect::PastSchema>>, HistoryError> {
    with_default(|h| h.previous_schema(key, crate::outdir::run_id()))
}

/// `kind`'s name as stored, and back.
fn kind_from(s: &str) -> Option<CheckKind> {
    serde_json::from_value(serde_json::Value::String(s.into())).ok()
}

fn verdict_from(s: &str) -> Option<Verdict> {
    serde_json::from_value(serde_json::Value::String(s.into())).ok()
}

fn threshold_from(s: &str) -> Threshold {
    serde_json::from_str(s).unwrap_or(Threshold::None)
}

#[cfg(test)]
mod tests;
