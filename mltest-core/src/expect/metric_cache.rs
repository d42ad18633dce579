//! Compute once: every check's raw figures (a null count and its row count,
//! a mean, per-segment counts — what the aggregates measured, not the
//! verdict) kept under the data's identity (content sha256 and load
//! options) and the check's definition (metric and segment, not the bound).
//!
//! A run on unchanged data whose checks are all cached reads no data at
//! all: the data set from the parse cache is deferred, the figures come from
//! here, and the verdicts are decided again against the current bounds — so
//! a changed threshold costs no recomputation. A check that fails still reads
//! the data, for its example rows. Schema checks need only the column types
//! (no data); association checks are always computed.
//!
//! Entries live beside the parse cache, one file per data identity
//! (`<identity>.metrics`), merged under a file lock and replaced by rename;
//! an unreadable file is ignored and rewritten. `MLTEST_CACHE=off` bypasses
//! it. Reports mark figures that came from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::figures::Figures;
use super::{Expectation, Metric};
use crate::data::dataset::CacheIdentity;
use crate::data::parse_cache::CacheMode;

/// 3: figures are keyed by name in a map (`{"n": 3, "hits": 1}`) and
/// groups carry their typed value; 2: the data's meaning changed with the
/// load plan (see the parse cache's format), and duplicate checks keep the
/// rows that take part (`vals`). An entry of another format is rebuilt.
const FORMAT: u32 = 3;

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Entries {
    format: u32,
    figures: BTreeMap<String, Figures>,
}

/// The figures kept for one data identity.
pub(crate) struct Cache {
    dir: PathBuf,
    identity: String,
    entries: Entries,
}

impl Cache {
    /// The cache of the data set `identity` (empty when there is none yet,
    /// or when its file is unreadable or of another format).
    pub(crate) fn open(identity: &CacheIdentity) -> Cache {
        Cache {
            entries: read(&path(&identity.dir, &identity.key)),
            dir: identity.dir.clone(),
            identity: identity.key.clone(),
        }
    }

    /// The figures measured for `e` before, if any.
    pub(crate) fn get(&self, e: &Expectation) -> Option<&Figures> {
        key(e).and_then(|k| self.entries.figures.get(&k))
    }

    /// Stores newly measured figures (merged with what other processes
    /// stored meanwhile).
    pub(crate) fn put<'a>(&self, new: impl IntoIterator<Item = (&'a Expectation, &'a Figures)>) {
        let new: BTreeMap<String, Figures> = new
            .into_iter()
            .filter_map(|(e, f)| Some((key(e)?, f.clone())))
            .collect();
        write(&self.dir, &self.identity, new);
    }
}

fn path(dir: &Path, identity: &str) -> PathBuf {
    dir.join(format!("{}.metrics", &identity[..32.min(identity.len())]))
}

/// The key of a check: its metric and segment (not its bound or label).
/// Schema checks (no figures) and association checks (always computed)
/// have none.
fn key(e: &Expectation) -> Option<String> {
    if matches!(
        e.metric,
        Metric::Schema { .. } | Metric::SchemaChange { .. } | Metric::MaxAssociation { .. }
    ) {
        return None;
    }
    let def = serde_json::to_string(&(FORMAT, &e.metric, &e.segment)).ok()?;
    Some(crate::hash::sha256_hex(def.as_bytes()))
}

fn read(path: &Path) -> Entries {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Entries>(&b).ok())
        .filter(|e| e.format == FORMAT)
        .unwrap_or_default()
}

/// Merges new figures into the file under an exclusive lock (test binaries
/// and nextest processes write at once). Failures only cost a recomputation
/// next time.
fn write(dir: &Path, identity: &str, new: BTreeMap<String, Figures>) {
    if new.is_empty() {
        return;
    }
    let result = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".metrics.lock"))?;
        lock.lock()?;
        let target = path(dir, identity);
        let mut entries = read(&target);
        entries.format = FORMAT;
        entries.figures.extend(new);
        let json = serde_json::to_vec(&entries).map_err(std::io::Error::other)?;
        crate::outdir::write_atomic_with(&target, crate::outdir::Durability::Rebuildable, |f| {
            std::io::Write::write_all(f, &json)
        })
    })();
    if let Err(e) = result {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "mltest: could not store the metric cache under {}: {e}",
            dir.display()
        );
    }
}

/// Whether evaluation goes through the metric cache.
pub(crate) fn enabled() -> bool {
    CacheMode::from_env() != CacheMode::Off
}
