//! Appending a publication's figures, in one transaction, and pruning old runs.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{History, HistoryError};
use crate::record::{Record, Verdict};

/// One row of `figures` before it is written.
struct Row<'a> {
    segment: &'a str,
    observed: Option<f64>,
    verdict: Verdict,
    rows: Option<i64>,
}

/// The rows a record adds: its own figure, then one per judged segment of a
/// per-segment data expectation.
fn rows_of(record: &Record) -> Vec<Row<'_>> {
    let mut rows = vec![Row {
        segment: "",
        observed: record.observed.filter(|x| x.is_finite()),
        verdict: record.verdict,
        rows: record.data.as_ref().map(|d| count(d.rows as u64)),
    }];
    if let Some(outcome) = record.outcome() {
        for s in &outcome.segments {
            let verdict = match (s.passed, record.verdict) {
                (true, _) => Verdict::Pass,
                (false, Verdict::Warn) => Verdict::Warn,
                (false, _) => Verdict::Fail,
            };
            rows.push(Row {
                segment: &s.segment,
                observed: Some(s.observed).filter(|x| x.is_finite()),
                verdict,
                rows: Some(count(s.rows)),
            });
        }
    }
    rows
}

/// A count as SQLite stores it (a signed 64-bit integer).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl History {
    /// Appends the figures of `records` (one publication: a test's checks)
    /// in one transaction, and returns how many rows it wrote. A check
    /// published again under the same run id replaces its figures of that
    /// run: a run holds one verdict per check.
    ///
    /// ```
    /// use mltest_core::history::{CheckKey, History};
    /// use mltest_core::record::{Details, Record};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut h = History::open(dir.path().join("h.sqlite")).unwrap().keep(3);
    /// for run in 0..5 {
    ///     let mut r = Record::new("t::ab", "ab".into(), "", Details::Ab(None));
    ///     r.run_id = format!("run-{run}");
    ///     r.timestamp = run as f64;
    ///     r.observed = Some(run as f64);
    ///     h.append(&[r]).unwrap();
    /// }
    /// let key = CheckKey::new(&mltest_core::outdir::binary_name(), "t::ab", "ab");
    /// let past = h.last(&key, 10, None).unwrap();
    /// // Pruning waits for a tenth more than `keep` (at least one run): the
    /// // fifth append prunes back to the newest 3.
    /// assert_eq!(past.iter().map(|f| f.observed.unwrap()).collect::<Vec<_>>(), [2.0, 3.0, 4.0]);
    /// ```
    pub fn append(&mut self, records: &[Record]) -> Result<usize, HistoryError> {
        let path = self.path.clone();
        let sql = HistoryError::sql(&path);
        let keep = i64::try_from(self.keep).unwrap_or(i64::MAX);
        let commit = self.commit.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let mut written = 0;
        let mut pruned = false;
        for record in records {
            tx.prepare_cached(
                "INSERT INTO runs (run_id, started, git_commit) VALUES (?1, ?2, ?3)
                 ON CONFLICT (run_id) DO NOTHING",
            )
            .and_then(|mut st| st.execute(params![record.run_id, record.timestamp, commit]))
            .map_err(&sql)?;
            let check_id: i64 = tx
                .prepare_cached(
                    "INSERT INTO checks (binary, test, check_name, kind, metric) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (binary, test, check_name)
                     DO UPDATE SET kind = excluded.kind, metric = excluded.metric
                     RETURNING id",
                )
                .and_then(|mut st| {
                    st.query_row(
                        params![
                            record.binary,
                            record.test,
                            record.check,
                            record.kind.as_str(),
                            record.metric()
                        ],
                        |r| r.get(0),
                    )
                })
                .map_err(&sql)?;
            let replaced = tx
                .prepare_cached("DELETE FROM figures WHERE check_id = ?1 AND run_id = ?2")
                .and_then(|mut st| st.execute(params![check_id, record.run_id]))
                .map_err(&sql)?;
            let threshold =
                serde_json::to_string(&record.threshold).map_err(|e| HistoryError::Sql {
                    path: path.clone(),
                    source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
                })?;
            let (data_name, data_sha) = record
                .data
                .as_ref()
                .map(|d| (Some(d.name.as_str()), Some(d.sha256.as_str())))
                .unwrap_or((None, None));
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO figures (check_id, run_id, segment, observed, threshold, verdict,
                                          rows, data_name, data_sha256, time)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(&sql)?;
            for row in rows_of(record) {
                insert
                    .execute(params![
                        check_id,
                        record.run_id,
                        row.segment,
                        row.observed,
                        threshold,
                        row.verdict.as_str(),
                        row.rows,
                        data_name,
                        data_sha,
                        record.timestamp
                    ])
                    .map_err(&sql)?;
                written += 1;
            }
            drop(insert);
            if let Some(schema) = record.outcome().and_then(|o| o.schema.as_ref()) {
                let columns =
                    serde_json::to_string(&schema.current).map_err(|e| HistoryError::Sql {
                        path: path.clone(),
                        source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
                    })?;
                tx.prepare_cached(
                    "INSERT INTO schemas (check_id, run_id, columns, time) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (check_id, run_id)
                     DO UPDATE SET columns = excluded.columns, time = excluded.time",
                )
                .and_then(|mut st| {
                    st.execute(params![check_id, record.run_id, columns, record.timestamp])
                })
                .map_err(&sql)?;
            }
            if replaced > 0 {
                continue;
            }
            let runs: i64 = tx
                .prepare_cached("UPDATE checks SET runs = runs + 1 WHERE id = ?1 RETURNING runs")
                .and_then(|mut st| st.query_row(params![check_id], |r| r.get(0)))
                .map_err(&sql)?;
            // Prune once a check holds a tenth more than `keep`, back to
            // `keep`: amortised over keep/10 appends.
            if runs > keep + (keep / 10).max(1) {
                prune(&tx, check_id, keep).map_err(&sql)?;
                pruned = true;
            }
        }
        if pruned {
            tx.execute(
                "DELETE FROM runs WHERE NOT EXISTS
                 (SELECT 1 FROM figures WHERE figures.run_id = runs.run_id)",
                [],
            )
            .map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(written)
    }
}

/// Deletes a check's figures older than its `keep` newest runs.
fn prune(tx: &rusqlite::Transaction<'_>, check_id: i64, keep: i64) -> rusqlite::Result<()> {
    let cutoff: Option<f64> = tx
        .query_row(
            "SELECT time FROM figures WHERE check_id = ?1 AND segment = ''
             ORDER BY time DESC LIMIT 1 OFFSET ?2",
            params![check_id, keep - 1],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(cutoff) = cutoff {
        tx.execute(
            "DELETE FROM figures WHERE check_id = ?1 AND time < ?2",
            params![check_id, cutoff],
        )?;
        tx.execute(
            "DELETE FROM schemas WHERE check_id = ?1 AND time < ?2",
            params![check_id, cutoff],
        )?;
    }
    tx.execute(
        "UPDATE checks SET runs =
         (SELECT COUNT(*) FROM figures WHERE check_id = ?1 AND segment = '') WHERE id = ?1",
        params![check_id],
    )?;
    Ok(())
}
