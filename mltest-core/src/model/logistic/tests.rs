use linfa::prelude::*;
use ndarray::Array1;

use super::*;
use crate::rng::SplitMix64;

/// A seeded sparse problem: `rows` × `width`, ~`per_row` non-zeros a row,
/// labels from a hidden linear rule plus label noise.
fn problem(rows: usize, width: usize, per_row: usize, seed: u64) -> (Csr, Vec<bool>) {
    let mut rng = SplitMix64::new(seed);
    let truth: Vec<f64> = (0..width).map(|_| rng.unit() * 4.0 - 2.0).collect();
    let mut design = Vec::with_capacity(rows);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let mut row: Vec<(u32, f64)> = (0..per_row)
            .map(|_| ((rng.next_u64() % width as u64) as u32, rng.unit()))
            .collect();
        row.sort_by_key(|e| e.0);
        row.dedup_by_key(|e| e.0);
        let z: f64 = row.iter().map(|(j, v)| truth[*j as usize] * v).sum::<f64>() + 0.3;
        y.push(rng.unit() < sigmoid(z));
        design.push(row);
    }
    (Csr::from_rows(&design, width).unwrap(), y)
}

fn fit(x: &Csr, y: &[bool], alpha: f64) -> FittedSparseLogistic {
    let data = linfa::DatasetBase::new(x.clone(), Array1::from(y.to_vec()));
    SparseLogisticRegression::default()
        .alpha(alpha)
        .fit(&data)
        .unwrap()
}

#[test]
fn the_gradient_is_the_derivative_of_the_cost() {
    let (x, y) = problem(200, 30, 5, 1);
    let p = Problem::new(&x, y, 0.7);
    let mut rng = SplitMix64::new(9);
    let at: Vec<f64> = (0..31).map(|_| rng.unit() - 0.5).collect();
    let (_, g) = p.evaluate(&at);
    for j in [0, 7, 29, 30] {
        let h = 1e-6;
        let (mut up, mut down) = (at.clone(), at.clone());
        up[j] += h;
        down[j] -= h;
        let numeric = (p.evaluate(&up).0 - p.evaluate(&down).0) / (2.0 * h);
        assert!(
            (numeric - g[j]).abs() < 1e-7,
            "column {j}: analytic {} numeric {numeric}",
            g[j]
        );
    }
}

#[test]
fn the_fit_reaches_the_optimum_linfa_logistic_reaches_on_the_dense_matrix() {
    let (x, y) = problem(400, 25, 6, 2);
    // Both optimizers run to a tight tolerance, so each stops at the optimum
    // rather than at its own default stopping point (1e-5 here, 1e-4 in linfa).
    let data = linfa::DatasetBase::new(x.clone(), Array1::from(y.clone()));
    let sparse = SparseLogisticRegression::default()
        .alpha(1.0)
        .gradient_tolerance(1e-10)
        .fit(&data)
        .unwrap();
    assert!(sparse.converged(), "{} iterations", sparse.iterations());
    let dense = x.matrix().to_dense();
    let data = linfa::Dataset::new(dense, Array1::from(y.clone()));
    let linfa_fit = linfa_logistic::LogisticRegression::default()
        .alpha(1.0)
        .max_iterations(1000)
        .gradient_tolerance(1e-8)
        .fit(&data)
        .unwrap();
    // linfa maps `true` to its positive label only when it met `false` first.
    let sign = if linfa_fit.labels().pos.class {
        1.0
    } else {
        -1.0
    };
    // Both at the same optimum: the objectives agree to 1e-9 (relative) and
    // the weights to 1e-3 (the optimum is flat along correlated columns,
    // and each optimizer stops at its own tolerance).
    let mut theirs: Vec<f64> = linfa_fit.params().iter().map(|w| sign * w).collect();
    theirs.push(sign * linfa_fit.intercept());
    let p = Problem::new(&x, y.clone(), 1.0);
    let their_objective = p.evaluate(&theirs).0 * p.n;
    assert!(
        (sparse.objective() - their_objective).abs() <= their_objective * 1e-9,
        "sparse objective {} vs linfa's {their_objective}",
        sparse.objective()
    );
    for (a, b) in sparse.weights().iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-3, "weight {a} vs linfa {b}");
    }
    assert!((sparse.intercept() - theirs[25]).abs() < 1e-3);
}

#[test]
fn same_data_same_weights_to_the_bit_on_one_thread_or_two() {
    // Rows enough that both products split into several tasks.
    let (x, y) = problem(9_000, 3_000, 40, 3);
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| fit(&x, &y, 1.0))
    };
    let (one, two) = (on(1), on(2));
    let bits = |m: &FittedSparseLogistic| -> Vec<u64> {
        m.weights()
            .iter()
            .chain([m.intercept()].iter())
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(bits(&one), bits(&two));
    assert_eq!(bits(&one), bits(&on(2)), "a second fit on two threads");
    assert_eq!(one.objective().to_bits(), two.objective().to_bits());
}

#[test]
fn a_stronger_penalty_gives_smaller_weights_and_a_higher_data_loss() {
    let (x, y) = problem(500, 40, 6, 4);
    let (weak, strong) = (fit(&x, &y, 0.01), fit(&x, &y, 10.0));
    let norm = |m: &FittedSparseLogistic| m.weights().iter().map(|v| v * v).sum::<f64>();
    assert!(norm(&strong) < norm(&weak) / 4.0);
    let acc = |m: &FittedSparseLogistic| {
        let data = linfa::DatasetBase::new(x.clone(), Array1::from(y.clone()));
        let p: Array1<bool> = m.predict(&data);
        p.iter().zip(&y).filter(|(a, b)| a == b).count()
    };
    assert!(
        acc(&weak) >= acc(&strong),
        "{} vs {}",
        acc(&weak),
        acc(&strong)
    );
}

#[test]
fn the_one_pass_gradient_equals_the_two_gathers() {
    let (x, y) = problem(5_000, 700, 20, 8);
    let mut rng = SplitMix64::new(3);
    let w: Vec<f64> = (0..700).map(|_| rng.unit() - 0.5).collect();
    let f = |i: usize, z: f64| loss_and_residual(z, y[i]);
    let mut g = vec![0.0; 700];
    let blocks = |i: usize, z: &mut [f64]| block_loss(z, &y[i..i + z.len()]);
    let (loss, residual) = x.loss_gradient(&w, 0.2, blocks, &mut g);
    let mut z = vec![0.0; 5_000];
    x.dot(&w, 0.2, &mut z);
    let pairs: Vec<(f64, f64)> = z.iter().enumerate().map(|(i, z)| f(i, *z)).collect();
    let r: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let mut expected = vec![0.0; 700];
    x.dot_transposed(&r, &mut expected);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
    assert!(close(loss, pairs.iter().map(|p| p.0).sum()));
    assert!(close(residual, r.iter().sum()));
    for (a, b) in g.iter().zip(&expected) {
        assert!(close(*a, *b), "{a} vs {b}");
    }
}

#[test]
fn empty_columns_get_weight_zero_and_change_nothing_else() {
    // Columns 0, 5 and 6 of the wide design are empty; the narrow design is
    // the same data without them.
    let (narrow, y) = problem(300, 8, 4, 6);
    let spread = |j: u32| if j < 4 { j + 1 } else { j + 3 };
    let rows: Vec<Vec<(u32, f64)>> = (0..narrow.n_rows())
        .map(|i| {
            let r = narrow.matrix().outer_view(i).unwrap();
            r.iter().map(|(j, v)| (spread(j as u32), *v)).collect()
        })
        .collect();
    let wide = Csr::from_rows(&rows, 11).unwrap();
    let (a, b) = (fit(&narrow, &y, 1.0), fit(&wide, &y, 1.0));
    for j in [0, 5, 6] {
        assert_eq!(b.weights()[j].to_bits(), 0.0f64.to_bits(), "column {j}");
    }
    for j in 0..8u32 {
        assert_eq!(
            a.weights()[j as usize].to_bits(),
            b.weights()[spread(j) as usize].to_bits()
        );
    }
    assert_eq!(a.intercept().to_bits(), b.intercept().to_bits());
    assert_eq!(a.iterations(), b.iterations());
}

#[test]
fn the_fit_stops_when_no_gradient_component_exceeds_the_tolerance() {
    let (x, y) = problem(2_000, 300, 12, 7);
    for tol in [1e-3, 1e-4, 1e-6] {
        let data = linfa::DatasetBase::new(x.clone(), Array1::from(y.clone()));
        let m = SparseLogisticRegression::default()
            .gradient_tolerance(tol)
            .fit(&data)
            .unwrap();
        assert!(m.converged(), "tol {tol}: {} iterations", m.iterations());
        let mut at = m.weights().to_vec();
        at.push(m.intercept());
        let (_, g) = Problem::new(&x, y.clone(), 1.0).evaluate(&at);
        let largest = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(
            largest <= tol,
            "tol {tol}: largest gradient component {largest}"
        );
    }
}

#[test]
fn bad_input_is_an_error_that_says_what() {
    let (x, y) = problem(50, 5, 2, 5);
    let ones = linfa::DatasetBase::new(x.clone(), Array1::from_elem(50, true));
    let e = SparseLogisticRegression::default().fit(&ones).unwrap_err();
    assert!(matches!(e, LogisticError::OneClass { rows: 50 }), "{e}");
    let short = linfa::DatasetBase::new(x.clone(), Array1::from(y[..10].to_vec()));
    let e = SparseLogisticRegression::default().fit(&short).unwrap_err();
    assert_eq!(e.to_string(), "shape mismatch: 10 targets for 50 rows");
    let data = linfa::DatasetBase::new(x, Array1::from(y));
    let e = SparseLogisticRegression::default()
        .alpha(f64::NAN)
        .fit(&data)
        .unwrap_err();
    assert!(
        e.to_string().contains("alpha must be a finite number"),
        "{e}"
    );
    let e = Csr::from_rows(&[vec![(0, 1.0)], vec![(1, f64::INFINITY)]], 2).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the design matrix (row 1) holds a NaN or infinite value"
    );
    let e = Csr::from_rows(&[vec![(3, 1.0)]], 2).unwrap_err();
    assert!(e.to_string().contains("row 0 has column 3"), "{e}");
}

#[test]
fn a_block_s_loss_from_one_logarithm_equals_the_sum_of_log1p() {
    // Margins from tiny to huge of either sign, where `1 + e` rounds `e`
    // away (|z| > 37) or the product would overflow without the block cap.
    let mut rng = SplitMix64::new(11);
    let z: Vec<f64> = (0..csr::BLOCK_ROWS)
        .map(|k| match k % 4 {
            0 => rng.unit() * 1e-9,
            1 => -(rng.unit() * 800.0),
            2 => rng.unit() * 40.0 - 20.0,
            _ => 0.0,
        })
        .collect();
    let y: Vec<bool> = (0..z.len()).map(|k| k % 3 == 0).collect();
    let (mut loss, mut residuals) = (0.0, Vec::new());
    for (zi, yi) in z.iter().zip(&y) {
        let (l, r) = loss_and_residual(*zi, *yi);
        loss += l;
        residuals.push(r);
    }
    let mut block = z.clone();
    let got = block_loss(&mut block, &y);
    assert!((got - loss).abs() <= 1e-12 * loss, "{got} vs {loss}");
    for (a, b) in block.iter().zip(&residuals) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
}

/// Columns whose scales differ by 400× (as hashed buckets and standardised
/// numerics do): the preconditioned and the plain fit reach the same
/// optimum, and the preconditioned one gets there in fewer iterations.
#[test]
fn preconditioning_changes_the_path_not_the_optimum() {
    let (x, y) = problem(3_000, 400, 10, 11);
    let m = x.matrix();
    let data: Vec<f64> = m
        .indices()
        .iter()
        .zip(m.data())
        .map(|(j, v)| v * [0.05, 0.2, 1.0, 5.0, 20.0][*j as usize % 5])
        .collect();
    let scaled = CsrMatrix::new(
        m.shape(),
        m.indptr().raw_storage().to_vec(),
        m.indices().to_vec(),
        data,
    );
    let x = Csr::new(scaled).unwrap();
    let data = linfa::DatasetBase::new(x.clone(), Array1::from(y.clone()));
    let fit = |precondition: bool, tol: f64| {
        SparseLogisticRegression::default()
            .precondition(precondition)
            .gradient_tolerance(tol)
            .fit(&data)
            .unwrap()
    };
    let (plain, pre) = (fit(false, 1e-9), fit(true, 1e-9));
    assert!(plain.converged() && pre.converged());
    assert!(
        (plain.objective() - pre.objective()).abs() <= plain.objective() * 1e-9,
        "plain {} vs preconditioned {}",
        plain.objective(),
        pre.objective()
    );
    for (a, b) in plain.weights().iter().zip(pre.weights()) {
        assert!((a - b).abs() < 1e-4, "weight {a} vs {b}");
    }
    let (plain, pre) = (fit(false, 1e-4), fit(true, 1e-4));
    assert!(
        pre.iterations() * 3 < plain.iterations() * 2,
        "preconditioned {} iterations, plain {}",
        pre.iterations(),
        plain.iterations()
    );
}
