//! Where mltest writes: records, JUnit, reports, and the run identity.
//!
//! The default is `<cargo target dir>/mltest`. The target dir is found from
//! the running executable (`<target>/<profile>/deps/<test>-<hash>`,
//! `<target>/<profile>/examples/<name>`, `<target>/<profile>/<bin>`), so it
//! is right whether or not `CARGO_TARGET_DIR` is set; `MLTEST_OUT` overrides.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable that overrides the output directory.
pub const ENV_OUT: &str = "MLTEST_OUT";

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
    if let Some(p) = std::env::var_os(ENV_OUT) {
        return PathBuf::from(p);
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
        std::env::var("NEXTEST_RUN_ID")
            .or_else(|_| std::env::var("MLTEST_RUN_ID"))
            .unwrap_or_else(|_| {
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

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, synced, then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(
        format!(
            ".{}.{}.{:?}.tmp",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id(),
            std::thread::current().id()
        )
        .replace(['(', ')'], ""),
    );
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
