//! A/B of two regressors: a paired t-test on their per-row errors.

use serde::{Deserialize, Serialize};

use super::AbError;
use crate::model::{Model, Task, predict_checked};

/// How [`compare_regressors`] compares: the per-row error and the
/// confidence of the interval and verdict.
///
/// The default is the absolute error at 95%: a paired t-test on absolute
/// errors tests the mean absolute error (MAE), which is in the label's own
/// units and is not dominated by a few outliers as the squared error (MSE)
/// is; `ErrorKind::Squared` tests MSE, as a squared-loss model optimises.
///
/// ```
/// use mltest_core::ab::ErrorOptions;
/// use mltest_core::stats::ErrorKind;
/// assert_eq!(ErrorOptions::default().error, ErrorKind::Absolute);
/// let o = ErrorOptions { error: ErrorKind::Squared, confidence: 0.99 };
/// assert_eq!(o.confidence, 0.99);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorOptions {
    pub error: crate::stats::ErrorKind,
    pub confidence: f64,
}

impl Default for ErrorOptions {
    fn default() -> Self {
        ErrorOptions {
            error: crate::stats::ErrorKind::Absolute,
            confidence: 0.95,
        }
    }
}

/// Two regressors on the same labelled rows: B's errors against A's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorComparison {
    pub a: String,
    pub b: String,
    pub error: crate::stats::ErrorKind,
    /// `scipy.stats.ttest_rel(err_b, err_a)` and the mean difference's interval.
    pub test: crate::stats::PairedT,
}

impl ErrorComparison {
    /// The comparison in a report.
    pub fn render(&self) -> String {
        let t = &self.test;
        let what = match self.error {
            crate::stats::ErrorKind::Absolute => "mean absolute error",
            crate::stats::ErrorKind::Squared => "mean squared error",
        };
        format!(
            "  {what}: A {} {}, B {} {} on {} rows\n  B − A: {} ({}% interval [{}, {}]); paired t {} (df {}), p = {}\n  verdict:  {}\n",
            self.a,
            crate::text::fig(t.mean_a),
            self.b,
            crate::text::fig(t.mean_b),
            crate::text::thousands(t.rows),
            crate::text::fig(t.mean_difference),
            crate::text::fig(t.confidence * 100.0),
            crate::text::fig(t.interval.0),
            crate::text::fig(t.interval.1),
            crate::text::fig(t.t),
            t.df,
            crate::text::fig(t.p_value),
            t.verdict
        )
    }
}

/// Compares two regressors on the rows of `data` with a label in `label`:
/// a paired t-test on their per-row errors (absolute by default), equal to
/// `scipy.stats.ttest_rel(err_b, err_a)`. *Treatment better* means B's
/// errors are significantly lower.
pub fn compare_regressors(
    a: (&str, &dyn Model),
    b: (&str, &dyn Model),
    data: &polars::prelude::DataFrame,
    label: &str,
    options: ErrorOptions,
) -> Result<ErrorComparison, AbError> {
    use polars::prelude::DataType;
    let err = |why: String| AbError::Label {
        label: label.to_string(),
        why,
    };
    for (name, m) in [a, b] {
        if m.card().output.task != Task::Regression {
            return Err(err(format!(
                "{name} is a {}; compare classifiers with compare_models",
                m.card().output.task
            )));
        }
    }
    let col = data.column(label).map_err(|_| {
        err(format!(
            "not found; columns: {}",
            crate::data::column_names(data)
        ))
    })?;
    let rows = data
        .filter(&col.is_not_null())
        .map_err(|e| err(e.to_string()))?;
    let y = rows
        .column(label)
        .and_then(|c| c.cast(&DataType::Float64))
        .map_err(|e| err(format!("is not numeric: {e}")))?;
    let y: Vec<f64> = y
        .f64()
        .map_err(|e| err(e.to_string()))?
        .into_no_null_iter()
        .collect();
    if y.is_empty() {
        return Err(AbError::Empty);
    }
    let predict = |(name, m): (&str, &dyn Model)| {
        predict_checked(m, &rows)
            .map(|p| p.scores())
            .map_err(|source| AbError::Model {
                model: name.to_string(),
                source: Box::new(source),
            })
    };
    let (pa, pb) = (predict(a)?, predict(b)?);
    let (ea, eb) = (options.error.errors(&y, &pa), options.error.errors(&y, &pb));
    let test =
        crate::stats::paired_t(&ea, &eb, options.confidence).map_err(|e| err(e.to_string()))?;
    Ok(ErrorComparison {
        a: a.0.to_string(),
        b: b.0.to_string(),
        error: options.error,
        test,
    })
}
