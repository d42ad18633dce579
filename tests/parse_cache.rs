//! The parse cache (`mltest_core::data::parse_cache`): parse a CSV once,
//! read its typed columns from Arrow IPC afterwards, and never trust an entry
//! that no longer describes the file.
//!
//! Run: `cargo test --release --test parse_cache`.

use std::path::Path;
use std::time::{Duration, SystemTime};

use mltest::data::load_with;
use mltest::data::parse_cache::CacheMode;
use mltest::{DataSource, Dataset};

fn cache_note(d: &Dataset) -> String {
    d.info()
        .cache
        .as_ref()
        .map(|c| c.note())
        .unwrap_or_default()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(t))
        .unwrap();
}

fn ages(d: &Dataset) -> Vec<Option<i64>> {
    d.frame()
        .column("age")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

#[test]
fn a_touched_file_is_rehashed_and_an_edited_file_reparsed() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (dir.path().join("people.csv"), dir.path().join("cache"));
    write(&csv, "age,dept\n30,Tops\n41,Dresses\n");
    let src = DataSource::csv(&csv);

    let first = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&first).starts_with("parsed and stored"),
        "{}",
        cache_note(&first)
    );
    let hit = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&hit).contains("same size and modification time"),
        "{}",
        cache_note(&hit)
    );
    assert!(first.frame().equals_missing(hit.frame()));
    assert_eq!(first.info().sha256, hit.info().sha256);

    // touch: new mtime, same bytes -> hashed, same sha256, reused
    set_mtime(&csv, SystemTime::now() + Duration::from_secs(5));
    let touched = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&touched).contains("touched but unchanged"),
        "{}",
        cache_note(&touched)
    );
    // ... and the entry now knows the new mtime
    let again = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(cache_note(&again).contains("same size and modification time"));

    // edit: new content -> parsed again, new values
    write(&csv, "age,dept\n30,Tops\n41,Dresses\n55,Jackets\n");
    let edited = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&edited).contains("the source file changed"),
        "{}",
        cache_note(&edited)
    );
    assert_eq!(ages(&edited), [Some(30), Some(41), Some(55)]);
    assert_ne!(edited.info().sha256, first.info().sha256);
}

#[test]
fn an_edit_that_keeps_size_and_mtime_is_caught_by_its_ctime_and_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (dir.path().join("people.csv"), dir.path().join("cache"));
    write(&csv, "age,dept\n30,Tops\n41,Dresses\n");
    let mtime = std::fs::metadata(&csv).unwrap().modified().unwrap();
    let src = DataSource::csv(&csv);
    load_with(&src, &cache, CacheMode::On).unwrap();

    // Same length, same mtime, different content.
    write(&csv, "age,dept\n39,Tops\n41,Dresses\n");
    set_mtime(&csv, mtime);
    let cheap = load_with(&src, &cache, CacheMode::On).unwrap();
    // The rewrite changed the status-change time, which no copy tool sets:
    // on Unix the cheap check sees it (elsewhere only `verify` does).
    if cfg!(unix) {
        assert_eq!(ages(&cheap), [Some(39), Some(41)], "{}", cache_note(&cheap));
        // Put the old content back the same way, so `verify` has an edit to catch.
        write(&csv, "age,dept\n30,Tops\n41,Dresses\n");
        set_mtime(&csv, mtime);
        load_with(&src, &cache, CacheMode::On).unwrap();
        write(&csv, "age,dept\n39,Tops\n41,Dresses\n");
        set_mtime(&csv, mtime);
    }
    let verified = load_with(&src, &cache, CacheMode::Verify).unwrap();
    assert!(
        cache_note(&verified).contains("the source file changed"),
        "{}",
        cache_note(&verified)
    );
    assert_eq!(ages(&verified), [Some(39), Some(41)]);
    let after = load_with(&src, &cache, CacheMode::Verify).unwrap();
    assert!(
        cache_note(&after).contains("sha256 verified"),
        "{}",
        cache_note(&after)
    );
}

#[test]
fn a_damaged_entry_is_rebuilt_never_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (dir.path().join("people.csv"), dir.path().join("cache"));
    write(&csv, "age,dept\n30,Tops\n41,Dresses\n");
    let src = DataSource::csv(&csv);
    let good = load_with(&src, &cache, CacheMode::On).unwrap();
    let entry = |ext: &str| {
        std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == ext))
            .unwrap()
    };
    let arrow = entry("arrow");
    let bytes = std::fs::read(&arrow).unwrap();

    // truncated
    std::fs::write(&arrow, &bytes[..bytes.len() / 2]).unwrap();
    let rebuilt = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&rebuilt).contains("damaged"),
        "{}",
        cache_note(&rebuilt)
    );
    assert!(rebuilt.frame().equals_missing(good.frame()));

    // foreign bytes of the right length
    std::fs::write(&arrow, vec![0x5a; bytes.len()]).unwrap();
    let rebuilt = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&rebuilt).contains("damaged"),
        "{}",
        cache_note(&rebuilt)
    );
    assert!(rebuilt.frame().equals_missing(good.frame()));

    // a meta that is not one
    std::fs::write(entry("json"), b"{ not json").unwrap();
    let rebuilt = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&rebuilt).contains("did not parse"),
        "{}",
        cache_note(&rebuilt)
    );
    let hit = load_with(&src, &cache, CacheMode::On).unwrap();
    assert!(cache_note(&hit).starts_with("read from the parse cache"));
}

#[test]
fn off_bypasses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (dir.path().join("people.csv"), dir.path().join("cache"));
    write(&csv, "age,dept\n30,Tops\n");
    let d = load_with(&DataSource::csv(&csv), &cache, CacheMode::Off).unwrap();
    assert_eq!(d.info().cache, None);
    assert!(!cache.exists());
}

/// A record whose every field is empty is dropped and the drop is noted,
/// whether the frame was just parsed or read back from the entry; a file
/// without one keeps every row and gets no note.
#[test]
fn blank_records_are_dropped_and_noted_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (blank, clean) = (dir.path().join("blank.csv"), dir.path().join("clean.csv"));
    write(&blank, "age,dept\n30,Tops\n,\n41,\n,\n52,Dresses\n");
    write(&clean, "age,dept\n30,Tops\n41,\n52,Dresses\n");
    for mode in [CacheMode::Off, CacheMode::On, CacheMode::On] {
        let d = load_with(&DataSource::csv(&blank), &cache, mode).unwrap();
        assert_eq!(ages(&d), [Some(30), Some(41), Some(52)], "{mode:?}");
        assert_eq!(
            d.info().note.as_deref(),
            Some("dropped 2 blank record(s) (every field empty)"),
            "{mode:?}"
        );
        let d = load_with(&DataSource::csv(&clean), &cache, mode).unwrap();
        assert_eq!(ages(&d), [Some(30), Some(41), Some(52)], "{mode:?}");
        assert_eq!(d.info().note, None, "{mode:?}");
    }
}
/// Two processes loading the same file at once (the CLI, through
/// `MLTEST_CACHE_DIR`): both succeed with the same figures, and the entry
/// they leave is whole: a third load reads it.
#[test]
fn two_processes_loading_at_once_agree() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let mut text = String::from("age,dept\n");
    for i in 0..200_000 {
        text.push_str(&format!(
            "{},{}\n",
            18 + i % 70,
            ["Tops", "Dresses", "Jackets"][i % 3]
        ));
    }
    write(&csv, &text);
    let cache = dir.path().join("cache");
    let spawn = |out: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mltest"))
            .args(["profile", "write"])
            .arg(&csv)
            .arg("--out")
            .arg(dir.path().join(out))
            .args(["--numeric", "age", "--categorical", "dept"])
            .env("MLTEST_CACHE_DIR", &cache)
            .env_remove("MLTEST_CACHE")
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a.json"), spawn("b.json"));
    for mut child in [a, b] {
        assert!(child.wait().unwrap().success());
    }
    let pa = std::fs::read_to_string(dir.path().join("a.json")).unwrap();
    let pb = std::fs::read_to_string(dir.path().join("b.json")).unwrap();
    assert_eq!(pa, pb);
    let third = load_with(&DataSource::csv(&csv), &cache, CacheMode::On).unwrap();
    assert!(
        cache_note(&third).starts_with("read from the parse cache"),
        "{}",
        cache_note(&third)
    );
    assert_eq!(third.height(), 200_000);
}

// ---- the metric cache ----

fn people_csv(dir: &Path) -> std::path::PathBuf {
    let csv = dir.join("people.csv");
    let mut text = String::from("age,dept\n");
    for i in 0..300 {
        let age = if i % 3 == 0 {
            String::new()
        } else {
            (20 + i % 50).to_string()
        };
        text.push_str(&format!("{age},{}\n", ["Tops", "Dresses"][i % 2]));
    }
    write(&csv, &text);
    csv
}

fn checks(max_missing: f64) -> Vec<mltest::Expectation> {
    let d = Dataset::from_frame("schema only", polars::prelude::DataFrame::empty());
    vec![
        d.column("age").null_fraction().at_most(max_missing),
        d.column("age").mean().between(20.0, 80.0),
        d.column("age")
            .null_fraction()
            .at_most(max_missing)
            .in_every_segment_of("dept"),
        d.schema().requires([
            ("age", mltest::DType::Numeric),
            ("dept", mltest::DType::Text),
        ]),
    ]
}

/// Unchanged data and unchanged checks: every figure from the cache, the
/// data never read. A changed threshold is decided again without reading it.
#[test]
fn unchanged_data_and_checks_read_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (people_csv(dir.path()), dir.path().join("cache"));
    let src = DataSource::csv(&csv);

    let cold = load_with(&src, &cache, CacheMode::On).unwrap();
    let first = cold.evaluate(checks(0.4));
    assert!(
        first.iter().all(|o| !o.from_cache && o.passed()),
        "{first:?}"
    );
    assert!(cold.is_loaded());

    let warm = load_with(&src, &cache, CacheMode::On).unwrap();
    let again = warm.evaluate(checks(0.4));
    assert!(!warm.is_loaded(), "a fully cached run reads no data");
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(
            (a.status(), a.observed, &a.segments),
            (b.status(), b.observed, &b.segments)
        );
    }
    assert!(
        again[..3].iter().all(|o| o.from_cache),
        "figures from the cache"
    );

    // A tighter threshold: decided again from the cached figures.
    let warm = load_with(&src, &cache, CacheMode::On).unwrap();
    let tighter = warm.evaluate(checks(0.34));
    assert!(tighter[0].passed() && tighter[0].from_cache);
    assert!(!warm.is_loaded());
    // A threshold that fails: the verdict from the cache, the examples from the data.
    let failing = warm.evaluate(checks(0.2));
    assert!(!failing[0].passed() && failing[0].from_cache);
    assert_eq!(failing[0].observed, Some(100.0 / 300.0));
    assert!(
        !failing[0].examples.is_empty(),
        "a failure still shows its rows"
    );
    assert_eq!(
        warm.loaded_columns(),
        ["age", "dept"],
        "the examples read the columns they show"
    );
}

/// Edited data has a new identity: its figures are computed, not reused.
#[test]
fn edited_data_is_measured_again() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (people_csv(dir.path()), dir.path().join("cache"));
    let src = DataSource::csv(&csv);
    load_with(&src, &cache, CacheMode::On)
        .unwrap()
        .evaluate(checks(0.5));
    write(&csv, "age,dept\n30,Tops\n,Dresses\n");
    let edited = load_with(&src, &cache, CacheMode::On).unwrap();
    let outcomes = edited.evaluate(checks(0.5));
    assert!(!outcomes[0].from_cache);
    assert_eq!(outcomes[0].observed, Some(0.5));
    // MLTEST_CACHE=off-like loads (no identity) never use it.
    let off = load_with(&src, &cache, CacheMode::Off).unwrap();
    assert!(off.evaluate(checks(0.5)).iter().all(|o| !o.from_cache));
}

/// On data served by the parse cache, checks that must be computed read
/// only the columns they use (the entry's other columns stay on disk), and
/// their figures equal those over the whole parsed file.
#[test]
fn new_checks_on_cached_data_read_only_their_columns() {
    use mltest::expect::{column, duplicate_rows, row_count};
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (dir.path().join("wide.csv"), dir.path().join("cache"));
    let mut text = String::from("age,dept,review\n");
    for i in 0..200 {
        let age = if i % 4 == 0 {
            String::new()
        } else {
            (20 + i % 40).to_string()
        };
        let review = "fits well ".repeat(i % 7);
        text.push_str(&format!("{age},{},{review}\n", ["Tops", "Dresses"][i % 2]));
    }
    write(&csv, &text);
    let src = DataSource::csv(&csv);
    let parsed = load_with(&src, &cache, CacheMode::Off).unwrap();
    load_with(&src, &cache, CacheMode::On).unwrap(); // stores the entry
    let cached = || {
        let d = load_with(&src, &cache, CacheMode::On).unwrap();
        assert!(cache_note(&d).starts_with("read from the parse cache"));
        assert!(d.loaded_columns().is_empty());
        d
    };
    let figures = |d: &Dataset, e: mltest::Expectation| {
        let o = d.evaluate_one(e);
        (o.observed, o.segments.len(), o.examples.len())
    };

    // One column, then a segmented check adds its segment column.
    let d = cached();
    let mean = column("age").mean().between(0.0, 100.0);
    assert_eq!(figures(&d, mean.clone()), figures(&parsed, mean));
    assert_eq!(d.loaded_columns(), ["age"]);
    let missing = column("age")
        .null_fraction()
        .at_most(0.1)
        .in_every_segment_of("dept");
    let (observed, segments, examples) = figures(&d, missing.clone());
    assert_eq!(
        (observed, segments, examples),
        figures(&parsed, missing),
        "a failing check's examples come from the projected columns too"
    );
    // The worst segment: every fourth row misses its age, all of them Tops.
    assert_eq!((observed, segments), (Some(0.5), 2));
    assert!(examples > 0);
    assert_eq!(d.loaded_columns(), ["age", "dept"]);
    assert!(!d.is_loaded(), "the review column was never read");

    // A row count reads one column, not the text.
    let d = cached();
    assert_eq!(figures(&d, row_count().at_least(1.0)).0, Some(200.0));
    assert_eq!(d.loaded_columns(), ["age"]);

    // An unknown column reads the frame so the error lists every column.
    let d = cached();
    let o = d.evaluate_one(column("agee").mean().at_most(1.0));
    let err = format!("{:?}", o.error());
    assert!(err.contains("review"), "{err}");

    // Duplicates over whole rows read every column.
    let d = cached();
    let dup = duplicate_rows().at_most(1.0);
    assert_eq!(figures(&d, dup.clone()), figures(&parsed, dup));
    assert!(d.is_loaded());
    assert_eq!(d.loaded_columns(), ["age", "dept", "review"]);
}
