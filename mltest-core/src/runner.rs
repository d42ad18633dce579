//! What a generated `#[data_expectation]` test calls: load the data (once
//! per process), build the expectations, evaluate them in one pass, write
//! records and JUnit, and panic with a readable report on failure.
//!
//! The descriptors of all `#[data_expectation]` functions linked into a
//! binary are gathered in [`DATA_CHECKS`], so the pipeline can run the very
//! checks the test binary runs, grouped into one pass per data set.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crate::data::{DataInfo, DataSource, Dataset, load_cached};
use crate::expect::EvalOptions;
use crate::expect::{CheckError, CheckOutcome, Expectation, Severity, Status, render_failure};
use crate::outdir;
use crate::record::{Record, Verdict};

/// A `#[data_expectation]` function as the macro registers it.
#[derive(Debug)]
pub struct DataCheck {
    pub name: &'static str,
    pub module_path: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub reason: &'static str,
    pub severity: Severity,
    pub examples: usize,
    pub data: fn() -> DataSource,
    pub body: fn(&Dataset) -> Vec<Expectation>,
    /// `#[ignore]` / `#[should_panic]` as the macro saw them.
    pub attrs: crate::libtest::TestAttrs,
}

impl DataCheck {
    /// The name libtest gives the test: its module path below the crate, then the function.
    pub fn test_id(&self) -> String {
        crate::clock::libtest_id(self.module_path, self.name)
    }

    /// The command that reruns this test alone, in the test target that
    /// declares it (see [`rerun_at`]).
    pub fn rerun(&self) -> String {
        rerun_at(self.file, self.module_path, self.name)
    }
}

/// Every `#[data_expectation]` linked into this binary.
#[linkme::distributed_slice]
pub static DATA_CHECKS: [DataCheck];

/// The registered checks, sorted by test id (link order is not stable).
pub fn registered_data_checks() -> Vec<&'static DataCheck> {
    let mut v: Vec<&'static DataCheck> = DATA_CHECKS.iter().collect();
    v.sort_by_key(|c| c.test_id());
    v
}

/// The result of one `#[data_expectation]` test.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub check_name: String,
    pub test_id: String,
    pub reason: String,
    pub severity: Severity,
    pub data: Option<DataInfo>,
    pub outcomes: Vec<CheckOutcome>,
    pub seconds: f64,
    /// The command that reruns the test alone ([`DataCheck::rerun`]).
    pub rerun: String,
    /// The test's `#[ignore]` / `#[should_panic]`.
    pub attrs: crate::libtest::TestAttrs,
}

impl CheckRun {
    /// True when a check failed or errored.
    pub fn has_failures(&self) -> bool {
        self.outcomes.iter().any(|o| o.status != Status::Pass)
    }

    /// True when the test fails (a failing `warn` check does not fail it).
    pub fn fails_test(&self) -> bool {
        self.outcomes.iter().any(|o| {
            o.status == Status::Error
                || (o.status == Status::Fail && self.severity == Severity::Fail)
        })
    }

    /// The report: header, reason, each failing check, how to rerun.
    pub fn report(&self) -> String {
        let failing: Vec<&CheckOutcome> = self
            .outcomes
            .iter()
            .filter(|o| o.status != Status::Pass)
            .collect();
        let word = if self.severity == Severity::Warn && !self.fails_test() {
            "warned"
        } else {
            "failed"
        };
        let mut s = if self.outcomes.len() > 1 {
            format!(
                "data expectation `{}` {word}: {} of {} checks\n",
                self.check_name,
                failing.len(),
                self.outcomes.len()
            )
        } else {
            format!("data expectation `{}` {word}\n", self.check_name)
        };
        s.push_str(&format!("  reason:   {}\n", self.reason));
        for (i, o) in failing.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(&render_failure(o, None));
        }
        s.push_str(&data_lines(self.data.as_ref()));
        s.push_str(&format!("  rerun:    {}\n", self.rerun));
        s
    }

    /// One record per check.
    pub fn records(&self, file: &str, line: u32) -> Vec<Record> {
        let now = crate::clock::unix_now();
        // run_data_check panics with the report when the test fails.
        let panicked = self.fails_test();
        let libtest = crate::libtest::TestResult {
            outcome: self.attrs.outcome(
                panicked,
                &if panicked {
                    self.report()
                } else {
                    String::new()
                },
            ),
            should_panic: self.attrs.should_panic.is_some(),
        };
        let per_check = self.seconds / self.outcomes.len().max(1) as f64;
        self.outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let verdict = match (o.status, self.severity) {
                    (Status::Pass, _) => Verdict::Pass,
                    (Status::Error, _) => Verdict::Error,
                    (Status::Fail, Severity::Warn) => Verdict::Warn,
                    (Status::Fail, Severity::Fail) => Verdict::Fail,
                };
                let report = if o.status == Status::Pass {
                    format!(
                        "{}: observed {} (expected {}){}\n",
                        o.expectation.describe(),
                        o.observed.map_or("none".into(), crate::text::fig),
                        o.expectation.bound.describe(),
                        o.estimate
                            .as_ref()
                            .map(|e| format!("\n  estimate: {}", e.describe()))
                            .unwrap_or_default()
                    )
                } else {
                    format!(
                        "data expectation `{}` {}\n  reason:   {}\n{}  rerun:    {}\n",
                        self.check_name,
                        if verdict == Verdict::Warn {
                            "warned"
                        } else {
                            "failed"
                        },
                        self.reason,
                        render_failure(o, self.data.as_ref()),
                        self.rerun
                    )
                };
                Record {
                    run_id: outdir::run_id().to_string(),
                    binary: outdir::binary_name(),
                    test: self.test_id.clone(),
                    check_index: i,
                    check: o.expectation.short_name(),
                    kind: "data_expectation".into(),
                    reason: self.reason.clone(),
                    verdict,
                    metric: o.expectation.metric.kind().into(),
                    description: o.expectation.describe(),
                    observed: o.observed,
                    threshold: o.expectation.bound.describe(),
                    data: self.data.clone(),
                    seed: None,
                    model: None,
                    duration_s: per_check,
                    timestamp: now,
                    file: file.to_string(),
                    line,
                    report,
                    outcome: Some(o.clone()),
                    libtest: Some(libtest.clone()),
                    details: None,
                }
            })
            .collect()
    }
}

fn data_lines(data: Option<&DataInfo>) -> String {
    let Some(d) = data else { return String::new() };
    let mut s = format!("  data:     {}\n", d.short());
    if let Some(note) = &d.note {
        s.push_str(&format!("  note:     {note}\n"));
    }
    s
}

/// How a report tells the reader to rerun one test of the running binary
/// (A/B tests, which are plain `#[test]`s).
pub(crate) fn rerun_command(test_id: &str) -> String {
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
/// use mltest_core::runner::rerun_at;
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

pub(crate) fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// A run that could not get as far as evaluating: one errored outcome.
fn errored_run(
    check: &DataCheck,
    data: Option<DataInfo>,
    error: CheckError,
    start: Instant,
) -> CheckRun {
    let placeholder = Expectation {
        metric: crate::expect::Metric::RowCount,
        bound: crate::expect::Bound::AtLeast { min: 1.0 },
        segment: crate::expect::Segment::All,
        label: Some(check.name.to_string()),
    };
    CheckRun {
        check_name: check.name.into(),
        test_id: check.test_id(),
        reason: check.reason.into(),
        severity: check.severity,
        data,
        outcomes: vec![CheckOutcome::errored(placeholder, error)],
        seconds: start.elapsed().as_secs_f64(),
        rerun: check.rerun(),
        attrs: check.attrs,
    }
}

/// Calls the check's data fixture; a panic becomes an errored run.
fn fixture(check: &DataCheck, start: Instant) -> Result<DataSource, Box<CheckRun>> {
    catch_unwind(check.data).map_err(|p| {
        Box::new(errored_run(
            check,
            None,
            CheckError::Panicked(format!("data fixture: {}", panic_text(p))),
            start,
        ))
    })
}

/// Loads the check's data set; an error becomes an errored run.
fn load(
    check: &DataCheck,
    source: &DataSource,
    start: Instant,
) -> Result<Arc<Dataset>, Box<CheckRun>> {
    load_cached(source).map_err(|e| {
        Box::new(errored_run(
            check,
            None,
            CheckError::Data(e.to_string()),
            start,
        ))
    })
}

fn expectations(
    check: &DataCheck,
    data: &Dataset,
    start: Instant,
) -> Result<Vec<Expectation>, Box<CheckRun>> {
    catch_unwind(AssertUnwindSafe(|| (check.body)(data))).map_err(|p| {
        Box::new(errored_run(
            check,
            Some(data.info().clone()),
            CheckError::Panicked(panic_text(p)),
            start,
        ))
    })
}

/// Evaluates one check: load (cached), build, evaluate; or, for a file
/// that streams ([`DataSource::streams`]), build from its schema and
/// evaluate in one streaming pass. Never panics.
pub fn evaluate_check(check: &DataCheck) -> CheckRun {
    let start = Instant::now();
    let source = match fixture(check, start) {
        Ok(s) => s,
        Err(run) => return *run,
    };
    if source.streams() {
        return evaluate_streamed(check, &source, start);
    }
    let data = match load(check, &source, start) {
        Ok(d) => d,
        Err(run) => return *run,
    };
    let exps = match expectations(check, &data, start) {
        Ok(e) => e,
        Err(run) => return *run,
    };
    if exps.is_empty() {
        return errored_run(
            check,
            Some(data.info().clone()),
            CheckError::Invalid("the function returned no expectations".into()),
            start,
        );
    }
    let outcomes = data.evaluate_with(
        exps,
        EvalOptions {
            examples: check.examples,
            ..EvalOptions::default()
        },
    );
    CheckRun {
        check_name: check.name.into(),
        test_id: check.test_id(),
        reason: check.reason.into(),
        severity: check.severity,
        data: Some(data.info().clone()),
        outcomes,
        seconds: start.elapsed().as_secs_f64(),
        rerun: check.rerun(),
        attrs: check.attrs,
    }
}

/// A check over a file that streams: its body sees the schema only, and
/// the checks run as one streaming plan over one scan.
fn evaluate_streamed(check: &DataCheck, source: &DataSource, start: Instant) -> CheckRun {
    let schema = match crate::expect::schema_only(source) {
        Ok(d) => d,
        Err(e) => return errored_run(check, None, CheckError::Data(e.to_string()), start),
    };
    let exps = match expectations(check, &schema, start) {
        Ok(e) if !e.is_empty() => e,
        Ok(_) => {
            return errored_run(
                check,
                Some(schema.info().clone()),
                CheckError::Invalid("the function returned no expectations".into()),
                start,
            );
        }
        Err(run) => return *run,
    };
    let options = EvalOptions {
        examples: check.examples,
        ..EvalOptions::default()
    };
    match source.evaluate_streaming_with(exps, options) {
        Ok(streamed) => CheckRun {
            check_name: check.name.into(),
            test_id: check.test_id(),
            reason: check.reason.into(),
            severity: check.severity,
            data: Some(streamed.info),
            outcomes: streamed.outcomes,
            seconds: start.elapsed().as_secs_f64(),
            rerun: check.rerun(),
            attrs: check.attrs,
        },
        Err(e) => errored_run(
            check,
            Some(schema.info().clone()),
            CheckError::Data(e.to_string()),
            start,
        ),
    }
}

/// A data set and the checks (by index) that evaluate on it.
type Batch = (Arc<Dataset>, Vec<(usize, Vec<Expectation>)>);

/// Evaluates many checks, one pass per data set: checks that name the same
/// source are evaluated in a single batch. Results keep the input order.
pub fn evaluate_checks(checks: &[&DataCheck]) -> Vec<CheckRun> {
    let start = Instant::now();
    let mut runs: Vec<Option<CheckRun>> = vec![None; checks.len()];
    // (data set, [(check index, expectations)])
    let mut batches: Vec<Batch> = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        // The fixture runs once per check, whatever path its data takes.
        let source = match fixture(check, start) {
            Ok(s) => s,
            Err(run) => {
                runs[i] = Some(*run);
                continue;
            }
        };
        if source.streams() {
            runs[i] = Some(evaluate_streamed(check, &source, Instant::now()));
            continue;
        }
        let data = match load(check, &source, start) {
            Ok(d) => d,
            Err(run) => {
                runs[i] = Some(*run);
                continue;
            }
        };
        let exps = match expectations(check, &data, start) {
            Ok(e) if !e.is_empty() => e,
            Ok(_) => {
                runs[i] = Some(errored_run(
                    check,
                    Some(data.info().clone()),
                    CheckError::Invalid("the function returned no expectations".into()),
                    start,
                ));
                continue;
            }
            Err(run) => {
                runs[i] = Some(*run);
                continue;
            }
        };
        match batches.iter_mut().find(|(d, _)| Arc::ptr_eq(d, &data)) {
            Some((_, items)) => items.push((i, exps)),
            None => batches.push((data, vec![(i, exps)])),
        }
    }
    for (data, items) in batches {
        let t = Instant::now();
        let all: Vec<Expectation> = items.iter().flat_map(|(_, e)| e.clone()).collect();
        let examples = items
            .iter()
            .map(|(i, _)| checks[*i].examples)
            .max()
            .unwrap_or(5);
        let mut outcomes = data
            .evaluate_with(
                all,
                EvalOptions {
                    examples,
                    ..EvalOptions::default()
                },
            )
            .into_iter();
        let share = t.elapsed().as_secs_f64() / items.len().max(1) as f64;
        for (i, exps) in items {
            let check = checks[i];
            runs[i] = Some(CheckRun {
                check_name: check.name.into(),
                test_id: check.test_id(),
                reason: check.reason.into(),
                severity: check.severity,
                data: Some(data.info().clone()),
                outcomes: outcomes.by_ref().take(exps.len()).collect(),
                seconds: share,
                rerun: check.rerun(),
                attrs: check.attrs,
            });
        }
    }
    runs.into_iter()
        .zip(checks)
        .map(|(r, c)| {
            r.unwrap_or_else(|| {
                errored_run(c, None, CheckError::Invalid("not evaluated".into()), start)
            })
        })
        .collect()
}

/// Writes the run's records and rebuilds the binary's JUnit file. Problems
/// writing are reported on stderr but do not change the test's verdict.
pub fn publish(run: &CheckRun, file: &str, line: u32) {
    publish_records(&run.records(file, line));
}

/// One line per check on stdout: libtest captures it (shown for failures or
/// with `--nocapture`), and nextest keeps it in its JUnit `<system-out>`, so
/// a passing check's figures are in nextest's report too.
pub fn print_summaries(records: &[Record]) {
    for r in records {
        let cached = r.outcome.as_ref().is_some_and(|o| o.from_cache);
        let estimate = r
            .outcome
            .as_ref()
            .and_then(|o| o.estimate.as_ref())
            .filter(|e| e.rank_error > 0.0)
            .map(|e| {
                format!(
                    " (KLL estimate: in [{}, {}] at {:.0}% confidence)",
                    crate::text::fig(e.low),
                    crate::text::fig(e.high),
                    e.confidence * 100.0
                )
            })
            .unwrap_or_default();
        println!(
            "mltest {} `{}` {}: {}: observed {}{estimate}, expected {}{}",
            r.kind,
            r.case_name(records.len()),
            format!("{:?}", r.verdict).to_lowercase(),
            r.description,
            r.observed.map_or("no value".into(), crate::text::fig),
            r.threshold,
            if cached {
                " (figures from the metric cache)"
            } else {
                ""
            }
        );
    }
}

/// Writes a test's records and rebuilds the binary's JUnit file. Problems
/// writing are reported on stderr but do not change the test's verdict.
pub fn publish_records(records: &[Record]) {
    let out = outdir::out_dir();
    let result = crate::record::write_test_records(&out, records).and_then(|_| {
        let skipped = crate::libtest::ignored_in_this_run();
        crate::junit::rebuild(&out, &outdir::binary_name(), outdir::run_id(), &skipped).map(|_| ())
    });
    if let Err(e) = result {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "mltest: could not write records/JUnit under {}: {e}",
            out.display()
        );
    }
}

/// Entry point of a generated `#[data_expectation]` test.
pub fn run_data_check(check: &DataCheck) {
    let run = evaluate_check(check);
    let records = run.records(check.file, check.line);
    publish_records(&records);
    print_summaries(&records);
    if run.fails_test() {
        panic!("{}", run.report());
    }
    if run.has_failures() {
        use std::io::Write;
        // Past libtest's capture: a warning must be seen even though the test passes.
        let _ = writeln!(std::io::stderr().lock(), "warning: {}", run.report());
    }
}
