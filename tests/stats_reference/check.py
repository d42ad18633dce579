"""mltest's statistics against scipy and statsmodels on the same inputs.

    cargo run --release --example stats_values > values.json
    python3 tests/stats_reference/check.py values.json [--evidently ../shared/bench/evidently_drift.py]

- Wilson 95% intervals: statsmodels.stats.proportion.proportion_confint(method="wilson").
- The leakage check's figures, on the rows where feature and label are both present,
  against "Recommended IND" (0/1) and against the text label "Department Name":
  |Pearson r| of numeric pairs: scipy.stats.pearsonr;
  correlation ratio η of a numeric column grouped by a categorical one: by hand
  (pandas groupby: sqrt(SS_between / SS_total)) and as sqrt of statsmodels'
  OLS R² of the numeric column on the categories; bias-corrected η: sqrt of
  statsmodels' adjusted R² (Kelley's epsilon²) and by hand;
  Cramér's V of categorical pairs: scipy.stats.contingency.association(method="cramer");
  bias-corrected Cramér's V: Bergsma (2013) by hand on scipy's crosstab.
  With a 0/1 label η must also equal scipy's Cramér's V of the table.
- Drift, Division "General" vs "General Petite": scipy.stats.wasserstein_distance,
  scipy.stats.chi2_contingency(correction=False), scipy.spatial.distance.jensenshannon.
- KS, Division "General" vs "General Petite" and smaller splits: scipy.stats.ks_2samp
  (asymptotic, exact with unequal sizes, exact with equal sizes), and the drift
  engine's per-column figures, Benjamini-Hochberg (statsmodels multipletests),
  and, with --evidently, Evidently's DataDriftPreset scores.
- A/B: statsmodels mcnemar in each of its three variants (exact=True;
  exact=False with correction=True and correction=False) on small and large
  discordant counts; without discordant pairs mltest gives p = 1 for every
  variant where statsmodels' chi-square divides by zero. proportions_ztest.
- Wilson intervals at 90/95/99% (`#[robustness(confidence = ...)]`): proportion_confint.
- The regression A/B: scipy.stats.ttest_rel(err_b, err_a) on absolute and squared
  errors of two Rating predictors on the real rows (and the first 40), t, p, df and
  the 95% interval of the mean difference.
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

for w in values.get("wilson_at", []):
    lo, hi = proportion_confint(w["k"], w["n"], alpha=1 - w["confidence"], method="wilson")
    close(w["low"], lo, f"wilson low {w['k']}/{w['n']} at {w['confidence']}")
    close(w["high"], hi, f"wilson high {w['k']}/{w['n']} at {w['confidence']}")

for t in values.get("paired_t", []):
    a, b = np.asarray(t["a"]), np.asarray(t["b"])
    res = stats.ttest_rel(b, a)
    close(t["t"], float(res.statistic), f"ttest_rel t ({t['what']})")
    close(t["p"], float(res.pvalue), f"ttest_rel p ({t['what']})")
    close(t["df"], float(res.df), f"ttest_rel df ({t['what']})")
    ci = res.confidence_interval(0.95)
    close(t["low"], float(ci.low), f"ttest_rel interval low ({t['what']})")
    close(t["high"], float(ci.high), f"ttest_rel interval high ({t['what']})")

df = pd.read_csv(values["data"])


def eta_by_hand(x, g, corrected):
    x = x.astype(float).to_numpy()
    groups = pd.Series(x).groupby(g.astype(str).to_numpy())
    n, k, mean = len(x), groups.ngroups, x.mean()
    ss_between = float((groups.count() * (groups.mean() - mean) ** 2).sum())
    ss_total = float(((x - mean) ** 2).sum())
    if ss_total == 0:
        return 0.0
    if not corrected:
        return math.sqrt(ss_between / ss_total)
    if n == k or k < 2:
        return 0.0
    eps2 = 1 - ((ss_total - ss_between) / (n - k)) / (ss_total / (n - 1))
    return math.sqrt(max(0.0, eps2))


def eta_statsmodels(x, g, corrected):
    import statsmodels.api as sm
    dummies = pd.get_dummies(g.astype(str), drop_first=True, dtype=float)
    fit = sm.OLS(x.astype(float).to_numpy(), sm.add_constant(dummies.to_numpy())).fit()
    return math.sqrt(max(0.0, fit.rsquared_adj if corrected else fit.rsquared))


def cramers_v_bergsma(table):
    table = np.asarray(table, dtype=float)
    n = table.sum()
    r, c = table.shape
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rt, ct = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    denom = min(rt - 1, ct - 1)
    return 0.0 if phi2 <= 0 or denom <= 0 else min(1.0, math.sqrt(phi2 / denom))


for a in values["association"]:
    f, target, method = a["feature"], a.get("target", "Recommended IND"), a["method"]
    both = df[[f, target]].dropna()
    what = f"{method} of {f!r} with {target!r}"
    if method == "|Pearson r|":
        ref = abs(stats.pearsonr(both[f].astype(float), both[target].astype(float)).statistic)
    elif method in ("correlation ratio η", "bias-corrected η"):
        corrected = method.startswith("bias")
        num, cat = (f, target) if pd.api.types.is_numeric_dtype(df[f]) else (target, f)
        ref = eta_by_hand(both[num], both[cat], corrected)
        close(a["value"], eta_statsmodels(both[num], both[cat], corrected),
              what + " (statsmodels OLS R²" + (" adjusted)" if corrected else ")"))
        if not corrected and sorted(both[num].unique()) == [0, 1]:
            table = crosstab(both[cat].astype(str), both[num].astype(str)).count
            close(a["value"], association(table, method="cramer"), what + " = Cramér's V of the 0/1 table")
    elif method == "Cramér's V":
        table = crosstab(both[f].astype(str), both[target].astype(str)).count
        ref = association(table, method="cramer")
    elif method == "bias-corrected Cramér's V":
        table = crosstab(both[f].astype(str), both[target].astype(str)).count
        ref = cramers_v_bergsma(table)
    else:
        sys.exit(f"unknown association method {method!r}")
    close(a["value"], ref, what)

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
    what = f"mcnemar ({m['test']}) b={m['b']} c={m['c']}"
    if m["b"] + m["c"] == 0 and not m["exact"]:
        # statsmodels divides by zero here (NaN, or inf and p = 0 with the
        # correction); mltest: no discordant pairs, no evidence, p = 1.
        close(m["p"], 1.0, what + " p (no discordant pairs)")
        close(m["stat"], 0.0, what + " statistic (no discordant pairs)")
        continue
    res = mcnemar([[0, m["b"]], [m["c"], 0]], exact=m["exact"], correction=m["correction"])
    close(m["p"], float(res.pvalue), what + " p")
    close(m["stat"], float(res.statistic), what + " statistic")

if "ztest" in values:
    zt = values["ztest"]
    z, p = proportions_ztest(zt["x"], zt["n"])
    close(zt["z"], z, "two-proportion z")
    close(zt["p"], p, "two-proportion p")

from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize
for t in values.get("traffic", []):
    (xc, nc), (xt, nt) = t["control"], t["treatment"]
    z, p = proportions_ztest([xt, xc], [nt, nc])
    close(t["z"], z, f"traffic z {t['treatment']} vs {t['control']}")
    close(t["p"], p, f"traffic p {t['treatment']} vs {t['control']}")
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff")
    close(t["lift_low"], lo, f"lift interval low {t['treatment']} vs {t['control']}")
    close(t["lift_high"], hi, f"lift interval high {t['treatment']} vs {t['control']}")
for s_ in values.get("sample_size", []):
    n = NormalIndPower().solve_power(proportion_effectsize(s_["base"] + s_["mde"], s_["base"]),
                                     alpha=0.05, power=s_["power"], ratio=s_["ratio"])
    close(s_["n"], float(n), f"sample size base {s_['base']} mde {s_['mde']} power {s_['power']} ratio {s_['ratio']}")

for k in values.get("ks", []):
    col = k["column"]
    r = df[df["Division Name"] == k["reference"]][col].dropna().astype(float)
    c = df[df["Division Name"] == k["current"]][col].dropna().astype(float)
    if k["head"]:
        r, c = r.head(k["head"]), c.head(k["head"])
    res = stats.ks_2samp(r.to_numpy(), c.to_numpy())
    what = f"ks_2samp {col!r} {k['reference']} vs {k['current']} (n={len(r)},{len(c)}, {k['method']})"
    close(k["statistic"], float(res.statistic), what + " statistic")
    close(k["p"], float(res.pvalue), what + " p-value")

engine = values.get("drift_engine", [])
for e in engine:
    col = e["column"]
    r, c = ref[col].dropna(), cur[col].dropna()
    if e["test"] == "KS":
        res = stats.ks_2samp(r.astype(float), c.astype(float))
        close(e["statistic"], float(res.statistic), f"drift engine KS {col!r}")
        close(e["p"], float(res.pvalue), f"drift engine KS p {col!r}")
        close(e["wasserstein"], wasserstein_distance(r, c), f"drift engine wasserstein {col!r}")
        close(e["effect"], wasserstein_distance(r, c) / np.std(r.astype(float)), f"drift engine normalised wasserstein {col!r}")
    else:
        r, c = r.astype(str), c.astype(str)
        cats = sorted(set(r) | set(c))
        table = np.array([[int((r == k).sum()) for k in cats], [int((c == k).sum()) for k in cats]])
        chi2, p, dof, _ = chi2_contingency(table, correction=False)
        close(e["statistic"], chi2, f"drift engine chi2 {col!r}")
        close(e["p"], p, f"drift engine chi2 p {col!r}")
        close(e["effect"], jensenshannon(table[0], table[1]), f"drift engine jensenshannon {col!r}")

if engine:
    from statsmodels.stats.multitest import multipletests
    ps = [e["p"] for e in engine]
    adj = multipletests(ps, method="fdr_bh")[1]
    for e, a in zip(engine, adj):
        close(e["p_adjusted"], a, f"Benjamini-Hochberg adjusted p {e['column']!r}")
if "bh" in values:
    from statsmodels.stats.multitest import multipletests
    adj = multipletests(values["bh"]["p"], method="fdr_bh")[1]
    for i, (a, b) in enumerate(zip(values["bh"]["adjusted"], adj)):
        close(a, b, f"Benjamini-Hochberg fixed p #{i}")

# Evidently's DataDriftPreset scores for the same split, where its
# definitions coincide with ours (normalised Wasserstein for Age and
# Positive Feedback Count; Jensen-Shannon distance for Rating, Department
# and Class). Needs evidently (pip install evidently==0.7.23 "pandas<2.3").
if engine and len(sys.argv) > 2 and sys.argv[2] == "--evidently":
    import subprocess
    here = __file__.rsplit("/", 3)[0] if "/" in __file__ else "."
    out = subprocess.run([sys.executable, sys.argv[3], values["data"]], capture_output=True, text=True, check=True)
    ev = json.loads(out.stdout.strip().splitlines()[-1])
    scores = [m["value"] for m in ev["metrics"][1:]]
    order = ["Age", "Positive Feedback Count", "Rating", "Department Name", "Class Name"]
    ours = {e["column"]: e["effect"] for e in engine}
    for col, score in zip(order, scores):
        close(ours[col], float(score), f"Evidently drift score {col!r}")

if failures:
    sys.exit(f"{len(failures)} statistic(s) disagree with the reference: {failures}")
print("all statistics agree with scipy/statsmodels")
