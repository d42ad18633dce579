//! Step 3, second half: the `#[robustness]` checks of `tests/robustness.rs`
//! (included by main.rs, the same declarations) run on the freshly trained
//! version instead of the version each test names; the verdict is recorded
//! against the new version for the promotion gate. Demonstrations marked
//! `#[should_panic]` are skipped.
//!
//! A check whose rate the adaptive rounds could not place on either side of
//! its maximum at the stated confidence is *inconclusive*: not a pass (the
//! gate records it as not passed), and not a failure either — sampling noise
//! alone never fails a version.

use mltest::check::{evaluate_robustness_on, publish_records, registered_robustness_checks};
use mltest::store::{ModelStore, RecordedCheck};

use crate::export::Gate;

/// How the robustness step ended.
pub enum Outcome {
    Passed,
    /// Some checks undecided, none failed.
    Inconclusive(String),
    Failed(String),
}

pub fn run(id: &str, store: &ModelStore, time: &str, gates: &mut Vec<Gate>) -> Outcome {
    let checks: Vec<_> = registered_robustness_checks()
        .into_iter()
        .filter(|c| !c.expect_failure)
        .collect();
    let (mut failed, mut undecided) = (Vec::new(), Vec::new());
    println!(
        "  {:<52} {:>9} {:>9} {:>6}  verdict",
        "robustness test", "rate", "max", "cases"
    );
    for check in &checks {
        let run = evaluate_robustness_on(check, store, Some(id));
        publish_records(&[run.record()]);
        let (rate, cases) = run.result.as_ref().map_or(("error".to_string(), 0), |r| {
            (format!("{:.4}", r.rate), r.cases)
        });
        let verdict = if run.passed() {
            "pass"
        } else if run.inconclusive() {
            "inconclusive"
        } else if run.result.is_err() {
            "error"
        } else {
            "fail"
        };
        println!(
            "  {:<52} {:>9} {:>9.4} {:>6}  {verdict}",
            check.site.name, rate, check.max_flip_rate, cases
        );
        gates.push(Gate {
            kind: format!("robustness:{}", check.site.name),
            verdict: verdict.into(),
            detail: format!("rate {rate} of {cases} cases, max {}", check.max_flip_rate),
        });
        match verdict {
            "pass" => {}
            "inconclusive" => undecided.push(check.site.name),
            _ => {
                eprintln!("\n{}", run.report());
                failed.push(check.site.name);
            }
        }
    }
    let summary = if !failed.is_empty() {
        format!(
            "{} of {} robustness tests failed: {}",
            failed.len(),
            checks.len(),
            failed.join(", ")
        )
    } else if !undecided.is_empty() {
        format!(
            "{} of {} robustness tests inconclusive at their confidence (none failed): {}",
            undecided.len(),
            checks.len(),
            undecided.join(", ")
        )
    } else {
        format!("{} robustness tests passed", checks.len())
    };
    let recorded = store.record_check(
        id,
        RecordedCheck {
            kind: "robustness".into(),
            passed: failed.is_empty() && undecided.is_empty(),
            summary: summary.clone(),
            time: time.into(),
        },
    );
    if let Err(e) = recorded {
        return Outcome::Failed(format!("cannot record the verdict: {e}"));
    }
    if !failed.is_empty() {
        Outcome::Failed(summary)
    } else if !undecided.is_empty() {
        Outcome::Inconclusive(summary)
    } else {
        Outcome::Passed
    }
}
