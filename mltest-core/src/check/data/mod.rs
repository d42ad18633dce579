//! `#[data_expectation]` tests: the registered descriptor, the run (its
//! report and records) and the entry point a generated test calls.
//!
//! The descriptors of all `#[data_expectation]` functions linked into a
//! binary are gathered in [`DATA_CHECKS`], so the pipeline can run the very
//! checks the test binary runs, grouped into one pass per data set
//! ([`evaluate_checks`]).

mod evaluate;
mod fusion;

pub use evaluate::{evaluate_check, evaluate_checks, evaluate_checks_on};

use super::Site;
use crate::data::{DataInfo, DataSource, Dataset};
use crate::expect::{CheckOutcome, Expectation, Status, render_failure};
use crate::record::{Details, Record, Threshold};

/// A `#[data_expectation]` function as the macro registers it.
#[derive(Debug)]
pub struct DataCheck {
    /// Name, place, reason, severity and libtest attributes.
    pub site: Site,
    /// Offending rows shown per failing check.
    pub examples: usize,
    pub data: fn() -> DataSource,
    pub body: fn(&Dataset) -> Vec<Expectation>,
}

/// Every `#[data_expectation]` linked into this binary.
#[linkme::distributed_slice]
pub static DATA_CHECKS: [DataCheck];

/// The registered checks, sorted by test id (link order is not stable).
pub fn registered_data_checks() -> Vec<&'static DataCheck> {
    let mut v: Vec<&'static DataCheck> = DATA_CHECKS.iter().collect();
    v.sort_by_key(|c| c.site.test_id());
    v
}

/// The result of one `#[data_expectation]` test.
#[derive(Debug, Clone)]
pub struct DataRun {
    /// The declaration the run is of.
    pub site: Site,
    pub data: Option<DataInfo>,
    pub outcomes: Vec<CheckOutcome>,
    pub seconds: f64,
}

impl DataRun {
    /// True when a check failed or errored.
    pub fn has_failures(&self) -> bool {
        self.outcomes.iter().any(|o| !o.passed())
    }

    /// True when the test fails (a failing `warn` check does not fail it,
    /// nor does an inconclusive one).
    pub fn fails_test(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| verdict(&self.site, o).fails_test())
    }

    /// The report: header, reason, each failing check, how to rerun.
    pub fn report(&self) -> String {
        let failing: Vec<&CheckOutcome> = self.outcomes.iter().filter(|o| !o.passed()).collect();
        let inconclusive_only = failing.iter().all(|o| o.status() == Status::Inconclusive);
        let word = if inconclusive_only {
            "inconclusive"
        } else if !self.fails_test() {
            "warned"
        } else {
            "failed"
        };
        let name = self.site.name;
        let warned = failing
            .iter()
            .filter(|o| verdict(&self.site, o) == crate::record::Verdict::Warn)
            .count();
        let mut s = if self.outcomes.len() > 1 {
            let warned = if warned > 0 && warned < failing.len() {
                format!(" ({warned} of them only warn)")
            } else {
                String::new()
            };
            format!(
                "data expectation `{name}` {word}: {} of {} checks{warned}\n",
                failing.len(),
                self.outcomes.len()
            )
        } else {
            format!("data expectation `{name}` {word}\n")
        };
        s.push_str(&format!("  reason:   {}\n", self.site.reason));
        for (i, o) in failing.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(&render_failure(o, None));
        }
        s.push_str(&data_lines(self.data.as_ref()));
        s.push_str(&format!("  rerun:    {}\n", self.site.rerun()));
        s
    }

    /// One record per check.
    pub fn records(&self) -> Vec<Record> {
        // run_data_check panics with the report when the test fails.
        let panicked = self.fails_test();
        let report = if panicked {
            self.report()
        } else {
            String::new()
        };
        let libtest = self.site.libtest(panicked, &report);
        let per_check = self.seconds / self.outcomes.len().max(1) as f64;
        let rerun = self.site.rerun();
        self.outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let verdict = verdict(&self.site, o);
                let report = if o.passed() {
                    format!(
                        "{}: observed {} (expected {}){}{}\n",
                        o.expectation.describe(),
                        o.observed.map_or("none".into(), crate::text::fig),
                        o.expectation.bound.describe(),
                        o.estimate
                            .as_ref()
                            .map(|e| format!("\n  estimate: {}", e.describe()))
                            .unwrap_or_default(),
                        o.learned
                            .as_ref()
                            .map(|b| format!("\n  learned:  {}", b.describe()))
                            .unwrap_or_default()
                    )
                } else {
                    format!(
                        "data expectation `{}` {}\n  reason:   {}\n{}  rerun:    {rerun}\n",
                        self.site.name,
                        match verdict {
                            crate::record::Verdict::Warn => "warned",
                            crate::record::Verdict::Inconclusive => "inconclusive",
                            _ => "failed",
                        },
                        self.site.reason,
                        render_failure(o, self.data.as_ref()),
                    )
                };
                let details = Details::DataExpectation(Box::new(o.clone()));
                Record {
                    check_index: i,
                    verdict,
                    description: o.expectation.describe(),
                    observed: o.observed,
                    threshold: match (o.expectation.learned, o.status()) {
                        (Some(rule), Status::Inconclusive | Status::Error) => {
                            Threshold::Learned(rule)
                        }
                        _ => Threshold::Bound(o.expectation.bound),
                    },
                    data: self.data.clone(),
                    duration_s: per_check,
                    report,
                    libtest: Some(libtest.clone()),
                    ..self.site.record(o.expectation.short_name(), details)
                }
            })
            .collect()
    }
}

/// A check's verdict: its site's severity applied to pass or fail; an
/// error fails the test; an inconclusive check is neither.
fn verdict(site: &Site, o: &CheckOutcome) -> crate::record::Verdict {
    match o.status() {
        Status::Pass => site.verdict(Some(true)),
        // A check's own severity (`Expectation::warn`) overrides the test's.
        Status::Fail => match o.expectation.severity_or(site.severity) {
            crate::expect::Severity::Warn => crate::record::Verdict::Warn,
            crate::expect::Severity::Fail => crate::record::Verdict::Fail,
        },
        Status::Error => site.verdict(None),
        Status::Inconclusive => crate::record::Verdict::Inconclusive,
    }
}

fn data_lines(data: Option<&DataInfo>) -> String {
    let Some(d) = data else { return String::new() };
    let mut s = format!("  data:     {}\n", d.short());
    if let Some(note) = &d.note {
        s.push_str(&format!("  note:     {note}\n"));
    }
    s
}

/// Writes the run's records and rebuilds the binary's JUnit file (the
/// pipeline's data gate, which decides for itself what a failure stops).
pub fn publish(run: &DataRun) {
    super::publish_records(&run.records());
}

/// Entry point of a generated `#[data_expectation]` test.
pub fn run_data_check(check: &DataCheck) {
    let run = evaluate_check(check);
    super::conclude(&run.records(), &run.report(), false);
}
