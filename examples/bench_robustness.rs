//! Benchmark: perturbed predictions per second of the reference model under
//! two typos per review (perturb + features + predict), and the wall time of
//! a 1,000-case robustness run once model and data are loaded.
//!
//! `cargo run --release --example bench_robustness [-- MODEL_ID] [--cases N]`
//! (default reviews@1, 1,000 cases: the peer's count); `bench/robustness.py`
//! runs it beside the scikit-learn peer. Longer runs (`--cases 10000`) show
//! the steady rate: a 1,000-case run lasts ~1-4 ms, and on this VM waking
//! the idle second vCPU can take that long.

use std::time::Instant;

use mltest::model::ReferenceModel;
use mltest::prelude::*;
use mltest::robust::Trial;
use mltest::store::ModelStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut id, mut cases) = ("reviews@1".to_string(), 1_000usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cases" => {
                cases = args
                    .next()
                    .ok_or("--cases needs a number")?
                    .parse()
                    .map_err(|e| format!("--cases: {e}"))?
            }
            other => id = other.to_string(),
        }
    }
    let model = ReferenceModel::load(&ModelStore::from_env(), &id)?;
    let data = mltest::data::load_cached(&mltest::datasets::reviews())?;
    let facts = mltest::model::Model::facts(&model);
    let p = Perturb::new().text("Review Text", typos(2..=2));
    let mut runs = Vec::new();
    for seed in 0..15u64 {
        let t = Instant::now();
        let r = Trial::new(&model, &data, &p)
            .facts(&facts)
            .cases(cases)
            .seed(seed)
            .examples(3)
            .run()?;
        runs.push((t.elapsed().as_secs_f64(), r.throughput, r.rate));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Prediction alone on 1,000 unperturbed rows: the share of the time that is the model.
    let rows = data.frame().head(Some(1_000));
    let mut predict = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        std::hint::black_box(model.predict_proba(&rows)?);
        predict.push(t.elapsed().as_secs_f64());
    }
    predict.sort_by(f64::total_cmp);
    let (wall, throughput, _) = runs[runs.len() / 2];
    let mean_rate = runs.iter().map(|r| r.2).sum::<f64>() / runs.len() as f64;
    println!(
        "{}",
        serde_json::json!({
            "tool": "mltest",
            "model": id,
            "cases": cases,
            "run_s": (wall * 1e4).round() / 1e4,
            "perturbed_predictions_per_s": throughput.round(),
            "mean_flip_rate_15_seeds": (mean_rate * 1e4).round() / 1e4,
            "predict_only_per_s": (1_000.0 / predict[7]).round(),
            "threads": rayon_threads(),
        })
    );
    Ok(())
}

/// The cores the runner's blocks are spread over.
fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
