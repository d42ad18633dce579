//! Compilation: validated checks become polars queries. One `select` holds
//! the aggregates of every unsegmented or filtered check; one `group_by`
//! per grouping column holds the per-segment ones. Each aggregate is named
//! by its check and its figure [`Key`], so execution reads the figures back
//! by the keys it asked for, never by parsing column names.
//!
//! This is the polars engine's half of the seam: another engine (SQL)
//! compiles the same expectations to its own queries and returns the same
//! figures; decisions never see a query.

use std::collections::BTreeMap;
use std::sync::Arc;

use polars::prelude::*;

use super::Evaluator;
use super::sketch::{FeedKey, SketchFeed};
use crate::data::DType;
use crate::expect::figures::Key;
use crate::expect::outcome::{CheckError, CheckOutcome};
use crate::expect::{
    DuplicateCount, DuplicateRule, Expectation, Filter, Metric, MissingKeys, Segment, Value,
};

/// The query column holding the row count of the main `select`.
pub(super) const ROWS: &str = "__mltest_rows";

/// The query column of check `index`'s figure `key`.
pub(super) fn column_name(index: usize, key: Key) -> String {
    format!("__m{index}_{}", key.name())
}

/// The query column counting the values check `index`'s sketch was fed.
pub(super) fn fed_column(index: usize) -> String {
    format!("__m{index}_fed")
}

/// A validated check and the aggregates it needs, by figure.
pub(super) struct Planned {
    pub(super) index: usize,
    pub(super) aggs: Vec<(Key, Expr)>,
}

impl Planned {
    fn exprs(&self) -> impl Iterator<Item = Expr> + '_ {
        self.aggs
            .iter()
            .map(|(k, e)| e.clone().alias(column_name(self.index, *k)))
    }
}

/// The queries a batch of checks compiles to, before anything runs; checks
/// decided without a query (invalid ones, schema) already have their outcome.
pub(crate) struct Plan {
    pub(super) outcomes: Vec<Option<CheckOutcome>>,
    /// Checks answered by the main `select`.
    pub(super) flat: Vec<Planned>,
    /// Per-segment checks, by grouping column.
    pub(super) grouped: BTreeMap<String, Vec<Planned>>,
    /// Quantile checks answered by KLL sketches (streaming): check → feed.
    pub(super) sketches: Vec<(usize, Arc<SketchFeed>)>,
    /// The sketches' feeding expressions, part of the main `select`.
    feeds: Vec<Expr>,
    /// Checks that run their own queries (association: a frame per feature).
    pub(super) direct: Vec<usize>,
}

impl Evaluator {
    /// Validates the checks and compiles them into the queries they need.
    pub(crate) fn plan(&self, expectations: &[Expectation]) -> Plan {
        let mut plan = Plan {
            outcomes: vec![None; expectations.len()],
            flat: Vec::new(),
            grouped: BTreeMap::new(),
            sketches: Vec::new(),
            feeds: Vec::new(),
            direct: Vec::new(),
        };
        for (i, e) in expectations.iter().enumerate() {
            if let Err(err) = self.validate(e) {
                plan.outcomes[i] = Some(CheckOutcome::errored(e.clone(), err));
                continue;
            }
            match &e.metric {
                Metric::Schema { required } => {
                    plan.outcomes[i] = Some(self.schema(e, required));
                    continue;
                }
                Metric::SchemaChange { .. } => {
                    plan.outcomes[i] = Some(CheckOutcome::schema_pending(e, self.columns()));
                    continue;
                }
                Metric::MaxAssociation { .. } => {
                    plan.direct.push(i);
                    continue;
                }
                _ => {}
            }
            let dtype = self.dtype_of(e.metric.column());
            let sketch = match &e.metric {
                Metric::Quantile { column, q }
                    if (self.frame.streaming && !self.options.exact_quantiles)
                        || self.keep_sketches =>
                {
                    Some((column.as_str(), SketchFeed::new(*q)))
                }
                _ => None,
            };
            let exact = sketch.is_none();
            let pred = match &e.segment {
                Segment::Where { filter } => Some(filter_expr(filter, self)),
                _ => None,
            };
            if let Some((x, feed)) = sketch {
                let key = match (&e.segment, &pred) {
                    (Segment::EachOf { column, .. }, _) => FeedKey::EachOf(column.clone()),
                    (_, Some(p)) => FeedKey::Where(p.clone()),
                    _ => FeedKey::All,
                };
                plan.feeds
                    .push(count_true(feed.feed_expr(x, key)).alias(fed_column(i)));
                plan.sketches.push((i, feed));
            }
            let planned = Planned {
                index: i,
                aggs: aggregates(e, pred, dtype, exact, self.frame.streaming),
            };
            match &e.segment {
                Segment::EachOf { column, .. } => plan
                    .grouped
                    .entry(column.clone())
                    .or_default()
                    .push(planned),
                Segment::All | Segment::Where { .. } => plan.flat.push(planned),
            }
        }
        plan
    }

    /// The queries of a plan, labelled: the main `select` (which always runs
    /// over a scan, as it also counts the rows) and one `group_by` per
    /// grouping column.
    pub(crate) fn queries(&self, plan: &Plan) -> Vec<(String, LazyFrame)> {
        let mut out = Vec::new();
        if !plan.flat.is_empty() || !plan.feeds.is_empty() || self.frame.rows().is_none() {
            let mut exprs: Vec<Expr> = plan.flat.iter().flat_map(Planned::exprs).collect();
            exprs.extend(plan.feeds.iter().cloned());
            exprs.push(len().cast(DataType::Int64).alias(ROWS));
            out.push(("select".to_string(), self.frame.lazy().select(exprs)));
        }
        for (column, plans) in &plan.grouped {
            let exprs: Vec<Expr> = plans.iter().flat_map(Planned::exprs).collect();
            out.push((
                format!("group_by {column:?}"),
                self.frame
                    .lazy()
                    .group_by([col(column.as_str())])
                    .agg(exprs),
            ));
        }
        out
    }
}

/// The value column restricted to the segment's rows.
fn seg(column: &str, pred: &Option<Expr>) -> Expr {
    match pred {
        None => col(column),
        Some(p) => col(column).filter(p.clone()),
    }
}

/// The aggregates a check needs, by figure.
///
/// Without `exact`, a quantile check gets no quantile here: a sketch fed in
/// the main query answers it (streaming, see `sketch.rs`).
fn aggregates(
    e: &Expectation,
    pred: Option<Expr>,
    dtype: DType,
    exact: bool,
    streaming: bool,
) -> Vec<(Key, Expr)> {
    let rows = match &pred {
        None => len().cast(DataType::Int64),
        Some(p) => count_true(p.clone()),
    };
    let f64c = |c: &str| seg(c, &pred).cast(DataType::Float64);
    let values = |c: &str| (Key::Values, seg(c, &pred).count().cast(DataType::Int64));
    let mut out = vec![(Key::Rows, rows)];
    match &e.metric {
        Metric::RowCount
        | Metric::Schema { .. }
        | Metric::SchemaChange { .. }
        | Metric::MaxAssociation { .. } => {}
        Metric::NullFraction { column } => {
            out.push((Key::Hits, count_true(seg(column, &pred).is_null())));
        }
        Metric::Mean { column }
        | Metric::Std { column }
        | Metric::Min { column }
        | Metric::Max { column }
        | Metric::Sum { column }
        | Metric::Quantile { column, .. } => {
            let x = f64c(column);
            let stat = match &e.metric {
                Metric::Mean { .. } => x.clone().mean(),
                Metric::Std { .. } => x.clone().std(1),
                Metric::Min { .. } => x.clone().min(),
                Metric::Max { .. } => x.clone().max(),
                Metric::Sum { .. } => x.clone().sum(),
                Metric::Quantile { q, .. } => x.clone().quantile(lit(*q), QuantileMethod::Linear),
                _ => unreachable!("matched above"),
            };
            out.push(values(column));
            if exact || !matches!(e.metric, Metric::Quantile { .. }) {
                out.push((Key::Stat, stat));
            }
            if matches!(e.metric, Metric::Std { .. }) {
                out.push((Key::Mean, x.clone().mean()));
            }
            if dtype == DType::Float {
                out.push((Key::Nan, count_true(x.clone().is_nan())));
                out.push((Key::Inf, count_true(x.is_infinite())));
            }
        }
        Metric::Newest { column } => {
            out.push(values(column));
            let x = seg(column, &pred);
            let t = epoch_seconds(x.clone(), dtype);
            out.push((Key::Stat, t.clone().max()));
            if dtype == DType::Text {
                // Present but not a time: counted, so the check errors.
                out.push((Key::Nan, count_true(x.is_not_null().and(t.is_null()))));
            }
        }
        Metric::UniqueFraction { column } => {
            out.push(values(column));
            let distinct = seg(column, &pred).drop_nulls().n_unique();
            out.push((Key::Distinct, distinct.cast(DataType::Int64)));
        }
        Metric::InRangeFraction { column, min, max } => {
            out.push(values(column));
            let inside = f64c(column).is_between(
                lit(min.unwrap_or(f64::NEG_INFINITY)),
                lit(max.unwrap_or(f64::INFINITY)),
                ClosedInterval::Both,
            );
            out.push((Key::Inside, count_true(inside)));
        }
        Metric::InSetFraction {
            column,
            values: set,
        } => {
            out.push(values(column));
            if let Ok(s) = set_series(set, dtype, column) {
                let inside = member_of(seg(column, &pred), s, streaming);
                out.push((Key::Inside, count_true(inside)));
            }
        }
        Metric::CategoryShare { column, value } => {
            out.push(values(column));
            if let Ok(s) = set_series(std::slice::from_ref(value), dtype, column) {
                let hits = member_of(seg(column, &pred), s, streaming);
                out.push((Key::Hits, count_true(hits)));
            }
        }
        Metric::EmptyTextFraction { column } => {
            out.push((Key::Hits, count_true(empty_text(seg(column, &pred)))));
        }
        Metric::LengthInRangeFraction { column, min, max } => {
            out.push(values(column));
            let inside = seg(column, &pred).str().len_chars().is_between(
                lit(*min),
                lit(*max),
                ClosedInterval::Both,
            );
            out.push((Key::Inside, count_true(inside)));
        }
        Metric::PatternMatchFraction { column, pattern } => {
            out.push(values(column));
            let inside = seg(column, &pred)
                .str()
                .contains(lit(pattern.as_str()), true);
            out.push((Key::Inside, count_true(inside)));
        }
        Metric::DuplicateRows { columns, rule } => {
            let cols: Vec<Expr> = match columns {
                Some(c) => c.iter().map(|c| seg(c, &pred)).collect(),
                None => vec![match &pred {
                    None => all().as_expr(),
                    Some(p) => all().as_expr().filter(p.clone()),
                }],
            };
            let (hits, keyed) = duplicate_exprs(cols, None, rule);
            out.push((Key::Hits, count_true(hits)));
            out.push((Key::Values, count_true(keyed)));
        }
    }
    out
}

/// A duplicate check's row flags over its key columns: (counted as a
/// duplicate, takes part). Rows whose key is entirely missing take part only
/// when the rule counts them; otherwise they are neither duplicates nor in
/// the denominator of the share.
pub(super) fn duplicate_exprs(
    cols: Vec<Expr>,
    segment: Option<Expr>,
    rule: &DuplicateRule,
) -> (Expr, Expr) {
    let missing = all_horizontal(cols.iter().map(|c| c.clone().is_null()).collect::<Vec<_>>())
        .unwrap_or_else(|_| lit(false));
    let key = as_struct(cols.into_iter().chain(segment).collect());
    let dup = match rule.count {
        DuplicateCount::Repeats => key.is_first_distinct().not(),
        DuplicateCount::Members => key.is_unique().not(),
    };
    match rule.missing_keys {
        MissingKeys::Count => (dup, lit(true).or(missing)),
        MissingKeys::Ignore => (dup.and(missing.clone().not()), missing.not()),
    }
}

pub(super) fn count_true(e: Expr) -> Expr {
    e.cast(DataType::Int64).sum()
}

pub(super) fn empty_text(e: Expr) -> Expr {
    e.clone()
        .is_null()
        .or(e.str().strip_chars(lit(NULL)).str().len_chars().eq(lit(0)))
}

/// Whether each value is in `set`. In memory this is polars' `is_in`; on
/// the streaming engine `is_in` becomes a join-like node fed through a
/// multiplexer that buffers the scan (measured: memory grew with the file),
/// so there the same kernel runs per batch inside an elementwise function.
pub(super) fn member_of(e: Expr, set: Series, streaming: bool) -> Expr {
    if !streaming {
        return e.is_in(lit(set).implode(false), false);
    }
    // One list row holding the set: `is_in` broadcasts it against the batch.
    let dtype = set.dtype().clone();
    let list = set.implode().map(IntoSeries::into_series);
    e.map(
        move |c: Column| {
            let values = c.as_materialized_series().cast(&dtype)?;
            let list = list
                .as_ref()
                .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
            Ok(is_in(&values, list, false)?.into_column())
        },
        |_: &Schema, f: &Field| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// A value set as a Series of the column's type. Text columns compare as
/// text, integer columns as integers, float columns as floats; a literal
/// that cannot be compared with the column is an invalid expectation.
pub(crate) fn set_series(
    values: &[Value],
    dtype: DType,
    column: &str,
) -> Result<Series, CheckError> {
    let bad = |v: &Value| {
        CheckError::Invalid(format!(
            "value {v} cannot be compared with {dtype} column {column:?}"
        ))
    };
    match dtype {
        DType::Text | DType::Categorical => values
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                other => Err(bad(other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Series::new("set".into(), v)),
        DType::Integer => values
            .iter()
            .map(|v| match v {
                Value::Int(i) => Ok(*i),
                Value::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
                Value::Bool(b) => Ok(i64::from(*b)),
                other => Err(bad(other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Series::new("set".into(), v)),
        DType::Float => values
            .iter()
            .map(|v| match v {
                Value::Int(i) => Ok(*i as f64),
                Value::Float(f) => Ok(*f),
                other => Err(bad(other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Series::new("set".into(), v)),
        DType::Boolean => values
            .iter()
            .map(|v| match v {
                Value::Bool(b) => Ok(*b),
                other => Err(bad(other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Series::new("set".into(), v)),
        _ => Err(CheckError::Invalid(format!(
            "column {column:?} has a type value sets do not support"
        ))),
    }
}

fn lit_value(v: &Value, dtype: DType) -> Expr {
    match (v, dtype) {
        (Value::Int(i), DType::Float) => lit(*i as f64),
        (Value::Int(i), _) => lit(*i),
        (Value::Float(f), _) => lit(*f),
        (Value::Bool(b), _) => lit(*b),
        (Value::Str(s), _) => lit(s.as_str()),
    }
}

/// The rows a segment filter keeps, as a predicate.
pub(crate) fn filter_expr(filter: &Filter, ev: &Evaluator) -> Expr {
    let dtype = |c: &str| ev.frame.dtype(c);
    match filter {
        Filter::Eq { column, value } => col(column.as_str())
            .eq(lit_value(value, dtype(column)))
            .fill_null(lit(false)),
        Filter::In { column, values } => match set_series(values, dtype(column), column) {
            Ok(s) => member_of(col(column.as_str()), s, ev.frame.streaming).fill_null(lit(false)),
            Err(_) => lit(false),
        },
        Filter::IsNull { column } => col(column.as_str()).is_null(),
        Filter::NotNull { column } => col(column.as_str()).is_not_null(),
        Filter::And { all } => all
            .iter()
            .map(|f| filter_expr(f, ev))
            .reduce(|a, b| a.and(b))
            .unwrap_or(lit(true)),
    }
}

/// A date, datetime or ISO 8601 text column as unix seconds (f64). Text is
/// parsed with explicit formats only — the date, then date and time with a
/// `T` or a space, each with optional fractions and `Z` — because polars'
/// format inference reads the first value of each batch, which would let
/// the in-memory and streaming paths disagree. Unparsed text is null.
fn epoch_seconds(x: Expr, dtype: DType) -> Expr {
    let ms = |e: Expr| {
        e.dt()
            .timestamp(TimeUnit::Milliseconds)
            .cast(DataType::Float64)
            / lit(1000.0)
    };
    if dtype != DType::Text {
        return ms(x);
    }
    let opts = |f: &str| StrptimeOptions {
        format: Some(f.into()),
        strict: false,
        exact: true,
        cache: true,
    };
    let at = |f: &str| {
        x.clone()
            .str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, opts(f), lit("raise"))
    };
    coalesce(&[
        ms(at("%Y-%m-%dT%H:%M:%S%.fZ")),
        ms(at("%Y-%m-%dT%H:%M:%S%.f")),
        ms(at("%Y-%m-%d %H:%M:%S%.f")),
        ms(at("%Y-%m-%dT%H:%MZ")),
        ms(at("%Y-%m-%dT%H:%M")),
        ms(x.clone().str().to_date(opts("%Y-%m-%d"))),
    ])
}
