//! How old a deployed model is: the age of the version an id (usually an
//! alias such as `reviews@champion`) points at, from the creation time in
//! its card, against a maximum. A model trained long ago on data that has
//! moved on fails silently; this makes its age a check.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ModelStore, StoreError};

/// The age of one version against a maximum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Freshness {
    /// The id asked for, e.g. `reviews@champion`.
    pub id: String,
    /// The version it resolved to, e.g. `reviews@3`.
    pub version: String,
    pub created_at: String,
    /// The time compared with ([`crate::clock::now`]: `MLTEST_NOW` or the clock).
    pub now: String,
    pub age_days: f64,
    pub max_age_days: f64,
    pub fresh: bool,
}

impl Freshness {
    /// One line for a person.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}) was created {} ({:.1} days before {}): {} (maximum {} days)",
            self.id,
            self.version,
            self.created_at,
            self.age_days,
            self.now,
            if self.fresh { "fresh" } else { "STALE" },
            crate::text::fig(self.max_age_days)
        )
    }
}

impl ModelStore {
    /// The age of the version `id` resolves to, against `max_age`. The
    /// card's creation time is read from the file's header (no tensor is
    /// loaded); a card whose time does not parse is an error naming it.
    ///
    /// ```
    /// use mltest_core::store::{Card, ModelStore, OutputSchema, Tensors};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = ModelStore::open(dir.path());
    /// let card = Card::new(OutputSchema::binary("y", ["0", "1"], "1"));
    /// store.save("m", card, &Tensors::new()).unwrap();
    /// let f = store.freshness("m@1", mltest_core::clock::days(30.0)).unwrap();
    /// assert!(f.fresh && f.age_days < 1.0, "{}", f.describe());
    /// ```
    pub fn freshness(&self, id: &str, max_age: Duration) -> Result<Freshness, StoreError> {
        let (name, version) = self.resolve(id)?;
        let info = self
            .list(Some(&name))?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| StoreError::UnknownVersion {
                id: id.to_string(),
                name: name.clone(),
                versions: String::new(),
            })?;
        let created =
            crate::clock::parse_time(&info.created_at).ok_or_else(|| StoreError::Corrupt {
                path: info.path.clone(),
                why: format!(
                    "the card's created_at {:?} is not an ISO 8601 time",
                    info.created_at
                ),
            })?;
        let now = crate::clock::now();
        let age_days = (now - created) / 86_400.0;
        let max_age_days = max_age.as_secs_f64() / 86_400.0;
        Ok(Freshness {
            id: id.to_string(),
            version: format!("{name}@{version}"),
            created_at: info.created_at,
            now: crate::clock::iso8601(now) + "Z",
            age_days,
            max_age_days,
            fresh: age_days <= max_age_days,
        })
    }
}
