//! L2-regularised logistic regression on a sparse design, fitted with
//! argmin's L-BFGS (the optimizer linfa-logistic itself uses), as a linfa
//! model: [`SparseLogisticRegression`] implements linfa's `Fit` on
//! [`Csr`] records and the fitted model linfa's `Predict`.
//!
//! # Why not linfa-logistic
//!
//! linfa-logistic computes the loss as `X · w` with `X` a dense ndarray.
//! The reviews design is 18,789 rows × 4,136 columns with ~60 non-zeros a
//! row (1.4% dense): a dense fit multiplies 77 million cells per gradient
//! where 1.1 million are non-zero, and its cost grows with the bucket count.
//! Here the loss and gradient are two sparse products, `z = X w + b` and
//! `g = Xᵀ (σ(z) − y)`, each a gather over rows or columns (see
//! [`csr`](self::Csr)), so a fit costs O(non-zeros) per evaluation whatever
//! the width: 2^16 hashed buckets cost the same as 2^12. linfa-logistic
//! stays the choice for small dense inputs (its multinomial model too);
//! mltest's own reference model uses this one.
//!
//! # Objective
//!
//! `f(w, b) = (1/n) [ Σᵢ log(1 + exp(−sᵢ zᵢ)) + α/2 ‖w‖² ]` with `sᵢ = ±1`
//! and the intercept unpenalised: linfa-logistic's loss (`alpha` is its
//! `alpha`, scikit-learn's `1/C`) divided by `n`, which scikit-learn's lbfgs
//! path also does so that its tolerances do not depend on the row count.
//! The minimiser is the same; [`FittedSparseLogistic::objective`] reports the
//! unscaled sum, comparable with linfa-logistic's and scikit-learn's.
//!
//! # Reproducibility
//!
//! Every reduction runs in a fixed order (gathers per element, then the
//! loss summed row by row), so the same data and parameters give
//! bit-identical weights on any number of threads.
//!
//! ```
//! use linfa::prelude::*;
//! use mltest_core::model::logistic::{Csr, SparseLogisticRegression};
//! use ndarray::array;
//! // y = x0 > x1, noisy enough that the penalty keeps the weights finite.
//! let rows: Vec<Vec<(u32, f64)>> = vec![
//!     vec![(0, 2.0)], vec![(1, 2.0)], vec![(0, 1.0), (1, 0.2)], vec![(1, 1.0), (0, 0.2)],
//!     vec![(0, 0.5), (1, 0.6)], vec![(1, 0.5), (0, 0.6)],
//! ];
//! let x = Csr::from_rows(&rows, 2).unwrap();
//! let data = linfa::DatasetBase::new(x, array![true, false, true, false, false, true]);
//! let model = SparseLogisticRegression::default().alpha(0.1).fit(&data).unwrap();
//! assert!(model.weights()[0] > 0.0 && model.weights()[1] < 0.0);
//! let predicted: ndarray::Array1<bool> = model.predict(&data);
//! assert_eq!(predicted.iter().filter(|p| **p).count(), 3);
//! ```

mod csr;

use std::cell::RefCell;

use argmin::core::{
    CostFunction, Executor, Gradient, IterState, KV, Problem as ArgminProblem, Solver, State,
    TerminationReason, TerminationStatus,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::{Fit, PredictInplace};
use ndarray::Array1;

pub use csr::{Csr, CsrMatrix};

/// Why a sparse logistic regression could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum LogisticError {
    #[error("invalid parameter: {0}")]
    Params(String),
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("{what} holds a NaN or infinite value")]
    NonFinite { what: String },
    #[error("the targets hold one class only ({rows} rows): nothing to learn")]
    OneClass { rows: usize },
    #[error("L-BFGS failed: {0}")]
    Solver(String),
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Hyper-parameters (linfa's unfitted model). Defaults: `alpha` 1.0
/// (scikit-learn's `C = 1`), at most 1,000 L-BFGS iterations (scikit-learn's
/// `max_iter`), gradient tolerance 1e-4 on the largest component of the
/// scaled objective's gradient (scikit-learn's `tol` and the rule its lbfgs
/// solver stops on, so both stop equally converged), 10 correction pairs
/// (scikit-learn's and linfa-logistic's `m`), columns preconditioned (see
/// [`SparseLogisticRegression::precondition`]).
///
/// ```
/// use mltest_core::model::logistic::SparseLogisticRegression;
/// let params = SparseLogisticRegression::default().alpha(0.5).max_iterations(200);
/// assert_eq!(params.get_alpha(), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SparseLogisticRegression {
    alpha: f64,
    max_iterations: u64,
    gradient_tolerance: f64,
    memory: usize,
    precondition: bool,
}

impl Default for SparseLogisticRegression {
    fn default() -> Self {
        SparseLogisticRegression {
            alpha: 1.0,
            max_iterations: 1000,
            gradient_tolerance: 1e-4,
            memory: 10,
            precondition: true,
        }
    }
}

impl SparseLogisticRegression {
    /// The L2 penalty on the weights (not the intercept).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// The most L-BFGS iterations.
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    /// Stop when every component of the scaled objective's gradient is at
    /// most this in magnitude (scipy's `gtol`, which scikit-learn sets to
    /// its `tol`). An L2-norm rule (argmin's own) would stop later as the
    /// width grows: at 4,096 columns it took 127 iterations to scikit-learn's
    /// 97 for the same optimum to 1e-5.
    pub fn gradient_tolerance(mut self, tol: f64) -> Self {
        self.gradient_tolerance = tol;
        self
    }

    /// Fit in rescaled coordinates `wⱼ = uⱼ / √hⱼ`, `hⱼ` the mean of column
    /// `j`'s squared values plus `α/n` (the diagonal of the Hessian's
    /// curvature bound, Jacobi's preconditioner), and the intercept `b = 2u`
    /// (σ' ≤ 1/4 on a column of ones). On by default.
    ///
    /// Why: L-BFGS starts from a scalar Hessian guess, and hashed text
    /// columns differ in curvature by ~5,000× (a standardised numeric column
    /// has `hⱼ` ≈ 1, a bucket seen in a handful of the 18,789 review rows
    /// ≈ α/n = 5e-5). Rescaled, the same stop (largest component of the
    /// *original* gradient ≤ tolerance) came after 25 iterations instead of
    /// 97–108 on the reviews design at 4,096 buckets, accuracy within 0.05
    /// points; the objective then stands ~2.5e-4 above the optimum where the
    /// unscaled path's stands ~1e-4 (BENCHMARKS.md has both). The minimiser
    /// is the same: the rescaling is a change of variables, not of the loss.
    /// Off, the fit follows the plain path scikit-learn's lbfgs takes.
    ///
    /// ```
    /// use mltest_core::model::logistic::SparseLogisticRegression;
    /// let plain = SparseLogisticRegression::default().precondition(false);
    /// assert_ne!(plain, SparseLogisticRegression::default());
    /// ```
    pub fn precondition(mut self, on: bool) -> Self {
        self.precondition = on;
        self
    }

    /// The penalty.
    pub fn get_alpha(&self) -> f64 {
        self.alpha
    }

    fn validate(&self) -> Result<(), LogisticError> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(LogisticError::Params(format!(
                "alpha must be a finite number >= 0, got {}",
                self.alpha
            )));
        }
        if !(self.gradient_tolerance.is_finite() && self.gradient_tolerance > 0.0) {
            return Err(LogisticError::Params(format!(
                "gradient_tolerance must be a finite number > 0, got {}",
                self.gradient_tolerance
            )));
        }
        if self.max_iterations == 0 {
            return Err(LogisticError::Params(
                "max_iterations must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// A fitted model: weights per column, the intercept, and how the fit went.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedSparseLogistic {
    weights: Vec<f64>,
    intercept: f64,
    iterations: u64,
    evaluations: u64,
    objective: f64,
    converged: bool,
}

impl FittedSparseLogistic {
    /// The weights, one per column of the design.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// L-BFGS iterations taken.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Loss-and-gradient evaluations (each is two sparse products).
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// `Σ log(1 + exp(−s z)) + α/2 ‖w‖²` at the solution (the unscaled
    /// objective, as linfa-logistic and scikit-learn define it).
    pub fn objective(&self) -> f64 {
        self.objective
    }

    /// Whether the gradient or cost tolerance stopped the fit (not the
    /// iteration limit).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// P(true) per row.
    pub fn predict_probabilities(&self, x: &Csr) -> Array1<f64> {
        let mut z = vec![0.0; x.n_rows()];
        x.dot(&self.weights, self.intercept, &mut z);
        z.into_iter().map(sigmoid).collect()
    }
}

impl PredictInplace<Csr, Array1<bool>> for FittedSparseLogistic {
    fn predict_inplace(&self, x: &Csr, y: &mut Array1<bool>) {
        assert_eq!(
            x.n_cols(),
            self.weights.len(),
            "the design has {} columns, the model {} weights",
            x.n_cols(),
            self.weights.len()
        );
        for (out, p) in y.iter_mut().zip(self.predict_probabilities(x)) {
            *out = p >= 0.5;
        }
    }

    fn default_target(&self, x: &Csr) -> Array1<bool> {
        Array1::from_elem(x.n_rows(), false)
    }
}

impl<T: AsSingleTargets<Elem = bool>> Fit<Csr, T, LogisticError> for SparseLogisticRegression {
    type Object = FittedSparseLogistic;

    fn fit(&self, dataset: &DatasetBase<Csr, T>) -> Result<FittedSparseLogistic, LogisticError> {
        self.validate()?;
        let x = &dataset.records;
        let y: Vec<bool> = dataset.targets.as_single_targets().to_vec();
        if y.len() != x.n_rows() {
            return Err(LogisticError::Shape(format!(
                "{} targets for {} rows",
                y.len(),
                x.n_rows()
            )));
        }
        let positives = y.iter().filter(|v| **v).count();
        if positives == 0 || positives == y.len() {
            return Err(LogisticError::OneClass { rows: y.len() });
        }
        // Columns no training row touches have a zero gradient at zero, so
        // their weights stay exactly 0 through every L-BFGS step: fit
        // without them. With 2^16 hashed buckets ~80% of the columns are
        // empty, and the solver's vector work (serial, ~2.6M flops an
        // iteration at full width) would cost more than the products.
        let compacted = x.without_empty_columns();
        let (fit_x, columns) = match &compacted {
            Some((c, used)) => (c, Some(used.as_slice())),
            None => (x, None),
        };
        let scale = self.precondition.then(|| jacobi_scale(fit_x, self.alpha));
        let problem = Problem::new(fit_x, y, self.alpha).scaled(scale.clone());
        let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), self.memory)
            .with_tolerance_grad(0.0)
            .and_then(|s| s.with_tolerance_cost(f64::EPSILON))
            .map_err(|e| LogisticError::Solver(e.to_string()))?;
        let solver = MaxNormStop {
            inner: lbfgs,
            tolerance: self.gradient_tolerance,
            scale,
        };
        let start = vec![0.0; fit_x.n_cols() + 1];
        let result = Executor::new(problem, solver)
            .configure(|s| s.param(start).max_iters(self.max_iterations))
            .timer(false)
            .run()
            .map_err(|e| LogisticError::Solver(e.to_string()))?;
        let state = result.state();
        let converged = matches!(
            state.get_termination_reason(),
            Some(TerminationReason::SolverConverged)
        );
        let iterations = state.get_iter();
        let u = state
            .get_best_param()
            .ok_or_else(|| LogisticError::Solver("no parameters after the fit".into()))?;
        let problem = result
            .problem
            .problem
            .as_ref()
            .ok_or_else(|| LogisticError::Solver("the problem was not returned".into()))?;
        let evaluations = problem.evaluations.get();
        let mut w = problem.unscale(u);
        let objective = problem.evaluate(&w).0 * problem.n;
        let intercept = w.pop().unwrap_or(0.0);
        let w = match columns {
            Some(used) => {
                let mut full = vec![0.0; x.n_cols()];
                for (k, &j) in used.iter().enumerate() {
                    full[j as usize] = w[k];
                }
                full
            }
            None => w,
        };
        if let Some(j) = w.iter().position(|v| !v.is_finite()) {
            return Err(LogisticError::NonFinite {
                what: format!("the fitted weight of column {j}"),
            });
        }
        Ok(FittedSparseLogistic {
            weights: w,
            intercept,
            iterations,
            evaluations,
            objective,
            converged,
        })
    }
}

/// argmin's L-BFGS with scipy's stopping rule on the gradient (the largest
/// component at most `tolerance`) in place of its own L2-norm rule; the
/// inner solver keeps its cost-change rule. With a preconditioner the
/// solver sees `∂f/∂u = D ∂f/∂w`: the rule is applied to `∂f/∂w`, so the
/// same tolerance means the same thing either way.
struct MaxNormStop<S> {
    inner: S,
    tolerance: f64,
    scale: Option<Vec<f64>>,
}

/// The preconditioner `D` (one factor per column, then the intercept's):
/// `1/√(mean xᵢⱼ² + α/n)` and 2 (see [`SparseLogisticRegression::precondition`]).
/// One pass over the values, summed in storage order (reproducible).
fn jacobi_scale(x: &Csr, alpha: f64) -> Vec<f64> {
    let n = x.n_rows() as f64;
    let mut h = vec![0.0; x.n_cols()];
    let m = x.matrix();
    for (j, v) in m.indices().iter().zip(m.data()) {
        h[*j as usize] += v * v;
    }
    let mut d: Vec<f64> = h
        .into_iter()
        .map(|s| {
            let c = s / n + alpha / n;
            // A column of zeros with alpha 0 has no curvature to scale by.
            if c > 0.0 { 1.0 / c.sqrt() } else { 1.0 }
        })
        .collect();
    d.push(2.0);
    d
}

type Iter = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

impl<O, S: Solver<O, Iter>> Solver<O, Iter> for MaxNormStop<S> {
    fn name(&self) -> &str {
        "L-BFGS (max-norm gradient stop)"
    }

    fn init(
        &mut self,
        problem: &mut ArgminProblem<O>,
        state: Iter,
    ) -> Result<(Iter, Option<KV>), argmin::core::Error> {
        self.inner.init(problem, state)
    }

    fn next_iter(
        &mut self,
        problem: &mut ArgminProblem<O>,
        state: Iter,
    ) -> Result<(Iter, Option<KV>), argmin::core::Error> {
        self.inner.next_iter(problem, state)
    }

    fn terminate(&mut self, state: &Iter) -> TerminationStatus {
        let largest = state.get_gradient().map(|g| match &self.scale {
            Some(d) => g
                .iter()
                .zip(d)
                .fold(0.0f64, |m, (v, dj)| m.max((v / dj).abs())),
            None => g.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        });
        if largest.is_some_and(|m| m <= self.tolerance) {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        self.inner.terminate(state)
    }
}

/// `(log(1 + exp(−s z)), σ(z) − y)` for label `y` (`s = ±1`) from one
/// `exp`: both are functions of `e = exp(−|z|)`, which never overflows.
#[cfg(test)]
fn loss_and_residual(z: f64, y: bool) -> (f64, f64) {
    let e = (-z.abs()).exp();
    let t = if y { -z } else { z };
    let loss = t.max(0.0) + e.ln_1p();
    (loss, residual(z, e, y))
}

/// `σ(z) − y` from `e = exp(−|z|)`.
#[inline]
fn residual(z: f64, e: f64, y: bool) -> f64 {
    let p = if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    p - f64::from(u8::from(y))
}

/// A block of rows' margins `z` (labels `y`) become their residuals
/// `σ(z) − y`; returns the block's loss `Σ log(1 + exp(−s z))`.
///
/// The loss is `Σ max(t, 0) + Σ log(1 + e)` with `e = exp(−|z|) ≤ 1`, and
/// the second sum is the logarithm of `Π (1 + e)`: one `ln` a block, not a
/// `log1p` a row. Each factor is in (1, 2], so 256 of them stay below 2^256
/// (no overflow), and the product's rounding (≤ 256 half-ulps, 3e-14
/// relative) is an absolute error of 3e-14 on the block's loss: ~1e-12 on a
/// 18,789-row fit's loss of 5,192, the size of the summation's own rounding.
fn block_loss(z: &mut [f64], y: &[bool]) -> f64 {
    debug_assert!(z.len() <= csr::BLOCK_ROWS);
    let (mut hinge, mut product) = (0.0, 1.0);
    for (zi, &yi) in z.iter_mut().zip(y) {
        let e = (-zi.abs()).exp();
        let t = if yi { -*zi } else { *zi };
        hinge += t.max(0.0);
        product *= 1.0 + e;
        *zi = residual(*zi, e, yi);
    }
    hinge + product.ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A point with its scaled cost and gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The argmin problem: parameters are the weights followed by the intercept.
struct Problem<'a> {
    x: &'a Csr,
    y: Vec<bool>,
    alpha: f64,
    n: f64,
    /// The line search asks for the cost and then the gradient at the same
    /// point; both come from one pass (`z` is shared), kept here.
    last: RefCell<Option<Evaluated>>,
    evaluations: std::cell::Cell<u64>,
    /// The preconditioner: the solver's parameters are `u` with `p = D u`.
    scale: Option<Vec<f64>>,
}

impl<'a> Problem<'a> {
    fn new(x: &'a Csr, y: Vec<bool>, alpha: f64) -> Self {
        let n = y.len() as f64;
        Problem {
            x,
            y,
            alpha,
            n,
            last: RefCell::new(None),
            evaluations: std::cell::Cell::new(0),
            scale: None,
        }
    }

    fn scaled(mut self, scale: Option<Vec<f64>>) -> Self {
        self.scale = scale;
        self
    }

    /// The model's parameters `p = D u` from the solver's `u`.
    fn unscale(&self, u: &[f64]) -> Vec<f64> {
        match &self.scale {
            Some(d) => u.iter().zip(d).map(|(a, b)| a * b).collect(),
            None => u.to_vec(),
        }
    }

    /// Scaled cost and gradient at `p` (the model's parameters, not the
    /// solver's: see [`Problem::cached`]).
    fn evaluate(&self, p: &[f64]) -> (f64, Vec<f64>) {
        self.evaluations.set(self.evaluations.get() + 1);
        let d = self.x.n_cols();
        let (w, b) = (&p[..d], p[d]);
        let mut g = vec![0.0; d + 1];
        let y = &self.y;
        let (loss, intercept_grad) =
            self.x
                .loss_gradient(w, b, |i, z| block_loss(z, &y[i..i + z.len()]), &mut g[..d]);
        let inv_n = 1.0 / self.n;
        for (gj, wj) in g[..d].iter_mut().zip(w) {
            *gj = (*gj + self.alpha * wj) * inv_n;
        }
        g[d] = intercept_grad * inv_n;
        let penalty = 0.5 * self.alpha * w.iter().map(|v| v * v).sum::<f64>();
        ((loss + penalty) * inv_n, g)
    }

    /// Cost and gradient at the solver's point `p` (`u`, the gradient in `u`).
    fn cached(&self, p: &[f64]) -> (f64, Vec<f64>) {
        if let Some((q, c, g)) = self.last.borrow().as_ref()
            && q.as_slice() == p
        {
            return (*c, g.clone());
        }
        let (c, mut g) = self.evaluate(&self.unscale(p));
        if let Some(d) = &self.scale {
            for (gj, dj) in g.iter_mut().zip(d) {
                *gj *= dj;
            }
        }
        *self.last.borrow_mut() = Some((p.to_vec(), c, g.clone()));
        (c, g)
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.cached(p).0)
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.cached(p).1)
    }
}

#[cfg(test)]
mod tests;
