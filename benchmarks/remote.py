#!/usr/bin/env python3
"""Sharing model weights through an LFS server: mv push/clone/pull against git-lfs and DVC,
all on the same local server, in one run.

The server is giftless (S3 backend, JWT auth) in front of moto's S3 server, started from
Tests/EndToEndTests/LFSServer/lfs_server.py; DVC's remote is a bucket on the same S3 server.
The model is benchmarks/weights.py's (default 512 MiB: 64 float32 tensors of 8 MiB, one
safetensors file); its next version changes 4 of the 64 tensors. Steps per tool:
  push v1      mv push | git push (git-lfs's pre-push upload) | dvc push (+ git push)
  clone v1     mv clone | git clone (git-lfs smudge) | git clone + dvc pull
  push v2      after registering the next version
  pull v2      in the clone: mv pull | git pull | git pull + dvc pull
Prints wall time, the bytes that reached the object store, each peer's time over mv's, the
CPU time the S3 server (moto) and the LFS server (giftless) spent on the step, and every
round's wall time.
Rounds alternate the tools' order; the median of the rounds is printed.

    swift build -c release --product mv
    python3 benchmarks/remote.py --mv .build/release/mv

Needs numpy, safetensors, GNU time, git-lfs, dvc with dvc-s3, and the giftless venv that
`.ci/install-deps --test` makes (.build/test-tools/giftless, or --server-python).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weights import run, settle, synthetic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "Tests", "EndToEndTests", "LFSServer", "lfs_server.py")


def start_server(python, folder):
    process = subprocess.Popen([python, SERVER, folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info = os.path.join(folder, "server.json")
    deadline = time.time() + 90
    while not os.path.exists(info):
        if process.poll() is not None or time.time() > deadline:
            sys.exit("the LFS server did not start")
        time.sleep(0.2)
    with open(info) as f:
        return process, json.load(f)


def stored_bytes(python, server, prefix):
    """Bytes under `prefix` in the server's bucket."""
    script = ("import boto3, sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='test', "
              "aws_secret_access_key='test', region_name='us-east-1'); pages = s3.get_paginator('list_objects_v2')"
              ".paginate(Bucket=sys.argv[2], Prefix=sys.argv[3]); "
              "print(sum(o['Size'] for p in pages for o in p.get('Contents', [])))")
    out = subprocess.run([python, "-c", script, server["s3_url"], server["bucket"], prefix], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def server_cpu(server):
    """CPU seconds the S3 server and the LFS server have used so far, each."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = []
    for pid in server["pids"]:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        seconds.append((int(fields[11]) + int(fields[12])) / ticks)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--changed", type=int, default=4)
    parser.add_argument("--tools", default="mv,git-lfs,dvc")
    parser.add_argument("--runs", type=int, default=1, help="rounds; the median is printed")
    parser.add_argument("--server-python", default=os.path.join(HERE, "..", ".build", "test-tools", "giftless", "bin", "python"))
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    work = tempfile.mkdtemp(prefix="mv-remote-bench-")
    server_process, server = start_server(os.path.abspath(args.server_python), os.path.join(work, "server"))
    port = server["lfs_url"].split(":")[2].split("/")[0]
    credentials = os.path.join(work, "credentials")
    with open(credentials, "w") as f:
        f.write(f"http://_jwt:{server['token']}@127.0.0.1:{port}\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com", GIT_COMMITTER_NAME="bench",
               GIT_COMMITTER_EMAIL="bench@example.com", GIT_CONFIG_GLOBAL=os.path.join(work, "gitconfig"),
               AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    with open(env["GIT_CONFIG_GLOBAL"], "w") as f:
        f.write(f"[credential]\n\thelper = store --file={credentials}\n[init]\n\tdefaultBranch = main\n")
    subprocess.run(["git", "lfs", "install", "--skip-repo"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        first, second = synthetic(work, args.mib, args.tensors, args.changed)
        changed_bytes = args.changed * (args.mib * 2**20 // args.tensors)
        samples = {}
        for round_ in range(args.runs):
            # Every other round runs the tools in reverse, so none always meets the server
            # right after another tool's transfers (its store grown, its disk writing back).
            tools = args.tools.split(",")
            for tool in tools if round_ % 2 == 0 else tools[::-1]:
                name = f"{tool}-{round_}"
                lfs_url = server["lfs_url"].replace("/team/models.git/", f"/team/{name}.git/")
                base = os.path.join(work, name)
                bare, repo, clone = base + ".git", base + "-a", base + "-b"
                subprocess.run(["git", "init", "-q", "--bare", "-b", "main", bare], check=True, env=env)
                os.makedirs(repo)
                sh = lambda cmd, cwd=repo: run(cmd, cwd, env)  # noqa: E731
                if tool == "mv":
                    sh(f"git init -q -b main . && {mv} init --storage lfs >/dev/null && git config -f .lfsconfig lfs.url {lfs_url}"
                       f" && git add .lfsconfig && git commit -q -m lfs && git remote add origin {bare}")
                    steps = [
                        ("push v1", f"{mv} add model --weights {first} --quiet", f"{mv} push --quiet", repo),
                        ("clone v1", None, f"{mv} clone {bare} {clone} >/dev/null", work),
                        ("push v2", f"{mv} add model --weights {second} --quiet", f"{mv} push --quiet", repo),
                        ("pull v2", None, f"{mv} pull --quiet", clone),
                    ]
                    prefix = f"team/{name}/"
                elif tool == "git-lfs":
                    sh(f"git init -q -b main . && git lfs track '*.safetensors' >/dev/null && git config -f .lfsconfig lfs.url {lfs_url}"
                       f" && git config lfs.locksverify false && git add .gitattributes .lfsconfig && git commit -q -m lfs"
                       f" && git remote add origin {bare}")
                    steps = [
                        ("push v1", f"cp {first} model.safetensors && git add model.safetensors && git commit -q -m v1",
                         "git push -q origin main", repo),
                        ("clone v1", None, f"git clone -q {bare} {clone}", work),
                        ("push v2", f"cp {second} model.safetensors && git add model.safetensors && git commit -q -m v2",
                         "git push -q origin main", repo),
                        ("pull v2", None, "git pull -q", clone),
                    ]
                    prefix = f"team/{name}/"
                else:
                    remote = f"s3://{server['bucket']}/dvc-{name}"
                    sh(f"git init -q -b main . && dvc init -q && dvc remote add -d store {remote} && "
                       f"dvc remote modify store endpointurl {server['s3_url']} && git add .dvc && git commit -q -m dvc"
                       f" && git remote add origin {bare}")
                    steps = [
                        ("push v1", f"cp {first} model.safetensors && dvc add -q model.safetensors && git add model.safetensors.dvc .gitignore"
                         " && git commit -q -m v1", "dvc push -q && git push -q origin main", repo),
                        ("clone v1", None, f"git clone -q {bare} {clone} && cd {clone} && dvc pull -q", work),
                        ("push v2", f"cp {second} model.safetensors && dvc add -q model.safetensors && git add model.safetensors.dvc"
                         " && git commit -q -m v2", "dvc push -q && git push -q origin main", repo),
                        ("pull v2", None, "git pull -q && dvc pull -q", clone),
                    ]
                    prefix = f"dvc-{name}/"
                for step, prepare, command, cwd in steps:
                    if prepare:
                        settle(first if step == "push v1" else second)
                        sh(prepare)
                    before = stored_bytes(args.server_python, server, prefix)
                    os.sync()
                    cpu_before = server_cpu(server)
                    seconds, rss = sh(command, cwd)
                    cpu = [after - was for after, was in zip(server_cpu(server), cpu_before)]
                    sent = stored_bytes(args.server_python, server, prefix) - before
                    samples.setdefault((step, tool), []).append((seconds, rss, sent, cpu))
                for path in (repo, clone, bare):
                    shutil.rmtree(path, ignore_errors=True)
        size = os.path.getsize(first) / 2**20
        print(f"model: {size:.0f} MiB float32 safetensors, {args.tensors} tensors; the next version changes {args.changed} "
              f"({changed_bytes / 2**20:.0f} MiB); server: giftless + moto S3 on loopback")
        print(f"median of {args.runs} run(s)")
        print(f"{'step':<10}{'tool':<9}{'wall s':>8}{'RSS MiB':>9}{'stored MiB':>12}{'peer/mv':>9}{'S3 cpu s':>10}{'LFS cpu s':>10}"
              f"  all walls")
        for (step, tool), runs in samples.items():
            times = sorted(r[0] for r in runs)
            seconds = times[len(times) // 2]
            mine = sorted(r[0] for r in samples[(step, "mv")])
            ratio = f"{seconds / mine[len(mine) // 2]:.1f}x" if tool != "mv" and (step, "mv") in samples else ""
            stored = runs[-1][2] / 2**20
            s3_cpu = sorted(r[3][0] for r in runs)[len(runs) // 2]
            lfs_cpu = sorted(r[3][1] for r in runs)[len(runs) // 2]
            walls = " ".join(f"{r[0]:.2f}" for r in runs)
            print(f"{step:<10}{tool:<9}{seconds:>8.2f}{max(r[1] for r in runs):>9.0f}{stored:>12.1f}{ratio:>9}{s3_cpu:>10.2f}"
                  f"{lfs_cpu:>10.2f}  {walls}")
        mv_v2 = samples.get(("push v2", "mv"))
        if mv_v2:
            print(f"mv push v2 stored {mv_v2[-1][2] / changed_bytes:.2f}x the changed tensors' bytes")
    finally:
        server_process.terminate()
        server_process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
