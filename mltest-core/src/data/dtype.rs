use polars::prelude::DataType;
use serde::{Deserialize, Serialize};

/// The logical column types expectations talk about, independent of polars'
/// physical types (an `Int32` and an `Int64` column are both [`DType::Integer`]).
///
/// ```
/// use mltest_core::DType;
/// assert!(DType::Numeric.accepts(DType::Integer));
/// assert!(!DType::Integer.accepts(DType::Float));
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
