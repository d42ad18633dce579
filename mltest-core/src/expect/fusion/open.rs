//! A [`DataSource`] as a DataFusion table: DataFusion reads CSV and Parquet
//! files (one, or a partitioned directory) itself; generated and in-memory
//! frames are handed over as Arrow batches.
//!
//! A CSV is read with the column types the polars loader infers (its schema
//! is passed to DataFusion's reader), so both engines see the same types and
//! the same missing values: arrow's own inference would read ISO dates as
//! dates where polars keeps text, and the two engines would disagree on
//! schema and freshness checks.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema as ArrowSchema, TimeUnit};
use datafusion::prelude::{
    CsvReadOptions, DataFrame, Expr, ParquetReadOptions, SessionContext, ident,
};
use polars::prelude::{DataType, Schema as PolarsSchema};

use crate::data::{DataError, DataSource, LoadOptions, Location, PartitionFile};

/// A source opened on DataFusion.
pub(super) struct Opened {
    pub(super) df: DataFrame,
    /// What reports show as the data's origin.
    pub(super) origin: String,
    /// The files read, in order (none for generated or in-memory frames).
    pub(super) files: Vec<PathBuf>,
    /// Whether the files are CSV (hashed with a scan for blank records).
    pub(super) csv: bool,
}

fn engine_err(origin: &str, e: impl std::fmt::Display) -> DataError {
    DataError::Engine {
        origin: origin.to_string(),
        message: format!("DataFusion: {e}"),
    }
}

fn unsupported(path: &Path, what: &str) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        message: format!(
            "{what} is not supported on the DataFusion engine; evaluate this source on polars \
             (the default engine)"
        ),
    }
}

/// Opens `source` in `ctx`, applying its load options (column selection,
/// dtypes, missing-value tokens) as the polars loader does.
pub(super) async fn open(ctx: &SessionContext, source: &DataSource) -> Result<Opened, DataError> {
    let opts = &source.options;
    match &source.location {
        Location::Csv(path) => {
            let df = read_csv(ctx, &[path.clone()], path, opts).await?;
            finish(
                df,
                path.display().to_string(),
                vec![path.clone()],
                true,
                opts,
            )
        }
        Location::Parquet(path) => {
            exists(path)?;
            if opts.trim {
                return Err(unsupported(path, "`LoadOptions::trim`"));
            }
            let df = read_parquet(ctx, &[path.clone()], path).await?;
            finish(
                df,
                path.display().to_string(),
                vec![path.clone()],
                false,
                opts,
            )
        }
        Location::Partitioned(dir) => {
            let files: Vec<PathBuf> = crate::data::partition_files(dir)?
                .into_iter()
                .map(|f: PartitionFile| f.path)
                .collect();
            same_schema(source, &files)?;
            let csv = files[0]
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let df = if csv {
                read_csv(ctx, &files, &files[0], opts).await?
            } else {
                if opts.trim {
                    return Err(unsupported(dir, "`LoadOptions::trim`"));
                }
                read_parquet(ctx, &files, dir).await?
            };
            finish(df, dir.display().to_string(), files, csv, opts)
        }
        // The frame itself: a copy through the per-process load cache
        // would only add a clone of every column.
        Location::Frame(frame) => {
            let df = super::arrow::frame_to_datafusion(ctx, frame, &source.name)?;
            Ok(Opened {
                df,
                origin: format!("in-memory frame {:?}", source.name),
                files: Vec::new(),
                csv: false,
            })
        }
        Location::Generated(_) => {
            let data = crate::data::load_cached(source).map_err(|e| DataError::Engine {
                origin: source.name.clone(),
                message: e.to_string(),
            })?;
            let df = super::arrow::frame_to_datafusion(ctx, data.frame(), &source.name)?;
            Ok(Opened {
                df,
                origin: data.info().origin.clone(),
                files: Vec::new(),
                csv: false,
            })
        }
    }
}

fn exists(path: &Path) -> Result<(), DataError> {
    if path.exists() {
        Ok(())
    } else {
        Err(DataError::NotFound {
            path: path.to_path_buf(),
            cwd: std::env::current_dir().unwrap_or_default(),
        })
    }
}

/// The column selection of the load options, then (for CSV) the records
/// whose every kept field is missing dropped, as a load drops them.
fn finish(
    mut df: DataFrame,
    origin: String,
    files: Vec<PathBuf>,
    csv: bool,
    opts: &LoadOptions,
) -> Result<Opened, DataError> {
    if let Some(columns) = &opts.columns {
        df = df
            .select(columns.iter().map(ident).collect::<Vec<_>>())
            .map_err(|e| engine_err(&origin, e))?;
    }
    if csv {
        let present = df
            .schema()
            .fields()
            .iter()
            .map(|f| ident(f.name()).is_not_null())
            .reduce(Expr::or);
        if let Some(p) = present {
            df = df.filter(p).map_err(|e| engine_err(&origin, e))?;
        }
    }
    Ok(Opened {
        df,
        origin,
        files,
        csv,
    })
}

/// Partitions must share one schema, as on the polars path: DataFusion
/// would otherwise merge them into a wider one without a word.
fn same_schema(source: &DataSource, files: &[PathBuf]) -> Result<(), DataError> {
    let mut first: Option<polars::prelude::SchemaRef> = None;
    for f in files {
        let part = crate::data::partitions::partition_source(source, f);
        let schema = crate::expect::schema_only(&part)?.column_schema();
        match &first {
            None => first = Some(schema),
            Some(s) if **s != *schema => {
                return Err(DataError::Format {
                    path: f.clone(),
                    message: format!(
                        "its columns ({}) differ from those of {} ({}): every partition needs one schema",
                        crate::data::partitions::typed_columns(&schema),
                        files[0].display(),
                        crate::data::partitions::typed_columns(s)
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The `null_regex` that reads exactly the load options' tokens as missing.
fn null_regex(opts: &LoadOptions) -> String {
    let tokens: Vec<String> = opts.null_tokens.iter().map(|t| regex::escape(t)).collect();
    format!("^(?:{})$", tokens.join("|"))
}

async fn read_csv(
    ctx: &SessionContext,
    files: &[PathBuf],
    first: &Path,
    opts: &LoadOptions,
) -> Result<DataFrame, DataError> {
    exists(first)?;
    if opts.trim {
        return Err(unsupported(
            first,
            "`LoadOptions::trim` (text padded with spaces)",
        ));
    }
    // Every column, typed as the polars loader types it; the selection of
    // `columns` is applied after the read, as a projection.
    let all = LoadOptions {
        columns: None,
        ..opts.clone()
    };
    let polars_schema = crate::data::plan::csv(first, &all)?
        .collect_schema()
        .map_err(|e| DataError::Csv {
            path: first.to_path_buf(),
            line: None,
            column: None,
            message: e.to_string(),
        })?;
    let schema = arrow_schema(&polars_schema, first)?;
    let regex = null_regex(opts);
    let read = CsvReadOptions::new()
        .has_header(true)
        .schema(&schema)
        // Reviews hold line breaks inside quoted fields.
        .newlines_in_values(true)
        .null_regex(Some(regex))
        // Partition names are matched case-insensitively before this
        // (`partition_files`); every listed file is read.
        .file_extension("");
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    ctx.read_csv(paths, read).await.map_err(|e| DataError::Csv {
        path: first.to_path_buf(),
        line: None,
        column: None,
        message: format!("DataFusion: {e}"),
    })
}

async fn read_parquet(
    ctx: &SessionContext,
    files: &[PathBuf],
    origin: &Path,
) -> Result<DataFrame, DataError> {
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    ctx.read_parquet(paths, ParquetReadOptions::default().file_extension(""))
        .await
        .map_err(|e| DataError::Format {
            path: origin.to_path_buf(),
            message: format!("DataFusion: {e}"),
        })
}

/// The Arrow schema of a polars CSV schema (the types a CSV loads as).
fn arrow_schema(schema: &PolarsSchema, path: &Path) -> Result<ArrowSchema, DataError> {
    let fields = schema
        .iter()
        .map(|(name, dtype)| {
            let t = match dtype {
                DataType::Boolean => ArrowType::Boolean,
                DataType::Int8 => ArrowType::Int8,
                DataType::Int16 => ArrowType::Int16,
                DataType::Int32 => ArrowType::Int32,
                DataType::Int64 => ArrowType::Int64,
                DataType::UInt8 => ArrowType::UInt8,
                DataType::UInt16 => ArrowType::UInt16,
                DataType::UInt32 => ArrowType::UInt32,
                DataType::UInt64 => ArrowType::UInt64,
                DataType::Float32 => ArrowType::Float32,
                DataType::Float64 => ArrowType::Float64,
                DataType::String => ArrowType::Utf8,
                DataType::Date => ArrowType::Date32,
                DataType::Datetime(_, _) => ArrowType::Timestamp(TimeUnit::Microsecond, None),
                other => {
                    return Err(DataError::Dtype {
                        path: path.to_path_buf(),
                        column: name.to_string(),
                        expected: "a type DataFusion reads from CSV (number, text, boolean, date)"
                            .into(),
                        message: format!("the loader types it {other}"),
                    });
                }
            };
            Ok(Field::new(name.as_str(), t, true))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ArrowSchema::new(fields))
}

/// The polars type an Arrow column corresponds to: what validation, schema
/// checks and schema-change records see, so both engines name types alike.
pub(super) fn polars_dtype(t: &ArrowType) -> DataType {
    use polars::prelude::TimeUnit as P;
    match t {
        ArrowType::Boolean => DataType::Boolean,
        ArrowType::Int8 => DataType::Int8,
        ArrowType::Int16 => DataType::Int16,
        ArrowType::Int32 => DataType::Int32,
        ArrowType::Int64 => DataType::Int64,
        ArrowType::UInt8 => DataType::UInt8,
        ArrowType::UInt16 => DataType::UInt16,
        ArrowType::UInt32 => DataType::UInt32,
        ArrowType::UInt64 => DataType::UInt64,
        ArrowType::Float32 => DataType::Float32,
        ArrowType::Float64 => DataType::Float64,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => DataType::String,
        ArrowType::Dictionary(_, v)
            if matches!(
                **v,
                ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
            ) =>
        {
            DataType::String
        }
        ArrowType::Date32 | ArrowType::Date64 => DataType::Date,
        ArrowType::Timestamp(unit, _) => DataType::Datetime(
            match unit {
                TimeUnit::Second | TimeUnit::Millisecond => P::Milliseconds,
                TimeUnit::Microsecond => P::Microseconds,
                TimeUnit::Nanosecond => P::Nanoseconds,
            },
            None,
        ),
        ArrowType::Null => DataType::Null,
        // Lists, structs, decimals, binary: types no check measures.
        _ => DataType::Binary,
    }
}

/// The polars schema of a DataFusion frame.
pub(super) fn polars_schema(df: &DataFrame) -> PolarsSchema {
    df.schema()
        .fields()
        .iter()
        .map(|f| {
            (
                polars::prelude::PlSmallStr::from(f.name().as_str()),
                polars_dtype(f.data_type()),
            )
        })
        .collect()
}
