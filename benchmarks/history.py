#!/usr/bin/env python3
"""Long-history benchmark: mv list / mv history against gto show / gto history.

Builds a repository with git fast-import holding --versions version tags and --stages
stage tags (assign and unassign, GTO grammar) over --models models, then times the same
queries with mv and GTO on it, in one run, and prints the ratio.

    python3 benchmarks/history.py --mv .build/release/mv

Requires git and gto (pip install gto) on PATH.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def build(repo, models, versions, stages, seed):
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    lines = []
    t0 = 1_750_000_000
    clock = t0
    mark = 0
    per_model = versions // models
    names = [f"model{i}" for i in range(models)]
    commits = {name: [] for name in names}

    def data(text):
        raw = text.encode()
        lines.append(f"data {len(raw)}")
        lines.append(text)

    lines.append("reset refs/heads/main")
    for v in range(1, per_model + 1):
        for name in names:
            mark += 1
            clock += 7
            lines.append("commit refs/heads/main")
            lines.append(f"mark :{mark}")
            lines.append(f"author Bench <bench@example.com> {clock} +0000")
            lines.append(f"committer Bench <bench@example.com> {clock} +0000")
            data(f"{name} v{v}.0.0\n")
            if mark > 1:
                lines.append(f"from :{mark - 1}")
            content = f"name: {name}\nversion: v{v}.0.0\n"
            lines.append(f"M 100644 inline models/{name}/VERSION")
            data(content)
            lines.append(f"tag {name}@v{v}.0.0")
            lines.append(f"from :{mark}")
            lines.append(f"tagger Bench <bench@example.com> {clock} +0000")
            data(f"{name} v{v}.0.0\n\nModel: {name}\nModel-Version: v{v}.0.0\nMetric-rmse: {rng.random():.6f}\n")
            commits[name].append((v, mark))
    per_model_stages = stages // models
    for name in names:
        counter = 0
        for _ in range(per_model_stages):
            counter += 1
            clock += 3
            v, m = rng.choice(commits[name])
            stage = rng.choice(["staging", "production"])
            cancel = "!" if rng.random() < 0.2 else ""
            lines.append(f"tag {name}#{stage}{cancel}#{counter}")
            lines.append(f"from :{m}")
            lines.append(f"tagger Bench <bench@example.com> {clock} +0000")
            data(f"{'Unassigning' if cancel else 'Assigning'} stage '{stage}' to artifact '{name}' version 'v{v}.0.0'\n")
    lines.append("done")
    subprocess.run(["git", "fast-import", "--quiet", "--done"], input=("\n".join(lines) + "\n").encode(), cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    return names


def timed(cmd, cwd, repeat):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        runs.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {result.stderr.decode()[:500]}")
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gto-repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--packed", action="store_true", help="git pack-refs --all before timing")
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    if not os.access(mv, os.X_OK):
        sys.exit(f"no mv binary at {mv}: run 'swift build -c release' first")
    if not shutil.which("gto"):
        sys.exit("gto is not installed: pip install gto")
    repo = tempfile.mkdtemp(prefix="mv-history-bench-")
    try:
        start = time.perf_counter()
        names = build(repo, args.models, args.versions, args.stages, args.seed)
        if args.packed:
            subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True)
        tags = int(subprocess.run(["git", "tag", "-l"], cwd=repo, capture_output=True, text=True).stdout.count("\n"))
        print(f"repository: {tags} tags ({args.versions} versions, {args.stages} stage tags, {args.models} models), "
              f"{'packed' if args.packed else 'loose'} refs, built in {time.perf_counter() - start:.1f} s")
        model = names[0]
        rows = [
            ("list", [mv, "list"], ["gto", "show"]),
            ("list --json", [mv, "list", "--json"], ["gto", "show", "--json"]),
            (f"history {model}", [mv, "history", model], ["gto", "history", model]),
            (f"history {model} --json", [mv, "history", model, "--json"], ["gto", "history", model, "--json"]),
        ]
        print(f"{'query':<26}{'mv (s)':>10}{'gto (s)':>10}{'gto/mv':>10}")
        for label, mine, theirs in rows:
            a = timed(mine, repo, args.repeat)
            b = timed(theirs, repo, args.gto_repeat)
            print(f"{label:<26}{a:>10.3f}{b:>10.3f}{b / a:>9.0f}x")
    finally:
        shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    main()
