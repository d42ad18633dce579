//! Runtime of mltest: data loading, expectations, records and JUnit.
//!
//! Users depend on the `mltest` facade, which re-exports this crate's public
//! items and the attribute macros. Data flows one way:
//! data → expectations → records → JUnit (and, later, reports). Every check
//! yields one [`record::Record`]; reporters only read records.

pub mod ab;
pub mod check;
pub mod clock;
pub mod config;
pub mod data;
pub mod drift;
pub mod expect;
mod hash;
pub mod history;
pub mod junit;
pub mod libtest;
pub mod model;
pub mod monitor;
pub mod outdir;
pub mod prereq;
pub mod progress;
pub mod record;
pub mod report;
pub mod rng;
pub mod robust;
pub mod stats;
pub mod store;
mod text;

pub use data::{DType, DataError, DataSource, Dataset, LoadOptions};
/// The DataFusion mltest's second engine runs on (feature `datafusion`):
/// register tables in its `SessionContext` for
/// [`expect::evaluate_table`].
#[cfg(feature = "datafusion")]
pub use datafusion;

pub use expect::{Expectation, IntoExpectations, Severity};
/// For [`register_model_kind!`]'s expansion in users' crates.
#[doc(hidden)]
pub use linkme as __linkme;
