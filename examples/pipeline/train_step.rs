//! Step 2: split, train the reference model, save a new version. Needs the
//! model and store modules only.

use mltest::data::Dataset;
use mltest::data::train_test_split;
use mltest::model::ReferenceModel;
use mltest::model::StoredModel;
use mltest::model::train::{TrainConfig, TrainError, train};
use mltest::store::ModelStore;
use polars::prelude::DataFrame;

pub struct Trained {
    pub model: ReferenceModel,
    pub id: String,
    pub test: DataFrame,
}

pub fn run(
    data: &Dataset,
    config: &TrainConfig,
    store: &ModelStore,
    name: &str,
) -> Result<Trained, String> {
    let (train_rows, test_rows) = train_test_split(data.frame(), config.seed, config.test_fraction)
        .map_err(|e| e.to_string())?;
    println!(
        "  split (seed {}): {} train / {} test rows",
        config.seed,
        train_rows.height(),
        test_rows.height()
    );
    // A spinner while linfa fits (it reports no progress of its own); indicatif
    // draws nothing when stderr is not a terminal, so CI logs stay clean.
    let bar = mltest::__repo::spinner(&format!(
        "fitting logistic regression on {} rows × {} features",
        train_rows.height(),
        config.buckets + 40
    ));
    let result = train(&train_rows, config, data.info());
    bar.finish_and_clear();
    let mut model = result.map_err(|e: TrainError| e.to_string())?;
    let train_eval = mltest::model::train::evaluate(&model, &train_rows, &config.label)
        .map_err(|e| e.to_string())?;
    model
        .card_mut()
        .metrics
        .insert("train_accuracy".into(), train_eval.accuracy);
    model.card_mut().parent = store.versions(name).ok().and_then(|v| v.last().copied());
    let id = model.save(store, name).map_err(|e| e.to_string())?;
    Ok(Trained {
        model,
        id,
        test: test_rows,
    })
}
