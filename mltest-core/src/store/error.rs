use std::path::PathBuf;

/// Why a store operation failed. Every variant names the model, id or file
/// and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "invalid model name {name:?}: {why} (allowed: letters, digits, '.', '_', '-'; not '.' or '..')"
    )]
    InvalidName { name: String, why: String },
    #[error("invalid model id {id:?}: expected NAME@VERSION, NAME@ALIAS or NAME@sha256:PREFIX")]
    InvalidId { id: String },
    #[error("no model named {name:?} in {root}; models: {available}")]
    UnknownModel {
        name: String,
        root: PathBuf,
        available: String,
    },
    #[error("{id}: no such version; versions of {name:?}: {versions}")]
    UnknownVersion {
        id: String,
        name: String,
        versions: String,
    },
    #[error("{id}: no alias {alias:?}; aliases of {name:?}: {aliases}; versions: {versions}")]
    UnknownAlias {
        id: String,
        name: String,
        alias: String,
        aliases: String,
        versions: String,
    },
    #[error("{id}: sha256 prefix matches {matches}")]
    AmbiguousPrefix { id: String, matches: String },
    #[error(
        "integrity error: {path}: sha256 is {actual}, but {expected} was recorded when it was saved"
    )]
    Integrity {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("corrupt model file {path}: {why}")]
    Corrupt { path: PathBuf, why: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("alias {alias:?} of {name:?} has no previous target to roll back to")]
    NoPreviousTarget { name: String, alias: String },
    #[error(
        "refusing to promote {id} to {alias:?}: {why}; pass --force --reason \"...\" to override"
    )]
    PromotionRefused {
        id: String,
        alias: String,
        why: String,
    },
    #[error("input does not match the schema of {model}: {problem}")]
    Schema { model: String, problem: String },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }
}
