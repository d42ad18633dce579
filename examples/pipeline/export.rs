//! `--export-design DIR`: what `bench/model_quality.py` needs to put
//! scikit-learn beside this run on the same problem — the split's row
//! numbers, the CSR design matrices exactly as the fit saw them, and
//! `run.json` with the run's figures and every gate's verdict (written
//! whatever the outcome, so a benchmark never has to guess).

use std::io::Write;
use std::path::{Path, PathBuf};

use mltest::model::logistic::Csr;
use serde::Serialize;

/// One gate's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Gate {
    pub kind: String,
    /// "pass", "fail", "inconclusive" or "error".
    pub verdict: String,
    pub detail: String,
}

/// The figures of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunFigures {
    pub seed: u64,
    pub buckets: usize,
    pub alpha: f64,
    pub status: String,
    pub main_job_s: f64,
    pub train_step_s: Option<f64>,
    pub fit_s: Option<f64>,
    pub iterations: Option<u64>,
    pub objective: Option<f64>,
    pub accuracy: Option<f64>,
    pub gates: Vec<Gate>,
}

pub struct Export {
    dir: PathBuf,
}

impl Export {
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Export {
            dir: dir.to_path_buf(),
        })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let mut f = std::fs::File::create(self.dir.join(name))?;
        f.write_all(bytes)
    }

    /// Row numbers of a split part, u32 little-endian.
    pub fn rows(&self, part: &str, rows: &[u32]) -> std::io::Result<()> {
        let bytes: Vec<u8> = rows.iter().flat_map(|r| r.to_le_bytes()).collect();
        self.write(&format!("{part}_rows.u32"), &bytes)
    }

    /// A design matrix and its labels: `{part}_indptr.u64`, `_indices.u32`,
    /// `_data.f64`, `_y.u8`, and `meta.json` with the width.
    pub fn design(&self, part: &str, x: &Csr, y: &[bool]) -> std::io::Result<()> {
        let m = x.matrix();
        let indptr: Vec<u8> = m
            .indptr()
            .to_proper()
            .iter()
            .flat_map(|p| (*p as u64).to_le_bytes())
            .collect();
        let indices: Vec<u8> = m.indices().iter().flat_map(|i| i.to_le_bytes()).collect();
        let data: Vec<u8> = m.data().iter().flat_map(|v| v.to_le_bytes()).collect();
        let labels: Vec<u8> = y.iter().map(|v| u8::from(*v)).collect();
        self.write(&format!("{part}_indptr.u64"), &indptr)?;
        self.write(&format!("{part}_indices.u32"), &indices)?;
        self.write(&format!("{part}_data.f64"), &data)?;
        self.write(&format!("{part}_y.u8"), &labels)?;
        self.write(
            "meta.json",
            serde_json::json!({ "width": x.n_cols() })
                .to_string()
                .as_bytes(),
        )
    }

    pub fn figures(&self, figures: &RunFigures) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(figures).map_err(std::io::Error::other)?;
        self.write("run.json", text.as_bytes())
    }
}
