//! Execution: runs a plan's queries and reads each check's figures back by
//! the keys its aggregates were compiled under. Over an in-memory frame the
//! queries run one after another; over a scan, as one streaming plan whose
//! queries share a single scan of the source.

use polars::prelude::*;

use super::Evaluator;
use super::compile::{Plan, Planned, ROWS, column_name, fed_column};
use super::table::{CollectOn, combined, group_value};
use crate::expect::figures::{FigureSet, Figures, Group};
use crate::expect::outcome::CheckError;

/// What execution found for one check: its figures, or why there are none.
pub(super) type Measured = (usize, Result<Figures, CheckError>);

impl Evaluator {
    /// Runs the plan's queries; one entry per planned check, in no order.
    pub(super) fn execute(&self, plan: &Plan) -> Vec<Measured> {
        let queries = self.queries(plan);
        let has_select = queries.first().is_some_and(|(label, _)| label == "select");
        let mut results = self
            .collect_queries(queries.into_iter().map(|(_, lf)| lf).collect())
            .into_iter();
        let mut out: Vec<Measured> = Vec::new();
        let sketch_of = |i: usize| plan.sketches.iter().find(|(j, _)| *j == i).map(|(_, f)| f);
        // A sketch that did not see exactly the values the query fed it
        // (a batch skipped or run twice) must not answer: its check errors.
        let mut bad_sketch: Vec<(usize, String)> = Vec::new();
        let bad = |bad_sketch: &[(usize, String)], i: usize| {
            bad_sketch
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, m)| CheckError::Engine(m.clone()))
        };

        if has_select {
            match results.next().unwrap_or_else(|| Err("no result".into())) {
                Ok(row) => {
                    self.rows_seen.set(scalar(&row, ROWS).map(|n| n as u64));
                    for (i, feed) in &plan.sketches {
                        let fed = scalar(&row, &fed_column(*i)).unwrap_or(-1.0);
                        let seen = feed.total();
                        if fed != seen as f64 {
                            bad_sketch.push((
                                *i,
                                format!(
                                    "the quantile sketch summarised {seen} values where the query fed it {fed}"
                                ),
                            ));
                        }
                    }
                    for p in &plan.flat {
                        let mut figures = flat_figures(&row, p);
                        if let Some(feed) = sketch_of(p.index) {
                            figures.extend(feed.figures(None));
                        }
                        out.push((
                            p.index,
                            match bad(&bad_sketch, p.index) {
                                Some(err) => Err(err),
                                None => Ok(Figures::Flat(figures)),
                            },
                        ));
                    }
                }
                Err(err) => {
                    for p in &plan.flat {
                        out.push((p.index, Err(CheckError::Engine(err.clone()))));
                    }
                    for (i, _) in &plan.sketches {
                        bad_sketch.push((*i, err.clone()));
                    }
                }
            }
        }

        for (column, plans) in &plan.grouped {
            let result = results.next().unwrap_or_else(|| Err("no result".into()));
            for p in plans {
                let measured = match (&result, bad(&bad_sketch, p.index)) {
                    (_, Some(err)) => Err(err),
                    (Err(err), None) => Err(CheckError::Engine(err.clone())),
                    (Ok(groups), None) => {
                        let mut figures = group_figures(p, column, groups);
                        if let Some(feed) = sketch_of(p.index) {
                            for g in figures.iter_mut() {
                                g.figures.extend(feed.figures(Some(&g.value)));
                            }
                        }
                        Ok(Figures::Groups(figures))
                    }
                };
                out.push((p.index, measured));
            }
        }
        out
    }

    /// Runs the queries: one after another over an in-memory frame; over a
    /// scan, as one streaming plan whose queries share a single scan of the
    /// source (a cache node feeding each through a multiplexer).
    fn collect_queries(&self, queries: Vec<LazyFrame>) -> Vec<Result<DataFrame, String>> {
        if !self.frame.streaming || queries.len() < 2 {
            return queries
                .into_iter()
                .map(|q| q.collect_on(&self.frame).map_err(|e| e.to_string()))
                .collect();
        }
        let n = queries.len();
        let result = combined(queries)
            .map(|lf| lf.collect_with_engine(Engine::Streaming))
            .unwrap_or_else(|| Err(PolarsError::NoData("no queries".into())));
        match result {
            Ok(polars_core::query_result::QueryResult::Multiple(frames)) if frames.len() == n => {
                frames.into_iter().map(Ok).collect()
            }
            Ok(_) => vec![
                Err(format!(
                    "the streaming engine did not return one result for each of {n} queries"
                ));
                n
            ],
            Err(e) => vec![Err(e.to_string()); n],
        }
    }
}

/// The figures of one check in the one-row result of the main query.
fn flat_figures(row: &DataFrame, p: &Planned) -> FigureSet {
    p.aggs
        .iter()
        .map(|(k, _)| (*k, scalar(row, &column_name(p.index, *k))))
        .collect()
}

/// The figures of one check in a group-by result, by group.
fn group_figures(p: &Planned, column: &str, groups: &DataFrame) -> Vec<Group> {
    let keys = groups.column(column).ok();
    let cols: Vec<_> = p
        .aggs
        .iter()
        .map(|(k, _)| (*k, groups.column(&column_name(p.index, *k)).ok()))
        .collect();
    (0..groups.height())
        .map(|r| Group {
            value: keys
                .and_then(|k| k.get(r).ok())
                .map_or(crate::expect::GroupValue::Missing, |v| group_value(&v)),
            figures: cols
                .iter()
                .map(|(k, c)| {
                    let v = c.and_then(|c| c.get(r).ok()).and_then(|v| any_to_f64(&v));
                    (*k, v)
                })
                .collect(),
        })
        .collect()
}

fn any_to_f64(v: &AnyValue) -> Option<f64> {
    match v {
        AnyValue::Null => None,
        other => other.extract::<f64>(),
    }
}

/// The first value of a column as f64 (`None` when absent or missing).
pub(super) fn scalar(df: &DataFrame, column: &str) -> Option<f64> {
    df.column(column)
        .ok()?
        .get(0)
        .ok()
        .and_then(|v| any_to_f64(&v))
}
