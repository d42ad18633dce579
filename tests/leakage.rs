//! The leakage check (`leakage(label).features([...])`) without false
//! alarms: each pair of column types gets a measure that fits it (|Pearson
//! r| numeric–numeric, the correlation ratio η numeric–categorical in either
//! direction, Cramér's V categorical–categorical), so noise scores near zero
//! whatever its number of distinct values, and a planted leak near one.
//! Frames are built in memory from a seeded generator; expected figures come
//! from plain loops over the data, never from the engine under test.

use mltest::expect::{CheckError, CheckOutcome, Status};
use mltest::prelude::*;
use polars::prelude::*;

/// SplitMix64: a seeded, dependency-free generator (deterministic tests).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, k: u64) -> u64 {
        self.next() % k
    }

    /// `n` values with exactly `k` distinct ones (each `n / k` times), shuffled.
    fn levels(&mut self, n: usize, k: usize) -> Vec<i64> {
        let mut v: Vec<i64> = (0..n).map(|i| (i % k) as i64).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    }
}

fn data(columns: Vec<Column>) -> Dataset {
    Dataset::from_frame("in memory", DataFrame::new_infer_height(columns).unwrap())
}

fn text(name: &str, values: &[String]) -> Column {
    Column::new(name.into(), values)
}

fn figure(out: &CheckOutcome, feature: &str) -> (f64, String) {
    let row = out
        .table
        .iter()
        .find(|t| t.name == feature)
        .unwrap_or_else(|| panic!("{feature} not in {:?} ({:?})", out.table, out.error()));
    (row.value, row.method.clone())
}

/// The issue's case: 1,000 rows of uniform noise and a continuous sampling
/// weight against an alternating a/b label. Cramér's V over the raw values
/// scored 1.0 and 0.98 (every value distinct, so each "category" predicts
/// its single label); η is |point-biserial r|, about 1/sqrt(n) for noise.
#[test]
fn alternating_label_against_continuous_noise_is_not_a_leak() {
    let n = 1_000;
    let mut rng = Rng(16);
    let label: Vec<String> = (0..n).map(|i| ["a", "b"][i % 2].to_string()).collect();
    let noise: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    // A sampling weight: a few hundred distinct values, some repeated.
    let weight: Vec<f64> = (0..n)
        .map(|_| 0.5 + (rng.uniform() * 400.0).round() / 400.0)
        .collect();
    let d = data(vec![
        text("label", &label),
        Column::new("noise".into(), &noise),
        Column::new("weight".into(), &weight),
    ]);
    let out = d.evaluate_one(
        d.leakage("label")
            .features(["noise", "weight"])
            .at_most(0.1),
    );
    assert_eq!(out.status(), Status::Pass, "{:?}", out.table);
    for f in ["noise", "weight"] {
        let (v, method) = figure(&out, f);
        assert!(v < 0.1, "{f}: {v}");
        assert_eq!(method, "correlation ratio η");
    }
}

/// Pure noise with exactly 10, 100 and 10,000 distinct values against a
/// three-class text label, 20,000 rows: η stays at its noise floor
/// (about sqrt(2 / n) = 0.01) whatever the number of distinct values.
#[test]
fn numeric_noise_at_10_100_and_10000_distinct_values_stays_below_0_1() {
    let n = 20_000;
    let mut rng = Rng(3);
    let label: Vec<String> = (0..n)
        .map(|_| ["x", "y", "z"][rng.below(3) as usize].to_string())
        .collect();
    let mut columns = vec![text("label", &label)];
    for k in [10, 100, 10_000] {
        columns.push(Column::new(format!("noise{k}").into(), rng.levels(n, k)));
    }
    let continuous: Vec<f64> = (0..n).map(|_| rng.uniform() * 1e3).collect();
    columns.push(Column::new("continuous".into(), continuous));
    let d = data(columns);
    let features = ["noise10", "noise100", "noise10000", "continuous"];
    let out = d.evaluate_one(d.leakage("label").features(features).at_most(0.1));
    assert_eq!(out.status(), Status::Pass, "{:?}", out.table);
    for f in features {
        let (v, method) = figure(&out, f);
        assert!(v < 0.1, "{f}: {v}");
        assert_eq!(method, "correlation ratio η", "{f}");
    }
}

/// A numeric label against noise text categories: η of the label grouped by
/// the feature. With few categories it is at its noise floor.
#[test]
fn numeric_label_against_few_text_categories_of_noise() {
    let n = 5_000;
    let mut rng = Rng(5);
    let label: Vec<i64> = (0..n).map(|_| rng.below(2) as i64).collect();
    let score: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let cats: Vec<String> = rng
        .levels(n, 10)
        .into_iter()
        .map(|v| format!("c{v}"))
        .collect();
    let d = data(vec![
        Column::new("label".into(), &label),
        Column::new("score".into(), &score),
        text("category", &cats),
    ]);
    for target in ["label", "score"] {
        let out = d.evaluate_one(d.leakage(target).features(["category"]).at_most(0.1));
        assert_eq!(out.status(), Status::Pass, "{target}: {:?}", out.table);
        let (v, method) = figure(&out, "category");
        assert!(v < 0.1, "{target}: {v}");
        assert_eq!(method, "correlation ratio η", "{target}");
    }
}

/// Planted leaks score above 0.9 under each measure: a numeric feature that
/// is the class index plus small noise, a text copy of the label with 1%
/// of its values replaced, and a numeric label's text copy.
#[test]
fn a_planted_leak_scores_above_0_9() {
    let n = 2_000;
    let mut rng = Rng(9);
    let class: Vec<usize> = (0..n).map(|_| rng.below(3) as usize).collect();
    let label: Vec<String> = class.iter().map(|&c| format!("class {c}")).collect();
    let encoded: Vec<f64> = class
        .iter()
        .map(|&c| c as f64 * 10.0 + rng.uniform())
        .collect();
    let copied: Vec<String> = class
        .iter()
        .map(|&c| {
            let c = if rng.below(100) == 0 {
                rng.below(3) as usize
            } else {
                c
            };
            format!("copy {c}")
        })
        .collect();
    let numeric_label: Vec<i64> = class.iter().map(|&c| c as i64).collect();
    let d = data(vec![
        text("label", &label),
        Column::new("encoded".into(), &encoded),
        text("copied", &copied),
        Column::new("numeric label".into(), &numeric_label),
    ]);
    let out = d.evaluate_one(
        d.leakage("label")
            .features(["encoded", "copied", "numeric label"])
            .at_most(0.5),
    );
    assert_eq!(out.status(), Status::Fail);
    for (f, method) in [
        ("encoded", "correlation ratio η"),
        ("copied", "Cramér's V"),
        ("numeric label", "correlation ratio η"),
    ] {
        let (v, m) = figure(&out, f);
        assert!(v > 0.9, "{f}: {v}");
        assert_eq!(m, method, "{f}");
    }
    let out = d.evaluate_one(
        d.leakage("numeric label")
            .features(["copied", "encoded"])
            .at_most(0.5),
    );
    assert_eq!(out.status(), Status::Fail);
    assert!(figure(&out, "copied").0 > 0.9, "{:?}", out.table);
    assert_eq!(figure(&out, "copied").1, "correlation ratio η");
    assert!(figure(&out, "encoded").0 > 0.9, "{:?}", out.table);
    assert_eq!(figure(&out, "encoded").1, "|Pearson r|");
}

/// η by hand: x = 1..6 in groups (a, a, b, b, c, c): group means 1.5, 3.5,
/// 5.5 around 3.5, SS_between = 2·(4 + 0 + 4) = 16, SS_total = 17.5.
/// Either column may be the label.
#[test]
fn eta_is_the_square_root_of_between_over_total_sum_of_squares() {
    let g: Vec<String> = ["a", "a", "b", "b", "c", "c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let d = data(vec![
        text("g", &g),
        Column::new("x".into(), [1i64, 2, 3, 4, 5, 6]),
    ]);
    let want = (16.0f64 / 17.5).sqrt();
    for (target, feature) in [("g", "x"), ("x", "g")] {
        let out = d.evaluate_one(d.leakage(target).features([feature]).at_most(1.0));
        let (v, method) = figure(&out, feature);
        assert!(
            (v - want).abs() < 1e-12,
            "{target} ~ {feature}: {v} vs {want}"
        );
        assert_eq!(method, "correlation ratio η");
    }
}

/// With a two-class label η is |point-biserial r| (Pearson's r against the
/// label coded 0/1), and against a numeric 0/1 label it equals Cramér's V
/// of the categorical feature: the measures agree where they overlap.
#[test]
fn eta_of_a_binary_column_is_the_point_biserial_r_and_cramers_v() {
    let n = 3_000;
    let mut rng = Rng(21);
    let coded: Vec<i64> = (0..n).map(|_| rng.below(2) as i64).collect();
    let label: Vec<String> = coded
        .iter()
        .map(|&c| ["no", "yes"][c as usize].to_string())
        .collect();
    let x: Vec<f64> = coded
        .iter()
        .map(|&c| c as f64 * 0.3 + rng.uniform())
        .collect();
    let dept: Vec<String> = coded
        .iter()
        .map(|&c| format!("d{}", (rng.below(4) + c as u64) % 5))
        .collect();
    let d = data(vec![
        text("label", &label),
        Column::new("coded".into(), &coded),
        Column::new("x".into(), &x),
        text("dept", &dept),
    ]);
    let by_text = d.evaluate_one(d.leakage("label").features(["x", "dept"]).at_most(1.0));
    let by_code = d.evaluate_one(d.leakage("coded").features(["x", "dept"]).at_most(1.0));
    let (eta, method) = figure(&by_text, "x");
    assert_eq!(method, "correlation ratio η");
    let (r, method) = figure(&by_code, "x");
    assert_eq!(method, "|Pearson r|");
    assert!((eta - r).abs() < 1e-12, "η {eta} vs |r| {r}");
    // dept against the text label: Cramér's V; against the 0/1 code: η.
    let (v, method) = figure(&by_text, "dept");
    assert_eq!(method, "Cramér's V");
    let (eta, method) = figure(&by_code, "dept");
    assert_eq!(method, "correlation ratio η");
    assert!((eta - v).abs() < 1e-12, "η {eta} vs V {v}");
    assert!(v > 0.2, "{v}");
}

/// A constant numeric column carries no information: η = 0, not NaN.
#[test]
fn a_constant_numeric_feature_has_eta_zero() {
    let label: Vec<String> = (0..100).map(|i| ["a", "b"][i % 2].to_string()).collect();
    let d = data(vec![
        text("label", &label),
        Column::new("flat".into(), vec![2.5f64; 100]),
    ]);
    let out = d.evaluate_one(d.leakage("label").features(["flat"]).at_most(0.1));
    assert_eq!(out.status(), Status::Pass);
    assert_eq!(
        figure(&out, "flat"),
        (0.0, "correlation ratio η".to_string())
    );
}

/// NaN or infinite values make η (and Pearson's r) undefined: the check
/// errors naming the column and the counts, as the other numeric checks do,
/// instead of measuring the values as text.
#[test]
fn nan_or_infinite_values_in_the_numeric_column_are_an_error() {
    let label: Vec<String> = (0..6).map(|i| ["a", "b"][i % 2].to_string()).collect();
    let d = data(vec![
        text("label", &label),
        Column::new(
            "x".into(),
            [1.0, f64::NAN, 3.0, f64::INFINITY, 5.0, f64::NAN],
        ),
        Column::new("y".into(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    ]);
    for out in [
        d.evaluate_one(d.leakage("label").features(["x"]).at_most(0.5)),
        d.evaluate_one(d.leakage("y").features(["x"]).at_most(0.5)),
        d.evaluate_one(d.leakage("x").features(["y"]).at_most(0.5)),
    ] {
        assert_eq!(out.status(), Status::Error, "{:?}", out.table);
        match out.error() {
            Some(CheckError::NonFinite {
                column, nan, inf, ..
            }) => assert_eq!((column.as_str(), *nan, *inf), ("x", 2, 1)),
            other => panic!("{other:?}"),
        }
    }
}

/// Text features of pure noise with exactly 10, 100 and 10,000 distinct
/// values, 20,000 rows, against a three-class text label and against a
/// numeric label. The plain Cramér's V and η have a noise floor of about
/// sqrt((k − 1) / n) for k categories: fine at 10 and 100, 0.71 at 10,000
/// (an id-like column). Bias-corrected, all stay below 0.1.
#[test]
fn text_noise_at_10_100_and_10000_distinct_values_stays_below_0_1_bias_corrected() {
    let n = 20_000;
    let mut rng = Rng(7);
    let label: Vec<String> = (0..n)
        .map(|_| ["x", "y", "z"][rng.below(3) as usize].to_string())
        .collect();
    let score: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let coded: Vec<i64> = (0..n).map(|_| rng.below(2) as i64).collect();
    let mut columns = vec![
        text("label", &label),
        Column::new("score".into(), &score),
        Column::new("coded".into(), &coded),
    ];
    for k in [10, 100, 10_000] {
        let v: Vec<String> = rng
            .levels(n, k)
            .into_iter()
            .map(|v| format!("t{v}"))
            .collect();
        columns.push(text(&format!("text{k}"), &v));
    }
    let d = data(columns);
    let features = ["text10", "text100", "text10000"];
    for (target, plain, corrected) in [
        ("label", "Cramér's V", "bias-corrected Cramér's V"),
        ("score", "correlation ratio η", "bias-corrected η"),
        ("coded", "correlation ratio η", "bias-corrected η"),
    ] {
        let out = d.evaluate_one(
            d.leakage(target)
                .bias_corrected()
                .features(features)
                .at_most(0.1),
        );
        assert_eq!(out.status(), Status::Pass, "{target}: {:?}", out.table);
        for f in features {
            let (v, method) = figure(&out, f);
            assert!(v < 0.1, "{target} ~ {f}: {v}");
            assert_eq!(method, corrected);
        }
        let out = d.evaluate_one(d.leakage(target).features(features).at_most(0.1));
        for f in ["text10", "text100"] {
            let (v, method) = figure(&out, f);
            assert!(v < 0.1, "{target} ~ {f}: {v}");
            assert_eq!(method, plain);
        }
        // The uncorrected noise floor of the id-like column: (k - 1) / n.
        let (v, _) = figure(&out, "text10000");
        assert!(
            (v - (9_999.0f64 / 20_000.0).sqrt()).abs() < 0.02,
            "{target}: {v}"
        );
    }
}

/// The bias correction keeps real leaks: a text copy of the label with 1%
/// of values replaced, and a numeric encoding, stay above 0.9; an id column
/// (a distinct value per row) scores exactly 0.
#[test]
fn bias_corrected_measures_keep_a_planted_leak_and_zero_an_id() {
    let n = 2_000;
    let mut rng = Rng(11);
    let class: Vec<usize> = (0..n).map(|_| rng.below(3) as usize).collect();
    let label: Vec<String> = class.iter().map(|&c| format!("class {c}")).collect();
    let copied: Vec<String> = class
        .iter()
        .map(|&c| {
            let c = if rng.below(100) == 0 {
                rng.below(3) as usize
            } else {
                c
            };
            format!("copy {c}")
        })
        .collect();
    let encoded: Vec<f64> = class
        .iter()
        .map(|&c| c as f64 * 10.0 + rng.uniform())
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("row-{i}")).collect();
    let d = data(vec![
        text("label", &label),
        text("copied", &copied),
        Column::new("encoded".into(), &encoded),
        text("id", &ids),
    ]);
    let out = d.evaluate_one(
        d.leakage("label")
            .bias_corrected()
            .features(["copied", "encoded", "id"])
            .at_most(0.5),
    );
    assert_eq!(out.status(), Status::Fail);
    assert!(figure(&out, "copied").0 > 0.9, "{:?}", out.table);
    assert!(figure(&out, "encoded").0 > 0.9, "{:?}", out.table);
    assert_eq!(
        figure(&out, "id"),
        (0.0, "bias-corrected Cramér's V".into())
    );
    let plain = d.evaluate_one(d.leakage("label").features(["id"]).at_most(0.5));
    assert!((figure(&plain, "id").0 - 1.0).abs() < 1e-12);
    // η of the encoding against the ids: every value its own group.
    let out = d.evaluate_one(
        d.leakage("encoded")
            .bias_corrected()
            .features(["id"])
            .at_most(0.5),
    );
    assert_eq!(figure(&out, "id"), (0.0, "bias-corrected η".into()));
}

/// The same figures when the check streams a CSV as when the frame is in
/// memory (the measures are a `group_by` each).
#[test]
fn streaming_gives_the_in_memory_figures() {
    let n = 3_000;
    let mut rng = Rng(13);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leak.csv");
    let mut csv = String::from("label,x,cat,y\n");
    for _ in 0..n {
        let c = rng.below(3);
        csv.push_str(&format!(
            "{},{},{},{}\n",
            ["a", "b", "c"][c as usize],
            c as f64 + rng.uniform() * 4.0,
            ["p", "q", "r", "s"][rng.below(4) as usize],
            rng.uniform()
        ));
    }
    std::fs::write(&path, csv).unwrap();
    let checks = || {
        vec![
            mltest::expect::leakage("label")
                .features(["x", "cat", "y"])
                .at_most(1.0),
            mltest::expect::leakage("y")
                .bias_corrected()
                .features(["x", "cat", "label"])
                .at_most(1.0),
        ]
    };
    let src = DataSource::csv(&path);
    let memory = mltest::data::load_cached(&src).unwrap().evaluate(checks());
    let streamed = src.evaluate_streaming(checks()).unwrap().outcomes;
    for (m, s) in memory.iter().zip(&streamed) {
        assert_eq!(m.table.len(), 3);
        for (tm, ts) in m.table.iter().zip(&s.table) {
            let (fm, vm, hm) = (&tm.name, tm.value, &tm.method);
            let (fs, vs, hs) = (&ts.name, ts.value, &ts.method);
            assert_eq!((fm, hm), (fs, hs));
            assert!((vm - vs).abs() < 1e-12, "{fm}: {vm} vs {vs}");
        }
    }
    assert!(figure(&memory[0], "x").0 > 0.5, "{:?}", memory[0].table);
}
