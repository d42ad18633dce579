//! Compilation for DataFusion: each check's figures as aggregate
//! expressions named by check and figure [`Key`], the same keys the polars
//! engine's `compile.rs` asks for, so [`decide`](crate::expect::decide)
//! reads both engines' figures alike.
//!
//! Every figure is a count, sum or statistic over the segment's rows; a
//! segment filter becomes `CASE WHEN filter THEN x END` inside the
//! aggregate (NULL outside the segment, which no aggregate counts), so one
//! aggregate query answers every unsegmented and filtered check of a batch.

use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as fun;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::expr::Case;
use datafusion::prelude::{Expr, cast, ident, in_list, lit};
use polars::prelude::AnyValue;

use crate::data::DType;
use crate::expect::engine::set_series;
use crate::expect::figures::Key;
use crate::expect::outcome::CheckError;
use crate::expect::{Expectation, Filter, Metric, Value};

/// The result column of check `index`'s figure `key`.
pub(super) fn column_name(index: usize, key: Key) -> String {
    format!("__m{index}_{}", key.name())
}

/// The result column counting every row the main query saw.
pub(super) const ROWS: &str = "__mltest_rows";

/// `CASE WHEN cond THEN then END`: NULL where `cond` is false or NULL.
pub(super) fn case_when(cond: Expr, then: Expr) -> Expr {
    Expr::Case(Case::new(
        None,
        vec![(Box::new(cond), Box::new(then))],
        None,
    ))
}

/// Rows where `cond` is true (NULL counts as false, as in polars' sum of a
/// boolean column).
pub(super) fn count_if(cond: Expr) -> Expr {
    agg::count(case_when(cond, lit(1i64)))
}

/// Every row.
pub(super) fn count_rows() -> Expr {
    agg::count(lit(1i64))
}

/// The column, NULL outside the segment.
fn seg(column: &str, pred: Option<&Expr>) -> Expr {
    match pred {
        None => ident(column),
        Some(p) => case_when(p.clone(), ident(column)),
    }
}

/// `cond` within the segment.
fn within(pred: Option<&Expr>, cond: Expr) -> Expr {
    match pred {
        None => cond,
        Some(p) => p.clone().and(cond),
    }
}

/// Blank text: missing, or nothing but whitespace. `\s` is Unicode
/// White_Space, the set polars' `strip_chars` strips (Rust's `str::trim`).
pub(super) fn empty_text(x: Expr) -> Expr {
    x.clone()
        .is_null()
        .or(fun::regexp_like(x, lit(r"^\s*$"), None))
}

/// NaN values of a float expression.
pub(super) fn is_nan(x: Expr) -> Expr {
    fun::isnan(x)
}

/// ±infinity.
pub(super) fn is_infinite(x: Expr) -> Expr {
    x.clone()
        .eq(lit(f64::INFINITY))
        .or(x.eq(lit(f64::NEG_INFINITY)))
}

/// A float column's values as f64.
pub(super) fn as_f64(x: Expr) -> Expr {
    cast(x, ArrowType::Float64)
}

/// A value set as literals of the column's type: the polars engine's
/// [`set_series`] decides what may be compared with what, so both engines
/// accept and refuse the same sets.
pub(super) fn set_literals(
    values: &[Value],
    dtype: DType,
    column: &str,
) -> Result<Vec<Expr>, CheckError> {
    let series = set_series(values, dtype, column)?;
    Ok(series
        .iter()
        .map(|v| {
            lit(match v {
                AnyValue::Int64(i) => ScalarValue::Int64(Some(i)),
                AnyValue::Float64(f) => ScalarValue::Float64(Some(f)),
                AnyValue::Boolean(b) => ScalarValue::Boolean(Some(b)),
                AnyValue::String(s) => ScalarValue::Utf8(Some(s.to_string())),
                other => ScalarValue::Utf8(Some(other.to_string())),
            })
        })
        .collect())
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

/// The rows a segment filter keeps (NULL where a compared value is
/// missing, which `CASE WHEN` and `FILTER` treat as false).
pub(super) fn filter_expr(filter: &Filter, dtype: &dyn Fn(&str) -> DType) -> Expr {
    match filter {
        Filter::Eq { column, value } => ident(column).eq(lit_value(value, dtype(column))),
        Filter::In { column, values } => match set_literals(values, dtype(column), column) {
            Ok(list) => in_list(ident(column), list, false),
            Err(_) => lit(false),
        },
        Filter::IsNull { column } => ident(column).is_null(),
        Filter::NotNull { column } => ident(column).is_not_null(),
        Filter::And { all } => all
            .iter()
            .map(|f| filter_expr(f, dtype))
            .reduce(|a, b| a.and(b))
            .unwrap_or(lit(true)),
    }
}

/// A date, datetime or ISO 8601 text column as unix seconds (f64): dates
/// and datetimes through `date_part('epoch')`, text through the same
/// explicit formats the polars engine parses ([`super::epoch`]).
fn epoch_seconds(x: Expr, dtype: DType) -> Expr {
    if dtype == DType::Text {
        super::epoch::epoch_seconds_udf().call(vec![cast(x, ArrowType::Utf8)])
    } else {
        as_f64(fun::date_part(lit("epoch"), x))
    }
}

/// The aggregates a check needs, by figure (duplicate checks run their own
/// query: see `execute.rs`).
pub(super) fn aggregates(e: &Expectation, pred: Option<&Expr>, dtype: DType) -> Vec<(Key, Expr)> {
    let rows = match pred {
        None => count_rows(),
        Some(p) => count_if(p.clone()),
    };
    let f64c = |c: &str| as_f64(seg(c, pred));
    let values = |c: &str| (Key::Values, agg::count(seg(c, pred)));
    let mut out = vec![(Key::Rows, rows)];
    match &e.metric {
        Metric::RowCount
        | Metric::Schema { .. }
        | Metric::SchemaChange { .. }
        | Metric::MaxAssociation { .. }
        | Metric::DuplicateRows { .. } => {}
        Metric::NullFraction { column } => {
            out.push((Key::Hits, count_if(within(pred, ident(column).is_null()))));
        }
        Metric::Mean { column }
        | Metric::Std { column }
        | Metric::Min { column }
        | Metric::Max { column }
        | Metric::Sum { column }
        | Metric::Quantile { column, .. } => {
            let x = f64c(column);
            let stat = match &e.metric {
                Metric::Mean { .. } => agg::avg(x.clone()),
                Metric::Std { .. } => agg::stddev(x.clone()),
                Metric::Min { .. } => agg::min(x.clone()),
                Metric::Max { .. } => agg::max(x.clone()),
                // polars sums no values to 0, SQL to NULL.
                Metric::Sum { .. } => fun::coalesce(vec![agg::sum(x.clone()), lit(0.0)]),
                // The values themselves, and the quantile computed from
                // them after the query (`execute::quantile`): DataFusion's
                // `percentile_cont` rounds its interpolation weight to
                // 1e-6, so its figure differs from polars' (and numpy's)
                // linear interpolation by up to 1e-6 of a gap.
                Metric::Quantile { .. } => agg::array_agg(x.clone()),
                _ => unreachable!("matched above"),
            };
            out.push(values(column));
            out.push((Key::Stat, stat));
            if matches!(e.metric, Metric::Std { .. }) {
                out.push((Key::Mean, agg::avg(x.clone())));
            }
            if dtype == DType::Float {
                out.push((Key::Nan, count_if(is_nan(x.clone()))));
                out.push((Key::Inf, count_if(is_infinite(x))));
            }
        }
        Metric::Newest { column } => {
            out.push(values(column));
            let x = seg(column, pred);
            let t = epoch_seconds(x.clone(), dtype);
            out.push((Key::Stat, agg::max(t.clone())));
            if dtype == DType::Text {
                // Present but not a time: counted, so the check errors.
                out.push((Key::Nan, count_if(x.is_not_null().and(t.is_null()))));
            }
        }
        Metric::UniqueFraction { column } => {
            out.push(values(column));
            out.push((Key::Distinct, agg::count_distinct(seg(column, pred))));
        }
        Metric::InRangeFraction { column, min, max } => {
            out.push(values(column));
            let inside = f64c(column).between(
                lit(min.unwrap_or(f64::NEG_INFINITY)),
                lit(max.unwrap_or(f64::INFINITY)),
            );
            out.push((Key::Inside, count_if(inside)));
        }
        Metric::InSetFraction {
            column,
            values: set,
        } => {
            out.push(values(column));
            if let Ok(list) = set_literals(set, dtype, column) {
                let inside = in_list(seg(column, pred), list, false);
                out.push((Key::Inside, count_if(inside)));
            }
        }
        Metric::CategoryShare { column, value } => {
            out.push(values(column));
            if let Ok(list) = set_literals(std::slice::from_ref(value), dtype, column) {
                let hits = in_list(seg(column, pred), list, false);
                out.push((Key::Hits, count_if(hits)));
            }
        }
        Metric::EmptyTextFraction { column } => {
            out.push((Key::Hits, count_if(within(pred, empty_text(ident(column))))));
        }
        Metric::LengthInRangeFraction { column, min, max } => {
            out.push(values(column));
            let inside = fun::character_length(seg(column, pred))
                .between(lit(i64::from(*min)), lit(i64::from(*max)));
            out.push((Key::Inside, count_if(inside)));
        }
        Metric::PatternMatchFraction { column, pattern } => {
            out.push(values(column));
            let inside = fun::regexp_like(seg(column, pred), lit(pattern.as_str()), None);
            out.push((Key::Inside, count_if(inside)));
        }
    }
    out
}
