//! The commit a run is recorded under, without running `git`: nextest
//! starts a process per test, and git may not be installed at all.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `MLTEST_GIT_COMMIT`, else `GITHUB_SHA`, else the HEAD of the checkout
/// holding the working directory; read once per process.
pub(super) fn commit() -> Option<String> {
    static COMMIT: OnceLock<Option<String>> = OnceLock::new();
    COMMIT
        .get_or_init(|| {
            crate::config::git_commit().or_else(|| {
                let cwd = std::env::current_dir().ok()?;
                head_of(&cwd)
            })
        })
        .clone()
}

/// The commit HEAD names in the checkout holding `dir`: a detached HEAD's
/// hash, or the branch's from its ref file or `packed-refs`.
pub(super) fn head_of(dir: &Path) -> Option<String> {
    let git = git_dir(dir)?;
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref: ") else {
        return is_hash(head).then(|| head.to_string());
    };
    // A worktree keeps its HEAD but shares refs with the main checkout.
    let common = std::fs::read_to_string(git.join("commondir"))
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|_| git.clone());
    for root in [&git, &common] {
        if let Ok(hash) = std::fs::read_to_string(root.join(name)) {
            let hash = hash.trim();
            if is_hash(hash) {
                return Some(hash.to_string());
            }
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (hash, r) = line.split_once(' ')?;
        (r == name && is_hash(hash)).then(|| hash.to_string())
    })
}

/// The `.git` directory of the checkout holding `dir` (`.git` may be a file
/// pointing elsewhere, as in a worktree or submodule).
fn git_dir(dir: &Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let dot = d.join(".git");
        if dot.is_dir() {
            return Some(dot);
        }
        if let Ok(text) = std::fs::read_to_string(&dot)
            && let Some(target) = text.trim().strip_prefix("gitdir: ")
        {
            return Some(d.join(target));
        }
    }
    None
}

/// 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_hash(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}
