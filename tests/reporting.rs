//! Records, JUnit and the attribute's behaviour as a test: what a failing
//! test prints, what it writes, and that the JUnit file validates.

use std::path::Path;
use std::process::Command;

use mltest::check::{DataCheck, evaluate_check, registered_data_checks};
use mltest::expect::Status;
use mltest::junit;
use mltest::prelude::*;
use mltest::record::{self, Verdict};

fn small() -> DataSource {
    DataSource::generated(ReviewsSpec::new(400, 5).null_rate("Age", Some("Dresses"), 0.25))
        .named("small")
}

/// Doc comments are kept on the generated test.
#[data_expectation(reason = "behaviour demo: passes on the generated data")]
fn a_passing_check(small: &Dataset) -> Vec<Expectation> {
    vec![
        small.column("Rating").values().in_set([1, 2, 3, 4, 5]),
        small.row_count().at_least(400.0),
    ]
}

#[data_expectation(reason = "behaviour demo: Dresses has 25% missing ages by construction")]
#[should_panic(expected = "observed: 0.2500 (27 of 108 rows missing)")]
fn should_panic_is_kept_and_the_report_has_the_figures(small: &Dataset) -> Expectation {
    small
        .column("Age")
        .null_fraction()
        .at_most(0.01)
        .where_eq("Department Name", "Dresses")
}

#[data_expectation(reason = "behaviour demo: this would fail if #[ignore] were dropped")]
#[ignore = "kept by the attribute: running it would fail"]
fn ignore_is_kept(small: &Dataset) -> Expectation {
    small.column("Age").null_fraction().at_most(0.0)
}

#[data_expectation(
    reason = "behaviour demo: a warning reports without failing",
    severity = "warn"
)]
fn a_warning_does_not_fail_the_test(small: &Dataset) -> Expectation {
    small.column("Age").null_fraction().at_most(0.0)
}

#[data_expectation(reason = "behaviour demo: two bounds of one kind in one test")]
fn two_checks_of_one_kind(small: &Dataset) -> Vec<Expectation> {
    vec![
        small.row_count().at_least(400.0),
        small.row_count().at_most(400.0),
    ]
}

mod nested {
    use mltest::prelude::*;

    fn tiny() -> DataSource {
        DataSource::generated(ReviewsSpec::new(60, 2)).named("tiny")
    }

    #[data_expectation(reason = "behaviour demo: works inside a module", data = tiny, examples = 2)]
    pub fn inside_a_module(d: &Dataset) -> Expectation {
        d.row_count().between(60.0, 60.0)
    }
}

fn find(name: &str) -> &'static DataCheck {
    registered_data_checks()
        .into_iter()
        .find(|c| c.site.name == name)
        .unwrap_or_else(|| panic!("{name} is not registered"))
}

#[test]
fn every_attribute_registers_a_descriptor_with_its_module_path() {
    let ids: Vec<String> = registered_data_checks()
        .iter()
        .map(|c| c.site.test_id())
        .collect();
    assert_eq!(
        ids,
        vec![
            "a_passing_check",
            "a_warning_does_not_fail_the_test",
            "ignore_is_kept",
            "nested::inside_a_module",
            "should_panic_is_kept_and_the_report_has_the_figures",
            "two_checks_of_one_kind",
        ]
    );
    let nested = find("inside_a_module");
    assert_eq!(nested.examples, 2);
    assert!(nested.site.file.ends_with("reporting.rs"));
}

#[test]
fn a_warning_is_recorded_as_warn_and_does_not_fail() {
    let run = evaluate_check(find("a_warning_does_not_fail_the_test"));
    assert!(run.has_failures());
    assert!(!run.fails_test());
    let records = run.records();
    assert_eq!(records[0].verdict, Verdict::Warn);
    assert!(
        run.report()
            .starts_with("data expectation `a_warning_does_not_fail_the_test` warned")
    );
}

#[test]
fn the_failure_report_reads_at_a_glance() {
    let run = evaluate_check(find("should_panic_is_kept_and_the_report_has_the_figures"));
    assert!(run.fails_test());
    let report = run.report();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[0],
        "data expectation `should_panic_is_kept_and_the_report_has_the_figures` failed"
    );
    assert_eq!(
        lines[1],
        "  reason:   behaviour demo: Dresses has 25% missing ages by construction"
    );
    assert_eq!(lines[2], "  check:    null fraction of \"Age\" <= 0.0100");
    assert_eq!(lines[3], "  observed: 0.2500 (27 of 108 rows missing)");
    assert_eq!(lines[4], "  segment:  Department Name == \"Dresses\"");
    assert!(lines[5].starts_with("  examples: rows "), "{}", lines[5]);
    assert!(lines[5].ends_with("(first 5 of 27)"), "{}", lines[5]);
    assert!(
        lines[6].starts_with("  data:     generated reviews (seed 5, 400 rows) (sha256 "),
        "{}",
        lines[6]
    );
    assert_eq!(
        lines[7],
        "  rerun:    cargo test --release --test reporting -- should_panic_is_kept_and_the_report_has_the_figures --exact"
    );
}

fn publish_to(out: &Path, runs: &[(&DataCheck, &str)]) {
    for (check, run_id) in runs {
        let mut records = evaluate_check(check).records();
        for r in records.iter_mut() {
            r.run_id = run_id.to_string();
        }
        record::write_test_records(out, &records).unwrap();
    }
}

#[test]
fn junit_holds_one_testcase_per_test_and_only_this_runs_records() {
    let out = tempfile::tempdir().unwrap();
    let binary = mltest::outdir::binary_name();
    publish_to(
        out.path(),
        &[
            (find("a_passing_check"), "run-2"),
            (
                find("should_panic_is_kept_and_the_report_has_the_figures"),
                "run-2",
            ),
            // A stale record of an earlier run must not reach this run's file.
            (find("inside_a_module"), "run-1"),
        ],
    );
    let path = junit::rebuild(out.path(), &binary, "run-2", &[]).unwrap();
    assert_eq!(path, out.path().join("junit").join("reporting.xml"));
    let xml = std::fs::read_to_string(&path).unwrap();
    // Two tests (one of two checks), as cargo counts them; the
    // #[should_panic] test failed as it should, so cargo counts it passed.
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert!(
        xml.contains(
            r#"<testsuite name="reporting" tests="2" failures="0" errors="0" skipped="0""#
        ),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="a_passing_check" classname="reporting""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="a_passing_check[in_set_fraction(Rating)].observed""#),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(
        !xml.contains("inside_a_module"),
        "stale record leaked: {xml}"
    );
    assert!(xml.contains(r#"<property name="should_panic_is_kept_and_the_report_has_the_figures.observed" value="0.25"/>"#), "{xml}");
    assert!(xml.contains(r#"<property name="should_panic_is_kept_and_the_report_has_the_figures.threshold" value="&lt;= 0.0100"/>"#), "{xml}");
    assert!(xml.contains(r#"<property name="should_panic_is_kept_and_the_report_has_the_figures.verdict" value="fail"/>"#), "{xml}");
    assert!(xml.contains(".data_sha256\" value=\""), "{xml}");
    xmllint(&path);
}

#[test]
fn concurrent_writers_leave_a_complete_junit_file() {
    let out = tempfile::tempdir().unwrap();
    let checks = [
        "a_passing_check",
        "should_panic_is_kept_and_the_report_has_the_figures",
        "inside_a_module",
        "a_warning_does_not_fail_the_test",
    ];
    std::thread::scope(|s| {
        for name in checks {
            let out = out.path();
            s.spawn(move || {
                publish_to(out, &[(find(name), "run-c")]);
                junit::rebuild(out, "reporting", "run-c", &[]).unwrap();
            });
        }
    });
    let xml = std::fs::read_to_string(out.path().join("junit").join("reporting.xml")).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    xmllint(&out.path().join("junit").join("reporting.xml"));
}

/// Validates against the schema Jenkins' xunit plugin enforces. Without
/// `xmllint` or `../shared` (a fresh clone with only cargo) the validation is
/// skipped with a note, unless `CI` is set; the test's other assertions run.
fn xmllint(path: &Path) {
    let Some(schema) = mltest::prereq::shared_file("schemas/junit-10.xsd") else {
        return;
    };
    let Some(xmllint) = mltest::prereq::tool(
        "xmllint",
        "apt-get install libxml2-utils; .ci/run installs it",
    ) else {
        return;
    };
    let out = Command::new(xmllint)
        .args(["--noout", "--schema"])
        .arg(schema)
        .arg(path)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{} does not validate:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The testcase status follows libtest, not the check verdicts, and every
/// property name is unique (two checks of one kind in one test included).
#[test]
fn junit_counts_what_libtest_counts() {
    use mltest::record::{Outcome, Skipped, TestResult};
    let records = |name: &str| {
        let c = find(name);
        evaluate_check(c).records()
    };
    let mut all = records("two_checks_of_one_kind");
    all.extend(records(
        "should_panic_is_kept_and_the_report_has_the_figures",
    ));
    // A #[should_panic] test whose checks all passed: libtest says
    // "did not panic", a failure.
    let mut did_not_panic = records("a_passing_check");
    for r in &mut did_not_panic {
        r.libtest = Some(TestResult {
            outcome: Outcome::Failed,
            should_panic: true,
        });
    }
    all.extend(did_not_panic);
    let skipped = [Skipped {
        test: "ignore_is_kept".into(),
        reason: "#[ignore]: kept by the attribute".into(),
    }];
    let xml = junit::render("reporting", &all, &skipped).unwrap();
    assert!(
        xml.contains(
            r#"<testsuite name="reporting" tests="4" failures="1" errors="0" skipped="1""#
        ),
        "{xml}"
    );
    assert!(xml.contains(r##"<failure message="the test is #[should_panic], but every check passed (libtest: did not panic)""##), "{xml}");
    assert!(
        xml.contains(r##"<skipped message="#[ignore]: kept by the attribute"/>"##),
        "{xml}"
    );
    assert!(
        xml.contains(r#"name="two_checks_of_one_kind[row_count].threshold" value="&gt;= 400""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"name="two_checks_of_one_kind[row_count#2].threshold" value="&lt;= 400""#),
        "{xml}"
    );
    let mut names: Vec<&str> = xml
        .split("<property name=\"")
        .skip(1)
        .filter_map(|p| p.split('"').next())
        .collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate property names: {xml}");
}

#[test]
fn records_are_json_with_the_figures_reports_need() {
    let run = evaluate_check(find("should_panic_is_kept_and_the_report_has_the_figures"));
    let r = &run.records()[0];
    let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap();
    assert_eq!(json["kind"], "data_expectation");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["observed"], 0.25);
    // Record format 2: the threshold is a value, the metric's name comes
    // from the outcome, and the outcome sits in the kind's details.
    assert_eq!(json["format"], record::FORMAT);
    assert_eq!(json["threshold"]["bound"]["max"], 0.01);
    assert_eq!(r.threshold.describe(), "<= 0.0100");
    assert_eq!(r.metric(), "null_fraction");
    assert_eq!(json["data"]["rows"], 400);
    assert_eq!(json["details"]["data_expectation"]["count"]["hits"], 27);
    assert_eq!(run.outcomes[0].status(), Status::Fail);
}

#[test]
fn the_report_puts_failures_first_collapses_passes_and_draws_each_checks_trend() {
    if std::env::var_os("MLTEST_HISTORY").is_some() {
        eprintln!("skipped: MLTEST_HISTORY moves the history away from the report's directory");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let mut history = mltest::history::History::open(out.path().join("history.sqlite")).unwrap();
    let checks = [
        find("a_passing_check"),
        find("should_panic_is_kept_and_the_report_has_the_figures"),
    ];
    for run in ["run-1", "run-2", "run-3"] {
        let mut records: Vec<_> = checks
            .iter()
            .flat_map(|c| evaluate_check(c).records())
            .collect();
        for r in records.iter_mut() {
            r.run_id = run.to_string();
        }
        history.append(&records).unwrap();
        record::write_test_records(out.path(), &records).unwrap();
    }
    let html = mltest::report::write_html(out.path(), &[], None).unwrap();
    let page = std::fs::read_to_string(html).unwrap();
    let card = |test: &str| {
        let at = page
            .find(&format!("</span>{test} "))
            .unwrap_or_else(|| panic!("no card for {test}"));
        let start = page[..at].rfind("<details").unwrap();
        let end = at + page[at..].find("</details>").unwrap();
        (start, &page[start..end])
    };
    let (failing_at, failing) = card("should_panic_is_kept_and_the_report_has_the_figures");
    let (passing_at, passing) = card("a_passing_check");
    assert!(failing_at < passing_at, "the failure comes first");
    assert!(failing.starts_with("<details class=\"check\" data-kind=\"data_expectation\" open>"));
    assert!(!passing.starts_with("<details class=\"check\" data-kind=\"data_expectation\" open>"));
    // Three runs of each check: a trend with three points against the bound.
    assert!(
        failing.contains("over the last 3 runs (dashed: bound)"),
        "{failing}"
    );
    let trend = &failing[failing.find("over the last 3 runs").unwrap()..];
    assert_eq!(trend.matches("<circle").count(), 3, "{failing}");
    assert!(passing.contains("over the last 3 runs"), "{passing}");
}
