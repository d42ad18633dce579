//! The reference model's feature pipeline: standardised numeric columns,
//! one-hot categoricals with an "unknown" bucket, and hashed bag-of-words
//! of text columns. Fitted on training rows, stored in the card as JSON,
//! applied identically at training and prediction time.
//!
//! Rows become *sparse* vectors (index, value): prediction is a sparse dot
//! product, and training densifies them for linfa-logistic.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::ModelError;

/// A standardised numeric input: `(x - mean) / std`, missing → 0 (the mean).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericFeature {
    pub column: String,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

/// A one-hot categorical input; index `categories.len()` is "unknown"
/// (missing, or a value not seen in training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoricalFeature {
    pub column: String,
    pub categories: Vec<String>,
}

/// Hashed bag of words over text columns: lower-cased word tokens of two or
/// more characters (scikit-learn's default token pattern), FNV-1a 64 hashed
/// into `buckets`, counts l2-normalised per row (as scikit-learn's
/// `HashingVectorizer(alternate_sign=False, norm="l2")`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextFeature {
    pub columns: Vec<String>,
    pub buckets: usize,
}

/// The whole pipeline, in feature-index order: numeric, then each
/// categorical (its categories + unknown), then the text buckets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeaturePipeline {
    pub numeric: Vec<NumericFeature>,
    pub categorical: Vec<CategoricalFeature>,
    pub text: TextFeature,
}

/// A sparse row: (feature index, value), indices ascending within each block.
pub type SparseRow = Vec<(u32, f64)>;

impl FeaturePipeline {
    /// Number of features.
    pub fn width(&self) -> usize {
        self.numeric.len()
            + self
                .categorical
                .iter()
                .map(|c| c.categories.len() + 1)
                .sum::<usize>()
            + self.text.buckets
    }

    /// Learns means, deviations and categories from training rows. A NaN
    /// or infinite numeric value is an error naming the column.
    pub fn fit(
        frame: &DataFrame,
        numeric: &[&str],
        categorical: &[&str],
        text: &[&str],
        buckets: usize,
    ) -> Result<Self, ModelError> {
        let mut nums = Vec::new();
        for c in numeric {
            let values = numeric_values(frame, c)?;
            let present: Vec<f64> = values.iter().flatten().copied().collect();
            let bad = present.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                return Err(ModelError::NonFinite {
                    column: c.to_string(),
                    count: bad,
                });
            }
            if present.is_empty() {
                return Err(ModelError::Input(format!(
                    "numeric column {c:?} has no values"
                )));
            }
            let n = present.len() as f64;
            let mean = present.iter().sum::<f64>() / n;
            let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let std = if var > 0.0 { var.sqrt() } else { 1.0 };
            let min = present.iter().copied().fold(f64::INFINITY, f64::min);
            let max = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            nums.push(NumericFeature {
                column: c.to_string(),
                mean,
                std,
                min,
                max,
            });
        }
        let mut cats = Vec::new();
        for c in categorical {
            let values = text_values(frame, c)?;
            let mut seen: Vec<String> = values.iter().flatten().map(|s| s.to_string()).collect();
            seen.sort();
            seen.dedup();
            cats.push(CategoricalFeature {
                column: c.to_string(),
                categories: seen,
            });
        }
        for c in text {
            text_values(frame, c)?;
        }
        Ok(FeaturePipeline {
            numeric: nums,
            categorical: cats,
            text: TextFeature {
                columns: text.iter().map(|s| s.to_string()).collect(),
                buckets,
            },
        })
    }

    /// Sparse feature rows for a frame.
    pub fn transform(&self, frame: &DataFrame) -> Result<Vec<SparseRow>, ModelError> {
        let n = frame.height();
        let mut rows: Vec<SparseRow> = vec![Vec::new(); n];
        let mut offset = 0u32;
        for f in &self.numeric {
            let values = numeric_values(frame, &f.column)?;
            for (i, v) in values.iter().enumerate() {
                match v {
                    Some(x) if !x.is_finite() => {
                        return Err(ModelError::NonFinite {
                            column: f.column.clone(),
                            count: values.iter().flatten().filter(|x| !x.is_finite()).count(),
                        });
                    }
                    Some(x) => rows[i].push((offset, (x - f.mean) / f.std)),
                    None => {}
                }
            }
            offset += 1;
        }
        for f in &self.categorical {
            let values = text_values(frame, &f.column)?;
            let unknown = f.categories.len() as u32;
            for (i, v) in values.iter().enumerate() {
                let idx = v
                    .and_then(|s| f.categories.binary_search_by(|c| c.as_str().cmp(s)).ok())
                    .map_or(unknown, |k| k as u32);
                rows[i].push((offset + idx, 1.0));
            }
            offset += unknown + 1;
        }
        let columns = self.text_columns(frame)?;
        // Per row: bucket ids of every token, sorted and run-length counted
        // (cheaper than a map for the ~60 tokens of a review).
        let mut buckets: Vec<u32> = Vec::new();
        for (i, row) in rows.iter_mut().enumerate() {
            buckets.clear();
            for col in &columns {
                if let Some(text) = col[i] {
                    let of = BucketOf::new(self.text.buckets);
                    for_each_token_hash(text, |h| buckets.push(offset + of.bucket(h) as u32));
                }
            }
            buckets.sort_unstable();
            let start = row.len();
            let mut k = 0;
            while k < buckets.len() {
                let b = buckets[k];
                let run = buckets[k..].iter().take_while(|x| **x == b).count();
                row.push((b, run as f64));
                k += run;
            }
            let norm = row[start..].iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                for (_, v) in &mut row[start..] {
                    *v /= norm;
                }
            }
        }
        Ok(rows)
    }

    /// `intercept + weights · features(row)` for every row of `frame`,
    /// without building the sparse rows: numeric and one-hot terms are
    /// added column by column, and a row's text term is `Σ w[bucket]` over
    /// its tokens divided by the l2 norm of its bucket counts, which equals
    /// the sparse dot product of [`transform`](Self::transform)'s row (to
    /// rounding: the terms are summed per token, not per bucket). The
    /// counts live in one array per call, reset bucket by bucket, so a row
    /// costs its tokens and allocates nothing.
    pub fn margins(
        &self,
        frame: &DataFrame,
        weights: &[f64],
        intercept: f64,
    ) -> Result<Vec<f64>, ModelError> {
        if weights.len() != self.width() {
            return Err(ModelError::Input(format!(
                "{} weights for {} features",
                weights.len(),
                self.width()
            )));
        }
        let mut z = vec![intercept; frame.height()];
        let mut offset = 0usize;
        for f in &self.numeric {
            let values = numeric_values(frame, &f.column)?;
            let bad = values.iter().flatten().filter(|x| !x.is_finite()).count();
            if bad > 0 {
                return Err(ModelError::NonFinite {
                    column: f.column.clone(),
                    count: bad,
                });
            }
            let w = weights[offset];
            for (zi, v) in z.iter_mut().zip(&values) {
                if let Some(x) = v {
                    *zi += w * ((x - f.mean) / f.std);
                }
            }
            offset += 1;
        }
        for f in &self.categorical {
            let values = text_values(frame, &f.column)?;
            let unknown = f.categories.len();
            for (zi, v) in z.iter_mut().zip(&values) {
                let idx = v
                    .and_then(|s| f.categories.binary_search_by(|c| c.as_str().cmp(s)).ok())
                    .unwrap_or(unknown);
                *zi += weights[offset + idx];
            }
            offset += unknown + 1;
        }
        let columns = self.text_columns(frame)?;
        let buckets = self.text.buckets.max(1);
        let text_weights = &weights[offset..offset + self.text.buckets];
        // A row's bucket counts live in a small open-addressing table (a
        // review has ~60 tokens; 1,024 slots are 8 KB), cleared slot by slot
        // after the row and doubled when half full: memory per call stays
        // small whatever the width, where an array of every bucket is 256 KB
        // at 2^16 (allocating it per call was 12% of a robustness run, in
        // page faults). Both scored ~740k reviews/s on one core.
        let of = BucketOf::new(buckets);
        let mut table = CountTable::new(1024);
        for (i, zi) in z.iter_mut().enumerate() {
            let (mut wsum, mut sumsq) = (0.0f64, 0u64);
            for col in &columns {
                if let Some(text) = col[i] {
                    for_each_token_hash(text, |h| {
                        let b = of.bucket(h);
                        let k = table.increment(b as u32);
                        // (k + 1)² − k²: the squared norm grows by 2k + 1.
                        sumsq += 2 * u64::from(k) + 1;
                        wsum += text_weights[b];
                    });
                }
            }
            table.clear();
            if sumsq > 0 {
                *zi += wsum / (sumsq as f64).sqrt();
            }
        }
        Ok(z)
    }

    /// The text columns' values, by column then row.
    fn text_columns<'a>(
        &self,
        frame: &'a DataFrame,
    ) -> Result<Vec<Vec<Option<&'a str>>>, ModelError> {
        self.text
            .columns
            .iter()
            .map(|c| text_values(frame, c))
            .collect()
    }

    /// Human names of the features (for reports and the card).
    pub fn feature_name(&self, index: usize) -> String {
        let mut i = index;
        for f in &self.numeric {
            if i == 0 {
                return f.column.clone();
            }
            i -= 1;
        }
        for f in &self.categorical {
            if i <= f.categories.len() {
                return match f.categories.get(i) {
                    Some(c) => format!("{}={c}", f.column),
                    None => format!("{}=<unknown>", f.column),
                };
            }
            i -= f.categories.len() + 1;
        }
        format!("text[{i}]")
    }
}

/// Lower-cased runs of word characters, two or more long (`\b\w\w+\b`).
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| t.chars().nth(1).is_some())
        .map(str::to_lowercase)
}

/// Bucket → count for one row: linear probing over a power-of-two table
/// of `(bucket + 1, count)` (0 marks an empty slot), with the used slots
/// listed so clearing costs the row's tokens, not the table.
struct CountTable {
    slots: Vec<(u32, u32)>,
    used: Vec<u32>,
}

impl CountTable {
    fn new(capacity: usize) -> Self {
        CountTable {
            slots: vec![(0, 0); capacity.next_power_of_two()],
            used: Vec::with_capacity(capacity / 2),
        }
    }

    /// Adds one to `bucket`'s count; returns the count before.
    #[inline]
    fn increment(&mut self, bucket: u32) -> u32 {
        if self.used.len() * 2 >= self.slots.len() {
            self.grow();
        }
        let key = bucket + 1;
        let at = self.slot_of(key);
        let slot = &mut self.slots[at];
        if slot.0 == 0 {
            *slot = (key, 0);
            self.used.push(at as u32);
        }
        slot.1 += 1;
        slot.1 - 1
    }

    /// The slot holding `key`, or the empty slot where it goes.
    #[inline]
    fn slot_of(&self, key: u32) -> usize {
        let mask = self.slots.len() - 1;
        // Fibonacci hashing spreads neighbouring buckets over the table.
        let mut at = (u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & mask;
        while self.slots[at].0 != key && self.slots[at].0 != 0 {
            at = (at + 1) & mask;
        }
        at
    }

    fn clear(&mut self) {
        for &at in &self.used {
            self.slots[at as usize] = (0, 0);
        }
        self.used.clear();
    }

    fn grow(&mut self) {
        let old: Vec<(u32, u32)> = self
            .used
            .iter()
            .map(|&at| self.slots[at as usize])
            .collect();
        *self = CountTable::new(self.slots.len() * 2);
        for entry in old {
            let at = self.slot_of(entry.0);
            self.slots[at] = entry;
            self.used.push(at as u32);
        }
    }
}

/// `hash % buckets`, as a mask when `buckets` is a power of two (every
/// default): a 64-bit division costs ~40 cycles, a review ~60 tokens, and
/// the division was a third of a prediction's time.
#[derive(Clone, Copy)]
struct BucketOf {
    buckets: u64,
    mask: Option<u64>,
}

impl BucketOf {
    fn new(buckets: usize) -> Self {
        let buckets = buckets.max(1) as u64;
        BucketOf {
            buckets,
            mask: buckets.is_power_of_two().then(|| buckets - 1),
        }
    }

    #[inline]
    fn bucket(self, h: u64) -> usize {
        match self.mask {
            Some(m) => (h & m) as usize,
            None => (h % self.buckets) as usize,
        }
    }
}

/// FNV-1a 64 of the token, modulo the bucket count. Fixed and
/// platform-independent, so stored models hash identically everywhere.
pub fn hash_token(token: &str, buckets: usize) -> u32 {
    (crate::hash::fnv1a(token.as_bytes().iter().copied()) % buckets.max(1) as u64) as u32
}

/// Calls `f` with the FNV-1a hash of every token of [`tokens`], without
/// allocating. ASCII text (almost every review) is scanned byte by byte:
/// a token is a run of `[A-Za-z0-9_]`, hashed lower-cased as it is read, so
/// the hashes equal `hash_token`'s of `str::to_lowercase`. Other text goes
/// through the `char` definition.
pub(crate) fn for_each_token_hash(text: &str, mut f: impl FnMut(u64)) {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    if text.is_ascii() {
        let (mut h, mut len) = (OFFSET, 0usize);
        for &b in text.as_bytes() {
            if b.is_ascii_alphanumeric() || b == b'_' {
                h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(PRIME);
                len += 1;
            } else {
                if len >= 2 {
                    f(h);
                }
                h = OFFSET;
                len = 0;
            }
        }
        if len >= 2 {
            f(h);
        }
        return;
    }
    for t in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if t.chars().nth(1).is_none() {
            continue;
        }
        f(crate::hash::fnv1a(t.to_lowercase().bytes()));
    }
}

fn numeric_values(frame: &DataFrame, column: &str) -> Result<Vec<Option<f64>>, ModelError> {
    let c = frame
        .column(column)
        .map_err(|_| ModelError::MissingColumn {
            column: column.to_string(),
            available: frame
                .get_column_names()
                .iter()
                .map(|c| format!("{:?}", c.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    if !(c.dtype().is_integer() || c.dtype().is_float()) {
        return Err(ModelError::Input(format!(
            "column {column:?} is {}, expected numeric",
            c.dtype()
        )));
    }
    let f = c
        .cast(&DataType::Float64)
        .map_err(|e| ModelError::Input(format!("column {column:?}: {e}")))?;
    Ok(f.f64()
        .map_err(|e| ModelError::Input(e.to_string()))?
        .iter()
        .collect())
}

fn text_values<'a>(frame: &'a DataFrame, column: &str) -> Result<Vec<Option<&'a str>>, ModelError> {
    let c = frame
        .column(column)
        .map_err(|_| ModelError::MissingColumn {
            column: column.to_string(),
            available: frame
                .get_column_names()
                .iter()
                .map(|c| format!("{:?}", c.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let s = c.str().map_err(|_| {
        ModelError::Input(format!("column {column:?} is {}, expected text", c.dtype()))
    })?;
    Ok(s.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_token_hashes_equal_the_allocating_definition() {
        let text = "Love THIS dress!! it's über-cute, 5'4\" & a_b x Ωmega ΣΑΣ";
        let mut fast = Vec::new();
        for_each_token_hash(text, |h| fast.push(h % 1024));
        let slow: Vec<u64> = tokens(text)
            .map(|t| u64::from(hash_token(&t, 1024)))
            .collect();
        assert_eq!(fast, slow);
        assert_eq!(tokens("I love it, 5'4").collect::<Vec<_>>(), ["love", "it"]);
    }

    #[test]
    fn the_count_table_counts_like_a_map_and_grows() {
        let mut t = CountTable::new(4);
        let mut map = std::collections::HashMap::new();
        let mut rng = crate::rng::SplitMix64::new(5);
        for _ in 0..3 {
            for _ in 0..500 {
                let b = rng.below(300) as u32;
                let before = map.get(&b).copied().unwrap_or(0u32);
                assert_eq!(t.increment(b), before);
                map.insert(b, before + 1);
            }
            t.clear();
            map.clear();
        }
    }

    /// The fused scorer equals the sparse dot product of `transform`'s rows,
    /// for power-of-two and other widths, long texts (the table grows) and
    /// missing values.
    #[test]
    fn margins_equal_the_dot_product_of_the_transformed_rows() {
        let mut frame = crate::data::generator::ReviewsSpec::new(400, 3)
            .generate()
            .unwrap();
        let long =
            "word ".repeat(3_000) + &(0..2_000).map(|i| format!("w{i} ")).collect::<String>();
        let mut text: Vec<Option<String>> = frame
            .column("Review Text")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect();
        text[0] = Some(long);
        text[1] = None;
        frame
            .replace(
                "Review Text",
                Series::new("Review Text".into(), text).into_column(),
            )
            .unwrap();
        for buckets in [64, 1000, 1 << 16] {
            let p = FeaturePipeline::fit(
                &frame,
                &["Age"],
                &["Department Name"],
                &["Title", "Review Text"],
                buckets,
            )
            .unwrap();
            let mut rng = crate::rng::SplitMix64::new(buckets as u64);
            let w: Vec<f64> = (0..p.width()).map(|_| rng.unit() - 0.5).collect();
            let fused = p.margins(&frame, &w, 0.25).unwrap();
            for (i, row) in p.transform(&frame).unwrap().iter().enumerate() {
                let dot = row.iter().fold(0.25, |a, (j, v)| a + w[*j as usize] * v);
                assert!(
                    (fused[i] - dot).abs() <= 1e-9 * (1.0 + dot.abs()),
                    "buckets {buckets}, row {i}: {} vs {dot}",
                    fused[i]
                );
            }
        }
    }
}
