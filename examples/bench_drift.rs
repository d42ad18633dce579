//! mltest's side of the drift benchmark (`bench/drift.py`): the peers'
//! split (reference = Division "General", current = "General Petite") and
//! columns (Age, Positive Feedback Count numeric; Rating, Department Name,
//! Class Name categorical, as Evidently scores them). Prints one JSON line.
//!
//! `cargo run --release --example bench_drift -- CSV`
//!
//! `drift_s` covers everything the drift tests report: KS with scipy's
//! p-value, Wasserstein (raw and normalised), chi-square, Jensen–Shannon,
//! PSI, bootstrap intervals of every effect (200 resamples), the power
//! figures and Benjamini–Hochberg.

use std::time::Instant;

use mltest::drift::{Drift, Side};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: bench_drift CSV")?;
    let t0 = Instant::now();
    let columns = [
        "Age",
        "Positive Feedback Count",
        "Rating",
        "Division Name",
        "Department Name",
        "Class Name",
    ];
    let source = mltest::DataSource::csv(&path)
        .with_options(mltest::LoadOptions::default().columns(columns));
    let data = mltest::data::load_cached(&source)?;
    let reference = data.rows_where("Division Name", "General")?;
    let current = data.rows_where("Division Name", "General Petite")?;
    let t1 = Instant::now();
    let report = Drift::columns([
        "Age",
        "Positive Feedback Count",
        "Department Name",
        "Class Name",
    ])
    .categorical(["Rating"])
    .evaluate(&Side::data(reference.clone()), &Side::data(current.clone()))?;
    let t2 = Instant::now();
    if std::env::var_os("MLTEST_BENCH_PER_COLUMN").is_some() {
        for c in [
            "Age",
            "Positive Feedback Count",
            "Department Name",
            "Class Name",
            "Rating",
        ] {
            let t = Instant::now();
            let d = if c == "Rating" {
                Drift::columns(Vec::<String>::new()).categorical([c])
            } else {
                Drift::columns([c])
            };
            d.evaluate(&Side::data(reference.clone()), &Side::data(current.clone()))?;
            eprintln!("{c}: {:.4}s", t.elapsed().as_secs_f64());
        }
    }
    let scores: serde_json::Map<String, serde_json::Value> = report
        .columns
        .iter()
        .map(|c| (c.column.clone(), serde_json::json!(c.effect)))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "tool": "mltest",
            "ref_rows": reference.height(),
            "cur_rows": current.height(),
            "load_s": (t1 - t0).as_secs_f64(),
            "drift_s": (t2 - t1).as_secs_f64(),
            "drifted": report.columns.iter().filter(|c| c.drifted).map(|c| c.column.clone()).collect::<Vec<_>>(),
            "scores": scores,
        })
    );
    Ok(())
}
