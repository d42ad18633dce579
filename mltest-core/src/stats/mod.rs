//! Statistics used by checks. Each is checked against scipy/statsmodels on
//! the real data (`tests/stats_reference/check.py`, run by CI).

mod association;
mod compare;
mod wilson;

pub use association::cramers_v;
pub use compare::{chi2_homogeneity, jensen_shannon, mcnemar, psi, two_proportion_z, wasserstein};
pub use wilson::{Z95, wilson};
