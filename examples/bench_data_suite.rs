//! Benchmark: the 14 expectations of `../shared/bench/ge_suite.py` in mltest.
//!
//! `cargo run --release --example bench_data_suite -- CSV` prints one JSON
//! line like the peer scripts: `read_only_s` (polars reading the columns the
//! suite uses, nothing else), `load_s` (mltest's load: parse, sha256,
//! cleaning), `validate_s` (the 14 checks, one pass), and the failures.
//! `-- --make ROWS OUT` writes the reviews file repeated to ROWS rows (the
//! 1,000,000-row file of the peers' README). `bench/data_suite.py` runs this
//! and the peers side by side on the same file.

use std::time::Instant;

use mltest::expect::EvalOptions;
use mltest::prelude::*;
use polars::prelude::*;

fn suite() -> Vec<Expectation> {
    use mltest::expect::{column, row_count};
    let mut e = vec![row_count().at_least(20_000.0)];
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
    // `bench/data_suite.py` adds a check never seen before to time one new
    // check on cached data (it reads one column of the entry).
    if let Some(q) = std::env::var("MLTEST_BENCH_NEW_QUANTILE")
        .ok()
        .and_then(|q| q.parse::<f64>().ok())
    {
        e.push(column("Age").quantile(q).between(0.0, 200.0));
    }
    e
}

/// The columns the 14 checks read.
const USED: [&str; 7] = [
    "Age",
    "Rating",
    "Division Name",
    "Department Name",
    "Class Name",
    "Review Text",
    "Recommended IND",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_data_suite CSV | --streaming CSV | --streaming-exact CSV | --read-only CSV | --make ROWS OUT";
    match args.first().map(String::as_str) {
        Some("--make") => {
            let rows: usize = args.get(1).ok_or(usage)?.parse()?;
            make(rows, args.get(2).ok_or(usage)?)
        }
        Some("--read-only") => read_only(args.get(1).ok_or(usage)?),
        Some("--streaming") => streaming_run(args.get(1).ok_or(usage)?, false),
        Some("--streaming-exact") => streaming_run(args.get(1).ok_or(usage)?, true),
        Some(path) => suite_run(path),
        None => Err(usage.into()),
    }
}

/// The floor, in a process of its own: polars reading the same columns.
fn read_only(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let floor = LazyCsvReader::new(PlRefPath::try_from_path(std::path::Path::new(path))?)
        .finish()?
        .select(USED.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()?;
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"tool": "polars-read", "rows": floor.height(), "load_s": round(load_s), "validate_s": 0.0})
    );
    Ok(())
}

/// mltest: load the columns the suite reads (parsed once, fingerprinted),
/// then the 14 checks in one pass.
fn suite_run(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let source = DataSource::csv(path).with_options(LoadOptions::default().columns(USED));
    let data = mltest::data::load_cached(&source)?;
    let load_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let outcomes = data.evaluate(suite());
    let validate_s = t.elapsed().as_secs_f64();

    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| o.expectation.short_name())
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "tool": "mltest",
            "rows": data.height(),
            "expectations": outcomes.len(),
            "load_s": round(load_s),
            "validate_s": round(validate_s),
            "success": failed.is_empty(),
            "failed": failed,
        })
    );
    Ok(())
}

/// mltest without loading: one streaming scan that reads only the used
/// columns; the median from a KLL sketch, or exactly (`exact`), which makes
/// polars fall back to its in-memory engine for that query.
fn streaming_run(path: &str, exact: bool) -> Result<(), Box<dyn std::error::Error>> {
    let options = EvalOptions {
        exact_quantiles: exact,
        ..EvalOptions::default()
    };
    let source = DataSource::csv(path);
    let plan = source.streaming_plan(suite(), options)?;
    let t = Instant::now();
    let run = source.evaluate_streaming_with(suite(), options)?;
    let total = t.elapsed().as_secs_f64();
    let failed: Vec<String> = run
        .outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| o.expectation.short_name())
        .collect();
    let median = run
        .outcomes
        .iter()
        .find(|o| o.expectation.metric.kind() == "quantile");
    println!(
        "{}",
        serde_json::json!({
            "tool": if exact { "mltest-streaming-exact" } else { "mltest-streaming" },
            "rows": run.info.rows,
            "expectations": run.outcomes.len(),
            "load_s": 0.0,
            "validate_s": round(total),
            "success": failed.is_empty(),
            "failed": failed,
            "scans": plan.scans(),
            "in_memory_fallbacks": plan.in_memory_fallbacks(),
            "median": median.and_then(|o| o.observed),
            "median_estimate": median.and_then(|o| o.estimate.clone()),
        })
    );
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The reviews file repeated to `rows` rows, written as CSV. The copies are
/// written as bytes, one after another, so a file of many GB needs no more
/// memory than the reviews file itself.
fn make(rows: usize, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let src = mltest::data::reviews::locate()
        .ok_or("the reviews CSV is needed to build the benchmark file")?;
    let mut base = LazyCsvReader::new(PlRefPath::try_from_path(&src)?)
        .finish()?
        .collect()?;
    let n = base.height().max(1);
    let csv = |frame: &mut DataFrame, header: bool| -> PolarsResult<Vec<u8>> {
        let mut buf = Vec::new();
        CsvWriter::new(&mut buf)
            .include_header(header)
            .finish(frame)?;
        Ok(buf)
    };
    let body = csv(&mut base, false)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    file.write_all(&csv(&mut base.head(Some(0)), true)?)?;
    for _ in 0..rows / n {
        file.write_all(&body)?;
    }
    file.write_all(&csv(&mut base.head(Some(rows % n)), false)?)?;
    file.flush()?;
    eprintln!("wrote {out}: {rows} rows");
    Ok(())
}
