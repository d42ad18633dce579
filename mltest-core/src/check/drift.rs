//! `#[drift]` tests: the registered descriptor, fixture conversion, and the
//! run that evaluates, records and panics with the report.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use super::{Site, panic_text};
use crate::data::{DataError, DataSource, Dataset, load_cached};
use crate::drift::{Drift, DriftError, DriftReport, Profile, Side};
use crate::record::{Details, Record, Threshold};

/// Why a drift fixture gave no side.
#[derive(Debug, thiserror::Error)]
pub enum SideError {
    /// The fixture's data source did not load.
    #[error("{0}")]
    Data(Arc<DataError>),
    /// The fixture returned an error (its message).
    #[error("{0}")]
    Fixture(String),
}

/// What a drift fixture may return: a data source (loaded through the
/// shared cache), a loaded data set, a profile, or a `Result` of one of these.
///
/// ```
/// use mltest_core::check::IntoDriftSide;
/// let err: Result<mltest_core::drift::Profile, String> = Err("no profile yet".into());
/// assert_eq!(err.into_drift_side().unwrap_err().to_string(), "no profile yet");
/// ```
pub trait IntoDriftSide {
    fn into_drift_side(self) -> Result<Side, SideError>;
}

impl IntoDriftSide for Side {
    fn into_drift_side(self) -> Result<Side, SideError> {
        Ok(self)
    }
}

impl IntoDriftSide for DataSource {
    fn into_drift_side(self) -> Result<Side, SideError> {
        load_cached(&self.overridden())
            .map(Side::data)
            .map_err(SideError::Data)
    }
}

impl IntoDriftSide for Dataset {
    fn into_drift_side(self) -> Result<Side, SideError> {
        Ok(Side::data(self))
    }
}

impl IntoDriftSide for Arc<Dataset> {
    fn into_drift_side(self) -> Result<Side, SideError> {
        Ok(Side::data(self))
    }
}

impl IntoDriftSide for Profile {
    fn into_drift_side(self) -> Result<Side, SideError> {
        Ok(Side::profile(self))
    }
}

impl<T: IntoDriftSide, E: std::fmt::Display> IntoDriftSide for Result<T, E> {
    fn into_drift_side(self) -> Result<Side, SideError> {
        self.map_err(|e| SideError::Fixture(e.to_string()))?
            .into_drift_side()
    }
}

/// A registered `#[drift]` test.
pub struct DriftCheck {
    /// Name, place, reason, severity and libtest attributes.
    pub site: Site,
    pub reference: fn() -> Result<Side, SideError>,
    pub current: fn() -> Result<Side, SideError>,
    pub body: fn(&Side, &Side) -> Drift,
}

/// Every `#[drift]` linked into this binary.
#[linkme::distributed_slice]
pub static DRIFT_CHECKS: [DriftCheck];

/// Which side of a comparison a fixture gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Reference,
    Current,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Reference => "reference",
            Role::Current => "current",
        })
    }
}

/// Why a drift check could not run.
#[derive(Debug, thiserror::Error)]
pub enum DriftCheckError {
    #[error("{role} fixture panicked: {message}")]
    FixturePanicked { role: Role, message: String },
    #[error("{role}: {source}")]
    Side { role: Role, source: SideError },
    #[error("the test body panicked: {0}")]
    BodyPanicked(String),
    #[error(transparent)]
    Drift(#[from] DriftError),
}

/// The outcome of one `#[drift]` test.
pub struct DriftRun {
    /// The declaration the run is of.
    pub site: Site,
    pub result: Result<DriftReport, DriftCheckError>,
    pub seconds: f64,
}

impl DriftRun {
    pub fn passed(&self) -> bool {
        self.result.as_ref().is_ok_and(DriftReport::passed)
    }

    /// True when the test panics: the check could not run, or it found
    /// drift and its severity is `fail`.
    pub fn fails_test(&self) -> bool {
        self.site.verdict(self.decided()).fails_test()
    }

    /// `None` when the check could not run, else whether it passed.
    fn decided(&self) -> Option<bool> {
        self.result.as_ref().ok().map(DriftReport::passed)
    }

    /// The failure (or summary) text.
    pub fn report(&self) -> String {
        let name = self.site.name;
        let reason = self.site.reason;
        let rerun = self.site.rerun();
        match &self.result {
            Err(e) => format!(
                "drift check `{name}` could not run\n  reason:   {reason}\n  error:    {e}\n  rerun:    {rerun}\n"
            ),
            Ok(r) => {
                let word = match (r.passed(), r.expect_drift) {
                    (true, _) => "passed",
                    (false, true) => "failed: the expected drift was not detected",
                    (false, false) => "failed: the data drifted",
                };
                format!(
                    "drift check `{name}` {word}\n  reason:    {reason}\n{}  rerun:     {rerun}\n",
                    r.render()
                )
            }
        }
    }

    /// The record reporters read.
    pub fn record(&self) -> Record {
        let report = self.report();
        let base = Record {
            verdict: self.site.verdict(self.decided()),
            duration_s: self.seconds,
            libtest: Some(self.site.libtest(self.fails_test(), &report)),
            report,
            ..self
                .site
                .record(self.site.name.to_string(), Details::Drift(None))
        };
        match &self.result {
            Ok(r) => Record {
                description: format!(
                    "share of drifted columns, {} vs {}",
                    r.reference.name, r.current.name
                ),
                observed: Some(r.drifted_share),
                threshold: Threshold::DriftedShare {
                    share: r.dataset_share,
                    expect_drift: r.expect_drift,
                },
                data: Some(r.current.clone()),
                details: Details::Drift(Some(Box::new(r.clone()))),
                ..base
            },
            Err(_) => Record {
                description: "drift".into(),
                ..base
            },
        }
    }
}

/// Loads both sides, builds the comparison, evaluates it. Never panics.
pub fn evaluate_drift_check(check: &DriftCheck) -> DriftRun {
    let start = Instant::now();
    let result = (|| -> Result<DriftReport, DriftCheckError> {
        let side =
            |f: fn() -> Result<Side, SideError>, role: Role| -> Result<Side, DriftCheckError> {
                catch_unwind(f)
                    .map_err(|p| DriftCheckError::FixturePanicked {
                        role,
                        message: panic_text(p),
                    })?
                    .map_err(|source| DriftCheckError::Side { role, source })
            };
        let reference = side(check.reference, Role::Reference)?;
        let current = side(check.current, Role::Current)?;
        let drift = catch_unwind(AssertUnwindSafe(|| (check.body)(&reference, &current)))
            .map_err(|p| DriftCheckError::BodyPanicked(panic_text(p)))?;
        Ok(drift.evaluate(&reference, &current)?)
    })();
    DriftRun {
        site: check.site,
        result,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Entry point of a generated `#[drift]` test.
pub fn run_drift_check(check: &DriftCheck) {
    let run = evaluate_drift_check(check);
    super::conclude(&[run.record()], &run.report(), true);
}
