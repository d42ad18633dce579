//! Prints mltest's statistics as JSON for `tests/stats_reference/check.py`,
//! which recomputes them with scipy and statsmodels: Wilson intervals on
//! fixed counts, the leakage check's figures (|Pearson r|, correlation
//! ratio η, Cramér's V, and their bias-corrected forms) of the model inputs
//! against the 0/1 label and against the text label "Department Name" on
//! the reviews data, drift and A/B statistics.
//!
//! `cargo run --release --example stats_values > values.json`

use mltest::expect::TableRow;

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
    let mut association: Vec<_> = out
        .table
        .iter()
        .map(|TableRow { name: f, value: v, method: how }| {
            serde_json::json!({"target": "Recommended IND", "feature": f, "value": v, "method": how})
        })
        .collect();
    // A text label: numeric inputs get η (grouped by department), text
    // inputs Cramér's V; the free-text Title shows what the bias correction is for.
    let text_features = [
        "Age",
        "Positive Feedback Count",
        "Rating",
        "Division Name",
        "Class Name",
        "Title",
    ];
    for corrected in [false, true] {
        let leakage = data.leakage("Department Name");
        let leakage = if corrected {
            leakage.bias_corrected()
        } else {
            leakage
        };
        let out = data.evaluate_one(leakage.features(text_features).at_most(1.0));
        if let Some(err) = out.error() {
            return Err(format!("leakage against Department Name: {err}").into());
        }
        association.extend(out.table.iter().map(|TableRow { name: f, value: v, method: how }| {
            serde_json::json!({"target": "Department Name", "feature": f, "value": v, "method": how})
        }));
    }
    // The 0/1 label with the bias correction too.
    let out = data.evaluate_one(
        data.leakage("Recommended IND")
            .bias_corrected()
            .features(features)
            .at_most(1.0),
    );
    association.extend(out.table.iter().map(|TableRow { name: f, value: v, method: how }| {
        serde_json::json!({"target": "Recommended IND", "feature": f, "value": v, "method": how})
    }));
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
    // KS on raw samples through all three of scipy's paths: asymptotic
    // (General vs General Petite, 13,850 rows), exact with unequal sizes
    // (Initmates vs General Petite, both <= 10,000), exact with equal sizes
    // (the first 600 rows of two divisions).
    let numeric = |col: &str,
                   division_name: &str,
                   head: Option<usize>|
     -> Result<Vec<f64>, Box<dyn std::error::Error>> {
        let rows = data.rows_where("Division Name", division_name)?;
        let v = rows
            .frame()
            .column(col)?
            .cast(&polars::prelude::DataType::Float64)?;
        let v: Vec<f64> = v.f64()?.iter().flatten().collect();
        Ok(match head {
            Some(n) => v.into_iter().take(n).collect(),
            None => v,
        })
    };
    let mut ks = Vec::new();
    for (col, r, c, head) in [
        ("Age", "General", "General Petite", None),
        ("Positive Feedback Count", "General", "General Petite", None),
        ("Rating", "General", "General Petite", None),
        ("Age", "Initmates", "General Petite", None),
        (
            "Positive Feedback Count",
            "Initmates",
            "General Petite",
            None,
        ),
        ("Age", "General", "Initmates", Some(600)),
        ("Age", "General", "General Petite", Some(9000)),
    ] {
        let t = mltest::stats::ks_2samp(&numeric(col, r, head)?, &numeric(col, c, head)?)
            .ok_or("empty KS sample")?;
        ks.push(
            serde_json::json!({"column": col, "reference": r, "current": c, "head": head,
            "statistic": t.statistic, "p": t.p_value, "method": t.method.to_string()}),
        );
    }
    // The drift engine itself on the peers' split: its per-column figures
    // must be scipy's (and, for the distances, Evidently's).
    let general = data.rows_where("Division Name", "General")?;
    let petite = data.rows_where("Division Name", "General Petite")?;
    let report = mltest::drift::Drift::columns([
        "Age",
        "Positive Feedback Count",
        "Department Name",
        "Class Name",
    ])
    .categorical(["Rating"])
    .evaluate(
        &mltest::drift::Side::data(general),
        &mltest::drift::Side::data(petite),
    )?;
    let engine: Vec<_> = report
        .columns
        .iter()
        .map(|c| {
            serde_json::json!({
                "column": c.column, "test": c.test, "statistic": c.statistic, "p": c.p_value,
                "p_adjusted": c.p_adjusted, "effect_name": c.effect_name, "effect": c.effect,
                "wasserstein": c.extra.iter().find(|(k, _)| k == "wasserstein").map(|(_, v)| *v),
            })
        })
        .collect();
    let bh_p = [0.01, 0.04, 0.03, 0.2, 0.5, 0.001, 0.049];
    let bh = mltest::stats::benjamini_hochberg(&bh_p);
    let traffic: Vec<_> = [
        (120u64, 1000u64, 150u64, 1000u64),
        (4100, 4697, 4180, 4697),
        (50, 2000, 41, 1500),
    ]
    .iter()
    .map(|&(xc, nc, xt, nt)| {
        let r = mltest::ab::TrafficTest {
            control_successes: xc,
            control_n: nc,
            treatment_successes: xt,
            treatment_n: nt,
            alpha: 0.05,
        }
        .decide();
        serde_json::json!({"control": [xc, nc], "treatment": [xt, nt], "z": r.z, "p": r.p_value,
                "lift_low": r.lift_low, "lift_high": r.lift_high})
    })
    .collect();
    let sizes: Vec<_> = [
        (0.12, 0.03, 0.8, 1.0),
        (0.89, -0.01, 0.8, 1.0),
        (0.5, 0.02, 0.9, 3.0),
    ]
    .iter()
    .map(|&(base, mde, power, ratio)| {
        serde_json::json!({"base": base, "mde": mde, "power": power,
            "ratio": ratio, "n": mltest::ab::sample_size(base, mde, 0.05, power, ratio)})
    })
    .collect();
    // McNemar, each of statsmodels' three variants, on small and large
    // discordant counts (39 vs 86 is the title A/B on the real data).
    use mltest::stats::McNemarTest;
    let mut mcnemar = Vec::new();
    for (b, c) in [
        (2u64, 9u64),
        (30, 45),
        (0, 0),
        (5, 5),
        (39, 86),
        (100, 130),
        (500, 430),
    ] {
        for test in [
            McNemarTest::Exact,
            McNemarTest::ChiSquare { correction: true },
            McNemarTest::ChiSquare { correction: false },
        ] {
            let m = mltest::stats::mcnemar(b, c, test);
            let (exact, correction) = match test {
                McNemarTest::Exact => (true, false),
                McNemarTest::ChiSquare { correction } => (false, correction),
            };
            mcnemar.push(serde_json::json!({"b": b, "c": c, "exact": exact,
                "correction": correction, "test": test.to_string(),
                "stat": m.statistic, "p": m.p_value}));
        }
    }
    // Wilson at the confidences a `#[robustness(confidence = ...)]` may state.
    let mut wilson_at = Vec::new();
    for &(k, n) in &counts {
        for confidence in [0.9, 0.95, 0.99] {
            let (_, (lo, hi)) = mltest::stats::fixed_verdict(k, n, 0.5, confidence);
            wilson_at.push(serde_json::json!({"k": k, "n": n, "confidence": confidence, "low": lo, "high": hi}));
        }
    }
    // The regression A/B: two predictors of Rating on the real rows, A the
    // overall mean, B the mean per value of Recommended IND, compared on
    // absolute and squared errors (scipy.stats.ttest_rel(err_b, err_a)).
    let frame = data.frame();
    let col = |name: &str| -> Result<Vec<Option<f64>>, Box<dyn std::error::Error>> {
        let c = frame
            .column(name)?
            .cast(&polars::prelude::DataType::Float64)?;
        Ok(c.f64()?.iter().collect())
    };
    let (rating, rec) = (col("Rating")?, col("Recommended IND")?);
    let rows: Vec<(f64, f64)> = rating
        .iter()
        .zip(&rec)
        .filter_map(|(r, c)| Some(((*r)?, (*c)?)))
        .collect();
    let y: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let group_mean = |g: f64| {
        let v: Vec<f64> = rows.iter().filter(|r| r.1 == g).map(|r| r.0).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (m0, m1) = (group_mean(0.0), group_mean(1.0));
    let pred_a = vec![mean; y.len()];
    let pred_b: Vec<f64> = rows
        .iter()
        .map(|r| if r.1 == 1.0 { m1 } else { m0 })
        .collect();
    let mut paired = Vec::new();
    for (kind, name) in [
        (mltest::stats::ErrorKind::Absolute, "absolute"),
        (mltest::stats::ErrorKind::Squared, "squared"),
    ] {
        let (ea, eb) = (kind.errors(&y, &pred_a), kind.errors(&y, &pred_b));
        for (label, a, b) in [
            ("reviews", ea.clone(), eb.clone()),
            ("reviews[..40]", ea[..40].to_vec(), eb[..40].to_vec()),
        ] {
            let t = mltest::stats::paired_t(&a, &b, 0.95)?;
            paired.push(
                serde_json::json!({"what": format!("{label} {name}"), "a": a, "b": b,
                "t": t.t, "p": t.p_value, "df": t.df, "low": t.interval.0, "high": t.interval.1,
                "mean_difference": t.mean_difference}),
            );
        }
    }
    // Calibration and CBPE (tests/stats_reference/calibration.py checks them
    // against scikit-learn's calibration_curve and IsotonicRegression).
    // Scores rounded to 0.01 so that ties occur, labels drawn from a
    // distorted version of them (so the isotonic fit has work to do).
    let mut rng = mltest::rng::SplitMix64::new(2024);
    let cal_scores: Vec<f64> = (0..3_000)
        .map(|_| (rng.unit().powf(0.5) * 100.0).round() / 100.0)
        .collect();
    let cal_labels: Vec<bool> = cal_scores.iter().map(|s| rng.unit() < s * s).collect();
    let mut curves = Vec::new();
    for (binning, name) in [
        (mltest::monitor::Binning::Uniform, "uniform"),
        (mltest::monitor::Binning::Quantile, "quantile"),
    ] {
        for bins in [5, 10] {
            let c =
                mltest::monitor::ReliabilityCurve::new(&cal_scores, &cal_labels, bins, binning)?;
            curves.push(serde_json::json!({"strategy": name, "n_bins": bins,
                "prob_true": c.bins.iter().map(|b| b.observed).collect::<Vec<_>>(),
                "prob_pred": c.bins.iter().map(|b| b.predicted).collect::<Vec<_>>()}));
        }
    }
    let iso = mltest::monitor::IsotonicCalibrator::fit(&cal_scores, &cal_labels)?;
    let queries: Vec<f64> = (0..=200).map(|i| i as f64 / 200.0 - 0.0025).collect();
    let iso_at: Vec<f64> = queries.iter().map(|q| iso.apply(*q)).collect();
    let cbpe = mltest::monitor::Cbpe::fit(&cal_scores, &cal_labels, 0.5)?;
    let batch: Vec<f64> = (0..1_000).map(|_| rng.unit()).collect();
    let est = cbpe.estimate(&batch)?;
    let calibration = serde_json::json!({
        "scores": cal_scores, "labels": cal_labels, "curves": curves,
        "isotonic_queries": queries, "isotonic_at": iso_at,
        "cbpe": {"calibrated": est.calibrated, "threshold": 0.5, "batch": batch,
            "accuracy": est.accuracy, "accuracy_low": est.accuracy_low, "accuracy_high": est.accuracy_high,
            "f1": est.f1, "f1_low": est.f1_low, "f1_high": est.f1_high},
    });
    let (z, pz) = mltest::stats::two_proportion_z(120, 1000, 150, 1000);
    println!(
        "{}",
        serde_json::json!({
            "data": data.info().origin,
            "wilson": wilson,
            "wilson_at": wilson_at,
            "paired_t": paired,
            "association": association,
            "drift": drift,
            "ks": ks,
            "drift_engine": engine,
            "bh": {"p": bh_p, "adjusted": bh},
            "traffic": traffic,
            "sample_size": sizes,
            "mcnemar": mcnemar,
            "ztest": {"x": [120, 150], "n": [1000, 1000], "z": z, "p": pz},
            "calibration": calibration,
        })
    );
    Ok(())
}
