#!/usr/bin/env python3
"""Times mv's built-in trainers against scikit-learn on the same generated data.

Usage: python3 benchmarks/learning.py [--scale 1.0] [--skip-build]

Builds the release test bundle (swift build -c release -Xswiftc -enable-testing
--build-tests --scratch-path .build-learn) unless --skip-build, writes the data as raw float64 files, runs the
LearningBench test case (gated by MV_LEARN_BENCH=1) and prints mv/scikit-learn time
ratios. --scale shrinks the row counts for a quick run. scikit-learn's forest uses
n_jobs=-1 because mv's grows its trees on every core too.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = ".build-learn"
# Test targets use @testable imports, which a release build only allows with testing enabled.
RELEASE = ["-c", "release", "-Xswiftc", "-enable-testing", "--scratch-path", SCRATCH]


def make_data(rows, cols, kind, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, cols))
    w = rng.normal(size=cols)
    z = X @ w + 0.5 * rng.normal(size=rows)
    if kind == "regression":
        return X, z + 3.0
    if kind == "binary":
        return X, (z > 0).astype(float)
    if kind == "tree-regression":
        return X, np.sin(X[:, 0] * 2) + X[:, 1] * X[:, 2] + 0.5 * rng.normal(size=rows)
    # Tree data: a nonlinear three-class target so trees grow deep, as on real data.
    t = np.sin(X[:, 0] * 2) + X[:, 1] * X[:, 2] + 0.5 * rng.normal(size=rows)
    return X, np.digitize(t, [-0.5, 0.5]).astype(float)


def timed(fit):
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()

    linear_rows = int(1_000_000 * args.scale)
    tree_rows = int(100_000 * args.scale)
    cols = 20
    jobs = [
        ("ols", "linear-regression", {}, linear_rows, "regression",
         lambda: LinearRegression()),
        ("logistic", "logistic-regression", {}, linear_rows, "binary",
         lambda: LogisticRegression()),
        ("decision-tree", "decision-tree", {}, tree_rows, "trees",
         lambda: DecisionTreeClassifier(random_state=0)),
        ("decision-tree-mse", "decision-tree", {"criterion": "mse"}, tree_rows, "tree-regression",
         lambda: DecisionTreeRegressor(random_state=0)),
        ("random-forest-100", "random-forest", {"n_estimators": "100"}, tree_rows, "trees",
         lambda: RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1)),
    ]

    if not args.skip_build:
        print("building release test bundle…", file=sys.stderr)
        subprocess.run(["swift", "build", "--build-tests", *RELEASE],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory(prefix="mv-learn-bench-") as tmp:
        plan = []
        sk_results = {}
        for i, (name, algorithm, params, rows, kind, make) in enumerate(jobs):
            X, y = make_data(rows, cols, kind, seed=i)
            xf, yf = os.path.join(tmp, f"{name}.x"), os.path.join(tmp, f"{name}.y")
            np.ascontiguousarray(X, dtype="<f8").tofile(xf)
            np.ascontiguousarray(y, dtype="<f8").tofile(yf)
            plan.append({"name": name, "algorithm": algorithm, "hyperparameters": params,
                         "x": xf, "y": yf, "rows": rows, "columns": cols})
            seconds, model = timed(lambda: make().fit(X, y))
            sk_results[name] = {"seconds": seconds, "score": float(model.score(X, y))}
            print(f"scikit-learn {name}: {seconds:.3f}s", file=sys.stderr)
        plan_path = os.path.join(tmp, "plan.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        env = dict(os.environ, MV_LEARN_BENCH="1", MV_LEARN_BENCH_PLAN=plan_path)
        run = subprocess.run(
            ["swift", "test", "--skip-build", *RELEASE, "--disable-swift-testing", "--filter", "LearningBench"],
            cwd=ROOT, env=env, capture_output=True, text=True)
        line = next((l for l in run.stdout.splitlines() if l.startswith("MV_LEARN_BENCH_RESULT ")), None)
        if line is None:
            sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
            sys.exit("LearningBench printed no result")
        mv_results = {r["name"]: r for r in json.loads(line.split(" ", 1)[1])}

    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    print(f"{'benchmark':<20}{'rows':>10}{'mv s':>10}{'sklearn s':>11}{'ratio':>8}{'target':>8}"
          f"{'mv score':>10}{'sk score':>10}")
    for name, algorithm, params, rows, kind, make in jobs:
        mv, sk = mv_results[name], sk_results[name]
        ratio = mv["seconds"] / sk["seconds"]
        target = 2.0 if kind in ("regression", "binary") else 3.0
        flag = "ok" if ratio <= target else "SLOW"
        print(f"{name:<20}{rows:>10}{mv['seconds']:>10.3f}{sk['seconds']:>11.3f}{ratio:>7.2f}x"
              f"{'≤' + str(target) + 'x':>8}{mv['trainingScore']:>10.4f}{sk['score']:>10.4f}  {flag}")


if __name__ == "__main__":
    main()
