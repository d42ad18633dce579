//! Step 1, the data gate: the `#[data_expectation]` checks of
//! `tests/data_quality.rs` (the same declarations, included as a module by
//! main.rs) in one pass per data set. Needs only the expectation runtime.

use mltest::check::{DataRun, evaluate_checks, publish, registered_data_checks};

pub struct GateResult {
    pub runs: Vec<DataRun>,
    pub failed: usize,
}

pub fn run() -> GateResult {
    let checks = registered_data_checks();
    let runs = evaluate_checks(&checks);
    let mut failed = 0;
    println!("  {:<45} {:>6} {:>6}  verdict", "test", "checks", "failed");
    for run in &runs {
        publish(run);
        let bad = run
            .outcomes
            .iter()
            .filter(|o| o.status() != mltest::Status::Pass)
            .count();
        let verdict = if run.fails_test() {
            failed += 1;
            "FAIL"
        } else if run.has_failures() {
            "warn"
        } else {
            "ok"
        };
        println!(
            "  {:<45} {:>6} {:>6}  {verdict}",
            run.site.name,
            run.outcomes.len(),
            bad
        );
    }
    for run in runs.iter().filter(|r| r.fails_test()) {
        eprintln!("\n{}", run.report());
    }
    GateResult { runs, failed }
}
