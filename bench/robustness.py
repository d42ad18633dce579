#!/usr/bin/env python3
"""Robustness throughput side by side: mltest's reference model vs the scikit-learn peer.

    cargo build --release --example bench_robustness
    python3 bench/robustness.py [--python ~/.cache/mltest-peers/bin/python] [MODEL_ID ...]

Both perturb 1,000 held-out reviews with two random character typos, rebuild
the features and predict in a batch; the figure is perturbed predictions per
second (perturbation + features + prediction). Arguments this script does not
know (e.g. a model id such as reviews@2; after `--` anything) go to the
binary, $CARGO_TARGET_DIR/release/examples/bench_robustness (CARGO_TARGET_DIR
defaulting to ~/.cache/mltest-target as in .ci/run), run from the repository
root so its default store is model_store/. --exe PATH runs something else in
its place. Only the standard library is needed here; the peer runs with --python.

Exit 0 when both sides printed their JSON line, 1 when one failed (what there
is still printed), 2 on a missing binary.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT.parent / "shared" / "data" / "womens_clothing_reviews.csv"
PEER = ROOT.parent / "shared" / "bench" / "sklearn_baseline.py"


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "mltest-target"))


def last_json(cmd, **kw):
    """(the last JSON object line printed by cmd, problem): never raises."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, **kw)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, repr(e)
    lines = [l for l in p.stdout.splitlines() if l.strip().startswith("{")]
    if p.returncode != 0 or not lines:
        tail = [l for l in p.stderr.splitlines() if l.strip()]
        return None, f"exit {p.returncode}: {tail[-1] if tail else 'no JSON line and nothing on stderr'}"
    try:
        value = json.loads(lines[-1])
    except ValueError as e:
        return None, f"unparsable line {lines[-1][:200]!r}: {e}"
    return (value, None) if isinstance(value, dict) else (None, f"not a JSON object: {lines[-1][:200]!r}")


def fmt(d, key, spec=",.0f"):
    """d[key] formatted if it is a number, as is if it is something else, '–' if absent."""
    v = (d or {}).get(key)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return format(v, spec)
    return "–" if v is None else str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default=str(Path.home() / ".cache/mltest-peers/bin/python"))
    ap.add_argument("--exe", help="bench_robustness binary (default $CARGO_TARGET_DIR/release/examples/bench_robustness)")
    ap.add_argument("--data", default=str(CSV))
    ap.add_argument("--peer", default=str(PEER))
    args, passthrough = ap.parse_known_args()
    if passthrough[:1] == ["--"]:
        passthrough = passthrough[1:]
    exe = Path(args.exe) if args.exe else target_dir() / "release" / "examples" / "bench_robustness"
    if not exe.exists():
        print(f"robustness: {exe} not found; build it with\n  cargo build --release --example bench_robustness\n"
              f"(CARGO_TARGET_DIR={target_dir()}), or pass --exe PATH.", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    sk, sk_problem = last_json([args.python, args.peer, args.data])
    sk_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    ml, ml_problem = last_json([str(exe), *passthrough], cwd=ROOT)
    ml_wall = time.perf_counter() - t0

    threads = f", {ml['threads']} threads" if ml and "threads" in ml else ""
    model = (ml or {}).get("model", " ".join(passthrough) or "default model")
    print("| tool | perturbed predictions/s | typo flip rate | 1,000-case run s | predict only/s | process s |")
    print("|---|---|---|---|---|---|")
    print(f"| scikit-learn (Python loop + sparse predict) | {fmt(sk, 'perturbed_predictions_per_s')} "
          f"| {fmt(sk, 'typo_flip_rate', '.4f')} (one seed) | – | – | {sk_wall:.1f} |")
    print(f"| mltest ({model}{threads}) | {fmt(ml, 'perturbed_predictions_per_s')} "
          f"| {fmt(ml, 'mean_flip_rate_15_seeds', '.4f')} (mean of 15 seeds) | {fmt(ml, 'run_s', '.4f')} "
          f"| {fmt(ml, 'predict_only_per_s')} | {ml_wall:.1f} |")

    a = (ml or {}).get("perturbed_predictions_per_s")
    b = (sk or {}).get("perturbed_predictions_per_s")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        print(f"\nratio mltest / python: {a / b:.1f}x")
    else:
        print("\nratio mltest / python: – (a figure is missing)")
    if ml is not None:
        # Whatever the binary printed, so a renamed or new key is still seen.
        print(f"mltest raw: {json.dumps(ml)}")
    for who, problem in (("scikit-learn peer", sk_problem), (f"mltest {exe.name}", ml_problem)):
        if problem:
            print(f"{who} failed: {problem}")
    return 1 if sk_problem or ml_problem else 0


if __name__ == "__main__":
    sys.exit(main())
