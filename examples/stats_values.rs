//! Prints mltest's statistics as JSON for `tests/stats_reference/check.py`,
//! which recomputes them with scipy and statsmodels: Wilson intervals on
//! fixed counts, and the leakage check's |Pearson r| and Cramér's V of the
//! model inputs against the label on the reviews data.
//!
//! `cargo run --release --example stats_values > values.json`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counts = [
        (0u64, 10u64),
        (9, 1000),
        (33, 1000),
        (500, 1000),
        (1, 3),
        (4697, 4697),
        (12, 250),
    ];
    let wilson: Vec<_> = counts
        .iter()
        .map(|&(k, n)| {
            let (lo, hi) = mltest::stats::wilson(k, n, mltest::stats::Z95);
            serde_json::json!({"k": k, "n": n, "low": lo, "high": hi})
        })
        .collect();
    let data = mltest::data::load_cached(&mltest::datasets::reviews())?;
    let features = [
        "Age",
        "Positive Feedback Count",
        "Rating",
        "Division Name",
        "Department Name",
        "Class Name",
    ];
    let out = data.evaluate_one(
        data.leakage("Recommended IND")
            .features(features)
            .at_most(1.0),
    );
    let association: Vec<_> = out
        .table
        .iter()
        .map(|(f, v, how)| serde_json::json!({"feature": f, "value": v, "method": how}))
        .collect();
    // Drift statistics: General vs General Petite, the split of the peers' drift scripts.
    let frame = data.frame();
    let division = frame.column("Division Name")?.str()?.clone();
    let side = |name: &str| -> Vec<usize> {
        (0..frame.height())
            .filter(|&i| division.get(i) == Some(name))
            .collect()
    };
    let (reference, current) = (side("General"), side("General Petite"));
    let mut drift = Vec::new();
    for col in ["Age", "Positive Feedback Count", "Rating"] {
        let v = frame
            .column(col)?
            .cast(&polars::prelude::DataType::Float64)?;
        let v = v.f64()?.clone();
        let pick = |rows: &[usize]| rows.iter().filter_map(|&i| v.get(i)).collect::<Vec<f64>>();
        let (a, b) = (pick(&reference), pick(&current));
        drift.push(serde_json::json!({"column": col, "stat": "wasserstein", "value": mltest::stats::wasserstein(&a, &b)}));
    }
    for col in ["Department Name", "Class Name", "Rating"] {
        let v = frame
            .column(col)?
            .cast(&polars::prelude::DataType::String)?;
        let v = v.str()?.clone();
        let mut cats: Vec<String> = (0..frame.height())
            .filter_map(|i| v.get(i).map(str::to_string))
            .collect();
        cats.sort();
        cats.dedup();
        let counts = |rows: &[usize]| -> Vec<f64> {
            cats.iter()
                .map(|c| {
                    rows.iter()
                        .filter(|&&i| v.get(i) == Some(c.as_str()))
                        .count() as f64
                })
                .collect()
        };
        let (r, c) = (counts(&reference), counts(&current));
        let (chi2, p, dof) = mltest::stats::chi2_homogeneity(&[r.clone(), c.clone()]);
        drift.push(
            serde_json::json!({"column": col, "stat": "chi2", "value": chi2, "p": p, "dof": dof}),
        );
        drift.push(serde_json::json!({"column": col, "stat": "jensenshannon", "value": mltest::stats::jensen_shannon(&r, &c)}));
    }
    let ab = [(2u64, 9u64), (30, 45), (120, 1000), (150, 1000)];
    let (s1, p1, e1) = mltest::stats::mcnemar(ab[0].0, ab[0].1);
    let (s2, p2, e2) = mltest::stats::mcnemar(ab[1].0, ab[1].1);
    let (z, pz) = mltest::stats::two_proportion_z(ab[2].0, ab[2].1, ab[3].0, ab[3].1);
    println!(
        "{}",
        serde_json::json!({
            "data": data.info().origin,
            "wilson": wilson,
            "association": association,
            "drift": drift,
            "mcnemar": [{"b": 2, "c": 9, "stat": s1, "p": p1, "exact": e1}, {"b": 30, "c": 45, "stat": s2, "p": p2, "exact": e2}],
            "ztest": {"x": [120, 150], "n": [1000, 1000], "z": z, "p": pz},
        })
    );
    Ok(())
}
