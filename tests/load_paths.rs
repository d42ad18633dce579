//! One input, one verdict: the same CSV with the same load options gives
//! the same figures, verdicts and example rows in memory, through the parse
//! cache, and on the streaming engine — for every expectation kind, on
//! generated files with padding, quoting, null tokens, blank lines and
//! shuffled columns (proptest), and on the Adult census file's quirks.

use std::path::Path;

use mltest::data::load_with;
use mltest::data::parse_cache::CacheMode;
use mltest::expect::{self, CheckOutcome, EvalOptions};
use mltest::prelude::*;
use proptest::prelude::*;

/// Every kind of expectation, over the generated file's columns, with
/// bounds some files fail (so example rows are compared too).
fn suite() -> Vec<Expectation> {
    let mut v = vec![
        expect::schema().requires([("age", DType::Integer), ("dept", DType::Text)]),
        expect::row_count().at_least(5.0),
        expect::column("age").null_fraction().at_most(0.0),
        expect::column("age").values().between(20.0, 70.0),
        expect::column("age").mean().between(30.0, 50.0),
        expect::column("weight").std().at_most(20.0),
        expect::column("age").quantile(0.5).at_most(45.0),
        expect::column("weight").min().at_least(50.0),
        expect::column("weight").max().at_most(90.0),
        expect::column("dept")
            .values()
            .in_set(["Tops", "Dresses"])
            .mostly(0.9),
        expect::column("note").empty_fraction().at_most(0.1),
        expect::column("note").lengths().between(1, 12),
        expect::column("note").matching(r"^[a-z]"),
        expect::duplicates_on(["id"]).at_most(0.0),
        expect::duplicates_on(["age", "dept"])
            .every_member()
            .fraction()
            .at_most(0.5),
        expect::duplicate_rows().at_most(0.0),
        expect::column("age")
            .null_fraction()
            .at_most(0.1)
            .in_every_segment_of("dept")
            .min_rows(1),
        expect::column("weight")
            .mean()
            .at_most(70.0)
            .where_eq("dept", "Tops"),
        expect::leakage("dept")
            .features(["age", "weight"])
            .at_most(0.9),
    ];
    v.extend(expect::column("dept").shares_within([("Tops", 0.2, 0.6)]));
    v
}

/// An outcome without what legitimately differs by path (where the figures
/// came from), as JSON so every figure, example and segment is compared.
fn comparable(o: &CheckOutcome) -> serde_json::Value {
    let mut v = serde_json::to_value(o).expect("outcomes serialise");
    if let Some(m) = v.as_object_mut() {
        m.remove("from_cache");
        m.remove("estimate");
    }
    v
}

/// The three paths' outcomes of one file and its options.
fn three_paths(
    path: &Path,
    options: &LoadOptions,
    cache: &Path,
) -> [Result<(usize, Vec<serde_json::Value>), String>; 3] {
    let src = DataSource::csv(path).with_options(options.clone());
    let opts = EvalOptions {
        exact_quantiles: true,
        ..EvalOptions::default()
    };
    let run = |data: Result<Dataset, DataError>| {
        data.map(|d| {
            let out = d.evaluate_with(suite(), opts);
            (d.height(), out.iter().map(comparable).collect())
        })
        .map_err(|e| e.to_string())
    };
    let memory = run(load_with(&src, cache, CacheMode::Off));
    let _ = load_with(&src, cache, CacheMode::On);
    let cached = run(load_with(&src, cache, CacheMode::On));
    let streamed = src
        .evaluate_streaming_with(suite(), opts)
        .map(|s| (s.info.rows, s.outcomes.iter().map(comparable).collect()))
        .map_err(|e| e.to_string());
    [memory, cached, streamed]
}

/// Equal, numbers to 1e-12 relative: a float sum taken in another order
/// (another engine's batches) may differ in the last bits, never more.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn assert_same(results: &[Result<(usize, Vec<serde_json::Value>), String>; 3], csv: &str) {
    let [memory, cached, streamed] = results;
    for (name, other) in [("parse cache", cached), ("streaming", streamed)] {
        match (memory, other) {
            (Ok((rows_a, a)), Ok((rows_b, b))) => {
                assert_eq!(rows_a, rows_b, "rows in memory vs {name}\n{csv}");
                for (x, y) in a.iter().zip(b) {
                    if !same(x, y) {
                        let keys: Vec<String> = x
                            .as_object()
                            .into_iter()
                            .flatten()
                            .filter(|(k, v)| !y.get(k.as_str()).is_some_and(|w| same(v, w)))
                            .map(|(k, v)| format!("{k}: {v} vs {}", y[k.as_str()]))
                            .collect();
                        panic!(
                            "in memory vs {name}: {} differs: {keys:?}\n{csv}",
                            x["expectation"]
                        );
                    }
                }
            }
            (Err(a), Err(b)) => {
                // The same failure, though the streaming path reaches it later.
                assert_eq!(a.is_empty(), b.is_empty(), "{a} vs {b}");
            }
            (a, b) => panic!("in memory: {a:?}\n{name}: {b:?}\n{csv}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Cell {
    value: Option<String>,
    quoted: bool,
    pad_left: usize,
    pad_right: usize,
    null_token: &'static str,
}

fn cell(value: impl Strategy<Value = Option<String>>) -> impl Strategy<Value = Cell> {
    (
        value,
        any::<bool>(),
        0usize..3,
        0usize..3,
        prop::sample::select(vec!["", "?", "NA"]),
    )
        .prop_map(|(value, quoted, pad_left, pad_right, null_token)| Cell {
            value,
            quoted,
            pad_left,
            pad_right,
            null_token,
        })
}

fn render(c: &Cell, pad: bool) -> String {
    let text = c.value.clone().unwrap_or_else(|| c.null_token.to_string());
    let (l, r) = if pad {
        (" ".repeat(c.pad_left), " ".repeat(c.pad_right))
    } else {
        (String::new(), String::new())
    };
    // A quoted field keeps its padding inside the quotes, as a writer would.
    if c.quoted || text.contains(',') {
        format!("\"{l}{text}{r}\"")
    } else {
        format!("{l}{text}{r}")
    }
}

fn row() -> impl Strategy<Value = Vec<Cell>> {
    (
        cell((0u32..40).prop_map(|i| Some(i.to_string()))),
        cell(prop::option::weighted(0.9, 18u32..80).prop_map(|o| o.map(|a| a.to_string()))),
        cell((500u32..950).prop_map(|w| Some(format!("{:.1}", w as f64 / 10.0)))),
        cell(prop::option::weighted(
            0.95,
            prop::sample::select(vec!["Tops", "Dresses", "Intimate"]).prop_map(str::to_string),
        )),
        cell(prop::option::weighted(
            0.9,
            prop::sample::select(vec!["fits well", "ok, small", "Great", "runs large, sadly"])
                .prop_map(str::to_string),
        )),
    )
        .prop_map(|(a, b, c, d, e)| vec![a, b, c, d, e])
}

#[derive(Debug, Clone)]
struct File {
    order: Vec<usize>,
    rows: Vec<Vec<Cell>>,
    pad: bool,
    trim: bool,
    pad_header: bool,
    trailing_blank: usize,
    /// A blank line, or a record of empty fields (`,,,,`), after this row.
    blank_after: Option<(usize, bool)>,
}

fn file() -> impl Strategy<Value = File> {
    (
        Just((0..5).collect::<Vec<usize>>()).prop_shuffle(),
        prop::collection::vec(row(), 6..40),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        prop::option::of((0usize..6, any::<bool>())),
    )
        .prop_map(
            |(order, rows, pad, trim, pad_header, trailing_blank, blank_after)| File {
                order,
                rows,
                pad,
                // Padding without trimming types numbers as text on every path;
                // half the files test that, half test trimming.
                trim,
                pad_header,
                trailing_blank,
                blank_after,
            },
        )
}

fn write(f: &File) -> String {
    let names = ["id", "age", "weight", "dept", "note"];
    let sep = if f.pad_header { ", " } else { "," };
    let mut s = f
        .order
        .iter()
        .map(|&i| names[i])
        .collect::<Vec<_>>()
        .join(sep);
    s.push('\n');
    for (n, r) in f.rows.iter().enumerate() {
        let line: Vec<String> = f.order.iter().map(|&i| render(&r[i], f.pad)).collect();
        s.push_str(&line.join(","));
        s.push('\n');
        match f.blank_after {
            Some((at, false)) if at == n => s.push('\n'),
            Some((at, true)) if at == n => s.push_str(",,,,\n"),
            _ => {}
        }
    }
    for _ in 0..f.trailing_blank {
        s.push('\n');
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn every_path_gives_the_same_figures(f in file()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.csv");
        let csv = write(&f);
        std::fs::write(&path, &csv).expect("write");
        let options = LoadOptions::default()
            .null_tokens(["", "?", "NA"])
            .trim(f.trim);
        let results = three_paths(&path, &options, &dir.path().join("cache"));
        assert_same(&results, &csv);
        // With trimming every figure is there to compare: a padded header
        // or number must not turn into an error on any path.
        if f.trim {
            let (_, outcomes) = results[0].as_ref().expect("loads");
            let errors: Vec<&serde_json::Value> =
                outcomes.iter().filter(|o| o["status"] == "error").collect();
            prop_assert!(
                errors.iter().all(|o| !o["error"].to_string().contains("not found")),
                "{errors:?}\n{csv}"
            );
        }
    }
}

/// The Adult file's quirks, named in the issue: `age, workclass` headers,
/// `39, State-gov` rows, ` ?` for missing, a trailing blank line.
#[test]
fn adult_style_padding_means_the_same_when_streamed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("adult.csv");
    std::fs::write(
        &path,
        "age, workclass, hours\n39, State-gov, 40\n50, ?, 13\n38, Private, 40\n\n",
    )
    .expect("write");
    let src = DataSource::csv(&path)
        .with_options(LoadOptions::default().null_tokens(["", "?"]).trim(true));
    let checks = || {
        vec![
            expect::column("workclass").null_fraction().at_most(0.5),
            expect::column("age").mean().between(42.0, 43.0),
            expect::schema().requires([("hours", DType::Integer)]),
        ]
    };
    let memory = load_with(&src, &dir.path().join("cache"), CacheMode::Off)
        .expect("loads")
        .evaluate(checks());
    let streamed = src.evaluate_streaming(checks()).expect("streams");
    assert_eq!(streamed.info.rows, 3);
    for (m, s) in memory.iter().zip(&streamed.outcomes) {
        assert!(m.passed(), "{m:?}");
        assert!(s.passed(), "streamed: {s:?}");
        assert_eq!(m.observed, s.observed);
    }
    assert_eq!(streamed.outcomes[0].observed, Some(1.0 / 3.0));
}

/// `columns` restricts every path alike: a check on a column left out is an
/// error on the streaming path too, not a figure.
#[test]
fn the_columns_option_restricts_the_streaming_path_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "a,b\n1,x\n2,y\n").expect("write");
    let src = DataSource::csv(&path).with_options(LoadOptions::default().columns(["a"]));
    let check = || vec![expect::column("b").null_fraction().at_most(0.0)];
    let memory = load_with(&src, &dir.path().join("cache"), CacheMode::Off)
        .expect("loads")
        .evaluate(check());
    let streamed = src.evaluate_streaming(check()).expect("streams");
    assert!(memory[0].error().is_some(), "{:?}", memory[0]);
    assert!(
        streamed.outcomes[0].error().is_some(),
        "{:?}",
        streamed.outcomes[0]
    );
    let missing = DataSource::csv(&path).with_options(LoadOptions::default().columns(["zz"]));
    let err = missing
        .evaluate_streaming(check())
        .expect_err("an unknown column in `columns` is an error");
    assert!(err.to_string().contains("\"zz\""), "{err}");
}

/// A trimmed column whose first rows are numbers and a later value is not:
/// an error naming the column on both paths, never a silent missing value.
#[test]
fn a_later_non_number_in_a_retyped_column_is_an_error_on_both_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.csv");
    let mut csv = String::from("n, s\n");
    for i in 0..20 {
        csv.push_str(&format!(" {i}, a\n"));
    }
    csv.push_str(" twenty, a\n");
    std::fs::write(&path, csv).expect("write");
    let opts = LoadOptions::default().trim(true).infer_rows(Some(10));
    let src = DataSource::csv(&path).with_options(opts);
    let err = load_with(&src, &dir.path().join("cache"), CacheMode::Off)
        .expect_err("a non-number after the sampled rows");
    assert!(err.to_string().contains("\"n\""), "{err}");
    assert!(err.to_string().contains("infer_rows"), "{err}");
    let streamed = src.evaluate_streaming(vec![expect::column("n").mean().at_least(0.0)]);
    let failed = match streamed {
        Err(e) => e.to_string(),
        Ok(s) => format!("{:?}", s.outcomes[0].error()),
    };
    assert!(
        failed.contains("twenty") || failed.contains("conversion"),
        "{failed}"
    );
}
