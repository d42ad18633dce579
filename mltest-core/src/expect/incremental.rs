//! Checks on a partitioned data set, incrementally (Deequ's state merging
//! over appended partitions): each partition's check states
//! ([`Partial`]) are stored beside the metric cache, under
//! `<out dir>/partials/`, with the partition's size and modification
//! time; a run reads only the partitions that are new or were rewritten
//! (another size or time), and the checks it had no state for, then merges
//! every partition's states and decides. Checks without a state that merges
//! (duplicates, associations) are evaluated on all partitions together.
//!
//! A state file is written whole or not at all (a temporary file renamed
//! over it); one that cannot be read, or of another format, is recomputed,
//! never trusted. Failures decided from merged states show no example
//! rows: the states hold figures, not rows (rerun the check on the
//! partition files to see them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::outcome::{CheckError, CheckOutcome};
use super::{EvalOptions, Expectation, IntoExpectations, Partial};
use crate::data::{DataError, DataInfo, DataSource, Location, PartitionFile};

/// Bumped when the stored states change meaning: older files are recomputed.
const FORMAT: u32 = 2;

/// The outcome of checks over a partitioned data set.
#[derive(Clone, Debug)]
pub struct Incremental {
    /// The data set: its directory, rows over all partitions, and a sha256
    /// over the partitions' own.
    pub info: DataInfo,
    pub outcomes: Vec<CheckOutcome>,
    /// Every partition, in file-name order, with whether it was read.
    pub partitions: Vec<PartitionRun>,
}

/// One partition of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionRun {
    pub path: PathBuf,
    pub rows: u64,
    /// Read this run (new, rewritten, or a check without a stored state);
    /// `false` when every state came from the store.
    pub read: bool,
}

/// The states of one partition, as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    /// [`PartitionFile::identity`]: path, size, times, inode.
    identity: String,
    sha256: String,
    rows: u64,
    /// The partition's columns and dtypes: every partition must match the first.
    columns: String,
    /// By check key (metric and segment, as the metric cache keys them).
    states: BTreeMap<String, Partial>,
}

impl DataSource {
    /// Evaluates `expectations` over a [`partitioned`](DataSource::partitioned)
    /// source: each partition measured once and its states stored, the
    /// states merged and decided. The same figures as evaluating the
    /// partitions concatenated (to 1e-12; quantiles within their sketch's
    /// stated error).
    ///
    /// ```
    /// use mltest_core::{DataSource, expect::column};
    /// let dir = tempfile::tempdir().unwrap();
    /// let parts = dir.path().join("parts");
    /// std::fs::create_dir(&parts).unwrap();
    /// std::fs::write(parts.join("1.csv"), "x\n1\n2\n").unwrap();
    /// std::fs::write(parts.join("2.csv"), "x\n3\n").unwrap();
    /// let src = DataSource::partitioned(&parts);
    /// let checks = || vec![column("x").mean().at_most(2.0)];
    /// let first = src.evaluate_partitioned_in(checks(), dir.path()).unwrap();
    /// assert_eq!(first.outcomes[0].observed, Some(2.0));
    /// assert!(first.partitions.iter().all(|p| p.read));
    /// std::fs::write(parts.join("3.csv"), "x\n10\n").unwrap();
    /// let next = src.evaluate_partitioned_in(checks(), dir.path()).unwrap();
    /// let read: Vec<bool> = next.partitions.iter().map(|p| p.read).collect();
    /// assert_eq!(read, [false, false, true]);
    /// assert_eq!(next.outcomes[0].observed, Some(4.0));
    /// assert!(!next.outcomes[0].passed());
    /// ```
    pub fn evaluate_partitioned(
        &self,
        expectations: impl IntoExpectations,
    ) -> Result<Incremental, DataError> {
        self.evaluate_partitioned_in(expectations, &crate::outdir::out_dir())
    }

    /// [`evaluate_partitioned`](Self::evaluate_partitioned) with the states
    /// stored under `out/partials/` instead of the out dir.
    pub fn evaluate_partitioned_in(
        &self,
        expectations: impl IntoExpectations,
        out: &Path,
    ) -> Result<Incremental, DataError> {
        let Location::Partitioned(dir) = &self.location else {
            return Err(DataError::Polars {
                origin: self.name.clone(),
                message: "not a partitioned source (DataSource::partitioned)".into(),
            });
        };
        let expectations = expectations.into_expectations();
        let files = crate::data::partition_files(dir)?;
        let store = out.join("partials");
        let keys: Vec<Option<String>> = expectations.iter().map(state_key).collect();
        // Per check: the merged state so far, or the first error.
        let mut merged: Vec<Option<Result<Partial, CheckError>>> = vec![None; expectations.len()];
        let mut partitions = Vec::new();
        let mut shas = String::new();
        let mut rows = 0;
        let mut first_columns: Option<String> = None;
        for file in &files {
            let (stored, read) = self.partition_states(file, &expectations, &keys, &store)?;
            match &first_columns {
                None => first_columns = Some(stored.columns.clone()),
                Some(first) if *first != stored.columns => {
                    return Err(DataError::Format {
                        path: file.path.clone(),
                        message: format!(
                            "its columns ({}) differ from those of {} ({}): every partition \
                             needs one schema",
                            stored.columns,
                            files[0].path.display(),
                            first
                        ),
                    });
                }
                Some(_) => {}
            }
            for (i, key) in keys.iter().enumerate() {
                let Some(key) = key else { continue };
                let state = match stored.states.get(key) {
                    Some(s) => Ok(s.clone()),
                    None => Err(match read.errors.get(&i) {
                        Some(e) => {
                            CheckError::Data(format!("partition {}: {e}", file.path.display()))
                        }
                        None => CheckError::Invalid(format!(
                            "partition {}: no state was measured",
                            file.path.display()
                        )),
                    }),
                };
                merged[i] = Some(match (merged[i].take(), state) {
                    (Some(Err(e)), _) | (_, Err(e)) => Err(e),
                    (None, Ok(s)) => Ok(s),
                    (Some(Ok(mut acc)), Ok(s)) => acc
                        .merge(&s)
                        .map(|()| acc)
                        .map_err(|e| CheckError::Invalid(e.to_string())),
                });
            }
            shas.push_str(&stored.sha256);
            rows += stored.rows;
            partitions.push(PartitionRun {
                path: file.path.clone(),
                rows: stored.rows,
                read: read.any,
            });
        }
        let mut outcomes: Vec<Option<CheckOutcome>> = merged
            .into_iter()
            .zip(&expectations)
            .map(|(m, e)| {
                m.map(|r| match r {
                    Ok(mut state) => {
                        // Judged against today's bound, not the stored one.
                        state.expectation = e.clone();
                        state.outcome()
                    }
                    Err(err) => CheckOutcome::errored(e.clone(), err),
                })
            })
            .collect();
        let whole: Vec<usize> = (0..expectations.len())
            .filter(|&i| keys[i].is_none())
            .collect();
        if !whole.is_empty() {
            match crate::data::load_cached(self) {
                Ok(data) => {
                    let exps: Vec<Expectation> =
                        whole.iter().map(|&i| expectations[i].clone()).collect();
                    let all = data.evaluate_with(exps, EvalOptions::default());
                    for (&i, o) in whole.iter().zip(all) {
                        outcomes[i] = Some(o);
                    }
                }
                Err(e) => {
                    for &i in &whole {
                        let error = CheckError::Data(e.to_string());
                        outcomes[i] = Some(CheckOutcome::errored(expectations[i].clone(), error));
                    }
                }
            }
        }
        let read = partitions.iter().filter(|p| p.read).count();
        let info = DataInfo {
            name: self.name.clone(),
            origin: dir.display().to_string(),
            sha256: crate::hash::sha256_hex(shas.as_bytes()),
            rows: usize::try_from(rows).unwrap_or(usize::MAX),
            note: Some(format!(
                "{} partitions: {read} read, {} from stored states{}",
                partitions.len(),
                partitions.len() - read,
                self.note
                    .as_ref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            )),
            load_seconds: 0.0,
            cache: None,
            streamed: false,
        };
        Ok(Incremental {
            info,
            outcomes: super::outcome::every_decided(outcomes, &expectations),
            partitions,
        })
    }

    /// One partition's stored states, brought up to date: read from the
    /// store when the file is unchanged and holds every check, else the
    /// partition is loaded, the missing states measured and the file
    /// rewritten.
    fn partition_states(
        &self,
        file: &PartitionFile,
        expectations: &[Expectation],
        keys: &[Option<String>],
        store: &Path,
    ) -> Result<(Stored, ReadReport), DataError> {
        let path = store.join(state_file_name(&file.path, &self.options.key()));
        let identity = file.identity();
        let current = read_stored(&path, &identity);
        let missing: Vec<usize> = (0..expectations.len())
            .filter(|&i| {
                keys[i]
                    .as_ref()
                    .is_some_and(|k| !current.as_ref().is_some_and(|s| s.states.contains_key(k)))
            })
            .collect();
        let mut report = ReadReport::default();
        if missing.is_empty()
            && let Some(s) = current
        {
            return Ok((s, report));
        }
        report.any = true;
        let part = crate::data::partitions::partition_source(self, &file.path);
        let data = crate::data::load::load(&part)?;
        let mut stored = current.unwrap_or_else(|| Stored {
            format: FORMAT,
            identity: identity.clone(),
            sha256: data.info().sha256.clone(),
            rows: data.info().rows as u64,
            columns: crate::data::partitions::typed_columns(&data.column_schema()),
            states: BTreeMap::new(),
        });
        let exps: Vec<Expectation> = missing.iter().map(|&i| expectations[i].clone()).collect();
        for (&i, state) in missing.iter().zip(data.partials(exps)) {
            match (state, &keys[i]) {
                (Ok(s), Some(k)) => {
                    stored.states.insert(k.clone(), s);
                }
                (Err(e), _) => {
                    report.errors.insert(i, e);
                }
                (Ok(_), None) => {}
            }
        }
        // Another test of this process (or another process) may have stored
        // states of other checks since we read the file: keep them.
        if let Some(theirs) = read_stored(&path, &identity) {
            for (k, s) in theirs.states {
                stored.states.entry(k).or_insert(s);
            }
        }
        write_atomically(&path, &stored)?;
        Ok((stored, report))
    }
}

/// The stored states at `path` when they are of this format and of the
/// file as it is now (`identity`); anything else is measured again.
fn read_stored(path: &Path, identity: &str) -> Option<Stored> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
        .filter(|s| s.format == FORMAT && s.identity == identity)
}

/// What measuring one partition found.
#[derive(Default)]
struct ReadReport {
    /// The partition was read.
    any: bool,
    /// Checks that errored on it, by index.
    errors: BTreeMap<usize, CheckError>,
}

/// The key of a check's state (its metric and segment), `None` for checks
/// without one.
fn state_key(e: &Expectation) -> Option<String> {
    super::partial::mergeable(&e.metric).ok()?;
    let def = serde_json::to_string(&(FORMAT, &e.metric, &e.segment)).ok()?;
    Some(crate::hash::sha256_hex(def.as_bytes()))
}

fn state_file_name(partition: &Path, options: &str) -> String {
    let abs = std::path::absolute(partition).unwrap_or_else(|_| partition.to_path_buf());
    let key = crate::hash::sha256_hex(format!("{}|{options}", abs.display()).as_bytes());
    format!("{}.json", &key[..32])
}

/// Writes `stored` to a temporary file beside `path` and renames it over
/// `path`: a reader sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, stored: &Stored) -> Result<(), DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let bytes = serde_json::to_vec(stored).map_err(|e| io(std::io::Error::other(e)))?;
    // A temporary file of its own per writer (tests of one process write
    // at once), renamed over the old one.
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, &bytes).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
