//! Example rows: for a check that did not pass, the first offending rows
//! (row index and value), how many rows offend in all, and for value-set
//! checks the most frequent unexpected values. Only failures pay for these
//! queries; a passing suite runs none.

use polars::prelude::*;

use super::Evaluator;
use super::compile::{duplicate_exprs, empty_text, filter_expr, member_of, set_series};
use super::execute::scalar;
use super::table::CollectOn;
use crate::data::DType;
use crate::expect::figures::GroupValue;
use crate::expect::outcome::{CheckOutcome, ExampleRow};
use crate::expect::{Bound, Expectation, Metric, Segment};

/// The row index column added for examples.
const ROW: &str = "__mltest_row";

impl Evaluator {
    /// Offending rows (row index + value) and unexpected values for a failed check.
    pub(crate) fn attach_examples(&self, o: &mut CheckOutcome) {
        let e = &o.expectation;
        let Some(column) = e
            .metric
            .column()
            .map(str::to_string)
            .or_else(|| match &e.metric {
                Metric::DuplicateRows { columns, .. } => Some(
                    columns
                        .as_ref()
                        .and_then(|c| c.first().cloned())
                        .unwrap_or_else(|| {
                            self.frame
                                .column_names()
                                .first()
                                .map(|s| s.to_string())
                                .unwrap_or_default()
                        }),
                ),
                _ => None,
            })
        else {
            return;
        };
        if self.frame.column(&column).is_none() {
            return;
        }
        let Some(mut pred) = self.offending(o) else {
            return;
        };
        match &e.segment {
            Segment::All => {}
            Segment::Where { filter } => pred = pred.and(filter_expr(filter, self)),
            Segment::EachOf { column: seg, .. } => {
                let Some(worst) = o.segments.first() else {
                    return;
                };
                pred = pred.and(group_rows(seg, &worst.group));
            }
        }
        let lf = self.frame.lazy().with_row_index(ROW, None).filter(pred);
        let value = col(column.as_str()).cast(DataType::String);
        if let Ok(df) = lf
            .clone()
            .select([
                col(ROW).cast(DataType::UInt64),
                value.clone().alias("v"),
                len().alias("total"),
            ])
            .limit(self.options.examples as IdxSize)
            .collect_on(&self.frame)
        {
            let rows = df.column(ROW).ok().and_then(|c| c.u64().ok().cloned());
            let vals = df.column("v").ok().and_then(|c| c.str().ok().cloned());
            if let (Some(rows), Some(vals)) = (rows, vals) {
                o.examples = (0..df.height())
                    .filter_map(|i| {
                        Some(ExampleRow {
                            row: rows.get(i)?,
                            value: vals.get(i).map_or("(missing)".into(), clip),
                        })
                    })
                    .collect();
            }
            o.offending_rows = scalar(&df, "total").unwrap_or(0.0) as u64;
        }
        if matches!(e.metric, Metric::InSetFraction { .. })
            && let Ok(df) = lf
                .group_by([value.alias("v")])
                .agg([len().cast(DataType::UInt64).alias("n")])
                // Ties broken by value before the cut: otherwise which of
                // equally frequent values make the ten shown depends on the
                // group order, which differs between engines and runs.
                .sort(
                    ["n", "v"],
                    SortMultipleOptions::default()
                        .with_order_descending_multi([true, false])
                        .with_nulls_last(true),
                )
                .limit(10)
                .collect_on(&self.frame)
        {
            let vals = df.column("v").ok().and_then(|c| c.str().ok().cloned());
            let ns = df.column("n").ok().and_then(|c| c.u64().ok().cloned());
            if let (Some(vals), Some(ns)) = (vals, ns) {
                o.unexpected = (0..df.height())
                    .map(|i| {
                        (
                            vals.get(i).map_or("(missing)".into(), |s| format!("{s:?}")),
                            ns.get(i).unwrap_or(0),
                        )
                    })
                    .collect();
                o.unexpected
                    .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            }
        }
    }

    /// The rows that make a check fail (for examples).
    fn offending(&self, o: &CheckOutcome) -> Option<Expr> {
        let (e, errored) = (&o.expectation, o.error().is_some());
        let dtype = |c: &str| self.frame.dtype(c);
        Some(match &e.metric {
            Metric::NullFraction { column } => col(column.as_str()).is_null(),
            Metric::InRangeFraction { column, min, max } => col(column.as_str()).is_not_null().and(
                col(column.as_str())
                    .cast(DataType::Float64)
                    .is_between(
                        lit(min.unwrap_or(f64::NEG_INFINITY)),
                        lit(max.unwrap_or(f64::INFINITY)),
                        ClosedInterval::Both,
                    )
                    .not(),
            ),
            Metric::InSetFraction { column, values } => {
                let s = set_series(values, dtype(column), column).ok()?;
                col(column.as_str())
                    .is_not_null()
                    .and(member_of(col(column.as_str()), s, self.frame.streaming).not())
            }
            Metric::EmptyTextFraction { column } => empty_text(col(column.as_str())),
            Metric::LengthInRangeFraction { column, min, max } => {
                col(column.as_str()).is_not_null().and(
                    col(column.as_str())
                        .str()
                        .len_chars()
                        .is_between(lit(*min), lit(*max), ClosedInterval::Both)
                        .not(),
                )
            }
            Metric::PatternMatchFraction { column, pattern } => {
                col(column.as_str()).is_not_null().and(
                    col(column.as_str())
                        .str()
                        .contains(lit(pattern.as_str()), true)
                        .not(),
                )
            }
            // Too few distinct values: the rows whose value repeats (within
            // the segment, as the figure counts them). Too many has no
            // offending row.
            Metric::UniqueFraction { column } if !errored && too_few(e, o.observed) => {
                let x = col(column.as_str());
                // The segment is part of the key: a value repeats within it.
                let within = match &e.segment {
                    Segment::EachOf { column: seg, .. } => {
                        as_struct(vec![x.clone(), col(seg.as_str())]).is_duplicated()
                    }
                    Segment::Where { filter } => {
                        as_struct(vec![x.clone(), filter_expr(filter, self)]).is_duplicated()
                    }
                    Segment::All => x.clone().is_duplicated(),
                };
                x.is_not_null().and(within)
            }
            Metric::DuplicateRows { columns, rule } => {
                let cols: Vec<Expr> = match columns {
                    Some(c) => c.iter().map(|c| col(c.as_str())).collect(),
                    // The frame's own columns: `all()` would also see the row
                    // index added for examples, and nothing would repeat.
                    None => self.frame.column_names().iter().map(|c| col(*c)).collect(),
                };
                // Over the whole frame, rows repeat within their segment only:
                // the segment is part of the key, as the aggregates see it.
                let segment = match &e.segment {
                    Segment::All => None,
                    Segment::Where { filter } => Some(filter_expr(filter, self)),
                    Segment::EachOf { column, .. } => Some(col(column.as_str())),
                };
                duplicate_exprs(cols, segment, rule).0
            }
            Metric::Mean { column }
            | Metric::Std { column }
            | Metric::Min { column }
            | Metric::Max { column }
            | Metric::Sum { column }
            | Metric::Quantile { column, .. }
                if errored && dtype(column) == DType::Float =>
            {
                let x = col(column.as_str());
                x.clone().is_nan().or(x.is_infinite())
            }
            _ => return None,
        })
    }
}

/// Whether a check failed for being below its bound's lower end.
pub(crate) fn too_few(e: &Expectation, observed: Option<f64>) -> bool {
    match (e.bound, observed) {
        (Bound::AtLeast { min } | Bound::Between { min, .. }, Some(x)) => x < min,
        _ => false,
    }
}

/// The rows of one group of `column`.
fn group_rows(column: &str, value: &GroupValue) -> Expr {
    match value {
        GroupValue::Missing => col(column).is_null(),
        GroupValue::Text(s) | GroupValue::Literal(s) => {
            col(column).cast(DataType::String).eq(lit(s.as_str()))
        }
    }
}

pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        format!("{:?}…", s.chars().take(MAX).collect::<String>())
    } else {
        format!("{s:?}")
    }
}
