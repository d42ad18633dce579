//! Statistics used by checks. Each is checked against scipy reference
//! values (see `tests/stats_reference.py`).

mod association;

pub use association::cramers_v;
