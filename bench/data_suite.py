#!/usr/bin/env python3
"""Side-by-side benchmark of the 14-expectation data suite (issue: data expectations).

Runs mltest's bench example and the peer scripts of ../shared/bench on the
same CSV, one after another in one run, and prints a markdown table with each
tool's own timings plus whole-process wall time and peak RSS (from wait4).

    cargo build --release --example bench_data_suite
    python3 bench/data_suite.py [--rows 1000000] [--python PEERS_VENV/bin/python] [--runs 3] [--cargo-test]

The 1,000,000-row file is the reviews file repeated (built by the example's
--make mode into $CARGO_TARGET_DIR/bench/ unless it exists).
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def run(cmd, env=None):
    """Runs cmd; returns (wall seconds, parsed last JSON line)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    # communicate() reaped the child; its rusage is in RUSAGE_CHILDREN, so
    # measure peak RSS with a second wait4-based run only when needed.
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}):\n{err}")
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return wall, json.loads(line)


def peak_rss_mib(cmd, env=None):
    pid = os.fork()
    if pid == 0:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--python", default=str(Path.home() / ".cache/mltest-peers/bin/python"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--native", metavar="TARGET_DIR",
                    help="also run the floor and mltest from a build with RUSTFLAGS='-C target-cpu=native' in this target dir")
    ap.add_argument("--simd", metavar="TARGET_DIR",
                    help="also run the floor and mltest from a nightly build with polars' `simd` feature and "
                         "target-cpu=native in this target dir")
    ap.add_argument("--cargo-test", action="store_true",
                    help="also time `cargo test` of the data-using suites with and without the caches")
    args = ap.parse_args()

    exe = target_dir() / "release" / "examples" / "bench_data_suite"
    if not exe.exists():
        sys.exit(f"{exe} missing: cargo build --release --example bench_data_suite")
    csv = target_dir() / "bench" / f"reviews_{args.rows}.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    if not csv.exists():
        subprocess.run([str(exe), "--make", str(args.rows), str(csv)], check=True)

    import shutil, tempfile
    cache = Path(tempfile.mkdtemp(prefix="mltest-bench-cache-"))
    def cold():
        # A new, empty parse cache for every cold run.
        shutil.rmtree(cache, ignore_errors=True)
        return dict(os.environ, MLTEST_CACHE_DIR=str(cache))
    def off():
        return dict(os.environ, MLTEST_CACHE="off")
    def new_metric():
        # The parse cache stays; the metric cache goes, as when a check is new.
        for f in cache.glob("*.metrics"):
            f.unlink()
        return dict(os.environ, MLTEST_CACHE_DIR=str(cache))
    def warm():
        return dict(os.environ, MLTEST_CACHE_DIR=str(cache))
    new_checks = iter(range(1, 1000))
    def one_new_check():
        # Both caches stay; the suite gets one check it has never computed
        # (an Age quantile at a new q), which reads one column of the entry.
        return dict(os.environ, MLTEST_CACHE_DIR=str(cache),
                    MLTEST_BENCH_NEW_QUANTILE=str(next(new_checks) / 1000))
    tools = {
        "polars-read (floor)": [str(exe), "--read-only", str(csv)],
        "mltest, no cache (MLTEST_CACHE=off)": ([str(exe), str(csv)], off),
        "mltest cold (parses, stores the parse cache)": ([str(exe), str(csv)], cold),
        "mltest, new metric on cached data (parse cache)": ([str(exe), str(csv)], new_metric),
        "mltest fully warm (parse + metric cache)": ([str(exe), str(csv)], warm),
        "mltest, one new check on cached data (reads its column)": ([str(exe), str(csv)], one_new_check),
        "mltest streaming (scan + checks)": [str(exe), "--streaming", str(csv)],
        "pandera-polars": [args.python, str(SHARED / "pandera_suite.py"), str(csv)],
        "great_expectations": [args.python, str(SHARED / "ge_suite.py"), str(csv)],
    }
    if args.native:
        nexe = Path(args.native) / "release" / "examples" / "bench_data_suite"
        if not nexe.exists():
            sys.exit(f"{nexe} missing: CARGO_TARGET_DIR={args.native} RUSTFLAGS='-C target-cpu=native' "
                     "cargo build --release --example bench_data_suite")
        tools["polars-read (floor), target-cpu=native"] = [str(nexe), "--read-only", str(csv)]
        tools["mltest cold, target-cpu=native"] = ([str(nexe), str(csv)], cold)
        tools["mltest, no cache, target-cpu=native"] = ([str(nexe), str(csv)], off)
        tools["mltest streaming, target-cpu=native"] = [str(nexe), "--streaming", str(csv)]
    if args.simd:
        sexe = Path(args.simd) / "release" / "examples" / "bench_data_suite"
        if not sexe.exists():
            sys.exit(f"{sexe} missing: CARGO_TARGET_DIR={args.simd} RUSTFLAGS='-C target-cpu=native' "
                     "cargo +nightly build --release --example bench_data_suite --features polars/simd")
        tools["polars-read (floor), nightly simd"] = [str(sexe), "--read-only", str(csv)]
        tools["mltest cold, nightly simd"] = ([str(sexe), str(csv)], cold)
        tools["mltest, no cache, nightly simd"] = ([str(sexe), str(csv)], off)
    rows = []
    for name, cmd in tools.items():
        envf = None
        if isinstance(cmd, tuple):
            cmd, envf = cmd
        walls, reports = [], []
        for _ in range(args.runs):
            w, rep = run(cmd, envf() if envf else None)
            walls.append(w)
            reports.append(rep)
        rss = peak_rss_mib(cmd, envf() if envf else None)
        med = statistics.median(walls)
        rep = reports[walls.index(sorted(walls)[len(walls) // 2])]
        rows.append((name, rep, med, rss))
        print(f"{name}: {json.dumps(rep)} wall={med:.2f}s rss={rss:.0f}MiB", file=sys.stderr)

    print(f"\nfile: {csv} ({csv.stat().st_size / 1e6:.0f} MB), median of {args.runs} runs\n")
    print("| tool | read/load s | validate s | whole process s | peak RSS MiB | failed |")
    print("|---|---|---|---|---|---|")
    for name, rep, wall, rss in rows:
        print(f"| {name} | {rep.get('load_s')} | {rep['validate_s']} | {wall:.2f} | {rss:.0f} | {', '.join(rep.get('failed', [])) or '-'} |")
    m = {n: (r, w, s) for n, r, w, s in rows}
    m["mltest"] = m["mltest, no cache (MLTEST_CACHE=off)"]
    if "mltest" in m and "great_expectations" in m:
        (mr, mw, ms), (gr, gw, gs) = m["mltest"], m["great_expectations"]
        print(f"\nvs Great Expectations: validate {gr['validate_s'] / mr['validate_s']:.0f}x faster, "
              f"whole process {gw / mw:.1f}x faster, peak RSS {ms / gs:.2f}x of GE's")
        fr, fw, fs = m["polars-read (floor)"]
        print(f"validation on top of mltest's own load: {100 * mr['validate_s'] / mr['load_s']:.0f}%"
              f"; on top of polars' projected read: {100 * mr['validate_s'] / fr['load_s']:.0f}%"
              f"; mltest whole process vs the floor's: {mw / fw:.2f}x")
    if "mltest" in m and "pandera-polars" in m:
        (mr, mw, ms), (pr, pw, ps) = m["mltest"], m["pandera-polars"]
        print(f"vs pandera-polars: validate {pr['validate_s'] / mr['validate_s']:.1f}x, whole process {pw / mw:.2f}x, "
              f"peak RSS {ms / ps:.2f}x of pandera's")
        for label in ("mltest cold (parses, stores the parse cache)",
                      "mltest, new metric on cached data (parse cache)",
                      "mltest fully warm (parse + metric cache)",
                      "mltest, one new check on cached data (reads its column)"):
            cr, cw, cs = m[label]
            fr, fw, fs = m["polars-read (floor)"]
            print(f"{label}: whole process {cw:.2f} s = {pw / cw:.2f}x faster than pandera-polars, "
                  f"{cw / fw:.2f}x the floor; peak RSS {cs / ps:.2f}x of pandera's")
        if "mltest cold, target-cpu=native" in m:
            (cr, cw, cs), (fr, fw, fs) = m["mltest cold, target-cpu=native"], m["polars-read (floor), target-cpu=native"]
            print(f"target-cpu=native: floor {fw:.2f} s (portable {m['polars-read (floor)'][1]:.2f} s); "
                  f"mltest cold {cw:.2f} s = {pw / cw:.2f}x faster than pandera-polars, {cw / fw:.2f}x the native floor")
        if "mltest cold, nightly simd" in m:
            (cr, cw, cs), (fr, fw, fs) = m["mltest cold, nightly simd"], m["polars-read (floor), nightly simd"]
            print(f"nightly + polars simd + target-cpu=native: floor {fw:.2f} s; "
                  f"mltest cold {cw:.2f} s = {pw / cw:.2f}x faster than pandera-polars, {cw / fw:.2f}x that floor")


    if args.cargo_test:
        cargo_test_times(args.runs)


# The project's suites that read data files (the reviews CSV and the model store).
DATA_SUITES = ["data_quality", "drift", "robustness", "ab", "streaming"]


def cargo_test_times(runs):
    """`cargo test --release` of DATA_SUITES: caches off, cold (a new cache
    directory), and warm (unchanged data and checks), median of `runs`."""
    import shutil, tempfile
    cmd = ["cargo", "test", "--release", "-q"]
    for t in DATA_SUITES:
        cmd += ["--test", t]
    subprocess.run(cmd + ["--no-run"], cwd=ROOT, check=True, capture_output=True)
    cache = Path(tempfile.mkdtemp(prefix="mltest-bench-cargo-test-"))

    def timed(env):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"cargo test failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        return time.perf_counter() - t0

    off = [timed(dict(os.environ, MLTEST_CACHE="off")) for _ in range(runs)]
    cold = []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(timed(dict(os.environ, MLTEST_CACHE_DIR=str(cache))))
    warm = [timed(dict(os.environ, MLTEST_CACHE_DIR=str(cache))) for _ in range(runs)]
    shutil.rmtree(cache, ignore_errors=True)
    print(f"\n`{' '.join(cmd)}` (built beforehand), median of {runs} runs\n")
    print("| caches | wall s |")
    print("|---|---|")
    for label, xs in (("off (MLTEST_CACHE=off)", off), ("cold (new cache directory)", cold),
                      ("warm (unchanged data and checks)", warm)):
        print(f"| {label} | {statistics.median(xs):.2f} |")


if __name__ == "__main__":
    main()
