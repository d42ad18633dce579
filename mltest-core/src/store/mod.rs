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
mod freshness;
mod id;
mod promote;
mod tensors;

pub use card::{Card, DataFingerprint, Dependencies, InputColumn, OutputSchema, Task};
pub use error::StoreError;
pub use freshness::Freshness;
pub use id::{ModelId, Selector, validate_name};
pub use promote::{AliasAction, AliasMove, Gate, PROMOTION_GATES, Promote, RecordedCheck};
pub use tensors::{
    CARD_KEY, DTypeTag, MAX_HEADER_BYTES, Tensor, Tensors, decode, encode, read_card,
    tensors_sha256,
};

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use tensors::read_summary;

const FILE: &str = "model.safetensors";
const SHA_FILE: &str = "model.safetensors.sha256";

/// A version read from the store, verified: its card and tensors, which a
/// [`StoredModel`](crate::model::StoredModel) type turns back into a model.
#[derive(Clone, Debug)]
pub struct StoredVersion {
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

/// A store rooted at a directory.
///
/// ```
/// use mltest_core::store::{Card, ModelStore, OutputSchema, Tensor, Tensors};
/// let dir = tempfile::tempdir().unwrap();
/// let store = ModelStore::open(dir.path());
/// let mut tensors = Tensors::new();
/// tensors.insert("w".into(), Tensor::f64(vec![3], &[0.5, -1.0, 2.0]));
/// let card = Card::new(OutputSchema::binary("y", ["0", "1"], "1"));
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
        if let Some(p) = crate::config::model_store() {
            return ModelStore::open(p);
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
        let sha = crate::hash::sha256_hex(&bytes);

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
    pub fn load(&self, id: &str) -> Result<StoredVersion, StoreError> {
        let (name, version) = self.resolve(id)?;
        let path = self.path_of(&name, version);
        let bytes = std::fs::read(&path).map_err(StoreError::io(&path))?;
        let expected = self.recorded_sha(&name, version)?;
        let actual = crate::hash::sha256_hex(&bytes);
        if actual != expected {
            return Err(StoreError::Integrity {
                path,
                expected,
                actual,
            });
        }
        let (card, tensors) = decode(&bytes, &path)?;
        Ok(StoredVersion {
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
