//! Where mltest writes: records, JUnit, reports, and the run identity.
//!
//! The default is `<cargo target dir>/mltest`. The target dir is found from
//! the running executable (`<target>/<profile>/deps/<test>-<hash>`,
//! `<target>/<profile>/examples/<name>`, `<target>/<profile>/<bin>`), so it
//! is right whether or not `CARGO_TARGET_DIR` is set; `MLTEST_OUT` overrides.
//!
//! Every file mltest replaces goes through one atomic write
//! ([`write_atomic`], [`write_atomic_with`]): a temporary file beside the
//! target, renamed over it, so a reader sees the old file or the new one.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The cargo target directory this executable was built into, if it looks like one.
pub fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?;
    if matches!(
        dir.file_name().and_then(|n| n.to_str()),
        Some("deps" | "examples")
    ) {
        dir = dir.parent()?;
    }
    // Every cargo profile directory holds `.fingerprint`; a binary copied
    // elsewhere does not sit in one.
    let target = dir.parent()?;
    dir.join(".fingerprint")
        .exists()
        .then(|| target.to_path_buf())
}

/// `MLTEST_OUT`, else `<target dir>/mltest`, else `target/mltest`.
pub fn out_dir() -> PathBuf {
    if let Some(p) = crate::config::out_dir() {
        return p;
    }
    target_dir()
        .map(|t| t.join("mltest"))
        .unwrap_or_else(|| Path::new("target").join("mltest"))
}

/// The test binary's (or example's) name without cargo's `-<hash>` suffix.
pub fn binary_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_ref()
        .and_then(|e| e.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unknown".into());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    }
}

/// The run this process belongs to: nextest's `NEXTEST_RUN_ID` (shared by
/// all the processes of one `cargo nextest run`), `MLTEST_RUN_ID` if set,
/// else one id for this process. Records carry it so a stale record of a
/// renamed or deleted test never reaches this run's JUnit.
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        crate::config::run_id().unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            format!("{}-{}", t.as_millis(), std::process::id())
        })
    })
}

/// Keeps `[A-Za-z0-9._-]`, maps everything else to `_`: a file name.
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in
/// the same directory (created if missing), synced, then renamed over the
/// target.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("sub").join("run.json");
/// mltest_core::outdir::write_atomic(&path, b"{}").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// // Nothing is left beside it.
/// assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, Durability::Synced, |f| {
        std::io::Write::write_all(f, bytes)
    })
}

/// Whether an atomic write syncs the file before the rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Synced: after a crash the file is the old one or the whole new one
    /// (records, JUnit, the model store, profiles).
    Synced,
    /// Not synced: for rebuildable cache entries, whose readers check what
    /// they read (syncing a 400 MB parse-cache entry would double a cold run).
    Rebuildable,
}

/// The temporary files of [`write_atomic_with`] start with this (cache
/// pruning removes stale ones) and end in `.tmp` (so a reader of `*.json`
/// never takes one for a record).
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Writes `path` atomically through `fill`, which writes the content into
/// the temporary file; on failure the temporary file is removed and the
/// target is untouched.
pub fn write_atomic_with<R>(
    path: &Path,
    durability: Durability,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<R>,
) -> std::io::Result<R> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        "{TEMP_PREFIX}{}-{n}-{name}.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        let r = fill(&mut f)?;
        if durability == Durability::Synced {
            f.sync_all()?;
        }
        drop(f);
        std::fs::rename(&tmp, path)?;
        Ok(r)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
