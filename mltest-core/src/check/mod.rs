//! Every kind of check, on one scaffold.
//!
//! A check kind is a descriptor (what its attribute registers: a [`Site`]
//! plus the kind's own fields), an `evaluate_*` function that never panics
//! and returns the kind's run, and a `run_*` entry point that the generated
//! `#[test]` calls. The run renders its report and its
//! [`Record`](crate::record::Record)s; [`conclude`] ends every test the same
//! way: records written, JUnit rebuilt, one summary line per check, and a
//! panic with the report when a check failed.
//!
//! | kind | descriptor | evaluate | entry point |
//! |---|---|---|---|
//! | `#[data_expectation]` | [`DataCheck`] | [`evaluate_check`], [`evaluate_checks`] (one pass per data set) | [`run_data_check`] |
//! | `#[drift]` | [`DriftCheck`] | [`evaluate_drift_check`] | [`run_drift_check`] |
//! | `#[robustness]` | [`RobustnessCheck`] | [`evaluate_robustness`], [`evaluate_robustness_on`] | [`run_robustness`] |
//! | A/B (a plain `#[test]`) | — | [`crate::ab::compare_models`] | [`run_model_ab`] |
//! | slices (a plain `#[test]`) | — | [`crate::robust::slice_accuracy`] | [`slices_record`] + [`publish_records`] |
//! | performance without labels (a plain `#[test]`) | — | [`crate::monitor::Cbpe::estimate`] | [`performance_record`] + [`publish_records`] |
//!
//! A new kind adds a module here with those three parts, a
//! [`CheckKind`](crate::record::CheckKind) and a
//! [`Details`](crate::record::Details) variant; JUnit and the HTML report
//! read the typed record.
//!
//! "Runner" means one thing in this crate: the robustness runner
//! (`robust::runner`), which draws, predicts and shrinks cases.

pub mod ab;
pub mod data;
pub mod drift;
pub mod performance;
mod publish;
pub mod robustness;
mod site;
pub mod slices;

pub use crate::expect::Severity;
pub use crate::libtest::TestAttrs;
pub use ab::{model_ab_record, run_model_ab, run_regression_ab};
pub use data::{
    DATA_CHECKS, DataCheck, DataRun, evaluate_check, evaluate_checks, evaluate_checks_on, publish,
    registered_data_checks, run_data_check,
};
pub use drift::{
    DRIFT_CHECKS, DriftCheck, DriftCheckError, DriftRun, IntoDriftSide, Role, SideError,
    evaluate_drift_check, run_drift_check,
};
pub use performance::{performance_record, performance_report, performance_verdict};
pub(crate) use publish::panic_text;
pub use publish::{conclude, print_summaries, publish_records};
pub use robustness::{
    BaselineRun, ROBUSTNESS_CHECKS, RobustnessCheck, RobustnessCheckError, RobustnessRun,
    evaluate_robustness, evaluate_robustness_on, persisted_seeds, registered_robustness_checks,
    regressions_path, run_robustness,
};
pub use site::{Site, rerun_at, rerun_command};
pub use slices::slices_record;
