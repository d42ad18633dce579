//! Slices: a model's accuracy per segment against its overall accuracy,
//! recorded from a plain `#[test]`.

use crate::record::{Details, Record, Threshold, Verdict};
use crate::robust::SliceReport;
use crate::text::fig;

/// A record of `report` for reports and JUnit: the weakest segment's
/// accuracy against overall − `margin`.
pub fn slices_record(
    report: &SliceReport,
    test: &str,
    reason: &str,
    margin: f64,
    model: &str,
    file: &str,
    line: u32,
) -> Record {
    let weakest = report
        .segments
        .first()
        .map_or(report.overall, |s| s.accuracy);
    let check = format!("slices({})", report.column);
    Record {
        verdict: if report.failing(margin).is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        description: format!(
            "accuracy of every segment of {:?} >= overall - {}",
            report.column,
            fig(margin)
        ),
        observed: Some(weakest),
        threshold: Threshold::Bound(crate::expect::Bound::AtLeast {
            min: report.overall - margin,
        }),
        model: Some(model.to_string()),
        file: file.to_string(),
        line,
        report: report.report(test, reason, margin),
        ..Record::new(
            test,
            check,
            reason,
            Details::Slices(Box::new(report.clone())),
        )
    }
}
