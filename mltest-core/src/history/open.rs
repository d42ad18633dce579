//! Opening a history file: refuse what is not ours, create what is empty,
//! and set the connection up for many writers.

use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::{APPLICATION_ID, BUSY_TIMEOUT, HistoryError, SCHEMA_VERSION};

/// SQLite's file header (the first 16 bytes of every database).
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    run_id     TEXT PRIMARY KEY,
    started    REAL NOT NULL,
    git_commit TEXT
);
CREATE TABLE IF NOT EXISTS checks (
    id         INTEGER PRIMARY KEY,
    binary     TEXT NOT NULL,
    test       TEXT NOT NULL,
    check_name TEXT NOT NULL,
    kind       TEXT NOT NULL,
    metric     TEXT NOT NULL,
    runs       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (binary, test, check_name)
);
CREATE TABLE IF NOT EXISTS figures (
    check_id    INTEGER NOT NULL REFERENCES checks(id),
    run_id      TEXT NOT NULL REFERENCES runs(run_id),
    segment     TEXT NOT NULL DEFAULT '',
    observed    REAL,
    threshold   TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    rows        INTEGER,
    data_name   TEXT,
    data_sha256 TEXT,
    time        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS figures_by_check ON figures (check_id, segment, time);
CREATE INDEX IF NOT EXISTS figures_by_run ON figures (run_id);
";

/// What each schema version adds to the one before it: `MIGRATIONS[i]`
/// takes a file from version `i + 1` to `i + 2`. A file of an older mltest
/// is migrated in place, in one transaction, when this build opens it.
const MIGRATIONS: [&str; 1] = [
    // 1 → 2: the columns of each schema-change check's run.
    SCHEMAS,
];

const SCHEMAS: &str = "
CREATE TABLE IF NOT EXISTS schemas (
    check_id INTEGER NOT NULL REFERENCES checks(id),
    run_id   TEXT NOT NULL REFERENCES runs(run_id),
    columns  TEXT NOT NULL,
    time     REAL NOT NULL,
    PRIMARY KEY (check_id, run_id)
);
";

/// A connection to the history at `path`, created when the file does not
/// exist or is empty; refused with a typed error when it is not ours.
pub(super) fn connect(path: &Path) -> Result<Connection, HistoryError> {
    check_header(path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let sql = HistoryError::sql(path);
    let mut conn = Connection::open(path).map_err(&sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(&sql)?;
    let (app, version) = identity(&conn).map_err(&sql)?;
    match app {
        APPLICATION_ID => {}
        0 => create(&mut conn, path)?,
        found => {
            return Err(HistoryError::Foreign {
                path: path.to_path_buf(),
                found,
            });
        }
    }
    if app == APPLICATION_ID && version > SCHEMA_VERSION {
        return Err(HistoryError::Newer {
            path: path.to_path_buf(),
            found: version,
        });
    }
    if app == APPLICATION_ID && version < SCHEMA_VERSION {
        migrate(&mut conn, path)?;
    }
    wal(&conn).map_err(&sql)?;
    // NORMAL in WAL mode: a committed transaction survives a killed
    // process (it is in the WAL, which the OS holds); only a power cut may
    // lose the last ones, never corrupt the file. FULL would fsync every
    // publication.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(&sql)?;
    Ok(conn)
}

/// Refuses a non-empty file that does not start with SQLite's header, before
/// SQLite sees it (SQLite would report "file is not a database" only on the
/// first query).
fn check_header(path: &Path) -> Result<(), HistoryError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(HistoryError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut start = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut start)
        .map_err(|source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if start.is_empty() || start == MAGIC {
        return Ok(());
    }
    Err(HistoryError::NotSqlite {
        path: path.to_path_buf(),
        start: String::from_utf8_lossy(&start).into_owned(),
    })
}

fn identity(conn: &Connection) -> rusqlite::Result<(i32, i64)> {
    let app = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok((app, version))
}

/// Creates the schema in an empty database. Two processes may both find it
/// empty: the second waits for the first's transaction and then sees the
/// application id it set.
fn create(conn: &mut Connection, path: &Path) -> Result<(), HistoryError> {
    let sql = HistoryError::sql(path);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&sql)?;
    let (app, _) = identity(&tx).map_err(&sql)?;
    if app == APPLICATION_ID {
        return Ok(());
    }
    if app != 0 {
        return Err(HistoryError::Foreign {
            path: path.to_path_buf(),
            found: app,
        });
    }
    let tables: Vec<String> = {
        let mut st = tx
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .map_err(&sql)?;
        st.query_map([], |r| r.get(0))
            .map_err(&sql)?
            .collect::<Result<_, _>>()
            .map_err(&sql)?
    };
    if !tables.is_empty() {
        return Err(HistoryError::ForeignTables {
            path: path.to_path_buf(),
            tables: tables.join(", "),
        });
    }
    tx.execute_batch(SCHEMA).map_err(&sql)?;
    for step in MIGRATIONS {
        tx.execute_batch(step).map_err(&sql)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(&sql)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(&sql)?;
    tx.commit().map_err(&sql)
}

/// Brings a file of an older schema version up to [`SCHEMA_VERSION`] in
/// one `IMMEDIATE` transaction: two processes opening it at once migrate it
/// once (the second sees the version the first set), and a process killed
/// mid-migration leaves the old version whole.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), HistoryError> {
    let sql = HistoryError::sql(path);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&sql)?;
    let (_, version) = identity(&tx).map_err(&sql)?;
    let from = usize::try_from(version.max(1)).unwrap_or(1);
    for step in MIGRATIONS.iter().skip(from - 1) {
        tx.execute_batch(step).map_err(&sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(&sql)?;
    tx.commit().map_err(&sql)
}

/// Switches to WAL (persistent: a no-op once the file is in WAL). The
/// switch needs the file to itself and SQLite does not call the busy
/// handler for it, so another process's open transaction is waited out
/// here.
fn wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}
