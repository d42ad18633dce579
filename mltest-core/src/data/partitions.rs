//! A partitioned data set: a directory of CSV or Parquet files with one
//! schema, as data that outgrows one file is kept (`day=2026-12-01.parquet`,
//! `part-00017.parquet`). Checks measure each partition on its own and
//! merge the states ([`crate::expect::partial`]); a partition whose size
//! and modification time are unchanged since its states were stored is not
//! read again (see `expect::incremental`). Loading one as a whole (drift,
//! training) concatenates the partitions in file-name order.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{DataError, DataSource};

/// One partition file and what identifies its content cheaply: size,
/// modification time, and on Unix the inode and status-change time, which
/// no copy tool can set (`cp -p` and `rsync -a` keep the modification
/// time of a rewritten file, not its ctime).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionFile {
    pub path: PathBuf,
    pub bytes: u64,
    /// Modification time in nanoseconds since the epoch (0 when the file
    /// system has none).
    pub modified_ns: u128,
    /// `inode:ctime_ns` on Unix, empty elsewhere.
    pub change: String,
}

impl PartitionFile {
    /// Everything that identifies the file's content without reading it.
    pub fn identity(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.path.display(),
            self.bytes,
            self.modified_ns,
            self.change
        )
    }
}

#[cfg(unix)]
pub(crate) fn change_of(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!("{}:{}:{}", meta.ino(), meta.ctime(), meta.ctime_nsec())
}

#[cfg(not(unix))]
pub(crate) fn change_of(_: &std::fs::Metadata) -> String {
    String::new()
}

/// The partition files of `dir`: every `.csv` and `.parquet` file (any
/// case), in file-name order; hidden files and those starting with `_`
/// (`_SUCCESS`, `.crc`) are skipped. Anything else — a subdirectory
/// (Hive-style `day=…/`), a compressed or other file — is an error naming
/// it, never skipped, so a check never passes on part of the data. An empty
/// directory, or one that mixes the two formats, is an error too.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("b.csv"), "x\n1\n").unwrap();
/// std::fs::write(dir.path().join("a.csv"), "x\n2\n").unwrap();
/// std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
/// let files = mltest_core::data::partition_files(dir.path()).unwrap();
/// let names: Vec<_> = files.iter().map(|f| f.path.file_name().unwrap().to_owned()).collect();
/// assert_eq!(names, ["a.csv", "b.csv"]);
/// ```
pub fn partition_files(dir: &Path) -> Result<Vec<PartitionFile>, DataError> {
    let io = |source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.exists() {
        return Err(DataError::NotFound {
            path: dir.to_path_buf(),
            cwd: std::env::current_dir().unwrap_or_default(),
        });
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(['.', '_']) {
            continue;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !path.is_file() || !matches!(ext.as_str(), "csv" | "parquet") {
            return Err(DataError::Format {
                path: path.clone(),
                message: format!(
                    "not a partition of {}: a partitioned data set is a directory of .csv or \
                     .parquet files ({}; start a name with `_` or `.` to keep a file beside them)",
                    dir.display(),
                    if path.is_dir() {
                        "subdirectories are not read"
                    } else {
                        "compressed and other files are not read"
                    }
                ),
            });
        }
        let meta = std::fs::metadata(&path).map_err(|source| DataError::Io {
            path: path.clone(),
            source,
        })?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        files.push(PartitionFile {
            path,
            bytes: meta.len(),
            modified_ns,
            change: change_of(&meta),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let formats: std::collections::BTreeSet<_> = files
        .iter()
        .filter_map(|f| f.path.extension())
        .map(|e| e.to_ascii_lowercase())
        .collect();
    if files.is_empty() || formats.len() > 1 {
        return Err(DataError::Format {
            path: dir.to_path_buf(),
            message: if files.is_empty() {
                "a partitioned data set needs at least one .csv or .parquet file in the directory"
                    .into()
            } else {
                "the partitions mix .csv and .parquet files: keep one format per data set".into()
            },
        });
    }
    Ok(files)
}

/// The source of one partition: the data set's name and load options.
pub(crate) fn partition_source(of: &DataSource, file: &Path) -> DataSource {
    DataSource::file(file)
        .named(of.name.clone())
        .with_options(of.options.clone())
}

/// Every partition's frame stacked in file-name order, with the
/// partitions' sha256s hashed together; partitions whose columns or dtypes
/// differ from the first one's are an error naming both files.
pub(crate) fn concat(
    source: &DataSource,
    dir: &Path,
    load: impl Fn(&DataSource) -> Result<super::Dataset, DataError>,
) -> Result<(DataFrame, String), DataError> {
    let files = partition_files(dir)?;
    let mut frames: Vec<DataFrame> = Vec::with_capacity(files.len());
    let mut shas = String::new();
    for f in &files {
        let part = load(&partition_source(source, &f.path))?;
        let frame = part.frame().clone();
        if let Some(first) = frames.first()
            && first.schema() != frame.schema()
        {
            return Err(DataError::Format {
                path: f.path.clone(),
                message: format!(
                    "its columns ({}) differ from those of {} ({}): every partition needs one schema",
                    typed_columns(frame.schema()),
                    files[0].path.display(),
                    typed_columns(first.schema())
                ),
            });
        }
        shas.push_str(&part.info().sha256);
        frames.push(frame);
    }
    let mut all = frames.remove(0);
    for f in &frames {
        all.vstack_mut(f).map_err(|e| DataError::Polars {
            origin: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    all.rechunk_mut();
    Ok((all, crate::hash::sha256_hex(shas.as_bytes())))
}

/// `"id" i64, "text" str`: columns with their dtypes, for error messages.
pub(crate) fn typed_columns(schema: &Schema) -> String {
    schema
        .iter()
        .map(|(name, dtype)| format!("{:?} {dtype}", name.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
