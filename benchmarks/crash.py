#!/usr/bin/env python3
"""Crash campaign: kill mv at random moments, then check the repository is still sound.

Scenarios (each gets a fresh repository, prepared once):
  train        mv train of a built-in linear model (one trained version to start from);
  add          mv add of a 256 MiB float32 safetensors file (32 tensors of 8 MiB), four bytes of one
               tensor changed before each run, so every add stores a new version;
  add-chunked  mv add of one ~48 MiB .npy tensor with MV_CHUNK_BYTES=4194304 (stored as 4 MiB
               chunks), one row changed before each run;
  promote      mv promote of three trained versions in turn, so every run moves production;
  rollback     mv rollback --to v1 / v2 in turn, after promoting v1 then v2;
  eval         mv eval of three trained versions in turn;
  checkout     mv checkout of three trained versions in turn, --force in the killed runs.

Each scenario first times one unkilled run of its command, then --runs times starts the command
in its own process group and sends SIGKILL to the group after a delay drawn uniformly from
[0, 1.2 x that time] (runs that end before their kill count as "finished"), and checks:
  fsck        git fsck --strict --no-reflogs exits 0, no error/missing/broken line (dangling is fine);
  tags        every version tag <m>@vX.Y.Z is annotated, and its commit holds models/<m>/model.yaml;
  stages      the stage holders `mv list --json` reports equal .mv/stages/<m>.yaml on HEAD, where
              that file exists;
  next        the scenario's next command, without --force and without a kill, exits 0 (it is also
              the next run's starting state);
  status      after it, git status shows nothing under models/ or .mv/ and no path containing
              .mv-tmp (checkout: nothing unstaged or untracked, and the index holds exactly the
              version checked out);
  index-lock  after it, .git/index.lock does not exist;
  growth      after it, .git has grown since the scenario started by at most what the objects
              reachable from refs, HEAD and the index grew on disk, + 64 MiB: killed runs must not
              pile up garbage (temporary or orphaned packs, staging, trash). (Not "commits x one
              run's growth": every run changes the input, so the version after a kill also holds
              the killed run's change);
  verify      (add, add-chunked) after it, mv verify of the newest version exits 0;
  run         a run that ended before its kill exited 0;
  mv-status   after it, mv status exits 0: nothing left that needs the user (only when this mv
              has a status command).
After a failed next command the script removes a stale .git/index.lock and, for train, add,
eval and checkout, repeats the command with --force (not counted), so that one failure does not
fail every later run. At the end of a scenario it reports the bytes left in .git/mv/staging,
.git/mv/trash and temporary pack files (tmp_pack_*, tmp_idx_*, tmp_obj_*) after the last next
command: 0 or close is right.

  concurrent   8 processes x 25 mv train on one repository (no kills) while another process
               promotes the newest version and rolls back in turn; the version tags must be
               exactly v1..v200, fsck clean, and the promoter may only fail with "other writers
               kept moving the branch" (counted, not failures);
  fulldisk     (root, and a tmpfs mount must work) mv add of a 256 MiB file into a repository on a
               300 MiB tmpfs must fail with one `mv: error:` line (and an optional hint: line),
               commit nothing, leave fsck clean and no temporary pack; after the input is
               deleted, mv add of a 16 MiB file must succeed.
  readonly     a .git mv may not write in (as root: mv run as nobody through setpriv, with git's
               safe.directory set for it; otherwise chmod -R a-w .git): mv train, promote, eval
               and add must each fail with one `mv: error:` line naming the folder (no Foundation
               error domains), change nothing (refs and index byte for byte), while mv list,
               show, log and verify work; with write access back, mv train succeeds.

Prints one row per scenario (runs, killed, failures per check, leftover bytes, wall time), the
failure messages, and `total failures: N`; exits 1 when N > 0. Results go in docs/RELIABILITY.md.

    swift build -c release --product mv
    python3 benchmarks/crash.py --mv .build/release/mv
    python3 benchmarks/crash.py --mv .build/release/mv --scenarios add,add-chunked --runs 50 --keep

Needs git, numpy, safetensors and PyYAML (pip); fulldisk needs root (else it is skipped). add is
the long one: every run's git fsck reads its repository, which grows by 8 MiB a version (a few
GiB in the temporary folder by the end of 200 runs).
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import yaml
from safetensors.numpy import save_file

from weights import du  # disk size of a folder, as the weights benchmark measures it

MODEL = "m"
MIB = 2**20
KILL_SCENARIOS = ["train", "add", "add-chunked", "promote", "rollback", "eval", "checkout"]
SCENARIOS = KILL_SCENARIOS + ["concurrent", "fulldisk", "readonly"]
CHECKS = ["fsck", "tags", "stages", "next", "status", "index-lock", "growth"]
VERSION_TAG = re.compile(r"^([A-Za-z0-9_-]+)@v(\d+)\.(\d+)\.(\d+)$")
BRANCH_MOVED = re.compile(r"other writers? (kept )?mov|another writer|moved the branch", re.I)
FORCE_REPAIRABLE = {"train", "add", "add-chunked", "eval", "checkout"}


# ---- processes ---------------------------------------------------------------------------

def group_alive(pgid):
    """Whether a process of group pgid is still running (zombies do not count)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def launch(argv, env, kill_after=None, timeout=None):
    """Runs argv in its own process group. SIGKILLs the group after kill_after seconds, or after
    timeout (then timed_out). Returns (status, stderr, seconds, killed, timed_out); status < 0
    is the signal that ended it."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
        limit = kill_after if kill_after is not None else timeout
        signalled = False
        try:
            status = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            status = proc.wait()
            signalled = True
        elapsed = time.perf_counter() - start
        if signalled:
            # git processes mv started die with it; wait until none is left holding a lock.
            deadline = time.monotonic() + 30
            while group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        err.seek(0)
        text = err.read().decode(errors="replace")
    killed = signalled and status == -signal.SIGKILL and kill_after is not None
    return status, text, elapsed, killed, signalled and kill_after is None


def first_line(status, stderr):
    for line in stderr.splitlines():
        if line.strip():
            return line.strip()[:300]
    return f"killed by signal {-status}" if status < 0 else f"exit {status}, no message"


def git(repo, *args, input=None):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, input=input)


def must(result, what):
    if result.returncode != 0:
        raise RuntimeError(f"{what}: {first_line(result.returncode, result.stderr or result.stdout or '')}")
    return result


def mv_run(state, args, timeout=None):
    """An unkilled mv command on the scenario's repository: (status, stdout, stderr)."""
    try:
        result = subprocess.run([state["mv"], *args], env=state["env"], capture_output=True, text=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        return -signal.SIGKILL, "", f"timed out after {timeout:.0f} s"
    return result.returncode, result.stdout, result.stderr


def mv_ok(state, args):
    status, out, err = mv_run(state, args)
    if status != 0:
        raise RuntimeError(f"mv {' '.join(args[:2])}: {first_line(status, err)}")
    return out


# ---- sizes -------------------------------------------------------------------------------

def du_sb(path):
    out = subprocess.run(["du", "-sb", path], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else 0


def reachable_bytes(repo):
    """Disk size of the objects reachable from refs, HEAD and the index (as git gc keeps them)."""
    listing = git(repo, "rev-list", "--objects", "--all", "--indexed-objects").stdout
    ids = "\n".join(line.split(" ", 1)[0] for line in listing.splitlines() if line) + "\n"
    sizes = git(repo, "cat-file", "--batch-check=%(objectsize:disk)", input=ids).stdout.split()
    return sum(int(value) for value in sizes if value.isdigit())


def tmp_pack_files(repo):
    objects = os.path.join(repo, ".git", "objects")
    return (glob.glob(os.path.join(objects, "pack", "tmp_*")) + glob.glob(os.path.join(objects, "tmp_*"))
            + glob.glob(os.path.join(objects, "??", "tmp_*")))


def leftovers(repo):
    """Bytes in .git/mv/staging, .git/mv/trash and temporary pack/object files."""
    tmp = 0
    for name in tmp_pack_files(repo):
        try:
            tmp += os.lstat(name).st_size
        except OSError:
            pass
    return (du(os.path.join(repo, ".git", "mv", "staging")),
            du(os.path.join(repo, ".git", "mv", "trash")), tmp)


def size(n):
    if n is None:
        return "-"
    if n == 0:
        return "0"
    if n < 1024:
        return f"{n}B"
    return f"{n / 1024:.0f}K" if n < MIB else f"{n / MIB:.1f}M"


# ---- checks (each returns None, or what failed) -------------------------------------------

def check_fsck(repo):
    result = git(repo, "fsck", "--strict", "--no-reflogs")
    bad = [line for line in (result.stdout + result.stderr).splitlines()
           if not line.startswith("dangling") and re.search(r"error|missing|broken", line, re.I)]
    if bad:
        return f"{bad[0].strip()}" + (f" (+{len(bad) - 1} more lines)" if len(bad) > 1 else "")
    if result.returncode != 0:
        return f"git fsck exit {result.returncode}: {first_line(result.returncode, result.stderr)}"
    return None


def version_tags(repo):
    """{tag name: (model, (major, minor, patch), object type)} of the version tags."""
    out = git(repo, "for-each-ref", "--format=%(refname)%00%(objecttype)", "refs/tags").stdout
    tags = {}
    for line in out.splitlines():
        ref, _, kind = line.partition("\0")
        name = ref[len("refs/tags/"):]
        match = VERSION_TAG.match(name)
        if match:
            tags[name] = (match.group(1), tuple(int(g) for g in match.group(2, 3, 4)), kind)
    return tags


def check_tags(repo):
    tags = version_tags(repo)
    problems = [f"{name} is a lightweight tag" for name, (_, _, kind) in tags.items() if kind != "tag"]
    names = sorted(tags)
    if names:
        query = "".join(f"refs/tags/{name}^{{commit}}:models/{tags[name][0]}/model.yaml\n" for name in names)
        out = git(repo, "cat-file", "--batch-check", input=query).stdout.splitlines()
        for name, line in zip(names, out):
            if line.endswith(" missing") or line.endswith(" ambiguous"):
                problems.append(f"{name}: its commit has no models/{tags[name][0]}/model.yaml")
    if problems:
        return problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
    return None


def list_json(state):
    status, out, err = mv_run(state, ["list", "-C", state["repo"], "--json"], timeout=120)
    if status != 0:
        return None, f"mv list --json: {first_line(status, err)}"
    try:
        return json.loads(out), None
    except ValueError as error:
        return None, f"mv list --json printed no JSON ({error})"


def check_stages(state):
    repo = state["repo"]
    models, problem = list_json(state)
    if problem:
        return problem
    listed = {m.get("name"): {k: v for k, v in (m.get("stages") or {}).items() if v} for m in models}
    files = git(repo, "ls-tree", "--name-only", "HEAD", ".mv/stages/").stdout.split()
    for path in files:
        if not path.endswith(".yaml"):
            continue
        model = os.path.basename(path)[:-len(".yaml")]
        try:
            document = yaml.safe_load(git(repo, "show", f"HEAD:{path}").stdout) or {}
        except yaml.YAMLError as error:
            return f"{path} on HEAD is not YAML: {str(error).splitlines()[0]}"
        committed = {stage: (entry or {}).get("version") for stage, entry in (document.get("stages") or {}).items()}
        committed = {k: v for k, v in committed.items() if v}
        if committed != listed.get(model, {}):
            return f"{model}: mv list says {listed.get(model, {})}, {path} on HEAD says {committed}"
    return None


def porcelain(repo):
    """(XY, path) entries of git status, untracked files one by one, ignored ones too."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching").stdout
    parts = out.split("\0")
    entries = []
    i = 0
    while i < len(parts):
        item = parts[i]
        i += 1
        if len(item) < 4:
            continue
        xy, path = item[:2], item[3:]
        if "R" in xy or "C" in xy:
            i += 1  # the rename's source path
        entries.append((xy, path))
    return entries


def check_status(state):
    repo = state["repo"]
    checkout = state["name"] == "checkout"
    bad = []
    for xy, path in porcelain(repo):
        ours = path.startswith("models/") or path.startswith(".mv/")
        if ".mv-tmp" in path:
            bad.append(f"{xy} {path}")
        elif xy == "!!" or not ours:
            continue
        elif checkout and xy != "??" and xy[1] == " " and path.startswith(f"models/{MODEL}/"):
            continue  # staged by the checkout; compared with the version below
        else:
            bad.append(f"{xy} {path}")
    if checkout and not bad and state.get("target"):
        tag = f"refs/tags/{MODEL}@{state['target']}"
        differ = git(repo, "diff-index", "--cached", "--name-only", tag, "--", f"models/{MODEL}").stdout.split()
        if differ:
            return f"index differs from {MODEL}@{state['target']} in {differ[0]}" + (
                f" (+{len(differ) - 1} more)" if len(differ) > 1 else "")
    if bad:
        return f"git status: {bad[0]}" + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else "")
    return None


def newest_version(repo):
    tags = [(v, name) for name, (model, v, _) in version_tags(repo).items() if model == MODEL]
    return max(tags)[1] if tags else None


def check_verify(state):
    tag = newest_version(state["repo"])
    if tag is None:
        return "no version tag to verify"
    status, _, err = mv_run(state, ["verify", tag, "-C", state["repo"], "--quiet"], timeout=600)
    return None if status == 0 else f"mv verify {tag}: {first_line(status, err)}"


def has_status_command(state):
    status, _, err = mv_run(state, ["status", "-C", state["repo"]], timeout=60)
    return not (status == 64 or "Unexpected argument" in err)


# ---- scenarios with kills ----------------------------------------------------------------

def new_repo(state):
    repo = state["repo"]
    must(subprocess.run(["git", "init", "-q", "-b", "main", repo], capture_output=True, text=True), "git init")
    must(git(repo, "config", "user.name", "Crash Test"), "git config")
    must(git(repo, "config", "user.email", "crash@example.com"), "git config")
    mv_ok(state, ["init", repo])


def versions(count):
    return [f"v{i}.0.0" for i in range(1, count + 1)]


def holder(state, stage="production"):
    models, _ = list_json(state)
    for model in models or []:
        if model.get("name") == MODEL:
            return (model.get("stages") or {}).get(stage)
    return None


def setup(name, folder, mv, seed):
    """Prepares the scenario's repository; returns its state."""
    env = dict(os.environ)
    if name == "add-chunked":
        env["MV_CHUNK_BYTES"] = str(4 * MIB)
    state = {"name": name, "mv": mv, "env": env, "repo": os.path.join(folder, "repo"), "count": 0,
             "data": os.path.join(folder, "data.csv"), "rng": np.random.default_rng(seed)}
    new_repo(state)
    mv_ok(state, ["example-data", "--rows", "200", "--seed", "1", "-o", state["data"]])
    rng = state["rng"]
    if name == "add":
        path = os.path.join(folder, "weights.safetensors")
        save_file({f"layer{i:02d}.weight": rng.standard_normal((2048, 1024), dtype=np.float32) for i in range(32)},
                  path)
        with open(path, "rb") as f:
            length = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(length))
        state["weights"] = path
        state["tensors"] = sorted((8 + length + entry["data_offsets"][0], entry["data_offsets"][1] - entry["data_offsets"][0])
                                  for key, entry in header.items() if key != "__metadata__")
    elif name == "add-chunked":
        path = os.path.join(folder, "embedding.npy")
        np.save(path, rng.standard_normal((12288, 1024), dtype=np.float32))
        state["weights"] = path
    if name in ("add", "add-chunked"):
        mv_ok(state, ["add", MODEL, "--weights", state["weights"], "-C", state["repo"], "--quiet"])
    else:
        for s in range(1, 2 if name == "train" else 4):
            mv_ok(state, ["train", MODEL, "--data", state["data"], "--target", "y", "--seed", str(s),
                          "-C", state["repo"], "--quiet"])
    if name == "promote":
        mv_ok(state, ["promote", f"{MODEL}@v1.0.0", "-C", state["repo"], "--quiet"])
    if name == "rollback":
        for v in ("v1.0.0", "v2.0.0"):
            mv_ok(state, ["promote", f"{MODEL}@{v}", "-C", state["repo"], "--quiet"])
    return state


def command(state, force):
    """The scenario's next command (argv), after changing its input where it has one."""
    name, k, repo = state["name"], state["count"], state["repo"]
    state["count"] += 1
    rng = state["rng"]
    if name == "train":
        args = ["train", MODEL, "--data", state["data"], "--target", "y", "--seed", str(k + 2)]
    elif name == "add":
        start, length = state["tensors"][k % len(state["tensors"])]
        with open(state["weights"], "r+b") as f:
            f.seek(start + 4 * int(rng.integers(length // 4)))
            f.write(rng.standard_normal(1, dtype=np.float32).tobytes())
        args = ["add", MODEL, "--weights", state["weights"]]
    elif name == "add-chunked":
        tensor = np.load(state["weights"], mmap_mode="r+")
        tensor[int(rng.integers(tensor.shape[0]))] = rng.standard_normal(tensor.shape[1], dtype=np.float32)
        tensor.flush()
        del tensor
        args = ["add", MODEL, "--weights", state["weights"]]
    elif name == "promote":
        current = holder(state)
        order = versions(3)[k % 3:] + versions(3)[:k % 3]
        target = next(v for v in order if v != current)
        args = ["promote", f"{MODEL}@{target}"]
    elif name == "rollback":
        current = holder(state)
        target = "v1.0.0" if current == "v2.0.0" else "v2.0.0" if current == "v1.0.0" else versions(2)[k % 2]
        args = ["rollback", MODEL, "--to", target]
    elif name == "eval":
        args = ["eval", f"{MODEL}@{versions(3)[k % 3]}", "--data", state["data"]]
    elif name == "checkout":
        state["target"] = versions(3)[k % 3]
        args = ["checkout", f"{MODEL}@{state['target']}"]
    else:
        raise ValueError(name)
    return [state["mv"], *args, "-C", repo, "--quiet"] + (["--force"] if force else [])


def kill_campaign(name, runs, args, mv, work):
    folder = os.path.join(work, name)
    os.makedirs(folder)
    rng = random.Random(f"{args.seed}:{name}")
    started = time.perf_counter()
    row = {"scenario": name, "runs": 0, "killed": 0, "finished": 0, "failures": [],
           "checks": CHECKS + ["run"] + (["verify"] if name.startswith("add") else []), "note": ""}

    def fail(run, check, message):
        row["failures"].append((run, check, message))
        print(f"  {name} run {run}: {check}: {message}", file=sys.stderr, flush=True)

    try:
        state = setup(name, folder, mv, args.seed)
    except RuntimeError as error:
        fail(0, "setup", str(error))
        row["wall"] = time.perf_counter() - started
        return row
    repo, env = state["repo"], state["env"]
    git_dir = os.path.join(repo, ".git")
    start_size = du_sb(git_dir)
    start_reachable = reachable_bytes(repo)
    status, err, duration, _, _ = launch(command(state, force=name == "checkout"), env, timeout=3600)
    per_run = max(0, du_sb(git_dir) - start_size)
    if status != 0:
        fail(0, "setup", f"the unkilled run failed: {first_line(status, err)}")
        row["wall"] = time.perf_counter() - started
        row["leftover"] = leftovers(repo)
        return row
    if has_status_command(state):
        row["checks"].append("mv-status")
    print(f"{name}: set up in {time.perf_counter() - started:.1f} s; an unkilled run takes {duration:.3f} s "
          f"and adds {size(per_run)} to .git", flush=True)
    row["calibration"] = (duration, per_run)
    loop_started = time.perf_counter()
    timeout = max(300.0, 50 * duration)
    for run in range(1, runs + 1):
        delay = rng.uniform(0, 1.2 * duration)
        status, err, elapsed, killed, _ = launch(command(state, force=name == "checkout"), env, kill_after=delay)
        row["runs"] += 1
        row["killed" if killed else "finished"] += 1
        if not killed and status != 0:
            fail(run, "run", f"ended before its kill with {first_line(status, err)}")
        for check, test in (("fsck", lambda: check_fsck(repo)), ("tags", lambda: check_tags(repo)),
                            ("stages", lambda: check_stages(state))):
            problem = test()
            if problem:
                fail(run, check, problem)
        argv = command(state, force=False)
        status, err, _, _, timed_out = launch(argv, env, timeout=timeout)
        next_failed = status != 0
        if next_failed:
            fail(run, "next", f"timed out after {timeout:.0f} s" if timed_out else first_line(status, err))
        lock = os.path.join(git_dir, "index.lock")
        if os.path.exists(lock):
            fail(run, "index-lock", ".git/index.lock exists after the next command")
        problem = check_status(state)
        if problem:
            fail(run, "status", problem)
        grown = du_sb(git_dir) - start_size
        reachable = reachable_bytes(repo) - start_reachable
        bound = reachable + 64 * MIB
        if grown > bound:
            fail(run, "growth", f".git grew {size(grown)} > {size(bound)} (reachable objects grew {size(reachable)}, + 64 MiB)")
        # Leftovers as the next command left them (mv status, below, may clean them up).
        row["leftover"] = leftovers(repo)
        if "verify" in row["checks"]:
            problem = check_verify(state)
            if problem:
                fail(run, "verify", problem)
        if "mv-status" in row["checks"]:
            status, _, err = mv_run(state, ["status", "-C", repo], timeout=120)
            if status != 0:
                fail(run, "mv-status", f"mv status: {first_line(status, err)}")
        # Repair, so one failure does not fail every later run (not counted).
        if os.path.exists(lock):
            os.remove(lock)
        if next_failed and name in FORCE_REPAIRABLE:
            status, err, _, _, _ = launch(argv + ["--force"], env, timeout=timeout)
            if status != 0:
                print(f"  {name} run {run}: repair with --force failed too: {first_line(status, err)}",
                      file=sys.stderr, flush=True)
        if run % 25 == 0 and run < runs:
            print(f"  {name}: {run}/{runs} runs, {row['killed']} killed, {len(row['failures'])} failures, "
                  f"{time.perf_counter() - loop_started:.0f} s", file=sys.stderr, flush=True)
    row["per_run"] = (time.perf_counter() - loop_started) / max(1, runs)
    if runs == 0:
        row["leftover"] = leftovers(repo)
    row["wall"] = time.perf_counter() - started
    return row


# ---- concurrent writers ------------------------------------------------------------------

def concurrent(args, mv, work):
    folder = os.path.join(work, "concurrent")
    os.makedirs(folder)
    started = time.perf_counter()
    total = args.writers * args.per_writer
    row = {"scenario": "concurrent", "runs": total, "killed": 0, "finished": 0, "failures": [],
           "checks": ["fsck", "tags", "stages", "status", "index-lock", "contiguous", "train", "promoter"], "note": ""}
    lock = threading.Lock()

    def fail(check, message):
        with lock:
            row["failures"].append((0, check, message))
        print(f"  concurrent: {check}: {message}", file=sys.stderr, flush=True)

    state = {"name": "concurrent", "mv": mv, "env": dict(os.environ), "repo": os.path.join(folder, "repo"),
             "data": os.path.join(folder, "data.csv")}
    repo = state["repo"]
    try:
        new_repo(state)
        mv_ok(state, ["example-data", "--rows", "200", "--seed", "1", "-o", state["data"]])
    except RuntimeError as error:
        fail("setup", str(error))
        row["wall"] = time.perf_counter() - started
        return row
    done = threading.Event()
    counts = {"trained": 0, "ops": 0, "moved": 0}

    def trainer(writer):
        for j in range(args.per_writer):
            status, _, err = mv_run(state, ["train", MODEL, "--data", state["data"], "--target", "y",
                                            "--seed", str(writer * 1000 + j + 1), "-C", repo, "--quiet"], timeout=600)
            if status == 0:
                with lock:
                    counts["trained"] += 1
            else:
                fail("train", f"writer {writer}: {first_line(status, err)}")

    def lifecycle(args_):
        """One promote or rollback; True when it landed."""
        status, _, err = mv_run(state, args_ + ["-C", repo, "--quiet"], timeout=600)
        with lock:
            counts["ops"] += 1
        if status == 0:
            return True
        message = first_line(status, err)
        if BRANCH_MOVED.search(message):
            with lock:
                counts["moved"] += 1
        else:
            fail("promoter", f"mv {args_[0]}: {message}")
        return False

    def promoter():
        # Two holders first, so that every rollback has an earlier holder to go back to.
        while not done.is_set() and len(version_tags(repo)) < 2:
            time.sleep(0.05)
        for v in ("v1.0.0", "v2.0.0"):
            for _ in range(50):
                if lifecycle(["promote", f"{MODEL}@{v}"]):
                    break
        while not done.is_set():
            lifecycle(["promote", f"{MODEL}@latest"])
            lifecycle(["rollback", MODEL])

    threads = [threading.Thread(target=trainer, args=(w,)) for w in range(args.writers)]
    lifecycle_thread = threading.Thread(target=promoter)
    lifecycle_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    lifecycle_thread.join()
    row["finished"] = counts["trained"]
    tags = version_tags(repo)
    expected = {f"{MODEL}@v{i}.0.0" for i in range(1, total + 1)}
    have = {name for name, (model, _, _) in tags.items() if model == MODEL}
    if have != expected:
        missing = sorted(expected - have, key=lambda n: version_tags_key(n))
        extra = sorted(have - expected, key=lambda n: version_tags_key(n))
        fail("contiguous", f"{len(have)} version tags; missing {', '.join(missing[:5]) or 'none'}"
                           f"{' ...' if len(missing) > 5 else ''}; extra {', '.join(extra[:5]) or 'none'}"
                           f"{' ...' if len(extra) > 5 else ''}")
    for check, test in (("fsck", lambda: check_fsck(repo)), ("tags", lambda: check_tags(repo)),
                        ("stages", lambda: check_stages(state)), ("status", lambda: check_status(state))):
        problem = test()
        if problem:
            fail(check, problem)
    if os.path.exists(os.path.join(repo, ".git", "index.lock")):
        fail("index-lock", ".git/index.lock exists at the end")
    row["note"] = f"{counts['ops']} promote/rollback, {counts['moved']} branch-moved"
    row["leftover"] = leftovers(repo)
    row["wall"] = time.perf_counter() - started
    row["per_run"] = row["wall"] / total
    return row


def version_tags_key(name):
    match = VERSION_TAG.match(name)
    return tuple(int(g) for g in match.group(2, 3, 4)) if match else (0, 0, 0)


# ---- full disk ---------------------------------------------------------------------------

def safetensors_file(path, tensors, seed):
    rng = np.random.default_rng(seed)
    save_file({f"layer{i:02d}.weight": rng.standard_normal((2048, 1024), dtype=np.float32) for i in range(tensors)},
              path)


def fulldisk(args, mv, work):
    started = time.perf_counter()
    row = {"scenario": "fulldisk", "runs": 1, "killed": 0, "finished": 0, "failures": [],
           "checks": ["fsck", "next", "status", "fails", "error-line", "head", "tmp-pack"], "note": ""}

    def fail(check, message):
        row["failures"].append((0, check, message))
        print(f"  fulldisk: {check}: {message}", file=sys.stderr, flush=True)

    mount = os.path.join(work, "fulldisk")
    os.makedirs(mount)
    if os.geteuid() != 0:
        print("fulldisk: skipped (not root: cannot mount a tmpfs)", flush=True)
        return None
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300m", "tmpfs", mount], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"fulldisk: skipped (mount failed: {first_line(result.returncode, result.stderr)})", flush=True)
        return None
    state = {"name": "fulldisk", "mv": mv, "env": dict(os.environ), "repo": os.path.join(mount, "repo")}
    repo = state["repo"]
    try:
        new_repo(state)
        big = os.path.join(mount, "big.safetensors")
        safetensors_file(big, 32, args.seed)
        head = git(repo, "rev-parse", "HEAD").stdout.strip()
        free = shutil.disk_usage(mount).free
        status, err, elapsed, _, timed_out = launch([mv, "add", MODEL, "--weights", big, "-C", repo, "--quiet"],
                                                    state["env"], timeout=600)
        print(f"fulldisk: mv add of 256 MiB with {size(free)} free: exit {status} after {elapsed:.2f} s: "
              f"{first_line(status, err)}", flush=True)
        if status == 0:
            fail("fails", "mv add succeeded on a full disk")
        else:
            lines = [line for line in err.splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith("mv: error:")]
            others = [line for line in lines if not line.startswith("mv: error:") and not line.startswith("hint:")]
            if timed_out or status < 0 or len(errors) != 1 or others:
                fail("error-line", f"exit {status}, stderr: {' | '.join(lines)[:300] or '(empty)'}")
        if git(repo, "rev-parse", "HEAD").stdout.strip() != head:
            fail("head", "HEAD moved although mv add failed")
        if any(model == MODEL for model, _, _ in version_tags(repo).values()):
            fail("head", "a version tag exists although mv add failed")
        problem = check_fsck(repo)
        if problem:
            fail("fsck", problem)
        leftover = tmp_pack_files(repo)
        if leftover:
            fail("tmp-pack", f"{len(leftover)} temporary files left, {os.path.relpath(leftover[0], repo)} first")
        problem = check_status(state)
        if problem:
            fail("status", problem)
        staged, trashed, _ = leftovers(repo)
        row["note"] = f"after the failure: staging {size(staged)}, trash {size(trashed)}"
        os.remove(big)
        small = os.path.join(mount, "small.safetensors")
        safetensors_file(small, 2, args.seed + 1)
        status, err, _, _, timed_out = launch([mv, "add", MODEL, "--weights", small, "-C", repo, "--quiet"],
                                              state["env"], timeout=600)
        if status != 0:
            fail("next", f"mv add of 16 MiB after freeing space: {first_line(status, err)}")
        else:
            row["finished"] = 1
        problem = check_fsck(repo)
        if problem:
            fail("fsck", f"after the next add: {problem}")
        row["leftover"] = leftovers(repo)
    except RuntimeError as error:
        fail("setup", str(error))
    finally:
        if args.keep:
            print(f"fulldisk: the tmpfs stays mounted at {mount} (umount it when done)", flush=True)
        else:
            subprocess.run(["umount", mount], capture_output=True)
    row["wall"] = time.perf_counter() - started
    row["per_run"] = row["wall"]
    return row


def readonly(args, mv, work):
    started = time.perf_counter()
    row = {"scenario": "readonly", "runs": 0, "killed": 0, "finished": 0, "failures": [],
           "checks": ["refused", "error-line", "unchanged", "reads", "next", "fsck"], "note": ""}

    def fail(check, message):
        row["failures"].append((row["runs"], check, message))
        print(f"  readonly: {check}: {message}", file=sys.stderr, flush=True)

    folder = os.path.join(work, "readonly")
    os.makedirs(folder)
    os.chmod(work, 0o755)
    state = setup("readonly", folder, mv, args.seed)
    repo = state["repo"]
    weights = os.path.join(folder, "w.safetensors")
    safetensors_file(weights, 1, args.seed)
    for path in (folder, weights, state["data"]):
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    env = dict(state["env"])
    prefix = []
    if os.geteuid() == 0:
        home = os.path.join(folder, "home")
        os.makedirs(home)
        must(subprocess.run(["git", "config", "-f", os.path.join(home, ".gitconfig"), "safe.directory", repo],
                            capture_output=True, text=True), "git config safe.directory")
        os.chmod(home, 0o755)
        env["HOME"] = home
        env["XDG_CONFIG_HOME"] = home
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run(prefix + [mv, "--version"], env=env, capture_output=True, text=True)
        if probe.returncode != 0:
            print(f"readonly: skipped (cannot run mv as nobody: {first_line(probe.returncode, probe.stderr)})", flush=True)
            return None
    else:
        subprocess.run(["chmod", "-R", "a-w", os.path.join(repo, ".git")], check=True)

    def snapshot():
        refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)").stdout
        with open(os.path.join(repo, ".git", "index"), "rb") as f:
            return refs, f.read(), git(repo, "status", "--porcelain").stdout

    try:
        before = snapshot()
        writes = [["train", MODEL, "--data", state["data"], "--target", "y", "--seed", "9"],
                  ["promote", f"{MODEL}@v1.0.0"], ["eval", f"{MODEL}@v1.0.0", "--data", state["data"]],
                  ["add", "weights", "--weights", weights]]
        for arguments in writes:
            row["runs"] += 1
            result = subprocess.run(prefix + [mv, *arguments, "-C", repo, "--quiet"], env=env, capture_output=True, text=True)
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            if result.returncode == 0:
                fail("refused", f"mv {arguments[0]} succeeded in a read-only .git")
            elif (len(lines) not in (1, 2) or not lines[0].startswith("mv: error: cannot write in ")
                  or (len(lines) == 2 and not lines[1].startswith("hint: ")) or "NSCocoaErrorDomain" in result.stderr):
                fail("error-line", f"mv {arguments[0]}: {' | '.join(lines)[:300] or '(empty)'}")
            if snapshot() != before:
                fail("unchanged", f"mv {arguments[0]} changed refs, index or work tree")
        for arguments in (["list"], ["show", MODEL], ["log", MODEL], ["verify", f"{MODEL}@v1.0.0"]):
            row["runs"] += 1
            result = subprocess.run(prefix + [mv, *arguments, "-C", repo, "--quiet"], env=env, capture_output=True, text=True)
            if result.returncode != 0:
                fail("reads", f"mv {arguments[0]}: {first_line(result.returncode, result.stderr)}")
    finally:
        if not prefix:
            subprocess.run(["chmod", "-R", "u+w", os.path.join(repo, ".git")])
    status, _, err = mv_run(state, ["train", MODEL, "--data", state["data"], "--target", "y", "-C", repo, "--quiet"])
    if status != 0:
        fail("next", f"mv train with write access back: {first_line(status, err)}")
    else:
        row["finished"] = 1
    problem = check_fsck(repo)
    if problem:
        fail("fsck", problem)
    row["wall"] = time.perf_counter() - started
    row["per_run"] = row["wall"] / max(row["runs"], 1)
    return row


# ---- report ------------------------------------------------------------------------------

def report(rows):
    header = (f"{'scenario':<12}{'runs':>6}{'killed':>7}{'finished':>9}" + "".join(f"{c:>7}" if c != "index-lock" else f"{'lock':>6}" for c in CHECKS)
              + f"{'staging':>9}{'trash':>8}{'tmp':>8}{'wall s':>9}{'s/run':>8}  other")
    print(header)
    total = 0
    for row in rows:
        counts = {}
        for _, check, _ in row["failures"]:
            counts[check] = counts.get(check, 0) + 1
        total += len(row["failures"])
        cells = []
        for check in CHECKS:
            width = 6 if check == "index-lock" else 7
            value = str(counts.get(check, 0)) if check in row["checks"] else "-"
            cells.append(f"{value:>{width}}")
        staging, trash, tmp = row.get("leftover", (None, None, None))
        extras = [f"{c} {counts.get(c, 0)}" for c in row["checks"] if c not in CHECKS]
        extras += [f"{c} {n}" for c, n in counts.items() if c not in row["checks"] and c not in CHECKS]
        if row["note"]:
            extras.append(row["note"])
        per_run = row.get("per_run")
        print(f"{row['scenario']:<12}{row['runs']:>6}{row['killed']:>7}{row['finished']:>9}" + "".join(cells)
              + f"{size(staging):>9}{size(trash):>8}{size(tmp):>8}{row.get('wall', 0):>9.1f}"
              + f"{(f'{per_run:.2f}' if per_run is not None else '-'):>8}  {', '.join(extras)}")
    if total:
        print("\nfailures (count, then up to three different messages):")
        for row in rows:
            by_check = {}
            for run, check, message in row["failures"]:
                by_check.setdefault(check, []).append((run, message))
            for check, items in by_check.items():
                print(f"  {row['scenario']} {check}: {len(items)}")
                shown = []
                for run, message in items:
                    if message not in shown and len(shown) < 3:
                        shown.append(message)
                        print(f"    run {run}: {message}")
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--runs", type=int, default=200, help="killed runs per scenario")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    parser.add_argument("--seed", type=int, default=1, help="seeds the kill delays and the weight changes")
    parser.add_argument("--writers", type=int, default=8, help="concurrent: processes running mv train")
    parser.add_argument("--per-writer", type=int, default=25, help="concurrent: mv train runs of each")
    parser.add_argument("--keep", action="store_true", help="leave the repositories in place for inspection")
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    if not os.access(mv, os.X_OK):
        sys.exit(f"no mv binary at {mv}: run 'make release' first")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario(s): {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    work = tempfile.mkdtemp(prefix="mv-crash-")
    rows = []
    try:
        for name in scenarios:
            if name == "concurrent":
                row = concurrent(args, mv, work)
            elif name == "fulldisk":
                row = fulldisk(args, mv, work)
            elif name == "readonly":
                row = readonly(args, mv, work)
            else:
                row = kill_campaign(name, args.runs, args, mv, work)
            if row:
                rows.append(row)
        print()
        total = report(rows)
        print(f"total failures: {total}")
    finally:
        if args.keep:
            print(f"repositories kept in {work}")
        else:
            mount = os.path.join(work, "fulldisk")
            if os.path.ismount(mount):
                subprocess.run(["umount", mount], capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
