//! The model card: what goes in, what comes out, what built it. Stored as
//! JSON in the safetensors header (`__metadata__["mltest.card"]`), so the
//! file alone is self-describing.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::data::DType;

/// What a model is for; the card's output schema says which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Two classes: the model gives P(positive class) per row.
    #[default]
    Binary,
    /// More classes: one probability per class and row.
    Multiclass,
    /// A number per row.
    Regression,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Binary => "binary classifier",
            Task::Multiclass => "multiclass classifier",
            Task::Regression => "regressor",
        })
    }
}

/// One input column as seen in training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputColumn {
    pub name: String,
    pub dtype: DType,
    /// Categories seen in training (categorical inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Smallest and largest value seen in training (numeric inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f64, f64)>,
    /// Whether training data had missing values here.
    pub nullable: bool,
    /// Standard deviation seen in training (numeric inputs): what
    /// `noise_std(k)` scales by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
}

impl InputColumn {
    /// A numeric input: the range and standard deviation training saw
    /// (noise is clipped to the range, `noise_std(k)` scales by the std).
    ///
    /// ```
    /// use mltest_core::store::InputColumn;
    /// let age = InputColumn::numeric("Age", (18.0, 99.0), 12.3);
    /// assert_eq!((age.range, age.std), (Some((18.0, 99.0)), Some(12.3)));
    /// let dept = InputColumn::categorical("Department Name", ["Tops", "Dresses"]);
    /// assert_eq!(dept.categories.unwrap().len(), 2);
    /// assert!(InputColumn::text("Review Text").nullable);
    /// ```
    pub fn numeric(name: impl Into<String>, range: (f64, f64), std: f64) -> Self {
        InputColumn {
            name: name.into(),
            dtype: DType::Numeric,
            categories: None,
            range: Some(range),
            nullable: false,
            std: Some(std),
        }
    }

    /// A categorical input and the categories training saw (what a swap picks from).
    pub fn categorical<S: Into<String>>(
        name: impl Into<String>,
        categories: impl IntoIterator<Item = S>,
    ) -> Self {
        InputColumn {
            name: name.into(),
            dtype: DType::Text,
            categories: Some(categories.into_iter().map(Into::into).collect()),
            range: None,
            nullable: true,
            std: None,
        }
    }

    /// A free-text input.
    pub fn text(name: impl Into<String>) -> Self {
        InputColumn {
            name: name.into(),
            dtype: DType::Text,
            categories: None,
            range: None,
            nullable: true,
            std: None,
        }
    }
}

/// What the model produces: its task, the label it predicts and, for a
/// classifier, its classes.
///
/// ```
/// use mltest_core::store::{OutputSchema, Task};
/// let o = OutputSchema::multiclass("Department Name", ["Bottoms", "Dresses", "Tops"]);
/// assert_eq!((o.task, o.classes.len()), (Task::Multiclass, 3));
/// assert_eq!(OutputSchema::regression("Rating").task, Task::Regression);
/// assert_eq!(OutputSchema::binary("y", ["0", "1"], "1").positive_class, "1");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// Binary, multiclass or regression. Cards written before the field
    /// existed are binary: the only kind there was.
    #[serde(default)]
    pub task: Task,
    /// The label column the model predicts.
    pub label: String,
    /// Class labels, in the order of the model's probabilities (empty for a
    /// regressor).
    #[serde(default)]
    pub classes: Vec<String>,
    /// The class whose probability a binary classifier returns (empty otherwise).
    #[serde(default)]
    pub positive_class: String,
}

impl OutputSchema {
    /// A binary classifier of `label` between `classes`, giving P(`positive`).
    pub fn binary<S: Into<String>>(
        label: impl Into<String>,
        classes: [S; 2],
        positive: impl Into<String>,
    ) -> Self {
        OutputSchema {
            task: Task::Binary,
            label: label.into(),
            classes: classes.into_iter().map(Into::into).collect(),
            positive_class: positive.into(),
        }
    }

    /// A multiclass classifier of `label`; probabilities in the order of `classes`.
    pub fn multiclass<S: Into<String>>(
        label: impl Into<String>,
        classes: impl IntoIterator<Item = S>,
    ) -> Self {
        OutputSchema {
            task: Task::Multiclass,
            label: label.into(),
            classes: classes.into_iter().map(Into::into).collect(),
            positive_class: String::new(),
        }
    }

    /// A regressor of `label`.
    pub fn regression(label: impl Into<String>) -> Self {
        OutputSchema {
            task: Task::Regression,
            label: label.into(),
            classes: Vec::new(),
            positive_class: String::new(),
        }
    }

    /// Position of a class in `classes`.
    pub fn class_index(&self, class: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == class)
    }
}

/// Identity of the training data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataFingerprint {
    pub source: String,
    pub rows: usize,
    pub sha256: String,
}

/// The code that produced the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dependencies {
    /// Crates compiled into the producing binary (mltest-core's dependency
    /// closure as resolved in Cargo.lock at build time): name → version.
    pub crates: BTreeMap<String, String>,
    pub rustc: String,
    /// `git rev-parse HEAD` of the working directory at save time, with
    /// `-dirty` when it had uncommitted changes; absent outside a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

impl Dependencies {
    /// What this binary was built with.
    pub fn of_this_build() -> Self {
        let crates: BTreeMap<String, String> =
            serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/crates.json")))
                .unwrap_or_default();
        Dependencies {
            crates,
            rustc: include_str!(concat!(env!("OUT_DIR"), "/rustc.txt")).to_string(),
            git_commit: git_commit(),
        }
    }
}

fn git_commit() -> Option<String> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = run(&["rev-parse", "HEAD"])?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// The model card. `name`, `version`, `created_at` and `tensors_sha256` are
/// filled in by the store when it saves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub format: u32,
    pub name: String,
    pub version: u64,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub inputs: Vec<InputColumn>,
    pub output: OutputSchema,
    /// The feature pipeline's configuration, as the model type defines it.
    pub pipeline: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_data: Option<DataFingerprint>,
    pub metrics: BTreeMap<String, f64>,
    pub dependencies: Dependencies,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
    pub tensors_sha256: String,
}

impl Card {
    /// A card to fill in before saving.
    ///
    /// ```
    /// use mltest_core::store::{Card, OutputSchema};
    /// let card = Card::new(OutputSchema::binary("y", ["0", "1"], "1"));
    /// assert_eq!(card.format, 1);
    /// ```
    pub fn new(output: OutputSchema) -> Self {
        Card {
            format: 1,
            name: String::new(),
            version: 0,
            created_at: String::new(),
            description: None,
            inputs: Vec::new(),
            output,
            pipeline: serde_json::Value::Null,
            training_data: None,
            metrics: BTreeMap::new(),
            dependencies: Dependencies::of_this_build(),
            parent: None,
            tensors_sha256: String::new(),
        }
    }

    /// `NAME@VERSION`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// How messages name the model: `NAME@VERSION` once saved, `NAME` for
    /// a named model not saved yet, else what it predicts.
    ///
    /// ```
    /// use mltest_core::store::{Card, OutputSchema};
    /// let mut card = Card::new(OutputSchema::regression("Rating"));
    /// assert_eq!(card.display_id(), "an unsaved regressor of \"Rating\"");
    /// card.name = "rating".into();
    /// assert_eq!(card.display_id(), "rating");
    /// ```
    pub fn display_id(&self) -> String {
        match (self.name.is_empty(), self.version) {
            (true, _) => format!("an unsaved {} of {:?}", self.output.task, self.output.label),
            (false, 0) => self.name.clone(),
            (false, _) => self.id(),
        }
    }

    /// The model type that wrote the card (`pipeline.kind`, e.g.
    /// `mltest.reference_logistic.v1`, `mltest.onnx.v1`), which
    /// `mltest models show` prints and [`load_as`](super::ModelStore::load_as) checks.
    pub fn kind(&self) -> Option<&str> {
        self.pipeline.get("kind").and_then(|k| k.as_str())
    }

    /// Refuses data that lacks an input column or has another dtype than
    /// training saw: the guard against training–serving skew.
    pub fn check_input(&self, frame: &DataFrame) -> Result<(), StoreError> {
        for input in &self.inputs {
            let Ok(c) = frame.column(&input.name) else {
                let available: Vec<String> = frame
                    .get_column_names()
                    .iter()
                    .map(|c| format!("{:?}", c.as_str()))
                    .collect();
                return Err(StoreError::Schema {
                    model: self.id(),
                    problem: format!(
                        "column {:?} is missing; the model was trained on it (available: {})",
                        input.name,
                        available.join(", ")
                    ),
                });
            };
            let actual = DType::of(c.dtype());
            if !input.dtype.accepts(actual) {
                return Err(StoreError::Schema {
                    model: self.id(),
                    problem: format!(
                        "column {:?} is {actual} ({}), but the model was trained on {}",
                        input.name,
                        c.dtype(),
                        input.dtype
                    ),
                });
            }
        }
        Ok(())
    }
}
