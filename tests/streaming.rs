//! The streaming path (issue 10): quantile checks from KLL sketches whose
//! stated error range holds the exact value, and plans that stream end to
//! end — no node falls back to the in-memory engine unless exact quantiles
//! are asked for. Data is generated with known quantiles.

use std::path::Path;

use mltest::check::{evaluate_check, registered_data_checks};
use mltest::data::Streaming;
use mltest::expect::{self, CheckOutcome, EvalOptions};
use mltest::prelude::*;

/// `n` rows: `x` a permutation of 0..n (so its q-quantile is exactly
/// q·(n−1)), `g` = "low" for x < n/4 else "high", `y` = x with every tenth
/// row missing.
fn permutation_csv(path: &Path, n: u64) {
    let mut s = String::from("x,g,y\n");
    for i in 0..n {
        let x = (i * 7_919) % n;
        let g = if x < n / 4 { "low" } else { "high" };
        let y = if i % 10 == 0 {
            String::new()
        } else {
            x.to_string()
        };
        s.push_str(&format!("{x},{g},{y}\n"));
    }
    std::fs::write(path, s).unwrap();
}

fn streamed(path: &Path, checks: Vec<Expectation>) -> Vec<CheckOutcome> {
    DataSource::csv(path)
        .evaluate_streaming(checks)
        .unwrap()
        .outcomes
}

#[test]
fn sketched_quantiles_hold_the_exact_value_in_their_stated_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perm.csv");
    let n = 200_000u64;
    permutation_csv(&path, n);
    let qs = [0.01, 0.25, 0.5, 0.9, 0.99];
    let checks = || {
        qs.iter()
            .map(|&q| expect::column("x").quantile(q).between(-1.0, 1e9))
            .collect::<Vec<_>>()
    };
    let memory = mltest::data::load_cached(&DataSource::csv(&path))
        .unwrap()
        .evaluate(checks());
    for (q, (s, m)) in qs.iter().zip(streamed(&path, checks()).iter().zip(&memory)) {
        let truth = q * (n - 1) as f64;
        // In memory: exact, and says so.
        assert_eq!(m.observed, Some(truth), "q = {q}");
        assert!(m.estimate.is_none());
        // Streaming: an estimate with its error bound, which holds the truth.
        let e = s
            .estimate
            .as_ref()
            .expect("a sketched quantile states its error");
        assert_eq!(e.values, n);
        assert!((0.013..0.014).contains(&e.rank_error), "{e:?}");
        assert_eq!(e.confidence, 0.99);
        assert!(
            e.low <= truth && truth <= e.high,
            "q = {q}: {truth} not in {e:?}"
        );
        let got = s.observed.unwrap();
        assert!(
            (got - truth).abs() <= e.rank_error * n as f64,
            "q = {q}: {got} vs {truth}"
        );
        assert!(s.passed());
        assert_eq!(s.count.as_ref().map(|c| c.hits), Some(n));
    }
}

#[test]
fn per_segment_and_filtered_quantiles_are_sketched_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perm.csv");
    let n = 200_000u64;
    permutation_csv(&path, n);
    let out = streamed(
        &path,
        vec![
            // low: 0..50,000 (median 24,999.5); high: 50,000..200,000 (124,999.5).
            expect::column("x")
                .median()
                .at_most(100_000.0)
                .in_every_segment_of("g"),
            expect::column("x")
                .median()
                .at_most(1e9)
                .where_eq("g", "low"),
            // y drops every tenth row: the sketch sees only the values present.
            expect::column("y").median().at_most(1e9),
        ],
    );
    let seg = &out[0];
    assert!(
        !seg.passed(),
        "the high segment's median is above the bound"
    );
    assert_eq!(seg.worst_segment.as_deref(), Some("g == \"high\""));
    let by = |label: &str| {
        seg.segments
            .iter()
            .find(|f| f.segment == label)
            .unwrap_or_else(|| panic!("no segment {label}: {:?}", seg.segments))
    };
    let (low, high) = (by("g == \"low\""), by("g == \"high\""));
    assert_eq!((low.rows, high.rows), (50_000, 150_000));
    assert!(low.passed && !high.passed);
    assert!(
        (low.observed - 24_999.5).abs() <= 0.014 * 50_000.0,
        "{low:?}"
    );
    assert!(
        (high.observed - 124_999.5).abs() <= 0.014 * 150_000.0,
        "{high:?}"
    );
    let e = seg.estimate.as_ref().unwrap();
    assert_eq!(e.values, 150_000, "the worst segment's estimate");
    assert!(e.low <= 124_999.5 && 124_999.5 <= e.high, "{e:?}");

    let filtered = &out[1];
    assert_eq!(filtered.estimate.as_ref().unwrap().values, 50_000);
    assert!((filtered.observed.unwrap() - 24_999.5).abs() <= 0.014 * 50_000.0);

    let y = &out[2];
    assert_eq!(y.estimate.as_ref().unwrap().values, 180_000);
    assert_eq!(y.count.as_ref().map(|c| (c.hits, c.of)), Some((180_000, n)));
}

#[test]
fn small_inputs_are_exact_on_the_streaming_path_too() {
    // At most k = 200 values: the sketch keeps them all, so the figure is
    // exact and equals the in-memory one (linear interpolation).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.csv");
    permutation_csv(&path, 150);
    let s = &streamed(&path, vec![expect::column("x").quantile(0.3).at_most(1e9)])[0];
    assert_eq!(s.observed, Some(0.3 * 149.0));
    assert_eq!(s.estimate.as_ref().map(|e| e.rank_error), Some(0.0));
    let text = expect::render_failure(s, None);
    assert!(text.contains("exact"), "{text}");
}

#[test]
fn a_bound_inside_the_stated_range_is_flagged_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perm.csv");
    let n = 100_000u64;
    permutation_csv(&path, n);
    // The true median is 49,999.5: a bound right at it cannot be decided by
    // a sketch, and the report must say so.
    let s = &streamed(&path, vec![expect::column("x").median().at_most(49_999.5)])[0];
    let text = expect::render_failure(s, None);
    assert!(text.contains("observed: ≈ "), "{text}");
    assert!(
        text.contains("estimate: KLL sketch (k = 200) of 100,000 values: rank error ±1.3"),
        "{text}"
    );
    assert!(text.contains("the bound lies inside that range"), "{text}");
}

/// The 14 expectations of `../shared/bench/ge_suite.py` (as the benchmark runs them).
fn ge_suite() -> Vec<Expectation> {
    use expect::{column, row_count};
    let mut e = vec![row_count().at_least(1_000.0)];
    for (col, mostly) in [
        ("Age", 1.0),
        ("Rating", 1.0),
        ("Division Name", 0.99),
        ("Department Name", 0.99),
        ("Class Name", 0.99),
        ("Review Text", 0.95),
    ] {
        e.push(column(col).null_fraction().at_most(1.0 - mostly));
    }
    e.push(column("Age").values().between(18.0, 99.0));
    e.push(column("Rating").values().in_set([1, 2, 3, 4, 5]));
    e.push(column("Recommended IND").values().in_set([0, 1]));
    e.push(column("Age").mean().between(35.0, 50.0));
    e.push(
        column("Department Name")
            .values()
            .in_set(["Bottoms", "Dresses", "Intimate", "Jackets", "Tops", "Trend"]),
    );
    e.push(column("Review Text").lengths().between(1, 600));
    e.push(column("Age").median().between(35.0, 50.0));
    e
}

#[test]
fn the_suite_streams_end_to_end_with_no_in_memory_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reviews.csv");
    ReviewsSpec::new(5_000, 3).write_csv(&path).unwrap();
    let src = DataSource::csv(&path);
    let segmented = || {
        let mut s = ge_suite();
        s.push(
            expect::column("Age")
                .median()
                .between(30.0, 60.0)
                .in_every_segment_of("Department Name"),
        );
        s.push(
            expect::column("Rating")
                .null_fraction()
                .at_most(0.0)
                .in_every_segment_of("Department Name"),
        );
        s
    };

    let plan = src
        .streaming_plan(segmented(), EvalOptions::default())
        .unwrap();
    assert_eq!(
        plan.in_memory_fallbacks(),
        Vec::<String>::new(),
        "{:#?}",
        plan
    );
    // The main select and the group-by run as one plan over one scan.
    let kinds: Vec<&str> = plan.queries.iter().map(|q| q.query.as_str()).collect();
    assert_eq!(kinds, ["select + group_by \"Department Name\""]);
    assert_eq!(plan.scans(), 1, "{}", plan.queries[0].dot);

    // The detector is real: exact quantiles are what makes polars fall back.
    let exact = EvalOptions {
        exact_quantiles: true,
        ..EvalOptions::default()
    };
    let fallbacks = src
        .streaming_plan(segmented(), exact)
        .unwrap()
        .in_memory_fallbacks();
    assert!(
        !fallbacks.is_empty(),
        "exact quantiles should fall back to memory"
    );
    assert!(
        fallbacks
            .iter()
            .all(|f| f.starts_with("select") || f.starts_with("group_by"))
    );

    // And the suite's figures agree with the in-memory run: every check's
    // status, and the figures exactly except the sketched quantiles, whose
    // exact value lies in their stated range.
    let streamed = src.evaluate_streaming(segmented()).unwrap().outcomes;
    let memory = mltest::data::load_cached(&src)
        .unwrap()
        .evaluate(segmented());
    for (s, m) in streamed.iter().zip(&memory) {
        let name = m.expectation.short_name();
        assert_eq!(s.status(), m.status(), "{name}");
        match &s.estimate {
            Some(e) if s.segments.is_empty() => {
                let exact = m.observed.unwrap();
                assert!(
                    e.low <= exact && exact <= e.high,
                    "{name}: {exact} not in {e:?}"
                );
            }
            Some(_) => assert_eq!(s.segments.len(), m.segments.len(), "{name}"),
            None => assert_eq!(s.observed, m.observed, "{name}"),
        }
    }
    assert_eq!(streamed.iter().filter(|o| o.estimate.is_some()).count(), 2);
}

/// A 200,000-row permutation file, shared by the tests (and nextest's
/// processes): its content is fixed, so each writer renames the same bytes
/// into place atomically and a reader never sees a partial file.
fn perm_path() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir().join("mltest-perm-200000.csv");
        if !path.exists() {
            let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
            permutation_csv(&tmp, 200_000);
            std::fs::rename(&tmp, &path).unwrap();
        }
        path
    })
    .clone()
}

/// The fixture: the file, streamed however small it is.
fn perm() -> DataSource {
    DataSource::csv(perm_path()).streaming(Streaming::Always)
}

#[data_expectation(
    reason = "A streamed file: the body sees only the schema, the checks run as one \
              streaming plan, and the quantiles come from KLL sketches (x is a \
              permutation of 0..200,000, so its median is 99,999.5)."
)]
fn streamed_file_is_checked_without_loading(perm: &Dataset) -> Vec<Expectation> {
    assert!(perm.column_names().contains(&"x".to_string()));
    vec![
        perm.row_count().at_least(200_000.0),
        perm.column("y").null_fraction().at_most(0.1),
        perm.column("x").median().between(97_000.0, 103_000.0),
        perm.column("x")
            .quantile(0.9)
            .at_most(190_000.0)
            .in_every_segment_of("g"),
    ]
}

#[data_expectation(
    reason = "A body that reads values of a streamed file fails with a clear error."
)]
#[should_panic(expected = "is streamed")]
fn reading_values_of_a_streamed_file_is_an_error(perm: &Dataset) -> Expectation {
    let _ = perm.frame();
    perm.row_count().at_least(1.0)
}

fn registered(name: &str) -> &'static mltest::check::DataCheck {
    registered_data_checks()
        .into_iter()
        .find(|c| c.site.name == name)
        .unwrap_or_else(|| panic!("{name} is not registered"))
}

#[test]
fn data_expectation_tests_stream_files_marked_or_too_large() {
    let run = evaluate_check(registered("streamed_file_is_checked_without_loading"));
    let data = run.data.as_ref().unwrap();
    assert!(data.streamed);
    assert_eq!(data.rows, 200_000);
    assert_eq!(data.sha256.len(), 64, "the file is still fingerprinted");
    assert!(data.short().ends_with(", streamed)"), "{}", data.short());
    assert!(run.outcomes.iter().all(|o| o.passed()), "{}", run.report());
    assert_eq!(run.outcomes[1].count.as_ref().map(|c| c.hits), Some(20_000));
    let median = run.outcomes[2].estimate.as_ref().unwrap();
    assert!(
        median.low <= 99_999.5 && 99_999.5 <= median.high,
        "{median:?}"
    );
    assert_eq!(run.outcomes[3].segments.len(), 2);
    // The record a passing sketched check leaves says what the figure is.
    let records = run.records();
    assert!(
        records[2]
            .report
            .contains("estimate: KLL sketch (k = 200) of 200,000 values"),
        "{}",
        records[2].report
    );

    let run = evaluate_check(registered("reading_values_of_a_streamed_file_is_an_error"));
    let text = run.report();
    assert!(!run.outcomes[0].passed());
    assert!(text.contains("is streamed"), "{text}");
    assert!(text.contains("Streaming::Never"), "{text}");

    // By size: the same file loads below the threshold and streams above it.
    assert!(
        DataSource::csv(perm_path())
            .streaming(Streaming::Above(1_000))
            .streams()
    );
    assert!(
        !DataSource::csv(perm_path())
            .streaming(Streaming::Above(1 << 40))
            .streams()
    );
    assert!(
        !DataSource::csv(perm_path())
            .streaming(Streaming::Never)
            .streams()
    );
    assert!(
        !DataSource::generated(ReviewsSpec::new(10, 1))
            .streaming(Streaming::Always)
            .streams()
    );
}
