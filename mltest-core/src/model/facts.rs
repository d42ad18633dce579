//! What a legal perturbed row is, as far as the model knows: the categories,
//! ranges and spreads training saw. They come from the card's input schema
//! (the store keeps it with every version), from the data itself, or from a
//! model type that knows more ([`Model::facts`](super::Model::facts)).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::store::Card;

/// Most distinct values [`TrainingFacts::from_data`] takes as a column's
/// categories: a column with more is free text or an id, not something a
/// swap should draw from (the reviews' `Class Name` has 21, `Clothing ID` 1,206).
pub const MAX_CATEGORIES: usize = 200;

/// What robustness perturbations need besides the rows: per column, the
/// categories a swap picks from, the range noise is clipped to, and the
/// standard deviation `noise_std(k)` scales by.
///
/// ```
/// use mltest_core::model::TrainingFacts;
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let data = Dataset::from_frame("d", df!("age" => [20.0, 30.0, 40.0], "dept" => ["Tops", "Dresses", "Tops"]).unwrap());
/// let f = TrainingFacts::from_data(&data);
/// assert_eq!(f.ranges["age"], (20.0, 40.0));
/// assert_eq!(f.stds["age"], 10.0); // sample standard deviation, as numpy's ddof=1
/// assert_eq!(f.categories["dept"], vec!["Dresses".to_string(), "Tops".to_string()]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingFacts {
    /// Categories seen in training, per column.
    pub categories: BTreeMap<String, Vec<String>>,
    /// Range seen in training, per numeric column (noise is clipped to it).
    pub ranges: BTreeMap<String, (f64, f64)>,
    /// Standard deviation in training, per numeric column.
    pub stds: BTreeMap<String, f64>,
}

impl TrainingFacts {
    /// From a card's input schema: categories, ranges and standard
    /// deviations where the card records them.
    pub fn from_card(card: &Card) -> Self {
        let mut f = TrainingFacts::default();
        for i in &card.inputs {
            if let Some(c) = &i.categories {
                f.categories.insert(i.name.clone(), c.clone());
            }
            if let Some(r) = i.range {
                f.ranges.insert(i.name.clone(), r);
            }
            if let Some(s) = i.std {
                f.stds.insert(i.name.clone(), s);
            }
        }
        f
    }

    /// From the rows themselves: the range and sample standard deviation of
    /// every numeric column, and the sorted distinct values of every text
    /// column with at most [`MAX_CATEGORIES`] of them.
    pub fn from_data(data: &crate::Dataset) -> Self {
        let mut f = TrainingFacts::default();
        for c in data.frame().columns() {
            let name = c.name().to_string();
            if c.dtype().is_primitive_numeric() {
                let Ok(x) = c.cast(&DataType::Float64) else {
                    continue;
                };
                let Ok(x) = x.f64() else { continue };
                let v: Vec<f64> = x.iter().flatten().filter(|v| v.is_finite()).collect();
                if v.is_empty() {
                    continue;
                }
                let (lo, hi) = v
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                        (l.min(x), h.max(x))
                    });
                f.ranges.insert(name.clone(), (lo, hi));
                if v.len() > 1 {
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
                    f.stds.insert(name, (ss / (v.len() - 1) as f64).sqrt());
                }
            } else if matches!(c.dtype(), DataType::String) {
                let Ok(s) = c.str() else { continue };
                let mut seen: Vec<String> = Vec::new();
                let mut set = std::collections::BTreeSet::new();
                for v in s.iter().flatten() {
                    if set.insert(v) && set.len() > MAX_CATEGORIES {
                        break;
                    }
                }
                if set.len() <= MAX_CATEGORIES {
                    seen.extend(set.into_iter().map(str::to_string));
                    f.categories.insert(name, seen);
                }
            }
        }
        f
    }

    /// These facts, with `other`'s filling the columns these lack.
    pub fn or(mut self, other: &TrainingFacts) -> Self {
        for (k, v) in &other.categories {
            self.categories
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        for (k, v) in &other.ranges {
            self.ranges.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &other.stds {
            self.stds.entry(k.clone()).or_insert(*v);
        }
        self
    }
}
