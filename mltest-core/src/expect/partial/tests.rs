use super::*;
use crate::expect::Status;
use polars::prelude::*;
use proptest::prelude::*;

/// A frame with a group column, a float column with missing values, an
/// integer column and a text column with missing and blank values.
fn frame(rows: &[(u8, Option<f64>, i64, Option<&'static str>)]) -> DataFrame {
    const GROUPS: [&str; 3] = ["a", "b", "c"];
    df!(
        "g" => rows.iter().map(|r| GROUPS[r.0 as usize % 3]).collect::<Vec<_>>(),
        "x" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "i" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "t" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    )
    .unwrap()
}

/// One check of every mergeable kind, flat, filtered and per segment.
fn checks() -> Vec<Expectation> {
    use crate::expect::{column, row_count};
    vec![
        row_count().at_least(1.0),
        column("x").null_fraction().at_most(0.5),
        column("x").mean().between(-10.0, 10.0),
        column("x").std().at_most(100.0),
        column("x").sum().at_most(1e9),
        column("i").min().at_least(-5.0),
        column("i").max().at_most(1000.0),
        column("i").unique_fraction().at_least(0.1),
        column("t").unique_fraction().at_least(0.1),
        column("g").share_of("a").at_most(0.9),
        column("g").values().in_set(["a", "b"]).mostly(0.5),
        column("x").values().between(-50.0, 50.0).mostly(0.5),
        column("t").empty_fraction().at_most(0.9),
        column("t").lengths().between(1, 3).mostly(0.1),
        column("x").quantile(0.5).at_most(100.0),
        column("x").quantile(0.9).at_most(100.0),
        column("x")
            .mean()
            .at_most(5.0)
            .in_every_segment_of("g")
            .min_rows(1),
        column("x")
            .std()
            .at_most(5.0)
            .in_every_segment_of("g")
            .min_rows(1),
        column("i")
            .unique_fraction()
            .at_least(0.5)
            .in_every_segment_of("g")
            .min_rows(1),
        column("x")
            .quantile(0.25)
            .at_most(5.0)
            .in_every_segment_of("g")
            .min_rows(1),
        column("x").std().at_most(5.0).where_eq("g", "b"),
        column("i").sum().at_most(1e6).where_in("g", ["a", "c"]),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a == b) || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// The merged outcome against the whole data's: same verdict and error,
/// same figure (to 1e-12) and count, same segments.
fn assert_same(merged: &CheckOutcome, whole: &CheckOutcome) {
    let what = whole.expectation.describe();
    assert_eq!(
        merged.status(),
        whole.status(),
        "{what}: {merged:?}\nvs {whole:?}"
    );
    assert_eq!(merged.error(), whole.error(), "{what}");
    match (merged.observed, whole.observed) {
        (Some(a), Some(b)) => assert!(close(a, b), "{what}: merged {a}, whole {b}"),
        (a, b) => assert_eq!(a, b, "{what}"),
    }
    assert_eq!(merged.count, whole.count, "{what}");
    assert_eq!(merged.segments.len(), whole.segments.len(), "{what}");
    let mut m = merged.segments.clone();
    let mut w = whole.segments.clone();
    m.sort_by(|a, b| a.segment.cmp(&b.segment));
    w.sort_by(|a, b| a.segment.cmp(&b.segment));
    for (a, b) in m.iter().zip(&w) {
        assert_eq!(
            (&a.segment, a.rows, a.passed),
            (&b.segment, b.rows, b.passed),
            "{what}"
        );
        assert!(
            close(a.observed, b.observed),
            "{what} {}: {} vs {}",
            a.segment,
            a.observed,
            b.observed
        );
    }
}

/// Splits `frame` into `k` partitions by `assign` (row → part) and merges
/// the parts' states in `order`.
fn merged(frame: &DataFrame, k: usize, assign: &[usize], order: &[usize]) -> Vec<Partial> {
    let parts: Vec<Dataset> = (0..k)
        .map(|p| {
            let mask: BooleanChunked = assign.iter().map(|&a| a % k == p).collect();
            Dataset::from_frame(format!("part{p}"), frame.filter(&mask).unwrap())
        })
        .collect();
    let states: Vec<Vec<Partial>> = parts
        .iter()
        .map(|d| {
            d.partials(checks())
                .into_iter()
                .map(|r| r.expect("a state"))
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = order.iter().map(|o| o % k).collect();
    order.extend(0..k);
    let mut seen = vec![false; k];
    let order: Vec<usize> = order
        .into_iter()
        .filter(|&p| !std::mem::replace(&mut seen[p], true))
        .collect();
    let mut acc = states[order[0]].clone();
    for &p in &order[1..] {
        for (a, b) in acc.iter_mut().zip(&states[p]) {
            a.merge(b).unwrap();
        }
    }
    acc
}

fn row() -> impl Strategy<Value = (u8, Option<f64>, i64, Option<&'static str>)> {
    (
        0u8..3,
        prop::option::weighted(0.85, -100.0f64..100.0),
        -5i64..40,
        prop::option::weighted(
            0.8,
            prop::sample::select(vec!["", " ", "ok", "fits", "xs", "long text"]),
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// At most 150 rows: every KLL sketch still holds all its values, so
    /// quantiles merge exactly too.
    #[test]
    fn merging_k_random_partitions_equals_the_whole(
        rows in prop::collection::vec(row(), 1..150),
        k in 1usize..=16,
        assign in prop::collection::vec(0usize..16, 150),
        order in prop::collection::vec(0usize..16, 16),
    ) {
        let frame = frame(&rows);
        let whole = Dataset::from_frame("whole", frame.clone()).evaluate(checks());
        for (m, w) in merged(&frame, k, &assign[..rows.len()], &order).iter().zip(&whole) {
            assert_same(&m.outcome(), w);
        }
    }
}

#[test]
fn an_empty_partition_merges_as_nothing() {
    let rows: Vec<_> = (0..40)
        .map(|i| ((i % 3) as u8, Some(i as f64 * 0.5), i as i64, Some("ok")))
        .collect();
    let frame = frame(&rows);
    let empty = Dataset::from_frame("empty", frame.head(Some(0)));
    let whole = Dataset::from_frame("whole", frame);
    let mut states: Vec<Partial> = whole
        .partials(checks())
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for (s, e) in states.iter_mut().zip(empty.partials(checks())) {
        s.merge(&e.expect("an empty state")).unwrap();
    }
    for (s, w) in states.iter().zip(whole.evaluate(checks())) {
        assert_same(&s.outcome(), &w);
    }
}

#[test]
fn a_quantile_of_many_partitions_lies_within_the_merged_sketch_s_stated_range() {
    // 40,000 values: far past what a sketch keeps whole.
    let x: Vec<f64> = (0..40_000u64)
        .map(|i| ((i * 7919) % 40_000) as f64)
        .collect();
    let frame = df!("x" => &x).unwrap();
    let check = crate::expect::column("x").quantile(0.9).at_most(1e9);
    let mut acc: Option<Partial> = None;
    for p in 0..16 {
        let part = frame.slice(p * 2_500, 2_500);
        let s = Dataset::from_frame("p", part)
            .partials(check.clone())
            .remove(0)
            .unwrap();
        match acc.as_mut() {
            None => acc = Some(s),
            Some(a) => a.merge(&s).unwrap(),
        }
    }
    let out = acc.unwrap().outcome();
    let est = out
        .estimate
        .as_ref()
        .expect("a sketched quantile states its error");
    assert!(est.rank_error > 0.0 && est.rank_error < 0.02, "{est:?}");
    assert_eq!(est.values, 40_000);
    // The exact 0.9 quantile (linear interpolation) of 0..40,000.
    let exact = 0.9 * 39_999.0;
    assert!(
        est.low <= exact && exact <= est.high,
        "{exact} outside {est:?}"
    );
}

#[test]
fn checks_without_a_state_that_merges_say_why() {
    let data = Dataset::from_frame("d", df!("id" => [1i64, 1, 2], "y" => [0i64, 1, 0]).unwrap());
    let out = data.partials(vec![
        crate::expect::duplicates_on(["id"]).at_most(0.0),
        crate::expect::column("nope").mean().at_most(1.0),
    ]);
    let dup = out[0].as_ref().unwrap_err().to_string();
    assert!(
        dup.contains("a row may repeat one in another partition"),
        "{dup}"
    );
    let missing = out[1].as_ref().unwrap_err().to_string();
    assert!(missing.contains("\"nope\" not found"), "{missing}");
    // States of two different checks refuse to merge.
    let checks = vec![
        crate::expect::column("id").mean().at_most(1.0),
        crate::expect::column("y").mean().at_most(1.0),
    ];
    let mut states: Vec<Partial> = data
        .partials(checks)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let b = states.pop().unwrap();
    let err = states[0].merge(&b).unwrap_err();
    assert!(matches!(err, MergeError::DifferentChecks { .. }), "{err}");
    assert_eq!(states[0].outcome().status(), Status::Fail);
}

#[test]
fn a_state_survives_json_and_merges_the_same() {
    let a = Dataset::from_frame(
        "a",
        df!("x" => [1.0, 2.0, 4.0], "g" => ["u", "v", "u"]).unwrap(),
    );
    let b = Dataset::from_frame("b", df!("x" => [8.0, 16.0], "g" => ["v", "w"]).unwrap());
    for check in [
        crate::expect::column("x").std().at_most(1.0),
        crate::expect::column("x").quantile(0.5).at_most(1.0),
        crate::expect::column("x").unique_fraction().at_least(1.0),
        crate::expect::column("x")
            .mean()
            .at_most(1.0)
            .in_every_segment_of("g")
            .min_rows(1),
    ] {
        let sa = a.partials(check.clone()).remove(0).unwrap();
        let sb = b.partials(check.clone()).remove(0).unwrap();
        let back: Partial = serde_json::from_str(&serde_json::to_string(&sa).unwrap()).unwrap();
        let (mut x, mut y) = (sa.clone(), back);
        x.merge(&sb).unwrap();
        y.merge(&sb).unwrap();
        assert_eq!(
            x.outcome().observed,
            y.outcome().observed,
            "{}",
            check.describe()
        );
    }
}

#[test]
fn a_state_of_a_column_with_nan_survives_json_and_still_errors() {
    let data = Dataset::from_frame("n", df!("x" => [1.0, f64::NAN, f64::INFINITY]).unwrap());
    for check in [
        crate::expect::column("x").mean().at_most(1.0),
        crate::expect::column("x").std().at_most(1.0),
        crate::expect::column("x").sum().at_most(1.0),
    ] {
        let state = data.partials(check.clone()).remove(0).unwrap();
        let json = serde_json::to_string(&state).unwrap();
        let back: Partial = serde_json::from_str(&json).expect("NaN and inf round-trip");
        let (a, b) = (state.outcome(), back.outcome());
        assert_eq!(a.status(), Status::Error, "{}", check.describe());
        assert_eq!(a.error(), b.error(), "{}", check.describe());
        assert_eq!(a.error(), data.evaluate_one(check.clone()).error());
    }
}
