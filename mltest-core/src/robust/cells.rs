//! Cells of the sampled rows: read from a frame, changed by a step's op
//! (given what training saw of the column), and written back.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::edit::apply_text_in_place;
use super::error::RobustError;
use super::perturb::{Cell, NoiseScale, Op, Step};
use crate::model::TrainingFacts;

/// Refuses, before any case runs, a step that needs a fact nobody gave:
/// `noise_std(k)` without the column's training standard deviation, a
/// category swap without the categories. Filling in a guess (a spread of 1,
/// no swap at all) would measure a perturbation nobody declared.
pub(super) fn check_facts(
    steps: &[Step],
    facts: &TrainingFacts,
    model: &str,
) -> Result<(), RobustError> {
    let missing = |why: String| {
        Err(RobustError::Facts {
            model: model.to_string(),
            why,
        })
    };
    for step in steps {
        match step {
            Step::Noise {
                column,
                scale: NoiseScale::TrainingStd(k),
                ..
            } if !facts.stds.contains_key(column) => {
                return missing(format!(
                    "noise_std({k}) on {column:?} scales by the training standard deviation of                      {column:?}, which the card's input schema does not give (`std` of the input                      column); record it in the card, use an absolute `noise(amount)`, or measure                      the spread of the data (`Trial::facts(&TrainingFacts::from_data(&data))`)"
                ));
            }
            Step::Swap {
                column,
                unseen: false,
                allowed: None,
            } if facts.categories.get(column).is_none_or(Vec::is_empty) => {
                return missing(format!(
                    "swap_category({column:?}) picks another category seen in training, and the                      card's input schema lists none for {column:?} (`categories` of the input                      column); record them in the card, or bound the swap by the data suite with                      `.within(&expectations)` and an `in_set` expectation on {column:?}"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn cell_at(column: &Column, i: usize) -> Cell {
    match column.get(i) {
        Ok(AnyValue::Null) | Err(_) => Cell::Null,
        Ok(AnyValue::String(s)) => Cell::Text(s.to_string()),
        Ok(AnyValue::StringOwned(s)) => Cell::Text(s.to_string()),
        Ok(v) if column.dtype().is_integer() => v.extract::<i64>().map_or(Cell::Null, Cell::Int),
        Ok(v) => v.extract::<f64>().map_or(Cell::Null, Cell::Float),
    }
}

/// Buffers [`apply_in_place`] reuses: a text cell set missing keeps its
/// string here for the next case, and the ops that rebuild a text write
/// into `tmp`.
#[derive(Default)]
pub(super) struct Scratch {
    spare: String,
    tmp: String,
}

/// Applies one step's op to a cell (allocating; shrinking's form).
pub(super) fn apply(step: &Step, op: &Op, cell: &Cell, facts: &TrainingFacts) -> Cell {
    let mut out = cell.clone();
    apply_in_place(step, op, &mut out, facts, &mut Scratch::default());
    out
}

/// Sets `slot` to `text`, reusing the slot's or the scratch's string.
pub(super) fn set_text(slot: &mut Cell, text: &str, scratch: &mut Scratch) {
    match slot {
        Cell::Text(s) => {
            s.clear();
            s.push_str(text);
        }
        _ => {
            let mut s = std::mem::take(&mut scratch.spare);
            s.clear();
            s.push_str(text);
            *slot = Cell::Text(s);
        }
    }
}

pub(super) fn set_null(slot: &mut Cell, scratch: &mut Scratch) {
    if let Cell::Text(s) = std::mem::replace(slot, Cell::Null) {
        scratch.spare = s;
    }
}

/// Applies one step's op to a cell in place: the one definition of what
/// every op does, for the hot loop and for shrinking alike.
pub(super) fn apply_in_place(
    step: &Step,
    op: &Op,
    cell: &mut Cell,
    facts: &TrainingFacts,
    scratch: &mut Scratch,
) {
    match (step, op) {
        (_, Op::Null) => set_null(cell, scratch),
        (_, Op::Keep) => {}
        (_, Op::Set(c)) => *cell = c.clone(),
        (Step::Text { .. }, op) => {
            let was_null = matches!(cell, Cell::Null);
            match cell {
                Cell::Text(_) => {}
                Cell::Null => set_text(cell, "", scratch),
                Cell::Int(_) | Cell::Float(_) => {
                    let text = cell.to_string();
                    set_text(cell, &text, scratch);
                }
            }
            if let Cell::Text(s) = cell {
                apply_text_in_place(s, op, &mut scratch.tmp);
                if was_null && s.is_empty() {
                    set_null(cell, scratch);
                }
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
                _ => return,
            };
            let amount = match scale {
                NoiseScale::Absolute(a) => *a,
                NoiseScale::TrainingStd(k) => k * facts.stds.get(column).copied().unwrap_or(1.0),
            };
            let (lo, hi) = clip
                .or_else(|| facts.ranges.get(column).copied())
                .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
            let y = (x + u * amount).clamp(lo, hi);
            *cell = match cell {
                Cell::Int(_) => Cell::Int(y.round() as i64),
                _ => Cell::Float(y),
            };
        }
        (
            Step::Swap {
                column, allowed, ..
            },
            Op::Swap(frac),
        ) => {
            // The declared value set when there is one, else what training
            // saw; the current value is not among the choices.
            let pool = allowed.as_ref().or_else(|| facts.categories.get(column));
            let Some(pool) = pool else { return };
            let current = match cell {
                Cell::Text(s) => Some(s.as_str()),
                _ => None,
            };
            let others = pool.iter().filter(|v| Some(v.as_str()) != current).count();
            if others == 0 {
                return;
            }
            let k = ((frac * others as f64) as usize).min(others - 1);
            let pick = pool
                .iter()
                .enumerate()
                .filter(|(_, v)| Some(v.as_str()) != current)
                .nth(k)
                .map(|(i, _)| i);
            if let Some(i) = pick {
                set_text(cell, &pool[i], scratch);
            }
        }
        (Step::Swap { .. }, Op::SwapUnseen) => set_text(cell, "<never seen in training>", scratch),
        _ => {}
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
pub(super) fn with_cells(
    frame: &DataFrame,
    cells: &BTreeMap<String, Vec<Cell>>,
) -> PolarsResult<DataFrame> {
    let mut out = frame.clone();
    for (name, values) in cells {
        let dtype = frame.column(name)?.dtype().clone();
        out.replace(name, series_from(name, &dtype, values).into_column())?;
    }
    Ok(out)
}

/// Runs the ops of one case on one row's cells.
pub(super) fn perturb_row(
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
