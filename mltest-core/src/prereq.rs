//! What a test needs that a machine may lack: a system tool (`xmllint`,
//! `chromium`), a file that comes with `../shared` (the real data, the JUnit
//! schema), a Python module.
//!
//! A user who clones the repository with only cargo must get a green
//! `cargo test`; CI, which installs everything, must run everything. So a
//! missing prerequisite prints one line naming it and how to get it, and the
//! test returns early, unless `CI` is set (as GitHub Actions, GitLab and
//! `.ci/run` set it), where it panics with the same line.
//!
//! ```
//! // A file that exists is returned as is.
//! let here = mltest_core::prereq::file("Cargo.toml", "it is the manifest");
//! assert!(here.is_some());
//! ```

use std::path::{Path, PathBuf};

/// True when the `CI` environment variable is set to anything but `false`
/// or `0`: prerequisites must then be present.
///
/// ```
/// let _strict: bool = mltest_core::prereq::in_ci();
/// ```
pub fn in_ci() -> bool {
    crate::config::in_ci()
}

/// Reports a missing prerequisite: under CI a panic with `what` and `how`,
/// otherwise one `skipped:` line on stderr (past libtest's capture) and
/// `None`, so `let Some(x) = ... else { return };` skips the test.
///
/// ```
/// // Outside CI this prints "mltest: skipped: ..." and returns None.
/// if !mltest_core::prereq::in_ci() {
///     let none: Option<()> = mltest_core::prereq::missing("frobnicator", "apt-get install frob");
///     assert!(none.is_none());
/// }
/// ```
pub fn missing<T>(what: &str, how: &str) -> Option<T> {
    let line = format!("{what} is missing ({how})");
    if in_ci() {
        panic!("{line}; CI is set, so this test must run");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "mltest: skipped: {line}; set CI=1 to make this a failure"
    );
    None
}

/// `path` if it exists (relative paths are taken from the working
/// directory, which is the package root under cargo), else [`missing`].
///
/// ```
/// assert!(mltest_core::prereq::file("Cargo.toml", "the manifest").is_some());
/// ```
pub fn file(path: impl AsRef<Path>, how: &str) -> Option<PathBuf> {
    let path = path.as_ref();
    if path.exists() {
        return Some(path.to_path_buf());
    }
    missing(&format!("{}", path.display()), how)
}

/// A file of `../shared` (the real data sets, the JUnit schema), found
/// beside the workspace root: its path, or [`missing`] naming it.
///
/// ```
/// // `relative` is below shared/, e.g. "schemas/junit-10.xsd".
/// let _schema = mltest_core::prereq::shared_file_path("schemas/junit-10.xsd");
/// ```
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    match shared_file_path(relative) {
        Some(p) if p.exists() => Some(p),
        _ => missing(
            &format!("../shared/{relative}"),
            "it comes with the shared/ folder laid beside the clone",
        ),
    }
}

/// Where a file of `../shared` would be: beside the workspace root (the
/// nearest ancestor of the working directory holding `Cargo.lock`).
pub fn shared_file_path(relative: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let root = cwd
        .ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .unwrap_or(&cwd);
    Some(root.join("..").join("shared").join(relative))
}

/// The path of an executable on `PATH`, else [`missing`] with `how`.
///
/// ```
/// // `sh` is on every machine that runs cargo's build scripts.
/// assert!(mltest_core::prereq::tool("sh", "it is POSIX").is_some());
/// ```
pub fn tool(name: &str, how: &str) -> Option<PathBuf> {
    match which(name) {
        Some(p) => Some(p),
        None => missing(&format!("`{name}`"), how),
    }
}

/// The path of an executable on `PATH`, without reporting anything.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A Python interpreter that imports every module of `modules`: the CI
/// venv (`~/.cache/mltest-ci-venv`, which `.ci/run` fills) first, then
/// `python3` on `PATH`; else [`missing`] naming the modules.
///
/// ```no_run
/// let Some(python) = mltest_core::prereq::python_with(&["junitparser"]) else { return };
/// ```
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cache/mltest-ci-venv/bin/python"));
    }
    if let Some(p) = which("python3") {
        candidates.push(p);
    }
    let script = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    for python in candidates {
        let ok = std::process::Command::new(&python)
            .args(["-c", &script])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(python);
        }
    }
    missing(
        &format!("a Python with {}", modules.join(", ")),
        &format!("pip install {}; .ci/run installs it", modules.join(" ")),
    )
}

/// The real reviews file ([`crate::data::reviews`]'s path contract), for
/// tests that assert figures of the real data; else [`missing`].
pub fn real_reviews() -> Option<PathBuf> {
    match crate::data::reviews::locate() {
        Some(p) => Some(p),
        None => missing(
            "the real reviews file (../shared/data/womens_clothing_reviews.csv)",
            "lay shared/ beside the clone or set MLTEST_REVIEWS_CSV",
        ),
    }
}
