#!/usr/bin/env python3
"""What one mv build costs against another on everyday commands, run in turn (A B A B ...).

Two workloads, each in a fresh repository in a temporary folder:
  add    mv init, then mv add of a folder of 64 float32 .npy files of 8 MiB (512 MiB);
  train  mv init, mv example-data --rows 2000, five mv train, one mv promote (the promote
         waits for the next second, as every stage event does).
Prints the median wall and CPU seconds (user + system of the mv processes) of each build and
the median of the pairwise ratios. Results go in docs/PERFORMANCE.md.

    python3 benchmarks/overhead.py --mv .build/release/mv --baseline /path/to/older/mv --runs 7
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

import numpy as np


def run_workload(mv, name, weights):
    folder = tempfile.mkdtemp(prefix="mv-overhead-")
    try:
        def call(*args):
            result = subprocess.run([mv, *args], cwd=folder, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"mv {args[0]}: {result.stderr.strip()}")

        subprocess.run(["git", "init", "-q", "-b", "main", folder], check=True)
        subprocess.run(["git", "-C", folder, "config", "user.name", "Bench"], check=True)
        subprocess.run(["git", "-C", folder, "config", "user.email", "bench@example.com"], check=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        call("init")
        if name == "add":
            call("add", "m", "--weights", weights, "--quiet")
        else:
            data = os.path.join(folder, "d.csv")
            call("example-data", "--rows", "2000", "-o", data)
            for seed in range(1, 6):
                call("train", "m", "--data", data, "--target", "y", "--seed", str(seed))
            call("promote", "m@v2")
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--baseline", required=True, help="the other mv build (B)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    builds = {"A": os.path.abspath(args.mv), "B": os.path.abspath(args.baseline)}
    data = tempfile.mkdtemp(prefix="mv-overhead-npy-")
    try:
        rng = np.random.default_rng(1)
        for index in range(64):
            np.save(os.path.join(data, f"t{index:02d}.npy"), rng.standard_normal(2 * 2**20, dtype=np.float32))
        print(f"{'workload':<8}{'A wall':>9}{'B wall':>9}{'A/B':>7}{'A cpu':>9}{'B cpu':>9}{'A/B':>7}")
        for name in ("add", "train"):
            for build in builds.values():
                run_workload(build, name, data)  # warm-up, not counted
            results = {"A": [], "B": []}
            for _ in range(args.runs):
                for key, build in builds.items():
                    results[key].append(run_workload(build, name, data))
            wall = {key: statistics.median(r[0] for r in runs) for key, runs in results.items()}
            cpu = {key: statistics.median(r[1] for r in runs) for key, runs in results.items()}
            wall_ratio = statistics.median(a[0] / b[0] for a, b in zip(results["A"], results["B"]))
            cpu_ratio = statistics.median(a[1] / b[1] for a, b in zip(results["A"], results["B"]))
            print(f"{name:<8}{wall['A']:>9.3f}{wall['B']:>9.3f}{wall_ratio:>7.2f}{cpu['A']:>9.3f}{cpu['B']:>9.3f}{cpu_ratio:>7.2f}")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
