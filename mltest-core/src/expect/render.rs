//! The failure report a person reads at a glance: what was expected, what
//! was seen, where, and how to reproduce.

use std::fmt::Write;

use super::Metric;

use super::outcome::{CheckOutcome, Status};
use crate::data::DataInfo;
use crate::text::{fig, thousands};

impl CheckOutcome {
    /// The report a person reads (the failure message; see
    /// [`render_failure`]), without the data line.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0]).unwrap());
    /// let out = data.evaluate_one(data.column("x").max().at_most(1.5));
    /// assert!(out.render().contains("observed: 2"), "{}", out.render());
    /// ```
    pub fn render(&self) -> String {
        render_failure(self, None)
    }
}

/// Renders one check's outcome as the indented block of a failure report.
///
/// ```
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let data = Dataset::from_frame("d", df!("Age" => [Some(30i64), None]).unwrap());
/// let out = data.evaluate_one(data.column("Age").null_fraction().at_most(0.0));
/// let text = mltest_core::expect::render_failure(&out, Some(data.info()));
/// assert!(text.contains("check:    null fraction of \"Age\" <= 0"));
/// assert!(text.contains("observed: 0.5000 (1 of 2 rows missing)"));
/// assert!(text.contains("examples: rows 1 (first 1 of 1)"));
/// ```
pub fn render_failure(o: &CheckOutcome, data: Option<&DataInfo>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "  check:    {}", o.expectation.describe());
    if let Some(label) = &o.expectation.label {
        let _ = writeln!(s, "  name:     {label}");
    }
    if let Some(err) = o.error() {
        let _ = writeln!(s, "  error:    {err}");
    }
    if o.status() == Status::Fail && o.expectation.severity == Some(super::Severity::Warn) {
        let _ = writeln!(
            s,
            "  verdict:  warn: this check only warns, its failure fails no test"
        );
    }
    let schema_check = matches!(o.expectation.metric, Metric::SchemaChange { .. });
    if let (super::Decision::Inconclusive { .. }, true) = (o.decision(), schema_check) {
        let _ = writeln!(
            s,
            "  verdict:  inconclusive: no earlier run of this check in the metric history to \
             compare the columns with; this run's columns are what the next run compares with"
        );
    } else if let super::Decision::Inconclusive { have, need } = o.decision() {
        let _ = writeln!(
            s,
            "  verdict:  inconclusive: the bound is learned from the last {need} runs of this \
             check and the history holds {have}; {} more run(s) decide it",
            need - have
        );
    }
    if let Some(basis) = &o.learned {
        let _ = writeln!(s, "  learned:  {}", basis.describe());
    }
    if let (Some(basis), Metric::SchemaChange { change }) = (&o.schema, &o.expectation.metric) {
        render_schema(&mut s, basis, *change);
    }
    if let Some(x) = o.observed {
        let counts = o
            .count
            .as_ref()
            .map(|c| format!(" ({} of {} {})", thousands(c.hits), thousands(c.of), c.unit))
            .unwrap_or_default();
        let cached = if o.from_cache {
            " [figures from the metric cache]"
        } else {
            ""
        };
        let approx = if o.estimate.as_ref().is_some_and(|e| e.rank_error > 0.0) {
            "≈ "
        } else {
            ""
        };
        let shown = match o.expectation.metric {
            // A time: the date a person reads, and how old it is.
            Metric::Newest { .. } => format!(
                "{}Z ({:.1} days before now)",
                crate::clock::iso8601(x),
                (crate::clock::now() - x) / 86_400.0
            ),
            _ => fig(x),
        };
        let _ = writeln!(s, "  observed: {approx}{shown}{counts}{cached}");
        if let Some(e) = &o.estimate {
            let _ = writeln!(s, "  estimate: {}", e.describe());
            if e.straddles(&o.expectation.bound) {
                let _ = writeln!(
                    s,
                    "            the bound lies inside that range: an exact quantile could be decided \
                     the other way (evaluate in memory, or with `EvalOptions::exact_quantiles`)"
                );
            }
        }
    } else if let (Some(c), Status::Error) = (&o.count, o.status()) {
        let _ = writeln!(
            s,
            "  observed: {} of {} {}",
            thousands(c.hits),
            thousands(c.of),
            c.unit
        );
    }
    if let Some(seg) = &o.worst_segment {
        let _ = writeln!(s, "  segment:  {seg}");
    }
    if !o.segments.is_empty() {
        let failing = o.segments.iter().filter(|f| !f.passed).count();
        let skipped = if o.skipped_segments > 0 {
            format!("; {} smaller groups skipped", o.skipped_segments)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  segments: {failing} of {} fail{skipped}, worst first:",
            o.segments.len()
        );
        let width = o
            .segments
            .iter()
            .map(|f| f.segment.chars().count())
            .max()
            .unwrap_or(0);
        for f in o.segments.iter().take(8) {
            let _ = writeln!(
                s,
                "            {:<width$}  {:>8}  ({} rows){}",
                f.segment,
                fig(f.observed),
                thousands(f.rows),
                if f.passed { "" } else { "  ✗" }
            );
        }
        if o.segments.len() > 8 {
            let _ = writeln!(s, "            … {} more", o.segments.len() - 8);
        }
    }
    if !o.table.is_empty() {
        let _ = writeln!(s, "  figures:");
        let width = o
            .table
            .iter()
            .map(|t| t.name.chars().count())
            .max()
            .unwrap_or(0);
        for super::TableRow {
            name,
            value,
            method: how,
        } in &o.table
        {
            let _ = writeln!(
                s,
                "            {:<width$}  {}  {how}",
                format!("{name:?}"),
                fig(*value)
            );
        }
    }
    if !o.unexpected.is_empty() {
        let items: Vec<String> = o
            .unexpected
            .iter()
            .map(|(v, n)| {
                if *n == 1 && o.expectation.metric.kind() == "schema" {
                    v.clone()
                } else {
                    format!("{v} × {}", thousands(*n))
                }
            })
            .collect();
        let label = if o.expectation.metric.kind() == "schema" {
            "problems"
        } else {
            "unexpected"
        };
        let _ = writeln!(s, "  {label}: {}", items.join(", "));
    }
    if !o.examples.is_empty() {
        let total = o.offending_rows.max(o.examples.len() as u64);
        let of = format!("(first {} of {})", o.examples.len(), thousands(total));
        if o.examples.iter().all(|e| e.value == "(missing)") {
            let rows: Vec<String> = o.examples.iter().map(|e| e.row.to_string()).collect();
            let _ = writeln!(s, "  examples: rows {} {of}", rows.join(", "));
        } else {
            let _ = writeln!(s, "  examples: {of}");
            for e in &o.examples {
                let _ = writeln!(s, "            row {}: {}", e.row, e.value);
            }
        }
    }
    if let Some(d) = data {
        let _ = writeln!(s, "  data:     {}", d.short());
        if let Some(note) = &d.note {
            let _ = writeln!(s, "  note:     {note}");
        }
    }
    s
}

/// A schema-change check's basis: the run it compared with, the columns of
/// the change it counts, then the other changes.
fn render_schema(s: &mut String, basis: &super::SchemaBasis, counted: super::ColumnChange) {
    let Some(past) = &basis.previous else { return };
    let _ = writeln!(
        s,
        "  compared: {} columns now, {} in run {} ({}Z)",
        basis.current.len(),
        past.columns.len(),
        past.run_id,
        crate::clock::iso8601(past.time)
    );
    let (own, other): (Vec<_>, Vec<_>) = basis.changes.iter().partition(|c| c.change == counted);
    if own.is_empty() {
        let _ = writeln!(s, "  columns:  none {}", counted.word());
    }
    for (list, head) in [(own, "  columns:  "), (other, "  also:     ")] {
        for (i, c) in list.iter().enumerate() {
            let _ = writeln!(s, "{}{c}", if i == 0 { head } else { "            " });
        }
    }
}
