//! One side of a drift comparison: raw rows, or a committed profile.

use std::sync::Arc;

use crate::data::{DataInfo, Dataset};

use super::profile::Profile;

/// Where a side's figures come from.
#[derive(Clone, Debug)]
pub enum SideData {
    /// Raw rows: every statistic is available.
    Rows(Arc<Dataset>),
    /// A reviewed profile snapshot: binned and counted statistics only.
    Profile(Arc<Profile>),
}

/// One side of a comparison, with its provenance for reports.
#[derive(Clone, Debug)]
pub struct Side {
    pub(crate) data: SideData,
}

impl Side {
    /// A side of raw rows.
    ///
    /// ```
    /// use mltest_core::{drift::Side, Dataset};
    /// use polars::prelude::*;
    /// let side = Side::data(Dataset::from_frame("t", df!("a" => [1, 2]).unwrap()));
    /// assert_eq!(side.rows(), 2);
    /// ```
    pub fn data(data: impl Into<Arc<Dataset>>) -> Self {
        Side {
            data: SideData::Rows(data.into()),
        }
    }

    /// A side read from a profile snapshot.
    pub fn profile(profile: impl Into<Arc<Profile>>) -> Self {
        Side {
            data: SideData::Profile(profile.into()),
        }
    }

    /// The data's name.
    pub fn name(&self) -> &str {
        match &self.data {
            SideData::Rows(d) => &d.info().name,
            SideData::Profile(p) => &p.data.name,
        }
    }

    /// Rows on this side.
    pub fn rows(&self) -> usize {
        match &self.data {
            SideData::Rows(d) => d.height(),
            SideData::Profile(p) => p.data.rows,
        }
    }

    /// Provenance: the data set's, or the data the profile was taken from.
    pub fn info(&self) -> DataInfo {
        match &self.data {
            SideData::Rows(d) => d.info().clone(),
            SideData::Profile(p) => p.data.clone(),
        }
    }

    /// How reports name the side: `reviews[Division Name == General] (sha256 …, 13,850 rows)`,
    /// with `profile <path>` for a snapshot.
    pub fn describe(&self) -> String {
        match &self.data {
            SideData::Rows(d) => d.info().short(),
            SideData::Profile(p) => format!(
                "profile {} of {}",
                p.path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "(in memory)".into()),
                p.data.short()
            ),
        }
    }

    /// Column names on this side.
    pub fn column_names(&self) -> Vec<String> {
        match &self.data {
            SideData::Rows(d) => d.column_names(),
            SideData::Profile(p) => p.columns.keys().cloned().collect(),
        }
    }
}
