//! The run record: one JSON file per run under `target/mltest/runs/`, with
//! each step's outcome and duration, rewritten atomically after every step.
//!
//! A run starts as `running` with its pid. A run that ends normally says
//! `passed` or `failed`; one stopped by SIGINT/SIGTERM says `interrupted`
//! (written by the signal thread); one killed outright (SIGKILL) cannot write
//! anything, so the next run marks every `running` record whose process is
//! gone as `interrupted`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub status: String,
    pub seconds: f64,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub pid: u32,
    pub started: String,
    pub status: String,
    pub data: Option<String>,
    pub store: String,
    pub model: Option<String>,
    pub steps: Vec<Step>,
}

/// The record of this run, shared with the signal thread.
#[derive(Clone)]
pub struct Run {
    path: PathBuf,
    record: Arc<Mutex<RunRecord>>,
}

fn now() -> String {
    mltest::__repo::iso_now()
}

impl Run {
    pub fn start(dir: &Path, store: &Path) -> std::io::Result<Run> {
        std::fs::create_dir_all(dir)?;
        mark_abandoned(dir);
        let run_id = format!("{}-{}", now().replace([':', '-'], ""), std::process::id());
        let run = Run {
            path: dir.join(format!("{run_id}.json")),
            record: Arc::new(Mutex::new(RunRecord {
                run_id,
                pid: std::process::id(),
                started: now(),
                status: "running".into(),
                data: None,
                store: store.display().to_string(),
                model: None,
                steps: Vec::new(),
            })),
        };
        run.write()?;
        Ok(run)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn update(&self, f: impl FnOnce(&mut RunRecord)) -> std::io::Result<()> {
        {
            let mut r = self.record.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut r);
        }
        self.write()
    }

    pub fn step(
        &self,
        name: &str,
        status: &str,
        seconds: f64,
        detail: impl Into<String>,
    ) -> std::io::Result<()> {
        let detail = detail.into();
        self.update(|r| {
            r.steps.push(Step {
                name: name.into(),
                status: status.into(),
                seconds,
                detail,
            })
        })
    }

    fn write(&self) -> std::io::Result<()> {
        let json = {
            let r = self.record.lock().unwrap_or_else(|p| p.into_inner());
            serde_json::to_vec_pretty(&*r).map_err(std::io::Error::other)?
        };
        mltest::__repo::write_atomic(&self.path, &json)
    }
}

/// Marks `running` records of processes that no longer exist as interrupted.
fn mark_abandoned(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(mut r) = serde_json::from_slice::<RunRecord>(&bytes) else {
            continue;
        };
        if r.status == "running" && !Path::new(&format!("/proc/{}", r.pid)).exists() {
            r.status = "interrupted".into();
            r.steps.push(Step {
                name: "interrupted".into(),
                status: "interrupted".into(),
                seconds: 0.0,
                detail: "the process ended without finishing (killed); found by a later run".into(),
            });
            if let Ok(json) = serde_json::to_vec_pretty(&r) {
                let _ = mltest::__repo::write_atomic(&path, &json);
            }
        }
    }
}
