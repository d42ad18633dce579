//! `sum()` and `unique_fraction()`: exact figures against a direct
//! computation on generated files, the same on every path (in memory,
//! through the metric cache, streaming), per segment and filtered, and the
//! errors an empty or non-finite column gives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mltest::data::load_with;
use mltest::data::parse_cache::CacheMode;
use mltest::expect::{self, CheckError, CheckOutcome, Status};
use mltest::prelude::*;
use proptest::prelude::*;

/// Rows of (group, amount, code), each field possibly missing.
type Row = (Option<u8>, Option<i32>, Option<u8>);

fn csv(rows: &[Row]) -> String {
    let cell = |v: Option<String>| v.unwrap_or_default();
    let mut s = String::from("group,amount,code\n");
    for (g, a, c) in rows {
        s.push_str(&format!(
            "{},{},{}\n",
            cell(g.map(|g| format!("g{g}"))),
            cell(a.map(|a| a.to_string())),
            cell(c.map(|c| format!("c{c}")))
        ));
    }
    s
}

fn suite() -> Vec<Expectation> {
    vec![
        expect::column("amount").sum().at_most(0.0),
        expect::column("code").unique_fraction().at_least(0.8),
        expect::column("amount").unique_fraction().at_most(0.5),
        expect::column("amount")
            .sum()
            .at_least(0.0)
            .where_eq("group", "g1"),
        expect::column("code")
            .unique_fraction()
            .at_least(0.9)
            .in_every_segment_of("group")
            .min_rows(1),
    ]
}

/// What the figures must be, computed directly from the rows.
struct Oracle {
    sum: Option<f64>,
    unique_code: Option<f64>,
    unique_amount: Option<f64>,
    sum_g1: Option<f64>,
    /// Per group label: the unique fraction of `code`.
    unique_code_by_group: BTreeMap<String, Option<f64>>,
}

fn unique<T: Ord + Clone>(values: impl Iterator<Item = T>) -> Option<f64> {
    let v: Vec<T> = values.collect();
    let distinct: BTreeSet<T> = v.iter().cloned().collect();
    (!v.is_empty()).then(|| distinct.len() as f64 / v.len() as f64)
}

fn sum(values: impl Iterator<Item = i32>) -> Option<f64> {
    let v: Vec<f64> = values.map(f64::from).collect();
    (!v.is_empty()).then(|| v.iter().sum())
}

fn oracle(rows: &[Row]) -> Oracle {
    // A record whose every field is empty is dropped at load.
    let rows: Vec<Row> = rows
        .iter()
        .filter(|r| **r != (None, None, None))
        .copied()
        .collect();
    let rows = rows.as_slice();
    let mut by_group: BTreeMap<String, Vec<Option<u8>>> = BTreeMap::new();
    for (g, _, c) in rows {
        let label = g.map_or("(missing)".to_string(), |g| format!("\"g{g}\""));
        by_group.entry(label).or_default().push(*c);
    }
    Oracle {
        sum: sum(rows.iter().filter_map(|r| r.1)),
        unique_code: unique(rows.iter().filter_map(|r| r.2)),
        unique_amount: unique(rows.iter().filter_map(|r| r.1)),
        sum_g1: sum(rows.iter().filter(|r| r.0 == Some(1)).filter_map(|r| r.1)),
        unique_code_by_group: by_group
            .into_iter()
            .map(|(g, codes)| (g, unique(codes.into_iter().flatten())))
            .collect(),
    }
}

/// The figure matches the oracle's, or — when there is nothing to measure
/// — the check errors saying so.
fn expect_figure(o: &CheckOutcome, want: Option<f64>, what: &str) {
    match (o.error(), o.observed, want) {
        (None, Some(x), Some(w)) => {
            assert!(
                (x - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{what}: {x} != {w}"
            )
        }
        // A column without any value is typed as text by the CSV reader,
        // which a sum refuses.
        (
            Some(
                CheckError::NoValues { .. }
                | CheckError::NoRows { .. }
                | CheckError::WrongDtype { .. },
            ),
            _,
            None,
        ) => {
            assert_eq!(o.status(), Status::Error, "{what}")
        }
        _ => panic!("{what}: got {o:?}, expected {want:?}"),
    }
}

fn check(out: &[CheckOutcome], o: &Oracle, path: &str) {
    expect_figure(&out[0], o.sum, &format!("{path}: sum"));
    expect_figure(&out[1], o.unique_code, &format!("{path}: unique code"));
    expect_figure(&out[2], o.unique_amount, &format!("{path}: unique amount"));
    expect_figure(&out[3], o.sum_g1, &format!("{path}: sum where g1"));
    if let Some(c) = &out[1].count
        && out[1].error().is_none()
    {
        assert_eq!(c.unit, "distinct values", "{path}");
    }
    // Per segment: every judged group's figure.
    for s in &out[4].segments {
        let label = s.segment.trim_start_matches("group == ");
        let want = o.unique_code_by_group.get(label).copied().flatten();
        expect_figure_value(s.observed, want, &format!("{path}: segment {label}"));
    }
    let judged = o
        .unique_code_by_group
        .values()
        .filter(|v| v.is_some())
        .count();
    if out[4].error().is_none() {
        assert_eq!(
            out[4]
                .segments
                .iter()
                .filter(|s| !s.observed.is_nan())
                .count(),
            judged,
            "{path}"
        );
    }
}

fn expect_figure_value(x: f64, want: Option<f64>, what: &str) {
    match want {
        Some(w) => assert!((x - w).abs() <= 1e-12, "{what}: {x} != {w}"),
        None => assert!(x.is_nan(), "{what}: {x} for a group without values"),
    }
}

/// Outcomes of the three paths, and of a second, cached evaluation.
fn paths(dir: &Path, text: &str) -> Vec<(&'static str, Vec<CheckOutcome>)> {
    let file = dir.join("d.csv");
    std::fs::write(&file, text).unwrap();
    let src = DataSource::csv(&file);
    let cache = dir.join("cache");
    let memory = load_with(&src, &cache, CacheMode::Off)
        .unwrap()
        .evaluate(suite());
    let first = load_with(&src, &cache, CacheMode::On)
        .unwrap()
        .evaluate(suite());
    let cached = load_with(&src, &cache, CacheMode::On)
        .unwrap()
        .evaluate(suite());
    let streamed = src.evaluate_streaming(suite()).unwrap().outcomes;
    vec![
        ("memory", memory),
        ("cache (cold)", first),
        ("cache (warm)", cached),
        ("streaming", streamed),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::weighted(0.9, 0u8..3),
        proptest::option::weighted(0.8, -50i32..50),
        proptest::option::weighted(0.8, 0u8..12),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn figures_equal_a_direct_computation_on_every_path(rows in proptest::collection::vec(row(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let o = oracle(&rows);
        let runs = paths(dir.path(), &csv(&rows));
        for (name, out) in &runs {
            check(out, &o, name);
        }
        // The warm run decided every measured check from cached figures.
        let warm = &runs[2].1;
        for (i, out) in warm.iter().enumerate() {
            if out.error().is_none() {
                prop_assert!(out.from_cache, "check {i} was recomputed");
            }
        }
        // Same verdicts and example rows everywhere.
        for (name, out) in &runs[1..] {
            for (a, b) in runs[0].1.iter().zip(out) {
                prop_assert_eq!(a.status(), b.status(), "{}", name);
                prop_assert_eq!(&a.examples, &b.examples, "{}", name);
            }
        }
    }
}

#[test]
fn a_known_file_gives_known_figures() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = vec![
        (Some(1), Some(10), Some(1)),
        (Some(1), Some(-4), Some(1)),
        (Some(2), None, Some(2)),
        (Some(2), Some(10), None),
        (None, Some(5), Some(3)),
    ];
    for (name, out) in paths(dir.path(), &csv(&rows)) {
        // 10 − 4 + 10 + 5 = 21 over four values; the missing one is skipped.
        assert_eq!(out[0].observed, Some(21.0), "{name}");
        assert_eq!(out[0].status(), Status::Fail, "{name}");
        // Codes c1, c1, c2, c3: 3 distinct of 4 = 0.75 < 0.8.
        assert_eq!(out[1].observed, Some(0.75), "{name}");
        assert_eq!(out[1].status(), Status::Fail, "{name}");
        let count = out[1].count.as_ref().unwrap();
        assert_eq!((count.hits, count.of), (3, 4), "{name}");
        // The rows whose code repeats: 0 and 1.
        let rows: Vec<u64> = out[1].examples.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![0, 1], "{name}");
        assert_eq!(out[1].offending_rows, 2, "{name}");
        // Amounts 10, −4, 10, 5: 3 distinct of 4 = 0.75 > 0.5: too many
        // distinct values has no offending row.
        assert_eq!(out[2].observed, Some(0.75), "{name}");
        assert!(out[2].examples.is_empty(), "{name}");
        // Group g1: 10 − 4 = 6.
        assert_eq!(out[3].observed, Some(6.0), "{name}");
        assert!(out[3].passed(), "{name}");
        // Per group: g1 has c1 twice (0.5) and fails; the others pass.
        assert_eq!(
            out[4].worst_segment.as_deref(),
            Some("group == \"g1\""),
            "{name}"
        );
        assert_eq!(out[4].observed, Some(0.5), "{name}");
        let rows: Vec<u64> = out[4].examples.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![0, 1], "{name}");
    }
}

#[test]
fn no_values_and_wrong_types_are_errors_not_figures() {
    let data = Dataset::from_frame(
        "d",
        polars::df!(
            "empty" => [None::<f64>, None],
            "text" => ["a", "b"],
            "x" => [1.0, f64::NAN],
        )
        .unwrap(),
    );
    let out = data.evaluate(vec![
        data.column("empty").sum().at_most(1.0),
        data.column("empty").unique_fraction().at_least(0.5),
        data.column("text").sum().at_most(1.0),
        data.column("x").sum().at_most(10.0),
        data.column("text").unique_fraction().between(1.0, 1.0),
        data.column("nope").unique_fraction().at_least(0.5),
    ]);
    assert!(
        matches!(out[0].error(), Some(CheckError::NoValues { .. })),
        "{:?}",
        out[0]
    );
    assert!(
        matches!(out[1].error(), Some(CheckError::NoValues { .. })),
        "{:?}",
        out[1]
    );
    assert!(
        matches!(out[2].error(), Some(CheckError::WrongDtype { .. })),
        "{:?}",
        out[2]
    );
    match out[3].error() {
        Some(CheckError::NonFinite {
            nan, inf, metric, ..
        }) => {
            assert_eq!((*nan, *inf, metric.as_str()), (1, 0, "sum"));
        }
        other => panic!("{other:?}"),
    }
    // Unique text: a string column takes unique_fraction.
    assert_eq!(out[4].observed, Some(1.0));
    assert!(out[4].passed());
    assert!(
        matches!(out[5].error(), Some(CheckError::MissingColumn { .. })),
        "{:?}",
        out[5]
    );
    for i in [0, 1, 2, 3, 5] {
        assert_eq!(
            out[i].status(),
            Status::Error,
            "{}",
            out[i].expectation.describe()
        );
    }
}

#[test]
fn names_and_descriptions() {
    let s = expect::column("amount").sum().at_most(5.0);
    assert_eq!(s.describe(), "sum of \"amount\" <= 5");
    assert_eq!(s.short_name(), "sum(amount)");
    let u = expect::column("id").unique_fraction().at_least(0.99);
    assert_eq!(
        u.describe(),
        "share of distinct values among \"id\" values >= 0.9900"
    );
    assert_eq!(u.short_name(), "unique_fraction(id)");
}
