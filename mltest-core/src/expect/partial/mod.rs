//! Figures that merge: a check's figures over one partition of the data as
//! a state with an associative, commutative merge, so partitions are
//! measured independently (on other threads, machines or days) and merged
//! into the figures of the whole — Deequ's state merging.
//!
//! | metric | state | merged |
//! |---|---|---|
//! | row count, null / empty / in-range / in-set / pattern / length fractions, category share | counts (rows, values, hits, inside, NaN, ∞) | exactly (sums of integers) |
//! | mean | values `n`, mean | exactly up to rounding: `m = m_a + (m_b − m_a)·n_b/n` |
//! | standard deviation | `n`, mean, `M2` (sum of squared deviations) | Chan et al.'s pairwise formula, `M2 = M2_a + M2_b + δ²·n_a·n_b/n` |
//! | sum | the sum | exactly up to rounding |
//! | min, max, newest | the extreme | exactly |
//! | distinct fraction | the distinct values (as text) | exactly (a union; memory grows with the distinct values) |
//! | quantile | a KLL sketch (DataSketches' bytes, k = [`KLL_K`](super::KLL_K)) | within the sketch's stated rank error |
//!
//! Duplicates (a row may repeat one in another partition), associations
//! and schema checks have no partial state: [`Dataset::partials`] says so
//! for each, it never returns a state that would merge wrongly. A merged
//! state is decided exactly like the whole data's figures
//! ([`Partial::outcome`]): `tests` checks, over random partitions into
//! k = 1..16 parts, that the merge equals the whole to 1e-12.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::engine::{DistinctValues, Evaluator, Sketches, Table};
use super::figures::{FigureSet, Figures, Group, GroupValue, Key};
use super::outcome::{CheckError, CheckOutcome};
use super::{EvalOptions, Expectation, IntoExpectations, Metric, Segment, decide};
use crate::Dataset;

/// One check's mergeable state over some rows: built by
/// [`Dataset::partials`], combined by [`merge`](Partial::merge), decided
/// by [`outcome`](Partial::outcome).
///
/// ```
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let a = Dataset::from_frame("a", df!("x" => [1.0, 2.0]).unwrap());
/// let b = Dataset::from_frame("b", df!("x" => [3.0, 4.0, 5.0]).unwrap());
/// let check = a.column("x").std().at_most(2.0);
/// let mut merged = a.partials(check.clone()).remove(0).unwrap();
/// merged.merge(&b.partials(check).remove(0).unwrap()).unwrap();
/// // The sample standard deviation of 1..=5.
/// assert!((merged.outcome().observed.unwrap() - 2.5f64.sqrt()).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    pub expectation: Expectation,
    shape: Shape,
}

/// Over all rows (or a filter's), or per group of a per-segment check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Shape {
    Flat(State),
    /// As `[group, state]` pairs in JSON (a group is not a string key).
    Groups(#[serde(with = "pairs")] BTreeMap<GroupValue, State>),
}

/// A float that may be NaN or infinite (a column holding them): JSON has no
/// such numbers, so they are written as strings and read back.
mod float {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    pub(super) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            Repr::Number(*x)
        } else {
            Repr::Text(x.to_string())
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Number(x) => Ok(x),
            Repr::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A map with non-string keys as a list of pairs.
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub(super) fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub(super) fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Vec::<(K, V)>::deserialize(d).map(|v| v.into_iter().collect())
    }
}

/// The state of one set of rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// Additive counts (rows, values, hits, inside, NaN, infinite).
    counts: BTreeMap<Key, u64>,
    stat: Stat,
}

/// The part of a state that is not a count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stat {
    /// Nothing beyond the counts.
    #[default]
    Counts,
    Mean {
        n: u64,
        #[serde(with = "float")]
        mean: f64,
    },
    Moments {
        n: u64,
        #[serde(with = "float")]
        mean: f64,
        #[serde(with = "float")]
        m2: f64,
    },
    Sum {
        #[serde(with = "float")]
        sum: f64,
    },
    Min {
        min: Option<f64>,
    },
    Max {
        max: Option<f64>,
    },
    Distinct {
        values: BTreeSet<String>,
    },
    Quantile {
        q: f64,
        /// Serialised KLL sketch; empty for a state without values.
        sketch: Vec<u8>,
    },
}

/// Why two states cannot merge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("states of different checks cannot merge: {left} and {right}")]
    DifferentChecks { left: String, right: String },
    #[error("the KLL sketch of {check} could not be read or merged: {detail}")]
    Sketch { check: String, detail: String },
}

const COUNTED: [Key; 6] = [
    Key::Rows,
    Key::Values,
    Key::Hits,
    Key::Inside,
    Key::Nan,
    Key::Inf,
];

impl Dataset {
    /// Each expectation's mergeable state over this data set, in order
    /// (one pass, like [`evaluate`](Dataset::evaluate)); an error for a
    /// check that errored here (a missing column) or has no state that
    /// merges (duplicates, associations, schema checks).
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let january = Dataset::from_frame("jan", df!("Age" => [31.0, 45.0, 28.0]).unwrap());
    /// let february = Dataset::from_frame("feb", df!("Age" => [52.0, 39.0]).unwrap());
    /// let check = january.column("Age").std().at_most(15.0);
    /// let mut state = january.partials(check.clone()).remove(0).unwrap();
    /// state.merge(&february.partials(check).remove(0).unwrap()).unwrap();
    /// let merged = state.outcome(); // decided like `evaluate` on all five rows
    /// assert!((merged.observed.unwrap() - 9.874208829).abs() < 1e-6);
    /// let dup = january.partials(january.duplicates_on(["Age"]).at_most(0.0));
    /// assert!(dup[0].is_err());
    /// ```
    pub fn partials(
        &self,
        expectations: impl IntoExpectations,
    ) -> Vec<Result<Partial, CheckError>> {
        let expectations = expectations.into_expectations();
        if self.frame().height() == 0 {
            // An empty partition: nothing to measure, and nothing to add.
            return expectations.iter().map(Partial::empty).collect();
        }
        let mut ev = Evaluator::new(Table::from_frame(self.frame()), EvalOptions::default());
        ev.keep_sketches = true;
        let measured = ev.run_partial(&expectations);
        expectations
            .iter()
            .zip(measured)
            .map(|(e, m)| {
                mergeable(&e.metric)?;
                let (figures, sketches) = m?;
                let distinct = match &e.metric {
                    Metric::UniqueFraction { column } => ev.distinct_values(e, column)?,
                    _ => DistinctValues::new(),
                };
                Ok(Partial::of(e, &figures, &sketches, &distinct))
            })
            .collect()
    }
}

impl Partial {
    /// The state of no rows (what merging leaves unchanged), or why the
    /// check has none.
    fn empty(e: &Expectation) -> Result<Partial, CheckError> {
        mergeable(&e.metric)?;
        let shape = match e.segment {
            Segment::EachOf { .. } => Shape::Groups(BTreeMap::new()),
            _ => Shape::Flat(State::of(
                e,
                &FigureSet::default(),
                None,
                &Sketches::new(),
                &DistinctValues::new(),
            )),
        };
        Ok(Partial {
            expectation: e.clone(),
            shape,
        })
    }

    fn of(
        e: &Expectation,
        figures: &Figures,
        sketches: &Sketches,
        distinct: &DistinctValues,
    ) -> Partial {
        let shape = match figures {
            Figures::Flat(f) => Shape::Flat(State::of(e, f, None, sketches, distinct)),
            Figures::Groups(groups) => Shape::Groups(
                groups
                    .iter()
                    .map(|g| {
                        (
                            g.value.clone(),
                            State::of(e, &g.figures, Some(&g.value), sketches, distinct),
                        )
                    })
                    .collect(),
            ),
        };
        Partial {
            expectation: e.clone(),
            shape,
        }
    }

    /// Merges `other` (a state of the same check over other rows) into
    /// this one. Associative and commutative: partitions merge in any order
    /// and grouping.
    pub fn merge(&mut self, other: &Partial) -> Result<(), MergeError> {
        let same = self.expectation.metric == other.expectation.metric
            && self.expectation.segment == other.expectation.segment;
        if !same {
            return Err(MergeError::DifferentChecks {
                left: self.expectation.describe(),
                right: other.expectation.describe(),
            });
        }
        let check = self.expectation.describe();
        match (&mut self.shape, &other.shape) {
            (Shape::Flat(a), Shape::Flat(b)) => a.merge(b, &check),
            (Shape::Groups(a), Shape::Groups(b)) => {
                let mut merged = a.clone();
                for (g, s) in b {
                    match merged.get_mut(g) {
                        Some(acc) => acc.merge(s, &check)?,
                        None => {
                            merged.insert(g.clone(), s.clone());
                        }
                    }
                }
                *a = merged;
                Ok(())
            }
            _ => Err(MergeError::DifferentChecks {
                left: check.clone(),
                right: check,
            }),
        }
    }

    /// The check decided on the merged figures, as [`Dataset::evaluate`]
    /// decides the whole data's (without example rows: a state holds none).
    pub fn outcome(&self) -> CheckOutcome {
        let e = &self.expectation;
        let figures = match &self.shape {
            Shape::Flat(s) => s.figures().map(Figures::Flat),
            Shape::Groups(groups) => groups
                .iter()
                .map(|(value, s)| {
                    Ok(Group {
                        value: value.clone(),
                        figures: s.figures()?,
                    })
                })
                .collect::<Result<Vec<Group>, String>>()
                .map(Figures::Groups),
        };
        match figures {
            Ok(f) => decide::figures(e, &f),
            Err(why) => CheckOutcome::errored(
                e.clone(),
                CheckError::Invalid(format!("the merged state cannot be read: {why}")),
            ),
        }
    }
}

impl State {
    fn of(
        e: &Expectation,
        f: &FigureSet,
        group: Option<&GroupValue>,
        sketches: &Sketches,
        distinct: &DistinctValues,
    ) -> State {
        let counts = COUNTED
            .iter()
            .filter_map(|&k| f.get(k).map(|v| (k, v as u64)))
            .collect();
        let n = f.count(Key::Values);
        let stat = match &e.metric {
            Metric::Mean { .. } => Stat::Mean {
                n,
                mean: f.get(Key::Stat).unwrap_or(0.0),
            },
            Metric::Std { .. } => {
                let sd = f.get(Key::Stat).unwrap_or(0.0);
                Stat::Moments {
                    n,
                    mean: f.get(Key::Mean).unwrap_or(0.0),
                    // polars' sample deviation (ddof 1) back to M2.
                    m2: if n >= 2 {
                        sd * sd * (n - 1) as f64
                    } else {
                        0.0
                    },
                }
            }
            Metric::Sum { .. } => Stat::Sum {
                sum: f.get(Key::Stat).unwrap_or(0.0),
            },
            Metric::Min { .. } => Stat::Min {
                min: f.get(Key::Stat),
            },
            Metric::Max { .. } | Metric::Newest { .. } => Stat::Max {
                max: f.get(Key::Stat),
            },
            Metric::UniqueFraction { .. } => Stat::Distinct {
                values: distinct.get(&group.cloned()).cloned().unwrap_or_default(),
            },
            Metric::Quantile { q, .. } => Stat::Quantile {
                q: *q,
                sketch: sketches.get(&group.cloned()).cloned().unwrap_or_default(),
            },
            _ => Stat::Counts,
        };
        State { counts, stat }
    }

    /// All or nothing: on an error the state is as it was.
    fn merge(&mut self, other: &State, check: &str) -> Result<(), MergeError> {
        let stat = self.stat.clone().merge(&other.stat, check)?;
        for (k, v) in &other.counts {
            *self.counts.entry(*k).or_insert(0) += v;
        }
        self.stat = stat;
        Ok(())
    }

    /// The figures the engine would have measured over the merged rows.
    fn figures(&self) -> Result<FigureSet, String> {
        let mut f: FigureSet = self
            .counts
            .iter()
            .map(|(k, v)| (*k, Some(*v as f64)))
            .collect();
        let stat = match &self.stat {
            Stat::Counts => return Ok(f),
            Stat::Mean { n, mean } => (*n > 0).then_some(*mean),
            Stat::Moments { n, m2, .. } => (*n >= 2).then(|| (m2 / (*n - 1) as f64).sqrt()),
            Stat::Sum { sum } => Some(*sum),
            Stat::Min { min } => *min,
            Stat::Max { max } => *max,
            Stat::Distinct { values } => {
                f.extend(
                    [(Key::Distinct, Some(values.len() as f64))]
                        .into_iter()
                        .collect(),
                );
                return Ok(f);
            }
            Stat::Quantile { q, sketch } => {
                f.extend(super::engine::sketch_figures(sketch, *q)?);
                return Ok(f);
            }
        };
        f.extend([(Key::Stat, stat)].into_iter().collect());
        Ok(f)
    }
}

impl Stat {
    fn merge(self, other: &Stat, check: &str) -> Result<Stat, MergeError> {
        use Stat::*;
        let sketch_err = |detail: String| MergeError::Sketch {
            check: check.to_string(),
            detail,
        };
        Ok(match (self, other) {
            (Counts, Counts) => Counts,
            (Mean { n: na, mean: ma }, &Mean { n: nb, mean: mb }) => match (na, nb) {
                (_, 0) => Mean { n: na, mean: ma },
                (0, _) => Mean { n: nb, mean: mb },
                _ => {
                    let n = na + nb;
                    Mean {
                        n,
                        mean: ma + (mb - ma) * (nb as f64 / n as f64),
                    }
                }
            },
            (
                Moments {
                    n: na,
                    mean: ma,
                    m2: qa,
                },
                &Moments {
                    n: nb,
                    mean: mb,
                    m2: qb,
                },
            ) => match (na, nb) {
                (_, 0) => Moments {
                    n: na,
                    mean: ma,
                    m2: qa,
                },
                (0, _) => Moments {
                    n: nb,
                    mean: mb,
                    m2: qb,
                },
                _ => {
                    // Chan, Golub & LeVeque (1979): exact in real arithmetic
                    // and stable where the naive Σx² − n·m² is not.
                    let n = na + nb;
                    let delta = mb - ma;
                    let w = nb as f64 / n as f64;
                    Moments {
                        n,
                        mean: ma + delta * w,
                        m2: qa + qb + delta * delta * na as f64 * w,
                    }
                }
            },
            (Sum { sum: a }, Sum { sum: b }) => Sum { sum: a + b },
            (Min { min: a }, Min { min: b }) => Min {
                min: extreme(a, *b, f64::min),
            },
            (Max { max: a }, Max { max: b }) => Max {
                max: extreme(a, *b, f64::max),
            },
            (Distinct { mut values }, Distinct { values: b }) => {
                values.extend(b.iter().cloned());
                Distinct { values }
            }
            (Quantile { q, sketch: a }, Quantile { sketch: b, .. }) => Quantile {
                q,
                sketch: super::engine::merge_sketches(&a, b).map_err(sketch_err)?,
            },
            (a, b) => {
                return Err(sketch_err(format!(
                    "states of different kinds ({a:?} and {b:?})"
                )));
            }
        })
    }
}

/// An error for a metric without a state that merges.
pub(crate) fn mergeable(metric: &Metric) -> Result<(), CheckError> {
    match metric {
        Metric::DuplicateRows { .. }
        | Metric::MaxAssociation { .. }
        | Metric::Schema { .. }
        | Metric::SchemaChange { .. } => Err(super::engine::not_mergeable(metric)),
        _ => Ok(()),
    }
}

fn extreme(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(pick(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests;
