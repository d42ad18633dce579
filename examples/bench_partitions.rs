//! Incremental checks on partitions: one new partition beside 19 whose
//! states are stored, against a full run over all 20 and against loading
//! the 20 concatenated and evaluating in memory.
//!
//! ```sh
//! cargo run --release --example bench_partitions -- [ROWS_PER_PARTITION] [RUNS]   # default 50000 5
//! ```
//!
//! Partitions are the generator's reviews (seeded, 11 columns) written as
//! Parquet into a temporary directory; the checks are 12 of the data
//! suite's kinds (counts, means, a standard deviation, a quantile, a
//! distinct fraction, a per-segment mean). Prints one JSON line with the
//! median of RUNS runs of each.

use std::time::Instant;

use mltest::expect::{Expectation, column, row_count};
use mltest::prelude::*;
use polars::prelude::*;

fn checks() -> Vec<Expectation> {
    vec![
        row_count().at_least(1.0),
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
    ]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(50_000);
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let work = tempfile::tempdir()?;
    let dir = work.path().join("reviews");
    std::fs::create_dir(&dir)?;
    let part = |i: u64| -> Result<DataFrame, Box<dyn std::error::Error>> {
        let src = DataSource::generated(ReviewsSpec::new(rows, 1_000 + i));
        Ok(mltest::data::load_cached(&src)?.frame().clone())
    };
    let write = |i: u64, frame: &DataFrame| -> Result<(), Box<dyn std::error::Error>> {
        let file = std::fs::File::create(dir.join(format!("part-{i:03}.parquet")))?;
        ParquetWriter::new(file).finish(&mut frame.clone())?;
        Ok(())
    };
    let frames: Vec<DataFrame> = (0..20).map(part).collect::<Result<_, _>>()?;
    let source = DataSource::partitioned(&dir);
    let (mut full, mut incremental, mut in_memory) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // Full: no stored states, all 20 partitions read.
        for (i, f) in frames.iter().enumerate() {
            write(i as u64, f)?;
        }
        let out = work.path().join(format!("full-{run}"));
        let t = Instant::now();
        let all = source.evaluate_partitioned_in(checks(), &out)?;
        full.push(t.elapsed().as_secs_f64());
        assert!(all.partitions.iter().all(|p| p.read));

        // Incremental: 19 stored, the 20th lands.
        std::fs::remove_file(dir.join("part-019.parquet"))?;
        let out = work.path().join(format!("inc-{run}"));
        source.evaluate_partitioned_in(checks(), &out)?;
        write(19, &frames[19])?;
        let t = Instant::now();
        let next = source.evaluate_partitioned_in(checks(), &out)?;
        incremental.push(t.elapsed().as_secs_f64());
        assert_eq!(next.partitions.iter().filter(|p| p.read).count(), 1);
        for (a, b) in next.outcomes.iter().zip(&all.outcomes) {
            let what = a.expectation.describe();
            assert_eq!(a.status(), b.status(), "{what}");
            // Exact figures equal; a sketched quantile's merge order differs.
            if a.estimate.is_none() {
                let (x, y) = (a.observed.unwrap_or(0.0), b.observed.unwrap_or(0.0));
                assert!(
                    (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                    "{what}: {x} vs {y}"
                );
            }
        }

        // In memory: read the 20 partitions as one data set, evaluate.
        let t = Instant::now();
        let data = mltest::data::load_with(
            &source,
            &work.path().join(format!("parse-{run}")),
            mltest::data::parse_cache::CacheMode::Off,
        )?;
        std::hint::black_box(data.evaluate(checks()));
        in_memory.push(t.elapsed().as_secs_f64());
    }
    let (full, inc, mem) = (median(full), median(incremental), median(in_memory));
    println!(
        "{}",
        serde_json::json!({
            "partitions": 20,
            "rows_per_partition": rows,
            "checks": checks().len(),
            "runs": runs,
            "full_run_s": (full * 1e4).round() / 1e4,
            "one_new_partition_s": (inc * 1e4).round() / 1e4,
            "in_memory_concatenated_s": (mem * 1e4).round() / 1e4,
            "speedup_vs_full": (full / inc * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
