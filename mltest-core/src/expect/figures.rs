//! The seam between an engine and the decisions: what a check's queries
//! measured, by typed key, before any bound is applied.
//!
//! An engine (today polars, in memory or streaming) compiles each check into
//! queries and hands back one [`FigureSet`] per check, or per group for a
//! per-segment check. [`decide`](super::decide) turns figures into outcomes
//! and never learns which engine produced them; the metric cache stores the
//! figures, not the verdicts, so a changed threshold is decided again
//! without reading data. The keys' serialised names (`n`, `hits`, ...) keep
//! the cache's JSON readable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One figure a check's queries measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) enum Key {
    /// Rows in the segment.
    #[serde(rename = "n")]
    Rows,
    /// Non-missing values of the column in the segment; for duplicate
    /// checks, the rows that take part (those with a key).
    #[serde(rename = "vals")]
    Values,
    /// Rows or values the metric counts (missing, blank, duplicated, equal
    /// to the category).
    #[serde(rename = "hits")]
    Hits,
    /// Values inside a range, set, length range or pattern.
    #[serde(rename = "inside")]
    Inside,
    /// Distinct non-missing values.
    #[serde(rename = "distinct")]
    Distinct,
    /// The statistic itself (mean, sum, quantile, ...).
    #[serde(rename = "stat")]
    Stat,
    /// NaN values (float columns).
    #[serde(rename = "nan")]
    Nan,
    /// Infinite values (float columns).
    #[serde(rename = "inf")]
    Inf,
    /// A sketched quantile's lower bound at rank `q − ε`.
    #[serde(rename = "stat_lo")]
    StatLow,
    /// A sketched quantile's upper bound at rank `q + ε`.
    #[serde(rename = "stat_hi")]
    StatHigh,
    /// A sketch's normalised rank error ε.
    #[serde(rename = "rank_err")]
    RankError,
    /// Values a sketch summarised.
    #[serde(rename = "sketch_n")]
    SketchValues,
    /// The mean beside a standard deviation: with the count it makes the
    /// check's figures mergeable across partitions (Chan's formula, see
    /// [`partial`](super::partial)).
    #[serde(rename = "mean")]
    Mean,
}

impl Key {
    /// The key's short name (as serialised): query column names use it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Rows => "n",
            Key::Values => "vals",
            Key::Hits => "hits",
            Key::Inside => "inside",
            Key::Distinct => "distinct",
            Key::Stat => "stat",
            Key::Nan => "nan",
            Key::Inf => "inf",
            Key::StatLow => "stat_lo",
            Key::StatHigh => "stat_hi",
            Key::RankError => "rank_err",
            Key::SketchValues => "sketch_n",
            Key::Mean => "mean",
        }
    }
}

/// The figures of one check (or of one group of a per-segment check).
/// `None` is a figure the query returned as missing (a mean of no values).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct FigureSet(BTreeMap<Key, Option<f64>>);

impl FigureSet {
    /// The figure, when measured and not missing.
    pub(crate) fn get(&self, key: Key) -> Option<f64> {
        self.0.get(&key).copied().flatten()
    }

    /// A count figure (0 when absent).
    pub(crate) fn count(&self, key: Key) -> u64 {
        self.get(key).unwrap_or(0.0) as u64
    }

    /// Adds figures measured elsewhere (a sketch's), replacing equal keys.
    pub(crate) fn extend(&mut self, other: FigureSet) {
        self.0.extend(other.0);
    }
}

impl FromIterator<(Key, Option<f64>)> for FigureSet {
    fn from_iter<I: IntoIterator<Item = (Key, Option<f64>)>>(iter: I) -> Self {
        FigureSet(iter.into_iter().collect())
    }
}

/// The value of a grouping column that labels one group.
///
/// Typed so the rows of a group can be selected again (for example rows)
/// without parsing the label back: text compares as text, every other type
/// as the value polars prints.
///
/// ```
/// use mltest_core::expect::GroupValue;
/// assert_eq!(GroupValue::Text("Tops".into()).to_string(), "\"Tops\"");
/// assert_eq!(GroupValue::Missing.to_string(), "(missing)");
/// assert_eq!(GroupValue::Literal("3".into()).to_string(), "3");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum GroupValue {
    /// The group of rows where the column is missing.
    Missing,
    /// A text (or categorical) value.
    Text(String),
    /// A number, boolean or date, as polars prints it.
    Literal(String),
}

impl std::fmt::Display for GroupValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupValue::Missing => f.write_str("(missing)"),
            GroupValue::Text(s) => write!(f, "{s:?}"),
            GroupValue::Literal(s) => f.write_str(s),
        }
    }
}

/// One group of a per-segment check and its figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Group {
    pub(crate) value: GroupValue,
    pub(crate) figures: FigureSet,
}

/// A check's raw figures: what its queries measured, before any bound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Figures {
    /// Over all rows or a filtered subset.
    Flat(FigureSet),
    /// Per group, in the engine's group order.
    Groups(Vec<Group>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_serialise_under_their_short_names() {
        let f: FigureSet = [(Key::Rows, Some(3.0)), (Key::Hits, None)]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"n":3.0,"hits":null}"#);
        assert_eq!(serde_json::from_str::<FigureSet>(&json).unwrap(), f);
        assert_eq!(f.count(Key::Rows), 3);
        assert_eq!(f.get(Key::Hits), None);
        for k in [Key::Rows, Key::StatLow, Key::SketchValues] {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }
}
