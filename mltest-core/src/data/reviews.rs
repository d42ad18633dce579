//! The reviews data set, found by the data-path contract of DESIGN.md:
//! `MLTEST_REVIEWS_CSV`, else `../shared/data/womens_clothing_reviews.csv`,
//! else the generated stand-in (said once, on stderr).

use std::path::PathBuf;
use std::sync::Once;

use super::DataSource;
use super::generator::ReviewsSpec;

/// Environment variable that points at the reviews CSV.
pub const ENV: &str = crate::config::REVIEWS_CSV;
/// Where the real file sits relative to the workspace root.
pub const DEFAULT_RELATIVE: &str = "../shared/data/womens_clothing_reviews.csv";
/// Seed of the generated stand-in.
pub const FALLBACK_SEED: u64 = 20_190_601;

/// Where the reviews file would be: the env var if set, else the first
/// existing default location (relative to the working directory, then to
/// the package being tested/run). `None` when neither exists.
pub fn locate() -> Option<PathBuf> {
    if let Some(p) = crate::config::reviews_csv() {
        return Some(p);
    }
    let mut candidates = vec![PathBuf::from(DEFAULT_RELATIVE)];
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        candidates.push(PathBuf::from(dir).join(DEFAULT_RELATIVE));
    }
    // The workspace root holds Cargo.lock; the file sits beside the clone.
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            if dir.join("Cargo.lock").exists() {
                candidates.push(dir.join(DEFAULT_RELATIVE));
                break;
            }
        }
    }
    candidates.into_iter().find(|p| p.exists())
}

/// The reviews data set as a fixture: `fn reviews() -> DataSource` is what a
/// `reviews: &Dataset` parameter resolves to.
///
/// An explicitly set `MLTEST_REVIEWS_CSV` that does not exist is an error at
/// load time (never a silent fallback); without it, a missing default file
/// falls back to [`ReviewsSpec::reviews_like`] and says so once.
///
/// ```
/// let src = mltest_core::data::reviews::source();
/// assert_eq!(src.name(), "reviews");
/// ```
pub fn source() -> DataSource {
    match locate() {
        Some(path) => DataSource::csv(path).named("reviews"),
        None => {
            static SAID: Once = Once::new();
            let note = format!(
                "{DEFAULT_RELATIVE} not found and {ENV} not set: using the generated stand-in (seed {FALLBACK_SEED})"
            );
            SAID.call_once(|| {
                use std::io::Write;
                // Written to the real stderr, past libtest's capture: the
                // reader must know the real data was not tested.
                let _ = writeln!(std::io::stderr().lock(), "mltest: {note}");
            });
            DataSource::generated(ReviewsSpec::reviews_like(FALLBACK_SEED))
                .named("reviews")
                .with_note(note)
        }
    }
}

/// True when [`source`] reads the real file rather than the stand-in.
pub fn is_real() -> bool {
    locate().is_some()
}
