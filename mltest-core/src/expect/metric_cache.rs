//! Compute once: every check's raw figures (a null count and its row count,
//! a mean, per-segment counts — what the aggregates measured, not the
//! verdict) kept under the data's identity (content sha256 and load
//! options) and the check's definition (metric and segment, not the bound).
//!
//! A run on unchanged data whose checks are all cached reads no data at
//! all: the data set from the parse cache is deferred, the figures come from
//! here, and the verdicts are decided again against the current bounds — so
//! a changed threshold costs no recomputation. A check that fails still reads
//! the data, for its example rows. Schema checks need only the column types
//! (no data); association checks are always computed.
//!
//! Entries live beside the parse cache, one file per data identity
//! (`<identity>.metrics`), merged under a file lock and replaced by rename;
//! an unreadable file is ignored and rewritten. `MLTEST_CACHE=off` bypasses
//! it. Reports mark figures that came from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::engine::{Evaluator, Figures, Table, decide_flat_from, decide_groups_from};
use super::{CheckOutcome, EvalOptions, Expectation, Metric, Segment, Status};
use crate::Dataset;
use crate::data::parse_cache::CacheMode;

/// 2: the data's meaning changed with the load plan (see the parse cache's
/// format), and duplicate checks keep the rows that take part (`vals`).
const FORMAT: u32 = 2;

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Entries {
    format: u32,
    figures: BTreeMap<String, Figures>,
}

fn path(dir: &Path, identity: &str) -> PathBuf {
    dir.join(format!("{}.metrics", &identity[..32.min(identity.len())]))
}

/// The key of a check: its metric and segment (not its bound or label).
fn key(e: &Expectation) -> Option<String> {
    if matches!(
        e.metric,
        Metric::Schema { .. } | Metric::MaxAssociation { .. }
    ) {
        return None;
    }
    let def = serde_json::to_string(&(FORMAT, &e.metric, &e.segment)).ok()?;
    Some(crate::hash::sha256_hex(def.as_bytes()))
}

fn read(path: &Path) -> Entries {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Entries>(&b).ok())
        .filter(|e| e.format == FORMAT)
        .unwrap_or_default()
}

/// Merges new figures into the file under an exclusive lock (test binaries
/// and nextest processes write at once). Failures only cost a recomputation
/// next time.
fn write(dir: &Path, identity: &str, new: BTreeMap<String, Figures>) {
    if new.is_empty() {
        return;
    }
    let result = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".metrics.lock"))?;
        lock.lock()?;
        let target = path(dir, identity);
        let mut entries = read(&target);
        entries.format = FORMAT;
        entries.figures.extend(new);
        let json = serde_json::to_vec(&entries).map_err(std::io::Error::other)?;
        crate::outdir::write_atomic_with(&target, crate::outdir::Durability::Rebuildable, |f| {
            std::io::Write::write_all(f, &json)
        })
    })();
    if let Err(e) = result {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "mltest: could not store the metric cache under {}: {e}",
            dir.display()
        );
    }
}

/// Evaluates `expectations` on `data` through the metric cache.
pub(crate) fn evaluate(
    data: &Dataset,
    identity: &crate::data::dataset::CacheIdentity,
    expectations: Vec<Expectation>,
    options: EvalOptions,
) -> Vec<CheckOutcome> {
    let (dir, identity) = (identity.dir.clone(), identity.key.as_str());
    let cached = read(&path(&dir, identity));
    let mut outcomes: Vec<Option<CheckOutcome>> = vec![None; expectations.len()];
    let mut todo: Vec<usize> = Vec::new();
    let mut schema_only: Vec<usize> = Vec::new();
    for (i, e) in expectations.iter().enumerate() {
        match key(e).and_then(|k| cached.figures.get(&k)) {
            Some(Figures::Flat(f)) => outcomes[i] = Some(decide_flat_from(e, f)),
            Some(Figures::Groups(g)) => {
                let Segment::EachOf { column, .. } = &e.segment else {
                    todo.push(i);
                    continue;
                };
                outcomes[i] = Some(decide_groups_from(e, column, g));
            }
            None if matches!(e.metric, Metric::Schema { .. }) => schema_only.push(i),
            None => todo.push(i),
        }
        if let Some(o) = outcomes[i].as_mut() {
            o.from_cache = true;
        }
    }
    if !schema_only.is_empty() {
        // Column types are known without reading a value.
        let empty = polars::prelude::DataFrame::empty_with_schema(&data.column_schema());
        let ev = Evaluator::new(Table::from_frame(&empty), options);
        let exps: Vec<Expectation> = schema_only
            .iter()
            .map(|&i| expectations[i].clone())
            .collect();
        for (&i, o) in schema_only.iter().zip(ev.run(exps)) {
            outcomes[i] = Some(o);
        }
    }
    let needs_data = !todo.is_empty()
        || outcomes
            .iter()
            .flatten()
            .any(|o| o.from_cache && o.status != Status::Pass);
    if needs_data {
        // Only the columns the checks to compute (or to illustrate) read:
        // on a data set served by the parse cache, the others stay on disk.
        let mut columns: Option<Vec<String>> = Some(Vec::new());
        let readers = todo.iter().map(|&i| &expectations[i]).chain(
            outcomes
                .iter()
                .flatten()
                .filter(|o| o.from_cache && o.status != Status::Pass)
                .map(|o| &o.expectation),
        );
        for e in readers {
            match (e.columns(), columns.as_mut()) {
                (Some(c), Some(all)) => all.extend(c),
                _ => columns = None,
            }
        }
        let frame = data.frame_of(columns.as_deref());
        let ev = Evaluator::new(Table::from_frame(&frame), options);
        if !todo.is_empty() {
            let exps: Vec<Expectation> = todo.iter().map(|&i| expectations[i].clone()).collect();
            let (computed, figures) = ev.run_recording(exps);
            let mut store = BTreeMap::new();
            for ((&i, o), f) in todo.iter().zip(computed).zip(figures) {
                if let (Some(k), Some(f)) = (key(&expectations[i]), f) {
                    store.insert(k, f);
                }
                outcomes[i] = Some(o);
            }
            write(&dir, identity, store);
        }
        // Failures decided from cached figures still show example rows.
        for o in outcomes.iter_mut().flatten() {
            if o.from_cache && o.status != Status::Pass {
                ev.attach_examples(o);
            }
        }
    }
    outcomes
        .into_iter()
        .zip(&expectations)
        .map(|(o, e)| {
            o.unwrap_or_else(|| {
                CheckOutcome::errored(
                    e.clone(),
                    super::CheckError::Invalid("not evaluated".into()),
                )
            })
        })
        .collect()
}

/// Whether evaluation goes through the metric cache.
pub(crate) fn enabled() -> bool {
    CacheMode::from_env() != CacheMode::Off
}
