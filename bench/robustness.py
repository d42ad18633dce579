#!/usr/bin/env python3
"""Robustness throughput side by side: mltest's reference model vs the scikit-learn peer.

    cargo build --release --example bench_robustness
    python3 bench/robustness.py [--python PEERS_VENV/bin/python]

Both perturb 1,000 held-out reviews with two random character typos, rebuild
the features and predict in a batch; the figure is perturbed predictions per
second (perturbation + features + prediction).
"""
import argparse, json, os, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "data" / "womens_clothing_reviews.csv"

ap = argparse.ArgumentParser()
ap.add_argument("--python", default=str(Path.home() / ".cache/mltest-peers/bin/python"))
args = ap.parse_args()
target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
sk = json.loads(subprocess.run([args.python, str(ROOT.parent / "shared/bench/sklearn_baseline.py"), str(CSV)],
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
ml = json.loads(subprocess.run([str(target / "release/examples/bench_robustness")], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
print("| tool | perturbed predictions/s | typo flip rate | 1,000-case run s |")
print("|---|---|---|---|")
print(f"| scikit-learn (Python loop + sparse predict) | {sk['perturbed_predictions_per_s']:,} | {sk['typo_flip_rate']} | – |")
print(f"| mltest ({ml['model']}) | {int(ml['perturbed_predictions_per_s']):,} | {ml['mean_flip_rate_15_seeds']} (mean of 15 seeds) | {ml['run_s']} |")
print(f"\nratio: {ml['perturbed_predictions_per_s'] / sk['perturbed_predictions_per_s']:.1f}x")
