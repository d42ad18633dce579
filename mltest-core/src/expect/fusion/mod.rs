//! The second engine: Apache DataFusion (cargo feature `datafusion`).
//!
//! The same expectations, compiled to DataFusion's DataFrame API instead
//! of polars: `open` (a [`DataSource`] or a table registered in the
//! user's `SessionContext`) → `execute` (one aggregate query over one scan
//! for every unsegmented or filtered check, a grouped aggregate per
//! grouping column, duplicate and leakage checks by queries of their own)
//! → [`decide`](crate::expect::decide), shared with polars → `examples`
//! (only for checks that did not pass). Validation, schema checks and the
//! schema-change record reuse the polars engine's code on the table's
//! column types, so both engines accept and refuse the same checks with
//! the same messages.
//!
//! Quantiles are exact (`percentile_cont`, linear interpolation: polars'
//! in-memory definition). The polars engine's streaming path sketches
//! them instead; a mergeable sketch aggregate for DataFusion is the next
//! step (see the README's "Past one machine").

mod arrow;
mod association;
mod compile;
mod epoch;
mod examples;
mod execute;
mod open;

use std::time::Instant;

use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

use super::engine::{Evaluator, Table};
use super::outcome::{CheckError, CheckOutcome, every_decided};
use super::{EvalOptions, Expectation, IntoExpectations};
use crate::data::{DataError, DataInfo, DataSource};

/// What a DataFusion evaluation of a source returns: the data set's
/// description (rows counted by the query, sha256 of the files) and one
/// outcome per expectation, in order.
#[derive(Debug)]
pub struct Evaluated {
    pub info: DataInfo,
    pub outcomes: Vec<CheckOutcome>,
}

impl DataSource {
    /// Evaluates expectations on Apache DataFusion instead of polars: the
    /// same figures and verdicts (the equality tests compare every figure),
    /// read by DataFusion's own CSV and Parquet readers. Needs the
    /// `datafusion` cargo feature.
    ///
    /// ```
    /// use mltest_core::{expect, DataSource};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("d.csv");
    /// std::fs::write(&path, "x,g\n1,a\n2,b\n,a\n").unwrap();
    /// let out = DataSource::csv(&path)
    ///     .evaluate_datafusion(vec![
    ///         expect::column("x").null_fraction().at_most(0.5),
    ///         expect::column("x").mean().between(1.4, 1.6),
    ///     ])
    ///     .unwrap();
    /// assert_eq!(out.info.rows, 3);
    /// assert!(out.outcomes.iter().all(|o| o.passed()));
    /// ```
    pub fn evaluate_datafusion(
        &self,
        expectations: impl IntoExpectations,
    ) -> Result<Evaluated, DataError> {
        self.evaluate_datafusion_with(expectations, EvalOptions::default())
    }

    /// [`evaluate_datafusion`](Self::evaluate_datafusion) with options.
    pub fn evaluate_datafusion_with(
        &self,
        expectations: impl IntoExpectations,
        options: EvalOptions,
    ) -> Result<Evaluated, DataError> {
        let expectations = expectations.into_expectations();
        let start = Instant::now();
        let source = self.clone();
        let (outcomes, opened) = in_runtime(move || {
            block_on(async move {
                let ctx = context(None);
                let opened = open::open(&ctx, &source).await?;
                let single = async || -> Option<DataFrame> {
                    open::open(&context(Some(1)), &source)
                        .await
                        .ok()
                        .map(|o| o.df)
                };
                let (outcomes, rows) =
                    evaluate_frame(&opened.df, &expectations, options, single).await;
                Ok::<_, DataError>((outcomes, (opened.origin, opened.files, opened.csv, rows)))
            })
        })??;
        let (origin, files, csv, rows) = opened;
        let sha256 = sha_of(self, &files, csv)?;
        let rows = rows.map_err(|e| DataError::Engine {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Ok(Evaluated {
            info: DataInfo {
                name: self.name.clone(),
                origin,
                sha256,
                rows: rows as usize,
                note: self.note.clone(),
                load_seconds: start.elapsed().as_secs_f64(),
                cache: None,
                streamed: false,
            },
            outcomes,
        })
    }
}

/// Evaluates expectations on a table registered in the caller's DataFusion
/// session (any `TableProvider`: a listing table, a view, a custom source).
///
/// ```
/// use std::sync::Arc;
/// use mltest_core::datafusion::arrow::array::{ArrayRef, Int64Array};
/// use mltest_core::datafusion::arrow::record_batch::RecordBatch;
/// use mltest_core::datafusion::prelude::SessionContext;
/// use mltest_core::expect;
/// let x: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(2), None]));
/// let ctx = SessionContext::new();
/// ctx.register_batch("t", RecordBatch::try_from_iter([("x", x)]).unwrap()).unwrap();
/// let checks = vec![
///     expect::row_count().at_least(3.0),
///     expect::column("x").null_fraction().at_most(0.1),
/// ];
/// let out = expect::evaluate_table(&ctx, "t", checks, Default::default()).unwrap();
/// assert!(out[0].passed());
/// assert!(!out[1].passed());
/// assert_eq!(out[1].examples[0].row, 2);
/// ```
pub fn evaluate_table(
    ctx: &SessionContext,
    table: &str,
    expectations: impl IntoExpectations,
    options: EvalOptions,
) -> Result<Vec<CheckOutcome>, DataError> {
    let expectations = expectations.into_expectations();
    let (ctx, name) = (ctx.clone(), table.to_string());
    let err = move |e: datafusion::error::DataFusionError| DataError::Engine {
        origin: format!("DataFusion table {name:?}"),
        message: e.to_string(),
    };
    let table = table.to_string();
    in_runtime(move || {
        block_on(async move {
            let df = ctx.table(table.as_str()).await.map_err(err.clone())?;
            let provider = ctx.table_provider(table.as_str()).await.map_err(err)?;
            let single = async move || context(Some(1)).read_table(provider).ok();
            Ok::<_, DataError>(evaluate_frame(&df, &expectations, options, single).await.0)
        })
    })?
}

/// A session for mltest's queries: every core, or `partitions` of them
/// (one partition keeps rows in file order, for example rows).
fn context(partitions: Option<usize>) -> SessionContext {
    let mut config = SessionConfig::new();
    if let Some(n) = partitions {
        config = config.with_target_partitions(n);
    }
    SessionContext::new_with_config(config)
}

/// Measures, decides and illustrates the checks on `df`.
async fn evaluate_frame(
    df: &DataFrame,
    expectations: &[Expectation],
    options: EvalOptions,
    single: impl AsyncFnOnce() -> Option<DataFrame>,
) -> (Vec<CheckOutcome>, Result<u64, CheckError>) {
    let schema = open::polars_schema(df);
    let ev = Evaluator::new(Table::from_schema(schema.clone()), options);
    let (mut outcomes, rows) = execute::run(df, &ev, expectations).await;
    if let Ok(0) = rows {
        // No rows: what the polars engine says of an empty table, check by
        // check (a missing column is still named; the rest have no rows).
        let empty = polars::prelude::DataFrame::empty_with_schema(&schema);
        let ev = Evaluator::new(Table::from_frame(&empty), options);
        for (o, e) in outcomes.iter_mut().zip(expectations) {
            if let Err(err) = ev.validate(e) {
                *o = Some(CheckOutcome::errored(e.clone(), err));
            }
        }
    }
    let mut outcomes = every_decided(outcomes, expectations);
    if outcomes.iter().any(|o| !o.passed())
        && let Some(single) = single().await
    {
        for o in outcomes.iter_mut().filter(|o| !o.passed()) {
            examples::attach(&single, &ev, options.examples, o).await;
        }
    }
    (outcomes, rows)
}

/// sha256 of the files read: a single file's own, or the partitions'
/// hashed together (as the polars path identifies a partitioned set).
fn sha_of(
    source: &DataSource,
    files: &[std::path::PathBuf],
    csv: bool,
) -> Result<String, DataError> {
    let hash = |p: &std::path::Path| {
        if csv {
            crate::data::hash_and_scan(p, &source.options).map(|(h, _)| h)
        } else {
            crate::hash::sha256_file(p)
        }
        .map_err(|e| DataError::Io {
            path: p.to_path_buf(),
            source: e,
        })
    };
    match files {
        [] if let crate::data::Location::Frame(frame) = &source.location => Ok(
            crate::data::Dataset::from_frame(source.name.clone(), (**frame).clone())
                .info()
                .sha256
                .clone(),
        ),
        [] => crate::data::load_cached(source)
            .map(|d| d.info().sha256.clone())
            .map_err(|e| DataError::Engine {
                origin: source.name.clone(),
                message: e.to_string(),
            }),
        [one] if !matches!(source.location, crate::data::Location::Partitioned(_)) => hash(one),
        many => {
            let mut shas = String::new();
            for f in many {
                shas.push_str(&hash(f)?);
            }
            Ok(crate::hash::sha256_hex(shas.as_bytes()))
        }
    }
}

/// Runs `f` on a thread of its own, so a caller already inside a tokio
/// runtime (a `#[tokio::test]`) can call the blocking API: a runtime
/// cannot be started from within another one.
fn in_runtime<T: Send>(f: impl FnOnce() -> Result<T, DataError> + Send) -> Result<T, DataError> {
    std::thread::scope(|s| {
        s.spawn(f).join().unwrap_or_else(|p| {
            Err(DataError::Engine {
                origin: "DataFusion".into(),
                message: format!("the query panicked: {}", crate::text::panic_text(p)),
            })
        })
    })
}

/// Blocks on `fut` in a multi-threaded runtime (DataFusion runs a query's
/// partitions as tasks on it).
fn block_on<T>(fut: impl std::future::Future<Output = T>) -> Result<T, DataError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DataError::Engine {
            origin: "DataFusion".into(),
            message: format!("cannot start the runtime: {e}"),
        })?;
    Ok(rt.block_on(fut))
}
