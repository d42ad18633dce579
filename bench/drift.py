#!/usr/bin/env python3
"""Side-by-side drift benchmark (issue 6): mltest, scipy called directly and
Evidently's DataDriftPreset on the same split and columns, on the reviews
file (23,486 rows) and on the reviews file repeated to 1,000,000 rows.

    cargo build --release --example bench_drift --example bench_data_suite
    python3 bench/drift.py [--python PEERS_VENV/bin/python] [--runs 3]

Prints a markdown table: each tool's own drift-step time (median of runs),
whole-process wall time and peak RSS (wait4).
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
DATA = Path(os.environ.get("MLTEST_REVIEWS_CSV", ROOT.parent / "shared" / "data" / "womens_clothing_reviews.csv"))


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd} failed ({p.returncode}):\n{p.stderr}")
    line = [l for l in p.stdout.splitlines() if l.startswith("{")][-1]
    return wall, json.loads(line)


def peak_rss_mib(cmd):
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=str(Path.home() / ".cache/mltest-peers/bin/python"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    exe = target_dir() / "release" / "examples" / "bench_drift"
    maker = target_dir() / "release" / "examples" / "bench_data_suite"
    for e in (exe, maker):
        if not e.exists():
            sys.exit(f"{e} missing: cargo build --release --example bench_drift --example bench_data_suite")
    big = target_dir() / "bench" / "reviews_1000000.csv"
    big.parent.mkdir(parents=True, exist_ok=True)
    if not big.exists():
        subprocess.run([str(maker), "--make", "1000000", str(big)], check=True)

    print("| data | tool | reference / current rows | drift step s | whole process s | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for label, csv in [("reviews (23,486 rows)", DATA), ("reviews x43 (1,000,000 rows)", big)]:
        tools = {
            "mltest": [str(exe), str(csv)],
            "scipy (direct)": [args.python, str(SHARED / "scipy_drift.py"), str(csv)],
            "Evidently 0.7.23": [args.python, str(SHARED / "evidently_drift.py"), str(csv)],
        }
        results = {}
        for name, cmd in tools.items():
            walls, reps = [], []
            for _ in range(args.runs):
                w, r = run(cmd)
                walls.append(w)
                reps.append(r)
            med = statistics.median(walls)
            drift = statistics.median(r["drift_s"] for r in reps)
            rss = peak_rss_mib(cmd)
            results[name] = (drift, med)
            r = reps[0]
            print(f"| {label} | {name} | {r['ref_rows']:,} / {r['cur_rows']:,} | {drift:.4f} | {med:.2f} | {rss:.0f} |", flush=True)
        m = results["mltest"]
        for peer in ("scipy (direct)", "Evidently 0.7.23"):
            p = results[peer]
            print(f"|  | mltest vs {peer} | | {p[0] / m[0]:.0f}x faster | {p[1] / m[1]:.1f}x faster | |")


if __name__ == "__main__":
    main()
