//! Model fixtures: what `#[robustness(model = my_model)]`, baselines,
//! prediction drift and A/B tests accept. A fixture is a function returning
//! any [`IntoModel`]: a type implementing [`Model`], a `Box<dyn Model>`, an
//! `Arc`, a store id (`"reviews@champion"`), or a `Result` of one of these.
//! [`shared`] runs each fixture once per test binary and hands every test
//! the same model, as data fixtures are loaded once.

use std::any::TypeId;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use super::{Model, ModelError, load_any};
use crate::store::ModelStore;

/// A model as a check uses it: the model, the id reports name it by, and
/// the sha256 of its stored file when it came from the store (what the
/// promotion gate keys recorded results by).
#[derive(Clone)]
pub struct ModelHandle {
    pub model: Arc<dyn Model>,
    pub id: String,
    pub sha256: Option<String>,
}

impl std::fmt::Debug for ModelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelHandle")
            .field("id", &self.id)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl ModelHandle {
    /// A model not from the store, named by its card. It has no file
    /// sha256, so no promotion gate record is keyed to it; a fixture that
    /// loads from the store returns [`ModelStore::load_handle`]'s handle,
    /// which has.
    pub fn new(model: impl Model + 'static) -> Self {
        let model: Arc<dyn Model> = Arc::new(model);
        let id = model.card().display_id();
        ModelHandle {
            model,
            id,
            sha256: None,
        }
    }
}

/// What a model fixture may return.
///
/// ```
/// use mltest_core::model::{IntoModel, Model, ModelError, Predictions};
/// use mltest_core::store::{Card, OutputSchema};
/// use polars::prelude::DataFrame;
/// struct Half(Card);
/// impl Model for Half {
///     fn card(&self) -> &Card { &self.0 }
///     fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
///         Ok(Predictions::binary(vec![0.5; rows.height()]))
///     }
/// }
/// let card = || Card::new(OutputSchema::binary("y", ["0", "1"], "1"));
/// assert!(Half(card()).into_model().is_ok());
/// assert!(Box::new(Half(card())).into_model().is_ok());
/// let failed: Result<Half, String> = Err("weights not downloaded".into());
/// assert!(failed.into_model().unwrap_err().to_string().contains("weights not downloaded"));
/// ```
pub trait IntoModel {
    fn into_model(self) -> Result<ModelHandle, ModelError>;
}

impl<M: Model + 'static> IntoModel for M {
    fn into_model(self) -> Result<ModelHandle, ModelError> {
        Ok(ModelHandle::new(self))
    }
}

impl IntoModel for ModelHandle {
    fn into_model(self) -> Result<ModelHandle, ModelError> {
        Ok(self)
    }
}

impl IntoModel for &str {
    fn into_model(self) -> Result<ModelHandle, ModelError> {
        from_store(self)
    }
}

impl IntoModel for String {
    fn into_model(self) -> Result<ModelHandle, ModelError> {
        from_store(&self)
    }
}

impl<T: IntoModel, E: std::fmt::Display> IntoModel for Result<T, E> {
    fn into_model(self) -> Result<ModelHandle, ModelError> {
        self.map_err(|e| ModelError::Input(e.to_string()))?
            .into_model()
    }
}

/// `NAME` alone means its champion.
fn full_id(id: &str) -> String {
    if id.contains('@') {
        id.to_string()
    } else {
        format!("{id}@champion")
    }
}

/// Loads a store id (`NAME@VERSION`, `NAME@ALIAS`, `NAME` for its
/// champion) from the default store (`MLTEST_MODEL_STORE`), once per test
/// binary, as whatever registered type its card names.
pub fn from_store(id: &str) -> Result<ModelHandle, ModelError> {
    type Loaded = Arc<OnceLock<Result<ModelHandle, String>>>;
    static BY_ID: OnceLock<Mutex<HashMap<String, Loaded>>> = OnceLock::new();
    let id = full_id(id);
    let cell = {
        let mut map = BY_ID
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(id.clone()).or_default().clone()
    };
    cell.get_or_init(|| from_store_at(&ModelStore::from_env(), &id).map_err(|e| e.to_string()))
        .clone()
        .map_err(|message| ModelError::Fixture {
            fixture: format!("{id:?}"),
            message,
        })
}

/// Runs a model fixture once per test binary and returns its model to
/// every caller; a fixture that fails (or panics) fails every test that
/// uses it, with the fixture's name and message.
///
/// ```
/// use mltest_core::model::{Model, ModelError, Predictions, shared};
/// use mltest_core::store::{Card, OutputSchema};
/// use polars::prelude::DataFrame;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// static BUILT: AtomicUsize = AtomicUsize::new(0);
/// struct Half(Card);
/// impl Model for Half {
///     fn card(&self) -> &Card { &self.0 }
///     fn predict(&self, rows: &DataFrame) -> Result<Predictions, ModelError> {
///         Ok(Predictions::binary(vec![0.5; rows.height()]))
///     }
/// }
/// fn half() -> Half {
///     BUILT.fetch_add(1, Ordering::SeqCst);
///     Half(Card::new(OutputSchema::binary("y", ["0", "1"], "1")))
/// }
/// let a = shared(half).unwrap();
/// let b = shared(half).unwrap();
/// assert_eq!(BUILT.load(Ordering::SeqCst), 1);
/// assert!(std::sync::Arc::ptr_eq(&a.model, &b.model));
/// ```
pub fn shared<F, R>(fixture: F) -> Result<ModelHandle, ModelError>
where
    F: Fn() -> R + 'static,
    R: IntoModel,
{
    type Built = Arc<OnceLock<Result<ModelHandle, String>>>;
    static BY_FIXTURE: OnceLock<Mutex<HashMap<TypeId, Built>>> = OnceLock::new();
    // Every fn item and closure has its own type: the fixture's identity,
    // whichever path a test names it by.
    let cell = {
        let mut map = BY_FIXTURE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(TypeId::of::<F>()).or_default().clone()
    };
    let name = fixture_name::<F>();
    cell.get_or_init(
        || match catch_unwind(AssertUnwindSafe(|| fixture().into_model())) {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(p) => Err(format!("panicked: {}", crate::text::panic_text(p))),
        },
    )
    .clone()
    .map_err(|message| ModelError::Fixture {
        fixture: name,
        message,
    })
}

/// `my_crate::fixtures::champion` for a fn item; closures keep their
/// `{{closure}}` path.
fn fixture_name<F>() -> String {
    std::any::type_name::<F>().to_string()
}

/// Where a check gets a model: a store id or a fixture function, as an
/// attribute names it (`model = "reviews@champion"`, `model = my_model`).
/// Both are resolved once per test binary.
///
/// ```
/// use mltest_core::model::ModelRef;
/// let m = ModelRef::Id("reviews");
/// assert_eq!(m.name(), "reviews@champion");
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ModelRef {
    /// `NAME@VERSION`, `NAME@ALIAS`, or `NAME` (its champion).
    Id(&'static str),
    /// A fixture: its name as written, and the call through [`shared`].
    Fixture {
        name: &'static str,
        load: fn() -> Result<ModelHandle, ModelError>,
    },
}

impl ModelRef {
    /// How reports name the model before it is loaded.
    pub fn name(&self) -> String {
        match self {
            ModelRef::Id(id) => full_id(id),
            ModelRef::Fixture { name, .. } => (*name).to_string(),
        }
    }

    /// Loads it: an id from `store` (cached when it is the default store),
    /// a fixture through its shared call.
    pub fn resolve(&self, store: &ModelStore) -> Result<ModelHandle, ModelError> {
        match self {
            ModelRef::Id(id) if store.root() == ModelStore::from_env().root() => from_store(id),
            ModelRef::Id(id) => from_store_at(store, id),
            ModelRef::Fixture { load, .. } => load(),
        }
    }
}

/// Loads `id` from `store` (not cached) as whatever registered type its card names.
pub fn from_store_at(store: &ModelStore, id: &str) -> Result<ModelHandle, ModelError> {
    load_any(store, &full_id(id)).map(|(model, version)| ModelHandle {
        id: version.card.id(),
        sha256: Some(version.sha256),
        model,
    })
}
