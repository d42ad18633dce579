//! The flip-rate runner behind `#[robustness]`.
//!
//! 1. Sample `cases` rows (seeded) whose perturbed columns are present.
//! 2. For each row, draw the declared ops from a proptest `TestRunner`
//!    seeded from the check's seed (one stream, in row order: the same seed
//!    gives the same cases on any thread count).
//! 3. Predict the original and the perturbed rows in two batches.
//! 4. Flip rate = share of rows whose predicted label changed, with a
//!    Wilson 95% interval.
//! 5. For the most telling flips (largest change of P), shrink the ops with
//!    proptest's value trees to the smallest edit that still flips.

use std::collections::BTreeMap;
use std::time::Instant;

use polars::prelude::*;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::cells::{cell_at, check_facts, perturb_row, with_cells};
use super::error::RobustError;
use super::judge::{Expect, Judge, Tolerance};
use super::perturb::{Cell, Op, Perturb, Step};
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

/// XorShift: proptest's fast generator; cases need speed, not cryptographic quality.
fn seed_rng(seed: u64) -> TestRng {
    let mut sm = SplitMix64::new(seed);
    let bytes: Vec<u8> = (0..2).flat_map(|_| sm.next_u64().to_le_bytes()).collect();
    TestRng::from_seed(RngAlgorithm::XorShift, &bytes)
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

/// Step 1: the sampled rows, in sample order.
struct Sample {
    /// Row numbers in the data.
    rows: Vec<IdxSize>,
    frame: DataFrame,
    /// The perturbed columns, sorted.
    columns: Vec<String>,
    /// Each sampled row's cells of those columns.
    originals: Vec<BTreeMap<String, Cell>>,
    /// The cells of the skipped cases (their ops are drawn, not run).
    skipped: Vec<BTreeMap<String, Cell>>,
}

/// A row's ops as proptest draws them: shrinkable toward a smaller edit.
type OpsTree = <Vec<BoxedStrategy<Op>> as Strategy>::Tree;

/// Step 2: one value tree per sampled row and the perturbed rows.
struct Cases {
    trees: Vec<OpsTree>,
    frame: DataFrame,
    seconds: f64,
}

/// Step 3: the predictions of each sampled row, before and after.
struct Scored {
    before: Predictions,
    after: Predictions,
    /// Perturbing plus predicting the perturbed rows: the throughput's time.
    perturbed_seconds: f64,
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
        let cases = self.perturb_cases(&sample, facts)?;
        let p = self.predict(&sample, &cases)?;
        let n = sample.rows.len();
        let violated: Vec<usize> = (0..n)
            .filter(|&i| judge.violated(&p.before, i, &p.after, i))
            .collect();
        let flips = violated.len() as u64;
        let examples = self.shrink(&sample, cases.trees, &p, violated, &judge, facts);
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
        let sample = frame
            .take(&IdxCa::from_vec("i".into(), rows.clone()))
            .map_err(|e| RobustError::Data(e.to_string()))?;
        let mut originals: Vec<BTreeMap<String, Cell>> = (0..rows.len())
            .map(|i| {
                columns
                    .iter()
                    .map(|c| {
                        (
                            c.clone(),
                            sample.column(c).map_or(Cell::Null, |col| cell_at(col, i)),
                        )
                    })
                    .collect()
            })
            .collect();
        let skip = self.skip.min(rows.len());
        if skip == rows.len() && skip > 0 {
            return Err(RobustError::NoMoreRows { ran: skip });
        }
        let skipped: Vec<_> = originals.drain(..skip).collect();
        Ok(Sample {
            rows: rows.split_off(skip),
            frame: sample.slice(skip as i64, usize::MAX),
            columns,
            originals,
            skipped,
        })
    }

    /// Step 2: draws every row's ops from one seeded `TestRunner`, in row
    /// order, and applies them.
    fn perturb_cases(&self, sample: &Sample, facts: &TrainingFacts) -> Result<Cases, RobustError> {
        let steps = self.perturb.steps();
        let n = sample.rows.len();
        let mut runner = TestRunner::new_with_rng(Config::default(), seed_rng(self.seed));
        let mut trees = Vec::with_capacity(n);
        let mut perturbed_cells: BTreeMap<String, Vec<Cell>> = sample
            .columns
            .iter()
            .map(|c| (c.clone(), Vec::with_capacity(n)))
            .collect();
        let start = Instant::now();
        // Built-in strategies do not depend on the cell: build them once. Only
        // custom strategies are rebuilt per row, from the row's original value.
        let per_row = steps.iter().any(|s| matches!(s, Step::Custom { .. }));
        let shared: Vec<BoxedStrategy<Op>> =
            steps.iter().map(|s| s.strategy(&Cell::Null)).collect();
        let mut draw = |original: &BTreeMap<String, Cell>| {
            if per_row {
                let strategy: Vec<BoxedStrategy<Op>> = steps
                    .iter()
                    .map(|s| s.strategy(original.get(s.column()).unwrap_or(&Cell::Null)))
                    .collect();
                strategy.new_tree(&mut runner)
            } else {
                shared.new_tree(&mut runner)
            }
            .map_err(|e| RobustError::Perturb(e.to_string()))
        };
        // Skipped cases take their draws from the stream, as in one long run.
        for original in &sample.skipped {
            draw(original)?;
        }
        let bar = crate::progress::bar(n as u64, "perturbing cases");
        for original in &sample.originals {
            bar.inc(1);
            let tree = draw(original)?;
            let row = perturb_row(steps, &tree.current(), original, facts);
            for (c, v) in row {
                if let Some(col) = perturbed_cells.get_mut(&c) {
                    col.push(v);
                }
            }
            trees.push(tree);
        }
        bar.finish_and_clear();
        let frame = with_cells(&sample.frame, &perturbed_cells)
            .map_err(|e| RobustError::Data(e.to_string()))?;
        Ok(Cases {
            trees,
            frame,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Step 3: the perturbed rows, then the originals, in one batch each.
    fn predict(&self, sample: &Sample, cases: &Cases) -> Result<Scored, RobustError> {
        let start = Instant::now();
        let after = predict_checked(self.model, &cases.frame)?;
        let perturbed_seconds = cases.seconds + start.elapsed().as_secs_f64();
        let before = predict_checked(self.model, &sample.frame)?;
        Ok(Scored {
            before,
            after,
            perturbed_seconds,
        })
    }

    /// Step 5: shrinks the most telling violations (the largest change of
    /// probability) with proptest's value trees, re-predicting one row per
    /// shrink step.
    fn shrink(
        &self,
        sample: &Sample,
        mut trees: Vec<OpsTree>,
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
            let original = &sample.originals[i];
            let still_violates = |ops: &[Op]| -> Option<Predictions> {
                let row = perturb_row(steps, ops, original, facts);
                let cells: BTreeMap<String, Vec<Cell>> =
                    row.into_iter().map(|(c, v)| (c, vec![v])).collect();
                let f = with_cells(&row_frame, &cells).ok()?;
                let after = predict_checked(self.model, &f).ok()?;
                judge.violated(&p.before, i, &after, 0).then_some(after)
            };
            let tree = &mut trees[i];
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
            let after = perturb_row(steps, &best, original, facts);
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
