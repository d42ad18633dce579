//! `#[robustness]` tests: the registered descriptor, the run (load the model
//! by id from the store and the data, measure the flip rate, report and
//! record it) and the entry point a generated test calls.

mod regressions;

pub use regressions::{persisted_seeds, regressions_path};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::Site;
use crate::data::{DataError, DataInfo, DataSource, load_cached};
use crate::model::{ModelError, ModelHandle, ModelRef};
use crate::record::{Baseline, Details, Record, RobustnessDetails, Threshold};
use crate::robust::{
    Expect, FlipRate, Perturb, RateDecision, RateOutcome, RobustError, Tolerance, Trial,
};
use crate::store::ModelStore;

mod decide;
use crate::text::{fig, thousands};
use decide::measure;

/// A `#[robustness]` function as the macro registers it.
#[derive(Debug)]
pub struct RobustnessCheck {
    /// Name, place, reason, severity (`fail` from the attribute) and
    /// libtest attributes.
    pub site: Site,
    pub max_flip_rate: f64,
    /// Cases to run; with `budget`, the first round's size.
    pub cases: usize,
    /// `cases = "auto", budget = N`: run rounds until an always-valid
    /// sequential test decides, at most `N` cases.
    pub budget: Option<usize>,
    /// `confidence = 0.95`: pass only when the interval's upper bound is
    /// under the maximum, fail only when its lower bound is over it; else
    /// inconclusive. `None`: the point estimate decides.
    pub confidence: Option<f64>,
    /// The model under test: a fixture or a store id.
    pub model: ModelRef,
    /// The class a direction test on a multiclass model watches.
    pub class: Option<&'static str>,
    /// How far a regressor's prediction may move.
    pub tolerance: Option<Tolerance>,
    /// The rows to perturb; `None` reads the data the model was trained on
    /// (the path in its card).
    pub data: Option<fn() -> DataSource>,
    pub seed: Option<u64>,
    pub examples: usize,
    /// The test carries `#[should_panic]`: a demonstration, skipped by pipelines.
    pub expect_failure: bool,
    /// What counts as a violation (default: a flipped label).
    pub expect: Expect,
    /// A model to compare with on the same cases.
    pub baseline: Option<ModelRef>,
    /// How much worse than the baseline the model may be.
    pub margin: f64,
    pub body: fn(Perturb) -> Perturb,
}

/// Every `#[robustness]` linked into this binary.
#[linkme::distributed_slice]
pub static ROBUSTNESS_CHECKS: [RobustnessCheck];

/// The registered checks, sorted by test id.
pub fn registered_robustness_checks() -> Vec<&'static RobustnessCheck> {
    let mut v: Vec<&'static RobustnessCheck> = ROBUSTNESS_CHECKS.iter().collect();
    v.sort_by_key(|c| c.site.test_id());
    v
}

impl RobustnessCheck {
    /// The model's name before it loads (`NAME` of an id meaning `NAME@champion`).
    pub fn model_id(&self) -> String {
        self.model.name()
    }

    /// `MLTEST_SEED`, else the attribute's `seed`, else a hash of the
    /// function's name (stable across runs and machines, and the same when
    /// the pipeline includes the test file as a module).
    pub fn seed(&self) -> u64 {
        if let Some(s) = crate::config::seed() {
            return s;
        }
        self.seed
            .unwrap_or_else(|| crate::hash::fnv1a(self.site.name.bytes()))
    }

    /// `PROPTEST_CASES`, else the attribute's `cases`.
    pub fn cases(&self) -> usize {
        crate::config::proptest_cases().unwrap_or(self.cases)
    }
}

/// Why a robustness check (or its baseline) could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum RobustnessCheckError {
    /// The model (a fixture or a store id) did not load.
    #[error("model: {source}")]
    Model {
        model: String,
        source: Box<ModelError>,
    },
    /// No `data =` and the card's training data is not on this machine.
    #[error(
        "no data: the card of {model} names {named:?} as its training data, which is not here; give the test `data = fixture`"
    )]
    NoData {
        model: String,
        named: Option<PathBuf>,
    },
    #[error("data: {0}")]
    Data(Arc<DataError>),
    #[error("the robustness function panicked")]
    BodyPanicked,
    /// The measurement itself (bad data, model, perturbation).
    #[error("{0}")]
    Measure(#[from] RobustError),
    /// The baseline model did not load.
    #[error("baseline: {source}")]
    Baseline {
        model: String,
        source: Box<ModelError>,
    },
}

/// A baseline's measurement on the same cases.
#[derive(Debug)]
pub struct BaselineRun {
    pub model: String,
    pub result: Result<FlipRate, RobustnessCheckError>,
}

/// The outcome of one `#[robustness]` test.
#[derive(Debug)]
pub struct RobustnessRun {
    /// The declaration the run is of.
    pub site: Site,
    /// The model measured (its full id once the store resolved it).
    pub model: String,
    pub model_sha256: Option<String>,
    pub max_flip_rate: f64,
    pub data: Option<DataInfo>,
    pub result: Result<FlipRate, RobustnessCheckError>,
    /// How the rate was decided (present when the measurement ran).
    pub decision: Option<RateDecision>,
    pub expect: Expect,
    /// The baseline's id and its rate on the same cases.
    pub baseline: Option<BaselineRun>,
    pub margin: f64,
    pub seconds: f64,
}

impl RobustnessRun {
    /// Flip rate within the bound (decided so at the stated confidence),
    /// no worse than the baseline allows, and the run worked.
    pub fn passed(&self) -> bool {
        let within = matches!(&self.decision, Some(d) if d.outcome == RateOutcome::Pass);
        within
            && self.result.is_ok()
            && match (&self.baseline, &self.result) {
                (None, _) => true,
                (Some(BaselineRun { result: Ok(b), .. }), Ok(r)) => r.rate <= b.rate + self.margin,
                _ => false,
            }
    }

    /// `None` when the measurement could not run or did not decide
    /// (inconclusive), else whether it passed.
    fn decided(&self) -> Option<bool> {
        match &self.decision {
            Some(d) if d.outcome == RateOutcome::Inconclusive => None,
            _ => self.result.as_ref().ok().map(|_| self.passed()),
        }
    }

    /// The interval straddled the maximum: neither pass nor fail.
    pub fn inconclusive(&self) -> bool {
        matches!(&self.decision, Some(d) if d.outcome == RateOutcome::Inconclusive)
    }

    /// True when the test panics: the run failed (or could not run) and
    /// its severity is `fail`.
    pub fn fails_test(&self) -> bool {
        self.site.verdict(self.decided()).fails_test()
    }

    /// The report: what was expected, what was seen, the minimal flips, how to rerun.
    pub fn report(&self) -> String {
        let verdict = if self.passed() {
            "passed"
        } else if self.inconclusive() {
            "inconclusive"
        } else {
            "failed"
        };
        let mut s = format!(
            "robustness `{}` {verdict}\n  reason:   {}\n",
            self.site.name, self.site.reason
        );
        match &self.result {
            Err(e) => s.push_str(&format!("  error:    {e}\n")),
            Ok(r) => {
                s.push_str(&format!(
                    "  check:    {} <= {} under {}\n",
                    r.measure,
                    fig(self.max_flip_rate),
                    r.perturbation
                ));
                s.push_str(&format!(
                    "  observed: {} ({} of {} cases); 95% interval [{}, {}]\n",
                    fig(r.rate),
                    thousands(r.flips),
                    thousands(r.cases),
                    fig(r.interval.0),
                    fig(r.interval.1)
                ));
                if let Some(d) = self.decision.as_ref().filter(|d| d.confidence.is_some()) {
                    s.push_str(&format!("  verdict:  {}\n", d.describe()));
                }
                if let Some(BaselineRun { model: id, result }) = &self.baseline {
                    match result {
                        Ok(b) => s.push_str(&format!(
                            "  baseline: {id} {} ({} of {}) on the same cases; allowed: at most {} more\n",
                            fig(b.rate),
                            thousands(b.flips),
                            thousands(b.cases),
                            fig(self.margin)
                        )),
                        Err(e) => s.push_str(&format!("  baseline: {id}: {e}\n")),
                    }
                }
                if !r.examples.is_empty() {
                    s.push_str(&format!(
                        "  minimal flipping examples ({} of {}, shrunk):\n",
                        r.examples.len(),
                        thousands(r.flips)
                    ));
                    for e in &r.examples {
                        let classes = match (&e.class_before, &e.class_after) {
                            (Some(b), Some(a)) => format!(" (class {b} → {a})"),
                            _ => String::new(),
                        };
                        s.push_str(&format!(
                            "    row {}: {} {:.3} → {:.3}{classes}\n",
                            e.row, r.score, e.p_before, e.p_after
                        ));
                        for crate::robust::CellChange {
                            column: col,
                            before,
                            after,
                        } in &e.changes
                        {
                            let (b, a) = diff_window(before, after);
                            s.push_str(&format!(
                                "      {col}: {b}\n      {:width$}→ {a}\n",
                                "",
                                width = col.len()
                            ));
                        }
                    }
                }
            }
        }
        s.push_str(&format!(
            "  model:    {}{}\n",
            self.model,
            self.model_sha256
                .as_ref()
                .map(|h| format!(" (sha256 {}…)", &h[..8.min(h.len())]))
                .unwrap_or_default()
        ));
        if let Some(d) = &self.data {
            s.push_str(&format!("  data:     {}\n", d.short()));
        }
        if let Ok(r) = &self.result {
            s.push_str(&format!(
                "  rerun:    MLTEST_SEED={} {}\n",
                r.seed,
                self.site.rerun()
            ));
        }
        s
    }

    /// The run's record.
    pub fn record(&self) -> Record {
        let details = self.result.as_ref().ok().map(|r| {
            let baseline = self.baseline.as_ref().and_then(|b| {
                b.result.as_ref().ok().map(|rate| Baseline {
                    model: b.model.clone(),
                    rate: rate.rate,
                })
            });
            Box::new(RobustnessDetails {
                expect: self.expect,
                baseline,
                flips: r.clone(),
                decision: self.decision.clone(),
            })
        });
        let report = self.report();
        Record {
            verdict: self.site.verdict(self.decided()),
            description: format!(
                "flip rate <= {}{}",
                fig(self.max_flip_rate),
                self.result
                    .as_ref()
                    .map(|r| format!(" under {}", r.perturbation))
                    .unwrap_or_default()
            ),
            observed: self.result.as_ref().ok().map(|r| r.rate),
            threshold: Threshold::Bound(crate::expect::Bound::AtMost {
                max: self.max_flip_rate,
            }),
            data: self.data.clone(),
            seed: self.result.as_ref().ok().map(|r| r.seed),
            model: Some(self.model.clone()),
            duration_s: self.seconds,
            // run_robustness panics with the report when the test fails.
            libtest: Some(self.site.libtest(self.fails_test(), &report)),
            report,
            ..self
                .site
                .record("flip_rate".into(), Details::Robustness(details))
        }
    }
}

/// A window of the two texts around their first difference.
fn diff_window(before: &str, after: &str) -> (String, String) {
    let b: Vec<char> = before.chars().collect();
    let a: Vec<char> = after.chars().collect();
    let first = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    if b.len() <= 70 && a.len() <= 70 {
        return (before.to_string(), after.to_string());
    }
    let start = first.saturating_sub(30);
    let cut = |v: &[char]| {
        let end = (start + 60).min(v.len());
        let mut s: String = v[start.min(v.len())..end].iter().collect();
        if start > 0 {
            s = format!("…{s}");
        }
        if end < v.len() {
            s.push('…');
        }
        s
    };
    (cut(&b), cut(&a))
}

/// Runs a check without panicking.
pub fn evaluate_robustness(check: &RobustnessCheck) -> RobustnessRun {
    evaluate_robustness_on(check, &ModelStore::from_env(), None)
}

/// Runs a check on another model (e.g. a freshly trained version `model`)
/// from a given store, without panicking. The model under test, like any
/// model, comes through [`ModelRef::resolve`]: the built-in reference model
/// takes the path users' models take.
pub fn evaluate_robustness_on(
    check: &RobustnessCheck,
    store: &ModelStore,
    model: Option<&str>,
) -> RobustnessRun {
    use RobustnessCheckError as E;
    let start = Instant::now();
    let mut model_id = model.map_or_else(|| check.model.name(), str::to_string);
    let (mut model_sha256, mut data_info, mut baseline, mut decision) = (None, None, None, None);
    let result = (|| -> Result<FlipRate, RobustnessCheckError> {
        // The pipeline's candidate is an id it just saved into `store`.
        let handle = match model {
            Some(id) => crate::model::from_store_at(store, id),
            None => check.model.resolve(store),
        }
        .map_err(|source| E::Model {
            model: model_id.clone(),
            source: Box::new(source),
        })?;
        model_id = handle.id.clone();
        model_sha256 = handle.sha256.clone();
        let source = match check.data {
            Some(f) => f(),
            None => match handle
                .model
                .card()
                .training_data
                .as_ref()
                .map(|d| PathBuf::from(&d.source))
            {
                Some(p) if p.exists() => DataSource::file(p),
                named => {
                    return Err(E::NoData {
                        model: model_id.clone(),
                        named,
                    });
                }
            },
        };
        let data = load_cached(&source).map_err(E::Data)?;
        data_info = Some(data.info().clone());
        let perturb = std::panic::catch_unwind(|| (check.body)(Perturb::new()))
            .map_err(|_| E::BodyPanicked)?;
        let trial = |m: &ModelHandle, skip: usize, cases: usize| {
            let mut t = Trial::new(&*m.model, &data, &perturb)
                .cases(cases)
                .skip(skip)
                .seed(check.seed())
                .examples(check.examples)
                .expect(check.expect);
            if let Some(c) = check.class {
                t = t.class(c);
            }
            if let Some(tol) = check.tolerance {
                t = t.tolerance(tol);
            }
            t.run().map_err(E::from)
        };
        let (result, decided) = measure(check, |skip, n| trial(&handle, skip, n))?;
        decision = Some(decided);
        if let Some(b) = check.baseline {
            // The same seed and cases: the difference is the models', not the sample's.
            let name = b.name();
            let result = b
                .resolve(store)
                .map_err(|source| E::Baseline {
                    model: name.clone(),
                    source: Box::new(source),
                })
                .and_then(|m| trial(&m, 0, result.cases as usize));
            baseline = Some(BaselineRun {
                model: name,
                result,
            });
        }
        Ok(result)
    })();
    RobustnessRun {
        site: check.site,
        model: model_id,
        model_sha256,
        max_flip_rate: check.max_flip_rate,
        data: data_info,
        result,
        decision,
        expect: check.expect,
        baseline,
        margin: check.margin,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Entry point of a generated `#[robustness]` test: the test's own seed,
/// then every persisted failing seed; a failure persists its seed.
pub fn run_robustness(check: &RobustnessCheck) {
    let run = evaluate_robustness(check);
    let (file, test_id) = (check.site.file, check.site.test_id());
    let replaying = check.expect_failure || crate::config::seed_is_set();
    if let (false, true, Ok(r)) = (replaying, run.fails_test(), &run.result) {
        regressions::persist_seed(file, &test_id, r.seed);
    }
    super::conclude(&[run.record()], &run.report(), true);
    if replaying {
        return;
    }
    let own = check.seed();
    for seed in persisted_seeds(file, &test_id)
        .into_iter()
        .filter(|s| *s != own)
    {
        let replay = RobustnessCheck {
            seed: Some(seed),
            ..*check
        };
        let run = evaluate_robustness(&replay);
        if run.fails_test() {
            // The replay's record replaces the passing one: JUnit must show
            // the failure libtest is about to report.
            let message = format!(
                "persisted failing seed {seed} (from {}):\n{}",
                regressions_path(file).display(),
                run.report()
            );
            super::conclude(&[run.record()], &message, false);
        }
    }
}
