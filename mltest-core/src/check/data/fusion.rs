//! `#[data_expectation]` checks on the DataFusion engine: the body sees
//! the data set's columns (its values stay with DataFusion unless the
//! source is a frame already in memory), and the checks run as DataFusion
//! queries. Without the `datafusion` cargo feature such a check errors and
//! says how to enable it; it never falls back to polars unasked.

use std::sync::Arc;
use std::time::Instant;

use super::evaluate::{errored_run, expectations};
use super::{DataCheck, DataRun};
use crate::data::{DataSource, Dataset, Location, load_cached};
use crate::expect::CheckError;

/// Evaluates one check's expectations on DataFusion.
pub(super) fn evaluate(check: &DataCheck, source: &DataSource, start: Instant) -> DataRun {
    if !cfg!(feature = "datafusion") {
        let error = CheckError::Data(format!(
            "data set {:?} is to be checked on DataFusion (`Engine::DataFusion` or \
             MLTEST_ENGINE=datafusion), and this build has no DataFusion engine: build with \
             `--features datafusion` (cargo feature `datafusion` of mltest)",
            source.name()
        ));
        return errored_run(check, None, error, start);
    }
    let data = match columns_of(source) {
        Ok(d) => d,
        Err(e) => return errored_run(check, None, CheckError::Data(e), start),
    };
    let exps = match expectations(check, &data, start) {
        Ok(e) => e,
        Err(run) => return *run,
    };
    run(check, source, exps, start)
}

#[cfg(feature = "datafusion")]
fn run(
    check: &DataCheck,
    source: &DataSource,
    exps: Vec<crate::expect::Expectation>,
    start: Instant,
) -> DataRun {
    match source.evaluate_datafusion_with(exps, super::evaluate::options(check.examples)) {
        Ok(done) => DataRun {
            site: check.site,
            data: Some(done.info),
            outcomes: done.outcomes,
            seconds: start.elapsed().as_secs_f64(),
        },
        Err(e) => errored_run(check, None, CheckError::Data(e.to_string()), start),
    }
}

#[cfg(not(feature = "datafusion"))]
fn run(
    check: &DataCheck,
    _: &DataSource,
    _: Vec<crate::expect::Expectation>,
    start: Instant,
) -> DataRun {
    let error = CheckError::Data("built without the `datafusion` feature".into());
    errored_run(check, None, error, start)
}

/// What the check's body builds its expectations from: the columns of a
/// file or of a partitioned set's first partition, or the frame itself.
fn columns_of(source: &DataSource) -> Result<Arc<Dataset>, String> {
    let text = |e: crate::data::DataError| e.to_string();
    match source.location() {
        Location::Csv(_) | Location::Parquet(_) => crate::expect::schema_only(source)
            .map(Arc::new)
            .map_err(text),
        Location::Partitioned(dir) => {
            let files = crate::data::partition_files(dir).map_err(text)?;
            let first = crate::data::partitions::partition_source(source, &files[0].path);
            crate::expect::schema_only(&first)
                .map(Arc::new)
                .map_err(text)
        }
        Location::Generated(_) | Location::Frame(_) => {
            load_cached(source).map_err(|e| e.to_string())
        }
    }
}
