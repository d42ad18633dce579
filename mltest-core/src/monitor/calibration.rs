//! Is a binary classifier's P(positive) a probability? The reliability
//! curve (scikit-learn's `calibration_curve`), its expected calibration
//! error, and an isotonic calibrator (scikit-learn's `IsotonicRegression`
//! with `out_of_bounds="clip"`, what `CalibratedClassifierCV(method=
//! "isotonic")` and NannyML fit).

use serde::{Deserialize, Serialize};

use super::MonitorError;

/// How the reliability curve's bins are cut (scikit-learn's `strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Binning {
    /// Equal-width bins over [0, 1] (`strategy="uniform"`, scikit-learn's
    /// default).
    Uniform,
    /// Bins with equal numbers of scores: edges at the scores' quantiles
    /// (`strategy="quantile"`, numpy's linear interpolation). The default
    /// here: a model that scores 82% of rows above 0.8 leaves most uniform
    /// bins nearly empty, and a bin of 3 rows says nothing about calibration.
    Quantile,
}

/// One bin of a reliability curve: the mean score and the observed positive
/// rate of its rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub rows: usize,
    /// Mean predicted P(positive) (scikit-learn's `prob_pred`).
    pub predicted: f64,
    /// Share of positive labels (scikit-learn's `prob_true`).
    pub observed: f64,
}

/// The reliability curve: non-empty bins in score order, as scikit-learn
/// returns them, and the expected calibration error
/// `Σ (rows/n) |observed − predicted|`.
///
/// ```
/// use mltest_core::monitor::{Binning, ReliabilityCurve};
/// let scores = [0.1, 0.2, 0.8, 0.9];
/// let labels = [false, false, true, true];
/// let curve = ReliabilityCurve::new(&scores, &labels, 2, Binning::Uniform).unwrap();
/// assert_eq!(curve.bins.len(), 2);
/// assert!((curve.bins[0].predicted - 0.15).abs() < 1e-12 && curve.bins[0].observed == 0.0);
/// assert!((curve.expected_calibration_error - 0.15).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityCurve {
    pub binning: Binning,
    pub bins: Vec<ReliabilityBin>,
    pub expected_calibration_error: f64,
}

impl ReliabilityCurve {
    /// `n_bins` bins of `scores` (each in [0, 1]) against `labels`.
    pub fn new(
        scores: &[f64],
        labels: &[bool],
        n_bins: usize,
        binning: Binning,
    ) -> Result<Self, MonitorError> {
        super::check_scores("the scores", scores)?;
        super::same_length("labels", scores.len(), labels.len())?;
        if n_bins == 0 {
            return Err(MonitorError::Parameter(
                "a reliability curve needs at least 1 bin".into(),
            ));
        }
        let edges = match binning {
            Binning::Uniform => (0..=n_bins).map(|i| i as f64 / n_bins as f64).collect(),
            Binning::Quantile => {
                let mut sorted = scores.to_vec();
                sorted.sort_by(f64::total_cmp);
                (0..=n_bins)
                    .map(|i| quantile_linear(&sorted, i as f64 / n_bins as f64))
                    .collect::<Vec<f64>>()
            }
        };
        // scikit-learn: np.searchsorted(bins[1:-1], y_prob) (side "left"):
        // a score on an inner edge belongs to the bin below it.
        let inner = &edges[1..edges.len() - 1];
        let mut sums = vec![(0usize, 0.0f64, 0usize); n_bins];
        for (s, y) in scores.iter().zip(labels) {
            let b = inner.partition_point(|e| e < s);
            sums[b].0 += 1;
            sums[b].1 += s;
            sums[b].2 += usize::from(*y);
        }
        let n = scores.len() as f64;
        let bins: Vec<ReliabilityBin> = sums
            .into_iter()
            .filter(|(rows, _, _)| *rows > 0)
            .map(|(rows, sum, pos)| ReliabilityBin {
                rows,
                predicted: sum / rows as f64,
                observed: pos as f64 / rows as f64,
            })
            .collect();
        let expected_calibration_error = bins
            .iter()
            .map(|b| b.rows as f64 / n * (b.observed - b.predicted).abs())
            .sum();
        Ok(ReliabilityCurve {
            binning,
            bins,
            expected_calibration_error,
        })
    }
}

/// numpy's `percentile(.., method="linear")` on sorted values, `q` in [0, 1].
fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A monotone map from score to calibrated probability: isotonic regression
/// of the labels on the scores (pool adjacent violators over the distinct
/// scores, ties averaged first as scikit-learn does), predicted by linear
/// interpolation between the fitted points and clipped outside them.
///
/// ```
/// use mltest_core::monitor::IsotonicCalibrator;
/// let cal = IsotonicCalibrator::fit(&[0.1, 0.2, 0.3, 0.4], &[false, true, false, true]).unwrap();
/// // 0.2 and 0.3 violate the order and are pooled to 0.5.
/// assert_eq!(cal.points(), &[(0.1, 0.0), (0.2, 0.5), (0.3, 0.5), (0.4, 1.0)]);
/// assert!((cal.apply(0.25) - 0.5).abs() < 1e-12);
/// assert_eq!(cal.apply(0.0), 0.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsotonicCalibrator {
    points: Vec<(f64, f64)>,
}

impl IsotonicCalibrator {
    /// Fits on labelled scores (each in [0, 1]).
    pub fn fit(scores: &[f64], labels: &[bool]) -> Result<Self, MonitorError> {
        super::check_scores("the scores", scores)?;
        super::same_length("labels", scores.len(), labels.len())?;
        if scores.is_empty() {
            return Err(MonitorError::Empty {
                what: "the calibration scores".into(),
            });
        }
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
        // Distinct scores with the mean label and weight of their ties.
        let mut xs: Vec<f64> = Vec::new();
        let mut blocks: Vec<(f64, f64)> = Vec::new(); // (weighted sum, weight)
        for i in order {
            let (x, y) = (scores[i], f64::from(u8::from(labels[i])));
            if xs.last() == Some(&x) {
                if let Some(b) = blocks.last_mut() {
                    b.0 += y;
                    b.1 += 1.0;
                }
            } else {
                xs.push(x);
                blocks.push((y, 1.0));
            }
        }
        // Pool adjacent violators: a stack of (sum, weight, how many points).
        let mut stack: Vec<(f64, f64, usize)> = Vec::with_capacity(blocks.len());
        for (s, w) in blocks {
            let mut cur = (s, w, 1usize);
            while let Some(top) = stack.last() {
                if top.0 / top.1 >= cur.0 / cur.1 {
                    cur = (top.0 + cur.0, top.1 + cur.1, top.2 + cur.2);
                    stack.pop();
                } else {
                    break;
                }
            }
            stack.push(cur);
        }
        let mut points = Vec::with_capacity(xs.len());
        let mut k = 0;
        for (s, w, count) in stack {
            for _ in 0..count {
                points.push((xs[k], s / w));
                k += 1;
            }
        }
        Ok(IsotonicCalibrator { points })
    }

    /// The fitted (score, probability) points, in score order.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The calibrated probability of a score.
    pub fn apply(&self, score: f64) -> f64 {
        let p = &self.points;
        let k = p.partition_point(|(x, _)| *x <= score);
        if k == 0 {
            return p[0].1;
        }
        if k == p.len() {
            return p[k - 1].1;
        }
        let ((x0, y0), (x1, y1)) = (p[k - 1], p[k]);
        y0 + (score - x0) * (y1 - y0) / (x1 - x0)
    }
}
