//! The model store: versioned safetensors files with their cards, aliases
//! with an audited history, and integrity checks.
//!
//! Layout (the contract of DESIGN.md):
//!
//! ```text
//! ROOT/NAME/.lock                       exclusive lock for version allocation and alias moves
//! ROOT/NAME/N/model.safetensors         tensors + card (in __metadata__["mltest.card"])
//! ROOT/NAME/N/model.safetensors.sha256  the file's sha256, `sha256sum` format
//! ROOT/NAME/aliases.json                alias → version
//! ROOT/NAME/alias_history.jsonl         every alias move: time, alias, from, to, reason, forced
//! ROOT/NAME/checks/SHA256.json          recorded check results for a version (promotion gate)
//! ```
//!
//! A version is written into `ROOT/NAME/.staging-N-PID/`, synced, then the
//! directory is renamed to `ROOT/NAME/N` and the parent synced: a reader sees
//! a complete version or none. The whole save holds `NAME/.lock` (an OS file
//! lock, released by the kernel if the process dies), so version numbers are
//! unique and staging leftovers of a killed writer are removed by the next one.

mod card;
mod error;
mod id;
mod tensors;

pub use card::{Card, DataFingerprint, Dependencies, InputColumn, OutputSchema};
pub use error::StoreError;
pub use id::{ModelId, Selector, validate_name};
pub use tensors::{
    CARD_KEY, DTypeTag, MAX_HEADER_BYTES, Tensor, Tensors, decode, encode, read_card,
    tensors_sha256,
};

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::outdir::write_atomic;

/// Environment variable naming the store root.
pub const ENV_ROOT: &str = "MLTEST_MODEL_STORE";
const FILE: &str = "model.safetensors";
const SHA_FILE: &str = "model.safetensors.sha256";

/// A model read from the store, verified.
#[derive(Clone, Debug)]
pub struct StoredModel {
    pub card: Card,
    pub tensors: Tensors,
    pub path: PathBuf,
    /// sha256 of the file.
    pub sha256: String,
}

/// A version's id and the outcome of verifying it.
pub type Verified = (String, Result<(), StoreError>);

/// One line of `models list`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VersionInfo {
    pub name: String,
    pub version: u64,
    pub aliases: Vec<String>,
    pub created_at: String,
    pub metrics: BTreeMap<String, f64>,
    pub size_bytes: u64,
    pub sha256: String,
    pub path: PathBuf,
}

/// One alias move, as recorded in the history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AliasMove {
    pub time: String,
    pub alias: String,
    pub action: String,
    pub from: Option<u64>,
    pub to: u64,
    pub reason: Option<String>,
    pub forced: bool,
    /// The recorded checks the move relied on (kind: verdict).
    #[serde(default)]
    pub checks: BTreeMap<String, bool>,
}

/// A check result recorded against a model version (by its sha256).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecordedCheck {
    /// `data_gate`, `evaluation`, `robustness`, ...
    pub kind: String,
    pub passed: bool,
    pub summary: String,
    pub time: String,
}

/// Check kinds a version needs, all passed, before an alias may point at it.
pub const PROMOTION_GATES: [&str; 3] = ["data_gate", "evaluation", "robustness"];

/// How to promote.
#[derive(Clone, Debug, Default)]
pub struct Promote {
    /// Override a failed or missing gate (requires a reason).
    pub force: bool,
    pub reason: Option<String>,
}

/// A store rooted at a directory.
///
/// ```
/// use mltest_core::store::{Card, ModelStore, OutputSchema, Tensor, Tensors};
/// let dir = tempfile::tempdir().unwrap();
/// let store = ModelStore::open(dir.path());
/// let mut tensors = Tensors::new();
/// tensors.insert("w".into(), Tensor::f64(vec![3], &[0.5, -1.0, 2.0]));
/// let card = Card::new(OutputSchema { label: "y".into(), classes: vec!["0".into(), "1".into()], positive_class: "1".into() });
/// let id = store.save("demo", card, &tensors).unwrap();
/// assert_eq!(id, "demo@1");
/// let model = store.load("demo@1").unwrap();
/// assert_eq!(model.tensors, tensors);
/// assert_eq!(model.card.version, 1);
/// ```
#[derive(Clone, Debug)]
pub struct ModelStore {
    root: PathBuf,
}

impl ModelStore {
    /// A store at `root` (created on first save).
    pub fn open(root: impl AsRef<Path>) -> Self {
        ModelStore {
            root: root.as_ref().to_path_buf(),
        }
    }

    /// `MLTEST_MODEL_STORE`, else `model_store/` at the workspace root (the
    /// nearest ancestor of the working directory with a Cargo.lock), else
    /// `./model_store`.
    pub fn from_env() -> Self {
        if let Some(p) = std::env::var_os(ENV_ROOT) {
            return ModelStore::open(PathBuf::from(p));
        }
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = cwd
            .ancestors()
            .find(|d| d.join("Cargo.lock").exists())
            .map(|d| d.join("model_store"))
            .unwrap_or_else(|| PathBuf::from("model_store"));
        ModelStore::open(root)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn version_dir(&self, name: &str, version: u64) -> PathBuf {
        self.model_dir(name).join(version.to_string())
    }

    /// Takes the model's exclusive lock for the lifetime of the returned file.
    fn lock(&self, name: &str) -> Result<File, StoreError> {
        let dir = self.model_dir(name);
        std::fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
        let path = dir.join(".lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io(&path))?;
        f.lock().map_err(StoreError::io(&path))?;
        Ok(f)
    }

    /// Saves a new version of `name` and returns its id `NAME@N`. The card's
    /// name, version, creation time and tensor hash are filled in here.
    pub fn save(
        &self,
        name: &str,
        mut card: Card,
        tensors: &Tensors,
    ) -> Result<String, StoreError> {
        validate_name(name)?;
        let _lock = self.lock(name)?;
        let dir = self.model_dir(name);
        remove_staging(&dir);
        let version = self.versions(name)?.last().copied().unwrap_or(0) + 1;
        card.name = name.to_string();
        card.version = version;
        card.created_at = crate::clock::iso_now();
        card.tensors_sha256 = tensors_sha256(tensors);
        let bytes = encode(&card, tensors)?;
        let sha = crate::text::sha256_hex(&bytes);

        let staging = dir.join(format!(".staging-{version}-{}", std::process::id()));
        std::fs::create_dir_all(&staging).map_err(StoreError::io(&staging))?;
        write_synced(&staging.join(FILE), &bytes)?;
        write_synced(
            &staging.join(SHA_FILE),
            format!("{sha}  {FILE}\n").as_bytes(),
        )?;
        sync_dir(&staging)?;
        let target = self.version_dir(name, version);
        std::fs::rename(&staging, &target).map_err(StoreError::io(&target))?;
        sync_dir(&dir)?;
        Ok(format!("{name}@{version}"))
    }

    /// Model names in the store, sorted.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| validate_name(n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Complete versions of `name`, ascending (staging directories are not versions).
    pub fn versions(&self, name: &str) -> Result<Vec<u64>, StoreError> {
        validate_name(name)?;
        let dir = self.model_dir(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut v: Vec<u64> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Alias → version for `name`.
    pub fn aliases(&self, name: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let path = self.model_dir(name).join("aliases.json");
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt {
                path,
                why: format!("aliases are not valid JSON: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    /// Resolves an id to (name, version).
    pub fn resolve(&self, id: &str) -> Result<(String, u64), StoreError> {
        let parsed: ModelId = id.parse()?;
        let name = parsed.name.clone();
        let versions = self.versions(&name)?;
        if versions.is_empty() {
            let names = self.names()?;
            return Err(StoreError::UnknownModel {
                name,
                root: self.root.clone(),
                available: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            });
        }
        let list = |v: &[u64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match parsed.selector {
            Selector::Version(v) if versions.contains(&v) => Ok((name, v)),
            Selector::Version(_) => Err(StoreError::UnknownVersion {
                id: id.to_string(),
                name,
                versions: list(&versions),
            }),
            Selector::Alias(alias) => {
                let aliases = self.aliases(&name)?;
                match aliases.get(&alias) {
                    Some(v) => Ok((name, *v)),
                    None => Err(StoreError::UnknownAlias {
                        id: id.to_string(),
                        alias,
                        aliases: if aliases.is_empty() {
                            "none".into()
                        } else {
                            aliases
                                .iter()
                                .map(|(a, v)| format!("{a} → {v}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        versions: list(&versions),
                        name,
                    }),
                }
            }
            Selector::Sha256Prefix(prefix) => {
                let matches: Vec<u64> = versions
                    .iter()
                    .copied()
                    .filter(|v| {
                        self.recorded_sha(&name, *v)
                            .is_ok_and(|s| s.starts_with(&prefix))
                    })
                    .collect();
                match matches.as_slice() {
                    [v] => Ok((name, *v)),
                    [] => Err(StoreError::UnknownVersion {
                        id: id.to_string(),
                        name,
                        versions: list(&versions),
                    }),
                    many => Err(StoreError::AmbiguousPrefix {
                        id: id.to_string(),
                        matches: many
                            .iter()
                            .map(|v| format!("{}@{v}", parsed.name))
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
        }
    }

    /// The path of a version's file.
    pub fn path_of(&self, name: &str, version: u64) -> PathBuf {
        self.version_dir(name, version).join(FILE)
    }

    fn recorded_sha(&self, name: &str, version: u64) -> Result<String, StoreError> {
        let path = self.version_dir(name, version).join(SHA_FILE);
        let text = std::fs::read_to_string(&path).map_err(StoreError::io(&path))?;
        let sha = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(StoreError::Corrupt {
                path,
                why: "no sha256 recorded".into(),
            });
        }
        Ok(sha)
    }

    /// Loads a version by id: the file's sha256 is checked against the one
    /// recorded at save, then the file is parsed (every offset and shape
    /// validated). Nothing in the file is executed.
    pub fn load(&self, id: &str) -> Result<StoredModel, StoreError> {
        let (name, version) = self.resolve(id)?;
        let path = self.path_of(&name, version);
        let bytes = std::fs::read(&path).map_err(StoreError::io(&path))?;
        let expected = self.recorded_sha(&name, version)?;
        let actual = crate::text::sha256_hex(&bytes);
        if actual != expected {
            return Err(StoreError::Integrity {
                path,
                expected,
                actual,
            });
        }
        let (card, tensors) = decode(&bytes, &path)?;
        Ok(StoredModel {
            card,
            tensors,
            path,
            sha256: actual,
        })
    }

    /// Every version (or those of `name`), with aliases; reads only headers.
    pub fn list(&self, name: Option<&str>) -> Result<Vec<VersionInfo>, StoreError> {
        let names = match name {
            Some(n) => {
                validate_name(n)?;
                vec![n.to_string()]
            }
            None => self.names()?,
        };
        let mut out = Vec::new();
        for n in names {
            let aliases = self.aliases(&n)?;
            for v in self.versions(&n)? {
                let path = self.path_of(&n, v);
                let (summary, size_bytes) = read_summary(&path)?;
                out.push(VersionInfo {
                    name: n.clone(),
                    version: v,
                    aliases: aliases
                        .iter()
                        .filter(|(_, t)| **t == v)
                        .map(|(a, _)| a.clone())
                        .collect(),
                    created_at: summary.created_at,
                    metrics: summary.metrics,
                    size_bytes,
                    sha256: self.recorded_sha(&n, v).unwrap_or_default(),
                    path,
                });
            }
        }
        Ok(out)
    }

    /// Verifies one version or every version: recorded sha256, parse, and
    /// the card's tensor hash. Returns each version's id and result.
    pub fn verify(&self, id: Option<&str>) -> Result<Vec<Verified>, StoreError> {
        let targets: Vec<(String, u64)> = match id {
            Some(id) => vec![self.resolve(id)?],
            None => {
                let mut t = Vec::new();
                for n in self.names()? {
                    for v in self.versions(&n)? {
                        t.push((n.clone(), v));
                    }
                }
                t
            }
        };
        Ok(targets
            .into_iter()
            .map(|(n, v)| {
                let id = format!("{n}@{v}");
                let result = self.load(&id).and_then(|m| {
                    let recomputed = tensors_sha256(&m.tensors);
                    if recomputed != m.card.tensors_sha256 {
                        return Err(StoreError::Integrity {
                            path: m.path,
                            expected: format!("tensors {}", m.card.tensors_sha256),
                            actual: format!("tensors {recomputed}"),
                        });
                    }
                    if m.card.name != n || m.card.version != v {
                        return Err(StoreError::Corrupt {
                            path: m.path,
                            why: format!("card says {}, the file sits at {n}@{v}", m.card.id()),
                        });
                    }
                    Ok(())
                });
                (id, result)
            })
            .collect())
    }

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
        let relied: BTreeMap<String, bool> =
            checks.iter().map(|c| (c.kind.clone(), c.passed)).collect();
        let mut problems = Vec::new();
        for gate in PROMOTION_GATES {
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
            alias,
            version,
            "promote",
            opts.reason,
            opts.force && !problems.is_empty(),
            relied,
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
            match m.action.as_str() {
                "promote" => stack.push(m.from),
                "rollback" => {
                    stack.pop();
                }
                _ => {}
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
            alias,
            previous,
            "rollback",
            Some("rollback".into()),
            false,
            BTreeMap::new(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn move_alias(
        &self,
        name: &str,
        alias: &str,
        to: u64,
        action: &str,
        reason: Option<String>,
        forced: bool,
        checks: BTreeMap<String, bool>,
    ) -> Result<AliasMove, StoreError> {
        let _lock = self.lock(name)?;
        let mut aliases = self.aliases(name)?;
        let from = aliases.insert(alias.to_string(), to);
        let m = AliasMove {
            time: crate::clock::iso_now(),
            alias: alias.to_string(),
            action: action.to_string(),
            from,
            to,
            reason,
            forced,
            checks,
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

/// What `list` shows of a card; serde skips the rest without building it.
#[derive(Deserialize)]
struct CardSummary {
    created_at: String,
    #[serde(default)]
    metrics: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
struct HeaderMetadata {
    #[serde(rename = "__metadata__", default)]
    metadata: BTreeMap<String, String>,
}

/// Reads just enough of a file for `list`: the 8-byte length and the header,
/// parsing only the card's creation time and metrics. Returns the file size too.
fn read_summary(path: &Path) -> Result<(CardSummary, u64), StoreError> {
    use std::io::Read;
    let corrupt = |why: String| StoreError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let mut f = File::open(path).map_err(StoreError::io(path))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .map_err(|_| corrupt("shorter than the 8-byte header length".into()))?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER_BYTES || n + 8 > size {
        return Err(corrupt(format!(
            "header length {n} is past the end of the file or over the cap"
        )));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|_| {
        corrupt(format!(
            "header length {n} runs past the end of the file (truncated?)"
        ))
    })?;
    let meta: HeaderMetadata =
        serde_json::from_slice(&header).map_err(|e| corrupt(format!("header is not JSON: {e}")))?;
    let card = meta
        .metadata
        .get(CARD_KEY)
        .ok_or_else(|| corrupt(format!("no {CARD_KEY:?} in the safetensors metadata")))?;
    let summary =
        serde_json::from_str(card).map_err(|e| corrupt(format!("card is not valid JSON: {e}")))?;
    Ok((summary, size))
}

fn remove_staging(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".staging-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let mut f = File::create(path).map_err(StoreError::io(path))?;
    f.write_all(bytes).map_err(StoreError::io(path))?;
    f.sync_all().map_err(StoreError::io(path))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(dir))
}
