#!/usr/bin/env python3
"""Streaming a data set larger than this process should hold (issue 10).

Builds the reviews file repeated to at least --gb gigabytes (default 5) and
validates it with mltest's streaming path: the 14 checks of the data-suite
benchmark in one streaming plan over one scan, the median from a KLL sketch.
Prints time, peak RSS (wait4) and peak anonymous memory (RssAnon sampled from
/proc: the CSV's pages mapped from the page cache are counted in RSS but are
file-backed and reclaimable), and the sketch's stated error.

    cargo build --release --example bench_data_suite
    python3 bench/streaming.py [--gb 5] [--exact-too] [--keep]

Not run by CI: the file needs --gb of free disk (checked first) and a few
minutes to write. --exact-too also runs the suite with exact quantiles,
which makes polars hold the query's input in memory.
"""
import argparse, json, os, shutil, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The reviews CSV written by polars averages ~361 bytes a row.
BYTES_PER_ROW = 361


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def measured(cmd):
    """Runs cmd; returns (wall s, peak RSS MiB, peak RssAnon MiB, last JSON line)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_anon = [0]

    def sample():
        status = f"/proc/{p.pid}/status"
        while p.poll() is None:
            try:
                for line in open(status):
                    if line.startswith("RssAnon:"):
                        peak_anon[0] = max(peak_anon[0], int(line.split()[1]))
            except OSError:
                break
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    sampler.join()
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}):\n{err}")
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return wall, peak_anon[0] / 1024.0, json.loads(line)


def peak_rss_mib(cmd):
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        sys.exit(f"{cmd[0]} failed (status {status})")
    return usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=5.0)
    ap.add_argument("--exact-too", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    args = ap.parse_args()

    exe = target_dir() / "release" / "examples" / "bench_data_suite"
    if not exe.exists():
        sys.exit(f"{exe} missing: cargo build --release --example bench_data_suite")
    out_dir = target_dir() / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = int(args.gb * 1e9 / BYTES_PER_ROW) + 1
    path = out_dir / f"reviews_{rows}.csv"
    if not path.exists():
        free = shutil.disk_usage(out_dir).free
        need = args.gb * 1e9 * 1.1 + 2e9
        if free < need:
            sys.exit(f"not enough free disk under {out_dir}: {free/1e9:.1f} GB free, "
                     f"{need/1e9:.1f} GB needed for a {args.gb} GB file")
        t = time.perf_counter()
        subprocess.run([str(exe), "--make", str(rows), str(path)], check=True)
        print(f"wrote {path} in {time.perf_counter()-t:.0f} s", file=sys.stderr)
    size = path.stat().st_size
    if size < args.gb * 1e9:
        sys.exit(f"{path} holds {size/1e9:.2f} GB, less than {args.gb} GB")

    # Every run reads the file from the page cache (the machine's memory
    # holds it): without this the first run would pay for the disk.
    t = time.perf_counter()
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
    print(f"read once to warm the page cache: {time.perf_counter() - t:.1f} s", file=sys.stderr)

    modes = [("--streaming", "mltest streaming (median from a KLL sketch)")]
    if args.exact_too:
        modes.append(("--streaming-exact", "mltest streaming, exact median (in-memory fallback)"))
    print(f"file: {path} ({size/1e9:.2f} GB, {rows:,} rows), one run each\n")
    print("| run | rows | checks passed | whole process s | peak RSS MiB | peak RssAnon MiB | scans | in-memory fallbacks |")
    print("|---|---|---|---|---|---|---|---|")
    details = []
    for flag, label in modes:
        cmd = [str(exe), flag, str(path)]
        wall, anon, res = measured(cmd)
        rss = peak_rss_mib(cmd)
        passed = res["expectations"] - len(res["failed"])
        print(f"| {label} | {res['rows']:,} | {passed} of {res['expectations']} | {wall:.1f} | "
              f"{rss:.0f} | {anon:.0f} | {res['scans']} | {len(res['in_memory_fallbacks'])} |")
        details.append((label, res))
    print()
    for label, res in details:
        e = res.get("median_estimate")
        if e:
            print(f"{label}: median {res['median']} from a {e['method']} of {e['values']:,} values, "
                  f"rank error ±{e['rank_error']*100:.2f}% ({e['confidence']*100:.0f}% confidence): "
                  f"true median in [{e['low']}, {e['high']}]")
        else:
            print(f"{label}: median {res['median']} (exact)")
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
