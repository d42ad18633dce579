//! The main job: `cargo run --release --example pipeline`.
//!
//! 1. data gate — the `#[data_expectation]` checks of `tests/data_quality.rs`
//!    (included below as a module: the same declarations, not a copy);
//! 2. train — seeded split, reference model, a new version in the store;
//! 3. evaluate — the stored version on the held-out rows against a minimum,
//!    then the `#[robustness]` checks of `tests/robustness.rs` on it.
//!
//! Steps run in order and a failed step stops the run with its report. Each
//! step's outcome and duration go to a run record under
//! `target/mltest/runs/`. SIGINT/SIGTERM mark the run interrupted; a version
//! is written atomically, so no interruption leaves a partial one.
//!
//! Flags: `--data PATH` (reviews CSV), `--store DIR`, `--name NAME`,
//! `--seed N`, `--min-rows N`, `--buckets N`, `--iterations N`,
//! `--tolerance X` (the fit's gradient tolerance), `--alpha X`,
//! `--export-design DIR` (the split, the design matrices and the run's
//! figures for `bench/model_quality.py`; see `export.rs`).
//!
//! Exit status: 0 passed, 1 a step failed, 3 robustness undecided (some
//! check inconclusive at its confidence, none failed: the version is stored
//! but the promotion gate will not take it), 2 bad arguments.

// tests/data_quality.rs and tests/robustness.rs are each included here as a
// module, and each includes tests/common/legal_row.rs: two copies of one
// small rules module, which is what lets both test files stand alone.
#![allow(clippy::duplicate_mod)]

mod data_gate;
#[allow(dead_code)]
#[path = "../../tests/data_quality.rs"]
mod data_quality;
mod evaluate_step;
mod export;
#[allow(dead_code)]
#[path = "../../tests/robustness.rs"]
mod robustness;
mod robustness_step;
mod run_record;
mod train_step;

use std::process::ExitCode;
use std::time::Instant;

use mltest::model::train::TrainConfig;
use mltest::store::{ModelStore, RecordedCheck};

struct Args {
    store: Option<std::path::PathBuf>,
    export: Option<std::path::PathBuf>,
    pause_before_save: Option<u64>,
    name: String,
    config: TrainConfig,
}

const USAGE: &str = "usage: pipeline [--data PATH] [--store DIR] [--name NAME] [--seed N] [--min-rows N] [--buckets N] [--iterations N] [--tolerance X] [--alpha X] [--plain-lbfgs] [--export-design DIR]";

/// A flag's value, parsed; the error names the flag.
fn value<T: std::str::FromStr>(v: Option<String>, flag: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    v.ok_or(format!("{flag} needs a value"))?
        .parse()
        .map_err(|e| format!("{flag}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut out = Args {
        store: None,
        export: None,
        pause_before_save: None,
        name: "reviews".into(),
        config: TrainConfig::reviews(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // SAFETY: single-threaded here, before any check or thread runs.
            "--data" => unsafe {
                std::env::set_var(
                    mltest::data::reviews::ENV,
                    args.next().ok_or("--data needs a path")?,
                )
            },
            "--store" => out.store = Some(args.next().ok_or("--store needs a directory")?.into()),
            "--export-design" => {
                out.export = Some(
                    args.next()
                        .ok_or("--export-design needs a directory")?
                        .into(),
                )
            }
            "--pause-before-save" => {
                out.pause_before_save = Some(value::<u64>(args.next(), "--pause-before-save")?)
            }
            "--name" => out.name = args.next().ok_or("--name needs a value")?,
            "--seed" => out.config.seed = value::<u64>(args.next(), "--seed")?,
            "--min-rows" => out.config.min_rows = value(args.next(), "--min-rows")?,
            "--buckets" => out.config.buckets = value(args.next(), "--buckets")?,
            "--iterations" => {
                out.config.max_iterations = value::<u64>(args.next(), "--iterations")?
            }
            "--tolerance" => {
                out.config.gradient_tolerance = value::<f64>(args.next(), "--tolerance")?
            }
            "--alpha" => out.config.alpha = value::<f64>(args.next(), "--alpha")?,
            "--plain-lbfgs" => out.config.precondition = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    mltest::progress::enable(true);
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("pipeline: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let store = args
        .store
        .as_ref()
        .map_or_else(ModelStore::from_env, ModelStore::open);
    let run = match run_record::Run::start(&mltest::outdir::out_dir().join("runs"), store.root()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pipeline: cannot write the run record: {e}");
            return ExitCode::FAILURE;
        }
    };
    watch_signals(run.clone());
    let export = match args.export.as_deref().map(export::Export::new).transpose() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("pipeline: --export-design: {e}");
            return ExitCode::from(2);
        }
    };
    let mut figures = export::RunFigures {
        seed: args.config.seed,
        buckets: args.config.buckets,
        alpha: args.config.alpha,
        ..Default::default()
    };
    let start = Instant::now();
    let (code, status) = steps(&args, &store, &run, export.as_ref(), &mut figures);
    figures.status = status.into();
    figures.main_job_s = start.elapsed().as_secs_f64();
    if let Some(export) = &export
        && let Err(e) = export.figures(&figures)
    {
        eprintln!("pipeline: --export-design: cannot write run.json: {e}");
    }
    let _ = run.update(|r| r.status = status.into());
    println!("  run record: {}", run.path().display());
    // The report covers this run and the project's ML suites (the framework's
    // own demo binaries are left to `mltest report`).
    let suites: Vec<String> = ["pipeline", "data_quality", "robustness", "drift", "ab"]
        .into_iter()
        .map(String::from)
        .collect();
    match mltest::report::write_html(&mltest::outdir::out_dir(), &suites, Some(&store)) {
        Ok(path) => println!("  report: {}", path.display()),
        Err(e) => eprintln!("pipeline: cannot write the report: {e}"),
    }
    code
}

/// SIGINT/SIGTERM: record the run as interrupted, then exit 130. Whatever
/// the store was writing stays in a staging directory the next save removes.
fn watch_signals(run: run_record::Run) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let _ = run.update(|r| {
                r.status = "interrupted".into();
                r.steps.push(run_record::Step {
                    name: "interrupted".into(),
                    status: "interrupted".into(),
                    seconds: 0.0,
                    detail: format!("signal {sig}"),
                });
            });
            eprintln!("pipeline: interrupted (signal {sig}); no partial version was stored");
            std::process::exit(130);
        }
    });
}

fn stamp() -> String {
    mltest::__repo::iso_now()
}

/// The steps; returns the exit code and the run's status word.
fn steps(
    args: &Args,
    store: &ModelStore,
    run: &run_record::Run,
    export: Option<&export::Export>,
    figures: &mut export::RunFigures,
) -> (ExitCode, &'static str) {
    let gate_fn = |kind: &str, verdict: &str, detail: String| export::Gate {
        kind: kind.into(),
        verdict: verdict.into(),
        detail,
    };
    let start = Instant::now();

    println!(
        "step 1/3  data gate: {} checks from tests/data_quality.rs",
        mltest::check::registered_data_checks().len()
    );
    let t = Instant::now();
    let gate = data_gate::run();
    let data_info = gate.runs.iter().find_map(|r| r.data.clone());
    if let Some(info) = &data_info {
        println!("  data: {}", info.short());
        if let Some(note) = &info.note {
            println!("  note: {note}");
        }
        let _ = run.update(|r| r.data = Some(info.short()));
    }
    let gate_summary = format!("{} of {} tests failed", gate.failed, gate.runs.len());
    figures.gates.push(gate_fn(
        "data_gate",
        if gate.failed > 0 { "fail" } else { "pass" },
        gate_summary.clone(),
    ));
    if gate.failed > 0 {
        let _ = run.step(
            "data gate",
            "failed",
            t.elapsed().as_secs_f64(),
            gate_summary,
        );
        eprintln!(
            "data gate failed: {} test(s); training does not start",
            gate.failed
        );
        return (ExitCode::FAILURE, "failed");
    }
    let _ = run.step(
        "data gate",
        "passed",
        t.elapsed().as_secs_f64(),
        gate_summary.clone(),
    );

    println!("\nstep 2/3  train");
    let t = Instant::now();
    let data = match mltest::data::load_cached(&mltest::datasets::reviews()) {
        Ok(d) => d,
        Err(e) => {
            let _ = run.step("train", "failed", t.elapsed().as_secs_f64(), e.to_string());
            eprintln!("train: {e}");
            return (ExitCode::FAILURE, "failed");
        }
    };
    let trained = match train_step::run(
        &data,
        &args.config,
        store,
        &args.name,
        export,
        args.pause_before_save,
    ) {
        Ok(t) => t,
        Err(e) => {
            let _ = run.step("train", "failed", t.elapsed().as_secs_f64(), e.clone());
            eprintln!(
                "train: {e}\nnothing was written to the store ({})",
                store.root().display()
            );
            return (ExitCode::FAILURE, "failed");
        }
    };
    figures.train_step_s = Some(t.elapsed().as_secs_f64());
    figures.fit_s = Some(trained.report.fit_seconds);
    figures.iterations = Some(trained.report.iterations);
    figures.objective = Some(trained.report.objective);
    let _ = run.update(|r| r.model = Some(trained.id.clone()));
    let _ = store.record_check(
        &trained.id,
        RecordedCheck {
            kind: "data_gate".into(),
            passed: true,
            summary: gate_summary,
            time: stamp(),
        },
    );
    println!(
        "  saved {} ({:.1} s)",
        trained.id,
        t.elapsed().as_secs_f64()
    );
    let _ = run.step(
        "train",
        "passed",
        t.elapsed().as_secs_f64(),
        format!("saved {}", trained.id),
    );

    println!("\nstep 3/3  evaluate: held-out accuracy, then robustness");
    let t = Instant::now();
    match evaluate_step::run(&trained.model, &trained.id, &trained.test, store, &stamp()) {
        Ok(acc) => {
            figures.accuracy = Some(acc);
            figures
                .gates
                .push(gate_fn("evaluation", "pass", format!("accuracy {acc:.4}")));
            let _ = run.step(
                "evaluate",
                "passed",
                t.elapsed().as_secs_f64(),
                format!("accuracy {acc:.4}"),
            );
        }
        Err(e) => {
            let _ = run.step("evaluate", "failed", t.elapsed().as_secs_f64(), e.clone());
            figures.gates.push(gate_fn("evaluation", "fail", e.clone()));
            eprintln!("evaluate: {e}");
            return (ExitCode::FAILURE, "failed");
        }
    }
    let t = Instant::now();
    match robustness_step::run(&trained.id, store, &stamp(), &mut figures.gates) {
        robustness_step::Outcome::Passed => {
            let _ = run.step(
                "robustness",
                "passed",
                t.elapsed().as_secs_f64(),
                "all passed",
            );
        }
        robustness_step::Outcome::Inconclusive(why) => {
            let _ = run.step(
                "robustness",
                "inconclusive",
                t.elapsed().as_secs_f64(),
                why.clone(),
            );
            eprintln!(
                "robustness: {why}\n{} is stored, but the promotion gate needs every check decided",
                trained.id
            );
            return (ExitCode::from(3), "inconclusive");
        }
        robustness_step::Outcome::Failed(e) => {
            let _ = run.step("robustness", "failed", t.elapsed().as_secs_f64(), e.clone());
            eprintln!("robustness: {e}");
            return (ExitCode::FAILURE, "failed");
        }
    }
    println!(
        "\npipeline passed in {:.1} s: {} in {}",
        start.elapsed().as_secs_f64(),
        trained.id,
        store.root().display()
    );
    (ExitCode::SUCCESS, "passed")
}
