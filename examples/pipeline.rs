//! The main job: `cargo run --release --example pipeline`.
//!
//! Step 1, the data gate, runs the `#[data_expectation]` checks of
//! `tests/data_quality.rs` — the same declarations the test binary runs,
//! included here as a module, not copied — in one pass over the data, and
//! prints a summary table. Later steps (train, store, robustness) build on it.
//!
//! Flags: `--data PATH` (a reviews CSV; default per the data-path contract).

#[allow(dead_code)]
#[path = "../tests/data_quality.rs"]
mod data_quality;

use std::process::ExitCode;
use std::time::Instant;

use mltest::runner::{evaluate_checks, publish, registered_data_checks};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => match args.next() {
                // Set before any thread starts: the fixture reads it.
                // SAFETY: single-threaded here, before any check runs.
                Some(p) => unsafe { std::env::set_var(mltest::data::reviews::ENV, p) },
                None => return usage("--data needs a path"),
            },
            "-h" | "--help" => {
                println!("usage: pipeline [--data PATH]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }

    let start = Instant::now();
    println!(
        "step 1/1  data gate: {} checks from tests/data_quality.rs",
        registered_data_checks().len()
    );
    let checks = registered_data_checks();
    let runs = evaluate_checks(&checks);
    let mut failed = 0;
    println!(
        "\n  {:<45} {:>6} {:>6}  verdict",
        "test", "checks", "failed"
    );
    for (run, check) in runs.iter().zip(&checks) {
        publish(run, check.file, check.line);
        let bad = run
            .outcomes
            .iter()
            .filter(|o| o.status != mltest::Status::Pass)
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
            run.check_name,
            run.outcomes.len(),
            bad
        );
    }
    if let Some(info) = runs.iter().find_map(|r| r.data.as_ref()) {
        println!("\n  data: {}", info.short());
        if let Some(note) = &info.note {
            println!("  note: {note}");
        }
    }
    let out = mltest::outdir::out_dir();
    println!("  records and JUnit: {}", out.display());
    println!("  took {:.2} s", start.elapsed().as_secs_f64());
    if failed > 0 {
        for run in runs.iter().filter(|r| r.fails_test()) {
            eprintln!("\n{}", run.report());
        }
        eprintln!("data gate failed: {failed} test(s); training does not start");
        return ExitCode::FAILURE;
    }
    println!("data gate passed");
    ExitCode::SUCCESS
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("pipeline: {msg}\nusage: pipeline [--data PATH]");
    ExitCode::from(2)
}
