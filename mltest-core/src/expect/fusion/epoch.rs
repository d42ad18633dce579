//! ISO 8601 text as unix seconds on DataFusion, with the formats the polars
//! engine parses (`engine/compile.rs`, `epoch_seconds`): the date, then date
//! and time with a `T` or a space, each with optional fractions and `Z`.
//! Text that none of them reads is NULL, which the freshness check counts
//! as a value that is not a time (an error, never a pass). DataFusion's own
//! `to_timestamp` fails the whole query on such text instead, so this is a
//! scalar function of mltest's own.

use std::sync::{Arc, OnceLock};

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The function's name in plans.
const NAME: &str = "mltest_epoch_seconds";

/// Date-and-time formats, in the order polars tries them.
const DATETIME: [&str; 5] = [
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%MZ",
    "%Y-%m-%dT%H:%M",
];

/// Unix seconds of an ISO 8601 text, at millisecond resolution (as polars
/// reads it: a millisecond timestamp divided by 1,000).
pub(crate) fn parse(text: &str) -> Option<f64> {
    let ms = DATETIME
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?
        .and_utc()
        .timestamp_millis();
    Some(ms as f64 / 1000.0)
}

/// The scalar function `mltest_epoch_seconds(text) -> float64`.
pub(super) fn epoch_seconds_udf() -> Arc<ScalarUDF> {
    static UDF: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    UDF.get_or_init(|| {
        Arc::new(create_udf(
            NAME,
            vec![DataType::Utf8],
            DataType::Float64,
            Volatility::Immutable,
            Arc::new(|args: &[ColumnarValue]| {
                let arrays = ColumnarValue::values_to_arrays(args)?;
                let text = as_string_array(&arrays[0])?;
                let out: Float64Array = (0..text.len())
                    .map(|i| {
                        if text.is_null(i) {
                            None
                        } else {
                            parse(text.value(i))
                        }
                    })
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        ))
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn iso_texts_parse_as_polars_reads_them() {
        assert_eq!(parse("1970-01-02"), Some(86_400.0));
        assert_eq!(parse("1970-01-01T00:00:01.5Z"), Some(1.5));
        assert_eq!(parse("1970-01-01 00:01:00"), Some(60.0));
        assert_eq!(parse("1970-01-01T00:02"), Some(120.0));
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2024-13-01"), None);
    }
}
