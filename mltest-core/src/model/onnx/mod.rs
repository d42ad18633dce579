//! Models trained anywhere and exported to ONNX (scikit-learn through
//! skl2onnx, PyTorch through `torch.onnx`), run by the pure-Rust runtime
//! tract-onnx: no Python and no C++ runtime at test time.
//!
//! The card maps polars columns to the graph's named inputs
//! ([`OnnxInput`]: one graph input takes one or more columns, in order, as
//! `[N, columns]` of float32, int64 or string), names the output read
//! (class probabilities `[N, classes]` or values `[N, 1]`), and records the
//! sha256 of the ONNX bytes: a version whose bytes do not hash to it is
//! refused on load. In the store the bytes are one `u8` tensor, `onnx`.
//!
//! What tract runs: the standard ONNX operators and, of `ai.onnx.ml`,
//! LinearClassifier, LinearRegressor, Normalizer, CategoryMapper and
//! TreeEnsembleClassifier. skl2onnx's Scaler, OneHotEncoder, Imputer,
//! ZipMap and TreeEnsembleRegressor are not among them; export with
//! `zipmap=False` and rewrite Scaler/OneHotEncoder into standard operators
//! (`tests/onnx/train_export.py` does, and checks the rewrite against
//! onnxruntime). A graph with an operator tract lacks is refused with the
//! operator's name and node.

mod runtime;

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use runtime::{Column as RtColumn, InputSpec, Runtime};
pub use runtime::{InputDtype, OnnxError, UnsupportedOp};

use super::{Model, ModelError, Predictions, StoredModel};
use crate::store::{Card, DTypeTag, OutputSchema, Task, Tensor, Tensors};

/// The card's `pipeline.kind` of an ONNX model.
pub const KIND: &str = "mltest.onnx.v1";

/// One graph input and the data columns it takes, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnnxInput {
    /// The graph input's name.
    pub name: String,
    /// Data columns, concatenated along the second axis.
    pub columns: Vec<String>,
    pub dtype: InputDtype,
}

/// What the card's pipeline records of an ONNX model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct OnnxPipeline {
    kind: String,
    inputs: Vec<OnnxInput>,
    output: String,
    onnx_sha256: String,
}

/// An ONNX graph as a [`Model`]: binary or multiclass probabilities, or
/// regression values, as its card's output schema says.
///
/// ```no_run
/// use mltest_core::model::{Model, OnnxModel};
/// let m = OnnxModel::from_export("models/binary.onnx", "models/binary.json").unwrap();
/// assert_eq!(m.card().output.label, "Recommended IND");
/// ```
#[derive(Clone)]
pub struct OnnxModel {
    card: Card,
    bytes: Arc<Vec<u8>>,
    pipeline: OnnxPipeline,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("card", &self.card.display_id())
            .field("inputs", &self.pipeline.inputs)
            .field("output", &self.pipeline.output)
            .finish_non_exhaustive()
    }
}

fn onnx_error(card: &Card, e: OnnxError) -> ModelError {
    ModelError::Output {
        model: card.display_id(),
        problem: format!("ONNX: {e}"),
    }
}

impl OnnxModel {
    /// Loads `bytes` with the card (its output schema says the task and the
    /// classes), the inputs and the output to read. Checks the operators,
    /// the input names and dtypes and the output's shape now, not at the
    /// first prediction.
    pub fn from_bytes(
        bytes: Vec<u8>,
        mut card: Card,
        inputs: Vec<OnnxInput>,
        output: &str,
    ) -> Result<Self, ModelError> {
        let width = match card.output.task {
            Task::Regression => 1,
            _ => card.output.classes.len(),
        };
        let specs: Vec<InputSpec> = inputs
            .iter()
            .map(|i| InputSpec {
                name: i.name.clone(),
                dtype: i.dtype,
                n_columns: i.columns.len(),
            })
            .collect();
        let runtime =
            Runtime::load(&bytes, &specs, output, width).map_err(|e| onnx_error(&card, e))?;
        let pipeline = OnnxPipeline {
            kind: KIND.into(),
            inputs,
            output: output.into(),
            onnx_sha256: crate::hash::sha256_hex(&bytes),
        };
        card.pipeline = serde_json::to_value(&pipeline).unwrap_or_default();
        Ok(OnnxModel {
            card,
            bytes: Arc::new(bytes),
            pipeline,
            runtime: Arc::new(runtime),
        })
    }

    /// Loads an ONNX file and the JSON description `tests/onnx/train_export.py`
    /// writes beside it: `inputs` (name, columns, dtype), `outputs`
    /// (`probabilities` or `value`: the graph output), `task`, `label`,
    /// `classes`, `positive_class`, and `schema`: the card's input schema
    /// (per column: `dtype`, `range`, `std`, `categories`, `nullable`, as
    /// training saw them).
    pub fn from_export(onnx: impl AsRef<Path>, json: impl AsRef<Path>) -> Result<Self, ModelError> {
        let (onnx, json) = (onnx.as_ref(), json.as_ref());
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| ModelError::Input(format!("{}: {e}", p.display())))
        };
        let bytes = read(onnx)?;
        let bad = |why: String| ModelError::Input(format!("{}: {why}", json.display()));
        let desc: serde_json::Value =
            serde_json::from_slice(&read(json)?).map_err(|e| bad(e.to_string()))?;
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let label = desc["label"]
            .as_str()
            .ok_or_else(|| bad("no \"label\"".into()))?;
        let classes: Vec<String> = desc["classes"]
            .as_array()
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default();
        let output = match desc["task"].as_str() {
            Some("binary") => {
                let [a, b] = <[String; 2]>::try_from(classes.clone()).map_err(|_| {
                    bad(format!(
                        "a binary model has 2 classes, not {}",
                        classes.len()
                    ))
                })?;
                OutputSchema::binary(label, [a, b], text(&desc["positive_class"]))
            }
            Some("multiclass") => OutputSchema::multiclass(label, classes),
            Some("regression") => OutputSchema::regression(label),
            other => {
                return Err(bad(format!(
                    "task {other:?}; expected binary, multiclass or regression"
                )));
            }
        };
        let graph_output = desc["outputs"]["probabilities"]
            .as_str()
            .or_else(|| desc["outputs"]["value"].as_str())
            .ok_or_else(|| bad("no outputs.probabilities or outputs.value".into()))?;
        let inputs: Vec<OnnxInput> = serde_json::from_value(desc["inputs"].clone())
            .map_err(|e| bad(format!("inputs: {e}")))?;
        let mut card = Card::new(output);
        // Named by its file until the store names it `NAME@VERSION`.
        card.name = onnx
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        card.description = Some(format!("ONNX graph {}", onnx.display()));
        // What training saw of each input (ranges, spreads, categories):
        // the facts robustness perturbations keep rows legal by.
        if let Some(schema) = desc.get("schema") {
            card.inputs =
                serde_json::from_value(schema.clone()).map_err(|e| bad(format!("schema: {e}")))?;
        }
        OnnxModel::from_bytes(bytes, card, inputs, graph_output)
    }

    /// The graph inputs and the columns each takes.
    pub fn inputs(&self) -> &[OnnxInput] {
        &self.pipeline.inputs
    }

    /// The card, to fill in (input schema, metrics) before saving.
    pub fn card_mut(&mut self) -> &mut Card {
        &mut self.card
    }

    fn columns(&self, rows: &DataFrame) -> Result<Vec<(String, Vec<RtColumn>)>, ModelError> {
        let model = self.card.display_id();
        let bad = |column: &str, why: String| {
            ModelError::Input(format!("{model}: column {column:?} {why}"))
        };
        self.pipeline
            .inputs
            .iter()
            .map(|input| {
                let cols = input
                    .columns
                    .iter()
                    .map(|name| {
                        let c = rows.column(name).map_err(|_| ModelError::MissingColumn {
                            column: name.clone(),
                            available: crate::data::column_names(rows),
                        })?;
                        Ok(match input.dtype {
                            // A missing number is NaN, as numpy hands it to scikit-learn.
                            InputDtype::Float32 => {
                                let c = c.cast(&DataType::Float32).map_err(|e| bad(name, format!("is not numeric: {e}")))?;
                                let c = c.f32().map_err(|e| bad(name, e.to_string()))?;
                                RtColumn::F32(c.iter().map(|v| v.unwrap_or(f32::NAN)).collect())
                            }
                            InputDtype::Int64 => {
                                let c = c.cast(&DataType::Int64).map_err(|e| bad(name, format!("is not an integer: {e}")))?;
                                if c.null_count() > 0 {
                                    return Err(bad(name, format!("has {} missing values; an int64 graph input has no missing value", c.null_count())));
                                }
                                RtColumn::I64(c.i64().map_err(|e| bad(name, e.to_string()))?.into_no_null_iter().collect())
                            }
                            InputDtype::String => {
                                let c = c.cast(&DataType::String).map_err(|e| bad(name, e.to_string()))?;
                                let c = c.str().map_err(|e| bad(name, e.to_string()))?;
                                RtColumn::Str(c.iter().map(|v| v.unwrap_or("").to_string()).collect())
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, ModelError>>()?;
                Ok((input.name.clone(), cols))
            })
            .collect()
    }
}

impl Model for OnnxModel {
    fn card(&self) -> &Card {
        &self.card
    }

    fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
        let columns = self.columns(rows)?;
        let borrowed: Vec<(&str, &[RtColumn])> = columns
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        let out = self
            .runtime
            .predict(&borrowed)
            .map_err(|e| onnx_error(&self.card, e))?;
        let o = &self.card.output;
        Ok(match o.task {
            Task::Regression => Predictions::regression(out.values),
            Task::Multiclass => Predictions::Multiclass {
                classes: out.width,
                probs: out.values,
            },
            Task::Binary => {
                let pos = o.class_index(&o.positive_class).unwrap_or(1);
                Predictions::binary(
                    out.values
                        .chunks(out.width.max(1))
                        .map(|r| r[pos.min(r.len() - 1)])
                        .collect(),
                )
            }
        })
    }
}

impl StoredModel for OnnxModel {
    const KIND: &'static str = KIND;

    fn to_tensors(&self) -> Tensors {
        Tensors::from([(
            "onnx".to_string(),
            Tensor {
                dtype: DTypeTag::U8,
                shape: vec![self.bytes.len()],
                data: (*self.bytes).clone(),
            },
        )])
    }

    /// Refuses bytes whose sha256 is not the card's `onnx_sha256`.
    fn from_stored(card: Card, tensors: Tensors) -> Result<Self, ModelError> {
        let fmt = |why: String| ModelError::Format {
            expected: "ONNX model",
            why: format!("{}: {why}", card.id()),
        };
        let pipeline: OnnxPipeline = serde_json::from_value(card.pipeline.clone())
            .map_err(|e| fmt(format!("pipeline: {e}")))?;
        let t = tensors
            .get("onnx")
            .filter(|t| t.dtype == DTypeTag::U8)
            .ok_or_else(|| fmt("no u8 tensor \"onnx\"".into()))?;
        let sha = crate::hash::sha256_hex(&t.data);
        if sha != pipeline.onnx_sha256 {
            return Err(fmt(format!(
                "the ONNX bytes hash to {sha}, but the card records {}: refusing a tampered graph",
                pipeline.onnx_sha256
            )));
        }
        let output = pipeline.output.clone();
        OnnxModel::from_bytes(t.data.clone(), card, pipeline.inputs, &output)
    }
}
