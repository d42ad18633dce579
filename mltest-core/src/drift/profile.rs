//! Reference profiles: a reviewable text snapshot of the training data
//! (in the spirit of insta), committed to the repository so drift tests run
//! in CI without a copy of the training data.
//!
//! A profile holds, per column: for numbers the value counts (when there are
//! at most [`EXACT_MAX_DISTINCT`] distinct values, which keeps KS and
//! Wasserstein exact), quantiles and the PSI histogram; for categories every
//! category's count; for text the length distribution and the vocabulary
//! (words seen at least twice). Null rates per segment are listed for
//! review. Statistics that need raw values the profile lacks (KS on a
//! high-cardinality column, prediction drift) fail with an error that says so.
//!
//! A changed profile is never written silently: [`Profile::write_reviewed`]
//! writes `<path>.new` and fails, and only `MLTEST_UPDATE=1` (or
//! `mltest profile accept <path>`) replaces the committed file.
//!
//! **Identity.** A profile is the same snapshot when its *data* and its
//! *definition* are: the content (`data.sha256`, which for a filtered or
//! split data set also covers the filter, and the row count), the load
//! options the file was read with (`load`), the profiled columns with their
//! kinds and figures, and the segment columns of the null-rate table. The
//! path the data was reached by (`data.origin`), the data set's name and its
//! note are display only: the same bytes read from a copy, another checkout
//! or through `MLTEST_REVIEWS_CSV` are current, and the committed file keeps
//! the path it was written with.
//!
//! **Format.** `format` is 2 since the load options joined the identity.
//! Files of format 1 (without `load`) are still read, so drift tests keep
//! running on them; reviewing one against new data reports the format
//! change once, and accepting it upgrades the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::column::raw_summary;
use super::summary::{NumericSummary, Summary};
use super::{ColumnKind, DriftError};
use crate::data::{DataInfo, Dataset, LoadOptions};

pub use super::summary::EXACT_MAX_DISTINCT;
/// Format version of the profile file this mltest writes.
pub const FORMAT: u32 = 2;
/// Oldest format this mltest reads (format 1 lacks the load options).
pub const OLDEST_FORMAT: u32 = 1;

/// A profile snapshot of one data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// [`FORMAT`] when written by this mltest; older files keep theirs.
    pub format: u32,
    /// Provenance of the profiled data (load time zeroed so snapshots
    /// repeat). Its `sha256` and `rows` are identity; `name`, `origin` (the
    /// path) and `note` are display only.
    pub data: DataInfo,
    /// The options the data was read with (see [`Dataset::load_options`]):
    /// part of the identity. `None` for a frame wrapped in memory, and in
    /// format-1 files, which did not record them.
    #[serde(default)]
    pub load: Option<LoadOptions>,
    /// Per profiled column, its summary (the kind is part of it).
    pub columns: BTreeMap<String, Summary>,
    /// Null fraction per column, per value of each segment column:
    /// `segment column -> segment value -> column -> null fraction`.
    pub null_rates: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    #[serde(skip)]
    pub(crate) path: Option<PathBuf>,
}

/// Errors reading, writing or reviewing a profile; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "profile {path} is not a valid profile (this mltest reads formats {OLDEST_FORMAT} to {FORMAT}): {message}"
    )]
    Parse { path: PathBuf, message: String },
    #[error("cannot write profile {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "profile {path} changed; review the new snapshot at {new}:\n{changes}\n\
         accept it with `MLTEST_UPDATE=1` (e.g. `MLTEST_UPDATE=1 cargo test --release --test drift`) \
         or `mltest profile accept {path}`"
    )]
    Changed {
        path: PathBuf,
        new: PathBuf,
        changes: String,
    },
    #[error("no pending snapshot {0}: nothing to accept")]
    NothingPending(PathBuf),
    #[error(transparent)]
    Drift(#[from] DriftError),
}

/// What [`Profile::write_reviewed`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Review {
    /// The committed file already holds this profile.
    Unchanged,
    /// The file was written (new, or accepted through `MLTEST_UPDATE=1`).
    Written,
}

impl Profile {
    /// Profiles `columns` of `data` (kinds as in [`super::Drift`]; `Auto`
    /// takes numbers as numeric and everything else as categories), with null
    /// rates per value of each `segments` column.
    ///
    /// ```
    /// use mltest_core::drift::{ColumnKind, Profile};
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let data = Dataset::from_frame("t", df!(
    ///     "age" => [Some(30.0), None, Some(41.0), Some(30.0)],
    ///     "dept" => ["Tops", "Tops", "Dresses", "Tops"],
    /// ).unwrap());
    /// let p = Profile::build(&data, &[("age", ColumnKind::Auto), ("dept", ColumnKind::Auto)], &["dept"]).unwrap();
    /// assert_eq!(p.null_rates["dept"]["Tops"]["age"], 1.0 / 3.0);
    /// ```
    pub fn build(
        data: &Dataset,
        columns: &[(&str, ColumnKind)],
        segments: &[&str],
    ) -> Result<Self, DriftError> {
        let side = format!("profiled data {}", data.info().name);
        let mut out = BTreeMap::new();
        for (name, kind) in columns {
            let kind = match kind {
                ColumnKind::Auto => {
                    if super::frame_column(data.frame(), &side, name)?
                        .dtype()
                        .is_primitive_numeric()
                    {
                        ColumnKind::Numeric
                    } else {
                        ColumnKind::Categorical
                    }
                }
                k => *k,
            };
            let mut summary = raw_summary(data.frame(), &side, name, kind, None)?;
            let trim = |n: &mut NumericSummary| {
                if n.exact
                    .as_ref()
                    .is_some_and(|e| e.values.len() > EXACT_MAX_DISTINCT)
                {
                    n.exact = None;
                }
            };
            match &mut summary {
                Summary::Numeric(n) => trim(n),
                Summary::Text(t) => {
                    trim(&mut t.lengths);
                    t.token_counts = Default::default();
                }
                Summary::Categorical(_) => {}
            }
            out.insert(name.to_string(), summary);
        }
        let mut null_rates = BTreeMap::new();
        for seg in segments {
            null_rates.insert(seg.to_string(), segment_nulls(data, &side, seg, columns)?);
        }
        // Only what identifies the data: a snapshot must not change because
        // a load took longer or came from the parse cache.
        let mut info = data.info().clone();
        info.load_seconds = 0.0;
        info.cache = None;
        Ok(Profile {
            format: FORMAT,
            data: info,
            load: data.load_options().cloned(),
            columns: out,
            null_rates,
            path: None,
        })
    }

    /// Reads a committed profile (formats [`OLDEST_FORMAT`] to [`FORMAT`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut p: Profile = serde_json::from_str(&text).map_err(|e| ProfileError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if !(OLDEST_FORMAT..=FORMAT).contains(&p.format) {
            return Err(ProfileError::Parse {
                path: path.to_path_buf(),
                message: format!("format {} was written by another mltest version", p.format),
            });
        }
        p.path = Some(path.to_path_buf());
        Ok(p)
    }

    /// The snapshot text: pretty JSON, keys sorted, one figure per line, so
    /// a review sees exactly which counts moved.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("profiles serialise");
        s.push('\n');
        s
    }

    /// The summary of one column.
    pub fn column(&self, name: &str) -> Result<&Summary, DriftError> {
        self.columns.get(name).ok_or_else(|| DriftError::Column {
            side: format!(
                "profile {}",
                self.path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| self.data.name.clone())
            ),
            column: name.to_string(),
            why: format!(
                "is not profiled; profiled columns: {}",
                self.columns.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// Writes the profile to `path` under review: the same snapshot (see
    /// the module docs: content, load options and definition; the path is
    /// display only) → nothing, and the committed file is left as it is; new
    /// file → written; changed → `<path>.new` is written and
    /// [`ProfileError::Changed`] lists what changed, unless `MLTEST_UPDATE=1`
    /// (or `accept`) asks to replace the committed file.
    ///
    /// ```
    /// use mltest_core::drift::{ColumnKind, Profile, profile::Review};
    /// use mltest_core::{DataSource, LoadOptions};
    /// # if std::env::var_os("MLTEST_UPDATE").is_some() { return; }
    /// let dir = tempfile::tempdir().unwrap();
    /// let (a, b) = (dir.path().join("a.csv"), dir.path().join("copy-of-a.csv"));
    /// std::fs::write(&a, "age\n30\n41\n").unwrap();
    /// std::fs::copy(&a, &b).unwrap();
    /// let profile = |csv: &std::path::Path, options: LoadOptions| {
    ///     let src = DataSource::csv(csv).with_options(options);
    ///     let data = mltest_core::data::load_cached(&src).unwrap();
    ///     Profile::build(&data, &[("age", ColumnKind::Numeric)], &[]).unwrap()
    /// };
    /// let out = dir.path().join("a.profile.json");
    /// assert_eq!(profile(&a, LoadOptions::default()).write_reviewed(&out, false).unwrap(), Review::Written);
    /// // The same bytes by another path: the same snapshot.
    /// assert_eq!(profile(&b, LoadOptions::default()).write_reviewed(&out, false).unwrap(), Review::Unchanged);
    /// // The same bytes read another way: a change to review.
    /// let trimmed = profile(&a, LoadOptions::default().trim(true));
    /// assert!(trimmed.write_reviewed(&out, false).unwrap_err().to_string().contains("load options"));
    /// ```
    pub fn write_reviewed(
        &self,
        path: impl AsRef<Path>,
        accept: bool,
    ) -> Result<Review, ProfileError> {
        let path = path.as_ref();
        let text = self.to_text();
        let accept = accept || crate::config::update_profiles();
        let new = pending_path(path);
        let write = |p: &Path, t: &str| {
            crate::outdir::write_atomic(p, t.as_bytes()).map_err(|source| ProfileError::Write {
                path: p.to_path_buf(),
                source,
            })
        };
        match std::fs::read_to_string(path) {
            Ok(old) if old == text || same_snapshot(&old, &text) => {
                let _ = std::fs::remove_file(&new);
                Ok(Review::Unchanged)
            }
            Ok(old) if !accept => {
                write(&new, &text)?;
                let changes = match serde_json::from_str::<Profile>(&old) {
                    Ok(old_profile) => changes(&old_profile, &old, self, &text),
                    Err(e) => format!("  the committed file does not parse: {e}"),
                };
                Err(ProfileError::Changed {
                    path: path.to_path_buf(),
                    new,
                    changes,
                })
            }
            _ => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| ProfileError::Write {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                write(path, &text)?;
                let _ = std::fs::remove_file(&new);
                Ok(Review::Written)
            }
        }
    }

    /// Moves a pending `<path>.new` snapshot over `path` (the review step of
    /// `mltest profile accept`).
    pub fn accept(path: impl AsRef<Path>) -> Result<(), ProfileError> {
        let path = path.as_ref();
        let new = pending_path(path);
        if !new.exists() {
            return Err(ProfileError::NothingPending(new));
        }
        std::fs::rename(&new, path).map_err(|source| ProfileError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// `<path>.new`.
pub fn pending_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

fn segment_nulls(
    data: &Dataset,
    side: &str,
    segment: &str,
    columns: &[(&str, ColumnKind)],
) -> Result<BTreeMap<String, BTreeMap<String, f64>>, DriftError> {
    use polars::prelude::DataType;
    let frame = data.frame();
    let seg = super::frame_column(frame, side, segment)?
        .cast(&DataType::String)
        .map_err(|e| DriftError::polars(side, segment, e))?;
    let seg = seg
        .str()
        .map_err(|e| DriftError::polars(side, segment, e))?;
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut nulls: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let masks: Vec<(&str, polars::prelude::BooleanChunked)> = columns
        .iter()
        .map(|(c, _)| Ok((*c, super::frame_column(frame, side, c)?.is_null())))
        .collect::<Result<_, DriftError>>()?;
    for (i, s) in seg.iter().enumerate() {
        let key = s.unwrap_or("(missing)").to_string();
        *rows.entry(key.clone()).or_default() += 1;
        let entry = nulls.entry(key).or_default();
        for (c, mask) in &masks {
            if mask.get(i) == Some(true) {
                *entry.entry(c.to_string()).or_default() += 1;
            } else {
                entry.entry(c.to_string()).or_default();
            }
        }
    }
    Ok(nulls
        .into_iter()
        .map(|(k, cols)| {
            let n = rows[&k] as f64;
            (
                k,
                cols.into_iter().map(|(c, v)| (c, v as f64 / n)).collect(),
            )
        })
        .collect())
}

/// The identity of a profile's text: everything but the display fields
/// (`data.name`, `data.origin`, `data.note` and the load bookkeeping).
/// `None` when the text does not parse.
fn identity(text: &str) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
    let data = v.get_mut("data")?.as_object_mut()?;
    for display in [
        "name",
        "origin",
        "note",
        "load_seconds",
        "cache",
        "streamed",
    ] {
        data.remove(display);
    }
    let object = v.as_object_mut()?;
    // Format 1 had no `load`; a missing key and `null` are the same.
    object.entry("load").or_insert(serde_json::Value::Null);
    Some(v)
}

/// Whether two profile texts hold the same snapshot: same identity (both
/// parsed the same way, so figures that round-trip compare equal).
fn same_snapshot(old_text: &str, new_text: &str) -> bool {
    matches!((identity(old_text), identity(new_text)), (Some(a), Some(b)) if a == b)
}

/// What differs between two profiles, one line per change, for the review.
/// Columns are compared as parsed JSON of both texts, so a figure that
/// round-trips through the file is not reported as changed.
fn changes(old: &Profile, old_text: &str, new: &Profile, new_text: &str) -> String {
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap_or_default();
    let (old_json, new_json) = (parse(old_text), parse(new_text));
    let mut lines = Vec::new();
    if old.format != new.format {
        lines.push(format!(
            "  format {} → {}: the profile now records the load options the data was read with",
            old.format, new.format
        ));
    }
    // The path, name and note are display only: a change of content is a
    // change of sha256 or rows.
    if old_json["data"]["sha256"] != new_json["data"]["sha256"]
        || old_json["data"]["rows"] != new_json["data"]["rows"]
    {
        lines.push(format!(
            "  data: {} {} → {} {}",
            old.data.name,
            old.data.short(),
            new.data.name,
            new.data.short()
        ));
    }
    let load = |p: &Profile| match &p.load {
        Some(o) => serde_json::to_string(o).unwrap_or_default(),
        None => "not recorded".into(),
    };
    if old.load != new.load {
        lines.push(format!("  load options: {} → {}", load(old), load(new)));
    }
    for (name, summary) in &new.columns {
        match old.columns.get(name) {
            None => lines.push(format!("  column {name:?}: added")),
            Some(o) if old_json["columns"][name] != new_json["columns"][name] => lines.push(
                format!("  column {name:?}: {}", describe_change(o, summary)),
            ),
            _ => {}
        }
    }
    for name in old.columns.keys().filter(|k| !new.columns.contains_key(*k)) {
        lines.push(format!("  column {name:?}: removed"));
    }
    if old_json["null_rates"] != new_json["null_rates"] {
        lines.push("  null rates per segment changed".into());
    }
    if lines.is_empty() {
        lines.push("  formatting only".into());
    }
    lines.join("\n")
}

fn describe_change(old: &Summary, new: &Summary) -> String {
    match (old, new) {
        (Summary::Numeric(a), Summary::Numeric(b)) => format!(
            "{} rows → {}; {} → {}",
            a.rows,
            b.rows,
            a.describe(),
            b.describe()
        ),
        (Summary::Categorical(a), Summary::Categorical(b)) => format!(
            "{} rows → {}; {} → {}",
            a.rows,
            b.rows,
            a.describe(),
            b.describe()
        ),
        (Summary::Text(a), Summary::Text(b)) => format!(
            "{} rows → {}; vocabulary {} → {} words",
            a.rows,
            b.rows,
            a.vocabulary.len(),
            b.vocabulary.len()
        ),
        _ => "kind changed".into(),
    }
}
