//! Failing seeds kept beside the test file, replayed on every run (as
//! proptest's regression files are).

use std::path::PathBuf;

/// Where a test file's failing seeds are kept: `tests/robustness.rs` →
/// `tests/robustness.mltest-regressions` (commit it, as proptest's
/// regression files are committed).
///
/// ```
/// let p = mltest_core::check::regressions_path("tests/robustness.rs");
/// assert!(p.ends_with("tests/robustness.mltest-regressions"));
/// ```
pub fn regressions_path(file: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    base.join(file).with_extension("mltest-regressions")
}

/// Seeds persisted for a test.
pub fn persisted_seeds(file: &str, test_id: &str) -> Vec<u64> {
    std::fs::read_to_string(regressions_path(file))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(t, _)| *t == test_id)
        .filter_map(|(_, s)| s.trim().parse().ok())
        .collect()
}

/// Appends `seed` to the test's persisted seeds, once.
pub(super) fn persist_seed(file: &str, test_id: &str, seed: u64) {
    use std::io::Write;
    if persisted_seeds(file, test_id).contains(&seed) {
        return;
    }
    let path = regressions_path(file);
    let new = !path.exists();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        if new {
            let _ = writeln!(
                f,
                "# Seeds with which a #[robustness] test failed; each is replayed on every run.\n# Commit this file. Format: TEST SEED"
            );
        }
        let _ = writeln!(f, "{test_id} {seed}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_seeds_are_persisted_once_per_test_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("robustness.rs");
        let file = file.to_str().unwrap();
        persist_seed(file, "typos", 42);
        persist_seed(file, "typos", 42);
        persist_seed(file, "typos", 7);
        persist_seed(file, "age", 42);
        assert_eq!(persisted_seeds(file, "typos"), vec![42, 7]);
        assert_eq!(persisted_seeds(file, "age"), vec![42]);
        let text = std::fs::read_to_string(regressions_path(file)).unwrap();
        assert!(text.starts_with("# Seeds with which a #[robustness] test failed"));
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 3);
    }
}
