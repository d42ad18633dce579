//! Data sets: where they come from ([`DataSource`]), how they are read
//! ([`LoadOptions`]), the loaded, typed frame ([`Dataset`]), and the seeded
//! generator of reviews-like data with known properties.

mod blank_records;
mod cache;
mod csv_locate;
pub(crate) mod dataset;
mod dtype;
mod error;
pub(crate) mod plan;
pub(crate) use blank_records::hash_and_scan;
pub mod generator;
pub(crate) mod load;
pub mod parse_cache;
pub(crate) mod partitions;
pub mod reviews;
mod source;
mod split;

pub use cache::load_cached;
pub use dataset::{DataInfo, Dataset};
pub use dtype::DType;
pub use error::DataError;
pub use partitions::{PartitionFile, partition_files};
pub use source::{DataSource, Engine, IntoDataSource, LoadOptions, Location, Streaming};
pub use split::{split_rows, train_test_split};

/// `"a", "b"`: a frame's column names for error messages.
pub fn column_names(frame: &polars::prelude::DataFrame) -> String {
    load::column_list(frame)
}

/// Loads a source through the parse cache in `cache_dir` with `mode`,
/// without the per-process cache ([`load_cached`] adds it); `info().cache`
/// says how the cache served the load, and [`Dataset::load_options`] the
/// options it was read with.
///
/// ```
/// use mltest_core::data::{load_with, parse_cache::{CacheMode, CacheUse}};
/// let dir = tempfile::tempdir().unwrap();
/// let csv = dir.path().join("t.csv");
/// std::fs::write(&csv, "a,b\n1,x\n2,y\n").unwrap();
/// let src = mltest_core::DataSource::csv(&csv);
/// let first = load_with(&src, &dir.path().join("cache"), CacheMode::On).unwrap();
/// let again = load_with(&src, &dir.path().join("cache"), CacheMode::On).unwrap();
/// assert_eq!(first.info().cache, Some(CacheUse::Stored));
/// assert!(again.info().cache.as_ref().is_some_and(CacheUse::is_hit));
/// assert!(first.frame().equals_missing(again.frame()));
/// assert_eq!(again.load_options(), Some(src.options()));
/// ```
pub fn load_with(
    source: &DataSource,
    cache_dir: &std::path::Path,
    mode: parse_cache::CacheMode,
) -> Result<Dataset, DataError> {
    load::load_with(source, cache_dir, mode).map(|d| d.with_load_options(source.options()))
}
