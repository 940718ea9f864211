#!/usr/bin/env python3
"""Long-history benchmark: mv list / mv history against gto show / gto history.

Builds a repository with git fast-import holding --versions version tags and --stages
stage tags (assign and unassign, GTO grammar) over --models models, then times the same
queries with mv and GTO on it, in one run, and prints the ratio.

    python3 benchmarks/history.py --mv .build/release/mv
    python3 benchmarks/history.py --mv .build/release/mv --baseline /path/to/older/mv

With --baseline, another mv binary answers the same queries in the same run, its runs
alternating with the first one's (the machine's speed drifts between runs minutes apart).
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


def run_once(cmd, cwd):
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {result.stderr.decode()[:500]}")
    return time.perf_counter() - start


def timed(commands, cwd, repeat):
    """Median wall time of each command over `repeat` rounds, the commands taking turns."""
    runs = [[] for _ in commands]
    for _ in range(repeat):
        for index, cmd in enumerate(commands):
            runs[index].append(run_once(cmd, cwd))
    return [statistics.median(r) for r in runs]


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
    parser.add_argument("--baseline", help="another mv binary (say, the last release build) timed in the same rounds")
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    baseline = os.path.abspath(args.baseline) if args.baseline else None
    for binary in [mv] + ([baseline] if baseline else []):
        if not os.access(binary, os.X_OK):
            sys.exit(f"no mv binary at {binary}: run 'make release' first")
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
            ("list", ["list"], ["gto", "show"]),
            ("list --json", ["list", "--json"], ["gto", "show", "--json"]),
            (f"history {model}", ["history", model], ["gto", "history", model]),
            (f"history {model} --json", ["history", model, "--json"], ["gto", "history", model, "--json"]),
        ]
        header = f"{'query':<26}{'mv (s)':>10}" + (f"{'baseline':>10}{'base/mv':>9}" if baseline else "") + f"{'gto (s)':>10}{'gto/mv':>10}"
        print(header)
        for label, arguments, theirs in rows:
            times = timed([[mv] + arguments] + ([[baseline] + arguments] if baseline else []), repo, args.repeat)
            gto = timed([theirs], repo, args.gto_repeat)[0]
            line = f"{label:<26}{times[0]:>10.3f}"
            if baseline:
                line += f"{times[1]:>10.3f}{times[1] / times[0]:>8.2f}x"
            print(line + f"{gto:>10.3f}{gto / times[0]:>9.0f}x")
    finally:
        shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    main()
