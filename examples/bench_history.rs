//! The metric history under load: append RUNS runs × CHECKS checks (one
//! transaction per run, as one test binary's publication of 30 checks),
//! then read the last 10 runs of every check, as a learned bound does.
//!
//! ```sh
//! cargo run --release --example bench_history -- [RUNS] [CHECKS]   # default 10000 30
//! ```
//!
//! Prints the append rate, the read time and the file size (retention at
//! its default, 1,000 runs per check, so the file stops growing).

use std::time::Instant;

use mltest::history::{CheckKey, History};
use mltest::record::{Details, Record, Verdict};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let checks: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(30);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("history.sqlite");
    let mut h = History::open(&path)?.with_commit(Some("0".repeat(40)));
    let mut batch: Vec<Record> = (0..checks)
        .map(|i| {
            let mut r = Record::new(
                &format!("suite::check_{i:02}"),
                format!("check_{i:02}"),
                "",
                Details::Ab(None),
            );
            r.check_index = i;
            r
        })
        .collect();
    let mut rng = mltest::rng::SplitMix64::new(1);
    let start = Instant::now();
    for run in 0..runs {
        let id = format!("run-{run:06}");
        for r in &mut batch {
            r.run_id.clone_from(&id);
            r.timestamp = run as f64;
            r.observed = Some(rng.below(1000) as f64 / 1000.0);
            r.verdict = Verdict::Pass;
        }
        h.append(&batch)?;
    }
    let append = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut read = 0;
    for i in 0..checks {
        let key = CheckKey::new(
            &mltest::outdir::binary_name(),
            &format!("suite::check_{i:02}"),
            &format!("check_{i:02}"),
        );
        read += h.past_figures(&key, 10, "none")?.len();
    }
    let read_s = start.elapsed().as_secs_f64();
    drop(h);
    let size = std::fs::metadata(&path)?.len();
    println!(
        "appended {runs} runs x {checks} checks in {append:.2} s ({:.0} runs/s, {:.0} figures/s); \
         read the last 10 runs of {checks} checks ({read} figures) in {:.2} ms; file {:.1} MiB",
        runs as f64 / append,
        (runs * checks) as f64 / append,
        read_s * 1e3,
        size as f64 / (1 << 20) as f64
    );
    Ok(())
}
