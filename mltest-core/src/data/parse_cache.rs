//! Parse once: the typed columns of a CSV (after null tokens, trimming,
//! dtypes and blank-record removal) kept as Arrow IPC under
//! `target/mltest/cache/parsed/`, shared by every test binary, the pipeline
//! and the CLI. A later load of the same file with the same options reads
//! the IPC file instead of parsing the CSV again.
//!
//! **Identity** follows cargo's fingerprints: when the file's size and
//! modification time (and on Unix its inode and status-change time, which
//! `cp -p` or `rsync -a` cannot carry over) equal the entry's, the entry is trusted and the
//! recorded sha256 is reused; when either changed, the file is hashed and the
//! entry is reused only if the content is the same (a `touch`), else rebuilt.
//! `MLTEST_CACHE=verify` hashes on every load (it catches an edit that keeps
//! size and mtime); `MLTEST_CACHE=off` bypasses the cache.
//!
//! **Safety of entries**: an entry is a meta file (JSON) plus the IPC file,
//! each written to a temporary file and renamed, the meta last, so a reader
//! sees a complete entry or none. The meta records the IPC file's length and
//! row count; a truncated, foreign or unreadable entry is rebuilt, never
//! trusted. IPC files are read, not memory-mapped: polars' memory-mapped
//! reader trusts the bytes, and a cache entry is a file anyone can damage.
//! A data set served by an entry reads nothing until a value is needed, and
//! then only the columns the checks use (`Dataset::frame_of`); the reader
//! seeks past the buffers of the others.
//!
//! **Pruning**: every write removes entries whose source file no longer
//! exists, entries unused for 14 days (a hit refreshes the meta's
//! modification time), metric-cache files not updated for 14 days, and
//! temporary files older than an hour.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::io::Write;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::outdir::Durability;

/// The entry format and the meaning of what it holds: 2 since one load plan
/// serves every path (trimmed columns are typed from the first `infer_rows`
/// rows, `columns` applies to every source); 3 since entries are keyed by
/// the load options' stable key ([`LoadOptions::key`](super::LoadOptions::key))
/// rather than their `Debug` text. An entry of another format is rebuilt,
/// never read.
const FORMAT: u32 = 3;
const UNUSED_DAYS: u64 = 14;

pub use crate::config::CacheMode;

/// How the parse cache served a load ([`DataInfo::cache`](super::DataInfo::cache);
/// `None` there when the cache played no part). Reports show its note next
/// to the data's sha256.
///
/// ```
/// use mltest_core::data::{load_with, parse_cache::{CacheMode, CacheUse}};
/// let dir = tempfile::tempdir().unwrap();
/// let csv = dir.path().join("t.csv");
/// std::fs::write(&csv, "a\n1\n").unwrap();
/// let src = mltest_core::DataSource::csv(&csv);
/// let first = load_with(&src, &dir.path().join("cache"), CacheMode::On).unwrap();
/// assert_eq!(first.info().cache, Some(CacheUse::Stored));
/// let again = load_with(&src, &dir.path().join("cache"), CacheMode::On).unwrap();
/// assert!(again.info().cache.as_ref().is_some_and(CacheUse::is_hit));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "use", content = "why", rename_all = "snake_case")]
pub enum CacheUse {
    /// No entry: parsed and stored.
    Stored,
    /// An entry existed but the file changed (or the entry was damaged, or
    /// could not be stored): parsed again; the text says why.
    Rebuilt(String),
    /// Read from the entry, no CSV parsed; the text says why it was trusted.
    Hit(String),
}

impl CacheUse {
    /// The figures rest on columns read from a cache entry.
    pub fn is_hit(&self) -> bool {
        matches!(self, CacheUse::Hit(_))
    }

    /// Reads a record's `cache` field; the free text of records written
    /// before it was typed (`"read from the parse cache, …"`) reads as
    /// `None`: the note is lost, never misread.
    pub(crate) fn deserialize_lenient<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<CacheUse>, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(serde_json::from_value(value).ok())
    }

    /// The note reports print.
    pub fn note(&self) -> String {
        match self {
            CacheUse::Stored => "parsed and stored in the parse cache".into(),
            CacheUse::Rebuilt(why) => format!("parsed again ({why}) and stored"),
            CacheUse::Hit(how) => format!("read from the parse cache, no CSV parsed ({how})"),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Meta {
    format: u32,
    source: String,
    options: String,
    size: u64,
    mtime_ns: u128,
    /// `inode:ctime` on Unix (entries written before it lack it, and are
    /// verified by hash once).
    #[serde(default)]
    change: String,
    sha256: String,
    rows: usize,
    ipc_bytes: u64,
    note: Option<String>,
}

/// The cache directory: `MLTEST_CACHE_DIR`, else `<out dir>/cache/parsed`.
pub fn cache_dir() -> PathBuf {
    crate::config::cache_dir()
        .unwrap_or_else(|| crate::outdir::out_dir().join("cache").join("parsed"))
}

fn stat(path: &Path) -> std::io::Result<(u64, u128, String)> {
    let m = std::fs::metadata(path)?;
    let mtime = m
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok((m.len(), mtime, super::partitions::change_of(&m)))
}

fn key(source: &str, options: &str) -> String {
    let full = crate::hash::sha256_hex(format!("{FORMAT}|{source}|{options}").as_bytes());
    full[..32].to_string()
}

/// The frame of a load: parsed now, or a verified cache entry read on
/// first use.
pub(crate) enum Frame {
    Ready(DataFrame),
    Deferred {
        schema: SchemaRef,
        ipc: PathBuf,
        meta: PathBuf,
        rows: usize,
        ipc_bytes: u64,
    },
}

/// A parsed frame with its provenance, from the cache or freshly parsed.
pub(crate) struct Parsed {
    pub frame: Frame,
    pub sha256: String,
    pub note: Option<String>,
    /// `None` when the cache is off.
    pub cache: Option<CacheUse>,
}

/// Reads a deferred entry's columns (`None`: all of them); on failure the
/// entry's meta is removed so the next load rebuilds it.
pub(crate) fn read_deferred(
    ipc: &Path,
    meta: &Path,
    rows: usize,
    ipc_bytes: u64,
    columns: Option<&[String]>,
) -> Result<DataFrame, String> {
    read_ipc(ipc, rows, ipc_bytes, columns).inspect_err(|_| {
        let _ = std::fs::remove_file(meta);
    })
}

/// Loads `path` through the cache in `dir`. `parse` parses and cleans the
/// file (returning the frame and a note, e.g. about dropped blank records);
/// `hash` computes the file's sha256.
pub(crate) fn load(
    path: &Path,
    options: &super::LoadOptions,
    dir: &Path,
    mode: CacheMode,
    parse: impl FnOnce() -> Result<(DataFrame, Option<String>), super::DataError>,
    hash: impl Fn() -> Result<String, super::DataError> + Sync,
) -> Result<Parsed, super::DataError> {
    let io_err = |source: std::io::Error| super::DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    if mode == CacheMode::Off {
        let (frame, note, sha256) = parse_and_hash(parse, &hash, None)?;
        return Ok(Parsed {
            frame: Frame::Ready(frame),
            sha256,
            note,
            cache: None,
        });
    }
    if !path.exists() {
        return Err(super::DataError::NotFound {
            path: path.to_path_buf(),
            cwd: std::env::current_dir().unwrap_or_default(),
        });
    }
    let source = std::fs::canonicalize(path)
        .map_err(io_err)?
        .display()
        .to_string();
    let (size, mtime_ns, change) = stat(path).map_err(io_err)?;
    let options = options.key();
    let k = key(&source, &options);
    let (meta_path, ipc_path) = (
        dir.join(format!("{k}.json")),
        dir.join(format!("{k}.arrow")),
    );

    let mut known_sha: Option<String> = None;
    let rebuild_reason = match read_meta(&meta_path) {
        None if meta_path.exists() => Some("the cache entry's meta did not parse".to_string()),
        None => None,
        Some(meta) => {
            let (trusted, how) = if mode == CacheMode::On
                && meta.size == size
                && meta.mtime_ns == mtime_ns
                && meta.change == change
            {
                (
                    true,
                    "source unchanged: same size and modification time".to_string(),
                )
            } else {
                let sha = hash()?;
                let same = sha == meta.sha256;
                known_sha = Some(sha);
                let how = if mode == CacheMode::Verify {
                    "source unchanged: sha256 verified"
                } else {
                    "source touched but unchanged: same sha256"
                };
                (same, how.to_string())
            };
            if !trusted {
                Some("the source file changed".to_string())
            } else {
                match check_entry(&ipc_path, &meta) {
                    Ok(schema) => {
                        let mut meta = meta;
                        if (meta.size, meta.mtime_ns, &meta.change) != (size, mtime_ns, &change) {
                            meta.size = size;
                            meta.mtime_ns = mtime_ns;
                            meta.change = change.clone();
                            let _ = write_meta(&meta_path, &meta);
                        } else {
                            // A hit marks the entry as used, for pruning.
                            let _ = std::fs::File::options()
                                .append(true)
                                .open(&meta_path)
                                .and_then(|f| f.set_modified(SystemTime::now()));
                        }
                        return Ok(Parsed {
                            frame: Frame::Deferred {
                                schema,
                                ipc: ipc_path.clone(),
                                meta: meta_path.clone(),
                                rows: meta.rows,
                                ipc_bytes: meta.ipc_bytes,
                            },
                            sha256: meta.sha256.clone(),
                            note: meta.note.clone(),
                            cache: Some(CacheUse::Hit(how)),
                        });
                    }
                    Err(why) => Some(format!("the cache entry was damaged: {why}")),
                }
            }
        }
    };

    let (mut frame, note, sha256) = parse_and_hash(parse, &hash, known_sha)?;
    // A failure to store is not a failure to load: the data is parsed.
    let rows = frame.height();
    let stored = store(
        dir,
        &meta_path,
        &ipc_path,
        &mut frame,
        Meta {
            format: FORMAT,
            source,
            options,
            size,
            mtime_ns,
            change,
            sha256: sha256.clone(),
            rows,
            ipc_bytes: 0,
            note: note.clone(),
        },
    );
    let cache = Some(match (stored, rebuild_reason) {
        (Err(e), _) => CacheUse::Rebuilt(format!("could not store the entry: {e}")),
        (Ok(()), Some(why)) => CacheUse::Rebuilt(why),
        (Ok(()), None) => CacheUse::Stored,
    });
    Ok(Parsed {
        frame: Frame::Ready(frame),
        sha256,
        note,
        cache,
    })
}

/// The cheap check of an entry at load time: its length is the recorded
/// one and its footer parses (this catches truncated and foreign files);
/// returns the schema, so the values can wait until they are needed.
fn check_entry(path: &Path, meta: &Meta) -> Result<SchemaRef, String> {
    let file = open_entry(path, meta.ipc_bytes)?;
    let arrow = IpcReader::new(file).schema().map_err(|e| e.to_string())?;
    Ok(Arc::new(Schema::from_arrow_schema(&arrow)))
}

/// Parses, hashing the file on a second thread meanwhile (hashing is I/O and
/// SHA work the parser does not need), unless the hash is already known.
fn parse_and_hash(
    parse: impl FnOnce() -> Result<(DataFrame, Option<String>), super::DataError>,
    hash: &(impl Fn() -> Result<String, super::DataError> + Sync),
    known: Option<String>,
) -> Result<(DataFrame, Option<String>, String), super::DataError> {
    if let Some(sha) = known {
        let (frame, note) = parse()?;
        return Ok((frame, note, sha));
    }
    let (sha, parsed) = std::thread::scope(|s| {
        let sha = s.spawn(hash);
        let parsed = parse();
        (sha.join(), parsed)
    });
    let (frame, note) = parsed?;
    let sha = sha.map_err(|_| super::DataError::Polars {
        origin: "sha256".into(),
        message: "the hashing thread panicked".into(),
    })??;
    Ok((frame, note, sha))
}

fn read_meta(path: &Path) -> Option<Meta> {
    let bytes = std::fs::read(path).ok()?;
    let meta: Meta = serde_json::from_slice(&bytes).ok()?;
    (meta.format == FORMAT).then_some(meta)
}

/// Opens an entry's IPC file if it has the recorded length (a cut-short
/// file is caught before any read).
fn open_entry(path: &Path, ipc_bytes: u64) -> Result<std::fs::File, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len != ipc_bytes {
        return Err(format!("{len} bytes, the meta says {ipc_bytes}"));
    }
    std::fs::File::open(path).map_err(|e| e.to_string())
}

/// Reads an entry, only `columns` when given: the reader seeks past the
/// buffers of the others, so a check on one column reads that column.
fn read_ipc(
    path: &Path,
    rows: usize,
    ipc_bytes: u64,
    columns: Option<&[String]>,
) -> Result<DataFrame, String> {
    let file = open_entry(path, ipc_bytes)?;
    let frame = IpcReader::new(file)
        .with_columns(columns.map(<[String]>::to_vec))
        .finish()
        .map_err(|e| e.to_string())?;
    if frame.height() != rows {
        return Err(format!("{} rows, the meta says {rows}", frame.height()));
    }
    Ok(frame)
}

fn write_meta(path: &Path, meta: &Meta) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
    crate::outdir::write_atomic_with(path, Durability::Rebuildable, |f| f.write_all(&json))
}

fn store(
    dir: &Path,
    meta_path: &Path,
    ipc_path: &Path,
    frame: &mut DataFrame,
    mut meta: Meta,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    prune(dir);
    // No fsync: an entry is rebuildable, and one cut short by a crash fails
    // the length or row check and is rebuilt; syncing 400 MB would double
    // the cost of a cold run.
    meta.ipc_bytes = crate::outdir::write_atomic_with(ipc_path, Durability::Rebuildable, |file| {
        IpcWriter::new(&mut *file)
            .finish(frame)
            .map_err(std::io::Error::other)?;
        Ok(file.metadata()?.len())
    })?;
    // The IPC file first, the meta last: a reader that finds the meta
    // finds the data it describes (another process may be replacing the
    // same entry; both write the same content).
    write_meta(meta_path, &meta)
}

/// The pruning rule in the module doc.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let age = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default()
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(crate::outdir::TEMP_PREFIX) {
            if age(&p) > Duration::from_secs(3600) {
                let _ = std::fs::remove_file(&p);
            }
            continue;
        }
        if p.extension().is_some_and(|x| x == "metrics") {
            if age(&p) > Duration::from_secs(UNUSED_DAYS * 86_400) {
                let _ = std::fs::remove_file(&p);
            }
            continue;
        }
        if p.extension().is_some_and(|x| x == "json") {
            let gone = read_meta(&p).is_none_or(|m| !Path::new(&m.source).exists());
            if gone || age(&p) > Duration::from_secs(UNUSED_DAYS * 86_400) {
                let _ = std::fs::remove_file(p.with_extension("arrow"));
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CacheUse;
    use crate::data::DataInfo;

    fn info(cache: &str) -> String {
        format!(
            r#"{{"name": "t", "origin": "t.csv", "sha256": "00", "rows": 1, "note": null,
                "load_seconds": 0.1{cache}}}"#
        )
    }

    #[test]
    fn a_cache_use_round_trips_and_an_old_free_text_note_reads_as_none() {
        let hit = CacheUse::Hit("source unchanged".into());
        let json = serde_json::to_string(&hit).unwrap();
        assert_eq!(json, r#"{"use":"hit","why":"source unchanged"}"#);
        let typed: DataInfo =
            serde_json::from_str(&info(&format!(r#", "cache": {json}"#))).unwrap();
        assert_eq!(typed.cache, Some(hit));
        let old: DataInfo = serde_json::from_str(&info(
            r#", "cache": "read from the parse cache, no CSV parsed""#,
        ))
        .unwrap();
        assert_eq!(old.cache, None);
        let absent: DataInfo = serde_json::from_str(&info("")).unwrap();
        assert_eq!(absent.cache, None);
    }
}
