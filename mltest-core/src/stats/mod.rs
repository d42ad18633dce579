//! Statistics used by checks. Each is checked against scipy reference
//! values (see `tests/stats_reference.py`).

mod association;
mod wilson;

pub use association::cramers_v;
pub use wilson::{Z95, wilson};
