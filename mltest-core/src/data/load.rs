//! Reading a [`DataSource`] into a [`Dataset`]: parse, clean, fingerprint.

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;

use super::csv_locate;
use super::{DataError, DataInfo, DataSource, Dataset, LoadOptions, Location};

/// Loads a source without the per-process cache (see [`super::load_cached`]),
/// through the parse cache as `MLTEST_CACHE` and `MLTEST_CACHE_DIR` say.
pub(crate) fn load(source: &DataSource) -> Result<Dataset, DataError> {
    load_with(
        source,
        &super::parse_cache::cache_dir(),
        super::parse_cache::CacheMode::from_env(),
    )
}

/// Loads a source through the parse cache in `cache_dir` with `mode`,
/// without the per-process cache; `info().cache` says how the cache served
/// the load.
///
/// ```
/// use mltest_core::data::{load_with, parse_cache::{CacheMode, CacheUse}};
/// let dir = tempfile::tempdir().unwrap();
/// let csv = dir.path().join("t.csv");
/// std::fs::write(&csv, "a,b\n1,x\n2,y\n").unwrap();
/// let src = mltest_core::DataSource::csv(&csv);
/// let first = load_with(&src, &dir.path().join("cache"), CacheMode::On).unwrap();
/// let again = load_with(&src, &dir.path().join("cache"), CacheMode::On).unwrap();
/// assert_eq!(first.info().cache, Some(CacheUse::Stored));
/// assert!(again.info().cache.as_ref().is_some_and(CacheUse::is_hit));
/// assert!(first.frame().equals_missing(again.frame()));
/// ```
pub fn load_with(
    source: &DataSource,
    cache_dir: &Path,
    mode: super::parse_cache::CacheMode,
) -> Result<Dataset, DataError> {
    let start = Instant::now();
    let (frame, origin, sha256) = match &source.location {
        Location::Csv(path) => {
            let parsed = super::parse_cache::load(
                path,
                &source.options,
                cache_dir,
                mode,
                || {
                    let frame = read_csv(path, &source.options)?;
                    let (frame, blank) = drop_blank_records(frame, path)?;
                    Ok((frame, blank_note(blank)))
                },
                || hash_file(path),
            )?;
            let note = match (&source.note, parsed.note) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.clone().or(b),
            };
            let identity = parsed
                .cache
                .is_some()
                .then(|| super::dataset::CacheIdentity {
                    key: crate::hash::sha256_hex(
                        format!("{}|{}", parsed.sha256, source.options.key()).as_bytes(),
                    ),
                    dir: cache_dir.to_path_buf(),
                });
            let mut info = DataInfo {
                name: source.name.clone(),
                origin: path.display().to_string(),
                sha256: parsed.sha256,
                rows: 0,
                note,
                load_seconds: 0.0,
                cache: parsed.cache,
                streamed: false,
            };
            return Ok(match parsed.frame {
                super::parse_cache::Frame::Ready(frame) => {
                    info.rows = frame.height();
                    info.load_seconds = start.elapsed().as_secs_f64();
                    Dataset::new(info, frame).with_identity(identity)
                }
                super::parse_cache::Frame::Deferred {
                    schema,
                    ipc,
                    meta,
                    rows,
                    ipc_bytes,
                } => {
                    info.rows = rows;
                    info.load_seconds = start.elapsed().as_secs_f64();
                    let (path, options) = (path.clone(), source.options.clone());
                    Dataset::deferred(
                        info,
                        schema,
                        identity,
                        Box::new(move |columns: Option<&[String]>| {
                            super::parse_cache::read_deferred(&ipc, &meta, rows, ipc_bytes, columns)
                                .or_else(|damaged| {
                                    // The entry broke between the check and the read:
                                    // parse the source (the next load rebuilds the entry).
                                    let frame =
                                        read_csv(&path, &options).map_err(|e| e.to_string())?;
                                    let (frame, _) =
                                        drop_blank_records(frame, &path).map_err(|e| {
                                            format!("{e} (after a damaged cache entry: {damaged})")
                                        })?;
                                    match columns {
                                        Some(c) => frame.select(c.iter().map(String::as_str)),
                                        None => Ok(frame),
                                    }
                                    .map_err(|e| e.to_string())
                                })
                        }),
                    )
                }
            });
        }
        Location::Parquet(path) => {
            let sha = hash_file(path)?;
            let frame = read_parquet(path)?;
            (frame, path.display().to_string(), sha)
        }
        Location::Generated(spec) => {
            let frame = spec.generate().map_err(|e| DataError::Polars {
                origin: spec.describe(),
                message: e.to_string(),
            })?;
            (frame, spec.describe(), spec.fingerprint())
        }
        Location::Partitioned(dir) => {
            let (frame, sha) =
                super::partitions::concat(source, dir, |part| load_with(part, cache_dir, mode))?;
            (frame, dir.display().to_string(), sha)
        }
        Location::Frame(frame) => {
            let frame = (**frame).clone();
            let sha = super::dataset::frame_fingerprint(&source.name, &frame);
            (frame, format!("in-memory frame {:?}", source.name), sha)
        }
    };
    let origin_path = Path::new(&origin).to_path_buf();
    let frame = clean(frame, &source.options, &origin_path)?;
    // A row of nulls in Parquet or in memory is data (a blank line is a CSV
    // artefact); the streaming path keeps it too.
    let note = source.note.clone();
    Ok(Dataset::new(
        DataInfo {
            name: source.name.clone(),
            origin,
            sha256,
            rows: frame.height(),
            note,
            load_seconds: start.elapsed().as_secs_f64(),
            cache: None,
            streamed: false,
        },
        frame,
    ))
}

fn blank_note(blank: usize) -> Option<String> {
    (blank > 0).then(|| format!("dropped {blank} blank record(s) (every field empty)"))
}

fn hash_file(path: &Path) -> Result<String, DataError> {
    if !path.exists() {
        return Err(DataError::NotFound {
            path: path.to_path_buf(),
            cwd: std::env::current_dir().unwrap_or_default(),
        });
    }
    crate::hash::sha256_file(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The CSV through the shared plan ([`super::plan::csv`]), collected.
fn read_csv(path: &Path, opts: &LoadOptions) -> Result<DataFrame, DataError> {
    super::plan::csv(path, opts)?
        .collect()
        .map_err(|e| collect_error(path, opts, e))
}

/// An error from running a load plan: a value a trimmed column's sample
/// typing cannot hold is named as such; the rest is polars' parse error.
pub(crate) fn collect_error(path: &Path, opts: &LoadOptions, e: PolarsError) -> DataError {
    let message = e.to_string();
    if opts.trim && message.contains("conversion from `str`") {
        let column = message
            .split("in column '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap_or("?")
            .to_string();
        return DataError::Dtype {
            path: path.to_path_buf(),
            column,
            expected: "the number its first rows hold once trimmed".into(),
            message: format!(
                "{message}; set the column's dtype (LoadOptions::dtype(.., DType::Text)) or \
                 infer from more rows (LoadOptions::infer_rows)"
            ),
        };
    }
    csv_locate::csv_error(path, opts, e)
}

fn read_parquet(path: &Path) -> Result<DataFrame, DataError> {
    let pl_path = PlRefPath::try_from_path(path).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())
        .and_then(|lf| lf.collect())
        .map_err(|e| DataError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Trimming on a frame that did not come through the CSV plan (Parquet,
/// generated, in memory): the same plan steps ([`super::plan::trimmed`]).
fn clean(frame: DataFrame, opts: &LoadOptions, origin: &Path) -> Result<DataFrame, DataError> {
    if !opts.trim && opts.columns.is_none() {
        return Ok(frame);
    }
    let lf = super::plan::trimmed(frame.lazy(), opts, &[], &[])
        .map_err(|e| collect_error(origin, opts, e))?;
    super::plan::select_columns(lf, opts, origin)?
        .collect()
        .map_err(|e| collect_error(origin, opts, e))
}

/// A blank line (the Adult file ends with one) parses as a record whose
/// every field is missing; such records carry no data and are dropped, and
/// the count goes into the data set's note so the drop is visible.
fn drop_blank_records(frame: DataFrame, origin: &Path) -> Result<(DataFrame, usize), DataError> {
    if frame.width() == 0 || frame.height() == 0 {
        return Ok((frame, 0));
    }
    let polars_err = |e: PolarsError| DataError::Polars {
        origin: origin.display().to_string(),
        message: e.to_string(),
    };
    // Count first: filtering copies every column (12 ms on the 1M-row file),
    // and most files have no blank record.
    let blank = frame
        .clone()
        .lazy()
        .select([any_horizontal([all().as_expr().is_not_null()])
            .map_err(polars_err)?
            .not()
            .sum()
            .alias("blank")])
        .collect()
        .map_err(polars_err)?
        .column("blank")
        .and_then(|c| c.get(0).map(|v| v.extract::<u64>()))
        .map_err(polars_err)?;
    if blank == Some(0) {
        return Ok((frame, 0));
    }
    let before = frame.height();
    let kept = frame
        .lazy()
        .filter(any_horizontal([all().as_expr().is_not_null()]).map_err(polars_err)?)
        .collect()
        .map_err(polars_err)?;
    let dropped = before - kept.height();
    Ok((kept, dropped))
}

pub(crate) fn column_list(frame: &DataFrame) -> String {
    frame
        .get_column_names()
        .iter()
        .map(|c| format!("{:?}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
