use polars::prelude::DataType;
use serde::{Deserialize, Serialize};

/// The logical column types expectations talk about, independent of polars'
/// physical types (an `Int32` and an `Int64` column are both [`DType::Integer`]).
///
/// There are seven; text is `Text` (there is no `String` variant):
///
/// | variant | a required column of this type may have the polars dtype | [`LoadOptions::dtype`](crate::LoadOptions::dtype) reads the column as |
/// |---|---|---|
/// | [`Integer`](DType::Integer) | `Int8`, `Int16`, `Int32`, `Int64`, `UInt8`, `UInt16`, `UInt32`, `UInt64` | `Int64` |
/// | [`Float`](DType::Float) | `Float32`, `Float64` | `Float64` |
/// | [`Numeric`](DType::Numeric) | any of `Integer`'s or `Float`'s | `Float64` |
/// | [`Text`](DType::Text) | `String`, and `Categorical`/`Enum` (category labels are text) | `String` |
/// | [`Categorical`](DType::Categorical) | `Categorical`, `Enum` | `String` (a CSV has no categorical type: require `Text` of CSV columns) |
/// | [`Boolean`](DType::Boolean) | `Boolean` | `Boolean` |
/// | [`Other`](DType::Other) | anything else: `Date`, `Datetime`, `Duration`, `Time`, `List`, `Struct`, `Binary`, `Decimal`, `Null` | `String` |
///
/// Numeric checks (mean, quantiles, ranges) need `Numeric`, text checks
/// (lengths, patterns, empty fraction) need `Text`; a column of another
/// type fails the check with an error naming both types. [`DType::of`]
/// maps a polars dtype to its variant, [`DType::accepts`] is the table's
/// second column.
///
/// ```
/// use mltest_core::DType;
/// use polars::prelude::DataType;
/// assert!(DType::Numeric.accepts(DType::Integer));
/// assert!(!DType::Integer.accepts(DType::Float));
/// assert_eq!(DType::of(&DataType::String), DType::Text);
/// assert_eq!(DType::of(&DataType::UInt8), DType::Integer);
/// assert!(DType::Text.accepts(DType::Categorical));
/// // In a schema check:
/// let frame = polars::df!("Age" => [30i64], "Review Text" => ["fits"]).unwrap();
/// let data = mltest_core::Dataset::from_frame("t", frame);
/// let schema = data.schema().requires([("Age", DType::Integer), ("Review Text", DType::Text)]);
/// assert!(data.evaluate_one(schema).passed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DType {
    /// Signed or unsigned integers.
    Integer,
    /// Floating point numbers.
    Float,
    /// Integer or float: what a numeric check needs.
    Numeric,
    /// UTF-8 text (free text or category labels).
    Text,
    /// polars' categorical type.
    Categorical,
    /// true/false.
    Boolean,
    /// Anything else (dates, lists, ...).
    Other,
}

impl DType {
    /// The logical type of a polars dtype.
    pub fn of(dt: &DataType) -> DType {
        if dt.is_integer() {
            DType::Integer
        } else if dt.is_float() {
            DType::Float
        } else if matches!(dt, DataType::String) {
            DType::Text
        } else if matches!(dt, DataType::Categorical(..) | DataType::Enum(..)) {
            DType::Categorical
        } else if matches!(dt, DataType::Boolean) {
            DType::Boolean
        } else {
            DType::Other
        }
    }

    /// Whether a column of type `actual` satisfies this expected type.
    pub fn accepts(self, actual: DType) -> bool {
        match self {
            DType::Numeric => matches!(actual, DType::Integer | DType::Float),
            DType::Text => matches!(actual, DType::Text | DType::Categorical),
            other => other == actual,
        }
    }

    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            DType::Integer => "integer",
            DType::Float => "float",
            DType::Numeric => "numeric",
            DType::Text => "text",
            DType::Categorical => "categorical",
            DType::Boolean => "boolean",
            DType::Other => "other",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
