//! Confidence-based performance estimation (NannyML's CBPE): a binary
//! classifier's accuracy and F1 on a batch whose labels have not arrived,
//! from its calibrated probabilities.
//!
//! If `q` is the calibrated P(positive) of a row the model predicts
//! positive, the row is right with probability `q`; predicted negative, with
//! `1 − q`. So the expected accuracy is the mean of those, and the expected
//! confusion matrix is `TP = Σ_{ŷ=1} q`, `FP = Σ_{ŷ=1} (1 − q)`,
//! `FN = Σ_{ŷ=0} q`, `TN = Σ_{ŷ=0} (1 − q)`. The interval is the spread of the
//! *realised* figure around the estimate when the labels are drawn from the
//! calibrated probabilities (independent Bernoulli rows): for accuracy the
//! Poisson-binomial variance `Σ q(1 − q) / n²`, for F1 the delta method on
//! `2A / (A + n₁ + B)` (`A` true positives, `B` false negatives, `n₁`
//! predicted positives). It holds under covariate shift — the inputs move,
//! `P(label | input)` does not — and says nothing about concept shift, which
//! only labels show: hence [`PerformanceEstimate::realized`] once they come.
//!
//! The interval does not include the calibrator's own error, which shrinks
//! with the reference: in a simulation of calibrated 500-row batches
//! (`monitor::tests`), 95% intervals covered 88.5% of them with a
//! calibrator fitted on 5,000 reference rows and 95.3% with 50,000. Use as
//! many labelled reference rows as there are.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::calibration::{Binning, IsotonicCalibrator, ReliabilityCurve};
use super::{MonitorError, check_scores, same_length};

/// Fewest labelled reference rows: the calibrator is fitted on three folds
/// of them and the reliability curve has 10 bins, so 100 rows give each
/// fold's bins ~3 rows; below that the calibration check is noise.
pub const MIN_REFERENCE_ROWS: usize = 100;
/// Bins of the reliability curve (scikit-learn's default `n_bins=5`
/// is coarse for 5,000 reference rows; NannyML uses 10).
pub const RELIABILITY_BINS: usize = 10;

/// What the reference data said about the model's probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCheck {
    /// The reliability curve of the raw scores on the reference rows.
    pub raw: ReliabilityCurve,
    /// Expected calibration error of the calibrator when each third of the
    /// reference is calibrated by a calibrator fitted on the other two.
    pub cross_validated_ece: f64,
    /// Whether the calibrator is used: its cross-validated error is below
    /// the raw scores' (NannyML's rule), so fitting it helps on unseen rows.
    pub calibrated: bool,
}

/// A model's reference: labelled rows, the calibration verdict and, when it
/// helps, the fitted calibrator.
///
/// ```
/// use mltest_core::monitor::Cbpe;
/// // A calibrated model: label ~ Bernoulli(score).
/// let mut rng = mltest_core::rng::SplitMix64::new(1);
/// let scores: Vec<f64> = (0..2_000).map(|_| rng.unit()).collect();
/// let labels: Vec<bool> = scores.iter().map(|s| rng.unit() < *s).collect();
/// let cbpe = Cbpe::fit(&scores, &labels, 0.5).unwrap();
/// let batch: Vec<f64> = (0..1_000).map(|_| rng.unit()).collect();
/// let est = cbpe.estimate(&batch).unwrap();
/// // Scores uniform on [0, 1]: a row is right with probability max(q, 1 − q), 0.75 on average.
/// assert!((est.accuracy - 0.75).abs() < 0.03, "{}", est.accuracy);
/// assert!(est.accuracy_low < est.accuracy && est.accuracy < est.accuracy_high);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cbpe {
    pub threshold: f64,
    pub confidence: f64,
    pub reference_rows: usize,
    /// Realised accuracy on the reference rows (predictions at `threshold`).
    pub reference_accuracy: f64,
    /// Realised F1 on the reference rows.
    pub reference_f1: Option<f64>,
    pub calibration: CalibrationCheck,
    calibrator: Option<IsotonicCalibrator>,
}

impl Cbpe {
    /// From the reference rows' scores (the model's P(positive)) and
    /// labels; a row is predicted positive when its score is at least
    /// `threshold`. The interval's confidence is 0.95 (see
    /// [`Cbpe::confidence`]).
    pub fn fit(scores: &[f64], labels: &[bool], threshold: f64) -> Result<Self, MonitorError> {
        check_scores("the reference scores", scores)?;
        same_length("reference labels", scores.len(), labels.len())?;
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(MonitorError::Parameter(format!(
                "the decision threshold must be in (0, 1), got {threshold}"
            )));
        }
        if scores.len() < MIN_REFERENCE_ROWS {
            return Err(MonitorError::TooFew {
                what: "labelled reference rows".into(),
                have: scores.len(),
                need: MIN_REFERENCE_ROWS,
            });
        }
        let positives = labels.iter().filter(|l| **l).count();
        if positives == 0 || positives == labels.len() {
            return Err(MonitorError::OneClass {
                rows: labels.len(),
                positive: positives > 0,
            });
        }
        let raw = ReliabilityCurve::new(scores, labels, RELIABILITY_BINS, Binning::Quantile)?;
        // Three folds by row index (deterministic, no shuffling: the
        // reference is a sample, its order carries nothing the folds need).
        let mut cross = vec![0.0; scores.len()];
        for fold in 0..3 {
            let (mut s, mut l) = (Vec::new(), Vec::new());
            for i in (0..scores.len()).filter(|i| i % 3 != fold) {
                s.push(scores[i]);
                l.push(labels[i]);
            }
            let cal = IsotonicCalibrator::fit(&s, &l)?;
            for i in (0..scores.len()).filter(|i| i % 3 == fold) {
                cross[i] = cal.apply(scores[i]);
            }
        }
        let cross_validated_ece =
            ReliabilityCurve::new(&cross, labels, RELIABILITY_BINS, Binning::Quantile)?
                .expected_calibration_error;
        let calibrated = cross_validated_ece < raw.expected_calibration_error;
        let calibrator = if calibrated {
            Some(IsotonicCalibrator::fit(scores, labels)?)
        } else {
            None
        };
        let predicted: Vec<bool> = scores.iter().map(|s| *s >= threshold).collect();
        let (accuracy, f1) = realized_figures(&predicted, labels);
        Ok(Cbpe {
            threshold,
            confidence: 0.95,
            reference_rows: scores.len(),
            reference_accuracy: accuracy,
            reference_f1: f1,
            calibration: CalibrationCheck {
                raw,
                cross_validated_ece,
                calibrated,
            },
            calibrator,
        })
    }

    /// The interval's two-sided confidence, in (0, 1).
    pub fn confidence(mut self, confidence: f64) -> Result<Self, MonitorError> {
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(MonitorError::Parameter(format!(
                "the confidence must be in (0, 1), got {confidence}"
            )));
        }
        self.confidence = confidence;
        Ok(self)
    }

    /// The calibrator, when the reference showed it helps.
    pub fn calibrator(&self) -> Option<&IsotonicCalibrator> {
        self.calibrator.as_ref()
    }

    /// The calibrated P(positive) of a score.
    pub fn calibrated(&self, score: f64) -> f64 {
        self.calibrator.as_ref().map_or(score, |c| c.apply(score))
    }

    /// Estimated accuracy and F1 of an unlabelled batch's scores.
    pub fn estimate(&self, scores: &[f64]) -> Result<PerformanceEstimate, MonitorError> {
        check_scores("the batch's scores", scores)?;
        if scores.is_empty() {
            return Err(MonitorError::Empty {
                what: "the batch".into(),
            });
        }
        let n = scores.len() as f64;
        let (mut right, mut var_right) = (0.0, 0.0);
        let (mut tp, mut var_tp, mut fn_, mut var_fn, mut predicted_positive) =
            (0.0, 0.0, 0.0, 0.0, 0usize);
        for &s in scores {
            let q = self.calibrated(s);
            let v = q * (1.0 - q);
            if s >= self.threshold {
                right += q;
                tp += q;
                var_tp += v;
                predicted_positive += 1;
            } else {
                right += 1.0 - q;
                fn_ += q;
                var_fn += v;
            }
            var_right += v;
        }
        let z = Normal::standard().inverse_cdf(1.0 - (1.0 - self.confidence) / 2.0);
        let accuracy = right / n;
        let half = z * var_right.sqrt() / n;
        let n1 = predicted_positive as f64;
        let denominator = tp + n1 + fn_;
        let f1 = (denominator > 0.0).then(|| {
            let f = 2.0 * tp / denominator;
            // ∂F/∂A = 2(n₁ + B)/D², ∂F/∂B = −2A/D².
            let (da, db) = (
                2.0 * (n1 + fn_) / (denominator * denominator),
                -2.0 * tp / (denominator * denominator),
            );
            let sd = (da * da * var_tp + db * db * var_fn).sqrt();
            (f, (f - z * sd).max(0.0), (f + z * sd).min(1.0))
        });
        Ok(PerformanceEstimate {
            rows: scores.len(),
            predicted_positive,
            accuracy,
            accuracy_low: (accuracy - half).max(0.0),
            accuracy_high: (accuracy + half).min(1.0),
            f1: f1.map(|f| f.0),
            f1_low: f1.map(|f| f.1),
            f1_high: f1.map(|f| f.2),
            confidence: self.confidence,
            threshold: self.threshold,
            calibrated: self.calibration.calibrated,
            reference_accuracy: self.reference_accuracy,
            reference_f1: self.reference_f1,
            expected_calibration_error: self.calibration.raw.expected_calibration_error,
            scores: scores.to_vec(),
        })
    }
}

/// The estimate for one batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerformanceEstimate {
    pub rows: usize,
    pub predicted_positive: usize,
    pub accuracy: f64,
    pub accuracy_low: f64,
    pub accuracy_high: f64,
    /// `None` when the batch has no predicted positive and no expected
    /// positive at all (F1 is 0/0).
    pub f1: Option<f64>,
    pub f1_low: Option<f64>,
    pub f1_high: Option<f64>,
    pub confidence: f64,
    pub threshold: f64,
    /// Whether the reference's calibrator was applied.
    pub calibrated: bool,
    pub reference_accuracy: f64,
    pub reference_f1: Option<f64>,
    /// The raw scores' expected calibration error on the reference.
    pub expected_calibration_error: f64,
    /// The batch's scores, kept so the realised figures use the same
    /// predictions once the labels arrive.
    #[serde(skip)]
    scores: Vec<f64>,
}

/// The realised figures beside the estimate, once labels arrived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Realized {
    pub accuracy: f64,
    pub f1: Option<f64>,
    /// Whether the realised accuracy fell inside the estimate's interval.
    pub accuracy_within: bool,
    pub f1_within: Option<bool>,
}

impl PerformanceEstimate {
    /// The realised accuracy and F1 of the same batch from its labels (in
    /// the order of the scores), and whether each fell in its interval. A
    /// realised figure outside the interval is what CBPE cannot see: the
    /// relation between inputs and labels changed (concept shift), or the
    /// reference's calibration does not hold for this batch.
    pub fn realized(&self, labels: &[bool]) -> Result<Realized, MonitorError> {
        if self.scores.is_empty() {
            return Err(MonitorError::Parameter(
                "this estimate was read back without its scores; realise it where it was made"
                    .into(),
            ));
        }
        same_length("labels", self.scores.len(), labels.len())?;
        let predicted: Vec<bool> = self.scores.iter().map(|s| *s >= self.threshold).collect();
        let (accuracy, f1) = realized_figures(&predicted, labels);
        let within = |v: f64, lo: f64, hi: f64| (lo..=hi).contains(&v);
        Ok(Realized {
            accuracy,
            f1,
            accuracy_within: within(accuracy, self.accuracy_low, self.accuracy_high),
            f1_within: match (f1, self.f1_low, self.f1_high) {
                (Some(f), Some(lo), Some(hi)) => Some(within(f, lo, hi)),
                _ => None,
            },
        })
    }
}

/// Accuracy and F1 (positive class) of predictions against labels.
fn realized_figures(predicted: &[bool], labels: &[bool]) -> (f64, Option<f64>) {
    let (mut tp, mut fp, mut fn_, mut right) = (0usize, 0usize, 0usize, 0usize);
    for (p, l) in predicted.iter().zip(labels) {
        right += usize::from(p == l);
        match (p, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let d = 2 * tp + fp + fn_;
    let f1 = (d > 0).then(|| 2.0 * tp as f64 / d as f64);
    (right as f64 / predicted.len().max(1) as f64, f1)
}
