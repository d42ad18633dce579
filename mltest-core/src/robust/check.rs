//! What a generated `#[robustness]` test calls: load the model (by id, from
//! the store) and the data, run the flip-rate measurement, write the record
//! and JUnit, and panic with a report when the flip rate is above the bound.

use std::time::Instant;

use super::cells::TrainingFacts;
use super::perturb::Perturb;
use super::runner::{Expect, FlipRate, Trial};
use crate::data::{DataInfo, DataSource, load_cached};
use crate::model::ReferenceModel;
use crate::outdir;
use crate::record::{Record, Verdict};
use crate::store::ModelStore;
use crate::text::{fig, thousands};

/// A `#[robustness]` function as the macro registers it.
#[derive(Debug)]
pub struct RobustnessCheck {
    pub name: &'static str,
    pub module_path: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub reason: &'static str,
    pub max_flip_rate: f64,
    pub cases: usize,
    /// `NAME@VERSION`, `NAME@ALIAS`, or `NAME` (its `champion`).
    pub model: &'static str,
    /// The rows to perturb; `None` reads the data the model was trained on
    /// (the path in its card).
    pub data: Option<fn() -> DataSource>,
    pub seed: Option<u64>,
    pub examples: usize,
    /// The test carries `#[should_panic]`: a demonstration, skipped by pipelines.
    pub expect_failure: bool,
    /// What counts as a violation (default: a flipped label).
    pub expect: Expect,
    /// A version to compare with on the same cases.
    pub baseline: Option<&'static str>,
    /// How much worse than the baseline the model may be.
    pub margin: f64,
    pub body: fn(Perturb) -> Perturb,
    /// `#[ignore]` / `#[should_panic]` as the macro saw them.
    pub attrs: crate::libtest::TestAttrs,
}

/// Every `#[robustness]` linked into this binary.
#[linkme::distributed_slice]
pub static ROBUSTNESS_CHECKS: [RobustnessCheck];

/// The registered checks, sorted by test id.
pub fn registered_robustness_checks() -> Vec<&'static RobustnessCheck> {
    let mut v: Vec<&'static RobustnessCheck> = ROBUSTNESS_CHECKS.iter().collect();
    v.sort_by_key(|c| c.test_id());
    v
}

impl RobustnessCheck {
    /// The test's libtest name.
    pub fn test_id(&self) -> String {
        crate::clock::libtest_id(self.module_path, self.name)
    }

    /// The model id, `NAME` meaning `NAME@champion`.
    pub fn model_id(&self) -> String {
        if self.model.contains('@') {
            self.model.to_string()
        } else {
            format!("{}@champion", self.model)
        }
    }

    /// `MLTEST_SEED`, else the attribute's `seed`, else a hash of the
    /// function's name (stable across runs and machines, and the same when
    /// the pipeline includes the test file as a module).
    pub fn seed(&self) -> u64 {
        if let Some(s) = crate::config::seed() {
            return s;
        }
        self.seed
            .unwrap_or_else(|| crate::hash::fnv1a(self.name.bytes()))
    }

    /// `PROPTEST_CASES`, else the attribute's `cases`.
    pub fn cases(&self) -> usize {
        crate::config::proptest_cases().unwrap_or(self.cases)
    }
}

/// The outcome of one `#[robustness]` test.
#[derive(Debug)]
pub struct RobustnessRun {
    pub check_name: String,
    pub test_id: String,
    /// The command that reruns the test alone, in the target that declares
    /// it (the report puts the seed before it).
    pub rerun: String,
    /// The test's `#[ignore]` / `#[should_panic]`.
    pub attrs: crate::libtest::TestAttrs,
    pub reason: String,
    pub model: String,
    pub model_sha256: Option<String>,
    pub max_flip_rate: f64,
    pub data: Option<DataInfo>,
    pub result: Result<FlipRate, String>,
    pub expect: Expect,
    /// The baseline's id and its rate on the same cases.
    pub baseline: Option<(String, Result<FlipRate, String>)>,
    pub margin: f64,
    pub seconds: f64,
}

impl RobustnessRun {
    /// Flip rate within the bound (and the run worked).
    pub fn passed(&self) -> bool {
        let within = matches!(&self.result, Ok(r) if r.rate <= self.max_flip_rate);
        within
            && match (&self.baseline, &self.result) {
                (None, _) => true,
                (Some((_, Ok(b))), Ok(r)) => r.rate <= b.rate + self.margin,
                _ => false,
            }
    }

    /// The report: what was expected, what was seen, the minimal flips, how to rerun.
    pub fn report(&self) -> String {
        let verdict = if self.passed() { "passed" } else { "failed" };
        let mut s = format!(
            "robustness `{}` {verdict}\n  reason:   {}\n",
            self.check_name, self.reason
        );
        match &self.result {
            Err(e) => s.push_str(&format!("  error:    {e}\n")),
            Ok(r) => {
                s.push_str(&format!(
                    "  check:    {} <= {} under {}\n",
                    self.expect.describe(),
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
                if let Some((id, b)) = &self.baseline {
                    match b {
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
                        s.push_str(&format!(
                            "    row {}: P(positive) {:.3} → {:.3}\n",
                            e.row, e.p_before, e.p_after
                        ));
                        for super::runner::CellChange {
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
                r.seed, self.rerun
            ));
        }
        s
    }

    /// The run's record.
    pub fn record(&self, file: &str, line: u32) -> Record {
        let verdict = match (&self.result, self.passed()) {
            (Err(_), _) => Verdict::Error,
            (Ok(_), true) => Verdict::Pass,
            (Ok(_), false) => Verdict::Fail,
        };
        let details = self.result.as_ref().ok().map(|r| {
            let baseline = self
                .baseline
                .as_ref()
                .and_then(|(id, b)| b.as_ref().ok().map(|b| (id.clone(), b.rate)));
            serde_json::json!({
                "expect": self.expect,
                "baseline": baseline.as_ref().map(|b| &b.0),
                "baseline_rate": baseline.as_ref().map(|b| b.1),
                "cases": r.cases,
                "flips": r.flips,
                "interval_low": r.interval.0,
                "interval_high": r.interval.1,
                "perturbation": r.perturbation,
                "throughput_per_s": r.throughput,
                "examples": r.examples,
            })
        });
        Record {
            run_id: outdir::run_id().to_string(),
            binary: outdir::binary_name(),
            test: self.test_id.clone(),
            check_index: 0,
            check: "flip_rate".into(),
            kind: "robustness".into(),
            reason: self.reason.clone(),
            verdict,
            metric: "flip_rate".into(),
            description: format!(
                "flip rate <= {}{}",
                fig(self.max_flip_rate),
                self.result
                    .as_ref()
                    .map(|r| format!(" under {}", r.perturbation))
                    .unwrap_or_default()
            ),
            observed: self.result.as_ref().ok().map(|r| r.rate),
            threshold: format!("<= {}", fig(self.max_flip_rate)),
            data: self.data.clone(),
            seed: self.result.as_ref().ok().map(|r| r.seed),
            model: Some(self.model.clone()),
            duration_s: self.seconds,
            timestamp: crate::clock::unix_now(),
            file: file.to_string(),
            line,
            libtest: Some(crate::libtest::TestResult {
                // run_robustness panics with the report when the run did not pass.
                outcome: self.attrs.outcome(!self.passed(), &self.report()),
                should_panic: self.attrs.should_panic.is_some(),
            }),
            report: self.report(),
            outcome: None,
            details,
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

/// Runs a check on another model (e.g. a freshly trained version) from a
/// given store, without panicking.
pub fn evaluate_robustness_on(
    check: &RobustnessCheck,
    store: &ModelStore,
    model: Option<&str>,
) -> RobustnessRun {
    let start = Instant::now();
    let model_id = model.map_or_else(|| check.model_id(), str::to_string);
    let mut run = RobustnessRun {
        check_name: check.name.into(),
        test_id: check.test_id(),
        rerun: crate::runner::rerun_at(check.file, check.module_path, check.name),
        attrs: check.attrs,
        reason: check.reason.into(),
        model: model_id.clone(),
        model_sha256: None,
        max_flip_rate: check.max_flip_rate,
        data: None,
        result: Err(String::new()),
        expect: check.expect,
        baseline: None,
        margin: check.margin,
        seconds: 0.0,
    };
    let stored = match store.load(&model_id) {
        Ok(s) => s,
        Err(e) => {
            run.result = Err(format!("model: {e}"));
            return run;
        }
    };
    run.model = stored.card.id();
    run.model_sha256 = Some(stored.sha256.clone());
    let source = match check.data {
        Some(f) => f(),
        None => match stored
            .card
            .training_data
            .as_ref()
            .map(|d| std::path::PathBuf::from(&d.source))
        {
            Some(p) if p.exists() => DataSource::file(p),
            other => {
                run.result = Err(format!(
                    "no data: the card of {} names {:?} as its training data, which is not here; give the test `data = fixture`",
                    run.model, other
                ));
                return run;
            }
        },
    };
    let model = match ReferenceModel::from_stored(stored) {
        Ok(m) => m,
        Err(e) => {
            run.result = Err(format!("model: {e}"));
            return run;
        }
    };
    let data = match load_cached(&source) {
        Ok(d) => d,
        Err(e) => {
            run.result = Err(format!("data: {e}"));
            return run;
        }
    };
    run.data = Some(data.info().clone());
    let perturb = match std::panic::catch_unwind(|| (check.body)(Perturb::new())) {
        Ok(p) => p,
        Err(_) => {
            run.result = Err("the robustness function panicked".into());
            return run;
        }
    };
    let measure = |m: &ReferenceModel| {
        Trial::new(m, &data, &perturb)
            .facts(&TrainingFacts::of(m))
            .cases(check.cases())
            .seed(check.seed())
            .examples(check.examples)
            .expect(check.expect)
            .run()
            .map_err(|e| e.to_string())
    };
    run.result = measure(&model);
    if let Some(b) = check.baseline {
        // The same seed and cases: the difference is the models', not the sample's.
        let result = ReferenceModel::load(store, b)
            .map_err(|e| format!("baseline: {e}"))
            .and_then(|m| measure(&m));
        run.baseline = Some((b.to_string(), result));
    }
    run.seconds = start.elapsed().as_secs_f64();
    run
}

/// Where a test file's failing seeds are kept: `tests/robustness.rs` →
/// `tests/robustness.mltest-regressions` (commit it, as proptest's
/// regression files are committed).
pub fn regressions_path(file: &str) -> std::path::PathBuf {
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    base.join(file).with_extension("mltest-regressions")
}

/// Seeds persisted for a test.
pub fn persisted_seeds(file: &str, test_id: &str) -> Vec<u64> {
    std::fs::read_to_string(regressions_path(file))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(t, _)| *t == test_id)
        .filter_map(|(_, s)| s.trim().parse().ok())
        .collect()
}

fn persist_seed(file: &str, test_id: &str, seed: u64) {
    use std::io::Write;
    if persisted_seeds(file, test_id).contains(&seed) {
        return;
    }
    let path = regressions_path(file);
    let new = !path.exists();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        if new {
            let _ = writeln!(
                f,
                "# Seeds with which a #[robustness] test failed; each is replayed on every run.\n# Commit this file. Format: TEST SEED"
            );
        }
        let _ = writeln!(f, "{test_id} {seed}");
    }
}

/// Entry point of a generated `#[robustness]` test: the test's own seed,
/// then every persisted failing seed; a failure persists its seed.
pub fn run_robustness(check: &RobustnessCheck) {
    let run = evaluate_robustness(check);
    let record = run.record(check.file, check.line);
    crate::runner::publish_records(std::slice::from_ref(&record));
    println!("{}", record.report);
    let persist = !check.expect_failure && !crate::config::seed_is_set();
    if !run.passed() {
        if let (true, Ok(r)) = (persist, &run.result) {
            persist_seed(check.file, &check.test_id(), r.seed);
        }
        panic!("{}", run.report());
    }
    if check.expect_failure || crate::config::seed_is_set() {
        return;
    }
    let own = check.seed();
    for seed in persisted_seeds(check.file, &check.test_id())
        .into_iter()
        .filter(|s| *s != own)
    {
        let replay = RobustnessCheck {
            seed: Some(seed),
            ..*check
        };
        let run = evaluate_robustness(&replay);
        if !run.passed() {
            // The replay's record replaces the passing one: JUnit must show
            // the failure libtest is about to report.
            crate::runner::publish_records(&[run.record(check.file, check.line)]);
            panic!(
                "persisted failing seed {seed} (from {}):\n{}",
                regressions_path(check.file).display(),
                run.report()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_seeds_are_persisted_once_per_test_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("robustness.rs");
        let file = file.to_str().unwrap();
        persist_seed(file, "typos", 42);
        persist_seed(file, "typos", 42);
        persist_seed(file, "typos", 7);
        persist_seed(file, "age", 42);
        assert_eq!(persisted_seeds(file, "typos"), vec![42, 7]);
        assert_eq!(persisted_seeds(file, "age"), vec![42]);
        let text = std::fs::read_to_string(regressions_path(file)).unwrap();
        assert!(text.starts_with("# Seeds with which a #[robustness] test failed"));
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 3);
    }
}
