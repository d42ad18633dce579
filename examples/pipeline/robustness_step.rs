//! Step 3, second half: the `#[robustness]` checks of `tests/robustness.rs`
//! (included by main.rs, the same declarations) run on the freshly trained
//! version instead of the version each test names; the verdict is recorded
//! against the new version for the promotion gate. Demonstrations marked
//! `#[should_panic]` are skipped.

use mltest::check::{evaluate_robustness_on, publish_records, registered_robustness_checks};
use mltest::store::{ModelStore, RecordedCheck};

pub fn run(id: &str, store: &ModelStore, time: &str) -> Result<(), String> {
    let checks: Vec<_> = registered_robustness_checks()
        .into_iter()
        .filter(|c| !c.expect_failure)
        .collect();
    let mut failed = Vec::new();
    println!(
        "  {:<45} {:>9} {:>9}  verdict",
        "robustness test", "flip rate", "max"
    );
    for check in &checks {
        let run = evaluate_robustness_on(check, store, Some(id));
        publish_records(&[run.record()]);
        let rate = run
            .result
            .as_ref()
            .map_or("error".to_string(), |r| format!("{:.4}", r.rate));
        println!(
            "  {:<45} {:>9} {:>9.4}  {}",
            check.site.name,
            rate,
            check.max_flip_rate,
            if run.passed() { "ok" } else { "FAIL" }
        );
        if !run.passed() {
            eprintln!("\n{}", run.report());
            failed.push(check.site.name);
        }
    }
    let passed = failed.is_empty();
    let summary = if passed {
        format!("{} robustness tests passed", checks.len())
    } else {
        format!(
            "{} of {} robustness tests failed: {}",
            failed.len(),
            checks.len(),
            failed.join(", ")
        )
    };
    store
        .record_check(
            id,
            RecordedCheck {
                kind: "robustness".into(),
                passed,
                summary: summary.clone(),
                time: time.into(),
            },
        )
        .map_err(|e| e.to_string())?;
    if passed { Ok(()) } else { Err(summary) }
}
