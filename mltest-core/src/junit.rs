//! JUnit XML from records, valid against the schema Jenkins' xunit plugin
//! enforces (`junit-10.xsd`): `<properties>` only per `<testsuite>`, so each
//! check's figures are suite properties named `<case>.<key>`; the human
//! report goes to the testcase's `<system-out>` and the `<failure>` body.
//!
//! One testcase per test, as cargo and nextest count them: a test of several
//! checks is one testcase whose figures are properties per check; a
//! `#[should_panic]` test that failed as expected passes; `#[ignore]`d
//! tests are skipped testcases. So `junitparser` and CI dashboards count the
//! tests, failures, errors and skips the runner printed.
//!
//! The file for a binary is rebuilt from that binary's records of the
//! current run under an exclusive file lock, after every test: complete at
//! exit whatever order tests finish in, in one process or many.

use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::libtest::{Outcome, Skipped};
use crate::outdir;
use crate::record::{self, Details, Record, Verdict};

/// `<out>/junit/<binary>.xml`.
pub fn junit_path(out: &Path, binary: &str) -> PathBuf {
    out.join("junit")
        .join(format!("{}.xml", outdir::file_safe(binary)))
}

/// Rebuilds `<out>/junit/<binary>.xml` from the binary's records of `run_id`,
/// with `skipped` (the `#[ignore]`d tests of the run, see
/// [`crate::libtest::ignored_in_this_run`]) as skipped testcases.
pub fn rebuild(
    out: &Path,
    binary: &str,
    run_id: &str,
    skipped: &[Skipped],
) -> std::io::Result<PathBuf> {
    let path = junit_path(out, binary);
    let dir = path.parent().unwrap_or(out);
    std::fs::create_dir_all(dir)?;
    let lock = File::create(dir.join(format!(".{}.lock", outdir::file_safe(binary))))?;
    lock.lock()?;
    let records = record::read_run(out, binary, run_id);
    let xml = render(binary, &records, skipped)?;
    let written = outdir::write_atomic(&path, xml.as_bytes());
    let _ = lock.unlock();
    written.map(|_| path)
}

/// One test's records, and what libtest made of the test.
struct TestCase<'a> {
    test: &'a str,
    records: Vec<&'a Record>,
    status: CaseStatus,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CaseStatus {
    Passed,
    Failed,
    Errored,
}

/// Groups records by test (in first-seen order) and decides each test as
/// libtest does: from the recorded libtest outcome when there is one (a
/// `#[should_panic]` test that failed as expected passed), else from the
/// verdicts (an error before a failure; a warning passes).
fn test_cases(records: &[Record]) -> Vec<TestCase<'_>> {
    let mut cases: Vec<TestCase> = Vec::new();
    for r in records {
        match cases.iter_mut().find(|c| c.test == r.test) {
            Some(c) => c.records.push(r),
            None => cases.push(TestCase {
                test: &r.test,
                records: vec![r],
                status: CaseStatus::Passed,
            }),
        }
    }
    for c in &mut cases {
        let errored = c.records.iter().any(|r| r.verdict == Verdict::Error);
        let failed = c.records.iter().any(|r| r.verdict == Verdict::Fail);
        let outcome = c.records.iter().find_map(|r| r.libtest.as_ref());
        c.status = match outcome.map(|t| t.outcome) {
            Some(Outcome::Passed) => CaseStatus::Passed,
            Some(Outcome::Failed) | None if errored => CaseStatus::Errored,
            Some(Outcome::Failed) => CaseStatus::Failed,
            None if failed => CaseStatus::Failed,
            None => CaseStatus::Passed,
        };
    }
    cases
}

/// The XML for one binary's records: one testcase per test, as cargo and
/// nextest count tests, with each check's figures as suite properties
/// `<test>.<key>` (or `<test>[<check>].<key>` in a test of several checks).
///
/// ```
/// let xml = mltest_core::junit::render("data_quality", &[], &[]).unwrap();
/// assert!(xml.contains(r#"<testsuite name="data_quality" tests="0" failures="0" errors="0" skipped="0""#));
/// ```
pub fn render(binary: &str, records: &[Record], skipped: &[Skipped]) -> std::io::Result<String> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    fn io<E: std::error::Error + Send + Sync + 'static>(e: E) -> std::io::Error {
        std::io::Error::other(e)
    }
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;

    let cases = test_cases(records);
    // An ignored test that ran anyway (`--include-ignored`) has records.
    let skipped: Vec<&Skipped> = skipped
        .iter()
        .filter(|s| !cases.iter().any(|c| c.test == s.test))
        .collect();
    let count = |st: CaseStatus| cases.iter().filter(|c| c.status == st).count();
    let time: f64 = records.iter().map(|r| r.duration_s).sum();
    let (tests, failures, errors, skipped_n, time) = (
        (cases.len() + skipped.len()).to_string(),
        count(CaseStatus::Failed).to_string(),
        count(CaseStatus::Errored).to_string(),
        skipped.len().to_string(),
        format!("{time:.3}"),
    );

    let suites = BytesStart::new("testsuites").with_attributes([
        ("name", "mltest"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("time", time.as_str()),
    ]);
    w.write_event(Event::Start(suites)).map_err(io)?;
    let timestamp = records
        .iter()
        .map(|r| r.timestamp)
        .fold(f64::INFINITY, f64::min);
    let timestamp = if timestamp.is_finite() {
        crate::clock::iso8601(timestamp)
    } else {
        crate::clock::iso8601(crate::clock::unix_now())
    };
    let suite = BytesStart::new("testsuite").with_attributes([
        ("name", binary),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("skipped", skipped_n.as_str()),
        ("time", time.as_str()),
        ("timestamp", timestamp.as_str()),
    ]);
    w.write_event(Event::Start(suite)).map_err(io)?;

    if !records.is_empty() {
        w.write_event(Event::Start(BytesStart::new("properties")))
            .map_err(io)?;
        for case in &cases {
            for (r, label) in case.records.iter().zip(check_labels(&case.records)) {
                for (key, value) in properties(r) {
                    let name = format!("{label}.{key}");
                    let value = clean(&value);
                    let p = BytesStart::new("property")
                        .with_attributes([("name", name.as_str()), ("value", value.as_str())]);
                    w.write_event(Event::Empty(p)).map_err(io)?;
                }
            }
        }
        w.write_event(Event::End(BytesEnd::new("properties")))
            .map_err(io)?;
    }

    let classname = |test: &str| {
        format!(
            "{binary}::{}",
            test.rsplit_once("::").map_or("", |(m, _)| m)
        )
        .trim_end_matches("::")
        .to_string()
    };
    let short = |test: &str| test.rsplit("::").next().unwrap_or(test).to_string();
    for case in &cases {
        let name = short(case.test);
        let class = classname(case.test);
        let secs: f64 = case.records.iter().map(|r| r.duration_s).sum();
        let time = format!("{secs:.3}");
        let tc = BytesStart::new("testcase").with_attributes([
            ("name", name.as_str()),
            ("classname", class.as_str()),
            ("time", time.as_str()),
        ]);
        w.write_event(Event::Start(tc)).map_err(io)?;
        let body = clean(
            &case
                .records
                .iter()
                .map(|r| r.report.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        if case.status != CaseStatus::Passed {
            let tag = if case.status == CaseStatus::Failed {
                "failure"
            } else {
                "error"
            };
            let message = clean(&case_message(case));
            let kind = case.records.first().map_or("check", |r| r.kind.as_str());
            let f = BytesStart::new(tag)
                .with_attributes([("message", message.as_str()), ("type", kind)]);
            w.write_event(Event::Start(f)).map_err(io)?;
            w.write_event(Event::Text(BytesText::new(&body)))
                .map_err(io)?;
            w.write_event(Event::End(BytesEnd::new(tag))).map_err(io)?;
        }
        w.write_event(Event::Start(BytesStart::new("system-out")))
            .map_err(io)?;
        w.write_event(Event::Text(BytesText::new(&body)))
            .map_err(io)?;
        w.write_event(Event::End(BytesEnd::new("system-out")))
            .map_err(io)?;
        w.write_event(Event::End(BytesEnd::new("testcase")))
            .map_err(io)?;
    }
    for s in skipped {
        let (name, class) = (short(&s.test), classname(&s.test));
        let tc = BytesStart::new("testcase").with_attributes([
            ("name", name.as_str()),
            ("classname", class.as_str()),
            ("time", "0.000"),
        ]);
        w.write_event(Event::Start(tc)).map_err(io)?;
        let message = clean(&s.reason);
        let sk = BytesStart::new("skipped").with_attributes([("message", message.as_str())]);
        w.write_event(Event::Empty(sk)).map_err(io)?;
        w.write_event(Event::End(BytesEnd::new("testcase")))
            .map_err(io)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))
        .map_err(io)?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))
        .map_err(io)?;
    String::from_utf8(w.into_inner().into_inner()).map_err(io)
}

/// The property prefix of each check of one test: the test's libtest name
/// (unique in the binary), with `[check]` when the test has several checks,
/// and `#2`, `#3`, ... when two checks share a name (`row_count` twice).
fn check_labels(records: &[&Record]) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    records
        .iter()
        .map(|r| {
            if records.len() == 1 {
                return r.test.clone();
            }
            let n = seen.iter().filter(|c| **c == r.check.as_str()).count();
            seen.push(&r.check);
            if n == 0 {
                format!("{}[{}]", r.test, r.check)
            } else {
                format!("{}[{}#{}]", r.test, r.check, n + 1)
            }
        })
        .collect()
}

/// The failure message of a failed or errored test: its first failing
/// check's figures, or why a `#[should_panic]` test failed.
fn case_message(case: &TestCase) -> String {
    let bad: Vec<&&Record> = case
        .records
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .collect();
    let should_panic = case
        .records
        .iter()
        .any(|r| r.libtest.as_ref().is_some_and(|t| t.should_panic));
    match bad.first() {
        None if should_panic => {
            "the test is #[should_panic], but every check passed (libtest: did not panic)".into()
        }
        None => "failed".into(),
        Some(r) if bad.len() > 1 => format!("{} (and {} more)", one_line(r), bad.len() - 1),
        Some(r) if should_panic => format!(
            "{} (#[should_panic]: the panic did not hold the expected message)",
            one_line(r)
        ),
        Some(r) => one_line(r),
    }
}

/// The figures JUnit carries per check: the record's, then its kind's
/// (in name order, as earlier versions wrote them).
fn properties(r: &Record) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("kind", r.kind.as_str().to_string()),
        ("verdict", r.verdict.as_str().to_string()),
        ("reason", r.reason.clone()),
        ("metric", r.metric().to_string()),
        ("check", r.description.clone()),
        (
            "observed",
            r.observed.map_or("none".into(), |x| format!("{x}")),
        ),
        ("threshold", r.threshold.describe()),
    ];
    if let Some(d) = &r.data {
        p.push(("data", d.origin.clone()));
        p.push(("data_sha256", d.sha256.clone()));
        p.push(("data_rows", d.rows.to_string()));
    }
    if let Some(s) = r.seed {
        p.push(("seed", s.to_string()));
    }
    if let Some(m) = &r.model {
        p.push(("model", m.clone()));
    }
    p.extend(detail_properties(&r.details));
    p
}

/// The kind-specific figures JUnit carries.
fn detail_properties(details: &Details) -> Vec<(&'static str, String)> {
    // Numbers as JSON writes them (`null` when not finite).
    let num = |x: f64| serde_json::Value::from(x).to_string();
    match details {
        Details::Robustness(Some(d)) => vec![
            ("cases", d.flips.cases.to_string()),
            ("flips", d.flips.flips.to_string()),
            ("interval_high", num(d.flips.interval.1)),
            ("interval_low", num(d.flips.interval.0)),
            ("perturbation", d.flips.perturbation.clone()),
        ],
        Details::Drift(Some(r)) => {
            let drifted: Vec<&str> = r
                .columns
                .iter()
                .filter(|c| c.drifted)
                .map(|c| c.column.as_str())
                .collect();
            vec![
                ("drifted_columns", drifted.join(", ")),
                ("drifted_share", num(r.drifted_share)),
                ("reference", r.reference.origin.clone()),
                ("reference_sha256", r.reference.sha256.clone()),
            ]
        }
        Details::Ab(Some(c)) => vec![
            ("ab_verdict", c.verdict.to_string()),
            ("difference_high", num(c.difference_high)),
            ("difference_low", num(c.difference_low)),
            ("p_value", num(c.p_value)),
        ],
        Details::Performance(e) => vec![
            ("estimated_accuracy", num(e.accuracy)),
            ("estimated_accuracy_high", num(e.accuracy_high)),
            ("estimated_accuracy_low", num(e.accuracy_low)),
            ("estimated_f1", e.f1.map_or(String::new(), num)),
            ("reference_accuracy", num(e.reference_accuracy)),
        ],
        Details::AbErrors(Some(c)) => vec![
            ("ab_verdict", c.test.verdict.to_string()),
            ("difference_high", num(c.test.interval.1)),
            ("difference_low", num(c.test.interval.0)),
            ("p_value", num(c.test.p_value)),
        ],
        _ => Vec::new(),
    }
}

fn one_line(r: &Record) -> String {
    let observed = r.observed.map_or("no value".into(), crate::text::fig);
    format!(
        "{}: observed {observed}, expected {}",
        r.description,
        r.threshold.describe()
    )
}

/// Replaces characters XML 1.0 cannot hold (most control characters) so a
/// stray byte in the data never makes the report unparseable.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(clean("a\u{0}b\tc"), "a\u{FFFD}b\tc");
    }
}
