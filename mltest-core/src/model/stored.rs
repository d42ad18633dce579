//! Models in the store: a [`StoredModel`] turns itself into tensors plus a
//! card and back. The card's `pipeline.kind` records the type, so
//! `mltest models show` says what a version is, [`ModelStore::load_as`]
//! refuses a version of another type, and [`load_any`] rebuilds a version
//! of any registered type behind `dyn Model` (what a `model = "NAME@ALIAS"`
//! attribute loads). Integrity checks, atomic writes and the promotion gate
//! are the store's, the same for every type.

use std::sync::Arc;

use super::{Model, ModelError};
use crate::store::{Card, ModelStore, StoreError, StoredVersion, Tensors};

/// A model type the store can save and load.
///
/// ```
/// use mltest_core::model::{Model, ModelError, Predictions, StoredModel};
/// use mltest_core::store::{Card, ModelStore, OutputSchema, Tensor, Tensors};
/// use polars::prelude::*;
///
/// /// y = a·x + b.
/// struct Line { card: Card, a: f64, b: f64 }
/// impl Model for Line {
///     fn card(&self) -> &Card { &self.card }
///     fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
///         let x = rows.column("x").and_then(|c| c.cast(&DataType::Float64))
///             .map_err(|e| ModelError::Input(e.to_string()))?;
///         let x = x.f64().map_err(|e| ModelError::Input(e.to_string()))?;
///         Ok(Predictions::regression(x.iter().map(|v| self.a * v.unwrap_or(0.0) + self.b).collect()))
///     }
/// }
/// impl StoredModel for Line {
///     const KIND: &'static str = "example.line.v1";
///     fn to_tensors(&self) -> Tensors {
///         Tensors::from([("ab".to_string(), Tensor::f64(vec![2], &[self.a, self.b]))])
///     }
///     fn from_stored(card: Card, tensors: Tensors) -> Result<Self, ModelError> {
///         let ab = tensors.get("ab").and_then(Tensor::to_f64).filter(|v| v.len() == 2)
///             .ok_or(ModelError::Format { expected: "line", why: "no tensor ab of 2 f64".into() })?;
///         Ok(Line { card, a: ab[0], b: ab[1] })
///     }
/// }
/// let dir = tempfile::tempdir().unwrap();
/// let store = ModelStore::open(dir.path());
/// let line = Line { card: Card::new(OutputSchema::regression("y")), a: 2.0, b: 1.0 };
/// let id = line.save(&store, "line").unwrap();
/// let back: Line = store.load_as(&id).unwrap();
/// assert_eq!((back.a, back.b, back.card().kind()), (2.0, 1.0, Some("example.line.v1")));
/// ```
pub trait StoredModel: Model + Sized {
    /// The type's tag in the card (`pipeline.kind`); version it (`.v1`)
    /// when the tensor layout may change.
    const KIND: &'static str;

    /// The tensors that, with the card, rebuild the model.
    fn to_tensors(&self) -> Tensors;

    /// Rebuilds the model from what [`to_tensors`](Self::to_tensors) and the
    /// card gave. The store has verified the file's sha256 and the card's
    /// `tensors_sha256` before this runs.
    fn from_stored(card: Card, tensors: Tensors) -> Result<Self, ModelError>;

    /// Saves a new version of `name`; returns its id.
    fn save(&self, store: &ModelStore, name: &str) -> Result<String, StoreError> {
        store.save_model(name, self)
    }
}

/// A registered model type, for [`load_any`]. The built-in types are
/// known to it; register yours with [`register_model_kind!`](crate::register_model_kind).
pub struct ModelKind {
    pub kind: &'static str,
    pub load: fn(StoredVersion) -> Result<Arc<dyn Model>, ModelError>,
}

/// Every model type linked into this binary.
#[linkme::distributed_slice]
pub static MODEL_KINDS: [ModelKind];

/// Registers a [`StoredModel`] type so that `model = "NAME@ALIAS"`
/// attributes (and [`load_any`]) can load its versions. Register it next
/// to the type's impls (the linker keeps the entry with the code it sits
/// beside).
///
/// ```ignore
/// mltest::register_model_kind!(my_crate::Line);
/// ```
#[macro_export]
macro_rules! register_model_kind {
    ($t:ty) => {
        const _: () = {
            #[$crate::__linkme::distributed_slice($crate::model::MODEL_KINDS)]
            #[linkme(crate = $crate::__linkme)]
            static KIND: $crate::model::ModelKind = $crate::model::ModelKind {
                kind: <$t as $crate::model::StoredModel>::KIND,
                load: |v| {
                    <$t as $crate::model::StoredModel>::from_stored(v.card, v.tensors).map(|m| {
                        ::std::sync::Arc::new(m) as ::std::sync::Arc<dyn $crate::model::Model>
                    })
                },
            };
        };
    };
}

#[cfg(feature = "onnx")]
const BUILT_IN: usize = 2;
#[cfg(not(feature = "onnx"))]
const BUILT_IN: usize = 1;

fn load<M: StoredModel + 'static>(v: StoredVersion) -> Result<Arc<dyn Model>, ModelError> {
    M::from_stored(v.card, v.tensors).map(|m| Arc::new(m) as Arc<dyn Model>)
}

fn built_in() -> [ModelKind; BUILT_IN] {
    [
        ModelKind {
            kind: super::ReferenceModel::KIND,
            load: load::<super::ReferenceModel>,
        },
        #[cfg(feature = "onnx")]
        ModelKind {
            kind: super::OnnxModel::KIND,
            load: load::<super::OnnxModel>,
        },
    ]
}

/// Loads `id` and rebuilds it as whatever type its card names: a built-in
/// one, or one registered with [`register_model_kind!`](crate::register_model_kind).
/// A registration in a library crate that nothing else of its module is
/// used from may be dropped by the linker; a fixture that calls
/// [`ModelStore::load_as`] never depends on it.
pub fn load_any(
    store: &ModelStore,
    id: &str,
) -> Result<(Arc<dyn Model>, StoredVersion), ModelError> {
    let version = store.load(id)?;
    let kind = version.card.kind().unwrap_or("none").to_string();
    // The built-in types are matched here, not through the linker-gathered
    // slice: a slice entry in a dependency's object file that nothing else
    // references can be dropped by the linker (linkme#36, rust#47384).
    let built_in: [ModelKind; BUILT_IN] = built_in();
    let Some(k) = built_in
        .iter()
        .chain(MODEL_KINDS.iter())
        .find(|k| k.kind == kind)
    else {
        let mut known: Vec<&str> = built_in
            .iter()
            .chain(MODEL_KINDS.iter())
            .map(|k| k.kind)
            .collect();
        known.dedup();
        known.sort();
        return Err(ModelError::Format {
            expected: "registered model type",
            why: format!(
                "{} is of kind {kind:?}, which no type in this binary loads (known: {}); \
                 register yours with mltest::register_model_kind!(Type)",
                version.card.id(),
                known.join(", ")
            ),
        });
    };
    let model = (k.load)(version.clone())?;
    Ok((model, version))
}

impl ModelStore {
    /// Saves a new version of `name` from a [`StoredModel`], recording its
    /// type in the card (`pipeline.kind`).
    pub fn save_model<M: StoredModel>(&self, name: &str, model: &M) -> Result<String, StoreError> {
        let mut card = model.card().clone();
        match &mut card.pipeline {
            serde_json::Value::Object(o) => {
                o.insert("kind".into(), M::KIND.into());
            }
            other => *other = serde_json::json!({ "kind": M::KIND }),
        }
        self.save(name, card, &model.to_tensors())
    }

    /// Loads `id` as a `M`, with the id and file sha256 records are keyed
    /// by: what a model fixture returns for a model from the store.
    pub fn load_handle<M: StoredModel + 'static>(
        &self,
        id: &str,
    ) -> Result<super::ModelHandle, ModelError> {
        let version = self.load(id)?;
        let (id, sha256) = (version.card.id(), version.sha256.clone());
        let model = check_kind::<M>(version)?;
        Ok(super::ModelHandle {
            model: Arc::new(model),
            id,
            sha256: Some(sha256),
        })
    }

    /// Loads `id` as a `M`: refuses a version whose card names another type.
    pub fn load_as<M: StoredModel>(&self, id: &str) -> Result<M, ModelError> {
        check_kind(self.load(id)?)
    }
}

fn check_kind<M: StoredModel>(version: StoredVersion) -> Result<M, ModelError> {
    match version.card.kind() {
        Some(k) if k == M::KIND => M::from_stored(version.card, version.tensors),
        other => Err(ModelError::Format {
            expected: M::KIND,
            why: format!(
                "{} was saved as kind {:?}",
                version.card.id(),
                other.unwrap_or("none")
            ),
        }),
    }
}
