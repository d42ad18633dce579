//! Saves the committed test model: a per-department base-rate classifier of
//! `Recommended IND` on the reviews data (Laplace-smoothed share of
//! recommendations in each department; unknown departments get the overall
//! share). It is the floor any real model must beat, and it gives the store
//! a real, small version before the training pipeline exists.
//!
//! `cargo run --release --example baseline_model -- [--store DIR]`

use mltest::prelude::*;
use mltest::store::{
    Card, DataFingerprint, InputColumn, ModelStore, OutputSchema, Tensor, Tensors,
};
use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut store = ModelStore::from_env();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--store" => store = ModelStore::open(args.next().ok_or("--store needs a directory")?),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let data = mltest::data::load_cached(&mltest::datasets::reviews())?;
    let rates = data
        .frame()
        .clone()
        .lazy()
        .filter(col("Department Name").is_not_null())
        .group_by([col("Department Name")])
        .agg([
            col("Recommended IND")
                .sum()
                .cast(DataType::Float64)
                .alias("pos"),
            len().cast(DataType::Float64).alias("n"),
        ])
        .sort(["Department Name"], Default::default())
        .collect()?;
    let names: Vec<String> = rates
        .column("Department Name")?
        .str()?
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect();
    let pos: Vec<f64> = rates
        .column("pos")?
        .f64()?
        .iter()
        .map(|x| x.unwrap_or(0.0))
        .collect();
    let n: Vec<f64> = rates
        .column("n")?
        .f64()?
        .iter()
        .map(|x| x.unwrap_or(0.0))
        .collect();
    let smoothed: Vec<f64> = pos
        .iter()
        .zip(&n)
        .map(|(p, n)| (p + 1.0) / (n + 2.0))
        .collect();
    let overall = (pos.iter().sum::<f64>() + 1.0) / (n.iter().sum::<f64>() + 2.0);
    // Training accuracy of "predict 1 when the rate is above 0.5".
    let correct: f64 = pos
        .iter()
        .zip(&n)
        .zip(&smoothed)
        .map(|((p, n), r)| if *r > 0.5 { *p } else { n - p })
        .sum();
    let accuracy = correct / n.iter().sum::<f64>();

    let mut tensors = Tensors::new();
    tensors.insert(
        "department_rate".into(),
        Tensor::f64(vec![smoothed.len()], &smoothed),
    );
    tensors.insert("overall_rate".into(), Tensor::f64(vec![1], &[overall]));
    let mut card = Card::new(OutputSchema::binary("Recommended IND", ["0", "1"], "1"));
    card.description = Some("Per-department base rate of recommendation (Laplace-smoothed); the floor a real model must beat.".into());
    card.inputs = vec![InputColumn {
        name: "Department Name".into(),
        dtype: DType::Text,
        categories: Some(names.clone()),
        range: None,
        nullable: true,
        std: None,
    }];
    card.pipeline = serde_json::json!({
        "kind": "department_base_rate",
        "categories": names,
        "unknown": "overall_rate",
        "smoothing": "laplace(1, 2)",
    });
    let info = data.info();
    card.training_data = Some(DataFingerprint {
        source: info.origin.clone(),
        rows: info.rows,
        sha256: info.sha256.clone(),
    });
    card.metrics.insert("train_accuracy".into(), accuracy);
    let id = store.save("reviews-baseline", card, &tensors)?;
    println!("saved {id} to {}", store.root().display());
    Ok(())
}
