//! Data sets: where they come from ([`DataSource`]), how they are read
//! ([`LoadOptions`]), the loaded, typed frame ([`Dataset`]), and the seeded
//! generator of reviews-like data with known properties.

mod cache;
mod csv_locate;
pub(crate) mod dataset;
mod dtype;
mod error;
pub mod generator;
pub(crate) mod load;
pub mod parse_cache;
pub mod reviews;
mod source;

pub use cache::load_cached;
pub use dataset::{DataInfo, Dataset};
pub use dtype::DType;
pub use error::DataError;
pub use load::load_with;
pub use source::{DataSource, IntoDataSource, LoadOptions, Location, Streaming};

/// `"a", "b"`: a frame's column names for error messages.
pub fn column_names(frame: &polars::prelude::DataFrame) -> String {
    load::column_list(frame)
}
