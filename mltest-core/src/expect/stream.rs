//! Evaluating expectations on a file without loading it: a lazy scan (only
//! the columns the checks read are parsed) run on polars' streaming engine,
//! so memory holds the aggregates, not the data. Examples for failed checks
//! come from a second, filtered scan — only when something failed.

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;

use super::engine::{Evaluator, Table};
use super::{CheckOutcome, EvalOptions, IntoExpectations};
use crate::data::{DataError, DataInfo, DataSource, Location, plan};

/// The outcomes of a streaming evaluation and the data set's provenance.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub info: DataInfo,
    pub outcomes: Vec<CheckOutcome>,
}

impl DataSource {
    /// Evaluates expectations on the file without loading it into memory:
    /// projection is pushed into the parser and the query runs on polars'
    /// streaming engine. Sources that are not files are loaded as usual.
    ///
    /// The load options mean what they mean in a load (one plan applies
    /// them, `data::plan`): the same columns, dtypes, missing values
    /// and rows, so the figures are the same; quantiles are sketched unless
    /// [`EvalOptions::exact_quantiles`] asks otherwise.
    ///
    /// ```
    /// use mltest_core::{expect, DataSource};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("d.csv");
    /// std::fs::write(&path, "Age,Dept\n30,Tops\n,Dresses\n41,Tops\n").unwrap();
    /// let run = DataSource::csv(&path)
    ///     .evaluate_streaming(vec![expect::column("Age").null_fraction().at_most(0.5)])
    ///     .unwrap();
    /// assert_eq!(run.info.rows, 3);
    /// assert_eq!(run.outcomes[0].observed, Some(1.0 / 3.0));
    /// ```
    pub fn evaluate_streaming(
        &self,
        expectations: impl IntoExpectations,
    ) -> Result<Streamed, DataError> {
        self.evaluate_streaming_with(expectations, EvalOptions::default())
    }

    /// [`evaluate_streaming`](Self::evaluate_streaming) with options.
    pub fn evaluate_streaming_with(
        &self,
        expectations: impl IntoExpectations,
        options: EvalOptions,
    ) -> Result<Streamed, DataError> {
        let start = Instant::now();
        if self.file_path().is_none() {
            let data = crate::data::load_cached(self).map_err(|e| DataError::Polars {
                origin: self.name.clone(),
                message: e.to_string(),
            })?;
            let outcomes = data.evaluate_with(expectations, options);
            return Ok(Streamed {
                info: data.info().clone(),
                outcomes,
            });
        }
        let path = existing_file(self, "stream")?;
        let expectations = expectations.into_expectations();
        let evaluate = |filter_blank: bool| {
            scan(self, &path, filter_blank).and_then(|(lf, filtered)| {
                let table = Table::from_scan(lf, true).map_err(|e| polars_err(&path, e))?;
                let ev = Evaluator::new(table, options);
                let outcomes = ev.run(expectations.clone());
                Ok((outcomes, ev.rows_seen.get(), filtered))
            })
        };
        let csv = matches!(self.location, Location::Csv(_));
        // The file is hashed (and, for a CSV, searched for records whose
        // every field is missing) while the checks run.
        let (sha, scanned) = std::thread::scope(|s| {
            let sha = s.spawn(|| {
                if csv {
                    crate::data::hash_and_scan(&path, &self.options)
                } else {
                    crate::hash::sha256_file(&path).map(|h| (h, false))
                }
            });
            let scanned = evaluate(false);
            (sha.join(), scanned)
        });
        let (sha, blank) = match sha {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => return Err(DataError::Io { path, source }),
            Err(_) => {
                return Err(polars_err(
                    &path,
                    PolarsError::ComputeError("hashing thread panicked".into()),
                ));
            }
        };
        let (outcomes, rows) = match scanned? {
            // A load drops records whose every field is missing; this scan
            // kept them, and one may be there: evaluate again without them.
            (_, _, false) if blank => {
                let (outcomes, rows, _) = evaluate(true)?;
                (outcomes, rows)
            }
            (outcomes, rows, _) => (outcomes, rows),
        };
        // A later non-number in a column the sampled rows typed as numbers
        // surfaces inside the streaming engine; name it as a load does.
        let outcomes = outcomes
            .into_iter()
            .map(|mut o| {
                if let Some(super::CheckError::Engine(message)) = o.error()
                    && self.options.trim
                    && message.contains("conversion from `str`")
                {
                    let e = crate::data::load::collect_error(
                        &path,
                        &self.options,
                        PolarsError::ComputeError(message.clone().into()),
                    );
                    o.rename_error(super::CheckError::Data(e.to_string()));
                }
                o
            })
            .collect();
        Ok(Streamed {
            info: DataInfo {
                name: self.name.clone(),
                origin: path.display().to_string(),
                sha256: sha,
                rows: rows.unwrap_or(0) as usize,
                note: self.note.clone(),
                load_seconds: start.elapsed().as_secs_f64(),
                cache: None,
                streamed: true,
            },
            outcomes,
        })
    }
}

/// How polars' streaming engine would run a batch of checks over a file:
/// one physical plan per query, each node marked when it falls back to the
/// in-memory engine (which holds its whole input: what the streaming path
/// exists to avoid).
#[derive(Debug, Clone)]
pub struct StreamingPlan {
    pub queries: Vec<QueryPlan>,
}

/// One query's physical plan.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// `select` (the main query) or `group_by "Column"`.
    pub query: String,
    pub nodes: Vec<PlanNode>,
    /// The plan as Graphviz dot (polars' own rendering; fallbacks in red).
    pub dot: String,
}

/// A node of a physical plan: its first label line (`multi-scan[csv]`,
/// `select`, `reduce`, `in-memory-map`, ...) and whether it falls back.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanNode {
    pub kind: String,
    pub in_memory_fallback: bool,
}

impl StreamingPlan {
    /// Nodes that fall back to the in-memory engine, as `query: kind`.
    pub fn in_memory_fallbacks(&self) -> Vec<String> {
        self.queries
            .iter()
            .flat_map(|q| {
                q.nodes
                    .iter()
                    .filter(|n| n.in_memory_fallback)
                    .map(move |n| format!("{}: {}", q.query, n.kind))
            })
            .collect()
    }

    /// Scans of the source over all queries (one per query).
    pub fn scans(&self) -> usize {
        self.queries
            .iter()
            .flat_map(|q| &q.nodes)
            .filter(|n| n.kind.starts_with("multi-scan"))
            .count()
    }
}

/// The nodes of polars' dot rendering: `ID [label="kind\n...",attrs];`.
fn parse_nodes(dot: &str) -> Vec<PlanNode> {
    // polars' colour for in-memory fallbacks (`NodeStyle::InMemoryFallback`).
    const FALLBACK: &str = "fillcolor=\"0.0 0.3 1.0\"";
    dot.lines()
        .filter_map(|line| {
            let rest = line.split_once(" [label=\"")?.1;
            let kind = rest.split(['\\', '"']).next()?.to_string();
            Some(PlanNode {
                kind,
                in_memory_fallback: line.contains(FALLBACK),
            })
        })
        .collect()
}

impl DataSource {
    /// The physical plans [`evaluate_streaming_with`](Self::evaluate_streaming_with)
    /// would run, without running them: which nodes stream and which fall
    /// back to memory. Quantile checks stream as KLL sketches unless
    /// `options.exact_quantiles` is set.
    ///
    /// ```
    /// use mltest_core::{expect, expect::EvalOptions, DataSource};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("d.csv");
    /// std::fs::write(&path, "Age,Dept\n30,Tops\n,Dresses\n41,Tops\n").unwrap();
    /// let suite = || vec![
    ///     expect::column("Age").null_fraction().at_most(0.5),
    ///     expect::column("Age").median().between(20.0, 60.0),
    /// ];
    /// let src = DataSource::csv(&path);
    /// let plan = src.streaming_plan(suite(), EvalOptions::default()).unwrap();
    /// assert!(plan.in_memory_fallbacks().is_empty());
    /// let exact = EvalOptions { exact_quantiles: true, ..EvalOptions::default() };
    /// let plan = src.streaming_plan(suite(), exact).unwrap();
    /// assert!(!plan.in_memory_fallbacks().is_empty());
    /// ```
    pub fn streaming_plan(
        &self,
        expectations: impl IntoExpectations,
        options: EvalOptions,
    ) -> Result<StreamingPlan, DataError> {
        let path = existing_file(self, "have a streaming plan")?;
        let (lf, _) = scan(self, &path, false)?;
        let table = Table::from_scan(lf, true).map_err(|e| polars_err(&path, e))?;
        let ev = Evaluator::new(table, options);
        let plans = ev
            .streaming_plans(&expectations.into_expectations())
            .map_err(|e| polars_err(&path, e))?;
        Ok(StreamingPlan {
            queries: plans
                .into_iter()
                .map(|(query, dot)| QueryPlan {
                    query,
                    nodes: parse_nodes(&dot),
                    dot,
                })
                .collect(),
        })
    }
}

/// What a `#[data_expectation]` body sees of a streamed file: its columns
/// and dtypes (read from the header), no values. Expectations are built
/// from column names, so a body works the same; one that reaches for the
/// values (`frame()`) gets a panic naming the file and why.
pub(crate) fn schema_only(source: &DataSource) -> Result<crate::data::Dataset, DataError> {
    let path = existing_file(source, "stream")?;
    let schema = scan(source, &path, false)?
        .0
        .collect_schema()
        .map_err(|e| polars_err(&path, e))?;
    let origin = path.display().to_string();
    let info = DataInfo {
        name: source.name.clone(),
        origin: origin.clone(),
        sha256: String::new(),
        rows: 0,
        note: source.note.clone(),
        load_seconds: 0.0,
        cache: None,
        streamed: true,
    };
    Ok(crate::data::Dataset::deferred(
        info,
        schema,
        None,
        Box::new(move |_: Option<&[String]>| {
            Err(format!(
                "{origin} is streamed (larger than `MLTEST_STREAM_ABOVE` or marked \
                 `Streaming::Always`), so its values are never loaded; build expectations \
                 from column names, or use `Streaming::Never`"
            ))
        }),
    ))
}

/// The source's file, which must exist; only CSV and Parquet files `what`.
fn existing_file(source: &DataSource, what: &str) -> Result<std::path::PathBuf, DataError> {
    let Some(path) = source.file_path() else {
        return Err(DataError::Polars {
            origin: source.name.clone(),
            message: format!("only file sources (CSV, Parquet) {what}"),
        });
    };
    if !path.exists() {
        return Err(DataError::NotFound {
            path: path.to_path_buf(),
            cwd: std::env::current_dir().unwrap_or_default(),
        });
    }
    Ok(path.to_path_buf())
}

fn polars_err(path: &Path, e: PolarsError) -> DataError {
    DataError::Polars {
        origin: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The lazy scan of a file source, with its load options applied as the
/// same plan steps a load collects ([`crate::data::plan`]), and whether it
/// drops records whose every field is missing (always with `filter_blank`,
/// else when the file ends in blank lines).
fn scan(
    source: &DataSource,
    path: &Path,
    filter_blank: bool,
) -> Result<(LazyFrame, bool), DataError> {
    let opts = &source.options;
    let mut lf = match &source.location {
        Location::Parquet(_) => {
            let pl_path = PlRefPath::try_from_path(path).map_err(|e| polars_err(path, e))?;
            let lf = LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()).map_err(|e| {
                DataError::Format {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            })?;
            let lf = plan::trimmed(lf, opts, &[], &[]).map_err(|e| polars_err(path, e))?;
            plan::select_columns(lf, opts, path)?
        }
        _ => plan::csv(path, opts)?,
    };
    // With `columns`, a load drops records blank in the kept columns, and
    // the filter reads only those: cheap, so always.
    let filter = matches!(source.location, Location::Csv(_))
        && (filter_blank || opts.columns.is_some() || trailing_blank_lines(path) > 0);
    if filter {
        // Only then: the filter reads every column, which a clean file never pays for.
        lf = lf.filter(
            any_horizontal([all().as_expr().is_not_null()]).map_err(|e| polars_err(path, e))?,
        );
    }
    Ok((lf, filter))
}

/// Blank lines at the end of a file (newlines after the last record's).
fn trailing_blank_lines(path: &Path) -> usize {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return 0;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let take = len.min(4096);
    if f.seek(SeekFrom::End(-(take as i64))).is_err() {
        return 0;
    }
    let mut tail = Vec::with_capacity(take as usize);
    if f.read_to_end(&mut tail).is_err() {
        return 0;
    }
    let newlines = tail
        .iter()
        .rev()
        .take_while(|b| matches!(b, b'\n' | b'\r'))
        .filter(|b| **b == b'\n')
        .count();
    newlines.saturating_sub(1)
}
