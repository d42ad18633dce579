//! The expectation engine against known ground truth: frames from the
//! seeded generator (whose properties are exact allocations) and small
//! hand-made frames, with expected figures computed from the parameters or
//! by plain loops over the data, never by the engine under test.

use mltest::expect::{CheckError, Filter, Status};
use mltest::prelude::*;
use polars::prelude::*;

fn generated(spec: &ReviewsSpec) -> Dataset {
    Dataset::from_frame("generated", spec.generate().expect("generator"))
}

fn i64s(data: &Dataset, column: &str) -> Vec<Option<i64>> {
    data.frame()
        .column(column)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

fn strs(data: &Dataset, column: &str) -> Vec<Option<String>> {
    data.frame()
        .column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

#[test]
fn null_fraction_overall_in_a_segment_and_in_every_segment_is_exact() {
    let spec = ReviewsSpec::new(2_000, 1).null_rate("Age", Some("Dresses"), 0.10);
    let data = generated(&spec);
    let dresses = spec.department_rows("Dresses");
    let nulls = spec.null_rows("Age", Some("Dresses"));
    assert_eq!((dresses, nulls), (538, 54));

    let out = data.evaluate(vec![
        data.column("Age").null_fraction().at_most(0.0),
        data.column("Age")
            .null_fraction()
            .at_most(0.05)
            .where_eq("Department Name", "Dresses"),
        data.column("Age")
            .null_fraction()
            .at_most(0.05)
            .in_every_segment_of("Department Name"),
        data.column("Age")
            .null_fraction()
            .at_most(0.0)
            .where_eq("Department Name", "Tops"),
    ]);
    assert_eq!(out[0].observed, Some(nulls as f64 / 2_000.0));
    assert_eq!(out[0].status(), Status::Fail);
    let count = out[0].count.as_ref().unwrap();
    assert_eq!((count.hits, count.of), (54, 2_000));

    assert_eq!(out[1].observed, Some(nulls as f64 / dresses as f64));
    assert_eq!(
        out[1].worst_segment.as_deref(),
        Some("Department Name == \"Dresses\"")
    );
    assert_eq!(out[1].status(), Status::Fail);

    // Every department is judged; only Dresses has missing ages.
    assert_eq!(out[2].status(), Status::Fail);
    assert_eq!(
        out[2].worst_segment.as_deref(),
        Some("Department Name == \"Dresses\"")
    );
    assert_eq!(out[2].observed, Some(nulls as f64 / dresses as f64));
    // Trend has 12 rows at this size: under the default 30, skipped and counted.
    assert_eq!(spec.department_rows("Trend"), 12);
    assert_eq!(out[2].segments.len(), 5);
    assert_eq!(out[2].skipped_segments, 1);
    assert_eq!(out[2].segments.iter().filter(|s| !s.passed).count(), 1);
    for s in &out[2].segments[1..] {
        assert_eq!(s.observed, 0.0, "{}", s.segment);
    }
    let tops = out[2]
        .segments
        .iter()
        .find(|s| s.segment.contains("Tops"))
        .unwrap();
    assert_eq!(tops.rows as usize, spec.department_rows("Tops"));

    assert!(out[3].passed());
    assert_eq!(out[3].observed, Some(0.0));
}

#[test]
fn failing_checks_name_the_offending_rows() {
    let spec = ReviewsSpec::new(500, 3).null_rate("Age", Some("Jackets"), 0.5);
    let data = generated(&spec);
    let out = data.evaluate_one(data.column("Age").null_fraction().at_most(0.0));
    let ages = i64s(&data, "Age");
    let missing: Vec<u64> = (0..ages.len())
        .filter(|&i| ages[i].is_none())
        .map(|i| i as u64)
        .collect();
    assert_eq!(out.offending_rows, missing.len() as u64);
    let rows: Vec<u64> = out.examples.iter().map(|e| e.row).collect();
    assert_eq!(rows, missing[..5].to_vec());
}

#[test]
fn small_segments_are_skipped_and_counted() {
    let spec = ReviewsSpec::new(1_000, 5);
    let data = generated(&spec);
    // Trend has 6 rows at this size, Jackets 44: both under 50.
    assert_eq!(spec.department_rows("Trend"), 6);
    let out = data.evaluate_one(
        data.column("Age")
            .null_fraction()
            .at_most(0.0)
            .in_every_segment_of("Department Name")
            .min_rows(50),
    );
    assert!(out.passed());
    assert_eq!(out.skipped_segments, 2);
    assert_eq!(out.segments.len(), 4);
}

#[test]
fn duplicates_and_key_duplicates_are_counted_exactly() {
    let spec = ReviewsSpec::new(800, 9).duplicates(17);
    let data = generated(&spec);
    assert_eq!(data.height(), 817);
    let out = data.evaluate(vec![
        data.duplicate_rows().at_most(0.0),
        data.duplicates_on([""]).at_most(17.0),
        data.duplicate_rows()
            .at_most(0.0)
            .where_filter(Filter::NotNull {
                column: "Age".into(),
            }),
    ]);
    assert_eq!(out[0].observed, Some(17.0));
    assert_eq!(out[0].status(), Status::Fail);
    // The copies sit at the end: their row indices are 800..817.
    assert_eq!(out[0].examples.first().map(|e| e.row), Some(800));
    assert_eq!(out[1].observed, Some(17.0));
    assert!(out[1].passed());
    assert_eq!(out[2].observed, Some(17.0));
}

#[test]
fn a_leaked_feature_is_named_with_its_figure() {
    let spec = ReviewsSpec::new(1_500, 11).leak("Leak", 0.0);
    let data = generated(&spec);
    let out = data.evaluate_one(
        data.leakage("Recommended IND")
            .features(["Age", "Department Name", "Leak"])
            .at_most(0.5),
    );
    assert_eq!(out.status(), Status::Fail);
    assert_eq!(out.observed, Some(1.0));
    assert!(
        out.worst_segment.as_deref().unwrap().contains("\"Leak\""),
        "{:?}",
        out.worst_segment
    );
    assert_eq!(out.table[0].name, "Leak");
}

#[test]
fn association_figures_match_an_independent_computation() {
    let spec = ReviewsSpec::new(3_000, 12).leak("Leak", 0.2);
    let data = generated(&spec);
    let label: Vec<f64> = i64s(&data, "Recommended IND")
        .into_iter()
        .map(|v| v.unwrap() as f64)
        .collect();
    let leak: Vec<f64> = i64s(&data, "Leak")
        .into_iter()
        .map(|v| v.unwrap() as f64)
        .collect();
    let flips = label.iter().zip(&leak).filter(|(a, b)| a != b).count();
    assert_eq!(flips, spec.leak_flips());
    let r = pearson(&label, &leak).abs();

    // Cramér's V of Department against the label, by hand: the engine's
    // correlation ratio η of the 0/1 label grouped by Department equals it.
    let dept = strs(&data, "Department Name");
    let mut table = std::collections::BTreeMap::<(String, i64), f64>::new();
    for (d, l) in dept.iter().zip(&label) {
        *table.entry((d.clone().unwrap(), *l as i64)).or_default() += 1.0;
    }
    let n = label.len() as f64;
    let row = |d: &str| {
        table
            .iter()
            .filter(|((a, _), _)| a == d)
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    let col = |l: i64| {
        table
            .iter()
            .filter(|((_, b), _)| *b == l)
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    let depts: std::collections::BTreeSet<String> = table.keys().map(|(a, _)| a.clone()).collect();
    let mut chi2 = 0.0;
    for d in &depts {
        for l in [0, 1] {
            let e = row(d) * col(l) / n;
            let o = table.get(&(d.clone(), l)).copied().unwrap_or(0.0);
            chi2 += (o - e).powi(2) / e;
        }
    }
    let v = (chi2 / n).sqrt();

    let out = data.evaluate_one(
        data.leakage("Recommended IND")
            .features(["Leak", "Department Name"])
            .at_most(1.0),
    );
    let got = |name: &str| out.table.iter().find(|t| t.name == name).unwrap().value;
    assert!((got("Leak") - r).abs() < 1e-12, "{} vs {r}", got("Leak"));
    assert!(
        (got("Department Name") - v).abs() < 1e-12,
        "{} vs {v}",
        got("Department Name")
    );
    assert_eq!(out.table[0].method, "|Pearson r|");
    assert_eq!(out.table[1].method, "correlation ratio η");
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn statistics_match_plain_loops_over_the_column() {
    let spec = ReviewsSpec::new(2_345, 21)
        .age(38.0, 9.0)
        .null_rate("Age", None, 0.01);
    let data = generated(&spec);
    let mut ages: Vec<f64> = i64s(&data, "Age")
        .into_iter()
        .flatten()
        .map(|a| a as f64)
        .collect();
    assert_eq!(ages.len(), 2_345 - spec.null_rows("Age", None));
    let n = ages.len() as f64;
    let mean = ages.iter().sum::<f64>() / n;
    let std = (ages.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    ages.sort_by(f64::total_cmp);
    // numpy's default (linear) quantile.
    let quantile = |q: f64| {
        let pos = q * (n - 1.0);
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        ages[lo] + (ages[hi] - ages[lo]) * (pos - lo as f64)
    };
    let out = data.evaluate(vec![
        data.column("Age").mean().between(0.0, 100.0),
        data.column("Age").std().between(0.0, 100.0),
        data.column("Age").quantile(0.9).between(0.0, 100.0),
        data.column("Age").median().between(0.0, 100.0),
        data.column("Age").min().at_least(18.0),
        data.column("Age").max().at_most(99.0),
    ]);
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9 * b.abs().max(1.0);
    assert!(close(out[0].observed, mean));
    assert!(close(out[1].observed, std));
    assert!(close(out[2].observed, quantile(0.9)));
    assert!(close(out[3].observed, quantile(0.5)));
    assert_eq!(out[4].observed, Some(ages[0]));
    assert_eq!(out[5].observed, Some(ages[ages.len() - 1]));
    assert!(out.iter().all(|o| o.passed()));
}

#[test]
fn ranges_count_non_missing_values_and_honour_mostly() {
    let values: Vec<Option<i64>> = (1..=100).map(Some).chain([None, None]).collect();
    let data = Dataset::from_frame("hundred", df!("x" => values).unwrap());
    let out = data.evaluate(vec![
        data.column("x").values().between(1.0, 90.0),
        data.column("x").values().between(1.0, 90.0).mostly(0.9),
        data.column("x").values().between(1.0, 90.0).mostly(0.91),
        data.column("x").values().at_least(11.0).mostly(0.9),
        data.column("x").values().at_most(50.0).mostly(0.5),
    ]);
    assert_eq!(out[0].observed, Some(0.9));
    assert_eq!(out[0].status(), Status::Fail);
    let c = out[0].count.as_ref().unwrap();
    assert_eq!((c.hits, c.of), (10, 100));
    assert!(out[1].passed());
    assert_eq!(out[2].status(), Status::Fail);
    let shown: Vec<(u64, &str)> = out[2]
        .examples
        .iter()
        .map(|e| (e.row, e.value.as_str()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (90, "\"91\""),
            (91, "\"92\""),
            (92, "\"93\""),
            (93, "\"94\""),
            (94, "\"95\"")
        ]
    );
    assert_eq!(out[2].offending_rows, 10);
    assert!(out[3].passed());
    assert_eq!(out[3].observed, Some(0.9));
    assert!(out[4].passed());
}

#[test]
fn value_sets_list_unexpected_values_with_counts() {
    let data = Dataset::from_frame(
        "letters",
        df!("c" => [Some("a"), Some("b"), Some("a"), Some("c"), Some("b"), Some("b"), None, Some("a")]).unwrap(),
    );
    let out = data.evaluate_one(data.column("c").values().in_set(["a"]));
    assert_eq!(out.observed, Some(3.0 / 7.0));
    assert_eq!(
        out.unexpected,
        vec![("\"b\"".to_string(), 3), ("\"c\"".to_string(), 1)]
    );

    let ints = Dataset::from_frame("ints", df!("r" => [1i64, 2, 3, 7, 5, 7]).unwrap());
    let out = ints.evaluate_one(ints.column("r").values().in_set([1, 2, 3, 4, 5]));
    assert_eq!(out.unexpected, vec![("\"7\"".to_string(), 2)]);
    assert_eq!(out.count.as_ref().map(|c| (c.hits, c.of)), Some((2, 6)));
}

#[test]
fn category_shares_equal_the_allocated_department_sizes() {
    let spec = ReviewsSpec::new(5_000, 4);
    let data = generated(&spec);
    let bands: Vec<(&str, f64, f64)> = spec
        .department_counts()
        .iter()
        .map(|(d, _)| (*d, 0.0, 1.0))
        .collect();
    let out = data.evaluate(data.column("Department Name").shares_within(bands));
    for ((dept, rows), o) in spec.department_counts().into_iter().zip(&out) {
        assert_eq!(o.observed, Some(rows as f64 / 5_000.0), "{dept}");
    }
    let narrow = data.evaluate_one(
        data.column("Department Name")
            .share_of("Tops")
            .between(0.0, 0.4),
    );
    assert_eq!(narrow.status(), Status::Fail);
}

#[test]
fn text_checks_count_blank_lengths_and_patterns() {
    let data = Dataset::from_frame(
        "texts",
        df!("t" => [Some("Great dress"), Some(""), Some("   "), None, Some("ok"), Some("Love it!")]).unwrap(),
    );
    let out = data.evaluate(vec![
        data.column("t").empty_fraction().at_most(0.5),
        data.column("t").lengths().between(3, 20),
        data.column("t").matching(r"^[A-Z]").mostly(0.5),
        data.column("t").null_fraction().at_most(0.2),
    ]);
    assert_eq!(out[0].observed, Some(3.0 / 6.0));
    assert!(out[0].passed());
    // Non-missing: "Great dress" (11), "" (0), "   " (3), "ok" (2), "Love it!" (8).
    assert_eq!(out[1].observed, Some(3.0 / 5.0));
    assert_eq!(out[2].observed, Some(2.0 / 5.0));
    assert_eq!(out[2].status(), Status::Fail);
    assert_eq!(out[3].observed, Some(1.0 / 6.0));
}

#[test]
fn schema_reports_missing_columns_and_wrong_dtypes() {
    let data = generated(&ReviewsSpec::new(50, 2));
    let out = data.evaluate_one(data.schema().requires([
        ("Age", DType::Integer),
        ("Departement Name", DType::Text),
        ("Review Text", DType::Numeric),
        ("Rating", DType::Numeric),
    ]));
    assert_eq!(out.observed, Some(2.0));
    assert_eq!(out.status(), Status::Fail);
    let problems: Vec<&str> = out.unexpected.iter().map(|p| p.0.as_str()).collect();
    assert!(
        problems[0].contains("did you mean \"Department Name\""),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("\"Review Text\": expected numeric, found text"),
        "{problems:?}"
    );
}

#[test]
fn row_count_is_exact() {
    let data = generated(&ReviewsSpec::new(1_234, 8));
    let out = data.evaluate(vec![
        data.row_count().at_least(1_234.0),
        data.row_count().at_least(1_235.0),
    ]);
    assert_eq!(out[0].observed, Some(1_234.0));
    assert!(out[0].passed());
    assert_eq!(out[1].status(), Status::Fail);
}

#[test]
fn a_range_with_a_bound_other_than_mostly_is_invalid_not_a_pass() {
    let data = generated(&ReviewsSpec::new(100, 1));
    let bad = data.evaluate_one(mltest::Expectation {
        bound: mltest::expect::Bound::AtMost { max: 1.0 },
        ..data.column("Age").values().between(18.0, 99.0)
    });
    assert_eq!(bad.status(), Status::Error);
    assert!(matches!(bad.error(), Some(CheckError::Invalid(_))));
}

#[test]
fn the_generator_is_deterministic_per_seed() {
    let a = ReviewsSpec::new(300, 77)
        .null_rate("Title", None, 0.2)
        .generate()
        .unwrap();
    let b = ReviewsSpec::new(300, 77)
        .null_rate("Title", None, 0.2)
        .generate()
        .unwrap();
    let c = ReviewsSpec::new(300, 78)
        .null_rate("Title", None, 0.2)
        .generate()
        .unwrap();
    assert!(a.equals_missing(&b));
    assert!(!a.equals_missing(&c));
    assert_eq!(a.column("Title").unwrap().null_count(), 60);
    assert_eq!(
        a.column("Recommended IND").unwrap().i64().unwrap().sum(),
        Some(ReviewsSpec::new(300, 77).positive_rows() as i64)
    );
}

#[test]
fn the_committed_fixture_is_the_generators_output() {
    let spec = ReviewsSpec::sample_fixture();
    let committed = mltest::data::load_cached(&DataSource::csv("fixtures/reviews_sample.csv"))
        .expect("fixtures/reviews_sample.csv (regenerate: cargo run --release --example write_fixtures)");
    let generated = spec.generate().unwrap();
    assert!(
        committed.frame().equals_missing(&generated),
        "fixtures/reviews_sample.csv differs from the generator: cargo run --release --example write_fixtures"
    );
    let out = committed.evaluate(vec![
        committed
            .column("Age")
            .null_fraction()
            .at_most(1.0)
            .where_eq("Department Name", "Trend"),
        committed.column("Title").null_fraction().at_most(1.0),
    ]);
    assert_eq!(
        out[0].count.as_ref().map(|c| c.hits),
        Some(spec.null_rows("Age", Some("Trend")) as u64)
    );
    assert_eq!(
        out[1].count.as_ref().map(|c| c.hits),
        Some(spec.null_rows("Title", None) as u64)
    );
}

/// The streaming path (a scan on polars' streaming engine) and the in-memory
/// path compute the same figures, failures and examples included.
#[test]
fn streaming_and_in_memory_evaluation_agree() {
    let src = DataSource::csv("fixtures/reviews_sample.csv");
    let suite = |d: &Dataset| {
        vec![
            d.row_count().at_least(1.0),
            d.column("Age").null_fraction().at_most(0.0),
            d.column("Age")
                .null_fraction()
                .at_most(0.2)
                .in_every_segment_of("Department Name")
                .min_rows(1),
            d.column("Title")
                .null_fraction()
                .at_most(0.1)
                .where_eq("Department Name", "Dresses"),
            d.column("Age").mean().between(40.0, 46.0),
            d.column("Age").std().between(0.0, 100.0),
            d.column("Age").median().between(0.0, 100.0),
            d.column("Age").values().between(20.0, 70.0).mostly(0.9),
            d.column("Department Name")
                .values()
                .in_set(["Tops", "Dresses"]),
            d.column("Department Name")
                .share_of("Tops")
                .between(0.4, 0.5),
            d.column("Review Text").lengths().between(1, 200),
            d.column("Review Text").empty_fraction().at_most(0.1),
            d.duplicates_on(["Clothing ID", "Age"]).at_most(0.0),
            d.leakage("Recommended IND")
                .features(["Rating", "Department Name"])
                .at_most(0.5),
        ]
    };
    let loaded = mltest::data::load_cached(&src).unwrap();
    let memory = loaded.evaluate(suite(&loaded));
    let streamed = src.evaluate_streaming(suite(&loaded)).unwrap();
    assert_eq!(streamed.info.rows, 500);
    assert_eq!(streamed.info.sha256, loaded.info().sha256);
    assert_eq!(memory.len(), streamed.outcomes.len());
    for (m, s) in memory.iter().zip(&streamed.outcomes) {
        let name = m.expectation.short_name();
        assert_eq!(m.status(), s.status(), "{name}");
        let (a, b) = (
            m.observed.unwrap_or(f64::NAN),
            s.observed.unwrap_or(f64::NAN),
        );
        match &s.estimate {
            // Quantiles stream as KLL sketches: the exact value lies in the
            // stated range (tests/streaming.rs covers the sketches).
            Some(e) => assert!(e.low <= a && a <= e.high, "{name}: {a} not in {e:?}"),
            None => assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(1.0) || (a.is_nan() && b.is_nan()),
                "{name}: {a} vs {b}"
            ),
        }
        assert_eq!(m.count, s.count, "{name}");
        assert_eq!(m.examples, s.examples, "{name}");
        assert_eq!(m.unexpected, s.unexpected, "{name}");
        assert_eq!(m.segments, s.segments, "{name}");
    }
    assert!(
        memory.iter().any(|o| !o.passed()),
        "the suite must exercise failures too"
    );
}

#[test]
fn streaming_drops_trailing_blank_lines_and_counts_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blank_tail.csv");
    std::fs::write(&path, "a,b\n1,x\n2,\n3,z\n\n").unwrap();
    let run = DataSource::csv(&path)
        .evaluate_streaming(vec![
            mltest::expect::column("b").null_fraction().at_most(1.0),
        ])
        .unwrap();
    assert_eq!(run.info.rows, 3);
    assert_eq!(run.outcomes[0].observed, Some(1.0 / 3.0));
}
