"""mltest's statistics against scipy and statsmodels on the same inputs.

    cargo run --release --example stats_values > values.json
    python3 tests/stats_reference/check.py values.json

- Wilson 95% intervals: statsmodels.stats.proportion.proportion_confint(method="wilson").
- |Pearson r| of numeric inputs with the label: scipy.stats.pearsonr.
- Cramér's V of categorical inputs with the label (rows where both are present):
  scipy.stats.contingency.association(method="cramer").
- Drift, Division "General" vs "General Petite": scipy.stats.wasserstein_distance,
  scipy.stats.chi2_contingency(correction=False), scipy.spatial.distance.jensenshannon.
- A/B: statsmodels mcnemar (exact below 25 discordant pairs, else chi-square
  without correction) and proportions_ztest.
Relative tolerance 1e-9. Exits non-zero on the first disagreement.
"""
import json, math, sys

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import association, crosstab
from statsmodels.stats.proportion import proportion_confint

values = json.load(open(sys.argv[1]))
failures = []

def close(a, b, what):
    ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    print(f"{'ok ' if ok else 'BAD'} {what}: mltest {a!r} reference {b!r}")
    if not ok:
        failures.append(what)

for w in values["wilson"]:
    lo, hi = proportion_confint(w["k"], w["n"], alpha=0.05, method="wilson")
    close(w["low"], lo, f"wilson low {w['k']}/{w['n']}")
    close(w["high"], hi, f"wilson high {w['k']}/{w['n']}")

df = pd.read_csv(values["data"])
y = df["Recommended IND"]
for a in values["association"]:
    f = a["feature"]
    both = df[[f, "Recommended IND"]].dropna()
    if a["method"] == "|Pearson r|":
        ref = abs(stats.pearsonr(both[f].astype(float), both["Recommended IND"].astype(float)).statistic)
    else:
        table = crosstab(both[f].astype(str), both["Recommended IND"].astype(str)).count
        ref = association(table, method="cramer")
    close(a["value"], ref, f"{a['method']} of {f!r} with the label")

from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, wasserstein_distance
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportions_ztest

ref, cur = df[df["Division Name"] == "General"], df[df["Division Name"] == "General Petite"]
for d in values.get("drift", []):
    col = d["column"]
    if d["stat"] == "wasserstein":
        close(d["value"], wasserstein_distance(ref[col].dropna(), cur[col].dropna()), f"wasserstein {col!r}")
    else:
        r, c = ref[col].dropna().astype(str), cur[col].dropna().astype(str)
        cats = sorted(set(r) | set(c))
        table = np.array([[int((r == k).sum()) for k in cats], [int((c == k).sum()) for k in cats]])
        if d["stat"] == "chi2":
            chi2, p, dof, _ = chi2_contingency(table, correction=False)
            close(d["value"], chi2, f"chi2 {col!r}")
            close(d["p"], p, f"chi2 p-value {col!r}")
            close(float(d["dof"]), float(dof), f"chi2 dof {col!r}")
        else:
            close(d["value"], jensenshannon(table[0], table[1]), f"jensenshannon {col!r}")

for m in values.get("mcnemar", []):
    res = mcnemar([[0, m["b"]], [m["c"], 0]], exact=m["exact"], correction=False)
    close(m["p"], res.pvalue, f"mcnemar p b={m['b']} c={m['c']}")
    close(m["stat"], res.statistic, f"mcnemar statistic b={m['b']} c={m['c']}")

if "ztest" in values:
    zt = values["ztest"]
    z, p = proportions_ztest(zt["x"], zt["n"])
    close(zt["z"], z, "two-proportion z")
    close(zt["p"], p, "two-proportion p")

if failures:
    sys.exit(f"{len(failures)} statistic(s) disagree with the reference: {failures}")
print("all statistics agree with scipy/statsmodels")
