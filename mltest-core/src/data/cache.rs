//! Per-process data cache: every test in a binary that names the same source
//! shares one load. Tests run as threads of one process under `cargo test`,
//! so concurrent first uses wait on one load instead of parsing twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::{DataError, DataSource, Dataset, load::load};

type Slot = Arc<OnceLock<Result<Arc<Dataset>, Arc<DataError>>>>;

fn slots() -> &'static Mutex<HashMap<String, Slot>> {
    static SLOTS: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    SLOTS.get_or_init(Default::default)
}

/// Loads `source` once per process; later calls with the same source (same
/// location and options) return the same data set, or the same error.
///
/// ```
/// use mltest_core::data::{generator::ReviewsSpec, load_cached};
/// use mltest_core::DataSource;
/// let src = DataSource::generated(ReviewsSpec::new(200, 7));
/// let a = load_cached(&src).unwrap();
/// let b = load_cached(&src).unwrap();
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// ```
pub fn load_cached(source: &DataSource) -> Result<Arc<Dataset>, Arc<DataError>> {
    let slot = {
        // A poisoned lock only means another test panicked while holding it;
        // the map itself is still consistent.
        let mut map = slots().lock().unwrap_or_else(|p| p.into_inner());
        map.entry(source.cache_key()).or_default().clone()
    };
    slot.get_or_init(|| {
        let spinner = crate::progress::spinner(&format!("loading {}", source.name()));
        let loaded = load(source)
            .map(|d| Arc::new(d.with_load_options(source.options())))
            .map_err(Arc::new);
        spinner.finish_and_clear();
        loaded
    })
    .clone()
}
