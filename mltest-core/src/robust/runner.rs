//! The flip-rate runner behind `#[robustness]`.
//!
//! 1. Sample `cases` rows (seeded) whose perturbed columns are present.
//! 2. Perturb and predict in blocks of 256 cases on every core: each case
//!    draws its ops from its own generator (`case::case_rng`: seed and case
//!    number), edits its cells in buffers the block reuses, and the block's
//!    perturbed rows are predicted in one batch. The same seed gives the
//!    same cases on any thread count, and nothing is allocated per case
//!    (one string builder per perturbed column per block).
//! 3. Predict the original rows in one batch; rate = share of rows whose
//!    prediction changed (what counts is the [`Expect`]), with a Wilson 95%
//!    interval.
//! 4. For the most telling violations (largest change of the score), draw
//!    the case again as a proptest value tree (`case::OpsTree`) and shrink
//!    it to the smallest edit that still violates.

use std::collections::BTreeMap;
use std::time::Instant;

use polars::prelude::*;
use proptest::strategy::ValueTree;
use rayon::prelude::*;

use super::case::{OpsTree, case_rng, draw};
use super::cells::{
    Scratch, apply_in_place, cell_at, check_facts, perturb_row, set_null, set_text, with_cells,
};
use super::error::RobustError;
use super::judge::{Expect, Judge, Tolerance};
use super::perturb::{Cell, Op, Perturb};
use crate::data::Dataset;
use crate::model::{Model, Predictions, TrainingFacts, predict_checked};
use crate::rng::SplitMix64;

/// One cell a shrunk example changed: the column, and the value before and
/// after (as the report prints them). Records keep the `[column, before,
/// after]` form.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "(String, String, String)", into = "(String, String, String)")]
pub struct CellChange {
    pub column: String,
    pub before: String,
    pub after: String,
}

impl From<(String, String, String)> for CellChange {
    fn from((column, before, after): (String, String, String)) -> Self {
        CellChange {
            column,
            before,
            after,
        }
    }
}

impl From<CellChange> for (String, String, String) {
    fn from(c: CellChange) -> Self {
        (c.column, c.before, c.after)
    }
}

/// A flipping case, shrunk: the row before and after, with the watched
/// score ([`FlipRate::score`]: P(positive), P(class) or the prediction)
/// before and after, and for a multiclass model the predicted classes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlipExample {
    pub row: u64,
    pub changes: Vec<CellChange>,
    pub p_before: f64,
    pub p_after: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_after: Option<String>,
    /// Shrinking steps accepted.
    pub shrink_steps: usize,
}

/// The measured flip rate and what it rests on.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FlipRate {
    pub cases: u64,
    pub flips: u64,
    pub rate: f64,
    pub interval: (f64, f64),
    pub seed: u64,
    pub perturbation: String,
    /// What the rate is of, e.g. "flip rate", "share of predictions that
    /// moved by more than 0.5".
    #[serde(default = "flip_rate_measure")]
    pub measure: String,
    /// What the examples' `p_before`/`p_after` are: "P(positive)",
    /// "P(Dresses)", "prediction".
    #[serde(default = "positive_score")]
    pub score: String,
    pub examples: Vec<FlipExample>,
    /// Perturbed predictions per second (perturb + features + predict).
    pub throughput: f64,
    pub seconds: f64,
}

fn flip_rate_measure() -> String {
    "flip rate".into()
}

fn positive_score() -> String {
    "P(positive)".into()
}

/// One measurement of a violation rate: a model, the rows to sample, the
/// perturbation, and how many cases to draw with which seed. [`run`](Self::run)
/// takes the steps of the module doc in order, one method each: sample the
/// rows, perturb them, predict both batches, shrink the most telling
/// violations.
///
/// ```
/// use mltest_core::Dataset;
/// use mltest_core::model::{Model, ModelError, Predictions};
/// use mltest_core::robust::{Expect, Perturb, Trial, noise};
/// use mltest_core::store::{Card, OutputSchema};
/// use polars::prelude::*;
///
/// /// Positive above 40: noise on Age flips the rows near 40.
/// struct Over40(Card);
/// impl Model for Over40 {
///     fn card(&self) -> &Card { &self.0 }
///     fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
///         let age = rows.column("Age").and_then(|c| c.cast(&DataType::Float64))
///             .map_err(|e| ModelError::Input(e.to_string()))?;
///         Ok(Predictions::binary(age.f64().unwrap().iter().map(|a| if a.unwrap_or(0.0) > 40.0 { 0.9 } else { 0.1 }).collect()))
///     }
/// }
/// let model = Over40(Card::new(OutputSchema::binary("y", ["0", "1"], "1")));
/// let data = Dataset::from_frame("people", df!("Age" => (20..60).map(f64::from).collect::<Vec<_>>()).unwrap());
/// let perturb = Perturb::new().numeric("Age", noise(3.0));
/// let rate = Trial::new(&model, &data, &perturb).cases(40).seed(7).expect(Expect::NoFlip).run().unwrap();
/// assert_eq!(rate.cases, 40);
/// assert!(rate.flips > 0 && rate.flips < 40, "{} flips", rate.flips);
/// let again = Trial::new(&model, &data, &perturb).cases(40).seed(7).run().unwrap();
/// assert_eq!((again.flips, again.examples), (rate.flips, rate.examples), "same seed, same cases");
/// ```
#[derive(Clone, Copy)]
pub struct Trial<'a> {
    model: &'a dyn Model,
    data: &'a Dataset,
    perturb: &'a Perturb,
    /// `None`: the model's own ([`Model::facts`]).
    facts: Option<&'a TrainingFacts>,
    cases: usize,
    seed: u64,
    examples: usize,
    expect: Expect,
    class: Option<&'a str>,
    tolerance: Option<Tolerance>,
    /// Cases of this seed drawn but not run: an adaptive round runs the
    /// cases after the ones earlier rounds ran.
    skip: usize,
}

/// Cases per block: a block is perturbed and predicted as one batch on
/// one core. 256 keeps four blocks per 1,000-case check (both cores busy)
/// while a batch stays large enough that a model's per-call cost (schema
/// checks, a tract plan run) is spread over many rows.
const BLOCK: usize = 256;

/// Step 1: the sampled rows, in sample order.
struct Sample {
    /// Row numbers in the data of the cases that run.
    rows: Vec<IdxSize>,
    /// The number of the first case that runs (cases before it were run
    /// by earlier rounds).
    first_case: usize,
    frame: DataFrame,
    /// The perturbed columns, sorted.
    columns: Vec<String>,
    /// For each step, its column's position in `columns`.
    step_column: Vec<usize>,
}

/// A perturbed column's values as the hot loop reads them: text without a
/// copy, anything else as a cell.
enum Source {
    Text(StringChunked),
    Other(Column),
}

impl Source {
    fn new(column: &Column) -> Self {
        match column.str() {
            Ok(s) => Source::Text(s.rechunk().into_owned()),
            Err(_) => Source::Other(column.clone()),
        }
    }

    fn load(&self, i: usize, slot: &mut Cell, scratch: &mut Scratch) {
        match self {
            Source::Text(s) => match s.get(i) {
                Some(t) => set_text(slot, t, scratch),
                None => set_null(slot, scratch),
            },
            Source::Other(c) => *slot = cell_at(c, i),
        }
    }
}

/// A perturbed column being built, of the original column's type.
enum Sink {
    Text(StringChunkedBuilder),
    Int(Vec<Option<i64>>, DataType),
    Float(Vec<Option<f64>>),
}

impl Sink {
    fn new(name: &str, dtype: &DataType, capacity: usize) -> Self {
        if dtype.is_integer() {
            Sink::Int(Vec::with_capacity(capacity), dtype.clone())
        } else if dtype.is_float() {
            Sink::Float(Vec::with_capacity(capacity))
        } else {
            Sink::Text(StringChunkedBuilder::new(name.into(), capacity))
        }
    }

    fn push(&mut self, cell: &Cell) {
        match (self, cell) {
            (Sink::Text(b), Cell::Text(s)) => b.append_value(s),
            (Sink::Text(b), Cell::Null) => b.append_null(),
            (Sink::Text(b), other) => b.append_value(other.to_string()),
            (Sink::Int(v, _), Cell::Int(i)) => v.push(Some(*i)),
            (Sink::Int(v, _), Cell::Float(f)) => v.push(Some(f.round() as i64)),
            (Sink::Int(v, _), _) => v.push(None),
            (Sink::Float(v), Cell::Int(i)) => v.push(Some(*i as f64)),
            (Sink::Float(v), Cell::Float(f)) => v.push(Some(*f)),
            (Sink::Float(v), _) => v.push(None),
        }
    }

    fn finish(self, name: &str) -> Series {
        match self {
            Sink::Text(b) => b.finish().into_series(),
            Sink::Int(v, dtype) => {
                let n = v.len();
                Series::new(name.into(), v)
                    .cast(&dtype)
                    .unwrap_or_else(|_| Series::new_null(name.into(), n))
            }
            Sink::Float(v) => Series::new(name.into(), v),
        }
    }
}

/// Steps 2 and 3: the predictions of each sampled row, before and after.
struct Scored {
    before: Predictions,
    after: Predictions,
    /// Perturbing plus predicting the perturbed rows: the throughput's time.
    perturbed_seconds: f64,
}

/// Joins the blocks' predictions, in block order.
fn concat(parts: Vec<Predictions>) -> Result<Predictions, RobustError> {
    let mut parts = parts.into_iter();
    let Some(mut out) = parts.next() else {
        return Ok(Predictions::Binary(Vec::new()));
    };
    for p in parts {
        match (&mut out, p) {
            (Predictions::Binary(a), Predictions::Binary(b))
            | (Predictions::Regression(a), Predictions::Regression(b)) => a.extend(b),
            (
                Predictions::Multiclass { classes, probs },
                Predictions::Multiclass {
                    classes: c,
                    probs: p,
                },
            ) if *classes == c => probs.extend(p),
            (a, b) => {
                return Err(RobustError::Perturb(format!(
                    "the model answered one batch with {:?} predictions and another with {:?}",
                    a.task(),
                    b.task()
                )));
            }
        }
    }
    Ok(out)
}

impl<'a> Trial<'a> {
    /// A trial of `model` on `data` under `perturb`: 500 cases, seed 0, 3
    /// shrunk examples, [`Expect::NoFlip`], the model's own training facts.
    pub fn new(model: &'a dyn Model, data: &'a Dataset, perturb: &'a Perturb) -> Self {
        Trial {
            model,
            data,
            perturb,
            facts: None,
            cases: 500,
            seed: 0,
            examples: 3,
            expect: Expect::NoFlip,
            class: None,
            tolerance: None,
            skip: 0,
        }
    }

    /// Runs only the cases after the first `n` of this seed (which are
    /// drawn, so later cases are the same as in one long run): how
    /// adaptive rounds add cases without repeating any.
    pub fn skip(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }

    /// What training saw (categories, ranges, spreads), which scales noise
    /// and picks swaps, instead of the model's own ([`Model::facts`]), e.g.
    /// [`TrainingFacts::from_data`].
    pub fn facts(mut self, facts: &'a TrainingFacts) -> Self {
        self.facts = Some(facts);
        self
    }

    /// The class whose probability a direction test on a multiclass model watches.
    pub fn class(mut self, class: &'a str) -> Self {
        self.class = Some(class);
        self
    }

    /// How far a regressor's prediction may move before a case counts.
    pub fn tolerance(mut self, tolerance: Tolerance) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// Rows to sample (fewer when fewer rows have every perturbed column).
    pub fn cases(mut self, cases: usize) -> Self {
        self.cases = cases;
        self
    }

    /// The seed of the sample and of the ops.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many violations to shrink into examples.
    pub fn examples(mut self, examples: usize) -> Self {
        self.examples = examples;
        self
    }

    /// What counts as a violation.
    pub fn expect(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }

    /// Measures the rate.
    pub fn run(&self) -> Result<FlipRate, RobustError> {
        let start = Instant::now();
        let judge = Judge::new(self.expect, self.model.card(), self.class, self.tolerance)?;
        let own;
        let facts = match self.facts {
            Some(f) => f,
            None => {
                own = self.model.facts();
                &own
            }
        };
        check_facts(self.perturb.steps(), facts, &self.model.card().display_id())?;
        let sample = self.sample()?;
        let p = self.perturb_and_predict(&sample, facts)?;
        let n = sample.rows.len();
        let violated: Vec<usize> = (0..n)
            .filter(|&i| judge.violated(&p.before, i, &p.after, i))
            .collect();
        let flips = violated.len() as u64;
        let examples = self.shrink(&sample, &p, violated, &judge, facts);
        Ok(FlipRate {
            cases: n as u64,
            flips,
            rate: flips as f64 / n as f64,
            interval: crate::stats::wilson(flips, n as u64, crate::stats::Z95),
            seed: self.seed,
            perturbation: self.perturb.describe(),
            measure: judge.describe(),
            score: judge.score_name(),
            examples,
            throughput: n as f64 / p.perturbed_seconds.max(1e-9),
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Step 1: `cases` rows (seeded) whose perturbed columns are all present.
    fn sample(&self) -> Result<Sample, RobustError> {
        let (frame, origin) = (self.data.frame(), &self.data.info().origin);
        let steps = self.perturb.steps();
        if steps.is_empty() {
            return Err(RobustError::Perturb(
                "the function declared no perturbation".into(),
            ));
        }
        let columns: Vec<String> = {
            let mut c: Vec<String> = steps.iter().map(|s| s.column().to_string()).collect();
            c.sort();
            c.dedup();
            c
        };
        for c in &columns {
            if frame.column(c).is_err() {
                return Err(RobustError::Data(format!(
                    "{origin}: the perturbed column {c:?} is not in the data; columns: {}",
                    crate::data::column_names(frame)
                )));
            }
        }
        // Rows whose perturbed columns are all present: a typo needs a text.
        let mut present = frame
            .column(&columns[0])
            .map_err(|e| RobustError::Data(e.to_string()))?
            .is_not_null();
        for c in &columns[1..] {
            present = &present
                & &frame
                    .column(c)
                    .map_err(|e| RobustError::Data(e.to_string()))?
                    .is_not_null();
        }
        let mut rows: Vec<IdxSize> = present
            .iter()
            .enumerate()
            .filter(|(_, p)| *p == Some(true))
            .map(|(i, _)| i as IdxSize)
            .collect();
        if rows.is_empty() {
            return Err(RobustError::Data(format!(
                "{origin}: no row has every perturbed column present"
            )));
        }
        SplitMix64::new(self.seed).shuffle(&mut rows);
        rows.truncate(self.cases);
        let skip = self.skip.min(rows.len());
        if skip == rows.len() && skip > 0 {
            return Err(RobustError::NoMoreRows { ran: skip });
        }
        let rows = rows.split_off(skip);
        let frame = frame
            .take(&IdxCa::from_vec("i".into(), rows.clone()))
            .map_err(|e| RobustError::Data(e.to_string()))?;
        let step_column = steps
            .iter()
            .map(|s| columns.iter().position(|c| c == s.column()).unwrap_or(0))
            .collect();
        Ok(Sample {
            rows,
            first_case: skip,
            frame,
            columns,
            step_column,
        })
    }

    /// Steps 2 and 3: the perturbed rows block by block on every core, then
    /// the originals in one batch.
    fn perturb_and_predict(
        &self,
        sample: &Sample,
        facts: &TrainingFacts,
    ) -> Result<Scored, RobustError> {
        let n = sample.rows.len();
        let sources: Vec<(Source, DataType)> = sample
            .columns
            .iter()
            .map(|c| {
                let col = sample
                    .frame
                    .column(c)
                    .map_err(|e| RobustError::Data(e.to_string()))?;
                Ok((Source::new(col), col.dtype().clone()))
            })
            .collect::<Result<_, RobustError>>()?;
        let bar = crate::progress::bar(n as u64, "perturbing cases");
        let start = Instant::now();
        let blocks: Vec<Result<Predictions, RobustError>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
                let frame = self.perturb_block(sample, &sources, facts, lo, hi)?;
                let p = predict_checked(self.model, &frame)?;
                bar.inc((hi - lo) as u64);
                Ok(p)
            })
            .collect();
        let after = concat(blocks.into_iter().collect::<Result<Vec<_>, _>>()?)?;
        let perturbed_seconds = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let before = predict_checked(self.model, &sample.frame)?;
        Ok(Scored {
            before,
            after,
            perturbed_seconds,
        })
    }

    /// Cases `lo..hi` of the sample, perturbed: the sample's rows with the
    /// perturbed columns replaced.
    fn perturb_block(
        &self,
        sample: &Sample,
        sources: &[(Source, DataType)],
        facts: &TrainingFacts,
        lo: usize,
        hi: usize,
    ) -> Result<DataFrame, RobustError> {
        let steps = self.perturb.steps();
        let mut sinks: Vec<Sink> = sample
            .columns
            .iter()
            .zip(sources)
            .map(|(c, (_, dtype))| Sink::new(c, dtype, hi - lo))
            .collect();
        // Reused by every case of the block.
        let mut cells: Vec<Cell> = vec![Cell::Null; sources.len()];
        let mut ops: Vec<Op> = vec![Op::Keep; steps.len()];
        let mut scratch = Scratch::default();
        for i in lo..hi {
            for (cell, (source, _)) in cells.iter_mut().zip(sources) {
                source.load(i, cell, &mut scratch);
            }
            // Every op is drawn from the original cells, then applied in
            // the declared order.
            let mut rng = case_rng(self.seed, (sample.first_case + i) as u64);
            for ((step, op), c) in steps.iter().zip(&mut ops).zip(&sample.step_column) {
                draw(step, &mut rng, &cells[*c], op);
            }
            for ((step, op), c) in steps.iter().zip(&ops).zip(&sample.step_column) {
                apply_in_place(step, op, &mut cells[*c], facts, &mut scratch);
            }
            for (sink, cell) in sinks.iter_mut().zip(&cells) {
                sink.push(cell);
            }
        }
        let mut frame = sample.frame.slice(lo as i64, hi - lo);
        for (name, sink) in sample.columns.iter().zip(sinks) {
            frame
                .replace(name, sink.finish(name).into_column())
                .map_err(|e| RobustError::Data(e.to_string()))?;
        }
        Ok(frame)
    }

    /// The original cells of case `i`, by column and by step.
    fn originals(&self, sample: &Sample, i: usize) -> (BTreeMap<String, Cell>, Vec<Cell>) {
        let by_column: BTreeMap<String, Cell> = sample
            .columns
            .iter()
            .map(|c| {
                let cell = sample
                    .frame
                    .column(c)
                    .map_or(Cell::Null, |col| cell_at(col, i));
                (c.clone(), cell)
            })
            .collect();
        let by_step = self
            .perturb
            .steps()
            .iter()
            .map(|s| by_column.get(s.column()).cloned().unwrap_or(Cell::Null))
            .collect();
        (by_column, by_step)
    }

    /// Step 4: shrinks the most telling violations (the largest change of
    /// the score): each is drawn again as a value tree and shrunk with
    /// proptest's loop, re-predicting one row per step.
    fn shrink(
        &self,
        sample: &Sample,
        p: &Scored,
        mut telling: Vec<usize>,
        judge: &Judge,
        facts: &TrainingFacts,
    ) -> Vec<FlipExample> {
        let steps = self.perturb.steps();
        let moved = |i: usize| (judge.score(&p.after, i) - judge.score(&p.before, i)).abs();
        telling.sort_by(|a, b| moved(*b).total_cmp(&moved(*a)).then(a.cmp(b)));
        telling.truncate(self.examples);
        let mut shrunk = Vec::new();
        for i in telling {
            let row_frame = sample.frame.slice(i as i64, 1);
            let (original, by_step) = self.originals(sample, i);
            let still_violates = |ops: &[Op]| -> Option<Predictions> {
                let row = perturb_row(steps, ops, &original, facts);
                let cells: BTreeMap<String, Vec<Cell>> =
                    row.into_iter().map(|(c, v)| (c, vec![v])).collect();
                let f = with_cells(&row_frame, &cells).ok()?;
                let after = predict_checked(self.model, &f).ok()?;
                judge.violated(&p.before, i, &after, 0).then_some(after)
            };
            let mut tree =
                OpsTree::draw(steps, self.seed, (sample.first_case + i) as u64, &by_step);
            let mut best = tree.current();
            let (mut best_p, mut best_class) =
                (judge.score(&p.after, i), judge.class_name(&p.after, i));
            let mut accepted = 0;
            // proptest's shrink loop: simplify while the case still fails,
            // complicate back when a simplification makes it pass.
            let mut budget = 512;
            if tree.simplify() {
                loop {
                    budget -= 1;
                    let candidate = tree.current();
                    let next = match still_violates(&candidate) {
                        Some(after) => {
                            best = candidate;
                            best_p = judge.score(&after, 0);
                            best_class = judge.class_name(&after, 0);
                            accepted += 1;
                            tree.simplify()
                        }
                        None => tree.complicate(),
                    };
                    if !next || budget == 0 {
                        break;
                    }
                }
            }
            let after = perturb_row(steps, &best, &original, facts);
            let changes = sample
                .columns
                .iter()
                .filter_map(|c| {
                    let (b, a) = (original.get(c)?, after.get(c)?);
                    (b != a).then(|| CellChange {
                        column: c.clone(),
                        before: b.to_string(),
                        after: a.to_string(),
                    })
                })
                .collect();
            shrunk.push(FlipExample {
                row: u64::from(sample.rows[i]),
                changes,
                p_before: judge.score(&p.before, i),
                p_after: best_p,
                class_before: judge.class_name(&p.before, i),
                class_after: best_class,
                shrink_steps: accepted,
            });
        }
        shrunk
    }
}
