#!/usr/bin/env python3
"""Model quality and training cost of mltest's main job, side by side with scikit-learn.

    cargo build --release --example pipeline
    python3 bench/model_quality.py [--seeds 42 7 11] [--buckets 4096 65536] [--alpha 1.0]
                                   [--python ~/.cache/mltest-peers/bin/python] [--json out.json]

The scikit-learn parts need the peers' venv:

    python3 -m venv ~/.cache/mltest-peers
    ~/.cache/mltest-peers/bin/pip install scikit-learn scipy numpy "pandas<2.3"

Any python3 can start the script: it re-runs itself with --python (default
~/.cache/mltest-peers/bin/python). The binary is
$CARGO_TARGET_DIR/release/examples/pipeline, CARGO_TARGET_DIR defaulting to
~/.cache/mltest-target as in .ci/run; --exe PATH runs something else in its
place (the fakes this script was tested with).

For each bucket count and split seed:
  mltest      pipeline --data CSV --store TMP --seed N --buckets N --alpha X
              --export-design TMP/export, whole process timed; its figures
              and gate verdicts come from TMP/export/run.json.
  same design scikit-learn's LogisticRegression(C=1/alpha, max_iter=1000) on the
              exact CSR matrices mltest fitted and evaluated: fit time alone,
              held-out accuracy, and the objective at its own solution against
              mltest's (sum of log-losses + alpha/2 ||w||^2, intercept free);
              also, untimed, against a tol=1e-10 fit that stands for the optimum.
  own pipeline the peer's features (HashingVectorizer with n_features=buckets,
              one-hot categoricals, scaled numerics) on mltest's split rows:
              featurise + fit time as the peer's fit_s counts it, accuracy.
Once: ../shared/bench/sklearn_baseline.py run as is (its own split, 2^12
buckets, C=1), the peer's reference row.

A failed run, a missing or partial run.json, or a missing export is reported
and the script goes on; it exits 0 whatever the verdicts, 2 on usage errors
or a missing binary or interpreter.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CSV = ROOT.parent / "shared" / "data" / "womens_clothing_reviews.csv"
PEER = ROOT.parent / "shared" / "bench" / "sklearn_baseline.py"
PEERS_VENV = Path.home() / ".cache" / "mltest-peers"
REEXEC_GUARD = "MLTEST_MODEL_QUALITY_REEXEC"


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "mltest-target"))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[42, 7, 11])
    ap.add_argument("--buckets", nargs="+", type=int, default=[4096, 65536])
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--python", default=str(PEERS_VENV / "bin" / "python"),
                    help="interpreter with scikit-learn; the script re-runs itself with it")
    ap.add_argument("--exe", help="pipeline binary (default $CARGO_TARGET_DIR/release/examples/pipeline)")
    ap.add_argument("--data", default=str(CSV))
    ap.add_argument("--peer", default=str(PEER), help="the scikit-learn peer script, run once as is")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per pipeline run")
    ap.add_argument("--json", metavar="PATH", help="also write every raw figure here")
    ap.add_argument("--pipeline-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for every pipeline run, repeatable: e.g. --pipeline-arg=--plain-lbfgs "
                         "(scikit-learn's unpreconditioned path) or --pipeline-arg=--tolerance --pipeline-arg=3e-5")
    ap.add_argument("--keep", action="store_true", help="keep the temporary stores and exports (paths on stderr)")
    args = ap.parse_args()
    if args.alpha <= 0:
        ap.error("--alpha must be > 0")
    if any(b <= 0 for b in args.buckets):
        ap.error("--buckets must be > 0")
    return args


def die(msg):
    """Usage errors and missing prerequisites: message on stderr, exit 2."""
    print(f"model_quality: {msg}", file=sys.stderr)
    sys.exit(2)


def use_interpreter(python):
    """Re-run this script with the peers' interpreter unless it already is the one running.

    sys.executable is compared unresolved: a venv's python is a symlink to the
    base interpreter, and resolving both would make them look the same."""
    if os.environ.get(REEXEC_GUARD) == "1" or os.path.abspath(sys.executable) == os.path.abspath(python):
        return
    if not os.access(python, os.X_OK):
        die(f"interpreter {python} not found. Create it with:\n"
                 f"  python3 -m venv {PEERS_VENV}\n"
                 f"  {PEERS_VENV}/bin/pip install scikit-learn scipy numpy 'pandas<2.3'\n"
                 f"or pass --python PATH to one that has scikit-learn.")
    os.environ[REEXEC_GUARD] = "1"
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


def last_line(s):
    lines = [l for l in (s or "").splitlines() if l.strip()]
    return lines[-1].strip() if lines else ""


def run_peer(python, peer, csv):
    """The shared peer, once, as is. Never raises: a failure is a row with an error."""
    if not Path(peer).exists():
        return {"error": f"{peer} missing"}
    t0 = time.perf_counter()
    try:
        p = subprocess.run([python, str(peer), str(csv)], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": repr(e)}
    wall = time.perf_counter() - t0
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"error": f"exit {p.returncode}: {last_line(p.stderr)}", "process_s": wall}
    try:
        return {**json.loads(lines[-1]), "process_s": wall}
    except ValueError as e:
        return {"error": f"unparsable output {lines[-1][:200]!r}: {e}", "process_s": wall}


def read_run_json(path):
    """(figures, problem): a missing or unparsable run.json is a problem, not a crash."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}, "no run.json"
    except OSError as e:
        return {}, f"run.json unreadable: {e}"
    try:
        run = json.loads(text)
    except ValueError as e:
        return {}, f"run.json partial or invalid ({len(text)} bytes): {e}"
    if not isinstance(run, dict):
        return {}, "run.json is not an object"
    return run, None


def one_run(exe, csv, seed, buckets, alpha, timeout, df, text, keep, extra=()):
    import sklearn_same as ss

    r = {"buckets": buckets, "seed": seed, "problems": []}
    tmp = Path(tempfile.mkdtemp(prefix=f"model_quality-{buckets}-{seed}-"))
    store, export = tmp / "store", tmp / "export"
    store.mkdir()
    export.mkdir()
    cmd = [str(exe), "--data", str(csv), "--store", str(store), "--seed", str(seed),
           "--buckets", str(buckets), "--alpha", repr(alpha), "--export-design", str(export)] + list(extra)
    env = {**os.environ, "MLTEST_OUT": str(tmp / "out")}
    t0 = time.perf_counter()
    try:
        # From the repository root, as `cargo run` would, in case a gate reads a path relative to it.
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
        r["exit_code"], r["stderr_tail"] = p.returncode, last_line(p.stderr)
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        r["exit_code"], r["stderr_tail"], r["timed_out"] = None, last_line(stderr), True
        r["problems"].append(f"timed out after {timeout:.0f} s")
    except OSError as e:
        r["exit_code"], r["stderr_tail"] = None, ""
        r["problems"].append(f"could not start: {e}")
    r["process_s"] = time.perf_counter() - t0

    r["mltest"], problem = read_run_json(export / "run.json")
    if problem:
        r["problems"].append(problem)

    # scikit-learn on the exported design; whatever is missing is noted and skipped.
    design = None
    try:
        design = ss.load_design(export)
        Xtr, ytr, Xte, yte, width = design
        r["same_design"] = ss.fit_same_design(Xtr, ytr, Xte, yte, alpha)
        check = ss.check_mltest_solution(export, Xtr, ytr, Xte, yte, width, alpha)
        if check is not None:
            r["mltest_recomputed"] = check
    except Exception as e:  # a benchmark report, not a test: note it and go on
        r["same_design"] = {"error": f"{type(e).__name__}: {e}"}

    try:
        tr = ss.read_rows(export, "train", len(df))
        te = ss.read_rows(export, "test", len(df))
        if design is not None:
            r["label_mismatches"] = {"train": ss.labels_against_csv(df, tr, design[1]),
                                     "test": ss.labels_against_csv(df, te, design[3])}
        r["own_pipeline"] = ss.fit_own_pipeline(df, text, tr, te, buckets, alpha)
    except Exception as e:
        r["own_pipeline"] = {"error": f"{type(e).__name__}: {e}"}

    if keep:
        print(f"  kept {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return r


# ---- figures out of a run record, None where absent -------------------------------

def num(d, key):
    """d[key] if it is a number (bools are not), else None: run.json may lack or null anything."""
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def objective_gap(r, key="objective"):
    """(mltest - sklearn) / |sklearn|: > 0 when mltest stopped above scikit-learn's objective;
    key "optimum_objective" compares with the tight-tolerance fit instead of the default one."""
    mo, so = num(r["mltest"], "objective"), num(r.get("same_design"), key)
    if mo is None or so is None or so == 0:
        return None
    return (mo - so) / abs(so)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f(x, spec=".4f", none="–"):
    return none if x is None else format(x, spec)


def gates_summary(gates):
    """'data_gate pass, evaluation pass, robustness: 9 pass 1 inconclusive', in the order kinds appear."""
    if not isinstance(gates, list) or not gates:
        return "–"
    by_kind = {}
    for g in gates:
        g = g if isinstance(g, dict) else {}
        by_kind.setdefault(str(g.get("kind", "?")), []).append(str(g.get("verdict", "?")))
    parts = []
    for kind, verdicts in by_kind.items():
        if len(verdicts) == 1:
            parts.append(f"{kind} {verdicts[0]}")
        else:
            counts = {}
            for v in verdicts:
                counts[v] = counts.get(v, 0) + 1
            parts.append(f"{kind}: " + " ".join(f"{n} {v}" for v, n in counts.items()))
    return ", ".join(parts)


def status_cell(r):
    status = r["mltest"].get("status")
    code = r.get("exit_code")
    cell = str(status) if status is not None else "no status"
    if r.get("timed_out"):
        cell += " (timed out)"
    else:
        cell += f" (exit {code})" if code is not None else " (did not start)"
    return cell


def failed_gate_details(r):
    gates = r["mltest"].get("gates")
    if not isinstance(gates, list):
        return []
    return [f"{g.get('kind')}: {g.get('verdict')} — {g.get('detail', '')}"
            for g in gates if isinstance(g, dict) and g.get("verdict") != "pass"]


# ---- report -------------------------------------------------------------------------

def table(headers, rows):
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def points(a, b):
    """a - b in accuracy points, None if either is missing."""
    return None if a is None or b is None else 100 * (a - b)


def time_ratio(rs, part, key, mltest_key):
    """mean sklearn time / mean mltest time over the seeds that have both; > 1: mltest is faster."""
    pairs = [(num(r.get(part), key), num(r["mltest"], mltest_key)) for r in rs]
    pairs = [(a, b) for a, b in pairs if a is not None and b]
    return mean([a for a, _ in pairs]) / mean([b for _, b in pairs]) if pairs else None


def print_report(runs, peer, alpha, versions, extra=()):
    print(f"alpha {alpha:g} (scikit-learn C = {1 / alpha:g}); {versions}\n")
    if extra:
        print(f"pipeline run with: {' '.join(extra)}\n")

    print("### mltest main job\n")
    rows = []
    for r in runs:
        m = r["mltest"]
        rows.append([str(r["buckets"]), str(r["seed"]), status_cell(r), f(num(m, "accuracy")),
                     f(num(m, "fit_s"), ".3f"), f(num(m, "train_step_s"), ".3f"), f(num(m, "iterations"), "d"),
                     f(num(m, "objective"), ".2f"), f(num(m, "main_job_s"), ".2f"), f(r["process_s"], ".2f"),
                     gates_summary(m.get("gates"))])
    table(["buckets", "seed", "status", "held-out accuracy", "fit s (optimizer)", "train step s", "iterations",
           "objective", "main job s", "process s", "gates"], rows)

    print("\n### scikit-learn on mltest's design (same matrices) and on mltest's split (own pipeline)\n")
    rows = []
    for r in runs:
        sd, op, acc = r.get("same_design", {}), r.get("own_pipeline", {}), num(r["mltest"], "accuracy")
        iters = f(num(sd, "iterations"), "d") + ("" if sd.get("converged", True) else " (max_iter)")
        rows.append([str(r["buckets"]), str(r["seed"]), f(num(sd, "width"), "d"), f(num(sd, "fit_s"), ".3f"),
                     f(num(sd, "accuracy")), f(points(acc, num(sd, "accuracy")), "+.2f"), iters,
                     f(objective_gap(r), "+.2e"), f(objective_gap(r, "optimum_objective"), "+.2e"),
                     f(num(op, "fit_s"), ".3f"), f(num(op, "accuracy")), f(points(acc, num(op, "accuracy")), "+.2f")])
    table(["buckets", "seed", "width", "same design: fit s", "accuracy", "mltest Δ points", "iterations",
           "objective gap", "gap to optimum", "own pipeline: featurise + fit s", "accuracy", "mltest Δ points"], rows)

    print("\n### scikit-learn peer, as is (its own numpy-seed-0 split, 2^12 buckets, C = 1)\n")
    if "error" in peer:
        print(f"peer failed: {peer['error']}")
    else:
        table(["train rows", "test rows", "held-out accuracy", "fit s (featurise + fit)", "process s",
               "typo flip rate"],
              [[str(peer.get("train_rows", "–")), str(peer.get("test_rows", "–")), f(num(peer, "test_accuracy")),
                f(num(peer, "fit_s"), ".3f"), f(num(peer, "process_s"), ".2f"),
                str(peer.get("typo_flip_rate", "–"))]])

    # Means over the seeds that produced each figure, so one failed run does not hide the rest.
    groups = {}
    for r in runs:
        groups.setdefault(r["buckets"], []).append(r)
    peer_acc = num(peer, "test_accuracy")
    quality, cost = [], []
    for buckets, rs in groups.items():
        ml = mean([num(r["mltest"], "accuracy") for r in rs])
        sd = mean([num(r.get("same_design"), "accuracy") for r in rs])
        op = mean([num(r.get("own_pipeline"), "accuracy") for r in rs])
        n_ok = sum(1 for r in rs if num(r["mltest"], "accuracy") is not None)
        quality.append([str(buckets), f"{n_ok} of {len(rs)}", f(ml), f(sd), f(points(ml, sd), "+.2f"), f(op),
                        f(points(ml, op), "+.2f"), f(points(ml, peer_acc), "+.2f"),
                        f(mean([objective_gap(r) for r in rs]), "+.2e"),
                        f(mean([objective_gap(r, "optimum_objective") for r in rs]), "+.2e")])
        cost.append([str(buckets), f(time_ratio(rs, "own_pipeline", "fit_s", "train_step_s"), ".2f"),
                     f(time_ratio(rs, "same_design", "fit_s", "fit_s"), ".2f"),
                     f(median([num(r["mltest"], "main_job_s") for r in rs]), ".2f"),
                     f(median([r["process_s"] for r in rs]), ".2f")])
    print("\n### Summary per bucket count: quality (means over seeds)\n")
    table(["buckets", "mltest runs with accuracy", "mltest accuracy", "sklearn same design", "Δ points",
           "sklearn own pipeline", "Δ points", "Δ points vs peer", "mean objective gap", "mean gap to optimum"],
          quality)
    print("\n### Summary per bucket count: cost\n")
    table(["buckets", "sklearn own pipeline fit s ÷ mltest train step s", "sklearn fit-only s ÷ mltest fit s",
           "median main job s", "median process s"], cost)
    print("\nΔ points: mltest minus the other, in accuracy points. Objective gap: (mltest − sklearn) / sklearn "
          "on the same matrices, > 0 when mltest stopped higher; scikit-learn at its default tol 1e-4 itself "
          "stops about 1e-4 above the optimum, so the gap to optimum (scikit-learn at tol 1e-10, untimed) is "
          "the one that tells convergence. Time ratios: means over seeds, > 1 when mltest is faster.")

    notes = []
    for r in runs:
        tag = f"buckets {r['buckets']} seed {r['seed']}"
        for p in r["problems"]:
            notes.append(f"{tag}: {p}" + (f"; last stderr line: {r['stderr_tail']}" if r.get("stderr_tail") else ""))
        if r.get("exit_code") not in (0, None) and not r["problems"] and r.get("stderr_tail"):
            notes.append(f"{tag}: exit {r['exit_code']}; last stderr line: {r['stderr_tail']}")
        notes += [f"{tag}: {d}" for d in failed_gate_details(r)]
        for part in ("same_design", "own_pipeline"):
            if "error" in r.get(part, {}):
                notes.append(f"{tag}: {part.replace('_', ' ')} skipped: {r[part]['error']}")
        mism = r.get("label_mismatches", {})
        if any(v != 0 for v in mism.values()):
            notes.append(f"{tag}: exported labels disagree with the CSV at the exported row numbers: {mism}")
        rec = r.get("mltest_recomputed")
        if rec:
            mo, ma = num(r["mltest"], "objective"), num(r["mltest"], "accuracy")
            rel = None if mo is None else (mo - rec["objective"]) / abs(rec["objective"])
            notes.append(f"{tag}: from weights.f64, objective {rec['objective']:.4f} (run.json {f(mo, '.4f')}, "
                         f"relative difference {f(rel, '+.1e')}), accuracy {rec['accuracy']:.4f} (run.json {f(ma)})")
    if notes:
        print("\n### Notes\n")
        for n in notes:
            print(f"- {n}")


def versions():
    import numpy, pandas, scipy, sklearn
    return (f"scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {numpy.__version__}, "
            f"pandas {pandas.__version__}, Python {sys.version.split()[0]}")


def main():
    args = parse_args()
    exe = Path(args.exe) if args.exe else target_dir() / "release" / "examples" / "pipeline"
    if not exe.exists():
        die(f"{exe} not found; build it with\n"
                 f"  cargo build --release --example pipeline\n"
                 f"(CARGO_TARGET_DIR={target_dir()}), or pass --exe PATH.")
    if not Path(args.data).exists():
        die(f"data file {args.data} not found (--data PATH)")
    use_interpreter(args.python)

    sys.path.insert(0, str(BENCH))
    try:
        import sklearn_same as ss
    except ImportError as e:
        die(f"{sys.executable} cannot import the scikit-learn stack ({e}); "
                 f"pass --python with a venv that has scikit-learn, scipy, numpy, pandas")

    df, text = ss.read_reviews(args.data)
    print(f"peer: {args.peer}", file=sys.stderr)
    peer = run_peer(sys.executable, args.peer, args.data)
    runs = []
    for buckets in args.buckets:
        for seed in args.seeds:
            print(f"buckets {buckets} seed {seed}: {exe.name} ...", file=sys.stderr, flush=True)
            r = one_run(exe, args.data, seed, buckets, args.alpha, args.timeout, df, text, args.keep, args.pipeline_arg)
            print(f"  {status_cell(r)}, {r['process_s']:.1f} s", file=sys.stderr, flush=True)
            runs.append(r)

    v = versions()
    print_report(runs, peer, args.alpha, v, args.pipeline_arg)
    if args.json:
        raw = {"alpha": args.alpha, "seeds": args.seeds, "buckets": args.buckets, "exe": str(exe),
               "data": str(args.data), "versions": v, "peer": peer,
               "runs": [{**r, "objective_gap_rel": objective_gap(r),
                         "objective_gap_to_optimum_rel": objective_gap(r, "optimum_objective")} for r in runs]}
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")
        print(f"\nraw figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
