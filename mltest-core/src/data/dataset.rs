use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::DataError;

/// Provenance of a loaded data set, carried into every report and record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DataInfo {
    /// The data set's name (from its [`DataSource`](super::DataSource)).
    pub name: String,
    /// Where it came from: a path, or a description of generated rows.
    pub origin: String,
    /// sha256 of the file's bytes (or of the generator's parameters), hex.
    pub sha256: String,
    /// Rows after loading.
    pub rows: usize,
    /// A note for the reader (e.g. that the generated fixture stood in for a missing file).
    pub note: Option<String>,
    /// Seconds the load took (parse, cleaning and hashing).
    pub load_seconds: f64,
    /// How the parse cache served this load, when it did (see
    /// `data::parse_cache`): reports say when figures rest on cached columns.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::parse_cache::CacheUse::deserialize_lenient"
    )]
    pub cache: Option<super::parse_cache::CacheUse>,
    /// The checks streamed the file (never held in memory): quantiles are
    /// KLL estimates with a stated error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub streamed: bool,
}

impl DataInfo {
    /// `path (sha256 bd93cc51…)`, the form reports print.
    pub fn short(&self) -> String {
        let prefix: String = self.sha256.chars().take(8).collect();
        format!(
            "{} (sha256 {prefix}…, {} rows{})",
            self.origin,
            crate::text::thousands(self.rows as u64),
            if self
                .cache
                .as_ref()
                .is_some_and(super::parse_cache::CacheUse::is_hit)
            {
                ", from the parse cache"
            } else if self.streamed {
                ", streamed"
            } else {
                ""
            }
        )
    }
}

/// A loaded, typed data set: a polars frame plus its provenance.
/// Expectations are built from it (`dataset.column("Age")...`) and evaluated
/// against it in one pass.
///
/// ```
/// use mltest_core::Dataset;
/// use polars::prelude::*;
/// let frame = df!("Age" => [Some(30i64), None, Some(41)]).unwrap();
/// let data = Dataset::from_frame("people", frame);
/// let outcome = data.evaluate_one(data.column("Age").null_fraction().at_most(0.5));
/// assert!(outcome.passed());
/// assert_eq!(outcome.observed, Some(1.0 / 3.0));
/// ```
#[derive(Clone)]
pub struct Dataset {
    pub(crate) info: DataInfo,
    cell: std::sync::Arc<FrameCell>,
    /// Identity for the metric cache: set only for file sources whose
    /// content hash is known (never for in-memory or derived frames, whose
    /// fingerprint does not cover their values).
    pub(crate) identity: Option<CacheIdentity>,
    /// How the source was read (set by the loaders; `None` for a frame
    /// wrapped with [`Dataset::from_frame`]). Derived data sets keep it.
    pub(crate) load_options: Option<super::LoadOptions>,
}

/// Where a data set's metric-cache entries live and under which key.
#[derive(Clone, Debug)]
pub(crate) struct CacheIdentity {
    pub key: String,
    pub dir: std::path::PathBuf,
}

/// Reads the values of a deferred data set: the given columns, or all.
pub(crate) type Loader = Box<dyn Fn(Option<&[String]>) -> Result<DataFrame, String> + Send + Sync>;

/// The frame, in memory or read on first use (a data set served by the
/// parse cache is read only when something needs its values, and checks
/// read only the columns they use).
struct FrameCell {
    frame: std::sync::OnceLock<DataFrame>,
    load: Option<Loader>,
    schema: Option<polars::prelude::SchemaRef>,
    /// Columns read on their own (`frame_of`) before the whole frame was needed.
    parts: std::sync::Mutex<std::collections::HashMap<String, polars::prelude::Column>>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("info", &self.info)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}

/// Identity of an in-memory frame: sha256 of its name and schema (hashing
/// every value would cost a full pass for a figure only reports show).
pub(crate) fn frame_fingerprint(name: &str, frame: &DataFrame) -> String {
    crate::hash::sha256_hex(format!("{name}:{:?}", frame.schema()).as_bytes())
}

impl Dataset {
    /// Wraps a frame already in memory (sha256 over its name and shape).
    pub fn from_frame(name: impl Into<String>, frame: DataFrame) -> Self {
        let name = name.into();
        let sha = frame_fingerprint(&name, &frame);
        Dataset {
            info: DataInfo {
                origin: format!("in-memory frame {name:?}"),
                name,
                sha256: sha,
                rows: frame.height(),
                note: None,
                load_seconds: 0.0,
                cache: None,
                streamed: false,
            },
            cell: ready(frame),
            identity: None,
            load_options: None,
        }
    }

    pub(crate) fn new(info: DataInfo, frame: DataFrame) -> Self {
        Dataset {
            info,
            cell: ready(frame),
            identity: None,
            load_options: None,
        }
    }

    /// A data set whose values are read by `load` on first use.
    pub(crate) fn deferred(
        info: DataInfo,
        schema: polars::prelude::SchemaRef,
        identity: Option<CacheIdentity>,
        load: Loader,
    ) -> Self {
        Dataset {
            info,
            cell: std::sync::Arc::new(FrameCell {
                frame: std::sync::OnceLock::new(),
                load: Some(load),
                schema: Some(schema),
                parts: Default::default(),
            }),
            identity,
            load_options: None,
        }
    }

    pub(crate) fn with_identity(mut self, identity: Option<CacheIdentity>) -> Self {
        self.identity = identity;
        self
    }

    /// Records the options the source was read with (the loaders call it).
    pub(crate) fn with_load_options(mut self, options: &super::LoadOptions) -> Self {
        self.load_options = Some(options.clone());
        self
    }

    /// The options the data was read with — null tokens, trimming, dtype
    /// overrides, inference rows, projected columns — which are part of the
    /// data set's identity with its sha256 (a [`Profile`](crate::drift::Profile)
    /// records both). `None` for a frame wrapped with [`Dataset::from_frame`].
    ///
    /// ```
    /// use mltest_core::{DataSource, LoadOptions};
    /// use mltest_core::data::generator::ReviewsSpec;
    /// let opts = LoadOptions::default().null_tokens(["", "NA"]);
    /// let src = DataSource::generated(ReviewsSpec::new(50, 1)).with_options(opts.clone());
    /// let data = mltest_core::data::load_cached(&src).unwrap();
    /// assert_eq!(data.load_options(), Some(&opts));
    /// assert_eq!(data.rows_where("Division Name", "General").unwrap().load_options(), Some(&opts));
    /// ```
    pub fn load_options(&self) -> Option<&super::LoadOptions> {
        self.load_options.as_ref()
    }

    /// Whether the values are in memory (false while a data set served by
    /// the parse cache has not been needed yet).
    pub fn is_loaded(&self) -> bool {
        self.cell.frame.get().is_some()
    }

    /// The column names and dtypes, without reading the values.
    pub fn column_schema(&self) -> polars::prelude::SchemaRef {
        match (&self.cell.schema, self.cell.frame.get()) {
            (_, Some(f)) => f.schema().clone(),
            (Some(s), None) => s.clone(),
            (None, None) => self.frame().schema().clone(),
        }
    }

    /// Provenance: name, origin, sha256, rows.
    pub fn info(&self) -> &DataInfo {
        &self.info
    }

    /// The loaded frame (read now if it was deferred).
    ///
    /// # Panics
    /// When a deferred read fails twice (the cached columns and then the
    /// source itself): the message names the file. Test runners turn the
    /// panic into an errored check.
    pub fn frame(&self) -> &DataFrame {
        self.cell.frame.get_or_init(|| match &self.cell.load {
            Some(load) => {
                let frame = load(None).unwrap_or_else(|e| self.unreadable(&e));
                // The whole frame holds them now.
                self.parts().clear();
                frame
            }
            None => DataFrame::empty(),
        })
    }

    /// The columns read into memory so far: all of them once something
    /// needed the frame; for a data set served by the parse cache, only
    /// those its checks used until then.
    ///
    /// ```
    /// use mltest_core::data::{load_with, parse_cache::CacheMode};
    /// use mltest_core::{expect::column, DataSource};
    /// let dir = tempfile::tempdir().unwrap();
    /// let csv = dir.path().join("t.csv");
    /// std::fs::write(&csv, "age,text\n31,long review\n42,another\n").unwrap();
    /// let (src, cache) = (DataSource::csv(&csv), dir.path().join("cache"));
    /// load_with(&src, &cache, CacheMode::On).unwrap(); // parses, stores the entry
    /// let data = load_with(&src, &cache, CacheMode::On).unwrap(); // served by the entry
    /// assert!(data.loaded_columns().is_empty());
    /// assert!(data.evaluate_one(column("age").mean().between(30.0, 50.0)).passed());
    /// assert_eq!(data.loaded_columns(), ["age"]);
    /// ```
    pub fn loaded_columns(&self) -> Vec<String> {
        match self.cell.frame.get() {
            Some(f) => f.get_column_names().iter().map(|c| c.to_string()).collect(),
            None => self
                .column_names()
                .into_iter()
                .filter(|c| self.parts().contains_key(c))
                .collect(),
        }
    }

    /// The frame with only `columns` (in file order) when the values are
    /// still on disk, reading just those; the whole frame when it is in
    /// memory, when `columns` is `None`, or when one of them is unknown (so
    /// the error lists every column).
    pub(crate) fn frame_of(&self, columns: Option<&[String]>) -> DataFrame {
        let (Some(load), Some(schema), Some(columns)) =
            (&self.cell.load, &self.cell.schema, columns)
        else {
            return self.frame().clone();
        };
        if self.is_loaded() || columns.iter().any(|c| schema.get(c).is_none()) {
            return self.frame().clone();
        }
        let mut wanted: Vec<String> = schema
            .iter_names()
            .filter(|n| columns.iter().any(|c| c == n.as_str()))
            .map(|n| n.to_string())
            .collect();
        if wanted.is_empty() {
            // A frame without columns has no rows: a row count needs one,
            // preferably not a text column.
            let pick = schema
                .iter()
                .find(|(_, dt)| !matches!(dt, polars::prelude::DataType::String))
                .or_else(|| schema.iter().next())
                .map(|(n, _)| n.to_string());
            let Some(pick) = pick else {
                return self.frame().clone();
            };
            wanted.push(pick);
        }
        let mut parts = self.parts();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|c| !parts.contains_key(*c))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let read = load(Some(&missing)).unwrap_or_else(|e| self.unreadable(&e));
            for c in read.columns() {
                parts.insert(c.name().to_string(), c.clone());
            }
        }
        let cols: Option<Vec<_>> = wanted.iter().map(|c| parts.get(c).cloned()).collect();
        match cols.map(DataFrame::new_infer_height) {
            Some(Ok(frame)) => frame,
            _ => {
                drop(parts);
                self.frame().clone()
            }
        }
    }

    fn parts(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, polars::prelude::Column>> {
        self.cell
            .parts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn unreadable(&self, why: &str) -> ! {
        panic!(
            "mltest: cannot read the data of {}: {why}",
            self.info.origin
        )
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        if self.is_loaded() {
            self.frame().height()
        } else {
            self.info.rows
        }
    }

    /// Column names in file order.
    pub fn column_names(&self) -> Vec<String> {
        self.column_schema()
            .iter_names()
            .map(|c| c.to_string())
            .collect()
    }

    /// The rows where `column` equals `value` (compared as text): a data set
    /// named `name[column == value]` whose provenance names the parent file
    /// and the filter.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let d = Dataset::from_frame("t", df!("div" => ["A", "B", "A"], "x" => [1, 2, 3]).unwrap());
    /// let a = d.rows_where("div", "A").unwrap();
    /// assert_eq!((a.height(), a.info().name.as_str()), (2, "t[div == A]"));
    /// assert!(d.rows_where("dvi", "A").unwrap_err().to_string().contains("\"div\""));
    /// ```
    pub fn rows_where(&self, column: &str, value: &str) -> Result<Dataset, DataError> {
        use polars::prelude::{ChunkCompareEq, DataType};
        let polars_err = |e: polars::prelude::PolarsError| DataError::Polars {
            origin: self.info.origin.clone(),
            message: e.to_string(),
        };
        let col = self.frame().column(column).map_err(|_| DataError::Polars {
            origin: self.info.origin.clone(),
            message: format!(
                "no column {column:?} to filter on; columns: {}",
                super::column_names(self.frame())
            ),
        })?;
        let text = col.cast(&DataType::String).map_err(polars_err)?;
        let mask = text.str().map_err(polars_err)?.equal(value);
        let frame = self.frame().filter(&mask).map_err(polars_err)?;
        Ok(self.derived(&format!("{column} == {value}"), frame))
    }

    /// A seeded random split into (kept, held out), `held_out` being the
    /// fraction of rows in the second part.
    ///
    /// ```
    /// use mltest_core::Dataset;
    /// use polars::prelude::*;
    /// let d = Dataset::from_frame("t", df!("x" => (0..100).collect::<Vec<i32>>()).unwrap());
    /// let (a, b) = d.split_random(7, 0.25).unwrap();
    /// assert_eq!((a.height(), b.height()), (75, 25));
    /// ```
    pub fn split_random(&self, seed: u64, held_out: f64) -> Result<(Dataset, Dataset), DataError> {
        let (a, b) = super::train_test_split(self.frame(), seed, held_out).map_err(|e| {
            DataError::Polars {
                origin: self.info.origin.clone(),
                message: e.to_string(),
            }
        })?;
        Ok((
            self.derived(
                &format!("random split seed {seed}, kept {}", 1.0 - held_out),
                a,
            ),
            self.derived(&format!("random split seed {seed}, held out {held_out}"), b),
        ))
    }

    fn derived(&self, what: &str, frame: DataFrame) -> Dataset {
        Dataset {
            info: DataInfo {
                name: format!("{}[{what}]", self.info.name),
                origin: format!("{} where {what}", self.info.origin),
                sha256: crate::hash::sha256_hex(format!("{}:{what}", self.info.sha256).as_bytes()),
                rows: frame.height(),
                note: self.info.note.clone(),
                load_seconds: self.info.load_seconds,
                cache: self.info.cache.clone(),
                streamed: self.info.streamed,
            },
            cell: ready(frame),
            identity: None,
            load_options: self.load_options.clone(),
        }
    }
}

fn ready(frame: DataFrame) -> std::sync::Arc<FrameCell> {
    let cell = FrameCell {
        frame: std::sync::OnceLock::new(),
        load: None,
        schema: None,
        parts: Default::default(),
    };
    let _ = cell.frame.set(frame);
    std::sync::Arc::new(cell)
}
