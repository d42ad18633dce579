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
    println!(
        "{}",
        serde_json::json!({
            "data": data.info().origin,
            "wilson": wilson,
            "association": association,
        })
    );
    Ok(())
}
