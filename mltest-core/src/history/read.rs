//! Reading the history: a check's past figures, and every check's latest.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{CheckKey, History, HistoryError};
use crate::record::{CheckKind, Threshold, Verdict};

/// One figure of one run of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figure {
    pub run_id: String,
    /// The commit the run was recorded under (`MLTEST_GIT_COMMIT`,
    /// `GITHUB_SHA`, else the checkout's HEAD), if known.
    pub git_commit: Option<String>,
    /// `None` for the check's own figure, else the judged segment's label.
    pub segment: Option<String>,
    /// `None` when nothing was measured (an error).
    pub observed: Option<f64>,
    /// The bound the figure was judged against in that run.
    pub threshold: Threshold,
    pub verdict: Verdict,
    /// Rows judged (the data set's, or the segment's).
    pub rows: Option<u64>,
    pub data_name: Option<String>,
    pub data_sha256: Option<String>,
    /// Unix seconds.
    pub time: f64,
}

/// A check with its latest figure and how many runs the history holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckHistory {
    pub key: CheckKey,
    /// `binary::test[check]` ([`CheckKey`]'s display).
    pub id: String,
    pub kind: CheckKind,
    pub metric: String,
    pub runs: u64,
    pub last: Figure,
}

const FIGURE_COLUMNS: &str = "f.run_id, r.git_commit, f.segment, f.observed, f.threshold, \
                              f.verdict, f.rows, f.data_name, f.data_sha256, f.time";

fn figure(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Figure> {
    let segment: String = row.get(at + 2)?;
    let threshold: String = row.get(at + 4)?;
    let verdict: String = row.get(at + 5)?;
    let rows: Option<i64> = row.get(at + 6)?;
    Ok(Figure {
        run_id: row.get(at)?,
        git_commit: row.get(at + 1)?,
        segment: (!segment.is_empty()).then_some(segment),
        observed: row.get(at + 3)?,
        threshold: super::threshold_from(&threshold),
        verdict: super::verdict_from(&verdict).unwrap_or(Verdict::Error),
        rows: rows.and_then(|n| u64::try_from(n).ok()),
        data_name: row.get(at + 7)?,
        data_sha256: row.get(at + 8)?,
        time: row.get(at + 9)?,
    })
}

impl History {
    /// The check's own figures of its newest `n` runs, oldest first,
    /// leaving out run `except` (the run being judged, when a bound is
    /// learned from the past).
    pub fn last(
        &self,
        key: &CheckKey,
        n: usize,
        except: Option<&str>,
    ) -> Result<Vec<Figure>, HistoryError> {
        self.segment_last(key, None, n, except)
    }

    /// The figures of one segment (`None`: the check's own) of a check's
    /// newest `n` runs, oldest first.
    pub fn segment_last(
        &self,
        key: &CheckKey,
        segment: Option<&str>,
        n: usize,
        except: Option<&str>,
    ) -> Result<Vec<Figure>, HistoryError> {
        self.query_last(key, segment, n, except, false)
    }

    /// The check's own *measured* figures (not an error's missing one) of
    /// its newest `n` runs before run `except`, oldest first: what a bound
    /// learned from history reads.
    pub fn past_figures(
        &self,
        key: &CheckKey,
        n: usize,
        except: &str,
    ) -> Result<Vec<Figure>, HistoryError> {
        self.query_last(key, None, n, Some(except), true)
    }

    /// The columns `key`'s newest run other than `except` recorded (a
    /// schema-change check's), or `None` when it has none yet.
    ///
    /// ```
    /// use mltest_core::expect::ColumnType;
    /// use mltest_core::history::{CheckKey, History};
    /// let dir = tempfile::tempdir().unwrap();
    /// let h = History::open(dir.path().join("h.sqlite")).unwrap();
    /// let key = CheckKey::new("suite", "t::schema", "columns_removed");
    /// assert_eq!(h.previous_schema(&key, "this-run").unwrap(), None);
    /// ```
    pub fn previous_schema(
        &self,
        key: &CheckKey,
        except: &str,
    ) -> Result<Option<crate::expect::PastSchema>, HistoryError> {
        let sql = HistoryError::sql(&self.path);
        let Some(check_id) = self.check_id(key)? else {
            return Ok(None);
        };
        let row: Option<(String, f64, String)> = self
            .conn
            .prepare_cached(
                "SELECT run_id, time, columns FROM schemas WHERE check_id = ?1 AND run_id IS NOT ?2
                 ORDER BY time DESC, rowid DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![check_id, except], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
            })
            .map_err(&sql)?;
        let Some((run_id, time, columns)) = row else {
            return Ok(None);
        };
        let columns = serde_json::from_str(&columns).map_err(|e| HistoryError::Corrupt {
            path: self.path.clone(),
            detail: format!("the columns of run {run_id} of {key} are not a column list: {e}"),
        })?;
        Ok(Some(crate::expect::PastSchema {
            run_id,
            time,
            columns,
        }))
    }

    fn query_last(
        &self,
        key: &CheckKey,
        segment: Option<&str>,
        n: usize,
        except: Option<&str>,
        measured: bool,
    ) -> Result<Vec<Figure>, HistoryError> {
        let sql = HistoryError::sql(&self.path);
        let Some(check_id) = self.check_id(key)? else {
            return Ok(Vec::new());
        };
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {FIGURE_COLUMNS} FROM figures f JOIN runs r ON r.run_id = f.run_id
                 WHERE f.check_id = ?1 AND f.segment = ?2 AND f.run_id IS NOT ?3
                   AND (?5 = 0 OR f.observed IS NOT NULL)
                 ORDER BY f.time DESC, f.rowid DESC LIMIT ?4"
            ))
            .map_err(&sql)?;
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        let mut out: Vec<Figure> = st
            .query_map(
                params![check_id, segment.unwrap_or(""), except, limit, measured],
                |r| figure(r, 0),
            )
            .map_err(&sql)?
            .collect::<Result<_, _>>()
            .map_err(&sql)?;
        out.reverse();
        Ok(out)
    }

    fn check_id(&self, key: &CheckKey) -> Result<Option<i64>, HistoryError> {
        self.conn
            .prepare_cached(
                "SELECT id FROM checks WHERE binary = ?1 AND test = ?2 AND check_name = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![key.binary, key.test, key.check], |r| r.get(0))
                    .optional()
            })
            .map_err(HistoryError::sql(&self.path))
    }

    /// Every check with figures, by binary and test, each with its latest
    /// own figure.
    pub fn checks(&self) -> Result<Vec<CheckHistory>, HistoryError> {
        let sql = HistoryError::sql(&self.path);
        // The latest row of each check: the index on (check_id, segment,
        // time) answers the subquery without a scan of the figures.
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT c.binary, c.test, c.check_name, c.kind, c.metric, c.runs, {FIGURE_COLUMNS}
                 FROM checks c
                 JOIN figures f ON f.rowid = (
                     SELECT rowid FROM figures WHERE check_id = c.id AND segment = ''
                     ORDER BY time DESC, rowid DESC LIMIT 1)
                 JOIN runs r ON r.run_id = f.run_id
                 ORDER BY c.binary, c.test, c.check_name"
            ))
            .map_err(&sql)?;
        let rows = st
            .query_map([], |r| {
                let key = CheckKey {
                    binary: r.get(0)?,
                    test: r.get(1)?,
                    check: r.get(2)?,
                };
                let kind: String = r.get(3)?;
                let runs: i64 = r.get(5)?;
                Ok((key, kind, r.get::<_, String>(4)?, runs, figure(r, 6)?))
            })
            .map_err(&sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (key, kind, metric, runs, last) = row.map_err(&sql)?;
            // A kind this build does not know (a newer mltest wrote it) is
            // left out rather than mislabelled.
            let Some(kind) = super::kind_from(&kind) else {
                continue;
            };
            out.push(CheckHistory {
                id: key.to_string(),
                key,
                kind,
                metric,
                runs: u64::try_from(runs).unwrap_or(0),
                last,
            });
        }
        Ok(out)
    }

    /// The checks whose id ([`CheckKey`]'s display) contains `pattern`;
    /// none is an error naming the closest id.
    pub fn matching(&self, pattern: &str) -> Result<Vec<CheckHistory>, HistoryError> {
        let checks = self.checks()?;
        let count = checks.len();
        let found: Vec<CheckHistory> = checks
            .iter()
            .filter(|c| c.id.contains(pattern))
            .cloned()
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
        // A typo is usually in the test's name: compare with the last part.
        let closest = crate::text::closest(
            pattern,
            checks
                .iter()
                .map(|c| c.id.rsplit("::").next().unwrap_or(&c.id)),
        )
        .and_then(|tail| checks.iter().find(|c| c.id.ends_with(tail)))
        .map(|c| c.id.clone());
        Err(HistoryError::NoMatch {
            path: self.path.clone(),
            pattern: pattern.to_string(),
            count,
            closest,
        })
    }

    /// How many runs the history holds.
    pub fn run_count(&self) -> Result<u64, HistoryError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(HistoryError::sql(&self.path))
    }

    /// SQLite's `PRAGMA integrity_check`: `ok`, or what is wrong.
    pub fn integrity(&self) -> Result<String, HistoryError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(HistoryError::sql(&self.path))
    }
}
