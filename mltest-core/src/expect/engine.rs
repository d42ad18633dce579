//! Evaluates a batch of expectations against one frame.
//!
//! One `select` holds the aggregates of every unsegmented or filtered check;
//! one `group_by` per grouping column holds the per-segment ones. Examples
//! and unexpected values are only fetched for checks that failed, so a
//! passing suite pays for exactly those queries.
//!
//! Every check is validated first (columns exist, dtypes fit, the regex
//! compiles): one bad expectation becomes an error outcome of its own and
//! never takes the batch's query down with it.

use std::collections::BTreeMap;
use std::sync::Arc;

use polars::prelude::*;

use super::outcome::{CheckError, CheckOutcome, Count, ExampleRow, SegmentFigure, Status};
use super::sketch::{FeedKey, SketchFeed};
use super::{
    Bound, DuplicateCount, DuplicateRule, Expectation, Filter, Metric, MissingKeys, Segment, Value,
};
use crate::data::{DType, Dataset};
use crate::text;

// The leakage check's measures, one per pair of column types.
mod association;

/// How many example rows and unexpected values a failure shows.
///
/// ```
/// use mltest_core::expect::EvalOptions;
/// let o = EvalOptions { examples: 10, ..EvalOptions::default() };
/// assert!(!o.exact_quantiles);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    pub examples: usize,
    /// On the streaming path, compute quantiles exactly instead of from a
    /// KLL sketch. Exact quantiles need all values at once, so polars runs
    /// that part of the query in memory. In-memory evaluation is always exact.
    pub exact_quantiles: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            examples: 5,
            exact_quantiles: false,
        }
    }
}

const ROW: &str = "__mltest_row";
const ROWS: &str = "__mltest_rows";

impl Dataset {
    /// Evaluates expectations together (one pass) and returns one outcome each, in order.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0, 3.0]).unwrap());
    /// let out = data.evaluate(vec![data.column("x").mean().between(1.5, 2.5), data.column("x").max().at_most(2.0)]);
    /// assert!(out[0].passed());
    /// assert!(!out[1].passed());
    /// ```
    pub fn evaluate(&self, expectations: impl super::IntoExpectations) -> Vec<CheckOutcome> {
        self.evaluate_with(expectations, EvalOptions::default())
    }

    /// [`evaluate`](Self::evaluate) for a single expectation.
    pub fn evaluate_one(&self, expectation: Expectation) -> CheckOutcome {
        self.evaluate(expectation)
            .pop()
            .unwrap_or_else(unreachable_outcome)
    }

    /// [`evaluate`](Self::evaluate) with options.
    pub fn evaluate_with(
        &self,
        expectations: impl super::IntoExpectations,
        options: EvalOptions,
    ) -> Vec<CheckOutcome> {
        let expectations = expectations.into_expectations();
        if let Some(identity) = &self.identity
            && super::metric_cache::enabled()
        {
            return super::metric_cache::evaluate(self, identity, expectations, options);
        }
        Evaluator::new(Table::from_frame(self.frame()), options).run(expectations)
    }
}

fn unreachable_outcome() -> CheckOutcome {
    CheckOutcome::errored(
        Expectation::new(Metric::RowCount, Bound::AtLeast { min: 0.0 }),
        CheckError::Invalid("no expectation evaluated".into()),
    )
}

/// What the engine reads: a lazy plan (an in-memory frame or a file scan)
/// with its schema. Over a scan, every query streams when asked to.
pub(crate) struct Table {
    lf: LazyFrame,
    schema: SchemaRef,
    rows: Option<usize>,
    streaming: bool,
}

/// A column's type, as the engine asks for it.
struct ColumnInfo<'a>(&'a DataType);

impl ColumnInfo<'_> {
    fn dtype(&self) -> &DataType {
        self.0
    }
}

impl Table {
    pub(crate) fn from_frame(frame: &DataFrame) -> Table {
        Table {
            lf: frame.clone().lazy(),
            schema: frame.schema().clone(),
            rows: Some(frame.height()),
            streaming: false,
        }
    }

    pub(crate) fn from_scan(mut lf: LazyFrame, streaming: bool) -> PolarsResult<Table> {
        let schema = lf.collect_schema()?;
        Ok(Table {
            // A cache node over the scan lets every query of a batch share
            // one scan (see `collect_queries`); projections are merged at it.
            lf: if streaming { lf.cache() } else { lf },
            schema,
            rows: None,
            streaming,
        })
    }

    fn column(&self, name: &str) -> Result<ColumnInfo<'_>, ()> {
        self.schema.get(name).map(ColumnInfo).ok_or(())
    }

    fn get_column_names(&self) -> Vec<&PlSmallStr> {
        self.schema.iter_names().collect()
    }

    fn lazy(&self) -> LazyFrame {
        self.lf.clone()
    }

    fn known_empty(&self) -> bool {
        self.rows == Some(0)
    }

    /// The logical type of a column (`Other` when it is absent).
    fn dtype(&self, name: &str) -> DType {
        self.schema.get(name).map_or(DType::Other, DType::of)
    }
}

/// The queries as one plan with several sinks (`None` without queries).
fn combined(mut queries: Vec<LazyFrame>) -> Option<LazyFrame> {
    if queries.len() < 2 {
        return queries.pop();
    }
    let opt = queries[0].get_current_optimizations();
    let inputs = queries.into_iter().map(|q| q.logical_plan).collect();
    Some(LazyFrame::from(DslPlan::SinkMultiple { inputs }).with_optimizations(opt))
}

/// Collects on the table's engine (streaming for large scans).
trait CollectOn {
    fn collect_on(self, table: &Table) -> PolarsResult<DataFrame>;
}

impl CollectOn for LazyFrame {
    fn collect_on(self, table: &Table) -> PolarsResult<DataFrame> {
        if !table.streaming {
            return self.collect();
        }
        match self.collect_with_engine(polars::prelude::Engine::Streaming)? {
            polars_core::query_result::QueryResult::Single(df) => Ok(df),
            polars_core::query_result::QueryResult::Multiple(mut dfs) => dfs
                .pop()
                .ok_or_else(|| PolarsError::NoData("streaming query returned no frame".into())),
        }
    }
}

pub(crate) struct Evaluator {
    pub(crate) frame: Table,
    pub(crate) options: EvalOptions,
    /// Rows seen by the main query (a scan does not know its height up front).
    pub(crate) rows_seen: std::cell::Cell<Option<u64>>,
}

/// A validated check and the aggregates it needs.
struct Planned {
    index: usize,
    aggs: Vec<Expr>,
}

/// The queries a batch of checks compiles to, before anything runs; checks
/// decided without a query (invalid ones, schema, association) already
/// have their outcome.
pub(crate) struct Plan {
    outcomes: Vec<Option<CheckOutcome>>,
    /// Checks answered by the main `select`.
    flat: Vec<Planned>,
    /// Per-segment checks, by grouping column.
    grouped: BTreeMap<String, Vec<Planned>>,
    /// Quantile checks answered by KLL sketches (streaming): check → feed.
    sketches: Vec<(usize, Arc<SketchFeed>)>,
    /// The sketches' feeding expressions, part of the main `select`.
    feeds: Vec<Expr>,
    /// Checks that run their own query (association: a frame per feature).
    direct: Vec<usize>,
}

impl Plan {
    /// Adds a sketch feed to the main `select`, counted as `__m{i}_fed`.
    fn flat_feeds(&mut self, index: usize, feed: Expr) {
        self.feeds.push(count_true(feed).alias(name(index, "fed")));
    }
}

impl Evaluator {
    pub(crate) fn new(frame: Table, options: EvalOptions) -> Self {
        Evaluator {
            frame,
            options,
            rows_seen: Default::default(),
        }
    }

    pub(crate) fn run(&self, expectations: Vec<Expectation>) -> Vec<CheckOutcome> {
        self.run_recording(expectations).0
    }

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
                Metric::MaxAssociation { .. } => {
                    plan.direct.push(i);
                    continue;
                }
                _ => {}
            }
            let dtype = self.dtype_of(e.metric.column());
            let sketch = match &e.metric {
                Metric::Quantile { column, q }
                    if self.frame.streaming && !self.options.exact_quantiles =>
                {
                    Some((column.as_str(), SketchFeed::new(*q)))
                }
                _ => None,
            };
            let exact = sketch.is_none();
            let pred = match &e.segment {
                Segment::Where { filter } => Some(filter_expr(filter, &self.frame)),
                _ => None,
            };
            if let Some((x, feed)) = sketch {
                let key = match (&e.segment, &pred) {
                    (Segment::EachOf { column, .. }, _) => FeedKey::EachOf(column.clone()),
                    (_, Some(p)) => FeedKey::Where(p.clone()),
                    _ => FeedKey::All,
                };
                plan.flat_feeds(i, feed.feed_expr(x, key));
                plan.sketches.push((i, feed));
            }
            let planned = Planned {
                index: i,
                aggs: aggregates(i, e, pred, dtype, exact, self.frame.streaming),
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
        if !plan.flat.is_empty() || !plan.feeds.is_empty() || self.frame.rows.is_none() {
            let mut exprs: Vec<Expr> = plan.flat.iter().flat_map(|p| p.aggs.clone()).collect();
            exprs.extend(plan.feeds.iter().cloned());
            exprs.push(len().cast(DataType::Int64).alias(ROWS));
            out.push(("select".to_string(), self.frame.lazy().select(exprs)));
        }
        for (column, plans) in &plan.grouped {
            let exprs: Vec<Expr> = plans.iter().flat_map(|p| p.aggs.clone()).collect();
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

    /// The physical plans polars' streaming engine would run for these
    /// checks, as Graphviz dot, labelled by query.
    pub(crate) fn streaming_plans(
        &self,
        expectations: &[Expectation],
    ) -> PolarsResult<Vec<(String, String)>> {
        let plan = self.plan(expectations);
        let queries = self.queries(&plan);
        let label = queries
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        let Some(lf) = combined(queries.into_iter().map(|(_, lf)| lf).collect()) else {
            return Ok(Vec::new());
        };
        let mut ir = lf.with_streaming(true).to_alp_optimized()?;
        let dot = polars_stream::visualize_physical_plan(
            ir.lp_top,
            &mut ir.lp_arena,
            &mut ir.expr_arena,
        )?;
        Ok(vec![(label, dot)])
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

    /// [`run`](Self::run), also returning each check's raw figures (what the
    /// metric cache keeps; `None` for checks that have none: schema,
    /// association, errors).
    pub(crate) fn run_recording(
        &self,
        expectations: Vec<Expectation>,
    ) -> (Vec<CheckOutcome>, Vec<Option<Figures>>) {
        let mut recorded: Vec<Option<Figures>> = vec![None; expectations.len()];
        let plan = self.plan(&expectations);
        let queries = self.queries(&plan);
        let has_select = queries.first().is_some_and(|(label, _)| label == "select");
        let mut results = self
            .collect_queries(queries.into_iter().map(|(_, lf)| lf).collect())
            .into_iter();
        let Plan {
            mut outcomes,
            flat,
            grouped,
            sketches,
            direct,
            ..
        } = plan;
        for i in direct {
            if let Metric::MaxAssociation {
                target,
                features,
                bias_corrected,
            } = &expectations[i].metric
            {
                outcomes[i] =
                    Some(self.association(&expectations[i], target, features, *bias_corrected));
            }
        }
        let sketch_of = |i: usize| sketches.iter().find(|(j, _)| *j == i).map(|(_, f)| f);
        // A sketch that did not see exactly the values the query fed it
        // (a batch skipped or run twice) must not answer: its check errors.
        let mut bad_sketch: BTreeMap<usize, String> = BTreeMap::new();

        if has_select {
            match results.next().unwrap_or_else(|| Err("no result".into())) {
                Ok(row) => {
                    self.rows_seen.set(scalar(&row, ROWS).map(|n| n as u64));
                    for (i, feed) in &sketches {
                        let fed = scalar(&row, &name(*i, "fed")).unwrap_or(-1.0);
                        let seen = feed.total();
                        if fed != seen as f64 {
                            bad_sketch.insert(
                                *i,
                                format!(
                                    "the quantile sketch summarised {seen} values where the query fed it {fed}"
                                ),
                            );
                        }
                    }
                    for p in &flat {
                        let e = &expectations[p.index];
                        let mut figures = flat_figures(&row, p.index);
                        if let Some(feed) = sketch_of(p.index) {
                            figures.extend(feed.figures(""));
                        }
                        outcomes[p.index] = Some(match bad_sketch.get(&p.index) {
                            Some(msg) => {
                                CheckOutcome::errored(e.clone(), CheckError::Engine(msg.clone()))
                            }
                            None => {
                                let o = decide_flat_from(e, &figures);
                                recorded[p.index] = Some(Figures::Flat(figures));
                                o
                            }
                        });
                    }
                }
                Err(err) => {
                    for p in &flat {
                        outcomes[p.index] = Some(CheckOutcome::errored(
                            expectations[p.index].clone(),
                            CheckError::Engine(err.clone()),
                        ));
                    }
                    for (i, _) in &sketches {
                        bad_sketch.insert(*i, err.clone());
                    }
                }
            }
        }

        for (column, plans) in &grouped {
            let result = results.next().unwrap_or_else(|| Err("no result".into()));
            for p in plans {
                let e = &expectations[p.index];
                outcomes[p.index] = Some(match (&result, bad_sketch.get(&p.index)) {
                    (Ok(groups), None) => {
                        let mut figures = group_figures(p.index, column, groups);
                        if let Some(feed) = sketch_of(p.index) {
                            for (label, values) in figures.iter_mut() {
                                values.extend(feed.figures(label));
                            }
                        }
                        let o = decide_groups_from(e, column, &figures);
                        recorded[p.index] = Some(Figures::Groups(figures));
                        o
                    }
                    (_, Some(msg)) => {
                        CheckOutcome::errored(e.clone(), CheckError::Engine(msg.clone()))
                    }
                    (Err(err), None) => {
                        CheckOutcome::errored(e.clone(), CheckError::Engine(err.clone()))
                    }
                });
            }
        }

        let mut outcomes: Vec<CheckOutcome> = outcomes
            .into_iter()
            .zip(&expectations)
            .map(|(o, e)| {
                o.unwrap_or_else(|| {
                    CheckOutcome::errored(e.clone(), CheckError::Invalid("not evaluated".into()))
                })
            })
            .collect();
        for o in outcomes.iter_mut() {
            if o.status != Status::Pass {
                self.attach_examples(o);
            }
        }
        (outcomes, recorded)
    }

    fn dtype_of(&self, column: Option<&str>) -> DType {
        column.map_or(DType::Other, |c| self.frame.dtype(c))
    }

    fn missing(&self, column: &str) -> CheckError {
        let names: Vec<&str> = self
            .frame
            .get_column_names()
            .iter()
            .map(|s| s.as_str())
            .collect();
        CheckError::MissingColumn {
            column: column.to_string(),
            closest: text::closest(column, names.iter().copied()).map(str::to_string),
            available: names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn need(&self, column: &str, expected: DType, why: &str) -> Result<DType, CheckError> {
        let c = self
            .frame
            .column(column)
            .map_err(|_| self.missing(column))?;
        let actual = DType::of(c.dtype());
        if expected.accepts(actual) {
            Ok(actual)
        } else {
            Err(CheckError::WrongDtype {
                column: column.to_string(),
                actual: format!("{actual} ({})", c.dtype()),
                expected: format!("{expected} ({why})"),
            })
        }
    }

    fn validate(&self, e: &Expectation) -> Result<(), CheckError> {
        let any = |c: &str| {
            self.frame
                .column(c)
                .map(|_| ())
                .map_err(|_| self.missing(c))
        };
        match &e.segment {
            Segment::All => {}
            Segment::Where { filter } => {
                for c in filter.columns() {
                    any(c)?;
                }
            }
            Segment::EachOf { column, .. } => any(column)?,
        }
        if let Bound::Between { min, max } = e.bound
            && (min > max || min.is_nan() || max.is_nan())
        {
            return Err(CheckError::Invalid(format!(
                "bound [{min}, {max}] is empty"
            )));
        }
        // On an empty data set every row-based check has nothing to measure;
        // say that rather than complain about the dtypes a header-only file infers.
        if self.frame.known_empty() && !matches!(e.metric, Metric::RowCount | Metric::Schema { .. })
        {
            return Err(CheckError::NoRows { segment: None });
        }
        let is_mostly = matches!(e.bound, Bound::AtLeast { .. });
        if e.metric.is_fraction_of_values() && !is_mostly {
            return Err(CheckError::Invalid(
                "range, set, length and pattern checks take `.mostly(fraction)`, not another bound"
                    .into(),
            ));
        }
        match &e.metric {
            Metric::RowCount | Metric::Schema { .. } => Ok(()),
            Metric::NullFraction { column } => any(column),
            Metric::Mean { column }
            | Metric::Std { column }
            | Metric::Min { column }
            | Metric::Max { column } => self
                .need(column, DType::Numeric, "a numeric statistic")
                .map(|_| ()),
            Metric::Quantile { column, q } => {
                if !(0.0..=1.0).contains(q) {
                    return Err(CheckError::Invalid(format!(
                        "quantile {q} is outside [0, 1]"
                    )));
                }
                self.need(column, DType::Numeric, "a quantile").map(|_| ())
            }
            Metric::InRangeFraction { column, .. } => self
                .need(column, DType::Numeric, "a numeric range")
                .map(|_| ()),
            Metric::InSetFraction { column, values } => {
                any(column)?;
                set_series(values, self.dtype_of(Some(column)), column).map(|_| ())
            }
            Metric::CategoryShare { column, value } => {
                any(column)?;
                set_series(
                    std::slice::from_ref(value),
                    self.dtype_of(Some(column)),
                    column,
                )
                .map(|_| ())
            }
            Metric::EmptyTextFraction { column } | Metric::LengthInRangeFraction { column, .. } => {
                self.need(column, DType::Text, "a text check").map(|_| ())
            }
            Metric::PatternMatchFraction { column, pattern } => {
                self.need(column, DType::Text, "a pattern check")?;
                regex::Regex::new(pattern).map(|_| ()).map_err(|err| {
                    CheckError::Invalid(format!("pattern /{pattern}/ does not compile: {err}"))
                })
            }
            Metric::DuplicateRows { columns, .. } => {
                for c in columns.iter().flatten() {
                    any(c)?;
                }
                Ok(())
            }
            Metric::MaxAssociation {
                target, features, ..
            } => {
                any(target)?;
                if features.is_empty() {
                    return Err(CheckError::Invalid(
                        "leakage check names no features".into(),
                    ));
                }
                for f in features {
                    any(f)?;
                }
                Ok(())
            }
        }
    }

    fn schema(&self, e: &Expectation, required: &[(String, DType)]) -> CheckOutcome {
        let mut o = CheckOutcome::new(e.clone());
        let mut problems = Vec::new();
        for (column, dtype) in required {
            match self.frame.column(column) {
                Err(_) => problems.push(self.missing(column).to_string()),
                Ok(c) => {
                    let actual = DType::of(c.dtype());
                    if !dtype.accepts(actual) {
                        problems.push(format!(
                            "column {column:?}: expected {dtype}, found {actual} ({})",
                            c.dtype()
                        ));
                    }
                }
            }
        }
        o.count = Some(Count {
            hits: problems.len() as u64,
            of: required.len() as u64,
            unit: "required columns with a problem".into(),
        });
        o.unexpected = problems.into_iter().map(|p| (p, 1)).collect();
        o.decide(o.count.as_ref().map_or(0.0, |c| c.hits as f64));
        o
    }

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
                                .get_column_names()
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
        if self.frame.column(&column).is_err() {
            return;
        }
        let Some(mut pred) = offending(e, &self.frame, o.error.is_some()) else {
            return;
        };
        match &e.segment {
            Segment::All => {}
            Segment::Where { filter } => pred = pred.and(filter_expr(filter, &self.frame)),
            Segment::EachOf { column: seg, .. } => {
                let Some(worst) = o.segments.first() else {
                    return;
                };
                let key = worst
                    .segment
                    .trim_start_matches(&format!("{seg} == "))
                    .to_string();
                pred = pred.and(segment_key_expr(seg, &key, &self.frame));
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
}

fn rank(o: &CheckOutcome) -> f64 {
    match (o.status, o.observed) {
        (Status::Error, _) | (_, None) => f64::INFINITY,
        (_, Some(x)) => o.expectation.bound.excess(x),
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        format!("{:?}…", s.chars().take(MAX).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

fn name(index: usize, key: &str) -> String {
    format!("__m{index}_{key}")
}

fn segment_label(segment: &Segment) -> Option<String> {
    match segment {
        Segment::Where { filter } => Some(filter.to_string()),
        _ => None,
    }
}

/// The value column restricted to the segment's rows.
fn seg(column: &str, pred: &Option<Expr>) -> Expr {
    match pred {
        None => col(column),
        Some(p) => col(column).filter(p.clone()),
    }
}

/// A duplicate check's row flags over its key columns: (counted as a
/// duplicate, takes part). Rows whose key is entirely missing take part only
/// when the rule counts them; otherwise they are neither duplicates nor in
/// the denominator of the share.
fn duplicate_exprs(cols: Vec<Expr>, segment: Option<Expr>, rule: &DuplicateRule) -> (Expr, Expr) {
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

fn count_true(e: Expr) -> Expr {
    e.cast(DataType::Int64).sum()
}

fn empty_text(e: Expr) -> Expr {
    e.clone()
        .is_null()
        .or(e.str().strip_chars(lit(NULL)).str().len_chars().eq(lit(0)))
}

/// The aggregates a check needs, named `__m{i}_{key}`.
///
/// Without `exact`, a quantile check gets no quantile here: a sketch fed in
/// the main query answers it (streaming, see `sketch.rs`).
fn aggregates(
    i: usize,
    e: &Expectation,
    pred: Option<Expr>,
    dtype: DType,
    exact: bool,
    streaming: bool,
) -> Vec<Expr> {
    let rows = match &pred {
        None => len().cast(DataType::Int64),
        Some(p) => count_true(p.clone()),
    }
    .alias(name(i, "n"));
    let f64c = |c: &str| seg(c, &pred).cast(DataType::Float64);
    let values = |c: &str| {
        seg(c, &pred)
            .count()
            .cast(DataType::Int64)
            .alias(name(i, "vals"))
    };
    let mut out = vec![rows];
    match &e.metric {
        Metric::RowCount | Metric::Schema { .. } | Metric::MaxAssociation { .. } => {}
        Metric::NullFraction { column } => {
            out.push(count_true(seg(column, &pred).is_null()).alias(name(i, "hits")));
        }
        Metric::Mean { column }
        | Metric::Std { column }
        | Metric::Min { column }
        | Metric::Max { column }
        | Metric::Quantile { column, .. } => {
            let x = f64c(column);
            let stat = match &e.metric {
                Metric::Mean { .. } => x.clone().mean(),
                Metric::Std { .. } => x.clone().std(1),
                Metric::Min { .. } => x.clone().min(),
                Metric::Max { .. } => x.clone().max(),
                Metric::Quantile { q, .. } => x.clone().quantile(lit(*q), QuantileMethod::Linear),
                _ => unreachable!("matched above"),
            };
            out.push(values(column));
            if exact || !matches!(e.metric, Metric::Quantile { .. }) {
                out.push(stat.alias(name(i, "stat")));
            }
            if dtype == DType::Float {
                out.push(count_true(x.clone().is_nan()).alias(name(i, "nan")));
                out.push(count_true(x.is_infinite()).alias(name(i, "inf")));
            }
        }
        Metric::InRangeFraction { column, min, max } => {
            out.push(values(column));
            let inside = f64c(column).is_between(
                lit(min.unwrap_or(f64::NEG_INFINITY)),
                lit(max.unwrap_or(f64::INFINITY)),
                ClosedInterval::Both,
            );
            out.push(count_true(inside).alias(name(i, "inside")));
        }
        Metric::InSetFraction {
            column,
            values: set,
        } => {
            out.push(values(column));
            if let Ok(s) = set_series(set, dtype, column) {
                out.push(
                    count_true(member_of(seg(column, &pred), s, streaming))
                        .alias(name(i, "inside")),
                );
            }
        }
        Metric::CategoryShare { column, value } => {
            out.push(values(column));
            if let Ok(s) = set_series(std::slice::from_ref(value), dtype, column) {
                out.push(
                    count_true(member_of(seg(column, &pred), s, streaming)).alias(name(i, "hits")),
                );
            }
        }
        Metric::EmptyTextFraction { column } => {
            out.push(count_true(empty_text(seg(column, &pred))).alias(name(i, "hits")));
        }
        Metric::LengthInRangeFraction { column, min, max } => {
            out.push(values(column));
            let inside = seg(column, &pred).str().len_chars().is_between(
                lit(*min),
                lit(*max),
                ClosedInterval::Both,
            );
            out.push(count_true(inside).alias(name(i, "inside")));
        }
        Metric::PatternMatchFraction { column, pattern } => {
            out.push(values(column));
            out.push(
                count_true(
                    seg(column, &pred)
                        .str()
                        .contains(lit(pattern.as_str()), true),
                )
                .alias(name(i, "inside")),
            );
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
            out.push(count_true(hits).alias(name(i, "hits")));
            out.push(count_true(keyed).alias(name(i, "vals")));
        }
    }
    out
}

/// The rows that make a check fail (for examples).
fn offending(e: &Expectation, frame: &Table, errored: bool) -> Option<Expr> {
    let dtype = |c: &str| frame.dtype(c);
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
                .and(member_of(col(column.as_str()), s, frame.streaming).not())
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
        Metric::PatternMatchFraction { column, pattern } => col(column.as_str()).is_not_null().and(
            col(column.as_str())
                .str()
                .contains(lit(pattern.as_str()), true)
                .not(),
        ),
        Metric::DuplicateRows { columns, rule } => {
            let cols: Vec<Expr> = match columns {
                Some(c) => c.iter().map(|c| col(c.as_str())).collect(),
                // The frame's own columns: `all()` would also see the row
                // index added for examples, and nothing would repeat.
                None => frame
                    .get_column_names()
                    .iter()
                    .map(|c| col(c.as_str()))
                    .collect(),
            };
            // Over the whole frame, rows repeat within their segment only:
            // the segment is part of the key, as the aggregates see it.
            let segment = match &e.segment {
                Segment::All => None,
                Segment::Where { filter } => Some(filter_expr(filter, frame)),
                Segment::EachOf { column, .. } => Some(col(column.as_str())),
            };
            duplicate_exprs(cols, segment, rule).0
        }
        Metric::Mean { column }
        | Metric::Std { column }
        | Metric::Min { column }
        | Metric::Max { column }
        | Metric::Quantile { column, .. }
            if errored && dtype(column) == DType::Float =>
        {
            let x = col(column.as_str());
            x.clone().is_nan().or(x.is_infinite())
        }
        _ => return None,
    })
}

/// Whether each value is in `set`. In memory this is polars' `is_in`; on
/// the streaming engine `is_in` becomes a join-like node fed through a
/// multiplexer that buffers the scan (measured: memory grew with the file),
/// so there the same kernel runs per batch inside an elementwise function.
fn member_of(e: Expr, set: Series, streaming: bool) -> Expr {
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
fn set_series(values: &[Value], dtype: DType, column: &str) -> Result<Series, CheckError> {
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

fn filter_expr(filter: &Filter, frame: &Table) -> Expr {
    let dtype = |c: &str| frame.dtype(c);
    match filter {
        Filter::Eq { column, value } => col(column.as_str())
            .eq(lit_value(value, dtype(column)))
            .fill_null(lit(false)),
        Filter::In { column, values } => match set_series(values, dtype(column), column) {
            Ok(s) => member_of(col(column.as_str()), s, frame.streaming).fill_null(lit(false)),
            Err(_) => lit(false),
        },
        Filter::IsNull { column } => col(column.as_str()).is_null(),
        Filter::NotNull { column } => col(column.as_str()).is_not_null(),
        Filter::And { all } => all
            .iter()
            .map(|f| filter_expr(f, frame))
            .reduce(|a, b| a.and(b))
            .unwrap_or(lit(true)),
    }
}

/// Rows of the group labelled `key` (as [`any_to_label`] printed it).
fn segment_key_expr(column: &str, key: &str, frame: &Table) -> Expr {
    if key == "(missing)" {
        return col(column).is_null();
    }
    let dtype = frame.dtype(column);
    match dtype {
        DType::Text | DType::Categorical => {
            let unquoted: String = serde_json::from_str(key).unwrap_or_else(|_| key.to_string());
            col(column).cast(DataType::String).eq(lit(unquoted))
        }
        _ => col(column).cast(DataType::String).eq(lit(key)),
    }
}

pub(crate) fn any_to_label(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => "(missing)".into(),
        AnyValue::String(s) => format!("{s:?}"),
        AnyValue::StringOwned(s) => format!("{:?}", s.as_str()),
        other => other.to_string(),
    }
}

fn any_to_f64(v: &AnyValue) -> Option<f64> {
    match v {
        AnyValue::Null => None,
        other => other.extract::<f64>(),
    }
}

fn scalar(df: &DataFrame, column: &str) -> Option<f64> {
    df.column(column)
        .ok()?
        .get(0)
        .ok()
        .and_then(|v| any_to_f64(&v))
}

/// Turns a check's aggregates into an outcome.
fn decide(
    e: &Expectation,
    get: &dyn Fn(&str) -> Option<f64>,
    segment: Option<String>,
) -> CheckOutcome {
    let mut o = CheckOutcome::new(e.clone());
    let n = get("n").unwrap_or(0.0) as u64;
    let column = e.metric.column().unwrap_or_default().to_string();
    if let Metric::RowCount = e.metric {
        o.count = Some(Count {
            hits: n,
            of: n,
            unit: "rows".into(),
        });
        o.decide(n as f64);
        return o;
    }
    if n == 0 {
        return CheckOutcome::errored(e.clone(), CheckError::NoRows { segment });
    }
    let frac = |hits: u64, of: u64, unit: &str, o: &mut CheckOutcome| {
        o.count = Some(Count {
            hits,
            of,
            unit: unit.into(),
        });
    };
    let vals = get("vals").unwrap_or(0.0) as u64;
    let no_values = || {
        CheckOutcome::errored(
            e.clone(),
            CheckError::NoValues {
                column: column.clone(),
                segment: segment.clone(),
            },
        )
    };
    match &e.metric {
        Metric::NullFraction { .. } => {
            let hits = get("hits").unwrap_or(0.0) as u64;
            frac(hits, n, "rows missing", &mut o);
            o.decide(hits as f64 / n as f64);
        }
        Metric::EmptyTextFraction { .. } => {
            let hits = get("hits").unwrap_or(0.0) as u64;
            frac(hits, n, "rows missing or blank", &mut o);
            o.decide(hits as f64 / n as f64);
        }
        Metric::DuplicateRows { rule, .. } => {
            let hits = get("hits").unwrap_or(0.0) as u64;
            // Rows that take part: all of them, or those with a key.
            let keyed = get("vals").map_or(n, |v| v as u64);
            let unit = match (rule.count, keyed < n) {
                (DuplicateCount::Repeats, false) => "rows repeating an earlier row".to_string(),
                (DuplicateCount::Members, false) => "rows in a group of duplicates".to_string(),
                (DuplicateCount::Repeats, true) => format!(
                    "rows with a key repeating an earlier row; {} without any key value ignored",
                    text::thousands(n - keyed)
                ),
                (DuplicateCount::Members, true) => format!(
                    "rows with a key in a group of duplicates; {} without any key value ignored",
                    text::thousands(n - keyed)
                ),
            };
            frac(hits, keyed, &unit, &mut o);
            if rule.fraction {
                if keyed == 0 {
                    return no_values();
                }
                o.decide(hits as f64 / keyed as f64);
            } else {
                o.decide(hits as f64);
            }
        }
        Metric::Mean { .. }
        | Metric::Std { .. }
        | Metric::Min { .. }
        | Metric::Max { .. }
        | Metric::Quantile { .. } => {
            if vals == 0 {
                return no_values();
            }
            let (nan, inf) = (
                get("nan").unwrap_or(0.0) as u64,
                get("inf").unwrap_or(0.0) as u64,
            );
            if nan + inf > 0 {
                let mut o = CheckOutcome::errored(
                    e.clone(),
                    CheckError::NonFinite {
                        column: column.clone(),
                        metric: e.metric.kind().into(),
                        nan,
                        inf,
                    },
                );
                o.count = Some(Count {
                    hits: nan + inf,
                    of: vals,
                    unit: "values not finite".into(),
                });
                return o;
            }
            frac(vals, n, "rows with a value", &mut o);
            match get("stat") {
                Some(x) => o.decide(x),
                None => return no_values(),
            }
            o.estimate = super::sketch::estimate_from(get);
        }
        Metric::InRangeFraction { .. }
        | Metric::InSetFraction { .. }
        | Metric::LengthInRangeFraction { .. }
        | Metric::PatternMatchFraction { .. } => {
            if vals == 0 {
                return no_values();
            }
            let inside = get("inside").unwrap_or(0.0) as u64;
            let unit = match e.metric {
                Metric::InSetFraction { .. } => "values outside the set",
                Metric::PatternMatchFraction { .. } => "values not matching",
                Metric::LengthInRangeFraction { .. } => "values with a length outside the range",
                _ => "values outside the range",
            };
            frac(vals - inside, vals, unit, &mut o);
            o.decide(inside as f64 / vals as f64);
        }
        Metric::CategoryShare { .. } => {
            if vals == 0 {
                return no_values();
            }
            let hits = get("hits").unwrap_or(0.0) as u64;
            frac(hits, vals, "values", &mut o);
            o.decide(hits as f64 / vals as f64);
        }
        Metric::RowCount | Metric::Schema { .. } | Metric::MaxAssociation { .. } => {}
    }
    if o.worst_segment.is_none() {
        o.worst_segment = segment;
    }
    o
}

/// A check's raw figures: what its aggregates measured, before any bound.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Figures {
    Flat(Vec<(String, Option<f64>)>),
    Groups(GroupFigures),
}

/// The aggregates of check `index` in the one-row result of the main query.
fn flat_figures(row: &DataFrame, index: usize) -> Vec<(String, Option<f64>)> {
    let prefix = name(index, "");
    row.columns()
        .iter()
        .filter_map(|c| {
            c.name()
                .strip_prefix(prefix.as_str())
                .map(|k| (k.to_string(), scalar(row, c.name().as_str())))
        })
        .collect()
}

/// Per group (in the group-by's order): the group's label and the figures
/// of one check's aggregates, by key (`n`, `hits`, ...).
pub(crate) type GroupFigures = Vec<(String, Vec<(String, Option<f64>)>)>;

/// The aggregates of check `index` in a group-by result, by group.
pub(crate) fn group_figures(index: usize, column: &str, groups: &DataFrame) -> GroupFigures {
    let prefix = name(index, "");
    let keys = groups.column(column).ok();
    let cols: Vec<(String, &Column)> = groups
        .columns()
        .iter()
        .filter_map(|c| {
            c.name()
                .strip_prefix(prefix.as_str())
                .map(|k| (k.to_string(), c))
        })
        .collect();
    (0..groups.height())
        .map(|r| {
            let key = keys
                .and_then(|k| k.get(r).ok())
                .map(|v| any_to_label(&v))
                .unwrap_or_else(|| "(missing)".into());
            let figures = cols
                .iter()
                .map(|(k, c)| (k.clone(), c.get(r).ok().and_then(|v| any_to_f64(&v))))
                .collect();
            (key, figures)
        })
        .collect()
}

fn lookup(figures: &[(String, Option<f64>)], k: &str) -> Option<f64> {
    figures
        .iter()
        .find(|(name, _)| name == k)
        .and_then(|(_, v)| *v)
}

/// A per-segment check decided from its groups' figures: the engine's own
/// path, and the metric cache's (which keeps the figures, not the verdict,
/// so a changed threshold is decided again without reading data).
pub(crate) fn decide_groups_from(
    e: &Expectation,
    column: &str,
    groups: &GroupFigures,
) -> CheckOutcome {
    let Segment::EachOf { min_rows, .. } = e.segment else {
        return CheckOutcome::errored(
            e.clone(),
            CheckError::Invalid("not a per-segment check".into()),
        );
    };
    let mut figures: Vec<(SegmentFigure, CheckOutcome)> = Vec::new();
    let mut skipped = 0;
    for (key, values) in groups {
        let get = |k: &str| lookup(values, k);
        let rows = get("n").unwrap_or(0.0) as u64;
        if (rows as usize) < min_rows {
            skipped += 1;
            continue;
        }
        let label = format!("{column} == {key}");
        let o = decide(e, &get, Some(label.clone()));
        let observed = o.observed.unwrap_or(f64::NAN);
        figures.push((
            SegmentFigure {
                segment: label,
                rows,
                observed,
                passed: o.status == Status::Pass,
            },
            o,
        ));
    }
    if figures.is_empty() {
        let mut o = CheckOutcome::errored(
            e.clone(),
            CheckError::NoRows {
                segment: Some(format!(
                    "any group of {column:?} with at least {min_rows} rows ({skipped} smaller groups skipped)"
                )),
            },
        );
        o.skipped_segments = skipped;
        return o;
    }
    // Worst first: errors, then by distance outside the bound.
    figures.sort_by(|a, b| {
        let ka = rank(&a.1);
        let kb = rank(&b.1);
        kb.total_cmp(&ka).then(a.0.segment.cmp(&b.0.segment))
    });
    let mut worst = figures[0].1.clone();
    if figures.iter().any(|(f, _)| !f.passed) && worst.status == Status::Pass {
        worst.status = Status::Fail;
    }
    worst.worst_segment = Some(figures[0].0.segment.clone());
    worst.segments = figures.into_iter().map(|(f, _)| f).collect();
    worst.skipped_segments = skipped;
    worst
}

/// A check over all rows (or a filtered subset) decided from its figures.
pub(crate) fn decide_flat_from(e: &Expectation, figures: &[(String, Option<f64>)]) -> CheckOutcome {
    decide(e, &|k: &str| lookup(figures, k), segment_label(&e.segment))
}
