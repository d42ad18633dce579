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
    d.info().cache.clone().unwrap_or_default()
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
fn verify_catches_an_edit_that_keeps_size_and_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, cache) = (dir.path().join("people.csv"), dir.path().join("cache"));
    write(&csv, "age,dept\n30,Tops\n41,Dresses\n");
    let mtime = std::fs::metadata(&csv).unwrap().modified().unwrap();
    let src = DataSource::csv(&csv);
    load_with(&src, &cache, CacheMode::On).unwrap();

    // Same length, same mtime, different content.
    write(&csv, "age,dept\n39,Tops\n41,Dresses\n");
    set_mtime(&csv, mtime);
    let trusting = load_with(&src, &cache, CacheMode::On).unwrap();
    assert_eq!(
        ages(&trusting),
        [Some(30), Some(41)],
        "the cheap check cannot see it"
    );
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
