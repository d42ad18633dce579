//! Expectations are values, not closures: a metric, a bound and the rows
//! they look at. The engine compiles a batch of them into polars
//! expressions evaluated together (one `select`, plus one `group_by` per
//! grouping column), so the same values could later compile to a streaming
//! plan or SQL, and can be read by other parts of mltest (the robustness
//! generator learns legal ranges and value sets from them).

// Values users build: metric.rs and the types below; builder.rs the fluent API.
// Evaluation by stage: evaluate.rs (entry: metric cache or engine) →
// engine/ (validate, compile, execute, examples; polars) → figures.rs (the
// typed seam) → decide.rs (engine-agnostic) → outcome.rs, render.rs.
mod builder;
pub(crate) mod decide;
mod engine;
mod estimate;
mod evaluate;
pub(crate) mod figures;
#[cfg(feature = "datafusion")]
mod fusion;
mod incremental;
mod learned;
mod metric;
mod metric_cache;
mod outcome;
mod partial;
mod render;
mod schema_change;
mod stream;

pub use builder::{
    ColumnRef, DuplicatesRef, LeakageRef, LengthsRef, MetricRef, SchemaRef, ValuesRef,
};
pub use builder::{column, duplicate_rows, duplicates_on, leakage, row_count, schema};
pub use estimate::{Estimate, KLL_K};
pub use evaluate::EvalOptions;
pub use figures::GroupValue;
#[cfg(feature = "datafusion")]
pub use fusion::{Evaluated, evaluate_table};
pub use incremental::{Incremental, PartitionRun};
pub use learned::{
    HistoryRef, Last, Learned, LearnedBasis, Limit, PastRun, PastStat, PastValue, Resolution,
    history, last,
};
pub use metric::{DuplicateCount, DuplicateRule, Metric, MissingKeys};
pub use outcome::{
    CheckError, CheckOutcome, Count, Decision, ExampleRow, SegmentFigure, Status, TableRow,
};
pub use partial::{MergeError, Partial};
pub use render::render_failure;
pub use schema_change::{
    ChangedColumn, ColumnChange, ColumnType, PastSchema, SchemaBasis, SchemaChangeRef,
    changed_columns, schema_change,
};
pub(crate) use stream::schema_only;
pub use stream::{PlanNode, QueryPlan, Streamed, StreamingPlan};

use serde::{Deserialize, Serialize};

/// Whether a failed check fails its test (`Fail`) or is only reported (`Warn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Fail,
    Warn,
}

/// A literal in a segment filter or a value set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $v:ident as $c:ty),*) => {$(
        impl From<$t> for Value { fn from(x: $t) -> Self { Value::$v(x as $c) } }
    )*};
}
value_from!(i32 => Int as i64, i64 => Int as i64, u32 => Int as i64, usize => Int as i64, f64 => Float as f64, f32 => Float as f64);
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

/// A row filter that defines a segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Filter {
    Eq { column: String, value: Value },
    In { column: String, values: Vec<Value> },
    IsNull { column: String },
    NotNull { column: String },
    And { all: Vec<Filter> },
}

impl Filter {
    pub(crate) fn columns(&self) -> Vec<&str> {
        match self {
            Filter::Eq { column, .. }
            | Filter::In { column, .. }
            | Filter::IsNull { column }
            | Filter::NotNull { column } => vec![column.as_str()],
            Filter::And { all } => all.iter().flat_map(|f| f.columns()).collect(),
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Eq { column, value } => write!(f, "{column} == {value}"),
            Filter::In { column, values } => {
                let v: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                write!(f, "{column} in [{}]", v.join(", "))
            }
            Filter::IsNull { column } => write!(f, "{column} is missing"),
            Filter::NotNull { column } => write!(f, "{column} is present"),
            Filter::And { all } => {
                let v: Vec<String> = all.iter().map(|x| x.to_string()).collect();
                write!(f, "{}", v.join(" and "))
            }
        }
    }
}

/// Which rows a check looks at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Segment {
    /// Every row.
    All,
    /// The rows a filter keeps.
    Where { filter: Filter },
    /// Each group of a column, separately: the check passes only if it holds
    /// in every group with at least `min_rows` rows; the report names the
    /// worst groups.
    EachOf { column: String, min_rows: usize },
}

/// An interval the observed value must fall in. NaN is never inside.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Bound {
    AtMost { max: f64 },
    AtLeast { min: f64 },
    Between { min: f64, max: f64 },
}

impl Bound {
    /// Whether `x` satisfies the bound (false for NaN).
    pub fn holds(&self, x: f64) -> bool {
        match *self {
            Bound::AtMost { max } => x <= max,
            Bound::AtLeast { min } => x >= min,
            Bound::Between { min, max } => x >= min && x <= max,
        }
    }

    /// How far outside the bound `x` lies (0 when inside): ranks segments.
    pub fn excess(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::INFINITY;
        }
        match *self {
            Bound::AtMost { max } => x - max,
            Bound::AtLeast { min } => min - x,
            Bound::Between { min, max } => (min - x).max(x - max),
        }
    }

    /// `<= 0.0000`, `>= 0.95`, `in [35, 50]`.
    pub fn describe(&self) -> String {
        use crate::text::fig;
        match *self {
            Bound::AtMost { max } => format!("<= {}", fig(max)),
            Bound::AtLeast { min } => format!(">= {}", fig(min)),
            Bound::Between { min, max } => format!("in [{}, {}]", fig(min), fig(max)),
        }
    }
}

/// One check: a metric over a segment, and the bound it must meet.
///
/// Built from a [`Dataset`](crate::Dataset):
///
/// ```
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let data = Dataset::from_frame("d", df!("Age" => [20i64, 30, 95], "Dept" => ["a", "b", "a"]).unwrap());
/// let e = data.column("Age").values().between(18.0, 90.0).mostly(0.6);
/// let out = data.evaluate_one(e);
/// assert!(out.passed());
/// assert_eq!(out.observed, Some(2.0 / 3.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub metric: Metric,
    pub bound: Bound,
    pub segment: Segment,
    /// A short name distinguishing this check among several in one test.
    pub label: Option<String>,
    /// A bound learned from the check's past runs ([`history`]): `bound`
    /// is a placeholder no figure meets until the check scaffold resolves
    /// the rule against the metric history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<Learned>,
    /// This check's own severity ([`warn`](Self::warn)), else the test's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

impl Expectation {
    pub(crate) fn new(metric: Metric, bound: Bound) -> Self {
        Expectation {
            metric,
            bound,
            segment: Segment::All,
            label: None,
            learned: None,
            severity: None,
        }
    }

    /// A check whose bound is learned from history: a placeholder bound
    /// until the rule is resolved.
    pub(crate) fn learned(metric: Metric, rule: Learned) -> Self {
        // Finite, so records stay plain JSON; unmet by any figure but
        // f64::MAX itself, and `decide` refuses an unresolved rule anyway.
        let bound = match rule {
            Learned::Limits {
                min: Some(_),
                max: None,
            } => Bound::AtLeast { min: f64::MAX },
            Learned::Limits {
                min: None,
                max: Some(_),
            } => Bound::AtMost { max: f64::MIN },
            _ => Bound::Between {
                min: f64::MAX,
                max: f64::MAX,
            },
        };
        Expectation {
            learned: Some(rule),
            ..Expectation::new(metric, bound)
        }
    }

    /// The bound as reports print it: the learned rule when there is one
    /// (`<= 1.2 × mean of the last 10 runs`), else the bound.
    pub fn describe_bound(&self) -> String {
        match (&self.learned, &self.metric) {
            (Some(rule), _) => rule.describe(),
            // Times as dates: `>= 2026-12-01T09:00:00Z`, not `>= 1.7963e9`.
            (None, Metric::Newest { .. }) => {
                let t = |v: f64| crate::clock::iso8601(v) + "Z";
                match self.bound {
                    Bound::AtMost { max } => format!("<= {}", t(max)),
                    Bound::AtLeast { min } => format!(">= {}", t(min)),
                    Bound::Between { min, max } => format!("in [{}, {}]", t(min), t(max)),
                }
            }
            (None, _) => self.bound.describe(),
        }
    }

    /// The columns evaluating this check reads, its example rows included;
    /// `None` when it reads every column (duplicates over whole rows).
    pub(crate) fn columns(&self) -> Option<Vec<String>> {
        let mut cols: Vec<String> = match &self.metric {
            Metric::DuplicateRows { columns: None, .. } => return None,
            Metric::DuplicateRows {
                columns: Some(c), ..
            } => c.clone(),
            Metric::MaxAssociation {
                target, features, ..
            } => std::iter::once(target).chain(features).cloned().collect(),
            m => m.column().map(|c| vec![c.to_string()]).unwrap_or_default(),
        };
        match &self.segment {
            Segment::All => {}
            Segment::Where { filter } => {
                cols.extend(filter.columns().into_iter().map(str::to_string));
            }
            Segment::EachOf { column, .. } => cols.push(column.clone()),
        }
        Some(cols)
    }

    /// Tolerates a share of values outside a range, set, length or pattern:
    /// the check passes when at least `fraction` of the values conform.
    pub fn mostly(mut self, fraction: f64) -> Self {
        self.bound = Bound::AtLeast { min: fraction };
        self
    }

    /// Restricts the check to rows where `column == value`.
    pub fn where_eq(self, column: &str, value: impl Into<Value>) -> Self {
        self.where_filter(Filter::Eq {
            column: column.to_string(),
            value: value.into(),
        })
    }

    /// Restricts the check to rows where `column` is one of `values`.
    pub fn where_in<V: Into<Value>>(
        self,
        column: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.where_filter(Filter::In {
            column: column.to_string(),
            values: values.into_iter().map(Into::into).collect(),
        })
    }

    /// Restricts the check to the rows a filter keeps (combined with an
    /// earlier filter by `and`).
    pub fn where_filter(mut self, filter: Filter) -> Self {
        self.segment = match self.segment {
            Segment::Where { filter: prev } => Segment::Where {
                filter: Filter::And {
                    all: vec![prev, filter],
                },
            },
            _ => Segment::Where { filter },
        };
        self
    }

    /// Checks every group of `column` separately (groups with fewer than
    /// 30 rows are skipped and counted; change with [`min_rows`](Self::min_rows)).
    pub fn in_every_segment_of(mut self, column: &str) -> Self {
        self.segment = Segment::EachOf {
            column: column.to_string(),
            min_rows: 30,
        };
        self
    }

    /// The smallest group [`in_every_segment_of`](Self::in_every_segment_of) judges.
    pub fn min_rows(mut self, rows: usize) -> Self {
        if let Segment::EachOf { min_rows, .. } = &mut self.segment {
            *min_rows = rows;
        }
        self
    }

    /// Names the check (shown in reports and JUnit).
    pub fn named(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// A failure of this check only warns, whatever the test's severity:
    /// the record says `warn` and the test does not fail on it.
    ///
    /// ```
    /// use mltest_core::{Dataset, Severity};
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0]).unwrap());
    /// let e = data.row_count().at_least(10.0).warn();
    /// assert_eq!(e.severity_or(Severity::Fail), Severity::Warn);
    /// ```
    pub fn warn(mut self) -> Self {
        self.severity = Some(Severity::Warn);
        self
    }

    /// Whether a failure of this check fails the test or warns: its own
    /// severity ([`warn`](Self::warn)), else the test's (`test`).
    pub fn severity_or(&self, test: Severity) -> Severity {
        self.severity.unwrap_or(test)
    }

    /// `null fraction of "Age" <= 0.0000`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.metric.describe(), self.describe_bound())
    }

    /// A stable short name: the label, or the metric kind and column.
    pub fn short_name(&self) -> String {
        if let Some(l) = &self.label {
            return l.clone();
        }
        let s = match &self.metric {
            Metric::Quantile { column, q } => format!("quantile({column}, {q})"),
            Metric::CategoryShare { column, value } => format!("share({column} == {value})"),
            Metric::MaxAssociation {
                target, features, ..
            } => {
                format!("association({} ~ {target})", features.join(", "))
            }
            Metric::DuplicateRows {
                columns: Some(c), ..
            } => format!("duplicates({})", c.join(", ")),
            m => match m.column() {
                Some(c) => format!("{}({c})", m.kind()),
                None => m.kind().to_string(),
            },
        };
        match &self.segment {
            Segment::All => s,
            Segment::Where { filter } => format!("{s} where {filter}"),
            Segment::EachOf { column, .. } => format!("{s} per {column}"),
        }
    }
}

/// What a `#[data_expectation]` function may return: one expectation, or many.
pub trait IntoExpectations {
    /// The expectations, in order.
    fn into_expectations(self) -> Vec<Expectation>;
}

impl IntoExpectations for Expectation {
    fn into_expectations(self) -> Vec<Expectation> {
        vec![self]
    }
}

impl IntoExpectations for Vec<Expectation> {
    fn into_expectations(self) -> Vec<Expectation> {
        self
    }
}

impl<const N: usize> IntoExpectations for [Expectation; N] {
    fn into_expectations(self) -> Vec<Expectation> {
        self.into()
    }
}
