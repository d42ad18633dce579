#!/usr/bin/env python3
"""Model quality and training cost, side by side with scikit-learn on the real reviews data.

    cargo build --release --example pipeline
    python3 bench/model_quality.py [--python PEERS_VENV/bin/python] [--seeds 42 7 11]

Runs ../shared/bench/sklearn_baseline.py (its own seeded 80/20 split, 2^12
hashed buckets, liblinear-free lbfgs with C=1) and the mltest pipeline
(seeded 80/20 split, 1,024 buckets, linfa-logistic) on the same file, into a
temporary store, and prints held-out accuracy, fit time and whole-process time.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "data" / "womens_clothing_reviews.csv"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=str(Path.home() / ".cache/mltest-peers/bin/python"))
    ap.add_argument("--seeds", nargs="*", type=int, default=[42, 7, 11])
    args = ap.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    exe = target / "release" / "examples" / "pipeline"

    t0 = time.perf_counter()
    out = subprocess.run([args.python, str(ROOT.parent / "shared/bench/sklearn_baseline.py"), str(CSV)],
                         capture_output=True, text=True, check=True).stdout
    sk_wall = time.perf_counter() - t0
    sk = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])

    rows = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as store:
            t0 = time.perf_counter()
            p = subprocess.run([str(exe), "--data", str(CSV), "--store", store, "--seed", str(seed)],
                               capture_output=True, text=True, env={**os.environ, "MLTEST_OUT": store + "/out"})
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                sys.exit(p.stderr)
            acc = float(re.search(r"held-out accuracy ([0-9.]+)", p.stdout).group(1))
            fit = float(re.search(r"saved \S+ \(([0-9.]+) s\)", p.stdout).group(1))
            rows.append((seed, acc, fit, wall))

    print(f"| tool | split seed | held-out accuracy | fit s | whole process s |")
    print("|---|---|---|---|---|")
    print(f"| scikit-learn {sk.get('tool')} (2^12 buckets, sparse) | numpy 0 | {sk['test_accuracy']:.4f} | {sk['fit_s']} | {sk_wall:.1f} |")
    for seed, acc, fit, wall in rows:
        print(f"| mltest reference model (1,024 buckets, dense linfa) | {seed} | {acc:.4f} | {fit:.1f} (train step) | {wall:.1f} (gate + train + save + evaluate) |")
    mean = sum(r[1] for r in rows) / len(rows)
    print(f"\nmltest mean accuracy over {len(rows)} splits: {mean:.4f}; "
          f"difference to scikit-learn: {100 * (mean - sk['test_accuracy']):+.2f} points")


if __name__ == "__main__":
    main()
