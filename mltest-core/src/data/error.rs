use std::path::PathBuf;

/// Why a data set could not be loaded. Every variant names the file and what
/// was expected, so a failing test says where to look.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file does not exist.
    #[error("data file not found: {path} (working directory: {cwd})")]
    NotFound { path: PathBuf, cwd: PathBuf },
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CSV could not be parsed; `line` is 1-based and counts physical
    /// lines, the header being line 1.
    #[error("cannot parse CSV {path}{}{}: {message}",
        .line.map(|l| format!(" at line {l}")).unwrap_or_default(),
        .column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default())]
    Csv {
        path: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        message: String,
    },
    /// A Parquet or IPC file could not be read.
    #[error("cannot read {path}: {message}")]
    Format { path: PathBuf, message: String },
    /// The file extension names no format mltest reads.
    #[error("unsupported data format for {path}: expected .csv, .parquet or .arrow/.ipc")]
    UnsupportedFormat { path: PathBuf },
    /// A column named in the load options is not in the file.
    #[error(
        "{path}: load options name column {column:?}, which the file lacks; columns: {available}"
    )]
    UnknownColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    /// A column could not be converted to the dtype the load options ask for.
    #[error("{path}: column {column:?} cannot be read as {expected}: {message}")]
    Dtype {
        path: PathBuf,
        column: String,
        expected: String,
        message: String,
    },
    /// polars failed in a way none of the above describes.
    #[error("{origin}: {message}")]
    Polars { origin: String, message: String },
    /// Another engine (DataFusion) failed, or was asked for without the
    /// cargo feature that builds it.
    #[error("{origin}: {message}")]
    Engine { origin: String, message: String },
}
