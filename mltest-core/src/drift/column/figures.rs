//! Every figure a [`ColumnDrift`] reports, as a documented accessor: the
//! test and its p-values, the effect with its interval and minimum, PSI,
//! distances, out-of-vocabulary rates, counts and the verdict.

use super::*;

impl ColumnDrift {
    pub(crate) fn extra(&self, key: &str) -> Option<f64> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    pub(super) fn is_ks(&self) -> bool {
        self.test == "KS"
    }

    /// The compared column (`P(positive) of NAME@V` for prediction drift).
    pub fn name(&self) -> &str {
        &self.column
    }

    /// The test statistic: KS D for numeric, text and prediction columns,
    /// the chi-square statistic for categorical ones (see [`test`](Self::test)).
    pub fn statistic(&self) -> f64 {
        self.statistic
    }

    /// The significance test: `KS` or `chi-square`.
    pub fn test(&self) -> &str {
        &self.test
    }

    /// The two-sample KS statistic D (as `scipy.stats.ks_2samp`), for
    /// numeric, text (lengths) and prediction columns; `None` for
    /// categorical ones.
    pub fn ks_statistic(&self) -> Option<f64> {
        self.is_ks().then_some(self.statistic)
    }

    /// The chi-square statistic of the test of homogeneity (as
    /// `scipy.stats.chi2_contingency` without correction), for categorical
    /// columns; `None` for the others.
    pub fn chi_square(&self) -> Option<f64> {
        (!self.is_ks()).then_some(self.statistic)
    }

    /// Degrees of freedom of the chi-square test (categories − 1; 0 when
    /// both sides hold one category), for categorical columns.
    pub fn chi_square_dof(&self) -> Option<u32> {
        self.test_detail
            .strip_prefix("dof ")
            .and_then(|d| d.parse().ok())
    }

    /// The test's p-value, before adjustment.
    pub fn p_value(&self) -> f64 {
        self.p_value
    }

    /// The p-value after Benjamini–Hochberg over the columns of the check:
    /// the one the verdict compares with alpha.
    pub fn p_adjusted(&self) -> f64 {
        self.p_adjusted
    }

    /// The effect size that decides "large enough": normalised Wasserstein
    /// (numeric, text lengths, predictions) or Jensen–Shannon distance
    /// (categorical); named by [`effect_name`](Self::effect_name).
    pub fn effect(&self) -> f64 {
        self.effect
    }

    /// What [`effect`](Self::effect) measures, e.g. `normalised Wasserstein`.
    pub fn effect_name(&self) -> &str {
        &self.effect_name
    }

    /// The effect's 95% bootstrap interval `(low, high)` (Poisson bootstrap
    /// of the value counts, recentred on the estimate, clamped at 0).
    pub fn effect_interval(&self) -> (f64, f64) {
        (self.effect_low, self.effect_high)
    }

    /// The minimum effect that counts as drift (the check's threshold).
    pub fn min_effect(&self) -> f64 {
        self.min_effect
    }

    /// The minimum detectable effect: the smallest effect the test would
    /// call significant at alpha with these row counts (infinite when none
    /// can be).
    pub fn smallest_significant_effect(&self) -> f64 {
        self.smallest_significant_effect
    }

    /// Whether the row counts suit the minimum effect.
    pub fn power(&self) -> Power {
        self.power
    }

    /// Population stability index over the reference's bins (deciles, one
    /// bin per value up to 20 values, or one per category).
    pub fn psi(&self) -> f64 {
        self.psi
    }

    /// The raw Wasserstein distance (earth mover's distance, in the column's
    /// units; as `scipy.stats.wasserstein_distance`), for numeric, text
    /// (lengths in characters) and prediction columns.
    pub fn wasserstein(&self) -> Option<f64> {
        self.extra("wasserstein")
    }

    /// The Wasserstein distance divided by the reference's standard
    /// deviation (population, ddof 0; floored at 0.001, as Evidently): the
    /// effect of numeric, text and prediction columns.
    pub fn normalised_wasserstein(&self) -> Option<f64> {
        self.is_ks().then_some(self.effect)
    }

    /// The Jensen–Shannon distance (natural log; as
    /// `scipy.spatial.distance.jensenshannon`) between the category shares:
    /// the effect of categorical columns.
    pub fn jensen_shannon(&self) -> Option<f64> {
        (!self.is_ks()).then_some(self.effect)
    }

    /// Text columns: the share of the current side's tokens that are not in
    /// the reference vocabulary (words seen at least twice).
    pub fn oov_rate(&self) -> Option<f64> {
        self.extra("oov_rate")
    }

    /// Text columns: the share of the reference's own tokens that are rare
    /// (seen once), the baseline of [`oov_rise`](Self::oov_rise).
    pub fn reference_rare_rate(&self) -> Option<f64> {
        self.extra("reference_rare_rate")
    }

    /// Text columns: [`oov_rate`](Self::oov_rate) minus
    /// [`reference_rare_rate`](Self::reference_rare_rate); the column drifts
    /// when it reaches [`max_oov_rise`](Self::max_oov_rise).
    pub fn oov_rise(&self) -> Option<f64> {
        self.extra("oov_rise")
    }

    /// Text columns: the tolerated rise of the out-of-vocabulary rate.
    pub fn max_oov_rise(&self) -> Option<f64> {
        self.extra("max_oov_rise")
    }

    /// Text columns: words in the reference vocabulary.
    pub fn vocabulary_size(&self) -> Option<u64> {
        self.extra("vocabulary").map(|v| v as u64)
    }

    /// Non-missing values on the reference side.
    pub fn reference_rows(&self) -> u64 {
        self.reference_rows
    }

    /// Non-missing values on the current side.
    pub fn current_rows(&self) -> u64 {
        self.current_rows
    }

    /// Missing values on the reference side.
    pub fn reference_nulls(&self) -> u64 {
        self.reference_nulls
    }

    /// Missing values on the current side.
    pub fn current_nulls(&self) -> u64 {
        self.current_nulls
    }

    /// The verdict: significant and large (or, for text, a rise of the
    /// out-of-vocabulary rate).
    pub fn drifted(&self) -> bool {
        self.drifted
    }

    /// Why the column did or did not drift, in a sentence.
    pub fn why(&self) -> &str {
        &self.why
    }
}
