//! The labels a classifier comparison reads, as class indices of the card.

use super::AbError;
use crate::model::{Model, Task};

/// The labelled rows of `data` and each one's class index in the card of
/// `model`: a binary label is 0/1 or false/true (1 and true the positive
/// class), a multiclass label is the class's name (a number is read as its
/// decimal text, so ratings 1..5 match classes "1".."5").
pub(crate) fn class_labels(
    data: &polars::prelude::DataFrame,
    label: &str,
    model: &dyn Model,
) -> Result<(polars::prelude::DataFrame, Vec<usize>), AbError> {
    use polars::prelude::DataType;
    let err = |why: String| AbError::Label {
        label: label.to_string(),
        why,
    };
    let col = data.column(label).map_err(|_| {
        err(format!(
            "not found; columns: {}",
            crate::data::column_names(data)
        ))
    })?;
    let rows = data
        .filter(&col.is_not_null())
        .map_err(|e| err(e.to_string()))?;
    let output = &model.card().output;
    let y = rows.column(label).map_err(|e| err(e.to_string()))?;
    let y: Vec<usize> = match output.task {
        Task::Binary => {
            let y = y
                .cast(&DataType::Float64)
                .map_err(|e| err(format!("is not 0/1: {e}")))?;
            let y = y.f64().map_err(|e| err(e.to_string()))?;
            let mut out = Vec::with_capacity(y.len());
            for (i, v) in y.iter().enumerate() {
                match v {
                    Some(v) if v == 0.0 || v == 1.0 => out.push(v as usize),
                    other => {
                        return Err(err(format!(
                            "row {i} holds {other:?}; a binary label is 0/1 or false/true"
                        )));
                    }
                }
            }
            out
        }
        _ => {
            let y = y.cast(&DataType::String).map_err(|e| err(e.to_string()))?;
            let y = y.str().map_err(|e| err(e.to_string()))?;
            let mut out = Vec::with_capacity(y.len());
            for (i, v) in y.iter().enumerate() {
                let v = v.unwrap_or_default();
                let v = v.strip_suffix(".0").unwrap_or(v);
                match output.class_index(v) {
                    Some(c) => out.push(c),
                    None => {
                        return Err(err(format!(
                            "row {i} holds {v:?}, which is not one of the classes of {}: {}",
                            model.card().display_id(),
                            output.classes.join(", ")
                        )));
                    }
                }
            }
            out
        }
    };
    Ok((rows, y))
}
