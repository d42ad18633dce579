//! The leakage check on DataFusion: each feature's association with the
//! label measured by aggregate queries (Pearson's r by `corr`, group
//! moments for η, a contingency table for Cramér's V), then decided by the
//! polars engine's own [`decide_association`] and the same formulas in
//! [`crate::stats`].

use std::collections::BTreeMap;

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::prelude::{DataFrame, Expr, cast, ident};

use super::compile::{as_f64, count_if, count_rows, is_infinite, is_nan};
use super::execute::{collect, floats, texts, value};
use crate::data::DType;
use crate::expect::Expectation;
use crate::expect::engine::{Association, Evaluator, Pair, decide_association};
use crate::expect::outcome::{CheckError, CheckOutcome};

pub(super) async fn association(
    base: &DataFrame,
    ev: &Evaluator,
    e: &Expectation,
    target: &str,
    features: &[String],
    bias_corrected: bool,
) -> CheckOutcome {
    let numeric = |c: &str| DType::Numeric.accepts(ev.dtype_of(Some(c)));
    let t_numeric = numeric(target);
    // Measured first (queries are async), decided after.
    let mut measured: Vec<Result<Measure, String>> = Vec::new();
    for f in features {
        let both = ident(f).is_not_null().and(ident(target).is_not_null());
        let m = match (numeric(f), t_numeric) {
            (true, true) => pearson(base, f, target, both).await,
            (true, false) => ratio(base, f, target, both, bias_corrected).await,
            (false, true) => ratio(base, target, f, both, bias_corrected).await,
            (false, false) => cramers_v(base, f, target, both, bias_corrected).await,
        };
        let failed = m.is_err();
        measured.push(m.map_err(|e| e.to_string()));
        if failed {
            break;
        }
    }
    let mut results = measured.into_iter();
    decide_association(e, target, features, &numeric, |f, _: Pair| {
        match results.next() {
            Some(Ok(Measure::Value { value, method, n })) => {
                Ok(Association::Measured { value, method, n })
            }
            Some(Ok(Measure::NonFinite {
                column,
                method,
                nan,
                inf,
            })) => Ok(Association::NonFinite {
                column: if column == f { f } else { target },
                method,
                nan,
                inf,
            }),
            Some(Err(e)) => Err(e),
            None => Err("no measurement".into()),
        }
    })
}

/// What one query measured (owned: the borrowing [`Association`] is built
/// when deciding).
enum Measure {
    Value {
        value: f64,
        method: &'static str,
        n: f64,
    },
    NonFinite {
        /// The numeric column holding NaN or infinite values.
        column: String,
        method: &'static str,
        nan: u64,
        inf: u64,
    },
}

fn non_finite_aggs(x: Expr, prefix: &str) -> [Expr; 2] {
    [
        count_if(is_nan(x.clone())).alias(format!("{prefix}nan")),
        count_if(is_infinite(x)).alias(format!("{prefix}inf")),
    ]
}

async fn pearson(
    base: &DataFrame,
    feature: &str,
    target: &str,
    both: Expr,
) -> Result<Measure, CheckError> {
    const METHOD: &str = "|Pearson r|";
    let (x, y) = (as_f64(ident(feature)), as_f64(ident(target)));
    let mut aggs = vec![
        agg::corr(x.clone(), y.clone()).alias("r"),
        count_rows().alias("n"),
    ];
    aggs.extend(non_finite_aggs(x, "f_"));
    aggs.extend(non_finite_aggs(y, "t_"));
    let batch = collect(
        base.clone()
            .filter(both)
            .and_then(|d| d.aggregate(vec![], aggs)),
    )
    .await?;
    for (column, prefix) in [(feature, "f_"), (target, "t_")] {
        let nan = value(&batch, &format!("{prefix}nan"), 0).unwrap_or(0.0) as u64;
        let inf = value(&batch, &format!("{prefix}inf"), 0).unwrap_or(0.0) as u64;
        if nan + inf > 0 {
            return Ok(Measure::NonFinite {
                column: column.to_string(),
                method: METHOD,
                nan,
                inf,
            });
        }
    }
    Ok(Measure::Value {
        value: value(&batch, "r", 0).unwrap_or(f64::NAN).abs(),
        method: METHOD,
        n: value(&batch, "n", 0).unwrap_or(0.0),
    })
}

/// η of `numeric` grouped by `categorical`: each group's size, mean and
/// population variance in one grouped aggregate.
async fn ratio(
    base: &DataFrame,
    numeric: &str,
    categorical: &str,
    both: Expr,
    bias_corrected: bool,
) -> Result<Measure, CheckError> {
    let method = if bias_corrected {
        "bias-corrected η"
    } else {
        "correlation ratio η"
    };
    let x = as_f64(ident(numeric));
    let mut aggs = vec![
        count_rows().alias("n"),
        agg::avg(x.clone()).alias("mean"),
        agg::var_pop(x.clone()).alias("var"),
    ];
    aggs.extend(non_finite_aggs(x, ""));
    let group = cast(ident(categorical), ArrowType::Utf8).alias("g");
    let batch = collect(
        base.clone()
            .filter(both)
            .and_then(|d| d.aggregate(vec![group], aggs)),
    )
    .await?;
    let column = |name: &str| -> Vec<f64> {
        floats(&batch, name).map_or_else(Vec::new, |a| {
            (0..a.len())
                .map(|i| if a.is_null(i) { 0.0 } else { a.value(i) })
                .collect()
        })
    };
    let nan = column("nan").iter().sum::<f64>() as u64;
    let inf = column("inf").iter().sum::<f64>() as u64;
    if nan + inf > 0 {
        return Ok(Measure::NonFinite {
            column: numeric.to_string(),
            method,
            nan,
            inf,
        });
    }
    let moments: Vec<crate::stats::GroupMoments> = column("n")
        .into_iter()
        .zip(column("mean"))
        .zip(column("var"))
        .map(|((n, mean), var)| crate::stats::GroupMoments {
            n,
            mean,
            ss: var * n,
        })
        .collect();
    let n = moments.iter().map(|g| g.n).sum();
    let value = if bias_corrected {
        crate::stats::correlation_ratio_corrected(&moments)
    } else {
        crate::stats::correlation_ratio(&moments)
    };
    Ok(Measure::Value { value, method, n })
}

/// Cramér's V from the contingency table of the two columns (as text).
async fn cramers_v(
    base: &DataFrame,
    feature: &str,
    target: &str,
    both: Expr,
    bias_corrected: bool,
) -> Result<Measure, CheckError> {
    let method = if bias_corrected {
        "bias-corrected Cramér's V"
    } else {
        "Cramér's V"
    };
    let by = vec![
        cast(ident(feature), ArrowType::Utf8).alias("f"),
        cast(ident(target), ArrowType::Utf8).alias("t"),
    ];
    let batch = collect(
        base.clone()
            .filter(both)
            .and_then(|d| d.aggregate(by, vec![count_rows().alias("n")])),
    )
    .await?;
    let (f, t, n) = (texts(&batch, "f"), texts(&batch, "t"), floats(&batch, "n"));
    let mut rows: BTreeMap<String, f64> = BTreeMap::new();
    let mut cols: BTreeMap<String, f64> = BTreeMap::new();
    let mut cells: Vec<(String, String, f64)> = Vec::new();
    if let (Some(f), Some(t), Some(n)) = (f, t, n) {
        for i in 0..batch.num_rows() {
            let (a, b, c) = (f.value(i).to_string(), t.value(i).to_string(), n.value(i));
            *rows.entry(a.clone()).or_default() += c;
            *cols.entry(b.clone()).or_default() += c;
            cells.push((a, b, c));
        }
    }
    let total: f64 = rows.values().sum();
    let value = if bias_corrected {
        crate::stats::cramers_v_corrected(&rows, &cols, &cells, total)
    } else {
        crate::stats::cramers_v(&rows, &cols, &cells, total)
    };
    Ok(Measure::Value {
        value,
        method,
        n: total,
    })
}
