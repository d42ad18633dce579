//! Statistics used by checks. Each is checked against scipy/statsmodels on
//! the real data (`tests/stats_reference/check.py`, run by CI).

mod association;
mod compare;
mod kolmogorov;
mod ks;
pub mod paired;
mod resample;
pub mod sequential;
mod wilson;

pub use association::{
    GroupMoments, correlation_ratio, correlation_ratio_corrected, cramers_v, cramers_v_corrected,
};
pub use compare::{
    AbVerdict, McNemar, McNemarTest, chi2_homogeneity, jensen_shannon, mcnemar, psi,
    two_proportion_z, wasserstein, wasserstein_counts,
};
pub use ks::{KS_EXACT_MAX_N, KsMethod, KsTest, ks_2samp, ks_from_counts, ks_p_value};
pub use paired::{ErrorKind, PairedError, PairedT, paired_t};
pub use resample::benjamini_hochberg;
pub(crate) use resample::{poisson_resample, quantile as resample_quantile};
pub use sequential::{RateVerdict, Sequential, fixed_verdict, round_sizes};
pub use wilson::{Z95, wilson};
