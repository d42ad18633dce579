use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::DataFrame;

use super::DType;
use super::generator::ReviewsSpec;

/// How a file is read: which tokens mean "missing", whether text is trimmed,
/// and dtype overrides. Part of a data set's identity (two loads with
/// different options are different data sets).
///
/// ```
/// use mltest_core::LoadOptions;
/// // The Adult census file writes missing values as "?" after a space.
/// let opts = LoadOptions::default().null_tokens(["", "?", "NA"]).trim(true);
/// assert!(opts.trims());
/// ```
///
/// Serialises (for a [`Profile`](crate::drift::Profile)'s identity) as its
/// fields; a field missing from the JSON takes its default.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    pub(crate) null_tokens: Vec<String>,
    pub(crate) trim: bool,
    pub(crate) dtypes: Vec<(String, DType)>,
    pub(crate) infer_rows: Option<usize>,
    pub(crate) columns: Option<Vec<String>>,
}

impl Default for LoadOptions {
    /// Empty fields are missing; nothing is trimmed; dtypes are inferred from
    /// the first 10,000 rows (a later value that does not fit is a parse
    /// error naming its line, not a silent null).
    fn default() -> Self {
        LoadOptions {
            null_tokens: vec![String::new()],
            trim: false,
            dtypes: Vec::new(),
            infer_rows: Some(10_000),
            columns: None,
        }
    }
}

impl LoadOptions {
    /// Field values read as missing (after trimming when [`trim`](Self::trim) is on).
    pub fn null_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.null_tokens = tokens.into_iter().map(Into::into).collect();
        self
    }

    /// Strip leading and trailing whitespace from text fields; a trimmed
    /// text column whose values are all numbers becomes numeric.
    pub fn trim(mut self, on: bool) -> Self {
        self.trim = on;
        self
    }

    /// Whether text is trimmed.
    pub fn trims(&self) -> bool {
        self.trim
    }

    /// Read `column` as `dtype` instead of inferring it.
    pub fn dtype(mut self, column: impl Into<String>, dtype: DType) -> Self {
        self.dtypes.push((column.into(), dtype));
        self
    }

    /// Reads only these columns (projection pushed into the CSV parser):
    /// less time and memory when the checks need a few columns of a wide file.
    pub fn columns<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Rows used to infer dtypes; `None` reads the whole file first.
    pub fn infer_rows(mut self, rows: Option<usize>) -> Self {
        self.infer_rows = rows;
        self
    }

    /// A stable key of what these options mean, for the parse and metric
    /// caches: their JSON (field names and values, in declaration order),
    /// which serde fixes, unlike `Debug` text, which may change with a
    /// compiler or a dependency. A new field changes the key, as it should.
    ///
    /// ```
    /// use mltest_core::{DType, LoadOptions};
    /// let a = LoadOptions::default().trim(true).dtype("Age", DType::Integer);
    /// assert_eq!(a.key(), a.clone().key());
    /// assert_ne!(a.key(), LoadOptions::default().key());
    /// assert!(a.key().contains(r#""trim":true"#));
    /// ```
    pub fn key(&self) -> String {
        // A struct of strings, bools, numbers and unit enums always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Where a data set's rows come from.
#[derive(Clone, Debug)]
pub enum Location {
    /// A CSV file with a header line.
    Csv(PathBuf),
    /// A Parquet file.
    Parquet(PathBuf),
    /// Rows made by the seeded reviews generator.
    Generated(ReviewsSpec),
    /// An in-memory frame (tests, pipelines that already hold the data).
    Frame(Arc<DataFrame>),
    /// A directory of CSV or Parquet partitions with one schema (see
    /// [`DataSource::partitioned`]).
    Partitioned(PathBuf),
}

/// A named description of a data set: where it is and how to read it.
/// Loading is lazy and cached per process, so every test in a binary that
/// names the same source shares one parse.
///
/// ```
/// use mltest_core::DataSource;
/// let src = DataSource::csv("data/reviews.csv").named("reviews");
/// assert_eq!(src.name(), "reviews");
/// ```
#[derive(Clone, Debug)]
pub struct DataSource {
    pub(crate) name: String,
    pub(crate) location: Location,
    pub(crate) options: LoadOptions,
    pub(crate) note: Option<String>,
    pub(crate) streaming: Streaming,
    pub(crate) engine: Engine,
    /// A number no other `DataSource::frame` of this process has: the
    /// per-process cache keys in-memory frames by it, since a frame's
    /// address is reused once it is freed (0 for every other location).
    pub(crate) instance: u64,
}

/// The engine a source's `#[data_expectation]` checks run on.
///
/// Polars (the default) loads or streams the data in this process;
/// [`Engine::DataFusion`] hands the same expectations to Apache DataFusion
/// (cargo feature `datafusion`), which reads CSV and Parquet itself, and
/// gives the same figures and verdicts. `MLTEST_ENGINE=datafusion` (or
/// `polars`) switches every source of a run without touching the suite.
///
/// ```
/// use mltest_core::data::{DataSource, Engine};
/// # if std::env::var_os("MLTEST_ENGINE").is_some() { return; }
/// let src = DataSource::csv("events.csv").engine(Engine::DataFusion);
/// assert_eq!(src.engine_in_use(), Engine::DataFusion);
/// assert_eq!(DataSource::csv("events.csv").engine_in_use(), Engine::Polars);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Engine {
    /// polars, in memory or streaming (see [`Streaming`]).
    #[default]
    Polars,
    /// Apache DataFusion (needs the `datafusion` cargo feature; without it a
    /// check asking for it errors and says so).
    DataFusion,
}

/// Whether `#[data_expectation]` tests load a file into memory or stream it
/// (see [`DataSource::evaluate_streaming`]). Not part of the data set's
/// identity: both give the same figures, except quantiles, which streaming
/// estimates with a KLL sketch and a stated error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Streaming {
    /// Stream files larger than `MLTEST_STREAM_ABOVE` bytes (suffixes K, M,
    /// G allowed), or by default larger than a quarter of the machine's
    /// memory (a parsed CSV takes about as much memory as the file).
    #[default]
    Auto,
    /// Always stream (file sources; others are in memory anyway).
    Always,
    /// Always load into memory.
    Never,
    /// Stream files larger than this many bytes.
    Above(u64),
}

/// A quarter of MemTotal (4 GiB when /proc/meminfo cannot be read).
fn default_stream_above() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(4 << 30, |kib| kib * 1024 / 4)
}

impl DataSource {
    /// This source, or the file `MLTEST_DATA_<NAME>` names in its place
    /// ([`crate::config::data_var`]): how a production batch goes through
    /// the compiled suites without a rebuild (`mltest check --data
    /// NAME=PATH` sets it). The replacement keeps the name, load options
    /// and streaming choice; its note says what it replaced.
    ///
    /// ```
    /// use mltest_core::DataSource;
    /// # if std::env::var_os("MLTEST_DATA_NO_SUCH_SET").is_some() { return; }
    /// let src = DataSource::csv("a.csv").named("no such set").overridden();
    /// assert!(src.note().is_none());
    /// ```
    pub fn overridden(self) -> DataSource {
        let Some(path) = crate::config::data_override(&self.name) else {
            return self;
        };
        let note = format!(
            "{}={} replaces the fixture's data set",
            crate::config::data_var(&self.name),
            path.display()
        );
        // A directory is a partitioned batch (`--data reviews=/data/parts/`).
        let mut s = if path.is_dir() {
            DataSource::partitioned(&path)
        } else {
            DataSource::file(&path)
        }
        .named(self.name);
        s.options = self.options;
        s.streaming = self.streaming;
        s.engine = self.engine;
        s.note = Some(note);
        s
    }

    /// The note shown with the data set's figures, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// A CSV file; the name defaults to the file stem.
    pub fn csv(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        DataSource::new(stem(&path), Location::Csv(path))
    }

    /// A Parquet file; the name defaults to the file stem.
    pub fn parquet(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        DataSource::new(stem(&path), Location::Parquet(path))
    }

    /// A file whose format is taken from its extension (`.parquet`, else CSV).
    pub fn file(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => DataSource::parquet(path),
            _ => DataSource::csv(path),
        }
    }

    /// A directory of CSV or Parquet files with one schema; the name
    /// defaults to the directory's. `#[data_expectation]` checks measure
    /// each partition once and merge the figures: a run after a new
    /// partition lands reads only that one ([`crate::expect::partial`]).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("day-1.csv"), "x\n1\n2\n").unwrap();
    /// std::fs::write(dir.path().join("day-2.csv"), "x\n3\n").unwrap();
    /// let src = mltest_core::DataSource::partitioned(dir.path()).named("days");
    /// let all = mltest_core::data::load_cached(&src).unwrap();
    /// assert_eq!(all.frame().height(), 3);
    /// ```
    pub fn partitioned(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref().to_path_buf();
        let name = dir
            .file_name()
            .map_or_else(|| "partitions".into(), |n| n.to_string_lossy().into_owned());
        DataSource::new(name, Location::Partitioned(dir))
    }

    /// Rows from the seeded reviews generator.
    pub fn generated(spec: ReviewsSpec) -> Self {
        DataSource::new("generated reviews".into(), Location::Generated(spec))
    }

    /// A frame already in memory.
    pub fn frame(name: impl Into<String>, frame: DataFrame) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut source = DataSource::new(name.into(), Location::Frame(Arc::new(frame)));
        source.instance = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        source
    }

    fn new(name: String, location: Location) -> Self {
        DataSource {
            name,
            location,
            options: LoadOptions::default(),
            note: None,
            streaming: Streaming::Auto,
            engine: Engine::Polars,
            instance: 0,
        }
    }

    /// Runs this source's checks on `engine` (see [`Engine`]).
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The engine its checks run on: `MLTEST_ENGINE` when set, else the
    /// one [`engine`](Self::engine) chose (polars by default).
    pub fn engine_in_use(&self) -> Engine {
        match crate::config::engine().as_deref() {
            Some("datafusion") => Engine::DataFusion,
            Some(_) => Engine::Polars,
            None => self.engine,
        }
    }

    /// How `#[data_expectation]` tests read this source: loaded into memory
    /// or streamed (for files larger than memory).
    ///
    /// ```
    /// use mltest_core::data::Streaming;
    /// use mltest_core::DataSource;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("d.csv");
    /// std::fs::write(&path, "x\n1\n2\n").unwrap();
    /// assert!(DataSource::csv(&path).streaming(Streaming::Always).streams());
    /// assert!(!DataSource::csv(&path).streaming(Streaming::Above(1 << 20)).streams());
    /// assert!(DataSource::csv(&path).streaming(Streaming::Above(4)).streams());
    /// ```
    pub fn streaming(mut self, streaming: Streaming) -> Self {
        self.streaming = streaming;
        self
    }

    /// The file behind a CSV or Parquet source (the sources that stream).
    pub(crate) fn file_path(&self) -> Option<&std::path::Path> {
        match &self.location {
            Location::Csv(p) | Location::Parquet(p) => Some(p),
            _ => None,
        }
    }

    /// Whether tests stream this source rather than load it (only files stream).
    pub fn streams(&self) -> bool {
        let Some(path) = self.file_path() else {
            return false;
        };
        let above = match self.streaming {
            Streaming::Never => return false,
            Streaming::Always => return true,
            Streaming::Above(n) => n,
            Streaming::Auto => crate::config::stream_above().unwrap_or_else(default_stream_above),
        };
        std::fs::metadata(path).is_ok_and(|m| m.len() > above)
    }

    /// Renames the data set (the name appears in reports and records).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the load options.
    pub fn with_options(mut self, options: LoadOptions) -> Self {
        self.options = options;
        self
    }

    /// Attaches a note shown in reports (e.g. why a fallback was used).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The data set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the rows come from.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The load options.
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// Identity used by the per-process cache: same location and options,
    /// same data set. In-memory frames are keyed by the number
    /// [`DataSource::frame`] gave them (clones share it).
    pub(crate) fn cache_key(&self) -> String {
        let loc = match &self.location {
            Location::Csv(p) => format!("csv:{}", absolute(p).display()),
            Location::Parquet(p) => format!("parquet:{}", absolute(p).display()),
            Location::Generated(spec) => format!("generated:{spec:?}"),
            Location::Frame(_) => format!("frame:{}", self.instance),
            // The files as they are now: a partition added or rewritten
            // since the last load is another data set.
            Location::Partitioned(d) => {
                let files = super::partition_files(d).unwrap_or_default();
                let files: Vec<String> = files.iter().map(super::PartitionFile::identity).collect();
                format!("partitioned:{}:{}", absolute(d).display(), files.join(","))
            }
        };
        format!("{}|{loc}|{:?}", self.name, self.options)
    }
}

/// What a data fixture may return: a [`DataSource`] or a path to a file.
pub trait IntoDataSource {
    /// Converts into a data source.
    fn into_data_source(self) -> DataSource;
}

impl IntoDataSource for DataSource {
    fn into_data_source(self) -> DataSource {
        self
    }
}

impl IntoDataSource for &str {
    fn into_data_source(self) -> DataSource {
        DataSource::file(self)
    }
}

impl IntoDataSource for PathBuf {
    fn into_data_source(self) -> DataSource {
        DataSource::file(self)
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
