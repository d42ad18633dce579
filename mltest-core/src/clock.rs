//! Wall-clock time for records, cards, JUnit and run records, in one place.

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
    iso8601(unix_now()) + "Z"
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SS` (UTC), without a date crate.
///
/// ```
/// assert_eq!(mltest_core::clock::iso8601(0.0), "1970-01-01T00:00:00");
/// ```
pub fn iso8601(unix: f64) -> String {
    let secs = unix.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The name libtest gives a test: the module path below the crate root, then
/// the function (`data_quality::nested::f` → `nested::f`).
pub(crate) fn libtest_id(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_, rest)) => format!("{rest}::{name}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00");
        assert_eq!(iso8601(1_700_000_000.0), "2023-11-14T22:13:20");
        assert_eq!(iso8601(951_782_400.0), "2000-02-29T00:00:00");
    }
}
