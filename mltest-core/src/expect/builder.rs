//! Fluent builders: `data.column("Age").null_fraction().at_most(0.0)`.
//! Building never touches the data and never fails; a column that does not
//! exist is reported when the expectation is evaluated.

use super::{
    Bound, DuplicateCount, DuplicateRule, Expectation, Last, Learned, Limit, Metric, MissingKeys,
    Value,
};
use crate::data::{DType, Dataset};

/// Expectations about one column (also `dataset.column(name)`).
///
/// ```
/// let e = mltest_core::expect::column("Age").null_fraction().at_most(0.0);
/// assert_eq!(e.describe(), "null fraction of \"Age\" <= 0");
/// ```
pub fn column(name: &str) -> ColumnRef {
    ColumnRef {
        column: name.to_string(),
    }
}

/// The number of rows.
pub fn row_count() -> MetricRef {
    MetricRef(Metric::RowCount)
}

/// Required columns and their dtypes.
pub fn schema() -> SchemaRef {
    SchemaRef {
        required: Vec::new(),
    }
}

/// Rows that repeat an earlier row exactly (all columns). The figure is a
/// **count** of rows (`.at_most(0.0)`: no duplicates), not a fraction; see
/// [`DuplicatesRef`] for the share, Great Expectations' counting and
/// entirely empty rows.
///
/// ```
/// let e = mltest_core::expect::duplicate_rows().at_most(0.0);
/// assert_eq!(e.describe(), "rows duplicating an earlier row <= 0");
/// ```
pub fn duplicate_rows() -> DuplicatesRef {
    DuplicatesRef {
        columns: None,
        rule: DuplicateRule::default(),
    }
}

/// Rows that repeat an earlier row's values in `columns` (a key). A **count**
/// of rows: the first occurrence is not a duplicate, so four rows with one id
/// are 3. Rows whose key columns are all missing are ignored unless
/// [`DuplicatesRef::counting_missing_keys`] says otherwise.
///
/// ```
/// let e = mltest_core::expect::duplicates_on(["id"]).fraction().at_most(0.01);
/// assert_eq!(e.describe(), "share of rows duplicating an earlier row on [\"id\"] <= 0.0100");
/// ```
pub fn duplicates_on<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> DuplicatesRef {
    DuplicatesRef {
        columns: Some(columns.into_iter().map(Into::into).collect()),
        rule: DuplicateRule::default(),
    }
}

/// A duplicate check before its bound: how rows are counted.
///
/// ```
/// use mltest_core::expect::duplicates_on;
/// // Great Expectations' figure: every row of a duplicated group, as a share.
/// let ge_like = duplicates_on(["id"]).every_member().fraction().at_most(0.0);
/// // Rows without any id compared with each other too.
/// let strict = duplicates_on(["id"]).counting_missing_keys().at_most(0.0);
/// # let _ = (ge_like, strict);
/// ```
#[derive(Clone, Debug)]
pub struct DuplicatesRef {
    columns: Option<Vec<String>>,
    rule: DuplicateRule,
}

impl DuplicatesRef {
    /// Compare rows whose key columns are all missing with each other
    /// (four rows without an id become 3 duplicates). By default they are
    /// ignored: missingness has its own checks.
    pub fn counting_missing_keys(mut self) -> Self {
        self.rule.missing_keys = MissingKeys::Count;
        self
    }

    /// Count every member of a group of equal keys (a group of k adds k),
    /// as Great Expectations does, instead of the repeats after the first (k − 1).
    pub fn every_member(mut self) -> Self {
        self.rule.count = DuplicateCount::Members;
        self
    }

    /// The share of the rows that take part (rows with a key) instead of a count.
    pub fn fraction(mut self) -> Self {
        self.rule.fraction = true;
        self
    }

    fn metric(self) -> MetricRef {
        MetricRef(Metric::DuplicateRows {
            columns: self.columns,
            rule: self.rule,
        })
    }

    /// Passes when the count (or share) is `<= max` (a number or a learned limit).
    pub fn at_most(self, max: impl Into<Limit>) -> Expectation {
        self.metric().at_most(max)
    }

    /// Passes when the count (or share) is `>= min` (a number or a learned limit).
    pub fn at_least(self, min: impl Into<Limit>) -> Expectation {
        self.metric().at_least(min)
    }

    /// Passes when `min <= count (or share) <= max` (numbers or learned limits).
    pub fn between(self, min: impl Into<Limit>, max: impl Into<Limit>) -> Expectation {
        self.metric().between(min, max)
    }
}

/// Association of each feature with a label, 0 (none) to 1 (the feature
/// determines the label); the check's figure is the strongest. The measure
/// fits each pair of column types, on the rows where both are present:
///
/// | feature × label | measure | |
/// |---|---|---|
/// | numeric × numeric | \|Pearson r\| | linear association, as `scipy.stats.pearsonr` |
/// | numeric × categorical, either way | correlation ratio η | `sqrt(SS_between / SS_total)` of the numeric column grouped by the categorical one ([`stats::correlation_ratio`](crate::stats::correlation_ratio)) |
/// | categorical × categorical | Cramér's V | as `scipy.stats.contingency.association(method="cramer")` |
///
/// Numeric means integer or float columns; text, categorical, boolean and
/// other columns are categorical. η never treats a numeric column's
/// distinct values as categories, so continuous noise scores about
/// `sqrt((k − 1) / n)` for a label of `k` classes, not the V of 1.0 that a
/// category per distinct value would give. The measures agree where they
/// meet: with a two-class label η is |point-biserial r|, and η of a 0/1
/// numeric label is Cramér's V of the table. A constant numeric column has
/// η = r = 0; NaN or infinite values in a numeric column are an error
/// ([`CheckError::NonFinite`](super::CheckError::NonFinite)).
///
/// η and V are not corrected for bias by default, so they are the figures
/// scipy gives and suites keep their thresholds. Their noise floor grows
/// with the number of categories: a categorical feature with a category
/// per few rows (ids, free text) scores near 1 against any label. For such
/// features use [`LeakageRef::bias_corrected`].
///
/// ```
/// use mltest_core::expect::leakage;
/// let check = leakage("Recommended IND").features(["Age", "Department Name"]).at_most(0.5);
/// // Free-text or id-like features: bias-corrected V and η.
/// let ids = leakage("Recommended IND").bias_corrected().features(["Title"]).at_most(0.5);
/// # let _ = (check, ids);
/// ```
pub fn leakage(target: &str) -> LeakageRef {
    LeakageRef {
        target: target.to_string(),
        bias_corrected: false,
    }
}

/// The same builders as methods, so a check reads `reviews.column("Age")...`.
impl Dataset {
    /// See [`column()`].
    pub fn column(&self, name: &str) -> ColumnRef {
        column(name)
    }

    /// See [`row_count`].
    pub fn row_count(&self) -> MetricRef {
        row_count()
    }

    /// See [`schema`].
    pub fn schema(&self) -> SchemaRef {
        schema()
    }

    /// See [`duplicate_rows`].
    pub fn duplicate_rows(&self) -> DuplicatesRef {
        duplicate_rows()
    }

    /// See [`duplicates_on`].
    pub fn duplicates_on<S: Into<String>>(
        &self,
        columns: impl IntoIterator<Item = S>,
    ) -> DuplicatesRef {
        duplicates_on(columns)
    }

    /// See [`leakage`].
    pub fn leakage(&self, target: &str) -> LeakageRef {
        leakage(target)
    }
}

/// A column, before a metric is chosen.
#[derive(Clone, Debug)]
pub struct ColumnRef {
    column: String,
}

impl ColumnRef {
    fn metric(&self, m: impl FnOnce(String) -> Metric) -> MetricRef {
        MetricRef(m(self.column.clone()))
    }

    /// Share of rows where the column is missing.
    pub fn null_fraction(&self) -> MetricRef {
        self.metric(|column| Metric::NullFraction { column })
    }

    /// Mean of the non-missing values.
    pub fn mean(&self) -> MetricRef {
        self.metric(|column| Metric::Mean { column })
    }

    /// Sample standard deviation (ddof = 1) of the non-missing values.
    pub fn std(&self) -> MetricRef {
        self.metric(|column| Metric::Std { column })
    }

    /// Smallest value.
    pub fn min(&self) -> MetricRef {
        self.metric(|column| Metric::Min { column })
    }

    /// Largest value.
    pub fn max(&self) -> MetricRef {
        self.metric(|column| Metric::Max { column })
    }

    /// The newest time in the column, as unix seconds: a date or datetime
    /// column (any unit or time zone), or text in ISO 8601 (`2026-12-03`,
    /// `2026-12-03T09:30:00`, with `.fff` and a trailing `Z` allowed, or a
    /// space for the `T`). Text that is present but none of these is an
    /// error naming the count, never skipped. Bound it with
    /// [`MetricRef::within`] for a freshness check.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("at" => [Some("2026-11-30"), None, Some("2026-12-02T23:00:00Z")]).unwrap());
    /// let out = data.evaluate_one(data.column("at").newest().at_least(0.0));
    /// assert_eq!(out.observed, mltest_core::clock::parse_time("2026-12-02T23:00:00Z"));
    /// let bad = Dataset::from_frame("d", df!("at" => ["2026-11-30", "30/11/2026"]).unwrap());
    /// let out = bad.evaluate_one(bad.column("at").newest().at_least(0.0));
    /// assert!(out.render().contains("1 of 2 values of \"at\" are not ISO 8601 times"), "{}", out.render());
    /// ```
    pub fn newest(&self) -> MetricRef {
        self.metric(|column| Metric::Newest { column })
    }

    /// Sum of the non-missing values (a column with no value is an error,
    /// not a sum of 0: the check has nothing to measure). NaN or infinite
    /// values make the check error, as for the mean.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("amount" => [Some(2.5), None, Some(4.0)]).unwrap());
    /// let out = data.evaluate_one(data.column("amount").sum().between(0.0, 10.0));
    /// assert!(out.passed());
    /// assert_eq!(out.observed, Some(6.5));
    /// ```
    pub fn sum(&self) -> MetricRef {
        self.metric(|column| Metric::Sum { column })
    }

    /// The share of distinct values among the non-missing values: 1 when
    /// every value is unique, 1/n when all n are equal (Great Expectations'
    /// `expect_column_proportion_of_unique_values_to_be_between`). Missing
    /// values are neither counted nor distinct; a failure below the bound
    /// shows rows whose value repeats.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("id" => [Some("a"), Some("b"), Some("a"), None]).unwrap());
    /// let out = data.evaluate_one(data.column("id").unique_fraction().at_least(0.9));
    /// assert!(!out.passed());
    /// assert_eq!(out.observed, Some(2.0 / 3.0));
    /// assert_eq!(out.examples.len(), 2); // rows 0 and 2 repeat "a"
    /// ```
    pub fn unique_fraction(&self) -> MetricRef {
        self.metric(|column| Metric::UniqueFraction { column })
    }

    /// Quantile `q` (linear interpolation, as numpy's default).
    pub fn quantile(&self, q: f64) -> MetricRef {
        self.metric(|column| Metric::Quantile { column, q })
    }

    /// The median (quantile 0.5).
    pub fn median(&self) -> MetricRef {
        self.quantile(0.5)
    }

    /// Per-value checks: ranges and sets, with a `mostly` tolerance.
    pub fn values(&self) -> ValuesRef {
        ValuesRef {
            column: self.column.clone(),
        }
    }

    /// Share of the non-missing values equal to `value`.
    pub fn share_of(&self, value: impl Into<Value>) -> MetricRef {
        let value = value.into();
        self.metric(|column| Metric::CategoryShare { column, value })
    }

    /// One share check per `(value, min, max)` band: several expectations,
    /// so it returns a `Vec<Expectation>`, not an [`Expectation`]. A test
    /// body returns one expectation, a `Vec` or an array of them (anything
    /// [`IntoExpectations`](super::IntoExpectations)); to mix bands with other
    /// checks, extend a `Vec` (`vec![a, data.column(..).shares_within(..)]`
    /// does not compile, the `Vec` is not an element):
    ///
    /// ```
    /// use mltest_core::{Dataset, Expectation};
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("t", df!(
    ///     "dept" => ["Tops", "Tops", "Dresses", "Bottoms"],
    /// ).unwrap());
    /// // The body of `fn department_mix(data: &Dataset) -> Vec<Expectation>`:
    /// let mut checks: Vec<Expectation> = vec![data.column("dept").null_fraction().at_most(0.0)];
    /// checks.extend(data.column("dept").shares_within([
    ///     ("Tops", 0.40, 0.60),
    ///     ("Dresses", 0.20, 0.30),
    /// ]));
    /// assert_eq!(checks.len(), 3);
    /// assert!(data.evaluate(checks).iter().all(|o| o.passed()));
    /// // Or in one expression: `[vec![a, b], data.column(..).shares_within(..)].concat()`.
    /// ```
    pub fn shares_within<V: Into<Value>>(
        &self,
        bands: impl IntoIterator<Item = (V, f64, f64)>,
    ) -> Vec<Expectation> {
        bands
            .into_iter()
            .map(|(v, lo, hi)| self.share_of(v).between(lo, hi))
            .collect()
    }

    /// Share of rows whose text is missing or only whitespace.
    pub fn empty_fraction(&self) -> MetricRef {
        self.metric(|column| Metric::EmptyTextFraction { column })
    }

    /// Text lengths in characters.
    pub fn lengths(&self) -> LengthsRef {
        LengthsRef {
            column: self.column.clone(),
        }
    }

    /// Every non-missing text matches a regular expression (Rust `regex`
    /// syntax, searched anywhere: anchor with `^...$`); relax with `.mostly(f)`.
    pub fn matching(&self, pattern: &str) -> Expectation {
        Expectation::new(
            Metric::PatternMatchFraction {
                column: self.column.clone(),
                pattern: pattern.to_string(),
            },
            Bound::AtLeast { min: 1.0 },
        )
    }
}

/// A metric waiting for its bound.
#[derive(Clone, Debug)]
pub struct MetricRef(pub(crate) Metric);

impl MetricRef {
    /// Passes when the observed value is `<= max`: a number, or a limit
    /// learned from the check's past runs (`history().mean(last(10)) * 1.2`,
    /// see [`history`](super::history)).
    pub fn at_most(self, max: impl Into<Limit>) -> Expectation {
        self.limits(None, Some(max.into()))
    }

    /// Passes when the observed value is `>= min` (a number or a learned limit).
    pub fn at_least(self, min: impl Into<Limit>) -> Expectation {
        self.limits(Some(min.into()), None)
    }

    /// A freshness check on [`ColumnRef::newest`]: passes when the newest
    /// time is at most `age` before now — [`crate::clock::now`], which is
    /// `MLTEST_NOW` when set (so a test fixes the clock) and the system clock
    /// otherwise. The bound is drawn when the expectation is built, so a
    /// record says which instant it was judged against.
    ///
    /// ```
    /// use mltest_core::{Dataset, clock::{days, iso8601, unix_now}};
    /// use polars::prelude::*;
    /// # if std::env::var_os("MLTEST_NOW").is_some() { return; }
    /// let today = iso8601(unix_now())[..10].to_string();
    /// let data = Dataset::from_frame("d", df!("at" => ["2020-01-01", today.as_str()]).unwrap());
    /// assert!(data.evaluate_one(data.column("at").newest().within(days(2.0))).passed());
    /// let stale = Dataset::from_frame("d", df!("at" => ["2020-01-01"]).unwrap());
    /// let out = stale.evaluate_one(stale.column("at").newest().within(days(2.0)));
    /// assert!(!out.passed() && out.render().contains("observed: 2020-01-01T00:00:00Z"));
    /// ```
    pub fn within(self, age: std::time::Duration) -> Expectation {
        self.at_least(crate::clock::now() - age.as_secs_f64())
    }

    /// Passes when `min <= observed <= max` (numbers or learned limits).
    pub fn between(self, min: impl Into<Limit>, max: impl Into<Limit>) -> Expectation {
        self.limits(Some(min.into()), Some(max.into()))
    }

    fn limits(self, min: Option<Limit>, max: Option<Limit>) -> Expectation {
        let bound = match (min, max) {
            (Some(Limit::Fixed(min)), Some(Limit::Fixed(max))) => Bound::Between { min, max },
            (Some(Limit::Fixed(min)), None) => Bound::AtLeast { min },
            (None, Some(Limit::Fixed(max))) => Bound::AtMost { max },
            _ => return Expectation::learned(self.0, Learned::Limits { min, max }),
        };
        Expectation::new(self.0, bound)
    }

    /// Passes when the figure over the previous run's stays within
    /// `[1 / max_ratio, max_ratio]` (Deequ's relative rate of change): a
    /// row count that doubles or halves overnight fails `2.0`.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0]).unwrap());
    /// let e = data.row_count().rate_of_change_at_most(2.0);
    /// assert_eq!(e.describe_bound(), "within ×2 of the previous run");
    /// ```
    pub fn rate_of_change_at_most(self, max_ratio: f64) -> Expectation {
        Expectation::learned(self.0, Learned::RateOfChange { max_ratio })
    }

    /// Passes when the figure is within `sigmas` sample standard deviations
    /// of the mean of the check's last runs (Deequ's online normal).
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use mltest_core::expect::last;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("d", df!("x" => [1.0, 2.0]).unwrap());
    /// let e = data.column("x").mean().within_history_sigmas(3.0, last(20));
    /// assert_eq!(e.describe_bound(), "within 3 σ of the mean of the last 20 runs");
    /// ```
    pub fn within_history_sigmas(self, sigmas: f64, runs: Last) -> Expectation {
        Expectation::learned(
            self.0,
            Learned::Sigmas {
                sigmas,
                runs: runs.0.max(2),
            },
        )
    }
}

/// Per-value range and set checks on a column.
#[derive(Clone, Debug)]
pub struct ValuesRef {
    column: String,
}

impl ValuesRef {
    fn range(&self, min: Option<f64>, max: Option<f64>) -> Expectation {
        Expectation::new(
            Metric::InRangeFraction {
                column: self.column.clone(),
                min,
                max,
            },
            Bound::AtLeast { min: 1.0 },
        )
    }

    /// Every non-missing value in `[min, max]` (relax with `.mostly(f)`).
    pub fn between(&self, min: f64, max: f64) -> Expectation {
        self.range(Some(min), Some(max))
    }

    /// Every non-missing value `>= min`.
    pub fn at_least(&self, min: f64) -> Expectation {
        self.range(Some(min), None)
    }

    /// Every non-missing value `<= max`.
    pub fn at_most(&self, max: f64) -> Expectation {
        self.range(None, Some(max))
    }

    /// Every non-missing value one of `values`; the report lists the others
    /// with their counts.
    pub fn in_set<V: Into<Value>>(&self, values: impl IntoIterator<Item = V>) -> Expectation {
        Expectation::new(
            Metric::InSetFraction {
                column: self.column.clone(),
                values: values.into_iter().map(Into::into).collect(),
            },
            Bound::AtLeast { min: 1.0 },
        )
    }
}

/// Text length checks.
#[derive(Clone, Debug)]
pub struct LengthsRef {
    column: String,
}

impl LengthsRef {
    /// Every non-missing text between `min` and `max` characters.
    pub fn between(&self, min: u32, max: u32) -> Expectation {
        Expectation::new(
            Metric::LengthInRangeFraction {
                column: self.column.clone(),
                min,
                max,
            },
            Bound::AtLeast { min: 1.0 },
        )
    }
}

/// Required columns with dtypes.
#[derive(Clone, Debug)]
pub struct SchemaRef {
    required: Vec<(String, DType)>,
}

impl SchemaRef {
    /// Requires `column` with a dtype `dtype` accepts.
    pub fn column(mut self, column: &str, dtype: DType) -> Self {
        self.required.push((column.to_string(), dtype));
        self
    }

    /// Requires each `(column, dtype)` pair.
    pub fn requires<'a>(
        mut self,
        columns: impl IntoIterator<Item = (&'a str, DType)>,
    ) -> Expectation {
        self.required
            .extend(columns.into_iter().map(|(c, d)| (c.to_string(), d)));
        self.check()
    }

    /// The expectation: no schema problems.
    pub fn check(self) -> Expectation {
        Expectation::new(
            Metric::Schema {
                required: self.required,
            },
            Bound::AtMost { max: 0.0 },
        )
    }
}

/// Leakage check, before the features are named.
#[derive(Clone, Debug)]
pub struct LeakageRef {
    target: String,
    bias_corrected: bool,
}

impl LeakageRef {
    /// Bias-corrected measures for the categorical pairs: Cramér's V with
    /// Bergsma's (2013) correction ([`stats::cramers_v_corrected`](crate::stats::cramers_v_corrected))
    /// and η from Kelley's ε² ([`stats::correlation_ratio_corrected`](crate::stats::correlation_ratio_corrected)).
    /// They subtract the chance association of `k` categories in `n` rows,
    /// so noise scores ~0 at any number of categories and an id column
    /// exactly 0, while a real association keeps its figure (its square
    /// within about `(k − 1) / n` of the plain one's). |Pearson r| is unchanged.
    pub fn bias_corrected(mut self) -> Self {
        self.bias_corrected = true;
        self
    }

    /// The features to test against the label.
    pub fn features<S: Into<String>>(self, features: impl IntoIterator<Item = S>) -> MetricRef {
        MetricRef(Metric::MaxAssociation {
            target: self.target,
            features: features.into_iter().map(Into::into).collect(),
            bias_corrected: self.bias_corrected,
        })
    }
}
