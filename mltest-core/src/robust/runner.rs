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
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::perturb::{Cell, NoiseScale, Op, Perturb, Step, apply_text};
use crate::data::DataInfo;
use crate::data::generator::SplitMix64;
use crate::model::{Model, ModelError, ReferenceModel};

/// What the runner needs besides the rows: training facts of the model.
#[derive(Clone, Debug, Default)]
pub struct TrainingFacts {
    /// Categories seen in training, per column.
    pub categories: BTreeMap<String, Vec<String>>,
    /// Range seen in training, per numeric column (noise is clipped to it).
    pub ranges: BTreeMap<String, (f64, f64)>,
    /// Standard deviation in training, per numeric column.
    pub stds: BTreeMap<String, f64>,
}

impl TrainingFacts {
    /// From the reference model's card and pipeline.
    pub fn of(model: &ReferenceModel) -> Self {
        let mut f = TrainingFacts::default();
        for i in &model.card().inputs {
            if let Some(c) = &i.categories {
                f.categories.insert(i.name.clone(), c.clone());
            }
            if let Some(r) = i.range {
                f.ranges.insert(i.name.clone(), r);
            }
        }
        for n in &model.pipeline().numeric {
            f.stds.insert(n.column.clone(), n.std);
        }
        f
    }
}

/// What counts as a violation (CheckList's INV and DIR tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Invariance: the predicted label must not change.
    #[default]
    NoFlip,
    /// Direction: P(positive) must not rise (e.g. after a negative sentence).
    NoIncrease,
    /// Direction: P(positive) must not fall (e.g. after a positive sentence).
    NoDecrease,
}

impl Expect {
    /// Whether a case with these probabilities violates the expectation.
    pub fn violated(self, before: f64, after: f64) -> bool {
        // A tolerance of 1e-9 keeps rounding noise from counting as movement.
        match self {
            Expect::NoFlip => (before >= 0.5) != (after >= 0.5),
            Expect::NoIncrease => after > before + 1e-9,
            Expect::NoDecrease => after < before - 1e-9,
        }
    }

    /// For reports.
    pub fn describe(self) -> &'static str {
        match self {
            Expect::NoFlip => "flip rate",
            Expect::NoIncrease => "share of cases where P(positive) rose",
            Expect::NoDecrease => "share of cases where P(positive) fell",
        }
    }
}

/// A flipping case, shrunk: the row before and after, with both probabilities.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlipExample {
    pub row: u64,
    pub changes: Vec<(String, String, String)>,
    pub p_before: f64,
    pub p_after: f64,
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
    pub examples: Vec<FlipExample>,
    /// Perturbed predictions per second (perturb + features + predict).
    pub throughput: f64,
    pub seconds: f64,
}

/// Errors of a robustness run (bad data, model, perturbation).
#[derive(Debug, thiserror::Error)]
pub enum RobustError {
    #[error("{0}")]
    Model(#[from] ModelError),
    #[error("{0}")]
    Data(String),
    #[error("perturbation: {0}")]
    Perturb(String),
}

fn cell_at(column: &Column, i: usize) -> Cell {
    match column.get(i) {
        Ok(AnyValue::Null) | Err(_) => Cell::Null,
        Ok(AnyValue::String(s)) => Cell::Text(s.to_string()),
        Ok(AnyValue::StringOwned(s)) => Cell::Text(s.to_string()),
        Ok(v) if column.dtype().is_integer() => v.extract::<i64>().map_or(Cell::Null, Cell::Int),
        Ok(v) => v.extract::<f64>().map_or(Cell::Null, Cell::Float),
    }
}

/// Applies one step's op to a cell.
fn apply(step: &Step, op: &Op, cell: &Cell, facts: &TrainingFacts) -> Cell {
    match (step, op) {
        (_, Op::Null) => Cell::Null,
        (_, Op::Keep) => cell.clone(),
        (_, Op::Set(c)) => c.clone(),
        (Step::Text { .. }, op) => {
            let text = match cell {
                Cell::Text(s) => s.clone(),
                Cell::Null => String::new(),
                other => other.to_string(),
            };
            let out = apply_text(&text, op);
            if out.is_empty() && matches!(cell, Cell::Null) {
                Cell::Null
            } else {
                Cell::Text(out)
            }
        }
        (
            Step::Noise {
                column,
                scale,
                clip,
            },
            Op::Noise(u),
        ) => {
            let x = match cell {
                Cell::Int(i) => *i as f64,
                Cell::Float(f) => *f,
                _ => return cell.clone(),
            };
            let amount = match scale {
                NoiseScale::Absolute(a) => *a,
                NoiseScale::TrainingStd(k) => k * facts.stds.get(column).copied().unwrap_or(1.0),
            };
            let (lo, hi) = clip
                .or_else(|| facts.ranges.get(column).copied())
                .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
            let y = (x + u * amount).clamp(lo, hi);
            match cell {
                Cell::Int(_) => Cell::Int(y.round() as i64),
                _ => Cell::Float(y),
            }
        }
        (
            Step::Swap {
                column, allowed, ..
            },
            Op::Swap(frac),
        ) => {
            let current = match cell {
                Cell::Text(s) => Some(s.as_str()),
                _ => None,
            };
            // The declared value set when there is one, else what training saw.
            let pool = allowed.as_ref().or_else(|| facts.categories.get(column));
            let others: Vec<&String> = pool
                .map(|c| c.iter().filter(|v| Some(v.as_str()) != current).collect())
                .unwrap_or_default();
            match others
                .get(((frac * others.len() as f64) as usize).min(others.len().saturating_sub(1)))
            {
                Some(v) => Cell::Text((*v).clone()),
                None => cell.clone(),
            }
        }
        (Step::Swap { .. }, Op::SwapUnseen) => Cell::Text("<never seen in training>".into()),
        _ => cell.clone(),
    }
}

fn series_from(name: &str, dtype: &DataType, cells: &[Cell]) -> Series {
    if dtype.is_integer() {
        let v: Vec<Option<i64>> = cells
            .iter()
            .map(|c| match c {
                Cell::Int(i) => Some(*i),
                Cell::Float(f) => Some(f.round() as i64),
                _ => None,
            })
            .collect();
        Series::new(name.into(), v)
            .cast(dtype)
            .unwrap_or_else(|_| Series::new_null(name.into(), cells.len()))
    } else if dtype.is_float() {
        let v: Vec<Option<f64>> = cells
            .iter()
            .map(|c| match c {
                Cell::Int(i) => Some(*i as f64),
                Cell::Float(f) => Some(*f),
                _ => None,
            })
            .collect();
        Series::new(name.into(), v)
    } else {
        let v: Vec<Option<String>> = cells
            .iter()
            .map(|c| match c {
                Cell::Null => None,
                Cell::Text(s) => Some(s.clone()),
                other => Some(other.to_string()),
            })
            .collect();
        Series::new(name.into(), v)
    }
}

/// Replaces the perturbed columns of `frame` with `cells[column][row]`.
fn with_cells(frame: &DataFrame, cells: &BTreeMap<String, Vec<Cell>>) -> PolarsResult<DataFrame> {
    let mut out = frame.clone();
    for (name, values) in cells {
        let dtype = frame.column(name)?.dtype().clone();
        out.replace(name, series_from(name, &dtype, values).into_column())?;
    }
    Ok(out)
}

/// Runs the ops of one case on one row's cells.
fn perturb_row(
    steps: &[Step],
    ops: &[Op],
    original: &BTreeMap<String, Cell>,
    facts: &TrainingFacts,
) -> BTreeMap<String, Cell> {
    let mut row = original.clone();
    for (step, op) in steps.iter().zip(ops) {
        let col = step.column().to_string();
        let current = row.get(&col).cloned().unwrap_or(Cell::Null);
        row.insert(col, apply(step, op, &current, facts));
    }
    row
}

/// XorShift: proptest's fast generator; cases need speed, not cryptographic quality.
fn seed_rng(seed: u64) -> TestRng {
    let mut sm = SplitMix64::new(seed);
    let bytes: Vec<u8> = (0..2).flat_map(|_| sm.next_u64().to_le_bytes()).collect();
    TestRng::from_seed(RngAlgorithm::XorShift, &bytes)
}

/// Measures the flip rate of `model` on `cases` rows of `frame` under `perturb`.
#[allow(clippy::too_many_arguments)]
pub fn flip_rate(
    model: &dyn Model,
    facts: &TrainingFacts,
    frame: &DataFrame,
    data: &DataInfo,
    perturb: &Perturb,
    cases: usize,
    seed: u64,
    examples: usize,
) -> Result<FlipRate, RobustError> {
    violation_rate(
        model,
        facts,
        frame,
        data,
        perturb,
        cases,
        seed,
        examples,
        Expect::NoFlip,
    )
}

/// [`flip_rate`] with another notion of violation ([`Expect`]).
#[allow(clippy::too_many_arguments)]
pub fn violation_rate(
    model: &dyn Model,
    facts: &TrainingFacts,
    frame: &DataFrame,
    data: &DataInfo,
    perturb: &Perturb,
    cases: usize,
    seed: u64,
    examples: usize,
    expect: Expect,
) -> Result<FlipRate, RobustError> {
    let start = Instant::now();
    let steps = perturb.steps();
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
                "{}: the perturbed column {c:?} is not in the data; columns: {}",
                data.origin,
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
    let mut idx: Vec<IdxSize> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| *p == Some(true))
        .map(|(i, _)| i as IdxSize)
        .collect();
    if idx.is_empty() {
        return Err(RobustError::Data(format!(
            "{}: no row has every perturbed column present",
            data.origin
        )));
    }
    SplitMix64::new(seed).shuffle(&mut idx);
    idx.truncate(cases);
    let n = idx.len();
    let sample = frame
        .take(&IdxCa::from_vec("i".into(), idx.clone()))
        .map_err(|e| RobustError::Data(e.to_string()))?;

    let originals: Vec<BTreeMap<String, Cell>> = (0..n)
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

    let mut runner = TestRunner::new_with_rng(Config::default(), seed_rng(seed));
    let mut trees = Vec::with_capacity(n);
    let mut perturbed_cells: BTreeMap<String, Vec<Cell>> = columns
        .iter()
        .map(|c| (c.clone(), Vec::with_capacity(n)))
        .collect();
    let t_perturb = Instant::now();
    // Built-in strategies do not depend on the cell: build them once. Only
    // custom strategies are rebuilt per row, from the row's original value.
    let per_row = steps.iter().any(|s| matches!(s, Step::Custom { .. }));
    let shared: Vec<_> = steps.iter().map(|s| s.strategy(&Cell::Null)).collect();
    let bar = crate::progress::bar(originals.len() as u64, "perturbing cases");
    for original in &originals {
        bar.inc(1);
        let tree = if per_row {
            let strategy: Vec<_> = steps
                .iter()
                .map(|s| s.strategy(original.get(s.column()).unwrap_or(&Cell::Null)))
                .collect();
            strategy.new_tree(&mut runner)
        } else {
            shared.new_tree(&mut runner)
        }
        .map_err(|e| RobustError::Perturb(e.to_string()))?;
        let row = perturb_row(steps, &tree.current(), original, facts);
        for (c, v) in row {
            if let Some(col) = perturbed_cells.get_mut(&c) {
                col.push(v);
            }
        }
        trees.push(tree);
    }
    bar.finish_and_clear();
    let perturbed =
        with_cells(&sample, &perturbed_cells).map_err(|e| RobustError::Data(e.to_string()))?;
    let p_after = model.predict_proba(&perturbed)?;
    let perturb_seconds = t_perturb.elapsed().as_secs_f64();
    let p_before = model.predict_proba(&sample)?;

    let flipped: Vec<usize> = (0..n)
        .filter(|&i| expect.violated(p_before[i], p_after[i]))
        .collect();
    let flips = flipped.len() as u64;
    let rate = flips as f64 / n as f64;
    let interval = crate::stats::wilson(flips, n as u64, crate::stats::Z95);

    // The most telling flips: the largest change of probability.
    let mut telling = flipped.clone();
    telling.sort_by(|a, b| {
        let da = (p_after[*a] - p_before[*a]).abs();
        let db = (p_after[*b] - p_before[*b]).abs();
        db.total_cmp(&da).then(a.cmp(b))
    });
    telling.truncate(examples);
    let mut shrunk = Vec::new();
    for i in telling {
        let row_frame = sample.slice(i as i64, 1);
        let before_p = p_before[i];
        let still_flips = |ops: &[Op]| -> Option<f64> {
            let row = perturb_row(steps, ops, &originals[i], facts);
            let cells: BTreeMap<String, Vec<Cell>> =
                row.into_iter().map(|(c, v)| (c, vec![v])).collect();
            let f = with_cells(&row_frame, &cells).ok()?;
            let p = model.predict_proba(&f).ok()?[0];
            expect.violated(before_p, p).then_some(p)
        };
        let tree = &mut trees[i];
        let mut best = tree.current();
        let mut best_p = p_after[i];
        let mut accepted = 0;
        // proptest's shrink loop: simplify while the case still fails,
        // complicate back when a simplification makes it pass.
        let mut budget = 512;
        if tree.simplify() {
            loop {
                budget -= 1;
                let candidate = tree.current();
                let next = match still_flips(&candidate) {
                    Some(p) => {
                        best = candidate;
                        best_p = p;
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
        let after = perturb_row(steps, &best, &originals[i], facts);
        let changes = columns
            .iter()
            .filter_map(|c| {
                let (b, a) = (originals[i].get(c)?, after.get(c)?);
                (b != a).then(|| (c.clone(), b.to_string(), a.to_string()))
            })
            .collect();
        shrunk.push(FlipExample {
            row: u64::from(idx[i]),
            changes,
            p_before: p_before[i],
            p_after: best_p,
            shrink_steps: accepted,
        });
    }

    Ok(FlipRate {
        cases: n as u64,
        flips,
        rate,
        interval,
        seed,
        perturbation: perturb.describe(),
        examples: shrunk,
        throughput: n as f64 / perturb_seconds.max(1e-9),
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TrainingFacts {
        let mut f = TrainingFacts::default();
        f.ranges.insert("Age".into(), (18.0, 99.0));
        f.stds.insert("Age".into(), 12.0);
        f.categories.insert(
            "Dept".into(),
            vec!["Dresses".into(), "Tops".into(), "Trend".into()],
        );
        f
    }

    #[test]
    fn noise_is_scaled_and_clipped_to_the_training_range() {
        let step = Step::Noise {
            column: "Age".into(),
            scale: NoiseScale::TrainingStd(2.0),
            clip: None,
        };
        assert_eq!(
            apply(&step, &Op::Noise(0.5), &Cell::Int(40), &facts()),
            Cell::Int(52)
        );
        assert_eq!(
            apply(&step, &Op::Noise(1.0), &Cell::Int(90), &facts()),
            Cell::Int(99)
        );
        assert_eq!(
            apply(&step, &Op::Noise(-1.0), &Cell::Int(20), &facts()),
            Cell::Int(18)
        );
        let explicit = Step::Noise {
            column: "Age".into(),
            scale: NoiseScale::Absolute(10.0),
            clip: Some((30.0, 50.0)),
        };
        assert_eq!(
            apply(&explicit, &Op::Noise(1.0), &Cell::Float(45.0), &facts()),
            Cell::Float(50.0)
        );
    }

    #[test]
    fn swaps_pick_another_seen_category_or_an_unseen_one() {
        let step = Step::Swap {
            column: "Dept".into(),
            unseen: false,
            allowed: None,
        };
        let cell = Cell::Text("Tops".into());
        assert_eq!(
            apply(&step, &Op::Swap(0.0), &cell, &facts()),
            Cell::Text("Dresses".into())
        );
        assert_eq!(
            apply(&step, &Op::Swap(0.99), &cell, &facts()),
            Cell::Text("Trend".into())
        );
        let unseen = Step::Swap {
            column: "Dept".into(),
            unseen: true,
            allowed: None,
        };
        assert_eq!(
            apply(&unseen, &Op::SwapUnseen, &cell, &facts()),
            Cell::Text("<never seen in training>".into())
        );
    }
}
