//! The load options as steps of one lazy plan, shared by every path that
//! reads a file: the in-memory load (and so the parse cache, which stores
//! its result) collects the plan, the streaming path runs checks on it. One
//! plan means one meaning: a file that crosses `MLTEST_STREAM_ABOVE` keeps
//! its column names, dtypes, missing values and rows.
//!
//! Trimming is the option that needs care. polars parses `" 39"` as text and
//! does not match `" ?"` against the null token `"?"`, so trimming is a step
//! after the parse: header names are trimmed (`age, workclass` →
//! `"workclass"`), text values are stripped and matched against the null
//! tokens again, and a text column is re-typed to integers or floats when its
//! trimmed values are all numbers **in the first `infer_rows` rows** — the
//! same rows polars' own dtype inference reads, and rows the streaming path
//! can read without a second pass over the file. A later value that is not a
//! number is then an error naming the column and the value, as polars'
//! inference error is for an untrimmed file, never a silent missing value.

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use super::{DType, DataError, LoadOptions};

/// The polars dtype a [`DType`] override parses as.
pub(crate) fn polars_dtype(d: DType) -> DataType {
    match d {
        DType::Integer => DataType::Int64,
        DType::Float | DType::Numeric => DataType::Float64,
        DType::Boolean => DataType::Boolean,
        DType::Text | DType::Categorical | DType::Other => DataType::String,
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// polars' lazy CSV reader with the options' null tokens, inference length
/// and (already resolved) dtype overrides.
fn reader(
    path: &Path,
    opts: &LoadOptions,
    overrides: &[(String, DataType)],
) -> Result<LazyCsvReader, DataError> {
    let pl_path = PlRefPath::try_from_path(path).map_err(|e| io_err(path, e))?;
    let mut reader = LazyCsvReader::new(pl_path)
        .with_infer_schema_length(opts.infer_rows)
        .with_null_values(Some(NullValues::AllColumns(
            opts.null_tokens
                .iter()
                .map(|t| PlSmallStr::from(t.as_str()))
                .collect(),
        )));
    if !overrides.is_empty() {
        let schema: Schema = overrides
            .iter()
            .map(|(c, d)| Field::new(c.as_str().into(), d.clone()))
            .collect();
        reader = reader.with_dtype_overwrite(Some(Arc::new(schema)));
    }
    Ok(reader)
}

/// The header's names as written and as the options name them (trimmed
/// when `trim` is on and the trimmed names stay distinct).
fn header_names(path: &Path, opts: &LoadOptions) -> Result<Vec<(String, String)>, DataError> {
    // Names only: no dtype inference, so no rows are read past the header.
    let schema = reader(path, opts, &[])?
        .with_infer_schema_length(Some(0))
        .finish()
        .and_then(|mut lf| lf.collect_schema())
        .map_err(|e| super::csv_locate::csv_error(path, opts, e))?;
    let raw: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let trimmed: Vec<String> = raw.iter().map(|c| c.trim().to_string()).collect();
    let distinct: std::collections::HashSet<&String> = trimmed.iter().collect();
    Ok(if opts.trim && distinct.len() == trimmed.len() {
        raw.into_iter().zip(trimmed).collect()
    } else {
        raw.iter().cloned().zip(raw.iter().cloned()).collect()
    })
}

/// A CSV file as a lazy plan with every load option applied except the
/// removal of blank records (each path counts or filters those itself).
pub(crate) fn csv(path: &Path, opts: &LoadOptions) -> Result<LazyFrame, DataError> {
    if !path.exists() {
        return Err(DataError::NotFound {
            path: path.to_path_buf(),
            cwd: std::env::current_dir().unwrap_or_default(),
        });
    }
    let names = if opts.trim || !opts.dtypes.is_empty() {
        header_names(path, opts)?
    } else {
        Vec::new()
    };
    // Overrides name columns as the user sees them (trimmed); the parser
    // sees the header as written. Under trimming a numeric override is parsed
    // as text and cast once the padding is gone (polars rejects " 39").
    let mut overrides = Vec::new();
    let mut casts = Vec::new();
    // Overridden columns by the names they get (a raw `" age"` is `"age"`).
    let mut keep = Vec::new();
    for (column, d) in &opts.dtypes {
        let Some((raw, shown)) = names
            .iter()
            .find(|(raw, shown)| shown == column || raw == column)
        else {
            return Err(DataError::UnknownColumn {
                path: path.to_path_buf(),
                column: column.clone(),
                available: names
                    .iter()
                    .map(|(_, n)| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        keep.push(shown.clone());
        let numeric = matches!(d, DType::Integer | DType::Float | DType::Numeric);
        if opts.trim && numeric {
            overrides.push((raw.clone(), DataType::String));
            casts.push((shown.clone(), polars_dtype(*d)));
        } else {
            overrides.push((raw.clone(), polars_dtype(*d)));
        }
    }
    let mut lf = reader(path, opts, &overrides)?
        .finish()
        .map_err(|e| super::csv_locate::csv_error(path, opts, e))?;
    let renamed: Vec<&(String, String)> =
        names.iter().filter(|(raw, shown)| raw != shown).collect();
    if !renamed.is_empty() {
        lf = lf.rename(
            renamed.iter().map(|(raw, _)| raw.as_str()),
            renamed.iter().map(|(_, shown)| shown.as_str()),
            true,
        );
    }
    let lf = trimmed(lf, opts, &casts, &keep).map_err(|e| polars_err(path, e))?;
    select_columns(lf, opts, path)
}

/// Restricts a plan to the options' `columns`, naming a missing one.
pub(crate) fn select_columns(
    mut lf: LazyFrame,
    opts: &LoadOptions,
    path: &Path,
) -> Result<LazyFrame, DataError> {
    let Some(cols) = &opts.columns else {
        return Ok(lf);
    };
    let schema = lf.collect_schema().map_err(|e| polars_err(path, e))?;
    if let Some(missing) = cols.iter().find(|c| schema.get(c.as_str()).is_none()) {
        return Err(DataError::UnknownColumn {
            path: path.to_path_buf(),
            column: missing.clone(),
            available: schema
                .iter_names()
                .map(|n| format!("{:?}", n.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(lf.select(cols.iter().map(|c| col(c.as_str())).collect::<Vec<_>>()))
}

fn polars_err(path: &Path, e: PolarsError) -> DataError {
    DataError::Polars {
        origin: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Trimming as plan steps on any source (a CSV plan, or a frame from
/// Parquet or memory): header names, text values and their null tokens,
/// then the re-typing decided on the first `infer_rows` rows, plus the
/// `casts` a numeric override under trimming asks for; columns in `keep`
/// (overridden) are never re-typed. Without `trim`, the plan is returned as
/// it is.
pub(crate) fn trimmed(
    mut lf: LazyFrame,
    opts: &LoadOptions,
    casts: &[(String, DataType)],
    keep: &[String],
) -> PolarsResult<LazyFrame> {
    if !opts.trim {
        return Ok(lf);
    }
    let schema = lf.collect_schema()?;
    // Frames that did not come through the CSV plan still need their names trimmed.
    let raw: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let shown: Vec<String> = raw.iter().map(|c| c.trim().to_string()).collect();
    let distinct: std::collections::HashSet<&String> = shown.iter().collect();
    if raw != shown && distinct.len() == shown.len() {
        lf = lf.rename(raw.iter(), shown.iter(), true);
    }
    let schema = lf.collect_schema()?;
    let exprs = trim_exprs(&schema, opts);
    if exprs.is_empty() && casts.is_empty() {
        return Ok(lf);
    }
    lf = lf.with_columns(exprs);
    let sample = match opts.infer_rows {
        Some(n) => lf.clone().limit(n as IdxSize).collect()?,
        None => lf.clone().collect()?,
    };
    let mut steps: Vec<Expr> = casts
        .iter()
        .map(|(c, dt)| col(c.as_str()).strict_cast(dt.clone()))
        .collect();
    let overridden =
        |name: &str| keep.iter().any(|k| k == name) || opts.dtypes.iter().any(|(c, _)| c == name);
    for (name, dt) in schema.iter() {
        if !matches!(dt, DataType::String) || overridden(name.as_str()) {
            continue;
        }
        let Ok(column) = sample.column(name.as_str()) else {
            continue;
        };
        let column = column.as_materialized_series();
        // A column with no value in the sample stays text, as polars infers it.
        if column.null_count() == column.len() {
            continue;
        }
        let to = [DataType::Int64, DataType::Float64].into_iter().find(|dt| {
            column
                .strict_cast(dt)
                .is_ok_and(|s| s.null_count() == column.null_count())
        });
        if let Some(to) = to {
            steps.push(col(name.as_str()).strict_cast(to));
        }
    }
    Ok(if steps.is_empty() {
        lf
    } else {
        lf.with_columns(steps)
    })
}

/// Per text column: strip whitespace, then map the null tokens to missing.
/// The parser sees `" ?"` where a trimmed reader sees `"?"`, so tokens are
/// applied again once the whitespace is gone.
fn trim_exprs(schema: &Schema, opts: &LoadOptions) -> Vec<Expr> {
    let tokens = Series::new(
        "tokens".into(),
        opts.null_tokens
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    schema
        .iter()
        .filter(|(_, dt)| matches!(dt, DataType::String))
        .map(|(c, _)| {
            let trimmed = col(c.as_str()).str().strip_chars(lit(NULL));
            when(
                trimmed
                    .clone()
                    .is_in(lit(tokens.clone()).implode(false), false),
            )
            .then(lit(NULL).cast(DataType::String))
            .otherwise(trimmed)
            .alias(c.as_str())
        })
        .collect()
}
