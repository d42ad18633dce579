//! Wall-clock time for records, cards and run records, in one place.

/// Seconds since the Unix epoch (0 if the clock is before it).
///
/// ```
/// assert!(mltest_core::clock::unix_now() > 1.7e9);
/// ```
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
///
/// ```
/// let t = mltest_core::clock::iso_now();
/// assert_eq!((t.len(), &t[10..11], &t[19..]), (20, "T", "Z"));
/// ```
pub fn iso_now() -> String {
    crate::junit::iso8601(unix_now()) + "Z"
}

/// The name libtest gives a test: the module path below the crate root, then
/// the function (`data_quality::nested::f` → `nested::f`).
pub(crate) fn libtest_id(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_, rest)) => format!("{rest}::{name}"),
        None => name.to_string(),
    }
}
