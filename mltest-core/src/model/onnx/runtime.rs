//! tract-facing core for running scikit-learn models exported to ONNX.
//!
//! Pure Rust (tract-onnx 0.23.9, `default-features = false`). Load once with
//! [`Runtime::load`] (parses, checks the operators and the input contract,
//! types and optimises the graph with a symbolic batch dimension `N`), then
//! call [`Runtime::predict`] for any number of rows.
//!
//! Every failure is an [`OnnxError`]; tract panics during load/run are caught
//! and reported as [`OnnxError::Runtime`].

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tract_onnx::pb;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;
use tract_onnx::tract_hir::ops::unimpl::UnimplementedOp;

/// Element type of one graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputDtype {
    Float32,
    Int64,
    String,
}

impl InputDtype {
    fn datum_type(self) -> DatumType {
        match self {
            InputDtype::Float32 => f32::datum_type(),
            InputDtype::Int64 => i64::datum_type(),
            InputDtype::String => String::datum_type(),
        }
    }
}

/// One graph input: its name, element type and width (`[N, n_columns]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    pub name: String,
    pub dtype: InputDtype,
    pub n_columns: usize,
}

/// Values of one data-frame column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    F32(Vec<f32>),
    I64(Vec<i64>),
    Str(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::F32(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::Str(v) => v.len(),
        }
    }
    fn dtype(&self) -> InputDtype {
        match self {
            Column::F32(_) => InputDtype::Float32,
            Column::I64(_) => InputDtype::Int64,
            Column::Str(_) => InputDtype::String,
        }
    }
}

/// Row-major model output: `values[r * width + c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxOutput {
    pub rows: usize,
    pub width: usize,
    pub values: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("not an ONNX model: {0}")]
    NotOnnx(String),
    #[error("unsupported ONNX operator{}: {}", if .0.len() > 1 { "s" } else { "" },
            .0.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", "))]
    UnsupportedOperator(Vec<UnsupportedOp>),
    #[error("graph inputs do not match the spec: expected {expected:?}, found {found:?}")]
    InputNames {
        expected: Vec<String>,
        found: Vec<String>,
    },
    #[error("graph input `{name}`: {problem}")]
    InputType { name: String, problem: String },
    #[error("graph has no output `{wanted}`; outputs: {available:?}")]
    OutputName {
        wanted: String,
        available: Vec<String>,
    },
    #[error("output `{output}` is {dtype} {shape:?}, expected {expected}")]
    OutputShape {
        output: String,
        dtype: String,
        shape: Vec<String>,
        expected: String,
    },
    #[error("input data: {0}")]
    Data(String),
    #[error("tract: {0}")]
    Runtime(String),
}

/// An operator tract cannot run: `domain:op_type` and the node's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedOp {
    pub domain: String,
    pub op_type: String,
    pub node: String,
}

impl std::fmt::Display for UnsupportedOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = if self.domain.is_empty() {
            "ai.onnx"
        } else {
            &self.domain
        };
        write!(f, "{d}:{} (node `{}`)", self.op_type, self.node)
    }
}

/// Domains whose op types tract's register (keyed by op type alone) stands for.
const KNOWN_DOMAINS: &[&str] = &["", "ai.onnx", "ai.onnx.ml", "com.microsoft"];

fn tract_err(e: impl std::fmt::Display) -> OnnxError {
    // `{:#}` of an anyhow error prints the context chain on one line, without backtrace.
    OnnxError::Runtime(format!("{e:#}"))
}

fn guarded<T>(f: impl FnOnce() -> Result<T, OnnxError>) -> Result<T, OnnxError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(OnnxError::Runtime(format!(
            "panicked: {}",
            crate::text::panic_text(p)
        )))
    })
}

/// Every node of `graph` and its sub-graphs (If/Loop/Scan bodies).
fn collect_unsupported(
    graph: &pb::GraphProto,
    known: &dyn Fn(&str) -> bool,
    out: &mut Vec<UnsupportedOp>,
) {
    for n in &graph.node {
        if !KNOWN_DOMAINS.contains(&n.domain.as_str()) || !known(&n.op_type) {
            out.push(UnsupportedOp {
                domain: n.domain.clone(),
                op_type: n.op_type.clone(),
                node: n.name.clone(),
            });
        }
        for a in &n.attribute {
            if let Some(g) = &a.g {
                collect_unsupported(g, known, out);
            }
            for g in &a.graphs {
                collect_unsupported(g, known, out);
            }
        }
    }
}

/// A loaded, optimised model ready to run on batches of any size.
pub struct Runtime {
    plan: Arc<TypedRunnableModel>,
    specs: Vec<InputSpec>,
    output: String,
    width: usize,
}

impl Runtime {
    /// Parse `bytes`, check operators and inputs against `specs` (in any
    /// order: inputs are matched by name), keep only the output `output`,
    /// and check that it is `[N, width]` (or `[N]` when `width == 1`).
    pub fn load(
        bytes: &[u8],
        specs: &[InputSpec],
        output: &str,
        width: usize,
    ) -> Result<Runtime, OnnxError> {
        guarded(|| Self::load_inner(bytes, specs, output, width))
    }

    fn load_inner(
        bytes: &[u8],
        specs: &[InputSpec],
        output: &str,
        width: usize,
    ) -> Result<Runtime, OnnxError> {
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|e| OnnxError::NotOnnx(format!("{e:#}")))?;
        let graph = proto
            .graph
            .as_ref()
            .filter(|g| !g.node.is_empty() || !g.output.is_empty())
            .ok_or_else(|| OnnxError::NotOnnx("protobuf decodes but holds no graph".into()))?;
        if proto.opset_import.is_empty() {
            return Err(OnnxError::NotOnnx(
                "no opset_import (truncated file?)".into(),
            ));
        }

        let mut unsupported = vec![];
        collect_unsupported(
            graph,
            &|op| onnx.op_register.0.contains_key(op),
            &mut unsupported,
        );
        if !unsupported.is_empty() {
            return Err(OnnxError::UnsupportedOperator(unsupported));
        }

        if let Some(s) = specs.iter().find(|s| s.n_columns == 0) {
            return Err(OnnxError::InputType {
                name: s.name.clone(),
                problem: "n_columns is 0".into(),
            });
        }
        let initializers: BTreeSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let found: Vec<String> = graph
            .input
            .iter()
            .filter(|i| !initializers.contains(i.name.as_str()))
            .map(|i| i.name.clone())
            .collect();
        let expected: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let (fs, es): (BTreeSet<_>, BTreeSet<_>) =
            (found.iter().collect(), expected.iter().collect());
        if fs != es || found.len() != expected.len() {
            return Err(OnnxError::InputNames { expected, found });
        }
        if !graph.output.iter().any(|o| o.name == output) {
            return Err(OnnxError::OutputName {
                wanted: output.into(),
                available: graph.output.iter().map(|o| o.name.clone()).collect(),
            });
        }

        let mut model = onnx.model_for_proto_model(&proto).map_err(tract_err)?;
        if let Some(n) = model.nodes().iter().find(|n| n.op_is::<UnimplementedOp>()) {
            return Err(OnnxError::UnsupportedOperator(vec![UnsupportedOp {
                domain: String::new(),
                op_type: n.op.name().to_string(),
                node: n.name.clone(),
            }]));
        }

        // Inputs in graph order, each given the fact [N, n_columns] of its dtype.
        let batch = model.sym("N");
        let mut ordered = Vec::with_capacity(specs.len());
        for (ix, name) in found.iter().enumerate() {
            let spec = specs
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| OnnxError::Runtime(format!("no spec for input {name}")))?;
            let declared = model.input_fact(ix).map_err(tract_err)?;
            if let Some(dt) = declared.datum_type.concretize()
                && dt != spec.dtype.datum_type()
            {
                return Err(OnnxError::InputType {
                    name: name.clone(),
                    problem: format!("graph wants {dt:?}, spec says {:?}", spec.dtype),
                });
            }
            if !declared.shape.is_open() {
                let dims: Vec<Option<TDim>> =
                    declared.shape.dims().map(|d| d.concretize()).collect();
                let width = dims.get(1).cloned().flatten().and_then(|d| d.to_i64().ok());
                if dims.len() != 2 || width.is_some_and(|w| w != spec.n_columns as i64) {
                    let shown: Vec<String> = dims
                        .iter()
                        .map(|d| d.as_ref().map_or("?".into(), |d| d.to_string()))
                        .collect();
                    return Err(OnnxError::InputType {
                        name: name.clone(),
                        problem: format!(
                            "graph declares shape [{}], spec says [N, {}]",
                            shown.join(", "),
                            spec.n_columns
                        ),
                    });
                }
            }
            let fact = InferenceFact::dt_shape(
                spec.dtype.datum_type(),
                tvec![batch.to_dim(), spec.n_columns.to_dim()],
            );
            model.set_input_fact(ix, fact).map_err(tract_err)?;
            ordered.push(spec.clone());
        }
        model.select_outputs_by_name([output]).map_err(tract_err)?;

        let typed = model.into_optimized().map_err(tract_err)?;
        let fact = typed.output_fact(0).map_err(tract_err)?;
        let dims: Vec<TDim> = fact.shape.to_tvec().into_vec();
        let shape_ok = match dims.as_slice() {
            [n] => width == 1 && *n == batch.to_dim(),
            [n, w] => *n == batch.to_dim() && *w == width.to_dim(),
            _ => false,
        };
        if !shape_ok || fact.datum_type != f32::datum_type() && fact.datum_type != f64::datum_type()
        {
            return Err(OnnxError::OutputShape {
                output: output.into(),
                dtype: format!("{:?}", fact.datum_type),
                shape: dims.iter().map(|d| d.to_string()).collect(),
                expected: format!("F32/F64 [N, {width}]"),
            });
        }
        let plan = typed.into_runnable().map_err(tract_err)?;
        Ok(Runtime {
            plan,
            specs: ordered,
            output: output.into(),
            width,
        })
    }

    /// `columns[name]` holds the input's `n_columns` columns, all of one length.
    pub fn predict(&self, columns: &[(&str, &[Column])]) -> Result<OnnxOutput, OnnxError> {
        guarded(|| self.predict_inner(columns))
    }

    fn predict_inner(&self, columns: &[(&str, &[Column])]) -> Result<OnnxOutput, OnnxError> {
        let mut rows = None;
        let mut tensors: TVec<TValue> = tvec![];
        for spec in &self.specs {
            let cols = columns
                .iter()
                .find(|(n, _)| *n == spec.name)
                .map(|(_, c)| *c)
                .ok_or_else(|| OnnxError::Data(format!("no data for input `{}`", spec.name)))?;
            if cols.len() != spec.n_columns {
                return Err(OnnxError::Data(format!(
                    "input `{}` wants {} columns, got {}",
                    spec.name,
                    spec.n_columns,
                    cols.len()
                )));
            }
            for c in cols {
                if c.dtype() != spec.dtype {
                    return Err(OnnxError::Data(format!(
                        "input `{}` wants {:?} columns, got {:?}",
                        spec.name,
                        spec.dtype,
                        c.dtype()
                    )));
                }
                match rows {
                    None => rows = Some(c.len()),
                    Some(r) if r != c.len() => {
                        return Err(OnnxError::Data(format!(
                            "column lengths differ: {r} and {} (input `{}`)",
                            c.len(),
                            spec.name
                        )));
                    }
                    _ => {}
                }
            }
            let n = rows.unwrap_or(0);
            tensors.push(
                interleave(cols, n, spec.n_columns)
                    .map_err(tract_err)?
                    .into_tvalue(),
            );
        }
        let rows = rows.unwrap_or(0);
        if rows == 0 {
            return Ok(OnnxOutput {
                rows: 0,
                width: self.width,
                values: vec![],
            });
        }
        let out = self.plan.run(tensors).map_err(tract_err)?;
        let t = out
            .first()
            .ok_or_else(|| OnnxError::Runtime("no output".into()))?;
        let expected_shape = [rows, self.width];
        if !(t.shape() == expected_shape || (self.width == 1 && t.shape() == [rows])) {
            return Err(OnnxError::OutputShape {
                output: self.output.clone(),
                dtype: format!("{:?}", t.datum_type()),
                shape: t.shape().iter().map(|d| d.to_string()).collect(),
                expected: format!("{expected_shape:?}"),
            });
        }
        let t = t.cast_to::<f64>().map_err(tract_err)?;
        let values: Vec<f64> = t
            .to_plain_array_view::<f64>()
            .map_err(tract_err)?
            .iter()
            .copied()
            .collect();
        Ok(OnnxOutput {
            rows,
            width: self.width,
            values,
        })
    }
}

/// Columns -> one row-major `[rows, k]` tensor.
fn interleave(cols: &[Column], rows: usize, k: usize) -> TractResult<Tensor> {
    fn gather<T: Clone>(cols: &[&Vec<T>], rows: usize) -> Vec<T> {
        let mut v = Vec::with_capacity(rows * cols.len());
        for r in 0..rows {
            v.extend(cols.iter().map(|c| c[r].clone()));
        }
        v
    }
    macro_rules! typed {
        ($variant:ident) => {{
            let cs: Vec<_> = cols
                .iter()
                .map(|c| match c {
                    Column::$variant(v) => v,
                    _ => unreachable!("dtype checked"),
                })
                .collect();
            tract_ndarray::Array2::from_shape_vec((rows, k), gather(&cs, rows))?.into_tensor()
        }};
    }
    Ok(match cols[0] {
        Column::F32(_) => typed!(F32),
        Column::I64(_) => typed!(I64),
        Column::Str(_) => typed!(Str),
    })
}
