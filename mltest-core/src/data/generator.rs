//! A seeded generator of reviews-like data whose properties are parameters,
//! so tests can assert exact observed values.
//!
//! Every property is *allocated*, not sampled: a null rate of 5% in Dresses
//! nulls exactly `round(0.05 × rows in Dresses)` rows, and department sizes
//! are exact shares of the row count. The accessors on [`ReviewsSpec`]
//! (`department_rows`, `null_rows`, ...) compute the ground truth from the
//! parameters alone, independently of the engine under test.
//!
//! The random stream is a fixed SplitMix64, so a seed gives the same rows on
//! every platform and every version of every dependency.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// Departments of the real reviews data with their classes and shares.
pub const DEPARTMENTS: [(&str, &[&str], f64); 6] = [
    (
        "Tops",
        &["Knits", "Blouses", "Sweaters", "Fine gauge"],
        0.446,
    ),
    ("Dresses", &["Dresses"], 0.269),
    ("Bottoms", &["Pants", "Jeans", "Skirts", "Shorts"], 0.161),
    (
        "Intimate",
        &["Intimates", "Lounge", "Sleep", "Swim", "Legwear"],
        0.074,
    ),
    ("Jackets", &["Jackets", "Outerwear"], 0.044),
    ("Trend", &["Trend"], 0.006),
];

/// The generated columns, in the order of the real file.
pub const COLUMNS: [&str; 11] = [
    "",
    "Clothing ID",
    "Age",
    "Title",
    "Review Text",
    "Rating",
    "Recommended IND",
    "Positive Feedback Count",
    "Division Name",
    "Department Name",
    "Class Name",
];

/// The words that speak for a recommendation (16% of a text's words are
/// sentiment words; 85% of those agree with the label): public so that a
/// test can score the generator's exact posterior.
pub const POSITIVE: &[&str] = &[
    "love",
    "perfect",
    "beautiful",
    "comfortable",
    "flattering",
    "soft",
    "great",
    "gorgeous",
    "cute",
    "lovely",
    "fits",
    "recommend",
    "favorite",
    "elegant",
    "happy",
];
/// The words that speak against one (see [`POSITIVE`]).
pub const NEGATIVE: &[&str] = &[
    "returned",
    "cheap",
    "itchy",
    "tight",
    "disappointed",
    "unflattering",
    "thin",
    "boxy",
    "scratchy",
    "poor",
    "huge",
    "sadly",
    "ripped",
    "wrong",
    "awful",
];
const NEUTRAL: &[&str] = &[
    "the", "dress", "top", "color", "fabric", "size", "i", "it", "was", "is", "a", "and",
    "ordered", "small", "medium", "length", "waist", "in", "store", "online", "petite", "wear",
    "with", "for", "my", "this", "on", "me", "material", "sleeves",
];

/// Nulls in `column`, for rows of `department` (or all rows), at an exact rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NullRule {
    pub column: String,
    pub department: Option<String>,
    pub fraction: f64,
}

/// Parameters of a generated reviews-like data set.
///
/// ```
/// use mltest_core::data::generator::ReviewsSpec;
/// let spec = ReviewsSpec::new(1_000, 42).null_rate("Age", Some("Dresses"), 0.10);
/// let frame = spec.generate().unwrap();
/// assert_eq!(frame.height(), 1_000);
/// assert_eq!(spec.department_rows("Dresses"), 269);
/// assert_eq!(spec.null_rows("Age", Some("Dresses")), 27);
/// assert_eq!(frame.column("Age").unwrap().null_count(), 27);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewsSpec {
    pub rows: usize,
    pub seed: u64,
    /// Mean and standard deviation of Age (clipped to 18..=99, rounded).
    pub age_mean: f64,
    pub age_sd: f64,
    /// Age shift per department (added before clipping), for drift tests.
    pub age_shift: Vec<(String, f64)>,
    /// Exact share of `Recommended IND == 1`.
    pub recommend_rate: f64,
    pub nulls: Vec<NullRule>,
    /// Exact copies of earlier rows appended at the end.
    pub duplicate_rows: usize,
    /// A column `name` equal to the label with `noise` of its values flipped.
    pub leak: Option<(String, f64)>,
    /// Words per review (min, max).
    pub review_words: (usize, usize),
}

impl ReviewsSpec {
    /// `rows` rows from `seed`, shaped like the real data: departments in
    /// the real shares, Age ~ N(43, 12), 82% recommended, no nulls.
    pub fn new(rows: usize, seed: u64) -> Self {
        ReviewsSpec {
            rows,
            seed,
            age_mean: 43.0,
            age_sd: 12.0,
            age_shift: Vec::new(),
            recommend_rate: 0.82,
            nulls: Vec::new(),
            duplicate_rows: 0,
            leak: None,
            review_words: (8, 60),
        }
    }

    /// The stand-in for the real reviews file: its size, shares, and its
    /// empty titles (16%) and reviews (3.6%).
    pub fn reviews_like(seed: u64) -> Self {
        ReviewsSpec::new(23_486, seed)
            .null_rate("Title", None, 3_810.0 / 23_486.0)
            .null_rate("Review Text", None, 845.0 / 23_486.0)
    }

    /// Nulls `fraction` of `column` within `department` (or overall). One
    /// rule per (column, department): a later rule replaces an earlier one.
    pub fn null_rate(mut self, column: &str, department: Option<&str>, fraction: f64) -> Self {
        self.nulls
            .retain(|r| !(r.column == column && r.department.as_deref() == department));
        self.nulls.push(NullRule {
            column: column.to_string(),
            department: department.map(str::to_string),
            fraction,
        });
        self
    }

    /// Sets Age's mean and standard deviation.
    pub fn age(mut self, mean: f64, sd: f64) -> Self {
        self.age_mean = mean;
        self.age_sd = sd;
        self
    }

    /// Shifts Age by `years` in `department`.
    pub fn shift_age(mut self, department: &str, years: f64) -> Self {
        self.age_shift.push((department.to_string(), years));
        self
    }

    /// Appends `n` exact copies of base rows.
    pub fn duplicates(mut self, n: usize) -> Self {
        self.duplicate_rows = n;
        self
    }

    /// Adds column `name` = label, with `noise` of the values flipped.
    pub fn leak(mut self, name: &str, noise: f64) -> Self {
        self.leak = Some((name.to_string(), noise));
        self
    }

    /// Sets the exact share of recommended rows.
    pub fn recommend_rate(mut self, rate: f64) -> Self {
        self.recommend_rate = rate;
        self
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        format!(
            "generated reviews (seed {}, {} rows{})",
            self.seed,
            self.rows,
            if self.duplicate_rows > 0 {
                format!(" + {} duplicates", self.duplicate_rows)
            } else {
                String::new()
            }
        )
    }

    /// sha256 of the parameters: the data's identity.
    pub fn fingerprint(&self) -> String {
        crate::hash::sha256_hex(
            serde_json::to_string(self)
                .unwrap_or_else(|_| format!("{self:?}"))
                .as_bytes(),
        )
    }

    // ---- ground truth, from the parameters alone ----

    /// Exact row counts per department (largest-remainder allocation of the shares).
    pub fn department_counts(&self) -> Vec<(&'static str, usize)> {
        let quotas: Vec<f64> = DEPARTMENTS.iter().map(|d| d.2 * self.rows as f64).collect();
        let mut counts: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
        let mut left = self.rows - counts.iter().sum::<usize>();
        let mut order: Vec<usize> = (0..quotas.len()).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (quotas[a].fract(), quotas[b].fract());
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        for &i in order.iter().cycle() {
            if left == 0 {
                break;
            }
            counts[i] += 1;
            left -= 1;
        }
        DEPARTMENTS
            .iter()
            .zip(counts)
            .map(|(d, c)| (d.0, c))
            .collect()
    }

    /// Base rows in `department`.
    pub fn department_rows(&self, department: &str) -> usize {
        self.department_counts()
            .into_iter()
            .find(|(d, _)| *d == department)
            .map_or(0, |(_, c)| c)
    }

    /// Rows nulled by the rule for (`column`, `department`).
    pub fn null_rows(&self, column: &str, department: Option<&str>) -> usize {
        self.nulls
            .iter()
            .find(|r| r.column == column && r.department.as_deref() == department)
            .map_or(0, |r| {
                let base = match department {
                    Some(d) => self.department_rows(d),
                    None => self.rows,
                };
                (r.fraction * base as f64).round() as usize
            })
    }

    /// Recommended rows among the base rows.
    pub fn positive_rows(&self) -> usize {
        (self.recommend_rate * self.rows as f64).round() as usize
    }

    /// Leak values that differ from the label.
    pub fn leak_flips(&self) -> usize {
        self.leak
            .as_ref()
            .map_or(0, |(_, noise)| (noise * self.rows as f64).round() as usize)
    }

    // ---- generation ----

    /// Builds the frame. Columns and order as the real file, plus the leak
    /// column when asked for.
    pub fn generate(&self) -> PolarsResult<DataFrame> {
        let n = self.rows;
        let mut rng = SplitMix64::new(self.seed);

        let mut department: Vec<&'static str> = Vec::with_capacity(n);
        for (d, c) in self.department_counts() {
            department.extend(std::iter::repeat_n(d, c));
        }
        rng.shuffle(&mut department);

        let mut label = vec![0i64; n];
        let mut idx: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut idx);
        for &i in idx.iter().take(self.positive_rows()) {
            label[i] = 1;
        }

        let mut class = Vec::with_capacity(n);
        let mut division = Vec::with_capacity(n);
        let mut age = Vec::with_capacity(n);
        let mut rating = Vec::with_capacity(n);
        let mut feedback = Vec::with_capacity(n);
        let mut clothing = Vec::with_capacity(n);
        let mut title = Vec::with_capacity(n);
        let mut review = Vec::with_capacity(n);
        for i in 0..n {
            let d = department[i];
            let classes = DEPARTMENTS
                .iter()
                .find(|x| x.0 == d)
                .map_or(&[][..], |x| x.1);
            class.push(classes[rng.below(classes.len())]);
            division.push(if d == "Intimate" {
                "Initmates"
            } else if rng.unit() < 0.63 {
                "General"
            } else {
                "General Petite"
            });
            let shift: f64 = self
                .age_shift
                .iter()
                .filter(|(dep, _)| dep == d)
                .map(|(_, s)| s)
                .sum();
            let a = (self.age_mean + shift + self.age_sd * rng.normal()).round();
            age.push(a.clamp(18.0, 99.0) as i64);
            let positive = label[i] == 1;
            rating.push(if positive {
                [4, 5, 5, 5][rng.below(4)]
            } else {
                [1, 2, 2, 3, 3, 3, 4][rng.below(7)]
            });
            feedback.push((rng.unit().powi(4) * 30.0) as i64);
            clothing.push(rng.below(1_200) as i64);
            title.push(sentence(&mut rng, positive, 2, 4));
            review.push(sentence(
                &mut rng,
                positive,
                self.review_words.0,
                self.review_words.1,
            ));
        }

        let mut columns: Vec<(String, Vec<Option<String>>)> = Vec::new();
        let mut numeric: Vec<(String, Vec<Option<i64>>)> = vec![
            ("".into(), (0..n as i64).map(Some).collect()),
            (
                "Clothing ID".into(),
                clothing.into_iter().map(Some).collect(),
            ),
            ("Age".into(), age.into_iter().map(Some).collect()),
            ("Rating".into(), rating.into_iter().map(Some).collect()),
            (
                "Recommended IND".into(),
                label.iter().copied().map(Some).collect(),
            ),
            (
                "Positive Feedback Count".into(),
                feedback.into_iter().map(Some).collect(),
            ),
        ];
        columns.push(("Title".into(), title.into_iter().map(Some).collect()));
        columns.push(("Review Text".into(), review.into_iter().map(Some).collect()));
        columns.push((
            "Division Name".into(),
            division.iter().map(|s| Some(s.to_string())).collect(),
        ));
        columns.push((
            "Department Name".into(),
            department.iter().map(|s| Some(s.to_string())).collect(),
        ));
        columns.push((
            "Class Name".into(),
            class.iter().map(|s| Some(s.to_string())).collect(),
        ));

        // Null rules, each an exact count of rows chosen by a seeded shuffle.
        for rule in &self.nulls {
            let eligible: Vec<usize> = (0..n)
                .filter(|&i| {
                    rule.department
                        .as_deref()
                        .is_none_or(|d| department[i] == d)
                })
                .collect();
            let k = self.null_rows(&rule.column, rule.department.as_deref());
            let mut chosen = eligible;
            rng.shuffle(&mut chosen);
            chosen.truncate(k);
            if let Some((_, v)) = columns.iter_mut().find(|(c, _)| *c == rule.column) {
                for &i in &chosen {
                    v[i] = None;
                }
            } else if let Some((_, v)) = numeric.iter_mut().find(|(c, _)| *c == rule.column) {
                for &i in &chosen {
                    v[i] = None;
                }
            } else {
                return Err(PolarsError::ColumnNotFound(
                    format!(
                        "null rule names column {:?}, which the generator does not make",
                        rule.column
                    )
                    .into(),
                ));
            }
        }

        let mut leak: Option<Vec<i64>> = None;
        if self.leak.is_some() {
            let mut values = label.clone();
            let mut order: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut order);
            for &i in order.iter().take(self.leak_flips()) {
                values[i] = 1 - values[i];
            }
            leak = Some(values);
        }

        // Duplicates: copies of evenly spaced base rows, appended.
        let copies: Vec<usize> = if self.duplicate_rows > 0 && n > 0 {
            (0..self.duplicate_rows)
                .map(|k| (k * n / self.duplicate_rows.max(1)) % n)
                .collect()
        } else {
            Vec::new()
        };
        let extend_opt = |v: &mut Vec<Option<String>>| {
            let extra: Vec<_> = copies.iter().map(|&i| v[i].clone()).collect();
            v.extend(extra);
        };
        for (_, v) in columns.iter_mut() {
            extend_opt(v);
        }
        for (_, v) in numeric.iter_mut() {
            let extra: Vec<_> = copies.iter().map(|&i| v[i]).collect();
            v.extend(extra);
        }

        let mut out: Vec<Column> = Vec::new();
        for name in COLUMNS {
            if let Some((_, v)) = numeric.iter().find(|(c, _)| c == name) {
                out.push(Column::new(name.into(), v.clone()));
            } else if let Some((_, v)) = columns.iter().find(|(c, _)| c == name) {
                out.push(Column::new(name.into(), v.clone()));
            }
        }
        if let (Some((name, _)), Some(mut values)) = (&self.leak, leak) {
            let extra: Vec<_> = copies.iter().map(|&i| values[i]).collect();
            values.extend(extra);
            out.push(Column::new(name.as_str().into(), values));
        }
        DataFrame::new_infer_height(out)
    }
}

impl ReviewsSpec {
    /// Writes the generated rows as CSV (the committed fixtures are made this way).
    pub fn write_csv(&self, path: &std::path::Path) -> PolarsResult<()> {
        let mut frame = self.generate()?;
        let mut file = std::fs::File::create(path)?;
        CsvWriter::new(&mut file).finish(&mut frame)
    }

    /// The spec of `fixtures/reviews_sample.csv`.
    pub fn sample_fixture() -> Self {
        ReviewsSpec::new(500, 7)
            .null_rate("Title", None, 0.16)
            .null_rate("Review Text", None, 0.04)
            .null_rate("Age", Some("Trend"), 0.5)
    }
}

fn sentence(rng: &mut SplitMix64, positive: bool, min: usize, max: usize) -> String {
    let len = min + rng.below(max - min + 1);
    let mut words = Vec::with_capacity(len);
    for _ in 0..len {
        let r = rng.unit();
        // Sentiment words are a minority, and both kinds appear on both
        // sides (a model must learn a tendency, not a lookup).
        let w = if r < 0.16 {
            let (own, other) = if positive {
                (POSITIVE, NEGATIVE)
            } else {
                (NEGATIVE, POSITIVE)
            };
            if rng.unit() < 0.85 {
                own[rng.below(own.len())]
            } else {
                other[rng.below(other.len())]
            }
        } else {
            NEUTRAL[rng.below(NEUTRAL.len())]
        };
        words.push(w);
    }
    let mut s = words.join(" ");
    if let Some(first) = s.get(..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s.push('.');
    s
}
