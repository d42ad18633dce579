"""mltest's statistics against scipy and statsmodels on the same inputs.

    cargo run --release --example stats_values > values.json
    python3 tests/stats_reference/check.py values.json

- Wilson 95% intervals: statsmodels.stats.proportion.proportion_confint(method="wilson").
- |Pearson r| of numeric inputs with the label: scipy.stats.pearsonr.
- Cramér's V of categorical inputs with the label (rows where both are present):
  scipy.stats.contingency.association(method="cramer").
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

if failures:
    sys.exit(f"{len(failures)} statistic(s) disagree with the reference: {failures}")
print(f"all {len(values['wilson']) * 2 + len(values['association'])} statistics agree with scipy/statsmodels")
