//! The model card: what goes in, what comes out, what built it. Stored as
//! JSON in the safetensors header (`__metadata__["mltest.card"]`), so the
//! file alone is self-describing.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::data::DType;

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
}

/// What the model produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// The label column the model predicts.
    pub label: String,
    /// Class labels, in the order of the model's internal indices.
    pub classes: Vec<String>,
    /// The class whose probability `predict_proba` returns.
    pub positive_class: String,
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
    /// let card = Card::new(OutputSchema { label: "y".into(), classes: vec!["0".into(), "1".into()], positive_class: "1".into() });
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
