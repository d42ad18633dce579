//! A CSR design matrix (sprs) as linfa records, and the two sparse products
//! the logistic loss needs.
//!
//! Both products are *gathers* (each output element reads its own row or
//! column and writes one value), so they run on every core with no
//! reduction, and each element is summed in the same order on any thread
//! count: a fit is bit-reproducible whatever the machine's core count.

use rayon::prelude::*;
use sprs::{CsMatI, TriMatI};

use super::LogisticError;
use crate::model::SparseRow;

/// The sparse matrix type: f64 values, u32 column indices (a design never
/// has 4 billion columns, and half-width indices make the gathers cheaper),
/// usize row pointers.
pub type CsrMatrix = CsMatI<f64, u32, usize>;

/// Rows per parallel task: below ~2,000 rows a task costs more to schedule
/// than to compute (a review row has ~60 non-zeros, ~60 ns of work).
const MIN_ROWS_PER_TASK: usize = 2048;
/// Columns per parallel task of the transposed product.
const MIN_COLS_PER_TASK: usize = 512;

/// A design matrix in CSR form with its CSC transpose, ready for the two
/// products of a gradient: `X w` (row gathers) and `Xᵀ r` (column gathers).
/// Implements linfa's `Records`, so it goes into a `linfa::DatasetBase`.
///
/// ```
/// use mltest_core::model::logistic::Csr;
/// use linfa::dataset::Records;
/// let x = Csr::from_rows(&[vec![(0, 1.0), (2, 0.5)], vec![(1, 2.0)]], 3).unwrap();
/// assert_eq!((x.nsamples(), x.nfeatures(), x.nnz()), (2, 3, 3));
/// let mut z = vec![0.0; 2];
/// x.dot(&[1.0, 10.0, 100.0], 0.5, &mut z);
/// assert_eq!(z, [51.5, 20.5]);
/// ```
#[derive(Clone, Debug)]
pub struct Csr {
    rows: CsrMatrix,
    cols: CsrMatrix,
}

impl Csr {
    /// From a sprs CSR matrix (a CSC one is converted). Every value must be finite.
    pub fn new(matrix: CsrMatrix) -> Result<Self, LogisticError> {
        let rows = if matrix.is_csr() {
            matrix
        } else {
            matrix.to_other_storage()
        };
        if let Some(k) = rows.data().iter().position(|v| !v.is_finite()) {
            let row = rows.indptr().raw_storage().partition_point(|p| *p <= k) - 1;
            return Err(LogisticError::NonFinite {
                what: format!("the design matrix (row {row})"),
            });
        }
        let cols = rows.to_other_storage();
        Ok(Csr { rows, cols })
    }

    /// From rows of (column, value) pairs, e.g. a feature pipeline's output.
    /// A column at or past `width` is an error naming the row.
    pub fn from_rows(rows: &[SparseRow], width: usize) -> Result<Self, LogisticError> {
        let nnz = rows.iter().map(Vec::len).sum();
        // A feature pipeline's rows are already strictly increasing: build
        // the CSR arrays directly (no sort), as sprs checks them.
        let increasing = rows.iter().all(|r| {
            r.windows(2).all(|w| w[0].0 < w[1].0) && r.last().is_none_or(|e| (e.0 as usize) < width)
        });
        if increasing {
            let mut indptr = Vec::with_capacity(rows.len() + 1);
            let (mut indices, mut data) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
            indptr.push(0);
            for r in rows {
                indices.extend(r.iter().map(|e| e.0));
                data.extend(r.iter().map(|e| e.1));
                indptr.push(indices.len());
            }
            let m = CsrMatrix::try_new((rows.len(), width), indptr, indices, data)
                .map_err(|(_, _, _, e)| LogisticError::Shape(e.to_string()))?;
            return Csr::new(m);
        }
        let mut tri = TriMatI::<f64, u32>::with_capacity((rows.len(), width), nnz);
        for (i, row) in rows.iter().enumerate() {
            for &(j, v) in row {
                if j as usize >= width {
                    return Err(LogisticError::Shape(format!(
                        "row {i} has column {j}, the design has {width} columns"
                    )));
                }
                tri.add_triplet(i, j as usize, v);
            }
        }
        // Duplicate (row, column) entries are summed, as scipy does.
        Csr::new(tri.to_csr())
    }

    /// The CSR matrix.
    pub fn matrix(&self) -> &CsrMatrix {
        &self.rows
    }

    /// Rows.
    pub fn n_rows(&self) -> usize {
        self.rows.rows()
    }

    /// Columns.
    pub fn n_cols(&self) -> usize {
        self.rows.cols()
    }

    /// Stored values.
    pub fn nnz(&self) -> usize {
        self.rows.nnz()
    }

    /// `z = X w + b`, one row per task group.
    pub fn dot(&self, w: &[f64], b: f64, z: &mut [f64]) {
        gather(&self.rows, w, b, z, MIN_ROWS_PER_TASK);
    }

    /// `g = Xᵀ r` (one column of X per element of `g`).
    pub fn dot_transposed(&self, r: &[f64], g: &mut [f64]) {
        gather(&self.cols, r, 0.0, g, MIN_COLS_PER_TASK);
    }
}

/// `out[i] = start + Σ_k data[k] · v[indices[k]]` over outer slice `i` of
/// `m` (a row of CSR, a column of CSC), in index order.
fn gather(m: &CsrMatrix, v: &[f64], start: f64, out: &mut [f64], min_len: usize) {
    let indptr = m.indptr();
    let (ptr, indices, data) = (indptr.raw_storage(), m.indices(), m.data());
    let offset = ptr.first().copied().unwrap_or(0);
    out.par_iter_mut()
        .with_min_len(min_len)
        .enumerate()
        .for_each(|(i, o)| {
            let (s, e) = (ptr[i] - offset, ptr[i + 1] - offset);
            let mut acc = start;
            for (j, x) in indices[s..e].iter().zip(&data[s..e]) {
                acc += x * v[*j as usize];
            }
            *o = acc;
        });
}

impl linfa::dataset::Records for Csr {
    type Elem = f64;

    fn nsamples(&self) -> usize {
        self.n_rows()
    }

    fn nfeatures(&self) -> usize {
        self.n_cols()
    }
}
