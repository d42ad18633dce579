//! `mltest` command line: the model store.
//!
//! ```text
//! mltest models list [NAME] [--json]
//! mltest models show ID [--json]
//! mltest models promote ID --alias A [--force --reason "..."]
//! mltest models rollback NAME --alias A
//! mltest models history NAME [--json]
//! mltest models verify [ID]
//! mltest models freshness ID --max-age-days N [--json]
//! mltest profile write DATA --out FILE [--where COL=VALUE] [--numeric C,..]
//!                  [--categorical C,..] [--text C,..] [--segment C,..] [--accept]
//! mltest profile accept FILE
//! mltest report [--out DIR] [--summary] [--binaries B,..]
//! mltest history [CHECK] [--json] [--last N] [--file PATH]
//! mltest check --suite SUITE [--data NAME=PATH].. [--json] [--binary PATH] [-- ARGS]
//! ```
//!
//! The store root is `MLTEST_MODEL_STORE`, else `model_store/` at the
//! workspace root; `--store DIR` overrides both. Any error exits non-zero.

mod check;
mod history;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mltest::store::{ModelStore, Promote, StoreError};

#[derive(Parser)]
#[command(
    name = "mltest",
    version,
    about = "mltest: the model store, reports and the metric history"
)]
struct Cli {
    /// Store root (default: $MLTEST_MODEL_STORE, else model_store/ at the workspace root).
    #[arg(long, global = true)]
    store: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Versioned models: list, show, promote, rollback, verify.
    Models {
        #[command(subcommand)]
        command: Models,
    },
    /// Writes DIR/report.html from the check records under DIR (default:
    /// target/mltest); --summary also prints the checks per kind and every
    /// check that did not pass.
    Report {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[arg(long)]
        summary: bool,
        /// Only these test binaries (comma-separated, e.g. data_quality,drift,pipeline).
        #[arg(long, value_delimiter = ',')]
        binaries: Vec<String>,
    },
    /// Runs a compiled test suite's checks on production batches: --data
    /// NAME=PATH replaces the data set NAME in every check that reads it.
    /// Exit 0: passed; 1: a check failed; 2: could not run or decide.
    Check {
        /// The test binary's name (tests/SUITE.rs), e.g. data_quality.
        #[arg(long)]
        suite: String,
        #[arg(long = "data", value_parser = check::parse_data)]
        data: Vec<(String, std::path::PathBuf)>,
        /// Print the summary as JSON (for alerting).
        #[arg(long)]
        json: bool,
        /// The test binary to run (default: the newest SUITE-<hash> beside this executable).
        #[arg(long)]
        binary: Option<std::path::PathBuf>,
        /// Passed to the test binary (a test name filter, --skip NAME).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// The metric history: every check's latest figure, or the last runs of
    /// the checks whose id contains CHECK (default file:
    /// $MLTEST_HISTORY, else target/mltest/history.sqlite).
    History {
        check: Option<String>,
        #[arg(long)]
        json: bool,
        /// Runs shown per check.
        #[arg(long, default_value_t = 10)]
        last: usize,
        /// The history file to read.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
    /// Reference profiles: reviewable snapshots of training data for drift tests.
    Profile {
        #[command(subcommand)]
        command: ProfileCmd,
    },
}

#[derive(Subcommand)]
enum ProfileCmd {
    /// Profiles a data file into FILE; a changed profile is written to FILE.new
    /// for review (exit 1) unless --accept or MLTEST_UPDATE=1.
    Write {
        /// CSV, Parquet or Arrow IPC file.
        data: std::path::PathBuf,
        #[arg(long)]
        out: std::path::PathBuf,
        /// Keep only rows where COLUMN equals VALUE (e.g. "Division Name=General").
        #[arg(long = "where")]
        filter: Option<String>,
        #[arg(long, value_delimiter = ',')]
        numeric: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        categorical: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        text: Vec<String>,
        /// Columns whose values split the null-rate table.
        #[arg(long, value_delimiter = ',')]
        segment: Vec<String>,
        #[arg(long)]
        accept: bool,
    },
    /// Replaces FILE with the pending FILE.new (the review step).
    Accept { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum Models {
    /// Every version (of NAME, if given) with aliases, creation time, metrics, size, sha256.
    List {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A version's card (NAME@N, NAME@ALIAS or NAME@sha256:PREFIX).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Points an alias at a version; refused unless its recorded checks passed.
    Promote {
        id: String,
        #[arg(long)]
        alias: String,
        /// Promote although a check failed or is missing (needs --reason).
        #[arg(long)]
        force: bool,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Moves an alias back to its previous target.
    Rollback {
        name: String,
        #[arg(long)]
        alias: String,
    },
    /// Every alias move of a model.
    History {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Checks sha256, structure and tensor hash of one version, or of all.
    Verify { id: Option<String> },
    /// How old the version ID points at is (e.g. reviews@champion), from its
    /// card's creation time against --max-age-days (the time compared with is
    /// $MLTEST_NOW, else the clock). Exit 0 fresh, 1 stale.
    Freshness {
        id: String,
        #[arg(long)]
        max_age_days: f64,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    // Spinners for large loads, drawn only on a terminal.
    mltest::progress::enable(true);
    let cli = Cli::parse();
    let store = match &cli.store {
        Some(root) => ModelStore::open(root),
        None => ModelStore::from_env(),
    };
    let command = match cli.command {
        Command::Models { command } => command,
        Command::Report {
            out,
            summary,
            binaries,
        } => {
            let out = out.unwrap_or_else(mltest::outdir::out_dir);
            let records = mltest::report::latest_records(&out, &binaries);
            if records.is_empty() {
                eprintln!(
                    "error: no check records under {}; run the tests first (cargo test --release), or pass --out DIR",
                    out.join("records").display()
                );
                return ExitCode::FAILURE;
            }
            return match mltest::report::write_html(&out, &binaries, Some(&store)) {
                Ok(path) => {
                    if summary {
                        print!(
                            "{}",
                            mltest::report::summary(&records, mltest::report::use_colour())
                        );
                    }
                    println!("report: {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "error: cannot write the report under {}: {e}",
                        out.display()
                    );
                    ExitCode::FAILURE
                }
            };
        }
        Command::Check {
            suite,
            data,
            json,
            binary,
            args,
        } => {
            return check::run(
                check::Ask {
                    suite,
                    data,
                    json,
                    binary,
                    args,
                },
                &store,
            );
        }
        Command::History {
            check,
            json,
            last,
            file,
        } => {
            return history::run(history::Ask {
                check,
                json,
                last,
                file,
            });
        }
        Command::Profile { command } => {
            return match profile(command) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    match run(&store, command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn profile(command: ProfileCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use mltest::drift::ColumnKind;
    use mltest::drift::profile::{Profile, Review};
    match command {
        ProfileCmd::Accept { file } => {
            Profile::accept(&file)?;
            println!("accepted {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        ProfileCmd::Write {
            data,
            out,
            filter,
            numeric,
            categorical,
            text,
            segment,
            accept,
        } => {
            let mut dataset =
                (*mltest::data::load_cached(&mltest::DataSource::file(&data))?).clone();
            if let Some(f) = filter {
                let (col, value) = f
                    .split_once('=')
                    .ok_or_else(|| format!("--where {f:?}: expected COLUMN=VALUE"))?;
                dataset = dataset.rows_where(col, value)?;
            }
            let mut columns: Vec<(&str, ColumnKind)> = Vec::new();
            columns.extend(numeric.iter().map(|c| (c.as_str(), ColumnKind::Numeric)));
            columns.extend(
                categorical
                    .iter()
                    .map(|c| (c.as_str(), ColumnKind::Categorical)),
            );
            columns.extend(text.iter().map(|c| (c.as_str(), ColumnKind::Text)));
            if columns.is_empty() {
                return Err(
                    "name the columns to profile with --numeric, --categorical or --text".into(),
                );
            }
            let segments: Vec<&str> = segment.iter().map(String::as_str).collect();
            let p = Profile::build(&dataset, &columns, &segments)?;
            match p.write_reviewed(&out, accept)? {
                Review::Unchanged => println!("{} is up to date", out.display()),
                Review::Written => println!("wrote {}", out.display()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<(), StoreError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| StoreError::Corrupt {
        path: "<stdout>".into(),
        why: e.to_string(),
    })?;
    println!("{text}");
    Ok(())
}

fn run(store: &ModelStore, command: Models) -> Result<ExitCode, StoreError> {
    match command {
        Models::List {
            name,
            json: as_json,
        } => {
            let versions = store.list(name.as_deref())?;
            if as_json {
                json(&versions)?;
                return Ok(ExitCode::SUCCESS);
            }
            if versions.is_empty() {
                println!("no models in {}", store.root().display());
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<28} {:<14} {:<20} {:>10}  {:<12}  metrics",
                "model", "aliases", "created", "size", "sha256"
            );
            for v in versions {
                let metrics: Vec<String> = v
                    .metrics
                    .iter()
                    .map(|(k, x)| format!("{k}={x:.4}"))
                    .collect();
                println!(
                    "{:<28} {:<14} {:<20} {:>10}  {:<12}  {}",
                    format!("{}@{}", v.name, v.version),
                    if v.aliases.is_empty() {
                        "-".into()
                    } else {
                        v.aliases.join(",")
                    },
                    v.created_at.trim_end_matches('Z'),
                    human_size(v.size_bytes),
                    &v.sha256[..v.sha256.len().min(12)],
                    metrics.join(" ")
                );
            }
        }
        Models::Show { id, json: as_json } => {
            let model = store.load(&id)?;
            if as_json {
                json(&model.card)?;
                return Ok(ExitCode::SUCCESS);
            }
            let c = &model.card;
            println!("{}  ({})", c.id(), model.path.display());
            println!("  created:   {}", c.created_at);
            println!("  sha256:    {}", model.sha256);
            if let Some(d) = &c.description {
                println!("  about:     {d}");
            }
            println!("  kind:      {}", c.kind().unwrap_or("(none recorded)"));
            match c.output.task {
                mltest::store::Task::Binary => println!(
                    "  output:    {} — binary classifier (classes {}; probability of {:?})",
                    c.output.label,
                    c.output.classes.join(", "),
                    c.output.positive_class
                ),
                mltest::store::Task::Multiclass => println!(
                    "  output:    {} — multiclass classifier ({} classes: {})",
                    c.output.label,
                    c.output.classes.len(),
                    c.output.classes.join(", ")
                ),
                mltest::store::Task::Regression => {
                    println!("  output:    {} — regressor", c.output.label)
                }
            }
            println!("  inputs:");
            for i in &c.inputs {
                let extra = match (&i.categories, i.range) {
                    (Some(cats), _) => format!("{} categories", cats.len()),
                    (None, Some((lo, hi))) => format!("range [{lo}, {hi}]"),
                    _ => String::new(),
                };
                println!("    {:<28} {:<10} {extra}", i.name, i.dtype.name());
            }
            if let Some(d) = &c.training_data {
                println!(
                    "  trained on: {} ({} rows, sha256 {})",
                    d.source,
                    d.rows,
                    &d.sha256[..d.sha256.len().min(12)]
                );
            }
            for (k, v) in &c.metrics {
                println!("  metric:    {k} = {v:.4}");
            }
            println!(
                "  tensors:   {} ({})",
                model.tensors.len(),
                c.tensors_sha256
            );
            for (n, t) in &model.tensors {
                println!("    {n:<26} {:?} {:?}", t.dtype, t.shape);
            }
            println!(
                "  built by:  {} crates, {}{}",
                c.dependencies.crates.len(),
                c.dependencies.rustc,
                c.dependencies
                    .git_commit
                    .as_ref()
                    .map(|g| format!(", commit {g}"))
                    .unwrap_or_default()
            );
            if let Some(p) = c.parent {
                println!("  parent:    {}@{p}", c.name);
            }
            for check in store.checks(&c.id())? {
                println!(
                    "  check:     {:<10} {}  {}",
                    check.kind,
                    if check.passed { "passed" } else { "FAILED" },
                    check.summary
                );
            }
        }
        Models::Promote {
            id,
            alias,
            force,
            reason,
        } => {
            let m = store.promote(&id, &alias, Promote { force, reason })?;
            let (name, _) = store.resolve(&id)?;
            println!(
                "{name}@{alias}: {} → {}{}",
                m.from.map_or("(none)".into(), |f| f.to_string()),
                m.to,
                if m.forced { " (forced)" } else { "" }
            );
        }
        Models::Rollback { name, alias } => {
            let m = store.rollback(&name, &alias)?;
            println!(
                "{name}@{alias}: {} → {} (rolled back)",
                m.from.map_or("(none)".into(), |f| f.to_string()),
                m.to
            );
        }
        Models::History {
            name,
            json: as_json,
        } => {
            let history = store.history(&name)?;
            if as_json {
                json(&history)?;
                return Ok(ExitCode::SUCCESS);
            }
            for m in history {
                println!(
                    "{}  {:<9} {}: {} → {}{}{}",
                    m.time,
                    m.action,
                    m.alias,
                    m.from.map_or("(none)".into(), |f| f.to_string()),
                    m.to,
                    if m.forced { " forced" } else { "" },
                    m.reason.map(|r| format!("  ({r})")).unwrap_or_default()
                );
            }
        }
        Models::Verify { id } => {
            let results = store.verify(id.as_deref())?;
            let mut failed = 0;
            for (id, result) in &results {
                match result {
                    Ok(()) => println!("ok      {id}"),
                    Err(e) => {
                        failed += 1;
                        println!("FAILED  {id}: {e}");
                    }
                }
            }
            println!("{} verified, {failed} failed", results.len());
            if failed > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Models::Freshness {
            id,
            max_age_days,
            json: as_json,
        } => {
            if !(max_age_days.is_finite() && max_age_days >= 0.0) {
                eprintln!(
                    "error: --max-age-days must be a number of days >= 0, got {max_age_days}"
                );
                return Ok(ExitCode::from(2));
            }
            let f = store.freshness(&id, mltest::clock::days(max_age_days))?;
            if as_json {
                json(&f)?;
            } else {
                println!("{}", f.describe());
            }
            if !f.fresh {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
