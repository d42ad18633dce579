"""scikit-learn side of bench/model_quality.py: read what `pipeline --export-design DIR`
wrote, fit scikit-learn on exactly that design, and fit scikit-learn's own pipeline
(the peer's features) on mltest's split.

Export layout (all little-endian, written by the pipeline example):
    run.json                      mltest's figures and gate verdicts
    meta.json                     {"width": number of columns}
    {train,test}_indptr.u64       CSR row pointers (rows + 1)
    {train,test}_indices.u32      CSR column indices
    {train,test}_data.f64         CSR values (no intercept column)
    {train,test}_y.u8             labels, 0/1 per row
    {train,test}_rows.u32         0-based CSV data-row numbers of each part, in order
    weights.f64 (optional)        width coefficients then the intercept: if present,
                                  mltest's objective and accuracy are recomputed here

Imports nothing from ../shared/bench/sklearn_baseline.py on purpose: the peer
stays a script that is run as is; the few feature lines are repeated below.
"""
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

# The peer's columns, fill values and numeric scaling, as in sklearn_baseline.py.
CATS = ["Division Name", "Department Name", "Class Name"]
NUMS = ["Age", "Positive Feedback Count"]
FILL = {"Title": "", "Review Text": "", "Division Name": "NA", "Department Name": "NA", "Class Name": "NA"}
NUM_CENTRE = [43.2, 2.5]
NUM_SCALE = [12.3, 5.7]
LABEL = "Recommended IND"


class ExportError(Exception):
    """The export directory is missing a file or holds something inconsistent."""


def read_reviews(csv):
    """The CSV read as the peer reads it: (frame, Title + " " + Review Text)."""
    df = pd.read_csv(csv).fillna(FILL)
    return df, (df["Title"] + " " + df["Review Text"]).values


def _read(path, dtype):
    if not path.exists():
        raise ExportError(f"{path.name} missing")
    return np.fromfile(path, dtype=dtype)


def read_width(export):
    path = Path(export) / "meta.json"
    try:
        return int(json.loads(path.read_text())["width"])
    except FileNotFoundError:
        raise ExportError("meta.json missing") from None
    except (ValueError, KeyError, TypeError) as e:
        raise ExportError(f"meta.json unreadable: {e!r}") from None


def load_part(export, prefix, width):
    """One CSR part (train or test) and its labels, checked before scikit-learn sees it."""
    d = Path(export)
    indptr = _read(d / f"{prefix}_indptr.u64", "<u8")
    indices = _read(d / f"{prefix}_indices.u32", "<u4")
    data = _read(d / f"{prefix}_data.f64", "<f8")
    y = _read(d / f"{prefix}_y.u8", "u1")
    rows = len(indptr) - 1
    # scipy's own checks would catch most of these, but with messages that do
    # not say which file is wrong.
    if rows < 1 or indptr[0] != 0:
        raise ExportError(f"{prefix}_indptr.u64: {len(indptr)} values, first {indptr[:1].tolist()}")
    if np.any(np.diff(indptr.astype(np.int64)) < 0):
        raise ExportError(f"{prefix}_indptr.u64 is not non-decreasing")
    if int(indptr[-1]) != len(indices) or len(indices) != len(data):
        raise ExportError(f"{prefix}: indptr ends at {int(indptr[-1])}, {len(indices)} indices, {len(data)} values")
    if len(y) != rows:
        raise ExportError(f"{prefix}_y.u8 has {len(y)} labels for {rows} rows")
    if len(indices) and int(indices.max()) >= width:
        raise ExportError(f"{prefix}_indices.u32 has column {int(indices.max())} >= width {width}")
    if not np.all(np.isfinite(data)):
        raise ExportError(f"{prefix}_data.f64 has non-finite values")
    if not np.isin(y, (0, 1)).all():
        raise ExportError(f"{prefix}_y.u8 has values other than 0/1: {np.unique(y)[:5].tolist()}")
    X = sparse.csr_matrix((data, indices.astype(np.int64), indptr.astype(np.int64)), shape=(rows, width))
    # Unsorted or duplicate column indices are legal CSR, so this only catches what scipy deems broken.
    X.check_format(full_check=True)
    return X, y.astype(np.int64)


def load_design(export):
    width = read_width(export)
    Xtr, ytr = load_part(export, "train", width)
    Xte, yte = load_part(export, "test", width)
    return Xtr, ytr, Xte, yte, width


def read_rows(export, prefix, n_csv_rows):
    rows = _read(Path(export) / f"{prefix}_rows.u32", "<u4").astype(np.int64)
    if len(rows) and int(rows.max()) >= n_csv_rows:
        raise ExportError(f"{prefix}_rows.u32 has row {int(rows.max())}, the CSV has {n_csv_rows} data rows")
    return rows


def objective(X, y, w, b, alpha):
    """sum_i log(1 + exp(-s_i z_i)) + alpha/2 ||w||^2, s_i = 2 y_i - 1, z_i = x_i.w + b.

    The same objective as mltest's run.json; scikit-learn minimises C times the
    loss sum plus ||w||^2 / 2, i.e. this one divided by alpha when C = 1/alpha.
    logaddexp keeps it finite for large margins."""
    z = X @ w + b
    s = 2.0 * y - 1.0
    return float(np.logaddexp(0.0, -s * z).sum() + 0.5 * alpha * float(w @ w))


def _fit(X, y, alpha, **kw):
    """LogisticRegression(C=1/alpha, max_iter=1000), default tol and lbfgs; fit time alone."""
    clf = LogisticRegression(C=1.0 / alpha, **{"max_iter": 1000, **kw})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - t0
    converged = not any(issubclass(c.category, ConvergenceWarning) for c in caught)
    return clf, fit_s, converged


def fit_same_design(Xtr, ytr, Xte, yte, alpha):
    """scikit-learn on mltest's exact matrices: the timed fit at default settings, then an
    untimed one at tol 1e-10 whose objective stands for the optimum. The default tol
    stops about 1e-4 (relative) above the optimum on this data, so a gap to the
    default fit alone cannot tell a well-converged mltest from scikit-learn's slack."""
    clf, fit_s, converged = _fit(Xtr, ytr, alpha)
    w, b = clf.coef_.ravel(), float(clf.intercept_[0])  # classes_ is [0, 1]: coef_ is for label 1
    tight, _, _ = _fit(Xtr, ytr, alpha, tol=1e-10, max_iter=20000)
    return {
        "fit_s": fit_s,
        "accuracy": float((clf.predict(Xte) == yte).mean()),
        "objective": objective(Xtr, ytr, w, b, alpha),
        "iterations": int(clf.n_iter_[0]),
        "converged": converged,
        "optimum_objective": objective(Xtr, ytr, tight.coef_.ravel(), float(tight.intercept_[0]), alpha),
        "optimum_iterations": int(tight.n_iter_[0]),
        "train_rows": Xtr.shape[0],
        "test_rows": Xte.shape[0],
        "width": Xtr.shape[1],
        "train_nnz": int(Xtr.nnz),
    }


def mltest_weights(export, width):
    """mltest's (w, b) if the export has weights.f64, else None."""
    path = Path(export) / "weights.f64"
    if not path.exists():
        return None
    v = np.fromfile(path, dtype="<f8")
    if len(v) != width + 1:
        raise ExportError(f"weights.f64 has {len(v)} values, expected width + 1 = {width + 1}")
    return v[:width], float(v[width])


def check_mltest_solution(export, Xtr, ytr, Xte, yte, width, alpha):
    """mltest's objective and held-out accuracy recomputed from its own weights, if exported:
    says whether run.json's objective means the same formula as ours."""
    wb = mltest_weights(export, width)
    if wb is None:
        return None
    w, b = wb
    return {
        "objective": objective(Xtr, ytr, w, b, alpha),
        "accuracy": float((((Xte @ w + b) > 0).astype(np.int64) == yte).mean()),
    }


def labels_against_csv(df, rows, y):
    """How many exported labels differ from the CSV's label at the exported row numbers."""
    if len(rows) != len(y):
        return f"{len(rows)} row numbers for {len(y)} rows"
    return int((df[LABEL].values[rows] != y).sum())


def fit_own_pipeline(df, text, train_rows, test_rows, buckets, alpha):
    """The peer's features with n_features=buckets on mltest's split. fit_s covers
    featurising the training rows (fitting the one-hot encoder too) and the fit,
    as the peer's fit_s does; C = 1/alpha (the peer's C = 1 when alpha is 1)."""
    hv = HashingVectorizer(n_features=buckets, alternate_sign=False, norm="l2")
    ohe = OneHotEncoder(handle_unknown="ignore")

    def feats(rows, fit=False):
        frame = df.iloc[rows]
        cats = frame[CATS]
        c = ohe.fit_transform(cats) if fit else ohe.transform(cats)
        num = sparse.csr_matrix((frame[NUMS].values - NUM_CENTRE) / NUM_SCALE)
        return sparse.hstack([hv.transform(text[rows]), c, num]).tocsr()

    y = df[LABEL].values
    t0 = time.perf_counter()
    Xtr = feats(train_rows, fit=True)
    featurise_s = time.perf_counter() - t0
    clf, fit_only_s, converged = _fit(Xtr, y[train_rows], alpha)
    Xte = feats(test_rows)
    return {
        "fit_s": featurise_s + fit_only_s,
        "featurise_s": featurise_s,
        "fit_only_s": fit_only_s,
        "accuracy": float((clf.predict(Xte) == y[test_rows]).mean()),
        "iterations": int(clf.n_iter_[0]),
        "converged": converged,
        "width": Xtr.shape[1],
    }
