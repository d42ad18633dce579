//! A CSR design matrix (sprs) as linfa records, and the two sparse products
//! the logistic loss needs.
//!
//! Both products are *gathers* (each output element reads its own row or
//! column and writes one value), so they run on every core with no
//! reduction, and each element is summed in the same order on any thread
//! count: a fit is bit-reproducible whatever the machine's core count.

use std::sync::OnceLock;

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
/// At most this many row chunks in [`Csr::loss_gradient`] (each holds a
/// gradient-sized buffer): 16 keep two to eight cores busy.
const MAX_CHUNKS: usize = 16;
/// Rows per block of [`Csr::loss_gradient`]: 256 review rows are ~150 kB
/// of matrix, so the scatter re-reads them from L2, not memory.
pub const BLOCK_ROWS: usize = 256;
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
    /// The CSC copy, built on first use by [`Csr::dot_transposed`]: a fit
    /// does not need it (see [`Csr::loss_gradient`]).
    cols: OnceLock<CsrMatrix>,
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
        Ok(Csr {
            rows,
            cols: OnceLock::new(),
        })
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

    /// The matrix without its empty columns, and the original index of each
    /// column kept; `None` when every column holds a value. Exact: indices
    /// keep their order, values are untouched.
    pub fn without_empty_columns(&self) -> Option<(Csr, Vec<u32>)> {
        let mut seen = vec![false; self.n_cols()];
        for &j in self.rows.indices() {
            seen[j as usize] = true;
        }
        if seen.iter().all(|s| *s) {
            return None;
        }
        let mut map = vec![u32::MAX; self.n_cols()];
        let mut used = Vec::new();
        for (j, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            map[j] = used.len() as u32;
            used.push(j as u32);
        }
        let rows = CsrMatrix::new(
            (self.n_rows(), used.len()),
            self.rows.indptr().raw_storage().to_vec(),
            self.rows
                .indices()
                .iter()
                .map(|&j| map[j as usize])
                .collect(),
            self.rows.data().to_vec(),
        );
        Some((
            Csr {
                rows,
                cols: OnceLock::new(),
            },
            used,
        ))
    }

    /// `z = X w + b`, one row per task group.
    pub fn dot(&self, w: &[f64], b: f64, z: &mut [f64]) {
        gather(&self.rows, w, b, z, MIN_ROWS_PER_TASK);
    }

    /// `g = Xᵀ r` (one column of X per element of `g`).
    pub fn dot_transposed(&self, r: &[f64], g: &mut [f64]) {
        let cols = self.cols.get_or_init(|| self.rows.to_other_storage());
        gather(cols, r, 0.0, g, MIN_COLS_PER_TASK);
    }

    /// The logistic loss's one pass, a block of rows at a time: `zᵢ = xᵢ·w + b`
    /// for the block's rows, then `f(first_row, z, r)` turns the block's
    /// margins into residuals `rᵢ` (written over `z`) and returns the block's
    /// loss, then `g += rᵢ xᵢ` while the block's rows are still in cache.
    /// Returns `(Σ loss, Σ rᵢ)`; `g` (zeroed by the caller) gets `Xᵀ r`.
    /// The matrix is read once per evaluation where two gathers (rows, then
    /// the CSC copy) read it twice: the products are bound by memory traffic
    /// (12 bytes a non-zero), so this halves their time. Handing `f` a block
    /// (not a row) lets it sum the block's losses with one logarithm (see
    /// the logistic problem): a `log1p` per row was 13% of a fit.
    ///
    /// Rows are cut into a fixed number of chunks that depends on the row
    /// count only, each scattering into its own buffer, and the buffers are
    /// added in chunk order: the same bits on any thread count. When the
    /// buffers would exceed 2^22 values (32 MB), it falls back to the two
    /// gathers, which need no buffers.
    pub fn loss_gradient<F>(&self, w: &[f64], b: f64, f: F, g: &mut [f64]) -> (f64, f64)
    where
        F: Fn(usize, &mut [f64]) -> f64 + Sync,
    {
        let (n, d) = (self.n_rows(), self.n_cols());
        let chunks = n.div_ceil(MIN_ROWS_PER_TASK).clamp(1, MAX_CHUNKS);
        if chunks * d > 1 << 22 {
            let mut z = vec![0.0; n];
            self.dot(w, b, &mut z);
            let mut loss = 0.0;
            for (k, block) in z.chunks_mut(BLOCK_ROWS).enumerate() {
                loss += f(k * BLOCK_ROWS, block);
            }
            let residual = z.iter().sum();
            self.dot_transposed(&z, g);
            return (loss, residual);
        }
        let indptr = self.rows.indptr();
        let (ptr, indices, data) = (indptr.raw_storage(), self.rows.indices(), self.rows.data());
        let offset = ptr.first().copied().unwrap_or(0);
        // Whole blocks per chunk, so the blocks (and the sums over them) are
        // the same whatever the chunking.
        let per = n.div_ceil(chunks).div_ceil(BLOCK_ROWS) * BLOCK_ROWS;
        let parts: Vec<(f64, f64, Vec<f64>)> = (0..n.div_ceil(per))
            .into_par_iter()
            .map(|c| {
                let mut part = vec![0.0; d];
                let mut z = [0.0f64; BLOCK_ROWS];
                let (mut loss, mut residual) = (0.0, 0.0);
                let (first, last) = (c * per, ((c + 1) * per).min(n));
                for start in (first..last).step_by(BLOCK_ROWS) {
                    let rows = start..(start + BLOCK_ROWS).min(last);
                    let z = &mut z[..rows.len()];
                    for (zi, i) in z.iter_mut().zip(rows.clone()) {
                        let (s, e) = (ptr[i] - offset, ptr[i + 1] - offset);
                        *zi = b + dot_row(&indices[s..e], &data[s..e], w);
                    }
                    loss += f(start, z);
                    for (r, i) in z.iter().zip(rows) {
                        residual += r;
                        let (s, e) = (ptr[i] - offset, ptr[i + 1] - offset);
                        for (j, x) in indices[s..e].iter().zip(&data[s..e]) {
                            part[*j as usize] += r * x;
                        }
                    }
                }
                (loss, residual, part)
            })
            .collect();
        let (mut loss, mut residual) = (0.0, 0.0);
        for (l, r, part) in parts {
            loss += l;
            residual += r;
            for (gj, pj) in g.iter_mut().zip(&part) {
                *gj += pj;
            }
        }
        (loss, residual)
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
            *o = start + dot_row(&indices[s..e], &data[s..e], v);
        });
}

/// `Σ_k data[k] · v[indices[k]]` with four accumulators: one accumulator
/// waits ~4 cycles per add on the previous one, which made the products
/// latency-bound (1.8 ns a non-zero on this machine); four independent
/// chains overlap. The order is fixed by the code, so the sum is the same
/// on any thread count.
#[inline]
fn dot_row(indices: &[u32], data: &[f64], v: &[f64]) -> f64 {
    let mut a = [0.0f64; 4];
    let (ic, dc) = (indices.chunks_exact(4), data.chunks_exact(4));
    let (ir, dr) = (ic.remainder(), dc.remainder());
    for (j, x) in ic.zip(dc) {
        a[0] += x[0] * v[j[0] as usize];
        a[1] += x[1] * v[j[1] as usize];
        a[2] += x[2] * v[j[2] as usize];
        a[3] += x[3] * v[j[3] as usize];
    }
    for (j, x) in ir.iter().zip(dr) {
        a[0] += x * v[*j as usize];
    }
    (a[0] + a[1]) + (a[2] + a[3])
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
