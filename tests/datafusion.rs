//! The DataFusion engine against polars (issue 21, item 1): the same
//! expectations, every kind, over the same data read by each engine's own
//! readers — an in-memory frame, a CSV file, a Parquet file, partitioned
//! Parquet and CSV directories, random frames — give the same verdicts,
//! figures (to 1e-9), counts, segments, example rows and unexpected
//! values. The reviews suite (`tests/data_quality.rs`, included below)
//! runs on both engines and is compared run by run.
//!
//! Run: `cargo test --release --workspace --features datafusion --test datafusion`.
#![cfg(feature = "datafusion")]

use std::path::Path;

use mltest::check::{evaluate_checks_on, registered_data_checks};
use mltest::expect::{
    self, CheckOutcome, column, duplicate_rows, duplicates_on, leakage, row_count,
};
use mltest::prelude::*;
use polars::prelude::*;
use proptest::prelude::*;

// The reviews suite, registered in this binary too: its checks run as
// tests here on polars, and `the_reviews_suite_...` compares the engines.
#[allow(dead_code)]
#[path = "data_quality.rs"]
mod data_quality;

/// The generator's reviews with a date column as ISO text (`day`) and 5% of
/// Age missing.
fn frame(n: usize, seed: u64) -> DataFrame {
    let spec = ReviewsSpec::new(n, seed).null_rate("Age", None, 0.05);
    let mut f = mltest::data::load_cached(&DataSource::generated(spec))
        .expect("generated")
        .frame()
        .clone();
    let days: Vec<String> = (0..f.height())
        .map(|i| format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1))
        .collect();
    f.with_column(Column::new("day".into(), days)).unwrap();
    f
}

/// Every metric kind, unsegmented, filtered and per segment, passing and
/// failing (failures carry example rows), and invalid ones.
fn checks() -> Vec<Expectation> {
    let tops = |e: Expectation| e.where_eq("Department Name", "Tops");
    let each = |e: Expectation| e.in_every_segment_of("Department Name");
    vec![
        row_count().at_least(100.0),
        row_count().at_least(1e9),
        column("Age").null_fraction().at_most(0.01),
        column("Age").mean().between(18.0, 80.0),
        column("Age").std().at_most(30.0),
        column("Age").min().at_least(18.0),
        column("Age").max().at_most(90.0),
        column("Positive Feedback Count").sum().at_least(0.0),
        column("Age").quantile(0.1).between(18.0, 99.0),
        column("Age").median().between(18.0, 99.0),
        column("Age").quantile(0.9).at_most(50.0),
        column("day").newest().at_least(0.0),
        column("Clothing ID").unique_fraction().at_least(0.99),
        column("Rating").values().in_set([1, 2, 3, 4]).mostly(1.0),
        column("Division Name")
            .values()
            .in_set(["General", "General Petite"])
            .mostly(0.99),
        column("Age").values().between(18.0, 60.0).mostly(0.99),
        column("Department Name").share_of("Tops").at_most(0.1),
        column("Review Text").empty_fraction().at_most(0.0),
        column("Review Text").lengths().between(1, 200).mostly(0.99),
        column("Review Text").matching("(?i)dress"),
        column("Title").matching("^[A-Z]").mostly(0.5),
        duplicate_rows().at_most(0.0),
        duplicates_on(["Clothing ID"]).at_most(0.0),
        duplicates_on(["Clothing ID", "Age"])
            .every_member()
            .fraction()
            .at_most(0.0),
        duplicates_on(["Age"]).counting_missing_keys().at_most(0.0),
        leakage("Recommended IND")
            .features([
                "Rating",
                "Age",
                "Department Name",
                "Positive Feedback Count",
            ])
            .at_most(0.5),
        leakage("Rating")
            .bias_corrected()
            .features(["Division Name", "Age"])
            .at_most(0.5),
        expect::schema()
            .column("Age", DType::Integer)
            .column("Review Text", DType::Text)
            .column("Rating", DType::Float)
            .check(),
        tops(column("Age").mean().between(18.0, 80.0)),
        tops(column("Age").null_fraction().at_most(0.01)),
        tops(column("Rating").values().in_set([1, 2, 3]).mostly(1.0)),
        tops(duplicates_on(["Clothing ID"]).at_most(0.0)),
        each(column("Age").mean().between(18.0, 80.0)),
        each(column("Age").null_fraction().at_most(0.02)),
        each(column("Review Text").empty_fraction().at_most(0.0)),
        each(column("Rating").values().in_set([1, 2, 3, 4]).mostly(1.0)),
        each(duplicates_on(["Clothing ID"]).at_most(0.0)),
        each(column("Clothing ID").unique_fraction().at_least(0.99)),
        column("Age")
            .mean()
            .between(18.0, 80.0)
            .in_every_segment_of("Rating")
            .min_rows(50),
        // Invalid: named the same way by both engines.
        column("Nope").mean().at_most(1.0),
        column("Review Text").mean().at_most(1.0),
        column("Title").matching("("),
        column("Age").quantile(1.5).at_most(1.0),
        column("Age").mean().between(2.0, 1.0),
    ]
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) if a.is_nan() && b.is_nan() => {}
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: DataFusion {a} vs polars {b}"
        ),
        _ => assert_eq!(a, b, "{what}"),
    }
}

/// Same verdict, error, figure, count, segments, examples and unexpected values.
fn assert_same(df: &CheckOutcome, pl: &CheckOutcome, origin: &str) {
    let what = format!("{origin}: {}", pl.expectation.describe());
    let both = format!("{what}\n-- DataFusion: {df:?}\n-- polars: {pl:?}");
    assert_eq!(df.status(), pl.status(), "{both}");
    assert_eq!(
        df.error().map(|e| e.to_string()),
        pl.error().map(|e| e.to_string()),
        "{both}"
    );
    close(df.observed, pl.observed, &what);
    assert_eq!(df.count, pl.count, "{both}");
    let segments = |o: &CheckOutcome| {
        let mut s: Vec<_> = o
            .segments
            .iter()
            .map(|s| (s.segment.clone(), s.rows, s.observed, s.passed))
            .collect();
        s.sort_by(|a, b| a.0.cmp(&b.0));
        s
    };
    let (a, b) = (segments(df), segments(pl));
    assert_eq!(a.len(), b.len(), "{both}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.0, x.1, x.3), (&y.0, y.1, y.3), "{what}");
        close(Some(x.2), Some(y.2), &format!("{what}, segment {}", x.0));
    }
    assert_eq!(df.skipped_segments, pl.skipped_segments, "{what}");
    assert_eq!(df.worst_segment, pl.worst_segment, "{both}");
    let rows = |o: &CheckOutcome| {
        o.examples
            .iter()
            .map(|e| (e.row, e.value.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(df), rows(pl), "{what}: example rows");
    assert_eq!(
        df.offending_rows, pl.offending_rows,
        "{what}: offending rows"
    );
    assert_eq!(df.unexpected, pl.unexpected, "{what}: unexpected values");
    assert_eq!(df.table.len(), pl.table.len(), "{what}");
    for (x, y) in df.table.iter().zip(&pl.table) {
        assert_eq!((&x.name, &x.method), (&y.name, &y.method), "{what}");
        close(Some(x.value), Some(y.value), &format!("{what}, {}", x.name));
    }
}

fn compare(df: &[CheckOutcome], pl: &[CheckOutcome], origin: &str) {
    assert_eq!(df.len(), pl.len());
    for (a, b) in df.iter().zip(pl) {
        assert_same(a, b, origin);
    }
    // The battery is meant to exercise failures and their examples.
    assert!(
        pl.iter().any(|o| !o.examples.is_empty()),
        "{origin}: no failure had examples"
    );
}

fn write_parquet(path: &Path, frame: &DataFrame) {
    let mut frame = frame.clone();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut frame)
        .unwrap();
}

fn write_csv(path: &Path, frame: &DataFrame) {
    let mut frame = frame.clone();
    CsvWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut frame)
        .unwrap();
}

fn on_polars(source: &DataSource) -> Vec<CheckOutcome> {
    mltest::data::load_cached(source)
        .unwrap()
        .evaluate(checks())
}

fn on_datafusion(source: &DataSource) -> Vec<CheckOutcome> {
    source.evaluate_datafusion(checks()).unwrap().outcomes
}

#[test]
fn an_in_memory_frame_gives_the_same_outcomes_on_both_engines() {
    let f = frame(3_000, 7);
    let source = DataSource::frame("reviews", f);
    compare(&on_datafusion(&source), &on_polars(&source), "frame");
}

#[test]
fn csv_and_parquet_files_read_by_datafusion_give_polars_figures() {
    let dir = tempfile::tempdir().unwrap();
    let f = frame(4_000, 11);
    let (csv, parquet) = (dir.path().join("r.csv"), dir.path().join("r.parquet"));
    write_csv(&csv, &f);
    write_parquet(&parquet, &f);
    for path in [&csv, &parquet] {
        let source = DataSource::file(path);
        let df = source.evaluate_datafusion(checks()).unwrap();
        let pl = mltest::data::load_cached(&source).unwrap();
        assert_eq!(df.info.rows, pl.frame().height());
        assert_eq!(df.info.sha256, pl.info().sha256, "{}", path.display());
        compare(
            &df.outcomes,
            &pl.evaluate(checks()),
            &path.display().to_string(),
        );
    }
}

#[test]
fn partitioned_directories_give_the_figures_of_their_concatenation() {
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<DataFrame> = (0..3)
        .map(|i| frame(1_200 + 300 * i, 20 + i as u64))
        .collect();
    let mut all = parts[0].clone();
    for p in &parts[1..] {
        all.vstack_mut(p).unwrap();
    }
    let whole = Dataset::from_frame("whole", all.clone()).evaluate(checks());
    for ext in ["parquet", "csv"] {
        let d = dir.path().join(ext);
        std::fs::create_dir(&d).unwrap();
        for (i, p) in parts.iter().enumerate() {
            let path = d.join(format!("part-{i}.{ext}"));
            if ext == "csv" {
                write_csv(&path, p);
            } else {
                write_parquet(&path, p);
            }
        }
        let df = DataSource::partitioned(&d)
            .evaluate_datafusion(checks())
            .unwrap();
        assert_eq!(df.info.rows, all.height());
        compare(&df.outcomes, &whole, ext);
    }
}

#[test]
fn empty_and_hostile_inputs_are_errors_that_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    // A header and no rows: every row-based check says there are no rows.
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "x,g\n").unwrap();
    let src = DataSource::csv(&empty).with_options(LoadOptions::default().dtype("x", DType::Float));
    let checks = || {
        vec![
            row_count().at_least(1.0),
            column("x").mean().at_most(1.0),
            column("y").mean().at_most(1.0),
        ]
    };
    let df = src.evaluate_datafusion(checks()).unwrap();
    let pl = mltest::data::load_cached(&src).unwrap().evaluate(checks());
    for (a, b) in df.outcomes.iter().zip(&pl) {
        assert_same(a, b, "empty.csv");
    }
    assert!(!df.outcomes[1].passed());
    assert!(df.outcomes[2].error().is_some(), "{:?}", df.outcomes[2]);

    // A missing file names the path; trimmed text is refused, not ignored.
    let missing = DataSource::csv(dir.path().join("nope.csv")).evaluate_datafusion(checks());
    assert!(missing.unwrap_err().to_string().contains("nope.csv"));
    let padded = dir.path().join("padded.csv");
    std::fs::write(&padded, "x\n 1\n").unwrap();
    let trimmed = DataSource::csv(&padded)
        .with_options(LoadOptions::default().trim(true))
        .evaluate_datafusion(checks());
    let err = trimmed.unwrap_err().to_string();
    assert!(err.contains("trim") && err.contains("padded.csv"), "{err}");

    // A field that does not fit the inferred type names the file.
    let bad = dir.path().join("bad.csv");
    let mut text = String::from("x\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("oops\n");
    std::fs::write(&bad, text).unwrap();
    let err = DataSource::csv(&bad)
        .evaluate_datafusion(checks())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.csv"), "{err}");
}

#[test]
fn a_registered_table_is_checked_in_the_callers_session() {
    use mltest::datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
    use mltest::datafusion::arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let x: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(1.0),
        None,
        Some(3.0),
        Some(f64::NAN),
    ]));
    let g: ArrayRef = Arc::new(StringArray::from(vec!["a", "a", "b", "b"]));
    let ctx = mltest::datafusion::prelude::SessionContext::new();
    ctx.register_batch(
        "events",
        RecordBatch::try_from_iter([("x", x), ("g", g)]).unwrap(),
    )
    .unwrap();
    let out = expect::evaluate_table(
        &ctx,
        "events",
        vec![
            column("x").null_fraction().at_most(0.25),
            column("x").mean().at_most(10.0),
            column("g").values().in_set(["a"]).mostly(1.0),
        ],
        EvalOptions::default(),
    )
    .unwrap();
    assert!(out[0].passed());
    // NaN is never averaged into a pass: the check errors and shows the row.
    assert!(
        out[1].error().unwrap().to_string().contains("NaN"),
        "{:?}",
        out[1]
    );
    assert_eq!(
        out[1].examples.iter().map(|e| e.row).collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(out[2].unexpected, [("\"b\"".to_string(), 2)]);
    let missing = expect::evaluate_table(
        &ctx,
        "nope",
        vec![row_count().at_least(1.0)],
        EvalOptions::default(),
    );
    assert!(missing.unwrap_err().to_string().contains("nope"));
}

#[test]
fn the_reviews_suite_gives_the_same_verdicts_on_both_engines() {
    if !mltest_core_reviews_is_real() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the reviews CSV is missing (../shared/data), so the suite would compare on the generated stand-in"
        );
        eprintln!("note: the reviews CSV is absent; comparing the suite on the generated stand-in");
    }
    let checks = registered_data_checks();
    assert!(
        checks.len() >= 10,
        "the suite is linked in: {}",
        checks.len()
    );
    let pl = evaluate_checks_on(&checks, Some(mltest::data::Engine::Polars));
    let df = evaluate_checks_on(&checks, Some(mltest::data::Engine::DataFusion));
    let mut compared = 0;
    for (a, b) in df.iter().zip(&pl) {
        assert_eq!(a.outcomes.len(), b.outcomes.len(), "{}", b.site.name);
        for (x, y) in a.outcomes.iter().zip(&b.outcomes) {
            assert_same(x, y, b.site.name);
            compared += 1;
        }
        assert_eq!(
            a.data.as_ref().map(|d| d.rows),
            b.data.as_ref().map(|d| d.rows)
        );
    }
    assert!(compared >= 20, "{compared} expectations compared");
}

fn mltest_core_reviews_is_real() -> bool {
    mltest::data::reviews::is_real()
}

/// Random frames: numbers with missing values, NaN-free floats, text with
/// blanks and whitespace, a grouping column with missing labels.
fn random_frame() -> impl Strategy<Value = DataFrame> {
    let row = (
        prop::option::weighted(0.8, -50i64..50),
        prop::option::weighted(0.9, -1e3f64..1e3),
        prop::option::weighted(
            0.9,
            prop::sample::select(vec!["", " ", "a", "ab c", "Dress", "\tx"]),
        ),
        prop::option::weighted(0.9, prop::sample::select(vec!["p", "q", "r"])),
    );
    prop::collection::vec(row, 1..60).prop_map(|rows| {
        let i: Vec<Option<i64>> = rows.iter().map(|r| r.0).collect();
        let x: Vec<Option<f64>> = rows.iter().map(|r| r.1).collect();
        let t: Vec<Option<&str>> = rows.iter().map(|r| r.2).collect();
        let g: Vec<Option<&str>> = rows.iter().map(|r| r.3).collect();
        df!("i" => i, "x" => x, "t" => t, "g" => g).unwrap()
    })
}

fn random_checks() -> Vec<Expectation> {
    let each = |e: Expectation| e.in_every_segment_of("g");
    vec![
        column("i").null_fraction().at_most(0.1),
        column("x").mean().between(-10.0, 10.0),
        column("x").std().at_most(500.0),
        column("i").quantile(0.3).at_most(0.0),
        column("i").sum().at_least(0.0),
        column("i").unique_fraction().at_least(0.9),
        column("t").empty_fraction().at_most(0.1),
        column("t").lengths().between(1, 3).mostly(0.9),
        column("t").matching("a").mostly(0.5),
        column("g").values().in_set(["p", "q"]).mostly(0.9),
        duplicates_on(["i", "g"]).at_most(0.0),
        duplicate_rows().every_member().at_most(1.0),
        leakage("g").features(["i", "t"]).at_most(0.9),
        each(column("x").min().at_least(-900.0)),
        each(column("i").null_fraction().at_most(0.2)),
        column("x").max().at_most(900.0).where_eq("g", "p"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn random_frames_give_the_same_outcomes_on_both_engines(f in random_frame()) {
        let source = DataSource::frame("random", f.clone());
        let df = source.evaluate_datafusion(random_checks()).unwrap().outcomes;
        let pl = Dataset::from_frame("random", f).evaluate(random_checks());
        for (a, b) in df.iter().zip(&pl) {
            assert_same(a, b, "random frame");
        }
    }
}
