//! What libtest makes of a check's test, so JUnit counts what cargo counts.
//!
//! A check's verdicts are not its test's outcome: a `#[should_panic]` test
//! whose check fails as expected *passes* under cargo, one whose checks all
//! pass fails ("did not panic"), and an `#[ignore]`d test runs no check at
//! all but is counted as ignored. The attributes keep `#[ignore]` and
//! `#[should_panic]` on the generated test and describe them here
//! ([`TestAttrs`]); the runner records the outcome libtest will report
//! ([`Outcome`]), and JUnit writes one testcase per test from it.

use serde::{Deserialize, Serialize};

/// The libtest attributes a check's test carries, as the macros saw them.
///
/// ```
/// use mltest_core::libtest::{Outcome, TestAttrs};
/// let plain = TestAttrs::default();
/// assert_eq!(plain.outcome(true, "boom"), Outcome::Failed);
/// let expects = TestAttrs { should_panic: Some(Some("observed: 0.25")), ..TestAttrs::default() };
/// assert_eq!(expects.outcome(true, "... observed: 0.25 ..."), Outcome::Passed);
/// assert_eq!(expects.outcome(true, "another message"), Outcome::Failed);
/// assert_eq!(expects.outcome(false, ""), Outcome::Failed);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestAttrs {
    /// `#[ignore]` (with or without a reason).
    pub ignored: bool,
    /// `#[should_panic]`: `Some(None)`, or `Some(Some(expected))` with
    /// `expected = "..."`, which the panic message must contain.
    pub should_panic: Option<Option<&'static str>>,
}

impl TestAttrs {
    /// What libtest reports for a test that `panicked` with `message`.
    pub fn outcome(&self, panicked: bool, message: &str) -> Outcome {
        match (self.should_panic, panicked) {
            (None, false) => Outcome::Passed,
            (None, true) => Outcome::Failed,
            (Some(_), false) => Outcome::Failed,
            (Some(None), true) => Outcome::Passed,
            (Some(Some(expected)), true) if message.contains(expected) => Outcome::Passed,
            (Some(Some(_)), true) => Outcome::Failed,
        }
    }
}

/// A test's outcome as libtest reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
}

/// How a test's outcome was reached, for the record (`expected_panic`
/// says the pass is a `#[should_panic]` test that failed as it should).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub outcome: Outcome,
    /// The test carries `#[should_panic]`.
    #[serde(default)]
    pub should_panic: bool,
}

/// An `#[ignore]`d check test that this run would have listed: JUnit shows
/// it as skipped, as cargo counts it as ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// `module::name` below the crate, as libtest names it.
    pub test: String,
    pub reason: String,
}

/// The test filter of this process, read from its arguments as libtest
/// reads them (`FILTER...`, `--exact`, `--skip`, `--ignored`,
/// `--include-ignored`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub filters: Vec<String>,
    pub skip: Vec<String>,
    pub exact: bool,
    /// `--ignored` or `--include-ignored`: ignored tests run (and record).
    pub run_ignored: bool,
}

impl Filter {
    /// Parses libtest's arguments (without the program name).
    ///
    /// ```
    /// use mltest_core::libtest::Filter;
    /// let f = Filter::parse(["age", "--exact", "--test-threads", "2", "--skip", "slow"]);
    /// assert_eq!(f.filters, vec!["age"]);
    /// assert!(f.exact && !f.run_ignored);
    /// assert!(f.selects("age") && !f.selects("age_range") && !f.selects("slow"));
    /// ```
    pub fn parse<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> Filter {
        // libtest's options that take a value (the value is not a filter).
        const VALUED: &[&str] = &[
            "--test-threads",
            "--format",
            "--color",
            "--logfile",
            "--shuffle-seed",
            "-Z",
        ];
        let mut f = Filter::default();
        let mut args = args.into_iter().map(|a| a.as_ref().to_string());
        while let Some(a) = args.next() {
            match a.as_str() {
                "--exact" => f.exact = true,
                "--ignored" | "--include-ignored" => f.run_ignored = true,
                "--skip" => f.skip.extend(args.next()),
                v if VALUED.contains(&v) => {
                    args.next();
                }
                v if v.starts_with("--skip=") => f.skip.push(v["--skip=".len()..].to_string()),
                v if v.starts_with('-') => {}
                v => f.filters.push(v.to_string()),
            }
        }
        f
    }

    /// The filter of this process's command line.
    pub fn of_process() -> Filter {
        Filter::parse(std::env::args().skip(1))
    }

    /// Whether the filter selects the test named `test` (libtest's rule:
    /// any filter as a substring, or equal under `--exact`; no filter
    /// selects everything; a `--skip` substring excludes).
    pub fn selects(&self, test: &str) -> bool {
        let hit = |p: &String| {
            if self.exact {
                test == p
            } else {
                test.contains(p.as_str())
            }
        };
        let selected = self.filters.is_empty() || self.filters.iter().any(hit);
        // libtest applies `--exact` to `--skip` too.
        selected && !self.skip.iter().any(hit)
    }
}

/// An `#[ignore]`d check test, as the attribute macros register it (a
/// test that never runs writes no record, so JUnit learns of it here).
#[derive(Debug)]
pub struct IgnoredTest {
    pub name: &'static str,
    pub module_path: &'static str,
    /// The `#[ignore = ".."]` reason, or empty.
    pub reason: &'static str,
}

/// Every `#[ignore]`d check test linked into this binary.
#[linkme::distributed_slice]
pub static IGNORED_TESTS: [IgnoredTest];

/// The `#[ignore]`d check tests of this binary that its run counts as
/// ignored: those the process's filter selects under cargo. nextest runs a
/// process per test with `--exact NAME` and counts every ignored test as
/// skipped, so under nextest (`NEXTEST_RUN_ID` set) every ignored test of
/// the binary is listed.
pub fn ignored_in_this_run() -> Vec<Skipped> {
    let nextest = crate::config::under_nextest();
    let filter = Filter::of_process();
    if filter.run_ignored {
        return Vec::new();
    }
    let mut v: Vec<Skipped> = IGNORED_TESTS
        .iter()
        .map(|t| Skipped {
            test: crate::clock::libtest_id(t.module_path, t.name),
            reason: if t.reason.is_empty() {
                "#[ignore]".to_string()
            } else {
                format!("#[ignore]: {}", t.reason)
            },
        })
        .filter(|s| nextest || filter.selects(&s.test))
        .collect();
    v.sort_by(|a, b| a.test.cmp(&b.test));
    v
}
