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

/// The time freshness checks compare with: `MLTEST_NOW` when set (so a
/// test can fix it), else the system clock. Records keep the real time.
///
/// ```
/// // Without MLTEST_NOW this is the system clock.
/// # if std::env::var_os("MLTEST_NOW").is_some() { return; }
/// assert!((mltest_core::clock::now() - mltest_core::clock::unix_now()).abs() < 60.0);
/// ```
pub fn now() -> f64 {
    crate::config::now(parse_time).unwrap_or_else(unix_now)
}

/// `n` days as a [`std::time::Duration`] (for freshness bounds).
///
/// ```
/// assert_eq!(mltest_core::clock::days(2.0).as_secs(), 172_800);
/// ```
pub fn days(n: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64((n * 86_400.0).max(0.0))
}

/// `n` hours as a [`std::time::Duration`].
///
/// ```
/// assert_eq!(mltest_core::clock::hours(1.5).as_secs(), 5_400);
/// ```
pub fn hours(n: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64((n * 3_600.0).max(0.0))
}

/// Unix seconds from `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM[:SS[.fff]]` with an
/// optional `Z` or `±HH:MM` offset (no offset: UTC), or plain unix seconds.
/// `None` for anything else, including impossible dates (2026-02-30).
///
/// ```
/// use mltest_core::clock::parse_time;
/// assert_eq!(parse_time("1970-01-02"), Some(86_400.0));
/// assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000.0));
/// assert_eq!(parse_time("2023-11-14 23:13:20+01:00"), Some(1_700_000_000.0));
/// assert_eq!(parse_time("1700000000"), Some(1_700_000_000.0));
/// assert_eq!(parse_time("2026-02-30"), None);
/// assert_eq!(parse_time("yesterday"), None);
/// ```
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) as f64 * 86_400.0;
    let mut rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if !(rest.starts_with('T') || rest.starts_with(' ')) || rest.len() < 6 {
        return None;
    }
    let time = &rest[1..];
    let tb = time.as_bytes();
    if tb.get(2) != Some(&b':') {
        return None;
    }
    let two = |t: &str| -> Option<i64> {
        (t.len() == 2 && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (hh, mm) = (two(time.get(0..2)?)?, two(time.get(3..5)?)?);
    let mut at = 5;
    let mut ss = 0.0;
    if tb.get(5) == Some(&b':') {
        let end = time[6..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(time.len(), |k| k + 6);
        ss = time.get(6..end)?.parse::<f64>().ok()?;
        at = end;
    }
    if hh > 23 || mm > 59 || !(0.0..61.0).contains(&ss) {
        return None;
    }
    secs += (hh * 3_600 + mm * 60) as f64 + ss;
    rest = &time[at..];
    match rest {
        "" | "Z" => Some(secs),
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let (oh, om) = (two(&rest[1..3])?, two(&rest[4..6])?);
            if &rest[3..4] != ":" {
                return None;
            }
            let offset = ((oh * 3_600 + om * 60) as f64).copysign(if rest.starts_with('-') {
                -1.0
            } else {
                1.0
            });
            Some(secs - offset)
        }
        _ => None,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn parse_time_inverts_iso8601_over_three_centuries() {
        // Every 7th day from 1970 (iso8601 clamps earlier times) to 2300,
        // at a time of day that moves.
        let mut t = 0.0;
        while t < 10_413_792_000.0 {
            assert_eq!(parse_time(&iso8601(t)), Some(t), "{}", iso8601(t));
            assert_eq!(parse_time(&(iso8601(t) + "Z")), Some(t));
            t += 7.0 * 86_400.0 + 3_661.0;
        }
        for bad in [
            "2026-13-01",
            "2026-00-10",
            "2025-02-29",
            "2026-12-03T24:00",
            "2026-12-03T10",
            "2026-12-03X",
            "12/03/2026",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(parse_time("2024-02-29"), Some(1_709_164_800.0));
        assert_eq!(parse_time("2026-12-03T09:00:00.5Z"), Some(1_796_288_400.5));
    }
}
