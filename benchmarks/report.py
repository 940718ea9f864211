#!/usr/bin/env python3
"""mv report on a long history: a model with --versions versions of --tensors tensors each.

Builds, in a temporary git repository, a model whose every version is registered with
`mv add` from a folder of .npy files (--tensors float32 tensors of 64×64, each version changing
--changed of them, the others byte-identical) and a metrics file (accuracy, f1 and log_loss
drifting slowly), with a promotion to production every 25 versions, a rollback every 100 and
a staging promotion and demotion in between. Then times, as whole child processes (wall
seconds; peak RSS from GNU time, apt: time):

  mv report <model> -o report.html     the page this benchmark is about
  mv list, mv history <model>          reading the same registry as tables
  gto show <model>, gto history        GTO reading the same tags (when gto is installed)

and prints the page's size. The targets (docs/PERFORMANCE.md): the report in <= 1 s and the
page <= 5 MiB at 500 versions × 200 tensors. Exits 1 when a target is missed.

    python3 benchmarks/report.py --mv .build/release/mv [--versions 500] [--tensors 200]
        [--changed 4] [--runs 5] [--keep DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(argv, cwd, check=True):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def timed(argv, cwd, runs):
    """Median wall seconds over `runs` and the largest peak RSS (MiB), each run a fresh process."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, cwd=cwd, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
        peaks.append(int(result.stderr.strip().splitlines()[-1]) / 1024)
    return statistics.median(walls), max(peaks)


def build(repo, mv, versions, tensor_count, changed):
    run(["git", "init", "-q", "-b", "main"], repo)
    run([mv, "init"], repo)
    rng = np.random.default_rng(7)
    weights = os.path.join(repo, "..", "weights")
    os.makedirs(weights, exist_ok=True)
    tensors = [rng.standard_normal((64, 64)).astype(np.float32) for _ in range(tensor_count)]
    for index, tensor in enumerate(tensors):
        np.save(os.path.join(weights, f"layer{index:03d}.npy"), tensor)
    metrics = os.path.join(repo, "..", "holdout.yaml")
    start = time.perf_counter()
    for version in range(1, versions + 1):
        if version > 1:
            for index in rng.choice(tensor_count, size=changed, replace=False):
                tensors[index] = tensors[index] + rng.standard_normal((64, 64)).astype(np.float32) * 0.01
                np.save(os.path.join(weights, f"layer{index:03d}.npy"), tensors[index])
        accuracy = 0.80 + 0.1 * (1 - np.exp(-version / 150)) + rng.normal(0, 0.004)
        with open(metrics, "w") as out:
            out.write(f"accuracy: {accuracy:.5f}\nf1: {accuracy - 0.03:.5f}\nlog_loss: {0.6 - accuracy / 2:.5f}\n")
        run([mv, "add", "big", "--weights", weights, "--metrics", metrics, "--task", "classification"], repo)
        if version % 25 == 0:
            run([mv, "promote", f"big@v{version}"], repo)
        if version % 100 == 0:
            run([mv, "rollback", "big"], repo)
        if version % 50 == 10:
            run([mv, "promote", f"big@v{version}", "--stage", "staging"], repo)
        if version % 50 == 30:
            run([mv, "demote", "big", "--stage", "staging"], repo)
        if version % 50 == 0:
            print(f"  {version} versions registered ({time.perf_counter() - start:.0f} s)", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", required=True)
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--tensors", type=int, default=200)
    parser.add_argument("--changed", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="build (or reuse) the repository in this folder and keep it")
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)

    base = args.keep or tempfile.mkdtemp(prefix="mv-report-bench-")
    repo = os.path.join(base, "repo")
    try:
        if not os.path.isdir(os.path.join(repo, ".git")):
            os.makedirs(repo, exist_ok=True)
            print(f"building {args.versions} versions × {args.tensors} tensors in {repo}", file=sys.stderr)
            build(repo, mv, args.versions, args.tensors, args.changed)
        rows = []
        wall, peak = timed([mv, "report", "big", "-o", "report.html"], repo, args.runs)
        page = os.path.getsize(os.path.join(repo, "report.html"))
        rows.append(("mv report big -o report.html", wall, peak))
        for argv in ([mv, "list"], [mv, "history", "big"]):
            rows.append((" ".join(["mv"] + argv[1:]), *timed(argv, repo, args.runs)))
        if shutil.which("gto"):
            for argv in (["gto", "show", "big"], ["gto", "history", "big"]):
                rows.append((" ".join(argv), *timed(argv, repo, args.runs)))
        print(f"\n{args.versions} versions × {args.tensors} tensors ({args.changed} changed per version), median of {args.runs} runs\n")
        print(f"| command | wall | peak RSS |\n|---|---|---|")
        for name, seconds, mib in rows:
            print(f"| {name} | {seconds:.3f} s | {mib:.0f} MiB |")
        print(f"\npage: {page / 1024 / 1024:.2f} MiB ({page:,} bytes)")
        missed = []
        if wall > 1.0:
            missed.append(f"report took {wall:.2f} s (target 1 s)")
        if page > 5 * 1024 * 1024:
            missed.append(f"page is {page / 1024 / 1024:.2f} MiB (target 5 MiB)")
        if missed:
            print("MISSED: " + "; ".join(missed))
            sys.exit(1)
        print("targets met: report <= 1 s, page <= 5 MiB")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
