//! What a drift statistic needs from one side of a comparison: value counts
//! (exact, so KS and Wasserstein equal scipy's), a binned histogram for PSI,
//! category counts, text lengths and vocabulary. One summary per column and
//! side, computed from raw rows or read from a committed profile.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};

use super::DriftError;

/// Numeric columns with at most this many distinct values keep exact counts.
pub const EXACT_MAX_DISTINCT: usize = 1000;

/// FxHash (rustc's hasher): counting keys is the hot loop of a drift
/// summary, and std's SipHash costs several times more per key. Keys are
/// data values, not attacker-chosen, so DoS resistance buys nothing here.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u8(&mut self, b: u8) {
        self.write_u64(u64::from(b));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// Distinct values in ascending order with their counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueCounts {
    pub values: Vec<f64>,
    pub counts: Vec<u64>,
}

impl ValueCounts {
    /// Counts of a sample (any order). NaNs must have been rejected before.
    /// Counting in a hash map and sorting only the distinct values is linear
    /// in the sample for the low-cardinality columns drift usually sees.
    pub fn from_sample(sample: Vec<f64>) -> Self {
        let mut counts: FastMap<u64, u64> = FastMap::default();
        for v in sample {
            // -0.0 == 0.0: one key for both, as a sort-and-compare would.
            let v = if v == 0.0 { 0.0 } else { v };
            *counts.entry(v.to_bits()).or_default() += 1;
        }
        let mut pairs: Vec<(f64, u64)> = counts
            .into_iter()
            .map(|(bits, c)| (f64::from_bits(bits), c))
            .collect();
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        ValueCounts {
            values: pairs.iter().map(|p| p.0).collect(),
            counts: pairs.iter().map(|p| p.1).collect(),
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Merges `other` (the counts of other rows of the same column): equal
    /// values add, the result stays in ascending order. Exact, associative
    /// and commutative, so partitions' counts merge into the whole's.
    ///
    /// ```
    /// use mltest_core::drift::summary::ValueCounts;
    /// let mut a = ValueCounts::from_sample(vec![1.0, 3.0, 3.0]);
    /// a.merge(&ValueCounts::from_sample(vec![2.0, 3.0]));
    /// assert_eq!(a, ValueCounts::from_sample(vec![1.0, 3.0, 3.0, 2.0, 3.0]));
    /// ```
    pub fn merge(&mut self, other: &ValueCounts) {
        let (mut values, mut counts) = (
            Vec::with_capacity(self.values.len() + other.values.len()),
            Vec::with_capacity(self.values.len() + other.values.len()),
        );
        let (mut i, mut j) = (0, 0);
        while i < self.values.len() || j < other.values.len() {
            let take = match (self.values.get(i), other.values.get(j)) {
                (Some(a), Some(b)) => a.total_cmp(b),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match take {
                std::cmp::Ordering::Less => {
                    values.push(self.values[i]);
                    counts.push(self.counts[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    values.push(other.values[j]);
                    counts.push(other.counts[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    values.push(self.values[i]);
                    counts.push(self.counts[i] + other.counts[j]);
                    i += 1;
                    j += 1;
                }
            }
        }
        self.values = values;
        self.counts = counts;
    }

    /// Mean and population standard deviation (ddof = 0, as `np.std`).
    pub fn mean_std(&self) -> (f64, f64) {
        mean_std(&self.values, &self.counts)
    }

    /// The `q` quantile with numpy's default linear interpolation.
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.total();
        if n == 0 {
            return f64::NAN;
        }
        let pos = q * (n - 1) as f64;
        let (lo, hi) = (pos.floor() as u64, pos.ceil() as u64);
        let at = |rank: u64| {
            let mut seen = 0;
            for (v, c) in self.values.iter().zip(&self.counts) {
                seen += c;
                if rank < seen {
                    return *v;
                }
            }
            *self.values.last().unwrap_or(&f64::NAN)
        };
        let (a, b) = (at(lo), at(hi));
        a + (b - a) * (pos - lo as f64)
    }
}

pub(crate) fn mean_std(values: &[f64], counts: &[u64]) -> (f64, f64) {
    let n: f64 = counts.iter().map(|&c| c as f64).sum();
    if n == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = values
        .iter()
        .zip(counts)
        .map(|(v, &c)| v * c as f64)
        .sum::<f64>()
        / n;
    let var = values
        .iter()
        .zip(counts)
        .map(|(v, &c)| (v - mean).powi(2) * c as f64)
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// Counts of a numeric column over bins `(-inf, e0], (e0, e1], …, (e_last, inf)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Bins the counts over the given edges.
    pub fn of(counts: &ValueCounts, edges: &[f64]) -> Self {
        let mut out = vec![0u64; edges.len() + 1];
        for (v, c) in counts.values.iter().zip(&counts.counts) {
            let bin = edges.partition_point(|e| e < v);
            out[bin] += c;
        }
        Histogram {
            edges: edges.to_vec(),
            counts: out,
        }
    }
}

/// How PSI bins a numeric column, from the reference side: one bin per
/// value when the reference has at most 20 distinct values, else the
/// reference deciles (the credit-scoring convention PSI comes from, and
/// Evidently's default of 10 bins). Ties merge edges, so a bin is never empty
/// by construction.
pub fn psi_edges(reference: &ValueCounts) -> Vec<f64> {
    if reference.values.len() <= 20 {
        let mut e = reference.values.clone();
        e.pop();
        return e;
    }
    let mut edges: Vec<f64> = (1..10)
        .map(|d| reference.quantile(d as f64 / 10.0))
        .collect();
    edges.dedup();
    edges
}

/// One side of one numeric column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Non-null rows.
    pub rows: u64,
    pub nulls: u64,
    pub mean: f64,
    pub std: f64,
    /// 0%, 5%, 25%, 50%, 75%, 95%, 100% quantiles.
    pub quantiles: Vec<f64>,
    /// Exact value counts; a profile keeps them only up to a size limit,
    /// and KS/Wasserstein need them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exact: Option<ValueCounts>,
    /// Bins for PSI (edges from the reference side).
    pub histogram: Histogram,
}

pub const QUANTILES: [f64; 7] = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0];

impl NumericSummary {
    pub fn from_counts(counts: ValueCounts, nulls: u64, edges: &[f64]) -> Self {
        let (mean, std) = counts.mean_std();
        NumericSummary {
            rows: counts.total(),
            nulls,
            mean,
            std,
            quantiles: QUANTILES.iter().map(|&q| counts.quantile(q)).collect(),
            histogram: Histogram::of(&counts, edges),
            exact: Some(counts),
        }
    }

    /// `mean 43.2, sd 12.3, median 41 (5%–95%: 26–65)`.
    pub fn describe(&self) -> String {
        let q = |i: usize| self.quantiles.get(i).copied().unwrap_or(f64::NAN);
        format!(
            "mean {}, sd {}, median {} (5%–95%: {}–{})",
            crate::text::fig(self.mean),
            crate::text::fig(self.std),
            crate::text::fig(q(3)),
            crate::text::fig(q(1)),
            crate::text::fig(q(5)),
        )
    }
}

/// One side of one categorical column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoricalSummary {
    pub rows: u64,
    pub nulls: u64,
    pub counts: BTreeMap<String, u64>,
}

impl CategoricalSummary {
    /// Merges the summary of other rows of the same column: rows, missing
    /// values and every category's count add (exact).
    ///
    /// ```
    /// use mltest_core::drift::summary::CategoricalSummary;
    /// let one = |c: &[(&str, u64)], nulls| CategoricalSummary {
    ///     rows: c.iter().map(|x| x.1).sum::<u64>() + nulls,
    ///     nulls,
    ///     counts: c.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
    /// };
    /// let mut a = one(&[("Tops", 3), ("Dresses", 1)], 1);
    /// a.merge(&one(&[("Tops", 2), ("Jackets", 4)], 0));
    /// assert_eq!(a, one(&[("Tops", 5), ("Dresses", 1), ("Jackets", 4)], 1));
    /// ```
    pub fn merge(&mut self, other: &CategoricalSummary) {
        self.rows += other.rows;
        self.nulls += other.nulls;
        for (k, n) in &other.counts {
            *self.counts.entry(k.clone()).or_insert(0) += n;
        }
    }

    /// `Tops 44.6%, Dresses 27.0%, Bottoms 16.3% (+3 more)`.
    pub fn describe(&self) -> String {
        let mut top: Vec<(&String, &u64)> = self.counts.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = top
            .iter()
            .take(3)
            .map(|(k, c)| format!("{k} {:.1}%", 100.0 * **c as f64 / self.rows.max(1) as f64))
            .collect();
        let more = top.len().saturating_sub(3);
        if more > 0 {
            format!("{} (+{more} more)", shown.join(", "))
        } else {
            shown.join(", ")
        }
    }
}

/// One side of one text column: the length distribution and the vocabulary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextSummary {
    pub rows: u64,
    pub nulls: u64,
    /// Characters per value.
    pub lengths: NumericSummary,
    /// Token occurrences (lower-cased words of two or more characters, the
    /// reference model's tokenizer).
    pub tokens: u64,
    /// Words seen at least twice, the vocabulary OOV is measured against;
    /// words seen once are mostly typos and would make the vocabulary grow
    /// with the sample.
    pub vocabulary: Vec<String>,
    /// Token occurrences of words outside `vocabulary` (seen once).
    pub rare_tokens: u64,
    /// Token occurrences per word (raw side only; profiles keep the vocabulary).
    #[serde(skip)]
    pub token_counts: HashMap<String, u64>,
}

/// The summary of one column on one side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Summary {
    Numeric(NumericSummary),
    Categorical(CategoricalSummary),
    Text(TextSummary),
}

/// Value counts of a column's non-null values, with the null count. A NaN is an
/// error: it would silently fall out of every statistic.
pub fn numeric_counts(
    frame: &DataFrame,
    side: &str,
    column: &str,
) -> Result<(ValueCounts, u64), DriftError> {
    let col = super::frame_column(frame, side, column)?;
    if !col.dtype().is_primitive_numeric() && col.dtype() != &DataType::Boolean {
        return Err(DriftError::Column {
            side: side.to_string(),
            column: column.to_string(),
            why: format!(
                "is {}, not numeric; declare it with `.categorical(..)` or `.text(..)`",
                col.dtype()
            ),
        });
    }
    if col.dtype().is_integer() {
        // Counted as integers: no float cast, no intermediate vector.
        let cast = col
            .cast(&DataType::Int64)
            .map_err(|e| DriftError::polars(side, column, e))?;
        let ca = cast
            .i64()
            .map_err(|e| DriftError::polars(side, column, e))?;
        let mut counts: FastMap<i64, u64> = FastMap::default();
        for v in ca.iter().flatten() {
            *counts.entry(v).or_default() += 1;
        }
        let mut pairs: Vec<(i64, u64)> = counts.into_iter().collect();
        pairs.sort_unstable();
        let counts = ValueCounts {
            values: pairs.iter().map(|p| p.0 as f64).collect(),
            counts: pairs.iter().map(|p| p.1).collect(),
        };
        return Ok((counts, ca.null_count() as u64));
    }
    let cast = col
        .cast(&DataType::Float64)
        .map_err(|e| DriftError::polars(side, column, e))?;
    let ca = cast
        .f64()
        .map_err(|e| DriftError::polars(side, column, e))?;
    let nulls = ca.null_count() as u64;
    let values: Vec<f64> = ca.iter().flatten().collect();
    let nans = values.iter().filter(|v| v.is_nan()).count();
    if nans > 0 {
        return Err(DriftError::Column {
            side: side.to_string(),
            column: column.to_string(),
            why: format!(
                "holds {nans} NaN values; drop or impute them before comparing distributions"
            ),
        });
    }
    Ok((ValueCounts::from_sample(values), nulls))
}

/// Category counts of a column (any dtype, compared as text).
pub fn categorical(
    frame: &DataFrame,
    side: &str,
    column: &str,
) -> Result<CategoricalSummary, DriftError> {
    let col = super::frame_column(frame, side, column)?;
    if col.dtype().is_integer() {
        // Integer categories (a 1-5 rating): count the numbers, format only
        // the distinct ones.
        let cast = col
            .cast(&DataType::Int64)
            .map_err(|e| DriftError::polars(side, column, e))?;
        let ca = cast
            .i64()
            .map_err(|e| DriftError::polars(side, column, e))?;
        let mut counts: FastMap<i64, u64> = FastMap::default();
        let mut nulls = 0;
        for v in ca.iter() {
            match v {
                Some(v) => *counts.entry(v).or_default() += 1,
                None => nulls += 1,
            }
        }
        let counts: BTreeMap<String, u64> = counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        return Ok(CategoricalSummary {
            rows: counts.values().sum(),
            nulls,
            counts,
        });
    }
    let cast = col
        .cast(&DataType::String)
        .map_err(|e| DriftError::polars(side, column, e))?;
    let ca = cast
        .str()
        .map_err(|e| DriftError::polars(side, column, e))?;
    let mut counts: FastMap<&str, u64> = FastMap::default();
    let mut nulls = 0;
    for v in ca.iter() {
        match v {
            Some(v) => *counts.entry(v).or_default() += 1,
            None => nulls += 1,
        }
    }
    let counts: BTreeMap<String, u64> = counts
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Ok(CategoricalSummary {
        rows: counts.values().sum(),
        nulls,
        counts,
    })
}

/// Lengths and tokens of a text column.
pub fn text(
    frame: &DataFrame,
    side: &str,
    column: &str,
    length_edges: Option<&[f64]>,
) -> Result<TextSummary, DriftError> {
    let col = super::frame_column(frame, side, column)?;
    let ca = col.str().map_err(|_| DriftError::Column {
        side: side.to_string(),
        column: column.to_string(),
        why: format!("is {}, not text", col.dtype()),
    })?;
    let mut lengths = Vec::with_capacity(ca.len());
    let mut token_counts: HashMap<String, u64> = HashMap::new();
    let mut nulls = 0;
    for v in ca.iter() {
        let Some(v) = v else {
            nulls += 1;
            continue;
        };
        lengths.push(v.chars().count() as f64);
        for t in crate::model::tokens(v) {
            *token_counts.entry(t).or_default() += 1;
        }
    }
    let counts = ValueCounts::from_sample(lengths);
    let edges = length_edges.map_or_else(|| psi_edges(&counts), <[f64]>::to_vec);
    let tokens = token_counts.values().sum();
    let rare_tokens = token_counts.values().filter(|&&c| c < 2).sum();
    let mut vocabulary: Vec<String> = token_counts
        .iter()
        .filter(|(_, c)| **c >= 2)
        .map(|(k, _)| k.clone())
        .collect();
    vocabulary.sort();
    Ok(TextSummary {
        rows: counts.total(),
        nulls,
        lengths: NumericSummary::from_counts(counts, nulls, &edges),
        tokens,
        vocabulary,
        rare_tokens,
        token_counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_counts_and_quantiles_match_numpy() {
        let c = ValueCounts::from_sample(vec![3.0, 1.0, 2.0, 2.0, 10.0]);
        assert_eq!(c.values, vec![1.0, 2.0, 3.0, 10.0]);
        assert_eq!(c.counts, vec![1, 2, 1, 1]);
        // np.quantile([1,2,2,3,10], [0.5, 0.9]) -> 2.0, 7.2
        assert_eq!(c.quantile(0.5), 2.0);
        assert!((c.quantile(0.9) - 7.2).abs() < 1e-12);
        let (m, s) = c.mean_std();
        assert!((m - 3.6).abs() < 1e-12 && (s - 3.2619012860600183).abs() < 1e-12);
    }

    proptest::proptest! {
        /// Counts of k random partitions merged in any order equal the
        /// counts of the whole sample, exactly.
        #[test]
        fn value_counts_of_partitions_merge_into_the_whole(
            sample in proptest::collection::vec(-20i32..20, 0..300),
            k in 1usize..=16,
            assign in proptest::collection::vec(0usize..16, 300),
        ) {
            let sample: Vec<f64> = sample.into_iter().map(|v| f64::from(v) / 4.0).collect();
            let whole = ValueCounts::from_sample(sample.clone());
            let mut parts = vec![Vec::new(); k];
            for (v, a) in sample.iter().zip(&assign) {
                parts[a % k].push(*v);
            }
            let mut merged = ValueCounts::default();
            for p in parts.into_iter().rev() {
                merged.merge(&ValueCounts::from_sample(p));
            }
            proptest::prop_assert_eq!(&merged, &whole);
            proptest::prop_assert_eq!(merged.quantile(0.3).to_bits(), whole.quantile(0.3).to_bits());
        }
    }

    #[test]
    fn histogram_bins_are_right_closed() {
        let c = ValueCounts::from_sample(vec![1.0, 2.0, 2.0, 3.0, 4.0]);
        let h = Histogram::of(&c, &[2.0, 3.0]);
        assert_eq!(h.counts, vec![3, 1, 1]);
    }
}
