//! Where a check is declared and how its test is named and rerun: what
//! every kind's descriptor shares.

use crate::expect::Severity;
use crate::libtest::{TestAttrs, TestResult};
use crate::outdir;
use crate::record::{Details, Record, Verdict};

/// The declaration of a check's test, as the attribute macros write it into
/// a `static` descriptor: every field is `&'static` or `Copy`.
///
/// ```
/// use mltest_core::check::Site;
/// use mltest_core::expect::Severity;
/// let site = Site {
///     name: "age_is_present",
///     module_path: "data_quality::ages",
///     file: "tests/data_quality.rs",
///     line: 12,
///     reason: "the form requires an age",
///     severity: Severity::Fail,
///     attrs: Default::default(),
/// };
/// assert_eq!(site.test_id(), "ages::age_is_present");
/// assert_eq!(
///     site.rerun(),
///     "cargo test --release --test data_quality -- ages::age_is_present --exact"
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Site {
    /// The function's name.
    pub name: &'static str,
    /// `module_path!()` where the function is declared.
    pub module_path: &'static str,
    /// `file!()` and `line!()` of the declaration.
    pub file: &'static str,
    pub line: u32,
    /// The declaration's `reason`, verbatim.
    pub reason: &'static str,
    /// Whether a failed check fails the test (`Fail`) or only warns.
    pub severity: Severity,
    /// `#[ignore]` / `#[should_panic]` as the macro saw them.
    pub attrs: TestAttrs,
}

impl Site {
    /// The name libtest gives the test: its module path below the crate,
    /// then the function.
    pub fn test_id(&self) -> String {
        crate::clock::libtest_id(self.module_path, self.name)
    }

    /// The command that reruns this test alone, in the test target that
    /// declares it (see [`rerun_at`]).
    pub fn rerun(&self) -> String {
        rerun_at(self.file, self.module_path, self.name)
    }

    /// The verdict of a check of this test: `None` when it could not be
    /// decided, else whether it passed; a failure of a `warn` check warns.
    pub fn verdict(&self, passed: Option<bool>) -> Verdict {
        match (passed, self.severity) {
            (None, _) => Verdict::Error,
            (Some(true), _) => Verdict::Pass,
            (Some(false), Severity::Warn) => Verdict::Warn,
            (Some(false), Severity::Fail) => Verdict::Fail,
        }
    }

    /// What libtest will report for this test when it `panics` with
    /// `message` (a `#[should_panic]` test that panics passes).
    pub fn libtest(&self, panics: bool, message: &str) -> TestResult {
        TestResult {
            outcome: self.attrs.outcome(panics, message),
            should_panic: self.attrs.should_panic.is_some(),
        }
    }

    /// A record of this test's check named `check`: the run's identity,
    /// the test, the declaration's place and reason, and `details`.
    pub fn record(&self, check: String, details: Details) -> Record {
        Record {
            file: self.file.to_string(),
            line: self.line,
            ..Record::new(&self.test_id(), check, self.reason, details)
        }
    }
}

/// How a report tells the reader to rerun one test of the running binary
/// (A/B tests, which are plain `#[test]`s).
pub fn rerun_command(test_id: &str) -> String {
    let binary = outdir::binary_name();
    format!("cargo test --release --test {binary} -- {test_id} --exact")
}

/// How a report tells the reader to rerun the test declared at `file` (as
/// `file!()` gives it) in `module_path` (as `module_path!()` gives it).
///
/// The target is the file's, not the running binary's: the main job includes
/// `tests/data_quality.rs` as a module, where `module_path!()` reads
/// `pipeline::data_quality` and there is no `--test pipeline`; the command
/// names `--test data_quality` and the test's name in that binary.
///
/// ```
/// use mltest_core::check::rerun_at;
/// assert_eq!(
///     rerun_at("tests/data_quality.rs", "data_quality", "age_is_present"),
///     "cargo test --release --test data_quality -- age_is_present --exact"
/// );
/// // The same check, run by the main job that includes the file as a module.
/// assert_eq!(
///     rerun_at("tests/data_quality.rs", "pipeline::data_quality", "age_is_present"),
///     "cargo test --release --test data_quality -- age_is_present --exact"
/// );
/// assert_eq!(
///     rerun_at("tests/suite/main.rs", "suite::inner", "x"),
///     "cargo test --release --test suite -- inner::x --exact"
/// );
/// assert_eq!(
///     rerun_at("src/checks.rs", "my_crate::checks", "x"),
///     "cargo test --release --lib -- checks::x --exact"
/// );
/// assert_eq!(
///     rerun_at("src/main.rs", "tool", "x"),
///     "cargo test --release --bin tool -- x --exact"
/// );
/// assert_eq!(
///     rerun_at("src/bin/tool/main.rs", "tool::checks", "x"),
///     "cargo test --release --bin tool -- checks::x --exact"
/// );
/// ```
pub fn rerun_at(file: &str, module_path: &str, name: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let stem = |f: &str| f.strip_suffix(".rs").unwrap_or(f).to_string();
    // The last `tests`/`src`/`examples` folder decides the target kind.
    let root = parts
        .iter()
        .rposition(|p| matches!(*p, "tests" | "src" | "examples"));
    let modules: Vec<&str> = module_path.split("::").collect();
    let target = root.and_then(|i| {
        let rest = &parts[i + 1..];
        Some(match (parts[i], rest) {
            ("tests" | "examples", [file]) => (parts[i], stem(file)),
            ("tests" | "examples", [dir, "main.rs"]) => (parts[i], dir.to_string()),
            ("src", ["bin", file]) => ("bin", stem(file)),
            ("src", ["bin", dir, "main.rs"]) => ("bin", dir.to_string()),
            // `src/main.rs`: the binary is named after the crate.
            ("src", ["main.rs"]) => ("bin", modules[0].to_string()),
            ("src", _) => ("lib", String::new()),
            _ => return None,
        })
        .map(|(kind, name)| match kind {
            "tests" => (format!("--test {name}"), name),
            "examples" => (format!("--example {name}"), name),
            "bin" => (format!("--bin {name}"), name),
            _ => ("--lib".to_string(), name),
        })
    });
    let (selector, below) = match target {
        Some((selector, target_name)) => {
            // Below the target's root: after the crate name, or, when the file
            // is included as a module elsewhere, after that module.
            let below: Vec<&str> = if modules.first() == Some(&target_name.as_str()) {
                modules[1..].to_vec()
            } else if let Some(at) = modules
                .iter()
                .skip(1)
                .position(|m| !target_name.is_empty() && *m == target_name)
            {
                modules[at + 2..].to_vec()
            } else {
                modules[1.min(modules.len())..].to_vec()
            };
            (selector, below)
        }
        None => (
            format!("--test {}", outdir::binary_name()),
            modules[1.min(modules.len())..].to_vec(),
        ),
    };
    let id = below
        .iter()
        .copied()
        .chain(std::iter::once(name))
        .collect::<Vec<_>>()
        .join("::");
    format!("cargo test --release {selector} -- {id} --exact")
}
