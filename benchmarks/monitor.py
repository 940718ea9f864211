#!/usr/bin/env python3
"""mv monitor against Evidently's DataDriftPreset: same CSVs, same column types, same verdicts?

Deterministic data (numpy, --seed) in a temporary folder: reference.csv (--reference-rows)
and current.csv (--rows), 20 features f01..f20 (14 numeric: normal, lognormal, uniform,
gamma, exponential and integer-valued with many values; 6 categorical string labels with 3 to
60 categories) and a numeric target y, linear in f01, f03, f06 and f09 plus noise. In
current.csv 8 features drift far past the defaults' thresholds (5 numeric: mean shifts of 0.7
to 0.8 reference std or a scale change; 3 categorical: shares moved around) and the other 12
are drawn from the reference distributions, so each verdict sits far from its threshold.

mv: a git repository, `mv init`, `mv train bench --data reference.csv --target y --algorithm
ridge --test-size 0` (its reference profile is every row Evidently reads) and `bench-pred`
with the default hold-out (its reference also holds hold-out predictions), then the timed
runs `mv monitor <model> --data current.csv --no-commit --json` (exit 0 or 1 are both
answers). current.csv holds y, so mv also predicts every row and scores it (live metrics).

Evidently: one timed process of the Evidently venv's python that reads both CSVs with pandas,
runs Report([DataDriftPreset(columns=features)]) with a DataDefinition naming the numeric and
categorical columns (target left out) and writes every column's test, score, threshold and
verdict. Evidently 0.7 computes each column's drift three times in one preset run (ValueDrift,
DriftedColumnsCount's legacy DatasetDriftMetric, and the preset's DataDriftTable widget): that
is what a user of the preset pays, so it is what is timed.

Both are timed as whole child processes: wall seconds, and peak RSS from GNU time (apt: time).
Prints both, the Evidently/mv ratios, and per feature the two tools' tests, scores and
verdicts next to the drift the data was built with; exits 1 if any verdict disagrees or mv
failed.

    python3 benchmarks/monitor.py --mv .build/release/mv [--rows 1000000] [--reference-rows 100000]
        [--evidently-python /work/venv-evidently/bin/python] [--keep DIR] [--evidently-only]

Needs numpy here (and pyarrow, which writes the CSVs in seconds, or else pandas), git, and a venv
with Evidently: python3 -m venv V && V/bin/pip install 'evidently==0.7.*' 'pandas<3'
(Evidently 0.7.23 imports a pandas helper that pandas 3 removed). Results go in
docs/PERFORMANCE.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

# (name, kind, drifts) in file order; generators below. 14 numeric, 6 categorical, 8 drift.
FEATURES = [
    ("f01", "numeric", True),  # normal(0, 1); current mean +0.8
    ("f02", "numeric", True),  # lognormal(0, 0.5); current values x1.8
    ("f03", "numeric", False),  # uniform(0, 100)
    ("f04", "categorical", True),  # low/mid/high 50/30/20 %; current 20/30/50 %
    ("f05", "numeric", True),  # integer ages 18..89; current +15
    ("f06", "numeric", False),  # normal(50, 10)
    ("f07", "numeric", False),  # integer poisson(40)
    ("f08", "categorical", False),  # 60 categories, Zipf-like shares
    ("f09", "numeric", True),  # normal(0, 1); current std 2
    ("f10", "numeric", False),  # lognormal(2, 0.3)
    ("f11", "categorical", False),  # 5 categories
    ("f12", "numeric", True),  # uniform(-1, 1); current uniform(-0.6, 1.4)
    ("f13", "numeric", False),  # gamma(2, 3)
    ("f14", "categorical", True),  # 10 categories, 1/(i+1) shares; current reversed
    ("f15", "numeric", False),  # integer binomial(200, 0.3)
    ("f16", "numeric", False),  # normal(100, 15)
    ("f17", "categorical", True),  # 30 categories, exp(-i/8) shares; current mirrored
    ("f18", "numeric", False),  # exponential(1)
    ("f19", "categorical", False),  # 8 categories
    ("f20", "numeric", False),  # integer uniform 0..9999
]
NUMERIC = [name for name, kind, _ in FEATURES if kind == "numeric"]
CATEGORICAL = [name for name, kind, _ in FEATURES if kind == "categorical"]
EXPECTED = {name: drifts for name, _, drifts in FEATURES}


def labels(prefix, count):
    return np.array([f"{prefix}{i:02d}" for i in range(count)])


def shares(weights):
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


def categories(rng, names, p, n):
    return names[rng.choice(len(names), size=n, p=p)]


def make_table(rng, n, drift):
    """One table of n rows; with drift, the 8 drifting features take their current form."""
    zipf60 = shares(1 / np.arange(1, 61) ** 1.1)
    exp30 = shares(np.exp(-np.arange(30) / 8))
    inv10 = shares(1 / np.arange(1, 11))
    c = {}
    c["f01"] = rng.normal(0.8 if drift else 0.0, 1.0, n)
    c["f02"] = rng.lognormal(0.0, 0.5, n) * (1.8 if drift else 1.0)
    c["f03"] = rng.uniform(0, 100, n)
    c["f04"] = categories(rng, np.array(["low", "mid", "high"]), [0.2, 0.3, 0.5] if drift else [0.5, 0.3, 0.2], n)
    c["f05"] = rng.integers(18, 90, n) + (15 if drift else 0)
    c["f06"] = rng.normal(50, 10, n)
    c["f07"] = rng.poisson(40, n)
    c["f08"] = categories(rng, labels("k", 60), zipf60, n)
    c["f09"] = rng.normal(0.0, 2.0 if drift else 1.0, n)
    c["f10"] = rng.lognormal(2.0, 0.3, n)
    c["f11"] = categories(rng, labels("s", 5), [0.4, 0.25, 0.15, 0.12, 0.08], n)
    c["f12"] = rng.uniform(-0.6, 1.4, n) if drift else rng.uniform(-1.0, 1.0, n)
    c["f13"] = rng.gamma(2.0, 3.0, n)
    c["f14"] = categories(rng, labels("t", 10), inv10[::-1] if drift else inv10, n)
    c["f15"] = rng.binomial(200, 0.3, n)
    c["f16"] = rng.normal(100, 15, n)
    c["f17"] = categories(rng, labels("r", 30), exp30[::-1] if drift else exp30, n)
    c["f18"] = rng.exponential(1.0, n)
    c["f19"] = categories(rng, labels("g", 8), shares([8, 7, 6, 5, 4, 3, 2, 1]), n)
    c["f20"] = rng.integers(0, 10000, n)
    noise = rng.normal(0, 1, n)
    c["y"] = 2 * c["f01"] + 0.03 * c["f03"] + 0.05 * c["f06"] - 0.5 * c["f09"] + noise
    return {name: c[name] for name in [f for f, _, _ in FEATURES] + ["y"]}


def round_significant(x, digits=6):
    magnitude = np.floor(np.log10(np.where(x != 0, np.abs(x), 1.0)))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(x * scale) / scale


def write_csv(path, columns):
    """Floats to 6 significant digits; pyarrow when installed (seconds), else pandas (slower)."""
    columns = {k: round_significant(v) if v.dtype.kind == "f" else v for k, v in columns.items()}
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:
        import pandas

        pandas.DataFrame(columns).to_csv(path, index=False)
        return
    with open(path, "wb") as out:
        out.write((",".join(columns) + "\n").encode())
        options = pyarrow.csv.WriteOptions(include_header=False, quoting_style="none")
        pyarrow.csv.write_csv(pyarrow.table(columns), out, options)


def generate(folder, rows, reference_rows, seed):
    paths = {}
    for part, n, drift in (("reference", reference_rows, False), ("current", rows, True)):
        rng = np.random.default_rng([seed, 0 if part == "reference" else 1])
        paths[part] = os.path.join(folder, f"{part}.csv")
        write_csv(paths[part], make_table(rng, n, drift))
    return paths


def timed(command, cwd=None):
    """Runs a child to completion: (exit code, stdout, stderr, wall seconds, peak RSS MiB).

    The peak RSS comes from GNU time (apt: time), which runs the command from its own small
    process: a child forked straight from this script would inherit this process's high-water
    mark (Linux copies it at fork), and the generated data makes that hundreds of MiB."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([gnu_time, "-f", "mv-bench-rss %M"] + command, cwd=cwd, stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL)
        child.wait()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        errors = err.read().decode()
        rss = 0.0
        kept = []
        for line in errors.splitlines():
            if line.startswith("mv-bench-rss "):
                rss = int(line.split()[1]) / 1024
            elif not line.startswith("Command exited with non-zero status"):
                kept.append(line)
        return child.returncode, out.read().decode(), "\n".join(kept), wall, rss


EVIDENTLY_RUNNER = r'''
import json, sys, time
started = time.perf_counter()
import pandas as pd
import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
from evidently.presets import DataDriftPreset

reference_path, current_path, numeric, categorical, out_path = sys.argv[1:]
numeric, categorical = numeric.split(","), categorical.split(",")
imported = time.perf_counter()
reference = pd.read_csv(reference_path)
current = pd.read_csv(current_path)
loaded = time.perf_counter()
definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
features = [c for c in reference.columns if c in numeric or c in categorical]
report = Report([DataDriftPreset(columns=features)], include_tests=True)
snapshot = report.run(
    Dataset.from_pandas(current, data_definition=definition),
    Dataset.from_pandas(reference, data_definition=definition),
)
done = time.perf_counter()

# ValueDrift configs carry the test's display name; map it back to its registered name.
short = {t.display_name: name for name, by_type in _registered_stat_tests.items() for t in by_type.values()}
result = snapshot.dict()
columns, by_id, count = {}, {}, None
for metric in result["metrics"]:
    config = metric["config"]
    if config["type"].endswith(":ValueDrift"):
        by_id[metric["id"]] = config["column"]
        columns[config["column"]] = {
            "test": short.get(config["method"], config["method"]),
            "score": metric["value"],
            "threshold": config["threshold"],
        }
    elif config["type"].endswith(":DriftedColumnsCount"):
        count = metric["value"]
for test in result["tests"]:
    column = by_id.get(test["metric_config"]["metric_id"])
    if column is not None:
        columns[column]["drifted"] = test["status"] == "FAIL"
share = count["share"]
json.dump({
    "version": evidently.__version__, "pandas": pd.__version__,
    "import_seconds": imported - started, "load_seconds": loaded - imported, "report_seconds": done - loaded,
    "rows": len(current), "reference_rows": len(reference),
    "drifted_count": count["count"], "drift_share": share, "drifted": share >= 0.5,
    "features": columns,
}, open(out_path, "w"), indent=1)
'''


def run_evidently(python, paths, folder):
    runner = os.path.join(folder, "evidently_runner.py")
    with open(runner, "w") as f:
        f.write(EVIDENTLY_RUNNER)
    out = os.path.join(folder, "evidently.json")
    command = [python, runner, paths["reference"], paths["current"], ",".join(NUMERIC), ",".join(CATEGORICAL), out]
    code, _, stderr, wall, rss = timed(command)
    if code != 0:
        sys.exit(f"evidently run failed ({code}):\n{stderr[-4000:]}")
    with open(out) as f:
        result = json.load(f)
    result.update(wall=wall, rss=rss)
    return result


def setup_mv(mv, paths, repo):
    """A repository with two models trained by ridge regression on reference.csv: 'bench'
    with --test-size 0 (its reference profile is every row Evidently reads), and
    'bench-pred' with the default hold-out, whose reference also holds the hold-out
    predictions, so monitoring it predicts every current row too (prediction drift).

    Returns a description, or None if training failed."""
    shutil.rmtree(repo, ignore_errors=True)  # a --keep folder used before
    subprocess.run(["git", "init", "-q", repo], check=True)
    subprocess.run(["git", "-C", repo, "config", "user.name", "Bench"], check=True)
    subprocess.run(["git", "-C", repo, "config", "user.email", "bench@example.com"], check=True)
    result = subprocess.run([mv, "init"], cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"mv init failed ({result.returncode}): {result.stderr.strip()}", file=sys.stderr)
        return None
    for model, test_size in (("bench", "0"), ("bench-pred", "0.2")):
        train = [mv, "train", model, "--data", paths["reference"], "--target", "y", "--algorithm", "ridge",
                 "--test-size", test_size]
        result = subprocess.run(train, cwd=repo, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"mv train {model} failed ({result.returncode}): {result.stderr.strip()}", file=sys.stderr)
            return None
    return "ridge; bench: --test-size 0, bench-pred: --test-size 0.2"


def run_mv(mv, paths, repo, model="bench"):
    command = [mv, "monitor", model, "--data", paths["current"], "--no-commit", "--json"]
    code, stdout, stderr, wall, rss = timed(command, cwd=repo)
    if code not in (0, 1):
        print(f"mv monitor failed ({code}): {stderr.strip()[-4000:]}", file=sys.stderr)
        return None
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError as error:
        print(f"mv monitor printed no JSON ({error}): {stdout[:500]!r}", file=sys.stderr)
        return None
    # mv's JSON keeps the dataset verdict under "drift" (as its YAML report does).
    result.update(wall=wall, rss=rss, exit=code, features={f["name"]: f for f in result["features"]},
                  drift_share=result["drift"]["share"], drifted=result["drift"]["dataset_drifted"])
    return result


def verdict(entry):
    if not entry or not isinstance(entry.get("drifted"), bool):
        return "?"
    return "DRIFT" if entry["drifted"] else "ok"


def cells(entry):
    """test, score and verdict columns of one tool's entry for a feature."""
    if not entry:
        return f"{'-':<14}{'':>9} {'':<7}| "
    score = entry.get("score")
    score = f"{score:>9.4f}" if isinstance(score, (int, float)) else f"{str(score):>9}"
    return f"{str(entry.get('test')):<14}{score} {verdict(entry):<7}| "


def report(mv, evidently, mv_note, mv_skipped):
    """Prints the comparison; returns the number of verdicts (features and dataset) that disagree."""
    print(f"\n{'tool':<10}{'wall s':>9}{'peak RSS MiB':>14}{'drift share':>13}  dataset")
    for name, r in (("mv", mv), ("evidently", evidently)):
        if r is None:
            print(f"{name:<10}{'skipped' if mv_skipped else 'failed':>9}")
            continue
        print(f"{name:<10}{r['wall']:>9.2f}{r['rss']:>14.0f}{r['drift_share']:>13.2f}  {verdict(r)}")
    print(f"evidently inside its process: import {evidently['import_seconds']:.1f} s, read CSVs "
          f"{evidently['load_seconds']:.1f} s, report {evidently['report_seconds']:.1f} s "
          f"(Evidently {evidently['version']}, pandas {evidently['pandas']})")
    if mv is not None:
        print(f"ratio evidently/mv: wall {evidently['wall'] / mv['wall']:.1f}x, RSS {evidently['rss'] / mv['rss']:.1f}x"
              f"  (mv exit {mv['exit']}{mv_note})")

    # Without mv, Evidently is checked against the drift the data was built with.
    against = "mv" if mv is not None else "built"
    print(f"\n{'feature':<9}{'type':<12}{'built':<7}| {'mv test':<14}{'score':>9} {'verdict':<7}"
          f"| {'evidently test':<14}{'score':>9} {'verdict':<7}|")
    disagreements = 0
    for name, kind, drifts in FEATURES:
        e = evidently["features"].get(name)
        m = mv["features"].get(name) if mv is not None else None
        other = verdict(m) if mv is not None else ("DRIFT" if drifts else "ok")
        differs = verdict(e) != other
        disagreements += differs
        print(f"{name:<9}{kind:<12}{'DRIFT' if drifts else 'ok':<7}| {cells(m)}{cells(e)}".rstrip()
              + (f"  <- differs from {against}" if differs else ""))
    built = "DRIFT" if sum(EXPECTED.values()) >= 0.5 * len(EXPECTED) else "ok"
    other = verdict(mv) if mv is not None else built
    differs = verdict(evidently) != other
    disagreements += differs
    shares = [{"test": "share", "score": r["drift_share"], "drifted": r["drifted"]} if r else None for r in (mv, evidently)]
    print(f"{'(dataset)':<21}{built:<7}| {cells(shares[0])}{cells(shares[1])}".rstrip()
          + (f"  <- differs from {against}" if differs else ""))
    extra = sorted(set(mv["features"]) - set(EXPECTED)) if mv is not None else []
    if extra:
        print(f"mv also reported: {', '.join(extra)} (not compared)")
    print(f"\n{disagreements} verdict disagreement(s) between Evidently and {against if mv else 'the built drift'}")
    return disagreements


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", help="the mv binary (required unless --evidently-only)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of current.csv")
    parser.add_argument("--reference-rows", type=int, default=100_000, help="rows of reference.csv")
    parser.add_argument("--evidently-python", default="/work/venv-evidently/bin/python")
    parser.add_argument("--evidently-only", action="store_true", help="skip mv; check Evidently against the built drift")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", metavar="DIR", help="write the CSVs, the repository and results.json here and keep them")
    args = parser.parse_args()
    if not args.evidently_only and not args.mv:
        parser.error("--mv is required (or --evidently-only)")
    mv_path = os.path.abspath(args.mv) if args.mv else None

    folder = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="mv-monitor-bench-")
    os.makedirs(folder, exist_ok=True)
    try:
        started = time.perf_counter()
        paths = generate(folder, args.rows, args.reference_rows, args.seed)
        print(f"data: {args.reference_rows} reference and {args.rows} current rows, 20 features + y, "
              f"written in {time.perf_counter() - started:.1f} s to {folder}")

        mv, mv_note, failed = None, "", False
        if not args.evidently_only:
            repo = os.path.join(folder, "repo")
            trained = setup_mv(mv_path, paths, repo)
            if trained is None:
                failed = True
            else:
                mv_note = f"; reference trained with {trained}"
                mv = run_mv(mv_path, paths, repo)
                failed = mv is None
                with_predictions = run_mv(mv_path, paths, repo, model="bench-pred")
                if with_predictions is None:
                    failed = True
                else:
                    drift = with_predictions.get("predictions") or {}
                    print(f"mv with prediction drift (bench-pred predicts all {args.rows} rows): "
                          f"{with_predictions['wall']:.2f} s, {with_predictions['rss']:.0f} MiB peak; "
                          f"predictions {drift.get('test')} {drift.get('score', float('nan')):.4f} "
                          f"drifted {drift.get('drifted')}")
        evidently = run_evidently(args.evidently_python, paths, folder)
        disagreements = report(mv, evidently, mv_note, args.evidently_only)
        if args.keep:
            with open(os.path.join(folder, "results.json"), "w") as f:
                json.dump({"mv": mv, "evidently": evidently}, f, indent=1)
        if failed:
            print("mv run failed", file=sys.stderr)
        return 1 if failed or disagreements else 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
