//! Planning and execution on DataFusion: validated checks become one
//! aggregate query for every unsegmented or filtered check (one scan), one
//! grouped aggregate per grouping column, and a query of their own for
//! duplicate and leakage checks; results are read back as [`Figures`] by
//! the keys the aggregates were named under, and decided by the same
//! [`decide`](crate::expect::decide) as polars' figures.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, ListArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::prelude::{DataFrame, Expr, ident, lit};

use super::compile::{ROWS, aggregates, case_when, column_name, count_rows, filter_expr};
use crate::expect::engine::Evaluator;
use crate::expect::figures::{FigureSet, Figures, Group, GroupValue, Key};
use crate::expect::outcome::{CheckError, CheckOutcome};
use crate::expect::{DuplicateCount, DuplicateRule, Expectation, Metric, MissingKeys, Segment};

/// One check compiled to aggregates.
struct Planned {
    index: usize,
    aggs: Vec<(Key, Expr)>,
    /// A quantile check's q: its `Stat` column holds the values.
    quantile: Option<f64>,
}

impl Planned {
    /// The result columns of the figures, with the q of a quantile's values.
    fn keys(&self) -> Vec<(Key, String, Option<f64>)> {
        self.aggs
            .iter()
            .map(|(k, _)| {
                let q = if *k == Key::Stat { self.quantile } else { None };
                (*k, column_name(self.index, *k), q)
            })
            .collect()
    }

    fn exprs(&self) -> impl Iterator<Item = Expr> + '_ {
        self.aggs
            .iter()
            .map(|(k, e)| e.clone().alias(column_name(self.index, *k)))
    }
}

/// What a batch of checks compiles to, before anything runs.
#[derive(Default)]
struct Plan {
    flat: Vec<Planned>,
    grouped: BTreeMap<String, Vec<Planned>>,
    duplicates: Vec<usize>,
    associations: Vec<usize>,
}

/// The segment filter of a check, as a predicate.
pub(super) fn predicate(e: &Expectation, ev: &Evaluator) -> Option<Expr> {
    match &e.segment {
        Segment::Where { filter } => Some(filter_expr(filter, &|c| ev.frame.dtype(c))),
        _ => None,
    }
}

fn engine_error(e: impl std::fmt::Display) -> CheckError {
    CheckError::Engine(format!("DataFusion: {e}"))
}

/// Evaluates the checks on `base`; `ev` knows the columns (validation,
/// schema checks, dtypes). Returns every check's outcome (examples are
/// attached by the caller) and the rows the main query counted.
pub(super) async fn run(
    base: &DataFrame,
    ev: &Evaluator,
    expectations: &[Expectation],
) -> (Vec<Option<CheckOutcome>>, Result<u64, CheckError>) {
    let mut outcomes: Vec<Option<CheckOutcome>> = vec![None; expectations.len()];
    let mut plan = Plan::default();
    for (i, e) in expectations.iter().enumerate() {
        if let Err(err) = ev.validate(e) {
            outcomes[i] = Some(CheckOutcome::errored(e.clone(), err));
            continue;
        }
        match &e.metric {
            Metric::Schema { required } => {
                outcomes[i] = Some(ev.schema(e, required));
                continue;
            }
            Metric::SchemaChange { .. } => {
                outcomes[i] = Some(CheckOutcome::schema_pending(e, ev.columns()));
                continue;
            }
            Metric::MaxAssociation { .. } => {
                plan.associations.push(i);
                continue;
            }
            Metric::DuplicateRows { .. } => {
                plan.duplicates.push(i);
                continue;
            }
            _ => {}
        }
        let pred = predicate(e, ev);
        let planned = Planned {
            index: i,
            aggs: aggregates(e, pred.as_ref(), ev.dtype_of(e.metric.column())),
            quantile: match e.metric {
                Metric::Quantile { q, .. } => Some(q),
                _ => None,
            },
        };
        match &e.segment {
            Segment::EachOf { column, .. } => plan
                .grouped
                .entry(column.clone())
                .or_default()
                .push(planned),
            _ => plan.flat.push(planned),
        }
    }

    // The main query: every flat check and the row count, over one scan.
    let mut exprs: Vec<Expr> = plan.flat.iter().flat_map(Planned::exprs).collect();
    exprs.push(count_rows().alias(ROWS));
    let rows = match collect(base.clone().aggregate(vec![], exprs)).await {
        Ok(batch) => {
            for p in &plan.flat {
                let figures = p
                    .keys()
                    .iter()
                    .map(|(k, name, q)| (*k, figure(&batch, name, 0, *q)))
                    .collect();
                let e = &expectations[p.index];
                outcomes[p.index] =
                    Some(crate::expect::decide::figures(e, &Figures::Flat(figures)));
            }
            Ok(value(&batch, ROWS, 0).unwrap_or(0.0) as u64)
        }
        Err(err) => {
            for p in &plan.flat {
                outcomes[p.index] = Some(CheckOutcome::errored(
                    expectations[p.index].clone(),
                    err.clone(),
                ));
            }
            Err(err)
        }
    };

    for (column, plans) in &plan.grouped {
        let exprs: Vec<Expr> = plans.iter().flat_map(Planned::exprs).collect();
        let result = collect(base.clone().aggregate(vec![ident(column)], exprs)).await;
        for p in plans {
            let e = &expectations[p.index];
            outcomes[p.index] = Some(match &result {
                Err(err) => CheckOutcome::errored(e.clone(), err.clone()),
                Ok(batch) => crate::expect::decide::figures(
                    e,
                    &Figures::Groups(groups(batch, column, &p.keys())),
                ),
            });
        }
    }

    let all_columns: Vec<String> = ev
        .frame
        .column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for &i in &plan.duplicates {
        let e = &expectations[i];
        let Metric::DuplicateRows { columns, rule } = &e.metric else {
            continue;
        };
        let keys = columns.clone().unwrap_or_else(|| all_columns.clone());
        let group = match &e.segment {
            Segment::EachOf { column, .. } => Some(column.as_str()),
            _ => None,
        };
        let query = duplicates(base, &keys, rule, predicate(e, ev), group, i);
        let keyed: Vec<(Key, String, Option<f64>)> = [Key::Rows, Key::Values, Key::Hits]
            .into_iter()
            .map(|k| (k, column_name(i, k), None))
            .collect();
        outcomes[i] = Some(match collect(query).await {
            Err(err) => CheckOutcome::errored(e.clone(), err),
            Ok(batch) => match group {
                Some(column) => crate::expect::decide::figures(
                    e,
                    &Figures::Groups(groups(&batch, column, &keyed)),
                ),
                None => {
                    let f: FigureSet = keyed
                        .iter()
                        .map(|(k, name, _)| (*k, value(&batch, name, 0)))
                        .collect();
                    crate::expect::decide::figures(e, &Figures::Flat(f))
                }
            },
        });
    }

    for &i in &plan.associations {
        let e = &expectations[i];
        if let Metric::MaxAssociation {
            target,
            features,
            bias_corrected,
        } = &e.metric
        {
            outcomes[i] = Some(
                super::association::association(base, ev, e, target, features, *bias_corrected)
                    .await,
            );
        }
    }
    (outcomes, rows)
}

/// The duplicate check's query: rows grouped by their key (and segment),
/// then each group's size summed as the figures need it. A key whose every
/// column is missing takes part only when the rule counts it.
fn duplicates(
    base: &DataFrame,
    keys: &[String],
    rule: &DuplicateRule,
    pred: Option<Expr>,
    group: Option<&str>,
    index: usize,
) -> datafusion::error::Result<DataFrame> {
    let mut df = base.clone();
    if let Some(p) = pred {
        df = df.filter(p)?;
    }
    let mut by: Vec<Expr> = group.map(ident).into_iter().collect();
    by.extend(keys.iter().filter(|k| Some(k.as_str()) != group).map(ident));
    let c = ident("__mltest_c");
    let inner = df.aggregate(by, vec![count_rows().alias("__mltest_c")])?;
    let missing = keys
        .iter()
        .map(|k| ident(k).is_null())
        .reduce(Expr::and)
        .unwrap_or(lit(false));
    let counted = match rule.missing_keys {
        MissingKeys::Count => lit(true),
        MissingKeys::Ignore => !missing,
    };
    let term = match rule.count {
        DuplicateCount::Repeats => c.clone() - lit(1i64),
        DuplicateCount::Members => case_when(c.clone().gt_eq(lit(2i64)), c.clone()),
    };
    let zero = |x: Expr| coalesce(vec![x, lit(0i64)]);
    inner.aggregate(
        group.map(ident).into_iter().collect(),
        vec![
            zero(agg::sum(c.clone())).alias(column_name(index, Key::Rows)),
            zero(agg::sum(case_when(counted.clone(), c))).alias(column_name(index, Key::Values)),
            zero(agg::sum(case_when(counted, term))).alias(column_name(index, Key::Hits)),
        ],
    )
}

/// Runs a query and returns its result as one batch.
pub(super) async fn collect(
    df: datafusion::error::Result<DataFrame>,
) -> Result<RecordBatch, CheckError> {
    let df = df.map_err(engine_error)?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await.map_err(engine_error)?;
    datafusion::arrow::compute::concat_batches(&schema, &batches).map_err(engine_error)
}

/// A result cell as f64 (`None` when missing or absent).
pub(super) fn value(batch: &RecordBatch, column: &str, row: usize) -> Option<f64> {
    let a = floats(batch, column)?;
    (row < a.len() && !a.is_null(row)).then(|| a.value(row))
}

/// A result column as f64.
pub(super) fn floats(batch: &RecordBatch, column: &str) -> Option<Float64Array> {
    let c = batch.column_by_name(column)?;
    let c = cast(c, &ArrowType::Float64).ok()?;
    c.as_any().downcast_ref::<Float64Array>().cloned()
}

/// A result column as text.
pub(super) fn texts(batch: &RecordBatch, column: &str) -> Option<StringArray> {
    let c = batch.column_by_name(column)?;
    let c = cast(c, &ArrowType::Utf8).ok()?;
    c.as_any().downcast_ref::<StringArray>().cloned()
}

/// The figures of a grouped result, by group.
fn groups(batch: &RecordBatch, column: &str, keys: &[(Key, String, Option<f64>)]) -> Vec<Group> {
    let key_column = batch.column_by_name(column);
    (0..batch.num_rows())
        .map(|r| Group {
            value: key_column.map_or(GroupValue::Missing, |a| group_value(a, r)),
            figures: keys
                .iter()
                .map(|(k, name, q)| (*k, figure(batch, name, r, *q)))
                .collect(),
        })
        .collect()
}

/// A figure of a result row: the cell, or for a quantile's values (`q`)
/// the quantile of them.
fn figure(batch: &RecordBatch, column: &str, row: usize, q: Option<f64>) -> Option<f64> {
    match q {
        None => value(batch, column, row),
        Some(q) => quantile(batch, column, row, q),
    }
}

/// The q-quantile of the values in a list cell, interpolated linearly
/// between the two nearest order statistics as polars' `Linear` does
/// (numpy's default): rank q·(n − 1). `None` without values.
fn quantile(batch: &RecordBatch, column: &str, row: usize, q: f64) -> Option<f64> {
    let list = batch.column_by_name(column)?;
    let list = list.as_any().downcast_ref::<ListArray>()?;
    if list.is_null(row) {
        return None;
    }
    let values = cast(&list.value(row), &ArrowType::Float64).ok()?;
    let values = values.as_any().downcast_ref::<Float64Array>()?;
    let mut v: Vec<f64> = values.iter().flatten().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = q * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (v[lo], v[hi.min(v.len() - 1)]);
    Some(if a == b {
        a
    } else {
        (rank - lo as f64) * (b - a) + a
    })
}

/// The typed value of a grouping column's cell: text as text, every other
/// type as arrow prints it (which matches polars for numbers, booleans and
/// dates).
pub(super) fn group_value(a: &ArrayRef, row: usize) -> GroupValue {
    if a.is_null(row) {
        return GroupValue::Missing;
    }
    let text = matches!(
        a.data_type(),
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View | ArrowType::Dictionary(..)
    );
    if text
        && let Ok(c) = cast(a, &ArrowType::Utf8)
        && let Some(s) = c.as_any().downcast_ref::<StringArray>()
    {
        return GroupValue::Text(s.value(row).to_string());
    }
    GroupValue::Literal(array_value_to_string(a, row).unwrap_or_default())
}
