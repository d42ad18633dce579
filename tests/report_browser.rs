//! The HTML report in a real browser: headless Chromium (Debian's
//! `chromium`, installed by `.ci/run`) loads a report holding one check of
//! every kind, run on the real data, without errors, and every plot is there.
//!
//! The checks are declared here, so this binary owns their records: the test
//! evaluates them through the same registries the generated tests use,
//! writes the records to a temporary directory and renders the report there
//! (other binaries' records never enter it). Without Chromium the test fails
//! under CI (`CI` set) and says it skipped otherwise.
//!
//! Run: `cargo test --release --test report_browser`.

use std::path::Path;
use std::process::Command;

use mltest::prelude::*;

#[data_expectation(
    reason = "Report fixture: empty reviews stay under 6% in every department (the data \
              suite's ceiling; Intimate is the worst at 4.7%)."
)]
fn report_fixture_reviews_per_department(reviews: &Dataset) -> Expectation {
    reviews
        .column("Review Text")
        .null_fraction()
        .at_most(0.06)
        .in_every_segment_of("Department Name")
}

#[robustness(
    reason = "Report fixture: two typos flip at most 5% of reviews@1's predictions (see tests/robustness.rs).",
    max_flip_rate = 0.05,
    cases = 300,
    model = "reviews@1",
    data = reviews
)]
fn report_fixture_typos(p: Perturb) -> Perturb {
    p.text("Review Text", typos(2..=2))
}

fn general() -> Result<Dataset, Box<dyn std::error::Error + Send + Sync>> {
    Ok(mltest::data::load_cached(&reviews())?.rows_where("Division Name", "General")?)
}

fn general_petite() -> Result<Dataset, Box<dyn std::error::Error + Send + Sync>> {
    Ok(mltest::data::load_cached(&reviews())?.rows_where("Division Name", "General Petite")?)
}

#[drift(reason = "Report fixture: General Petite against General (see tests/drift.rs).")]
fn report_fixture_petite_drift(general: &Side, general_petite: &Side) -> Drift {
    Drift::columns(["Age", "Department Name"]).categorical(["Rating"])
}

fn records() -> Vec<mltest::record::Record> {
    let mut out = Vec::new();
    for c in mltest::check::registered_data_checks() {
        out.extend(mltest::check::evaluate_check(c).records());
    }
    for c in mltest::check::registered_robustness_checks() {
        out.push(mltest::check::evaluate_robustness(c).record());
    }
    for c in mltest::check::DRIFT_CHECKS.iter() {
        out.push(mltest::check::evaluate_drift_check(c).record());
    }
    let store = mltest::store::ModelStore::from_env();
    let a = mltest::model::ReferenceModel::load(&store, "reviews@2").expect("reviews@2");
    let b = mltest::model::ReferenceModel::load(&store, "reviews@1").expect("reviews@1");
    let data = mltest::data::load_cached(&reviews()).expect("data");
    let comparison = mltest::ab::compare_models(
        ("reviews@2", &a),
        ("reviews@1", &b),
        &data.frame().head(Some(3000)),
        "Recommended IND",
        0.05,
    );
    let (record, _) = mltest::check::model_ab_record(
        "report_fixture_ab",
        "Report fixture: the title's worth on 3,000 rows.",
        mltest::ab::Require::NotWorse,
        &comparison,
        0.0,
    );
    out.push(record);
    out
}

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn headless(browser: &str, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn report_loads_in_chromium_with_every_plot() {
    let Some(browser) = chromium().or_else(|| {
        mltest::prereq::missing("chromium", "apt-get install chromium; .ci/run installs it")
    }) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let records = records();
    for r in &records {
        mltest::record::write_test_records(dir.path(), std::slice::from_ref(r)).expect("records");
    }
    let store = mltest::store::ModelStore::from_env();
    let html = mltest::report::write_html(dir.path(), &[], Some(&store)).expect("report");
    let text = std::fs::read_to_string(&html).expect("read report");
    for outside in ["src=\"http", "href=\"http", "url(http", "<script", "<link"] {
        assert!(
            !text.contains(outside),
            "the report is self-contained, but holds {outside:?}"
        );
    }

    let profile = tempfile::tempdir().expect("profile dir");
    let dom = headless(browser, profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(dom.status.success(), "chromium failed: {stderr}");
    for bad in [
        "CONSOLE",
        "Uncaught",
        "net::ERR_",
        "Failed to load resource",
    ] {
        assert!(
            !stderr.contains(bad),
            "the page logged an error ({bad}): {stderr}"
        );
    }
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The browser parsed the page into the DOM we wrote: every check, every kind, every plot.
    for kind in ["data_expectation", "robustness", "drift", "ab"] {
        let section = dom
            .split(&format!("data-kind=\"{kind}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {kind} check in the rendered page"));
        let card = section.split("</details>").next().unwrap_or_default();
        assert!(card.contains("<svg"), "the {kind} check has no plot");
    }
    // 1 per-segment chart + 1 flip-rate interval + 3 drift columns + 1 A/B interval.
    let plots = dom.matches("<svg").count();
    assert_eq!(plots, 6, "plots in the page");
    assert!(dom.contains("Model store") && dom.contains("reviews@1"));

    let shot = dir.path().join("report.png");
    let out = headless(browser, profile.path())
        .arg("--window-size=1280,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a rendered page, {} bytes",
        png.len()
    );
}
