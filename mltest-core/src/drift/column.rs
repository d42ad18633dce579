//! Per-column statistics: the significance test, the effect size with its
//! bootstrap interval, PSI, and the smallest effect the sample sizes can
//! detect. The verdict (which needs every column's p-value for
//! Benjamini–Hochberg) is taken in `render.rs`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::summary::{self, CategoricalSummary, Histogram, NumericSummary, Summary, ValueCounts};
use super::{ColumnKind, Drift, DriftError, PredictionModel, Side, SideData};
use crate::rng::SplitMix64;
use crate::stats;

// Public accessors for every figure a column reports.
mod figures;

/// Whether the sample sizes suit the minimum effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// The smallest significant effect lies between a quarter of the minimum effect and the minimum effect.
    Adequate,
    /// Too few rows: an effect of the minimum size may not be significant.
    Under,
    /// So many rows that effects under a quarter of the minimum are significant;
    /// the verdict rests on the effect size.
    Over,
}

/// The comparison of one column: every figure the report prints, with an
/// accessor each (the fields stay public for pattern matching and serde;
/// the accessors are the documented way to read them, and the figures that
/// live in `extra` are reachable only through them).
///
/// Which figures a column has depends on its kind:
///
/// | kind | test ([`statistic`](Self::statistic)) | effect | also |
/// |---|---|---|---|
/// | numeric, prediction | KS D ([`ks_statistic`](Self::ks_statistic)) | [`normalised_wasserstein`](Self::normalised_wasserstein) | [`wasserstein`](Self::wasserstein) (raw), [`psi`](Self::psi) |
/// | text | KS D on lengths | normalised Wasserstein of lengths | raw Wasserstein, PSI, [`oov_rate`](Self::oov_rate), [`oov_rise`](Self::oov_rise), [`vocabulary_size`](Self::vocabulary_size) |
/// | categorical | chi-square ([`chi_square`](Self::chi_square), [`chi_square_dof`](Self::chi_square_dof)) | [`jensen_shannon`](Self::jensen_shannon) | PSI |
///
/// ```
/// use mltest_core::drift::{Drift, Side};
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let reference = Dataset::from_frame("train", df!(
///     "age" => (0..400).map(|i| 20.0 + (i % 40) as f64).collect::<Vec<_>>(),
///     "dept" => (0..400).map(|i| ["Tops", "Dresses"][i % 2]).collect::<Vec<_>>(),
/// ).unwrap());
/// let current = Dataset::from_frame("today", df!(
///     "age" => (0..400).map(|i| 25.0 + (i % 40) as f64).collect::<Vec<_>>(),
///     "dept" => (0..400).map(|i| ["Tops", "Tops", "Dresses"][i % 3]).collect::<Vec<_>>(),
/// ).unwrap());
/// let report = Drift::columns(["age", "dept"])
///     .evaluate(&Side::data(reference), &Side::data(current))
///     .unwrap();
/// let age = report.column("age").unwrap();
/// // Every age moved up by 5 years: the raw distance is 5 (years).
/// assert!((age.wasserstein().unwrap() - 5.0).abs() < 1e-9);
/// assert_eq!(age.normalised_wasserstein(), Some(age.effect()));
/// assert_eq!((age.jensen_shannon(), age.chi_square()), (None, None));
/// let (low, high) = age.effect_interval();
/// assert!(low <= age.effect() && age.effect() <= high);
/// let dept = report.column("dept").unwrap();
/// assert_eq!(dept.chi_square_dof(), Some(1));
/// assert_eq!(dept.jensen_shannon(), Some(dept.effect()));
/// assert_eq!((dept.reference_rows(), dept.current_rows()), (400, 400));
/// assert!(dept.p_adjusted() >= dept.p_value());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub column: String,
    pub kind: ColumnKind,
    /// Non-null values on each side.
    pub reference_rows: u64,
    pub current_rows: u64,
    pub reference_nulls: u64,
    pub current_nulls: u64,
    /// `KS` or `chi-square`.
    pub test: String,
    pub statistic: f64,
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted over the columns of the check.
    pub p_adjusted: f64,
    /// `exact`, `asymptotic`, or `dof 5` for chi-square.
    pub test_detail: String,
    /// `normalised Wasserstein` or `Jensen-Shannon distance`.
    pub effect_name: String,
    pub effect: f64,
    /// 95% bootstrap interval of the effect.
    pub effect_low: f64,
    pub effect_high: f64,
    pub min_effect: f64,
    /// The smallest effect the test would call significant at alpha with these sizes.
    pub smallest_significant_effect: f64,
    pub power: Power,
    pub psi: f64,
    /// Other figures: raw Wasserstein, OOV rates, ...
    pub extra: Vec<(String, f64)>,
    /// Human summaries of each side.
    pub reference_summary: String,
    pub current_summary: String,
    /// Binned shares for plots: labels, reference shares, current shares.
    pub bins: Vec<String>,
    pub reference_shares: Vec<f64>,
    pub current_shares: Vec<f64>,
    pub drifted: bool,
    /// Why the column did or did not drift, in a sentence.
    pub why: String,
}

fn side_name(side: &Side, role: &str) -> String {
    format!("{role} {}", side.name())
}

/// Summaries of a column on both sides. The reference decides PSI bins.
fn summaries(
    reference: &Side,
    current: &Side,
    name: &str,
    kind: ColumnKind,
) -> Result<(Summary, Summary, ColumnKind), DriftError> {
    let current_frame = match &current.data {
        SideData::Rows(d) => d.frame(),
        SideData::Profile(_) => {
            return Err(DriftError::Side(format!(
                "current side {} is a profile; the current side must be raw rows (profiles stand in for the reference)",
                current.name()
            )));
        }
    };
    let rname = side_name(reference, "reference");
    let cname = side_name(current, "current");
    let kind = match kind {
        ColumnKind::Auto => {
            let numeric = match &reference.data {
                SideData::Rows(d) => super::frame_column(d.frame(), &rname, name)?
                    .dtype()
                    .is_primitive_numeric(),
                SideData::Profile(p) => matches!(p.column(name)?, Summary::Numeric(_)),
            };
            if numeric {
                ColumnKind::Numeric
            } else {
                ColumnKind::Categorical
            }
        }
        k => k,
    };
    let reference_summary = match &reference.data {
        SideData::Profile(p) => {
            let s = p.column(name)?.clone();
            let stored = match &s {
                Summary::Numeric(_) => ColumnKind::Numeric,
                Summary::Categorical(_) => ColumnKind::Categorical,
                Summary::Text(_) => ColumnKind::Text,
            };
            if stored != kind {
                return Err(DriftError::Column {
                    side: rname,
                    column: name.to_string(),
                    why: format!("is profiled as {stored}, but the check compares it as {kind}"),
                });
            }
            s
        }
        SideData::Rows(d) => raw_summary(d.frame(), &rname, name, kind, None)?,
    };
    let edges = match &reference_summary {
        Summary::Numeric(n) => Some(n.histogram.edges.clone()),
        Summary::Text(t) => Some(t.lengths.histogram.edges.clone()),
        Summary::Categorical(_) => None,
    };
    let current_summary = raw_summary(current_frame, &cname, name, kind, edges.as_deref())?;
    Ok((reference_summary, current_summary, kind))
}

/// A column's summary from raw rows; `edges` are the reference's PSI bins.
pub(crate) fn raw_summary(
    frame: &polars::prelude::DataFrame,
    side: &str,
    name: &str,
    kind: ColumnKind,
    edges: Option<&[f64]>,
) -> Result<Summary, DriftError> {
    Ok(match kind {
        ColumnKind::Categorical => Summary::Categorical(summary::categorical(frame, side, name)?),
        ColumnKind::Text => Summary::Text(summary::text(frame, side, name, edges)?),
        _ => {
            let (counts, nulls) = summary::numeric_counts(frame, side, name)?;
            let edges = edges.map_or_else(|| summary::psi_edges(&counts), <[f64]>::to_vec);
            Summary::Numeric(NumericSummary::from_counts(counts, nulls, &edges))
        }
    })
}

pub(crate) fn compare(
    drift: &Drift,
    reference: &Side,
    current: &Side,
    name: &str,
    kind: ColumnKind,
) -> Result<ColumnDrift, DriftError> {
    let (r, c, kind) = summaries(reference, current, name, kind)?;
    match (r, c) {
        (Summary::Numeric(r), Summary::Numeric(c)) => numeric(drift, reference, name, kind, &r, &c),
        (Summary::Categorical(r), Summary::Categorical(c)) => Ok(categorical(drift, name, &r, &c)),
        (Summary::Text(r), Summary::Text(c)) => {
            let mut out = numeric(
                drift,
                reference,
                name,
                ColumnKind::Text,
                &r.lengths,
                &c.lengths,
            )?;
            out.effect_name = "normalised Wasserstein of lengths".into();
            let vocabulary: std::collections::HashSet<&str> =
                r.vocabulary.iter().map(String::as_str).collect();
            let oov: u64 = c
                .token_counts
                .iter()
                .filter(|(t, _)| !vocabulary.contains(t.as_str()))
                .map(|(_, n)| n)
                .sum();
            let current_oov = oov as f64 / c.tokens.max(1) as f64;
            let reference_rare = r.rare_tokens as f64 / r.tokens.max(1) as f64;
            out.extra.push(("oov_rate".into(), current_oov));
            out.extra
                .push(("reference_rare_rate".into(), reference_rare));
            out.extra
                .push(("oov_rise".into(), current_oov - reference_rare));
            out.extra.push(("max_oov_rise".into(), drift.max_oov_rise));
            out.extra
                .push(("vocabulary".into(), r.vocabulary.len() as f64));
            out.reference_summary = format!(
                "{} chars; {} tokens, vocabulary {} words, {:.2}% rare",
                r.lengths.describe(),
                crate::text::thousands(r.tokens),
                crate::text::thousands(r.vocabulary.len() as u64),
                100.0 * reference_rare
            );
            out.current_summary = format!(
                "{} chars; {} tokens, {:.2}% out of vocabulary",
                c.lengths.describe(),
                crate::text::thousands(c.tokens),
                100.0 * current_oov
            );
            Ok(out)
        }
        _ => unreachable!("both sides are summarised with the same kind"),
    }
}

fn empty(side: &str, column: &str) -> DriftError {
    DriftError::Empty {
        side: side.to_string(),
        column: Some(column.to_string()),
    }
}

/// KS steps (count per merged distinct value) of two counted samples.
fn ks_steps(a: &ValueCounts, b: &ValueCounts) -> Vec<(u64, u64)> {
    let (mut i, mut j) = (0usize, 0usize);
    let mut steps = Vec::with_capacity(a.values.len() + b.values.len());
    while i < a.values.len() || j < b.values.len() {
        match (a.values.get(i), b.values.get(j)) {
            (Some(x), Some(y)) if x == y => {
                steps.push((a.counts[i], b.counts[j]));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                steps.push((a.counts[i], 0));
                i += 1;
            }
            (Some(_), None) => {
                steps.push((a.counts[i], 0));
                i += 1;
            }
            _ => {
                steps.push((0, b.counts[j]));
                j += 1;
            }
        }
    }
    steps
}

fn normalised_wasserstein(r: &ValueCounts, rc: &[u64], c: &ValueCounts, cc: &[u64]) -> f64 {
    let w = stats::wasserstein_counts(&r.values, rc, &c.values, cc);
    let (_, sd) = summary::mean_std(&r.values, rc);
    // Evidently's floor, so a constant reference column does not divide by zero.
    w / sd.max(0.001)
}

/// 95% interval of a distance from its bootstrap draws. A distance between
/// two noisy samples is biased upwards (it is never below zero), and its
/// resamples are noisier still, so the raw percentile interval can sit
/// entirely above the estimate. The interval is therefore recentred: the
/// draws are shifted by their median's excess over the estimate, then
/// clamped at zero.
fn interval(estimate: f64, mut draws: Vec<f64>) -> (f64, f64) {
    draws.retain(|d| d.is_finite());
    let bias = stats::resample_quantile(&mut draws, 0.5) - estimate;
    (
        (stats::resample_quantile(&mut draws, 0.025) - bias).max(0.0),
        (stats::resample_quantile(&mut draws, 0.975) - bias).max(0.0),
    )
}

fn shares(h: &Histogram) -> Vec<f64> {
    let n: u64 = h.counts.iter().sum();
    h.counts
        .iter()
        .map(|&c| c as f64 / n.max(1) as f64)
        .collect()
}

fn bin_labels(edges: &[f64]) -> Vec<String> {
    let f = crate::text::fig;
    let mut labels = Vec::with_capacity(edges.len() + 1);
    for (i, e) in edges.iter().enumerate() {
        labels.push(match i {
            0 => format!("≤ {}", f(*e)),
            _ => format!("{}–{}", f(edges[i - 1]), f(*e)),
        });
    }
    labels.push(match edges.last() {
        Some(e) => format!("> {}", f(*e)),
        None => "all".into(),
    });
    labels
}

fn numeric(
    drift: &Drift,
    reference: &Side,
    name: &str,
    kind: ColumnKind,
    r: &NumericSummary,
    c: &NumericSummary,
) -> Result<ColumnDrift, DriftError> {
    if r.rows == 0 {
        return Err(empty(&side_name(reference, "reference"), name));
    }
    if c.rows == 0 {
        return Err(empty("current", name));
    }
    let Some(re) = &r.exact else {
        return Err(DriftError::Column {
            side: side_name(reference, "reference"),
            column: name.to_string(),
            why: format!(
                "has only a {}-bin histogram in the profile; KS and Wasserstein need the raw reference values \
                 (profiles keep exact counts up to {} distinct values): compare against raw rows",
                r.histogram.counts.len(),
                super::summary::EXACT_MAX_DISTINCT
            ),
        });
    };
    let ce = c.exact.as_ref().expect("raw summaries are exact");
    let ks = stats::ks_from_counts(&ks_steps(re, ce));
    let effect = normalised_wasserstein(re, &re.counts, ce, &ce.counts);
    let raw_w = stats::wasserstein_counts(&re.values, &re.counts, &ce.values, &ce.counts);
    let mut rng = SplitMix64::new(drift.seed ^ crate::hash::fnv1a(name.bytes()));
    let draws = (0..super::BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let rc = stats::poisson_resample(&re.counts, &mut rng);
            let cc = stats::poisson_resample(&ce.counts, &mut rng);
            normalised_wasserstein(re, &rc, ce, &cc)
        })
        .collect();
    let (low, high) = interval(effect, draws);
    // Smallest significant KS distance (asymptotic critical value), as the
    // normal location shift (in reference sds) that moves the CDF that far.
    let (n1, n2) = (r.rows as f64, c.rows as f64);
    let d_crit = (-(drift.alpha / 2.0).ln() / 2.0).sqrt() * ((n1 + n2) / (n1 * n2)).sqrt();
    let smallest = if d_crit >= 1.0 {
        f64::INFINITY
    } else {
        2.0 * Normal::standard().inverse_cdf((1.0 + d_crit) / 2.0)
    };
    let psi = stats::psi(
        &r.histogram
            .counts
            .iter()
            .map(|&x| x as f64)
            .collect::<Vec<_>>(),
        &c.histogram
            .counts
            .iter()
            .map(|&x| x as f64)
            .collect::<Vec<_>>(),
    );
    Ok(ColumnDrift {
        column: name.to_string(),
        kind,
        reference_rows: r.rows,
        current_rows: c.rows,
        reference_nulls: r.nulls,
        current_nulls: c.nulls,
        test: "KS".into(),
        statistic: ks.statistic,
        p_value: ks.p_value,
        p_adjusted: f64::NAN,
        test_detail: ks.method.to_string(),
        effect_name: "normalised Wasserstein".into(),
        effect,
        effect_low: low,
        effect_high: high,
        min_effect: drift.min_wasserstein,
        smallest_significant_effect: smallest,
        power: power(smallest, drift.min_wasserstein),
        psi,
        extra: vec![("wasserstein".into(), raw_w)],
        reference_summary: r.describe(),
        current_summary: c.describe(),
        bins: bin_labels(&r.histogram.edges),
        reference_shares: shares(&r.histogram),
        current_shares: shares(&c.histogram),
        drifted: false,
        why: String::new(),
    })
}

fn power(smallest: f64, min_effect: f64) -> Power {
    if smallest > min_effect {
        Power::Under
    } else if smallest < min_effect / 4.0 {
        Power::Over
    } else {
        Power::Adequate
    }
}

fn categorical(
    drift: &Drift,
    name: &str,
    r: &CategoricalSummary,
    c: &CategoricalSummary,
) -> ColumnDrift {
    let cats: BTreeSet<&String> = r.counts.keys().chain(c.counts.keys()).collect();
    let rc: Vec<u64> = cats
        .iter()
        .map(|k| r.counts.get(*k).copied().unwrap_or(0))
        .collect();
    let cc: Vec<u64> = cats
        .iter()
        .map(|k| c.counts.get(*k).copied().unwrap_or(0))
        .collect();
    let f = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let (chi2, p, dof) = if cats.len() < 2 {
        (0.0, 1.0, 0)
    } else {
        stats::chi2_homogeneity(&[f(&rc), f(&cc)])
    };
    let effect = stats::jensen_shannon(&f(&rc), &f(&cc));
    let mut rng = SplitMix64::new(drift.seed ^ crate::hash::fnv1a(name.bytes()));
    let draws = (0..super::BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let a = stats::poisson_resample(&rc, &mut rng);
            let b = stats::poisson_resample(&cc, &mut rng);
            stats::jensen_shannon(&f(&a), &f(&b))
        })
        .collect();
    let (low, high) = interval(effect, draws);
    // JS divergence ≈ chi-square / (8 · n_eff) for small differences, so the
    // smallest significant distance is sqrt(critical chi-square / 8 n_eff).
    let (n1, n2) = (r.rows as f64, c.rows as f64);
    let n_eff = n1 * n2 / (n1 + n2);
    let smallest = if dof == 0 || n_eff == 0.0 {
        f64::INFINITY
    } else {
        let crit =
            ChiSquared::new(dof as f64).map_or(f64::NAN, |d| d.inverse_cdf(1.0 - drift.alpha));
        (crit / (8.0 * n_eff)).sqrt()
    };
    let total = |v: &[u64]| v.iter().sum::<u64>().max(1) as f64;
    ColumnDrift {
        column: name.to_string(),
        kind: ColumnKind::Categorical,
        reference_rows: r.rows,
        current_rows: c.rows,
        reference_nulls: r.nulls,
        current_nulls: c.nulls,
        test: "chi-square".into(),
        statistic: chi2,
        p_value: p,
        p_adjusted: f64::NAN,
        test_detail: format!("dof {dof}"),
        effect_name: "Jensen-Shannon distance".into(),
        effect,
        effect_low: low,
        effect_high: high,
        min_effect: drift.min_jensen_shannon,
        smallest_significant_effect: smallest,
        power: power(smallest, drift.min_jensen_shannon),
        psi: stats::psi(&f(&rc), &f(&cc)),
        extra: vec![],
        reference_summary: r.describe(),
        current_summary: c.describe(),
        bins: cats.iter().map(|s| s.to_string()).collect(),
        reference_shares: rc.iter().map(|&x| x as f64 / total(&rc)).collect(),
        current_shares: cc.iter().map(|&x| x as f64 / total(&cc)).collect(),
        drifted: false,
        why: String::new(),
    }
}

/// Drift of a model's predictions between the sides: P(positive) of a
/// binary classifier and the values of a regressor compared as numbers,
/// the predicted class of a multiclass classifier as a category.
pub(crate) fn compare_predictions(
    drift: &Drift,
    reference: &Side,
    current: &Side,
    model: &PredictionModel,
) -> Result<ColumnDrift, DriftError> {
    use crate::model::{Predictions, predict_checked};
    let err = |why: String| DriftError::Prediction {
        model: model.name(),
        why,
    };
    let frame = |side: &Side| match &side.data {
        SideData::Rows(d) => Ok(d.clone()),
        SideData::Profile(_) => Err(err(format!(
            "needs raw rows on both sides, and {} is a profile",
            side.name()
        ))),
    };
    let (r, c) = (frame(reference)?, frame(current)?);
    let handle = model.resolve().map_err(|e| err(e.to_string()))?;
    let m = &*handle.model;
    let predict =
        |d: &crate::Dataset| predict_checked(m, d.frame()).map_err(|e| err(e.to_string()));
    let (rp, cp) = (predict(&r)?, predict(&c)?);
    if let (Predictions::Multiclass { .. }, Predictions::Multiclass { .. }) = (&rp, &cp) {
        let classes = &m.card().output.classes;
        let summary = |p: &Predictions| {
            let mut counts = std::collections::BTreeMap::new();
            for i in 0..p.len() {
                let class = p
                    .class_of(i)
                    .and_then(|k| classes.get(k))
                    .cloned()
                    .unwrap_or_default();
                *counts.entry(class).or_insert(0u64) += 1;
            }
            CategoricalSummary {
                rows: p.len() as u64,
                nulls: 0,
                counts,
            }
        };
        let name = format!("predicted class of {}", handle.id);
        let mut d = categorical(drift, &name, &summary(&rp), &summary(&cp));
        d.kind = ColumnKind::Prediction;
        return Ok(d);
    }
    let (rs, cs) = (
        ValueCounts::from_sample(rp.scores()),
        ValueCounts::from_sample(cp.scores()),
    );
    let edges = summary::psi_edges(&rs);
    let (rn, cn) = (
        NumericSummary::from_counts(rs, 0, &edges),
        NumericSummary::from_counts(cs, 0, &edges),
    );
    let name = match rp {
        Predictions::Regression(_) => format!("prediction of {}", handle.id),
        _ => format!("P(positive) of {}", handle.id),
    };
    numeric(drift, reference, &name, ColumnKind::Prediction, &rn, &cn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasserstein_of_counts_equals_the_sample_definition() {
        let a = [0.0, 1.0, 3.0, 3.0];
        let b = [5.0, 6.0, 8.0];
        let (ca, cb) = (
            ValueCounts::from_sample(a.to_vec()),
            ValueCounts::from_sample(b.to_vec()),
        );
        let w = stats::wasserstein_counts(&ca.values, &ca.counts, &cb.values, &cb.counts);
        assert!((w - stats::wasserstein(&a, &b)).abs() < 1e-12, "{w}");
    }
}
