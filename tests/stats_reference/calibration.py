"""mltest's calibration and CBPE figures against scikit-learn on the same inputs.

    cargo run --release --example stats_values > values.json
    python3 tests/stats_reference/calibration.py values.json     # needs scikit-learn

- Reliability curves: sklearn.calibration.calibration_curve(strategy="uniform" and
  "quantile", n_bins 5 and 10): prob_true and prob_pred per non-empty bin.
- The isotonic calibrator: sklearn.isotonic.IsotonicRegression(out_of_bounds="clip",
  y_min=0, y_max=1) fitted on the same scores and labels, predicted at 201 points
  (inside, between and outside the fitted scores).
- CBPE on a 1,000-row batch: the expected confusion matrix from the calibrated
  probabilities (the isotonic predictions when mltest calibrated, the raw scores
  otherwise), accuracy and F1 with the normal (Poisson-binomial) accuracy interval
  and the delta-method F1 interval, recomputed here with numpy and scipy.stats.norm.
Relative tolerance 1e-9. Exits non-zero on the first disagreement.
"""
import json, math, sys

import numpy as np
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression

cal = json.load(open(sys.argv[1]))["calibration"]
failures = []

def close(a, b, what):
    ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if not ok:
        print(f"BAD {what}: mltest {a!r} reference {b!r}")
        failures.append(what)
    return ok

s = np.asarray(cal["scores"], dtype=float)
y = np.asarray(cal["labels"], dtype=float)
for c in cal["curves"]:
    pt, pp = calibration_curve(y, s, n_bins=c["n_bins"], strategy=c["strategy"])
    what = f"calibration_curve {c['strategy']} n_bins={c['n_bins']}"
    if len(pt) != len(c["prob_true"]):
        failures.append(f"{what}: {len(c['prob_true'])} bins vs {len(pt)}")
        continue
    ok = all(close(a, b, f"{what} prob_true[{i}]") for i, (a, b) in enumerate(zip(c["prob_true"], pt)))
    ok &= all(close(a, b, f"{what} prob_pred[{i}]") for i, (a, b) in enumerate(zip(c["prob_pred"], pp)))
    print(f"{'ok ' if ok else 'BAD'} {what}: {len(pt)} bins")

iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
ref = iso.predict(np.asarray(cal["isotonic_queries"]))
ok = all(close(a, b, f"isotonic at {q}") for q, a, b in zip(cal["isotonic_queries"], cal["isotonic_at"], ref))
print(f"{'ok ' if ok else 'BAD'} IsotonicRegression(out_of_bounds='clip') at {len(ref)} points")

cb = cal["cbpe"]
batch = np.asarray(cb["batch"])
q = iso.predict(batch) if cb["calibrated"] else batch
pos = batch >= cb["threshold"]
n = len(batch)
acc = (q[pos].sum() + (1 - q[~pos]).sum()) / n
half = norm.ppf(0.975) * math.sqrt((q * (1 - q)).sum()) / n
tp, fn, n1 = q[pos].sum(), q[~pos].sum(), pos.sum()
d = tp + n1 + fn
f1 = 2 * tp / d
da, db = 2 * (n1 + fn) / d**2, -2 * tp / d**2
sd = math.sqrt(da**2 * (q[pos] * (1 - q[pos])).sum() + db**2 * (q[~pos] * (1 - q[~pos])).sum())
z = norm.ppf(0.975)
ok = close(cb["accuracy"], acc, "CBPE accuracy")
ok &= close(cb["accuracy_low"], max(acc - half, 0.0), "CBPE accuracy low")
ok &= close(cb["accuracy_high"], min(acc + half, 1.0), "CBPE accuracy high")
ok &= close(cb["f1"], f1, "CBPE F1")
ok &= close(cb["f1_low"], max(f1 - z * sd, 0.0), "CBPE F1 low")
ok &= close(cb["f1_high"], min(f1 + z * sd, 1.0), "CBPE F1 high")
print(f"{'ok ' if ok else 'BAD'} CBPE estimate (calibrated: {cb['calibrated']}): accuracy {acc:.4f}, F1 {f1:.4f}")

if failures:
    sys.exit(f"{len(failures)} calibration figure(s) disagree with scikit-learn: {failures[:5]}")
print("calibration and CBPE figures agree with scikit-learn")
