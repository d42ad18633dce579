//! Promotion: check results recorded against a version, the gates an
//! alias move needs, and the audited alias history (promote, rollback).

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ModelStore, StoreError, validate_name};
use crate::outdir::write_atomic;

/// The kind of a check recorded against a model version. The first three
/// are the promotion gates ([`PROMOTION_GATES`]); any other kind is kept
/// and shown but gates nothing. Written as its name (`"data_gate"`, …), so
/// `checks/*.json` and the alias history keep their format.
///
/// ```
/// use mltest_core::store::Gate;
/// assert_eq!(Gate::from("evaluation"), Gate::Evaluation);
/// assert_eq!(Gate::DataGate.as_str(), "data_gate");
/// assert_eq!(Gate::from("fairness").to_string(), "fairness");
/// assert_eq!(serde_json::to_string(&Gate::Robustness).unwrap(), r#""robustness""#);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Gate {
    /// The data checks the model was trained on passed (the pipeline's data gate).
    DataGate,
    /// Held-out evaluation met its minimum.
    Evaluation,
    /// The robustness checks passed on this version.
    Robustness,
    /// Any other recorded kind (not a gate).
    Other(String),
}

impl Gate {
    /// The recorded name.
    pub fn as_str(&self) -> &str {
        match self {
            Gate::DataGate => "data_gate",
            Gate::Evaluation => "evaluation",
            Gate::Robustness => "robustness",
            Gate::Other(s) => s,
        }
    }
}

impl From<&str> for Gate {
    fn from(s: &str) -> Self {
        match s {
            "data_gate" => Gate::DataGate,
            "evaluation" => Gate::Evaluation,
            "robustness" => Gate::Robustness,
            other => Gate::Other(other.to_string()),
        }
    }
}

impl From<String> for Gate {
    fn from(s: String) -> Self {
        Gate::from(s.as_str())
    }
}

impl From<Gate> for String {
    fn from(g: Gate) -> Self {
        g.as_str().to_string()
    }
}

impl std::fmt::Display for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

// Equality and order are those of the name, so `Other("robustness")` is
// `Robustness` and a map keyed by gates can be read with a `&str`.
impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Gate {}

impl PartialOrd for Gate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Gate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Gate {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Borrow<str> for Gate {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Check kinds a version needs, all passed, before an alias may point at it.
pub const PROMOTION_GATES: [Gate; 3] = [Gate::DataGate, Gate::Evaluation, Gate::Robustness];

/// What an alias move did.
///
/// ```
/// use mltest_core::store::AliasAction;
/// assert_eq!(format!("{:<9}|", AliasAction::Promote), "promote  |");
/// assert_eq!(serde_json::to_string(&AliasAction::Rollback).unwrap(), r#""rollback""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasAction {
    /// Pointed at a version that passed its gates (or was forced there).
    Promote,
    /// Moved back to the target before the latest promotion.
    Rollback,
}

impl AliasAction {
    /// The recorded name.
    pub fn as_str(self) -> &'static str {
        match self {
            AliasAction::Promote => "promote",
            AliasAction::Rollback => "rollback",
        }
    }
}

impl std::fmt::Display for AliasAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One alias move, as recorded in the history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AliasMove {
    pub time: String,
    pub alias: String,
    pub action: AliasAction,
    pub from: Option<u64>,
    pub to: u64,
    pub reason: Option<String>,
    pub forced: bool,
    /// The recorded checks the move relied on (kind: verdict).
    #[serde(default)]
    pub checks: BTreeMap<Gate, bool>,
}

/// A check result recorded against a model version (by its sha256).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecordedCheck {
    /// A gate, or another kind of check.
    pub kind: Gate,
    pub passed: bool,
    pub summary: String,
    pub time: String,
}

/// How to promote.
#[derive(Clone, Debug, Default)]
pub struct Promote {
    /// Override a failed or missing gate (requires a reason).
    pub force: bool,
    pub reason: Option<String>,
}

/// An alias move about to be made.
struct Move<'a> {
    alias: &'a str,
    to: u64,
    action: AliasAction,
    reason: Option<String>,
    forced: bool,
    checks: BTreeMap<Gate, bool>,
}

impl ModelStore {
    /// Records a check result for a version (keyed by its file's sha256).
    pub fn record_check(&self, id: &str, check: RecordedCheck) -> Result<(), StoreError> {
        let (name, version) = self.resolve(id)?;
        let sha = self.recorded_sha(&name, version)?;
        let _lock = self.lock(&name)?;
        let path = self
            .model_dir(&name)
            .join("checks")
            .join(format!("{sha}.json"));
        let mut checks = self.checks_at(&path)?;
        checks.retain(|c| c.kind != check.kind);
        checks.push(check);
        let json = serde_json::to_vec_pretty(&checks).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        write_atomic(&path, &json).map_err(StoreError::io(&path))
    }

    /// The check results recorded for a version.
    pub fn checks(&self, id: &str) -> Result<Vec<RecordedCheck>, StoreError> {
        let (name, version) = self.resolve(id)?;
        let sha = self.recorded_sha(&name, version)?;
        self.checks_at(
            &self
                .model_dir(&name)
                .join("checks")
                .join(format!("{sha}.json")),
        )
    }

    fn checks_at(&self, path: &Path) -> Result<Vec<RecordedCheck>, StoreError> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                why: format!("check records are not valid JSON: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(StoreError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
        }
    }

    /// Points `alias` at the version `id` resolves to. Refused unless the
    /// version's recorded checks include every kind of [`PROMOTION_GATES`],
    /// all passed, or `force` is set with a reason. The move is appended to
    /// the alias history.
    pub fn promote(&self, id: &str, alias: &str, opts: Promote) -> Result<AliasMove, StoreError> {
        validate_name(alias)?;
        if alias.chars().all(|c| c.is_ascii_digit()) {
            return Err(StoreError::InvalidName {
                name: alias.to_string(),
                why: "an alias cannot be a number (it would read as a version)".into(),
            });
        }
        let (name, version) = self.resolve(id)?;
        self.load(&format!("{name}@{version}"))?;
        let checks = self.checks(&format!("{name}@{version}"))?;
        let relied: BTreeMap<Gate, bool> =
            checks.iter().map(|c| (c.kind.clone(), c.passed)).collect();
        let mut problems = Vec::new();
        for gate in &PROMOTION_GATES {
            match relied.get(gate) {
                None => problems.push(format!("no {gate} result recorded")),
                Some(false) => problems.push(format!("{gate} failed")),
                Some(true) => {}
            }
        }
        if !problems.is_empty() {
            if !opts.force {
                return Err(StoreError::PromotionRefused {
                    id: format!("{name}@{version}"),
                    alias: alias.to_string(),
                    why: problems.join(", "),
                });
            }
            if opts.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(StoreError::PromotionRefused {
                    id: format!("{name}@{version}"),
                    alias: alias.to_string(),
                    why: format!(
                        "{}; --force needs a non-empty --reason",
                        problems.join(", ")
                    ),
                });
            }
        }
        self.move_alias(
            &name,
            Move {
                alias,
                to: version,
                action: AliasAction::Promote,
                reason: opts.reason,
                forced: opts.force && !problems.is_empty(),
                checks: relied,
            },
        )
    }

    /// Moves `alias` back to the target it had before its latest promotion
    /// that has not been rolled back already.
    pub fn rollback(&self, name: &str, alias: &str) -> Result<AliasMove, StoreError> {
        validate_name(name)?;
        validate_name(alias)?;
        let history = self.history(name)?;
        let mut stack: Vec<Option<u64>> = Vec::new();
        for m in history.iter().filter(|m| m.alias == alias) {
            match m.action {
                AliasAction::Promote => stack.push(m.from),
                AliasAction::Rollback => {
                    stack.pop();
                }
            }
        }
        let Some(Some(previous)) = stack.last().copied() else {
            return Err(StoreError::NoPreviousTarget {
                name: name.to_string(),
                alias: alias.to_string(),
            });
        };
        self.move_alias(
            name,
            Move {
                alias,
                to: previous,
                action: AliasAction::Rollback,
                reason: Some("rollback".into()),
                forced: false,
                checks: BTreeMap::new(),
            },
        )
    }

    fn move_alias(&self, name: &str, mv: Move<'_>) -> Result<AliasMove, StoreError> {
        let _lock = self.lock(name)?;
        let mut aliases = self.aliases(name)?;
        let from = aliases.insert(mv.alias.to_string(), mv.to);
        let m = AliasMove {
            time: crate::clock::iso_now(),
            alias: mv.alias.to_string(),
            action: mv.action,
            from,
            to: mv.to,
            reason: mv.reason,
            forced: mv.forced,
            checks: mv.checks,
        };
        let dir = self.model_dir(name);
        let hist = dir.join("alias_history.jsonl");
        let mut line = serde_json::to_string(&m).map_err(|e| StoreError::Corrupt {
            path: hist.clone(),
            why: e.to_string(),
        })?;
        line.push('\n');
        // History first: a crash between the two leaves a recorded move that
        // did not happen, never a move that was not recorded.
        {
            use std::io::Write;
            let mut f = File::options()
                .create(true)
                .append(true)
                .open(&hist)
                .map_err(StoreError::io(&hist))?;
            f.write_all(line.as_bytes())
                .map_err(StoreError::io(&hist))?;
            f.sync_all().map_err(StoreError::io(&hist))?;
        }
        let path = dir.join("aliases.json");
        let json = serde_json::to_vec_pretty(&aliases).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        write_atomic(&path, &json).map_err(StoreError::io(&path))?;
        Ok(m)
    }

    /// Every alias move of `name`, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<AliasMove>, StoreError> {
        let path = self.model_dir(name).join("alias_history.jsonl");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::Io { path, source: e }),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| StoreError::Corrupt {
                    path: path.clone(),
                    why: format!("history line is not valid JSON: {e}"),
                })
            })
            .collect()
    }
}
