//! Example rows on DataFusion: for a check that did not pass, the first
//! offending rows (row number and value), how many offend in all, and the
//! most frequent unexpected values of a value-set check — the polars
//! engine's `examples.rs`, in DataFusion expressions.
//!
//! Row numbers are positions in the source (0-based, after blank records
//! are dropped, as polars numbers them): `row_number()` over a scan read in
//! one partition, which keeps file order; a scan split across partitions
//! would number rows in whatever order the partitions finish.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::prelude::{DataFrame, Expr, cast, ident, in_list, lit};

use super::compile::{as_f64, count_rows, empty_text, is_infinite, is_nan, set_literals};
use super::execute::{collect, floats, predicate, texts, value};
use crate::data::DType;
use crate::expect::engine::{Evaluator, clip, too_few};
use crate::expect::figures::GroupValue;
use crate::expect::outcome::{CheckOutcome, ExampleRow};
use crate::expect::{DuplicateCount, Expectation, Metric, MissingKeys, Segment};

/// The row number column added for examples.
const ROW: &str = "__mltest_row";

/// Offending rows and unexpected values for a failed check, read from
/// `single` (the source opened in one partition).
pub(super) async fn attach(
    single: &DataFrame,
    ev: &Evaluator,
    examples: usize,
    o: &mut CheckOutcome,
) {
    let e = o.expectation.clone();
    let column = match (&e.metric, e.metric.column()) {
        (_, Some(c)) => c.to_string(),
        (Metric::DuplicateRows { columns, .. }, None) => {
            match columns.as_ref().and_then(|c| c.first()) {
                Some(c) => c.clone(),
                None => match ev.frame.column_names().first() {
                    Some(c) => c.to_string(),
                    None => return,
                },
            }
        }
        _ => return,
    };
    if ev.frame.column(&column).is_none() {
        return;
    }
    let Ok(numbered) = single.clone().with_column(ROW, row_number() - lit(1u64)) else {
        return;
    };
    // Window functions over the numbered rows (duplicate and repeated
    // values) need a second pass.
    let Some((numbered, mut pred)) = offending(numbered, ev, o) else {
        return;
    };
    match &e.segment {
        Segment::All => {}
        Segment::Where { .. } => {
            if let Some(p) = predicate(&e, ev) {
                pred = pred.and(p);
            }
        }
        Segment::EachOf { column: seg, .. } => {
            let Some(worst) = o.segments.first() else {
                return;
            };
            pred = pred.and(group_rows(seg, &worst.group));
        }
    }
    // Windows reorder rows: the first offending rows are the lowest numbers.
    let Ok(rows) = numbered
        .filter(pred)
        .and_then(|d| d.sort(vec![ident(ROW).sort(true, false)]))
    else {
        return;
    };
    let v = cast(ident(&column), ArrowType::Utf8);
    if let Ok(batch) = collect(
        rows.clone()
            .select(vec![ident(ROW), v.clone().alias("v")])
            .and_then(|d| d.limit(0, Some(examples))),
    )
    .await
    {
        let (nums, vals) = (floats(&batch, ROW), texts(&batch, "v"));
        if let (Some(nums), Some(vals)) = (nums, vals) {
            o.examples = (0..batch.num_rows())
                .map(|i| ExampleRow {
                    row: nums.value(i) as u64,
                    value: if vals.is_null(i) {
                        "(missing)".into()
                    } else {
                        clip(vals.value(i))
                    },
                })
                .collect();
        }
    }
    if let Ok(batch) = collect(
        rows.clone()
            .aggregate(vec![], vec![count_rows().alias("total")]),
    )
    .await
    {
        o.offending_rows = value(&batch, "total", 0).unwrap_or(0.0) as u64;
    }
    if matches!(e.metric, Metric::InSetFraction { .. })
        && let Ok(batch) = collect(
            rows.aggregate(vec![v.alias("v")], vec![count_rows().alias("n")])
                .and_then(|d| {
                    d.sort(vec![
                        ident("n").sort(false, false),
                        ident("v").sort(true, false),
                    ])
                })
                .and_then(|d| d.limit(0, Some(10))),
        )
        .await
    {
        let (vals, ns) = (texts(&batch, "v"), floats(&batch, "n"));
        if let (Some(vals), Some(ns)) = (vals, ns) {
            o.unexpected = (0..batch.num_rows())
                .map(|i| {
                    (
                        if vals.is_null(i) {
                            "(missing)".into()
                        } else {
                            format!("{:?}", vals.value(i))
                        },
                        ns.value(i) as u64,
                    )
                })
                .collect();
            o.unexpected
                .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
    }
}

/// The rows that make a check fail, as a predicate over `numbered` (with
/// any window columns it needs added to it).
fn offending(numbered: DataFrame, ev: &Evaluator, o: &CheckOutcome) -> Option<(DataFrame, Expr)> {
    let (e, errored) = (&o.expectation, o.error().is_some());
    let dtype = |c: &str| ev.frame.dtype(c);
    let x = |c: &str| ident(c);
    let pred = match &e.metric {
        Metric::NullFraction { column } => x(column).is_null(),
        Metric::InRangeFraction { column, min, max } => {
            x(column).is_not_null().and(!as_f64(x(column)).between(
                lit(min.unwrap_or(f64::NEG_INFINITY)),
                lit(max.unwrap_or(f64::INFINITY)),
            ))
        }
        Metric::InSetFraction { column, values } => {
            let list = set_literals(values, dtype(column), column).ok()?;
            x(column).is_not_null().and(in_list(x(column), list, true))
        }
        Metric::EmptyTextFraction { column } => empty_text(x(column)),
        Metric::LengthInRangeFraction { column, min, max } => x(column).is_not_null().and(
            !datafusion::functions::expr_fn::character_length(x(column))
                .between(lit(i64::from(*min)), lit(i64::from(*max))),
        ),
        Metric::PatternMatchFraction { column, pattern } => {
            x(column)
                .is_not_null()
                .and(!datafusion::functions::expr_fn::regexp_like(
                    x(column),
                    lit(pattern.as_str()),
                    None,
                ))
        }
        // Too few distinct values: the rows whose value repeats within the
        // segment. Too many has no offending row.
        Metric::UniqueFraction { column } if !errored && too_few(e, o.observed) => {
            let mut within = vec![x(column)];
            within.extend(segment_key(e, ev));
            let repeats = count_over(within)?;
            let df = numbered.with_column("__mltest_k", repeats).ok()?;
            return Some((
                df,
                x(column)
                    .is_not_null()
                    .and(ident("__mltest_k").gt(lit(1i64))),
            ));
        }
        Metric::DuplicateRows { columns, rule } => {
            let keys: Vec<String> = match columns {
                Some(c) => c.clone(),
                None => ev
                    .frame
                    .column_names()
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            };
            let mut by: Vec<Expr> = keys.iter().map(|k| ident(k)).collect();
            by.extend(segment_key(e, ev));
            let w = match rule.count {
                // Not the first of its key, in row order.
                DuplicateCount::Repeats => row_number()
                    .partition_by(by)
                    .order_by(vec![ident(ROW).sort(true, false)])
                    .build()
                    .ok()?,
                DuplicateCount::Members => count_over(by)?,
            };
            let df = numbered.with_column("__mltest_k", w).ok()?;
            let dup = ident("__mltest_k").gt(lit(1i64));
            let dup = match rule.missing_keys {
                MissingKeys::Count => dup,
                MissingKeys::Ignore => {
                    let missing = keys.iter().map(|k| ident(k).is_null()).reduce(Expr::and)?;
                    dup.and(!missing)
                }
            };
            return Some((df, dup));
        }
        Metric::Mean { column }
        | Metric::Std { column }
        | Metric::Min { column }
        | Metric::Max { column }
        | Metric::Sum { column }
        | Metric::Quantile { column, .. }
            if errored && dtype(column) == DType::Float =>
        {
            is_nan(x(column)).or(is_infinite(x(column)))
        }
        _ => return None,
    };
    Some((numbered, pred))
}

/// The rows of each window partition (`count(1) OVER (PARTITION BY by)`).
fn count_over(by: Vec<Expr>) -> Option<Expr> {
    let count = datafusion::functions_aggregate::count::count_udaf();
    Expr::from(WindowFunction::new(count, vec![lit(1i64)]))
        .partition_by(by)
        .build()
        .ok()
}

/// What a window partitions by besides the key: the segment.
fn segment_key(e: &Expectation, ev: &Evaluator) -> Option<Expr> {
    match &e.segment {
        Segment::All => None,
        Segment::Where { .. } => predicate(e, ev),
        Segment::EachOf { column, .. } => Some(ident(column)),
    }
}

/// The rows of one group of `column`.
fn group_rows(column: &str, value: &GroupValue) -> Expr {
    match value {
        GroupValue::Missing => ident(column).is_null(),
        GroupValue::Text(s) | GroupValue::Literal(s) => {
            cast(ident(column), ArrowType::Utf8).eq(lit(s.as_str()))
        }
    }
}
