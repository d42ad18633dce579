//! Slices: accuracy per segment of a column against overall. A segment with
//! at least `min_rows` rows that is worse than overall by more than a margin
//! is a weak slice; reports list the weakest first, with Wilson intervals.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::error::RobustError;
use crate::model::Model;
use crate::stats::{Z95, wilson};
use crate::text::{fig, thousands};

/// One segment's accuracy.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SliceFigure {
    pub segment: String,
    pub rows: usize,
    pub accuracy: f64,
    pub interval: (f64, f64),
}

/// Accuracy overall and per segment, weakest segment first.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SliceReport {
    pub column: String,
    pub rows: usize,
    pub overall: f64,
    pub segments: Vec<SliceFigure>,
    /// Segments under `min_rows`, not judged.
    pub skipped: usize,
}

/// Accuracy of `model` on labelled `rows`, overall and per value of `column`.
pub fn slice_accuracy(
    model: &dyn Model,
    rows: &DataFrame,
    label: &str,
    column: &str,
    min_rows: usize,
) -> Result<SliceReport, RobustError> {
    let data = |e: PolarsError| RobustError::Data(e.to_string());
    if model.card().output.task == crate::model::Task::Regression {
        return Err(RobustError::Rule {
            model: model.card().display_id(),
            why: "slice accuracy compares predicted classes with labels; it is a regressor".into(),
        });
    }
    let (rows, labels) = crate::ab::class_labels(rows, label, model)
        .map_err(|e| RobustError::Data(e.to_string()))?;
    let keys = rows
        .column(column)
        .map_err(data)?
        .cast(&DataType::String)
        .map_err(data)?;
    let keys = keys.str().map_err(data)?.clone();
    let p = crate::model::predict_checked(model, &rows)?;
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut correct, mut total) = (0, 0);
    for (i, y) in labels.iter().enumerate() {
        let ok = usize::from(p.class_of(i) == Some(*y));
        let key = keys
            .get(i)
            .map_or("(missing)".to_string(), |k| format!("{column} == {k:?}"));
        let e = per.entry(key).or_default();
        e.0 += ok;
        e.1 += 1;
        correct += ok;
        total += 1;
    }
    if total == 0 {
        return Err(RobustError::Data(format!("no labelled rows in {label:?}")));
    }
    let mut skipped = 0;
    let mut segments: Vec<SliceFigure> = per
        .into_iter()
        .filter(|(_, (_, n))| {
            let keep = *n >= min_rows;
            skipped += usize::from(!keep);
            keep
        })
        .map(|(segment, (c, n))| SliceFigure {
            segment,
            rows: n,
            accuracy: c as f64 / n as f64,
            interval: wilson(c as u64, n as u64, Z95),
        })
        .collect();
    segments.sort_by(|a, b| {
        a.accuracy
            .total_cmp(&b.accuracy)
            .then(a.segment.cmp(&b.segment))
    });
    Ok(SliceReport {
        column: column.to_string(),
        rows: total,
        overall: correct as f64 / total as f64,
        segments,
        skipped,
    })
}

impl SliceReport {
    /// Segments worse than overall by more than `margin`.
    pub fn failing(&self, margin: f64) -> Vec<&SliceFigure> {
        self.segments
            .iter()
            .filter(|s| s.accuracy < self.overall - margin)
            .collect()
    }

    /// The report: overall, every judged segment (weakest first), the verdict.
    pub fn report(&self, name: &str, reason: &str, margin: f64) -> String {
        let failing = self.failing(margin);
        let mut s = format!(
            "slices `{name}` {}\n  reason:   {reason}\n  check:    accuracy of every segment of {:?} >= overall - {}\n  overall:  {} on {} rows\n  segments: {} judged, {} smaller skipped, weakest first:\n",
            if failing.is_empty() {
                "passed"
            } else {
                "failed"
            },
            self.column,
            fig(margin),
            fig(self.overall),
            thousands(self.rows as u64),
            self.segments.len(),
            self.skipped
        );
        let width = self
            .segments
            .iter()
            .map(|f| f.segment.chars().count())
            .max()
            .unwrap_or(0);
        for f in &self.segments {
            s.push_str(&format!(
                "            {:<width$}  {}  [{}, {}]  ({} rows){}\n",
                f.segment,
                fig(f.accuracy),
                fig(f.interval.0),
                fig(f.interval.1),
                thousands(f.rows as u64),
                if f.accuracy < self.overall - margin {
                    "  ✗"
                } else {
                    ""
                }
            ));
        }
        s
    }
}
