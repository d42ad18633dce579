//! Trains and saves the committed A/B candidate `reviews@2`: the reference
//! model without the review title (text features from `Review Text` only).
//! The question the A/B tests in `tests/ab.rs` answer: does dropping the
//! title (a field the new checkout form makes optional) cost accuracy?
//!
//! `cargo run --release --example train_candidate -- [--store DIR]`

use mltest::data::train_test_split;
use mltest::model::StoredModel;
use mltest::model::train::{TrainConfig, evaluate, train};
use mltest::store::ModelStore;

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
    let mut config = TrainConfig::reviews();
    config.text = vec!["Review Text".into()];
    config.notes = format!(
        "{} A/B candidate: text features from Review Text only (no Title).",
        config.notes
    );
    let (train_rows, test_rows) =
        train_test_split(data.frame(), config.seed, config.test_fraction)?;
    let mut model = train(&train_rows, &config, data.info())?;
    let held_out = evaluate(&model, &test_rows, &config.label)?;
    model
        .card_mut()
        .metrics
        .insert("test_accuracy".into(), held_out.accuracy);
    model.card_mut().parent = store
        .versions("reviews")
        .ok()
        .and_then(|v| v.last().copied());
    let id = model.save(&store, "reviews")?;
    println!(
        "saved {id}: held-out accuracy {:.4} on {} rows ({} features)",
        held_out.accuracy,
        test_rows.height(),
        model.pipeline().width()
    );
    Ok(())
}
