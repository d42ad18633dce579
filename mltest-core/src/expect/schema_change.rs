//! Schema change against the check's previous run, as Soda's schema check
//! (`when schema changes: [column add, column delete, column type change]`)
//! compares a data set with the schema it had at the last scan.
//!
//! The engine records the columns it evaluated (name and polars dtype) in
//! the outcome ([`SchemaBasis`]); the check scaffold reads the columns the
//! same check recorded in its previous run from the metric history
//! ([`crate::history`]) and counts the columns removed, re-typed or added.
//! The first run has nothing to compare with: it is *inconclusive* (never a
//! pass) and its columns are what the next run compares with. A re-type is
//! a change of the physical dtype (`i64` → `str`, `i64` → `f64`): a
//! numeric column read as text after one bad cell upstream is exactly what
//! the check is for.
//!
//! The default ([`SchemaChangeRef::unchanged`]) fails on a removed or
//! re-typed column — features a model reads are gone or mean something
//! else — and only warns on an added one, which breaks nothing downstream.

use serde::{Deserialize, Serialize};

use super::builder::MetricRef;
use super::outcome::{CheckOutcome, Count, Decision};
use super::{CheckError, Expectation, Metric};

/// Which column change a schema-change check counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnChange {
    /// In the previous run's columns, not in this run's.
    Removed,
    /// In both, with another dtype.
    Retyped,
    /// In this run's columns, not in the previous run's.
    Added,
}

impl ColumnChange {
    /// `removed`, `re-typed`, `added`.
    pub fn word(self) -> &'static str {
        match self {
            ColumnChange::Removed => "removed",
            ColumnChange::Retyped => "re-typed",
            ColumnChange::Added => "added",
        }
    }
}

/// A column as a schema-change check records it: its name and polars dtype
/// (as polars prints it: `i64`, `str`, `f64`, `date`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    pub name: String,
    pub dtype: String,
}

/// The columns the check recorded in an earlier run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PastSchema {
    pub run_id: String,
    /// Unix seconds of that run's record.
    pub time: f64,
    pub columns: Vec<ColumnType>,
}

/// One changed column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedColumn {
    pub column: String,
    pub change: ColumnChange,
    /// The dtype in the previous run (`None` for an added column).
    pub before: Option<String>,
    /// The dtype in this run (`None` for a removed column).
    pub after: Option<String>,
}

impl std::fmt::Display for ChangedColumn {
    /// `"Age" removed (was i64)`, `"Age" re-typed i64 → str`, `"Tag" added (str)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let none = String::new();
        let before = self.before.as_ref().unwrap_or(&none);
        let after = self.after.as_ref().unwrap_or(&none);
        match self.change {
            ColumnChange::Removed => write!(f, "{:?} removed (was {before})", self.column),
            ColumnChange::Retyped => write!(f, "{:?} re-typed {before} → {after}", self.column),
            ColumnChange::Added => write!(f, "{:?} added ({after})", self.column),
        }
    }
}

/// What a schema-change check compared: this run's columns and, once the
/// scaffold has read it, the previous run's and every change between them
/// (of all three kinds, whichever the check counts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaBasis {
    pub current: Vec<ColumnType>,
    pub previous: Option<PastSchema>,
    pub changes: Vec<ChangedColumn>,
}

/// The changes from `previous` to `current`: removed and re-typed columns
/// in the previous order, then added ones in the current order.
///
/// ```
/// use mltest_core::expect::{changed_columns, ColumnChange, ColumnType};
/// let col = |n: &str, t: &str| ColumnType { name: n.into(), dtype: t.into() };
/// let before = [col("id", "i64"), col("age", "i64"), col("text", "str")];
/// let after = [col("id", "i64"), col("age", "str"), col("tag", "str")];
/// let kinds: Vec<_> = changed_columns(&before, &after).iter().map(|c| c.change).collect();
/// assert_eq!(kinds, [ColumnChange::Retyped, ColumnChange::Removed, ColumnChange::Added]);
/// ```
pub fn changed_columns(previous: &[ColumnType], current: &[ColumnType]) -> Vec<ChangedColumn> {
    let find = |cols: &[ColumnType], name: &str| {
        cols.iter()
            .find(|c| c.name == name)
            .map(|c| c.dtype.clone())
    };
    let mut out = Vec::new();
    for p in previous {
        match find(current, &p.name) {
            None => out.push(ChangedColumn {
                column: p.name.clone(),
                change: ColumnChange::Removed,
                before: Some(p.dtype.clone()),
                after: None,
            }),
            Some(now) if now != p.dtype => out.push(ChangedColumn {
                column: p.name.clone(),
                change: ColumnChange::Retyped,
                before: Some(p.dtype.clone()),
                after: Some(now),
            }),
            Some(_) => {}
        }
    }
    for c in current {
        if find(previous, &c.name).is_none() {
            out.push(ChangedColumn {
                column: c.name.clone(),
                change: ColumnChange::Added,
                before: None,
                after: Some(c.dtype.clone()),
            });
        }
    }
    out
}

/// Why a schema-change check evaluated outside the check scaffold has no
/// verdict.
pub(crate) const UNRESOLVED: &str = "a schema change is judged against the check's previous \
    run, which only a #[data_expectation] check reads from the metric history";

/// A schema-change check before its bound: which change it counts.
///
/// ```
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let data = Dataset::from_frame("d", df!("x" => [1.0]).unwrap());
/// let checks = data.schema_change().unchanged();
/// let names: Vec<String> = checks.iter().map(|e| e.describe()).collect();
/// assert_eq!(names, [
///     "columns removed since the check's previous run <= 0",
///     "columns re-typed since the check's previous run <= 0",
///     "columns added since the check's previous run <= 0",
/// ]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaChangeRef;

/// The data set's columns against those of the check's previous run: see
/// [`SchemaChangeRef`].
pub fn schema_change() -> SchemaChangeRef {
    SchemaChangeRef
}

impl crate::Dataset {
    /// See [`schema_change`]: this data set's columns against those of the
    /// check's previous run.
    pub fn schema_change(&self) -> SchemaChangeRef {
        schema_change()
    }
}

impl SchemaChangeRef {
    fn of(self, change: ColumnChange) -> MetricRef {
        MetricRef(Metric::SchemaChange { change })
    }

    /// Columns of the previous run missing from this one (a count).
    pub fn removed(self) -> MetricRef {
        self.of(ColumnChange::Removed)
    }

    /// Columns whose dtype changed since the previous run (a count).
    pub fn retyped(self) -> MetricRef {
        self.of(ColumnChange::Retyped)
    }

    /// Columns new since the previous run (a count).
    pub fn added(self) -> MetricRef {
        self.of(ColumnChange::Added)
    }

    /// No column removed or re-typed (each fails the test) and none added
    /// (which only warns), as three checks.
    pub fn unchanged(self) -> Vec<Expectation> {
        vec![
            self.removed().at_most(0.0),
            self.retyped().at_most(0.0),
            self.added().at_most(0.0).warn(),
        ]
    }
}

impl CheckOutcome {
    /// The pending outcome of a schema-change check: this run's columns,
    /// not judged until [`judge_schema`](Self::judge_schema).
    pub(crate) fn schema_pending(e: &Expectation, current: Vec<ColumnType>) -> CheckOutcome {
        let mut o = CheckOutcome::errored(e.clone(), CheckError::Invalid(UNRESOLVED.into()));
        o.schema = Some(SchemaBasis {
            current,
            previous: None,
            changes: Vec::new(),
        });
        o
    }

    /// Judges a schema-change check against the columns its previous run
    /// recorded: inconclusive without one, else the count of its change
    /// kind against the bound. An outcome that is not a pending schema
    /// check (an error of its own) stays as it is.
    pub(crate) fn judge_schema(&mut self, previous: Option<PastSchema>) {
        let Metric::SchemaChange { change } = self.expectation.metric else {
            return;
        };
        let pending =
            matches!(self.decision(), Decision::Error(CheckError::Invalid(m)) if m == UNRESOLVED);
        let Some(basis) = self.schema.as_mut().filter(|_| pending) else {
            return;
        };
        if self.expectation.learned.is_some() {
            self.set_error(CheckError::Invalid(
                "a schema-change check compares with the previous run's columns; its bound is a \
                 number of columns, not one learned from history"
                    .into(),
            ));
            return;
        }
        let Some(past) = previous else {
            self.set_decision(Decision::Inconclusive { have: 0, need: 1 });
            return;
        };
        basis.changes = changed_columns(&past.columns, &basis.current);
        let hits = basis.changes.iter().filter(|c| c.change == change).count();
        let of = match change {
            ColumnChange::Added => basis.current.len(),
            _ => past.columns.len(),
        };
        basis.previous = Some(past);
        self.count = Some(Count {
            hits: hits as u64,
            of: of as u64,
            unit: match change {
                ColumnChange::Added => "columns of this run".into(),
                _ => "columns of the previous run".into(),
            },
        });
        self.decide(hits as f64);
    }
}
