use super::*;
use crate::Dataset;
use crate::record::Details;
use polars::prelude::*;

fn ab(test: &str, run: &str, time: f64, observed: f64) -> Record {
    let mut r = Record::new(
        test,
        test.rsplit("::").next().unwrap().into(),
        "",
        Details::Ab(None),
    );
    r.run_id = run.into();
    r.timestamp = time;
    r.observed = Some(observed);
    r
}

/// A per-segment null-fraction check over three groups, one of which fails.
fn segmented(run: &str, time: f64) -> Record {
    let data = Dataset::from_frame(
        "toy",
        df!("g" => ["a", "a", "b", "b", "c", "c"], "x" => [Some(1.0), None, Some(2.0), Some(3.0), Some(4.0), Some(5.0)])
            .unwrap(),
    );
    let outcome = data.evaluate_one(
        data.column("x")
            .null_fraction()
            .at_most(0.1)
            .in_every_segment_of("g")
            .min_rows(1),
    );
    let mut r = Record::new(
        "suite::nulls",
        "nulls".into(),
        "",
        Details::DataExpectation(Box::new(outcome.clone())),
    );
    r.run_id = run.into();
    r.timestamp = time;
    r.observed = outcome.observed;
    r.verdict = Verdict::Fail;
    r.threshold = Threshold::Bound(outcome.expectation.bound);
    r
}

fn open(dir: &tempfile::TempDir) -> History {
    History::open(dir.path().join("h.sqlite"))
        .unwrap()
        .with_commit(Some("c0ffee".into()))
}

#[test]
fn a_check_s_figures_come_back_typed_with_one_row_per_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(&dir);
    assert_eq!(h.append(&[segmented("r1", 1.0)]).unwrap(), 4);
    let key = CheckKey::new(&crate::outdir::binary_name(), "suite::nulls", "nulls");
    let own = h.last(&key, 10, None).unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].observed, Some(0.5));
    assert_eq!(own[0].verdict, Verdict::Fail);
    assert_eq!(own[0].threshold.describe(), "<= 0.1000");
    assert_eq!(own[0].git_commit.as_deref(), Some("c0ffee"));
    assert_eq!(own[0].segment, None);
    let a = h.segment_last(&key, Some("g == \"a\""), 10, None).unwrap();
    let b = h.segment_last(&key, Some("g == \"b\""), 10, None).unwrap();
    assert_eq!((a.len(), b.len()), (1, 1), "segments: {:?}", h.checks());
    assert_eq!(
        (a[0].observed, a[0].verdict, a[0].rows),
        (Some(0.5), Verdict::Fail, Some(2))
    );
    assert_eq!((b[0].observed, b[0].verdict), (Some(0.0), Verdict::Pass));
    let checks = h.checks().unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(
        (checks[0].kind, checks[0].metric.as_str(), checks[0].runs),
        (CheckKind::DataExpectation, "null_fraction", 1)
    );
}

#[test]
fn a_check_published_again_in_the_same_run_replaces_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(&dir);
    h.append(&[ab("t::x", "r1", 1.0, 0.1)]).unwrap();
    h.append(&[ab("t::x", "r1", 2.0, 0.2)]).unwrap();
    h.append(&[ab("t::x", "r2", 3.0, 0.3)]).unwrap();
    let key = CheckKey::new(&crate::outdir::binary_name(), "t::x", "x");
    let past: Vec<_> = h
        .last(&key, 10, None)
        .unwrap()
        .iter()
        .map(|f| (f.run_id.clone(), f.observed))
        .collect();
    assert_eq!(
        past,
        [("r1".to_string(), Some(0.2)), ("r2".to_string(), Some(0.3))]
    );
    assert_eq!(h.checks().unwrap()[0].runs, 2);
    // The run being judged is left out of its own history.
    assert_eq!(h.last(&key, 10, Some("r2")).unwrap().len(), 1);
    assert_eq!(h.last(&key, 1, None).unwrap()[0].run_id, "r2");
}

#[test]
fn retention_keeps_the_newest_runs_of_each_check_and_drops_orphan_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(&dir).keep(20);
    for i in 0..100 {
        let run = format!("r{i:03}");
        // `t::often` runs every time, `t::rare` every tenth run.
        let mut batch = vec![ab("t::often", &run, i as f64, i as f64)];
        if i % 10 == 0 {
            batch.push(ab("t::rare", &run, i as f64, i as f64));
        }
        h.append(&batch).unwrap();
    }
    let often = CheckKey::new(&crate::outdir::binary_name(), "t::often", "often");
    let rare = CheckKey::new(&crate::outdir::binary_name(), "t::rare", "rare");
    let kept = h.last(&often, 1000, None).unwrap();
    // Pruned back to 20 at 23 runs (20 + a tenth, at least 1 more), so
    // between 20 and 22 remain, the newest.
    assert!((20..=22).contains(&kept.len()), "{}", kept.len());
    assert_eq!(kept.last().unwrap().observed, Some(99.0));
    assert_eq!(h.last(&rare, 1000, None).unwrap().len(), 10);
    // Runs that only `often`'s pruned rows referred to are gone; the ones
    // `rare` still holds stay.
    let runs = h.run_count().unwrap();
    assert!(runs <= 22 + 10, "{runs} runs kept");
    assert_eq!(h.integrity().unwrap(), "ok");
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_by_name_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    std::fs::write(&path, "run,check,observed\n1,a,0.5\n").unwrap();
    let err = History::open(&path).err().expect("refused");
    assert!(matches!(err, HistoryError::NotSqlite { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("never replaces"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "run,check,observed\n1,a,0.5\n"
    );
}

#[test]
fn another_program_s_database_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("tables.sqlite");
    let other = rusqlite::Connection::open(&tables).unwrap();
    other
        .execute_batch("CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (1);")
        .unwrap();
    drop(other);
    let err = History::open(&tables).err().expect("refused");
    assert!(
        matches!(&err, HistoryError::ForeignTables { tables: t, .. } if t == "orders"),
        "{err}"
    );

    let app = dir.path().join("app.sqlite");
    let other = rusqlite::Connection::open(&app).unwrap();
    other.pragma_update(None, "application_id", 42).unwrap();
    drop(other);
    let err = History::open(&app).err().expect("refused");
    assert!(
        matches!(err, HistoryError::Foreign { found: 42, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&app.display().to_string()));
}

#[test]
fn a_history_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    drop(History::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    let err = History::open(&path).err().expect("refused");
    assert!(
        matches!(err, HistoryError::Newer { found, .. } if found == SCHEMA_VERSION + 1),
        "{err}"
    );
}

#[test]
fn a_corrupt_history_is_an_error_naming_it_and_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    {
        let mut h = open(&dir);
        for i in 0..200 {
            h.append(&[segmented(&format!("r{i}"), i as f64)]).unwrap();
        }
    }
    // Closing the last connection checkpointed the WAL into the file:
    // everything past the first page (the schema) is the tables' pages.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 3 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = History::open(&path)
        .and_then(|h| h.checks().map(|_| ()))
        .expect_err("a corrupt file is an error");
    assert!(matches!(err, HistoryError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn the_commit_is_read_from_a_ref_file_packed_refs_or_a_detached_head() {
    let dir = tempfile::tempdir().unwrap();
    let git = dir.path().join(".git");
    std::fs::create_dir_all(git.join("refs/heads")).unwrap();
    let a = "0123456789abcdef0123456789abcdef01234567";
    let b = "89abcdef0123456789abcdef0123456789abcdef";
    std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(
        git.join("packed-refs"),
        format!("# pack-refs with: peeled\n{b} refs/heads/main\n"),
    )
    .unwrap();
    let sub = dir.path().join("crate/src");
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(git::head_of(&sub).as_deref(), Some(b));
    std::fs::write(git.join("refs/heads/main"), format!("{a}\n")).unwrap();
    assert_eq!(git::head_of(&sub).as_deref(), Some(a));
    std::fs::write(git.join("HEAD"), format!("{b}\n")).unwrap();
    assert_eq!(git::head_of(&sub).as_deref(), Some(b));
    std::fs::write(git.join("HEAD"), "ref: refs/heads/gone\n").unwrap();
    assert_eq!(git::head_of(&sub), None);
}

/// A schema-change check's record of run `run` over `frame`.
fn schema_record(run: &str, time: f64, frame: DataFrame) -> Record {
    let data = Dataset::from_frame("toy", frame);
    let outcome = data.evaluate_one(data.schema_change().removed().at_most(0.0));
    let mut r = Record::new(
        "suite::schema",
        "columns_removed".into(),
        "",
        Details::DataExpectation(Box::new(outcome)),
    );
    r.run_id = run.into();
    r.timestamp = time;
    r
}

#[test]
fn a_schema_change_check_s_columns_are_kept_per_run_and_the_previous_run_s_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(&dir);
    let key = CheckKey::new(
        &crate::outdir::binary_name(),
        "suite::schema",
        "columns_removed",
    );
    let first = df!("id" => [1i64], "text" => ["a"]).unwrap();
    h.append(&[schema_record("r1", 1.0, first)]).unwrap();
    // The run being judged is left out: r1 has nothing before it.
    assert_eq!(h.previous_schema(&key, "r1").unwrap(), None);
    let second = df!("id" => [1.5f64]).unwrap();
    h.append(&[schema_record("r2", 2.0, second)]).unwrap();
    let past = h
        .previous_schema(&key, "r3")
        .unwrap()
        .expect("r2's columns");
    assert_eq!(past.run_id, "r2");
    assert_eq!(
        past.columns,
        [crate::expect::ColumnType {
            name: "id".into(),
            dtype: "f64".into()
        }]
    );
    let before = h
        .previous_schema(&key, "r2")
        .unwrap()
        .expect("r1's columns");
    let names: Vec<&str> = before.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!((before.run_id.as_str(), names), ("r1", vec!["id", "text"]));
}

#[test]
fn a_version_1_history_is_migrated_in_place_and_keeps_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    {
        // What mltest 0.1 with schema version 1 wrote (frozen here: the
        // live schema moves on).
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, started REAL NOT NULL, git_commit TEXT);
             CREATE TABLE checks (id INTEGER PRIMARY KEY, binary TEXT NOT NULL, test TEXT NOT NULL,
                 check_name TEXT NOT NULL, kind TEXT NOT NULL, metric TEXT NOT NULL,
                 runs INTEGER NOT NULL DEFAULT 0, UNIQUE (binary, test, check_name));
             CREATE TABLE figures (check_id INTEGER NOT NULL REFERENCES checks(id),
                 run_id TEXT NOT NULL REFERENCES runs(run_id), segment TEXT NOT NULL DEFAULT '',
                 observed REAL, threshold TEXT NOT NULL, verdict TEXT NOT NULL, rows INTEGER,
                 data_name TEXT, data_sha256 TEXT, time REAL NOT NULL);
             CREATE INDEX figures_by_check ON figures (check_id, segment, time);
             CREATE INDEX figures_by_run ON figures (run_id);",
        )
        .unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO runs VALUES ('old', 5.0, NULL);
             INSERT INTO checks (id, binary, test, check_name, kind, metric, runs)
                 VALUES (1, 'suite', 't::rows', 'rows', 'data_expectation', 'row_count', 1);
             INSERT INTO figures (check_id, run_id, observed, threshold, verdict, time)
                 VALUES (1, 'old', 42.0, '{\"kind\":\"none\"}', 'pass', 5.0);",
        )
        .unwrap();
    }
    let mut h = History::open(&path).unwrap();
    let version: i64 = h
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let past = h
        .last(&CheckKey::new("suite", "t::rows", "rows"), 10, None)
        .unwrap();
    assert_eq!(
        past.iter().map(|f| f.observed).collect::<Vec<_>>(),
        [Some(42.0)]
    );
    // The table version 2 added is there and written to.
    let frame = df!("id" => [1i64]).unwrap();
    h.append(&[schema_record("new", 6.0, frame)]).unwrap();
    let key = CheckKey::new(
        &crate::outdir::binary_name(),
        "suite::schema",
        "columns_removed",
    );
    assert!(h.previous_schema(&key, "later").unwrap().is_some());
    drop(h);
    // Opening it again migrates nothing twice and keeps both runs' rows.
    let h = History::open(&path).unwrap();
    assert_eq!(
        h.last(&CheckKey::new("suite", "t::rows", "rows"), 10, None)
            .unwrap()
            .len(),
        1
    );
    assert!(h.previous_schema(&key, "later").unwrap().is_some());
}
