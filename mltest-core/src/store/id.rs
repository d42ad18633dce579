//! Model names and ids: `NAME@VERSION`, `NAME@ALIAS`, `NAME@sha256:PREFIX`.

use super::StoreError;

/// What follows the `@` of an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Version(u64),
    Alias(String),
    Sha256Prefix(String),
}

/// A parsed model id.
///
/// ```
/// use mltest_core::store::{ModelId, Selector};
/// let id: ModelId = "reviews@champion".parse().unwrap();
/// assert_eq!(id.name, "reviews");
/// assert_eq!(id.selector, Selector::Alias("champion".into()));
/// assert_eq!("reviews@3".parse::<ModelId>().unwrap().selector, Selector::Version(3));
/// assert!("../etc@1".parse::<ModelId>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelId {
    pub name: String,
    pub selector: Selector,
}

impl std::str::FromStr for ModelId {
    type Err = StoreError;

    fn from_str(id: &str) -> Result<Self, StoreError> {
        let invalid = || StoreError::InvalidId { id: id.to_string() };
        let (name, sel) = id.split_once('@').ok_or_else(invalid)?;
        validate_name(name)?;
        let selector = if let Some(prefix) = sel.strip_prefix("sha256:") {
            if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid());
            }
            Selector::Sha256Prefix(prefix.to_ascii_lowercase())
        } else if !sel.is_empty() && sel.chars().all(|c| c.is_ascii_digit()) {
            Selector::Version(sel.parse().map_err(|_| invalid())?)
        } else {
            validate_name(sel).map_err(|_| invalid())?;
            Selector::Alias(sel.to_string())
        };
        Ok(ModelId {
            name: name.to_string(),
            selector,
        })
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.selector {
            Selector::Version(v) => write!(f, "{}@{v}", self.name),
            Selector::Alias(a) => write!(f, "{}@{a}", self.name),
            Selector::Sha256Prefix(p) => write!(f, "{}@sha256:{p}", self.name),
        }
    }
}

/// Names (of models and aliases) are path components: `[A-Za-z0-9._-]`,
/// at most 100 characters, not `.` or `..`, not starting with `.`.
pub fn validate_name(name: &str) -> Result<(), StoreError> {
    let why = if name.is_empty() {
        Some("empty")
    } else if name.len() > 100 {
        Some("longer than 100 characters")
    } else if name.starts_with('.') {
        Some("starts with '.'")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        Some("contains a character outside [A-Za-z0-9._-]")
    } else {
        None
    };
    match why {
        Some(why) => Err(StoreError::InvalidName {
            name: name.to_string(),
            why: why.to_string(),
        }),
        None => Ok(()),
    }
}
