use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

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
}

impl DataInfo {
    /// `path (sha256 bd93cc51…)`, the form reports print.
    pub fn short(&self) -> String {
        let prefix: String = self.sha256.chars().take(8).collect();
        format!(
            "{} (sha256 {prefix}…, {} rows)",
            self.origin,
            crate::text::thousands(self.rows as u64)
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
#[derive(Clone, Debug)]
pub struct Dataset {
    pub(crate) info: DataInfo,
    pub(crate) frame: DataFrame,
}

/// Identity of an in-memory frame: sha256 of its name and schema (hashing
/// every value would cost a full pass for a figure only reports show).
pub(crate) fn frame_fingerprint(name: &str, frame: &DataFrame) -> String {
    crate::text::sha256_hex(format!("{name}:{:?}", frame.schema()).as_bytes())
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
            },
            frame,
        }
    }

    pub(crate) fn new(info: DataInfo, frame: DataFrame) -> Self {
        Dataset { info, frame }
    }

    /// Provenance: name, origin, sha256, rows.
    pub fn info(&self) -> &DataInfo {
        &self.info
    }

    /// The loaded frame.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// Column names in file order.
    pub fn column_names(&self) -> Vec<String> {
        self.frame
            .get_column_names()
            .into_iter()
            .map(|c| c.to_string())
            .collect()
    }
}
