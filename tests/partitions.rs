//! A partitioned data set (a directory of Parquet or CSV files): checks
//! measure each partition once, store its states and merge them; a run
//! after a new partition lands reads only that one, a rewritten partition
//! is read again, and the figures equal those of the partitions
//! concatenated.

use std::path::{Path, PathBuf};

use mltest::expect::{CheckOutcome, Status};
use mltest::prelude::*;
use polars::prelude::*;

/// `n` rows of the generator's reviews, seed `seed`.
fn rows(n: usize, seed: u64) -> DataFrame {
    let spec = ReviewsSpec::new(n, seed).null_rate("Age", None, 0.05);
    mltest::data::load_cached(&DataSource::generated(spec))
        .expect("generated")
        .frame()
        .clone()
}

fn write_parquet(path: &Path, frame: &DataFrame) {
    let mut frame = frame.clone();
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
}

fn checks() -> Vec<Expectation> {
    use mltest::expect::{column, duplicates_on, row_count};
    vec![
        row_count().at_least(100.0),
        column("Age").null_fraction().at_most(0.1),
        column("Age").mean().between(18.0, 80.0),
        column("Age").std().at_most(30.0),
        column("Age").quantile(0.5).between(18.0, 80.0),
        column("Rating")
            .values()
            .in_set([1, 2, 3, 4, 5])
            .mostly(1.0),
        column("Department Name").share_of("Tops").at_most(0.9),
        column("Review Text").lengths().between(1, 5000).mostly(0.9),
        column("Clothing ID").unique_fraction().at_most(1.0),
        column("Positive Feedback Count").sum().at_least(0.0),
        column("Age")
            .mean()
            .between(18.0, 80.0)
            .in_every_segment_of("Department Name"),
        column("Rating").max().at_most(5.0),
        // No state that merges: evaluated on all partitions together.
        duplicates_on(["Clothing ID", "Review Text"]).at_most(1e9),
    ]
}

/// Same verdict, count and figure (to 1e-12; a sketched quantile's
/// stated range holds the exact one).
fn assert_same(part: &CheckOutcome, whole: &CheckOutcome) {
    let what = whole.expectation.describe();
    assert_eq!(part.status(), whole.status(), "{what}: {part:?}");
    let (a, b) = (part.observed.unwrap(), whole.observed.unwrap());
    match &part.estimate {
        Some(est) => assert!(est.low <= b && b <= est.high, "{what}: {b} outside {est:?}"),
        None => assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        ),
    }
    assert_eq!(part.count, whole.count, "{what}");
    assert_eq!(part.segments.len(), whole.segments.len(), "{what}");
}

fn whole(parts: &[DataFrame]) -> Vec<CheckOutcome> {
    let mut all = parts[0].clone();
    for p in &parts[1..] {
        all.vstack_mut(p).unwrap();
    }
    Dataset::from_frame("whole", all).evaluate(checks())
}

fn read(run: &mltest::expect::Incremental) -> Vec<bool> {
    run.partitions.iter().map(|p| p.read).collect()
}

#[test]
fn an_appended_partition_is_the_only_one_read_and_the_figures_equal_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let parts_dir = dir.path().join("reviews");
    std::fs::create_dir(&parts_dir).unwrap();
    let out = dir.path().join("out");
    let mut parts: Vec<DataFrame> = (0..4).map(|i| rows(1_500, 10 + i)).collect();
    let path = |i: usize| -> PathBuf { parts_dir.join(format!("part-{i:03}.parquet")) };
    for (i, p) in parts.iter().enumerate() {
        write_parquet(&path(i), p);
    }
    let source = DataSource::partitioned(&parts_dir);

    let first = source.evaluate_partitioned_in(checks(), &out).unwrap();
    assert_eq!(read(&first), [true; 4]);
    assert_eq!(first.info.rows, 6_000);
    for (p, w) in first.outcomes.iter().zip(whole(&parts)) {
        assert_same(p, &w);
    }

    // Nothing changed: every state comes from the store.
    let again = source.evaluate_partitioned_in(checks(), &out).unwrap();
    assert_eq!(read(&again), [false; 4]);
    for (a, b) in again.outcomes.iter().zip(&first.outcomes) {
        assert_eq!(a.observed, b.observed, "{}", a.expectation.describe());
        assert_eq!(a.status(), b.status());
    }
    assert!(
        again
            .info
            .note
            .as_deref()
            .unwrap()
            .contains("4 partitions: 0 read, 4 from stored states"),
        "{:?}",
        again.info.note
    );

    // A new partition lands: only it is read.
    parts.push(rows(700, 99));
    write_parquet(&path(4), &parts[4]);
    let appended = source.evaluate_partitioned_in(checks(), &out).unwrap();
    assert_eq!(read(&appended), [false, false, false, false, true]);
    for (p, w) in appended.outcomes.iter().zip(whole(&parts)) {
        assert_same(p, &w);
    }

    // A partition rewritten with other rows (another size) is read again.
    parts[1] = rows(1_200, 55);
    write_parquet(&path(1), &parts[1]);
    let rewritten = source.evaluate_partitioned_in(checks(), &out).unwrap();
    assert_eq!(read(&rewritten), [false, true, false, false, false]);
    for (p, w) in rewritten.outcomes.iter().zip(whole(&parts)) {
        assert_same(p, &w);
    }

    // A damaged state file is measured again, never trusted.
    for entry in std::fs::read_dir(out.join("partials")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"{not json").unwrap();
    }
    let damaged = source.evaluate_partitioned_in(checks(), &out).unwrap();
    assert_eq!(read(&damaged), [true; 5]);
    for (p, w) in damaged.outcomes.iter().zip(whole(&parts)) {
        assert_same(p, &w);
    }
}

#[test]
fn a_partition_with_other_columns_a_subdirectory_or_a_missing_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("p");
    std::fs::create_dir(&parts).unwrap();
    std::fs::write(parts.join("a.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(parts.join("b.csv"), "x\n3\n").unwrap();
    let err = mltest::data::load_cached(&DataSource::partitioned(&parts))
        .expect_err("refused")
        .to_string();
    assert!(err.contains("b.csv") && err.contains("a.csv"), "{err}");
    // The incremental path refuses it the same way, naming both files.
    let checks = || vec![mltest::expect::column("x").mean().at_most(5.0)];
    let err = DataSource::partitioned(&parts)
        .evaluate_partitioned_in(checks(), dir.path())
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("b.csv") && err.contains("a.csv") && err.contains("\"y\" i64"),
        "{err}"
    );
    // A check of a column no partition has errors, naming the partition.
    std::fs::write(parts.join("b.csv"), "x,y\n3,4\n").unwrap();
    let run = DataSource::partitioned(&parts)
        .evaluate_partitioned_in(
            vec![
                mltest::expect::column("x").mean().at_most(5.0),
                mltest::expect::column("z").mean().at_most(5.0),
            ],
            dir.path(),
        )
        .unwrap();
    assert!(run.outcomes[0].passed());
    assert_eq!(run.outcomes[1].status(), Status::Error);
    let why = run.outcomes[1].error().unwrap().to_string();
    assert!(
        why.contains("a.csv") && why.contains("\"z\" not found"),
        "{why}"
    );
    // Hive-style subdirectories and other files are not skipped quietly.
    std::fs::create_dir(parts.join("day=2")).unwrap();
    let err = DataSource::partitioned(&parts)
        .evaluate_partitioned_in(checks(), dir.path())
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("day=2") && err.contains("subdirectories"),
        "{err}"
    );
    let missing = DataSource::partitioned(dir.path().join("nope"))
        .evaluate_partitioned_in(checks(), dir.path())
        .expect_err("no directory")
        .to_string();
    assert!(missing.contains("nope"), "{missing}");
}

#[test]
fn a_same_size_rewrite_with_its_old_modification_time_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("p");
    std::fs::create_dir(&parts).unwrap();
    let file = parts.join("a.csv");
    std::fs::write(&file, "x\n1\n").unwrap();
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    let checks = || vec![mltest::expect::column("x").max().at_most(5.0)];
    let source = DataSource::partitioned(&parts);
    let first = source
        .evaluate_partitioned_in(checks(), dir.path())
        .unwrap();
    assert_eq!(first.outcomes[0].observed, Some(1.0));
    // `cp -p` / `rsync -a`: other bytes, same size, the old mtime.
    std::fs::write(&file, "x\n9\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let next = source
        .evaluate_partitioned_in(checks(), dir.path())
        .unwrap();
    assert_eq!(read(&next), [true]);
    assert_eq!(next.outcomes[0].observed, Some(9.0));
    assert!(!next.outcomes[0].passed());
}

/// A fixture directory of three CSV partitions, written once per process.
fn reviews_parts() -> DataSource {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mltest-partitions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..3u64 {
            let mut frame = rows(400, 70 + i);
            let mut file = std::fs::File::create(dir.join(format!("day-{i}.csv"))).unwrap();
            CsvWriter::new(&mut file).finish(&mut frame).unwrap();
        }
        dir
    });
    DataSource::partitioned(dir).named("reviews_parts")
}

#[data_expectation(
    reason = "The #[data_expectation] scaffold takes a partitioned source as it is."
)]
fn partitioned_reviews_are_plausible(reviews_parts: &Dataset) -> Vec<Expectation> {
    vec![
        reviews_parts.row_count().between(1_200.0, 1_200.0),
        reviews_parts.column("Age").mean().between(18.0, 80.0),
        reviews_parts
            .column("Rating")
            .values()
            .in_set([1, 2, 3, 4, 5])
            .mostly(1.0),
    ]
}
