//! Step 2: split, train the reference model, save a new version. Needs the
//! model and store modules only.

use mltest::data::{Dataset, split_rows, train_test_split};
use mltest::model::ReferenceModel;
use mltest::model::StoredModel;
use mltest::model::train::{FitReport, TrainConfig, TrainError, design, train_with_report};
use mltest::store::ModelStore;
use polars::prelude::DataFrame;

use crate::export::Export;

pub struct Trained {
    pub model: ReferenceModel,
    pub id: String,
    pub test: DataFrame,
    pub report: FitReport,
}

pub fn run(
    data: &Dataset,
    config: &TrainConfig,
    store: &ModelStore,
    name: &str,
    export: Option<&Export>,
    pause_before_save: Option<u64>,
) -> Result<Trained, String> {
    let (train_rows, test_rows) = train_test_split(data.frame(), config.seed, config.test_fraction)
        .map_err(|e| e.to_string())?;
    println!(
        "  split (seed {}): {} train / {} test rows",
        config.seed,
        train_rows.height(),
        test_rows.height()
    );
    let (mut model, report) = train_with_report(&train_rows, config, data.info())
        .map_err(|e: TrainError| e.to_string())?;
    println!(
        "  fitted on {} rows x {} features ({} non-zeros): {} L-BFGS iterations, {} evaluations, \
         objective {:.4}{}; features {:.3} s, fit {:.3} s",
        report.rows,
        report.width,
        report.nnz,
        report.iterations,
        report.evaluations,
        report.objective,
        if report.converged {
            ""
        } else {
            " (iteration limit)"
        },
        report.features_seconds,
        report.fit_seconds
    );
    if let Some(export) = export {
        let (train_idx, test_idx) =
            split_rows(data.frame().height(), config.seed, config.test_fraction);
        let label = &config.label;
        let write = || -> Result<(), String> {
            export
                .rows("train", &train_idx)
                .map_err(|e| e.to_string())?;
            export.rows("test", &test_idx).map_err(|e| e.to_string())?;
            for (part, rows) in [("train", &train_rows), ("test", &test_rows)] {
                let (x, y) = design(rows, model.pipeline(), label).map_err(|e| e.to_string())?;
                export.design(part, &x, &y).map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        write().map_err(|e| format!("--export-design: {e}"))?;
    }
    let train_eval = mltest::model::train::evaluate(&model, &train_rows, &config.label)
        .map_err(|e| e.to_string())?;
    model
        .card_mut()
        .metrics
        .insert("train_accuracy".into(), train_eval.accuracy);
    model.card_mut().parent = store.versions(name).ok().and_then(|v| v.last().copied());
    if let Some(ms) = pause_before_save {
        // A hook for tests/training.rs: a signal arriving here, after the
        // fit and before the version is written, must leave no version.
        println!("  holding {ms} ms before saving (--pause-before-save)");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let id = model.save(store, name).map_err(|e| e.to_string())?;
    Ok(Trained {
        model,
        id,
        test: test_rows,
        report,
    })
}
