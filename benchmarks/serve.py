#!/usr/bin/env python3
"""mv serve against mlflow models serve, on the same linear model, loaded by wrk on loopback.

One repository in a temporary folder: `mv example-data --rows 1000`, `mv train m` (linear
regression), `mv promote m@v1`. The same CSV fits scikit-learn's LinearRegression, saved with
mlflow.sklearn.save_model and served by `mlflow models serve --env-manager local` (its
default worker count). For 1-row and 100-row `dataframe_split` requests at 1, 16 and 64
connections, wrk (2 threads, --duration seconds each) gives requests/s, p50 and p99; the
servers' peak RSS (VmHWM, summed over the process tree) is read at the end. Then the
stage-churn run: wrk against mv serve for 30 s while production moves between v1 and v2
(`mv promote`, 20 moves), counting non-2xx answers and every X-Model-Version seen.

    python3 benchmarks/serve.py --mv .build/release/mv [--duration 10] [--skip-mlflow]

Needs wrk (Debian), mlflow and scikit-learn (PyPI). Results go in docs/PERFORMANCE.md.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CHURN_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; seen = {} end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
  local v = headers["X-Model-Version"] or "none"
  seen[v] = (seen[v] or 0) + 1
end
function done(summary, latency, requests)
  local total_bad, all = 0, {}
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    for v, n in pairs(t:get("seen")) do all[v] = (all[v] or 0) + n end
  end
  io.write("CHURN bad=" .. total_bad)
  for v, n in pairs(all) do io.write(" " .. v .. "=" .. n) end
  io.write("\n")
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def tree_pids(pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children = {}
    for line in out.split("\n"):
        parts = line.split()
        if len(parts) == 2:
            children.setdefault(int(parts[1]), []).append(int(parts[0]))
    result, todo = [], [pid]
    while todo:
        p = todo.pop()
        result.append(p)
        todo.extend(children.get(p, []))
    return result


def peak_rss_mib(pid):
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def body_for(rows, xs):
    return json.dumps({"dataframe_split": {"columns": ["x"], "data": [[x] for x in xs[:rows]]}})


def wrk(url, body, connections, duration, lua_extra=""):
    folder = tempfile.mkdtemp(prefix="mv-wrk-")
    script = os.path.join(folder, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write("wrk.body = " + json.dumps(body) + "\n" + lua_extra)
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", script, url],
        capture_output=True, text=True).stdout
    shutil.rmtree(folder, ignore_errors=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": int(errors.group(1)) if errors else 0, "out": out}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--moves", type=int, default=20)
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    repo = tempfile.mkdtemp(prefix="mv-serve-bench-")
    servers = []
    try:
        def run(*cmd, **kw):
            return subprocess.run(cmd, cwd=repo, check=True, capture_output=True, text=True, **kw)

        run("git", "init", "-q", "-b", "main")
        run("git", "config", "user.name", "Bench")
        run("git", "config", "user.email", "bench@example.com")
        run(mv, "init")
        run(mv, "example-data", "--rows", "1000", "-o", "d.csv")
        run(mv, "train", "m", "--data", "d.csv", "--target", "y", "--seed", "1")
        run(mv, "train", "m", "--data", "d.csv", "--target", "y", "--seed", "2")
        run(mv, "promote", "m@v1")
        xs = [float(line.split(",")[0]) for line in open(os.path.join(repo, "d.csv")).read().split("\n")[1:] if line]

        mv_port = free_port()
        mv_server = subprocess.Popen([mv, "serve", "--port", str(mv_port)], cwd=repo, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        servers.append(mv_server)
        wait_http(f"http://127.0.0.1:{mv_port}/health")
        targets = {"mv serve": (mv_server, f"http://127.0.0.1:{mv_port}/invocations")}

        if not args.skip_mlflow:
            import numpy as np
            import mlflow.sklearn
            from sklearn.linear_model import LinearRegression
            data = np.loadtxt(os.path.join(repo, "d.csv"), delimiter=",", skiprows=1)
            model = LinearRegression().fit(data[:, :1], data[:, 1])
            path = os.path.join(repo, "mlflow-model")
            mlflow.sklearn.save_model(model, path)
            ml_port = free_port()
            env = dict(os.environ, MLFLOW_TRACKING_URI=os.path.join(repo, "mlruns"))
            ml_server = subprocess.Popen(
                ["mlflow", "models", "serve", "-m", path, "--env-manager", "local", "-p", str(ml_port), "-h", "127.0.0.1"],
                cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            servers.append(ml_server)
            wait_http(f"http://127.0.0.1:{ml_port}/ping", seconds=180)
            targets["mlflow models serve"] = (ml_server, f"http://127.0.0.1:{ml_port}/invocations")

        results = {}
        print(f"{'server':22} {'rows':>4} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7}")
        for rows in (1, 100):
            for connections in (1, 16, 64):
                for name, (process, url) in targets.items():
                    r = wrk(url, body_for(rows, xs), connections, args.duration)
                    results[(name, rows, connections)] = r
                    print(f"{name:22} {rows:>4} {connections:>5} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
                          f"{r['non2xx']:>7}", flush=True)
        for name, (process, url) in targets.items():
            print(f"peak RSS {name}: {peak_rss_mib(process.pid):.1f} MiB")
        if "mlflow models serve" in targets:
            for rows in (1, 100):
                for connections in (1, 16, 64):
                    a, b = results[("mv serve", rows, connections)], results[("mlflow models serve", rows, connections)]
                    print(f"ratio mv/mlflow requests/s, {rows} row(s), {connections} connections: {a['rps'] / b['rps']:.1f}")

        # Stage churn: wrk for 30 s while production moves between v1 and v2.
        lua = CHURN_LUA
        url = targets["mv serve"][1]
        folder = tempfile.mkdtemp(prefix="mv-wrk-")
        script = os.path.join(folder, "churn.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
            f.write("wrk.body = " + json.dumps(body_for(1, xs)) + "\n" + lua)
        load = subprocess.Popen(["wrk", "-t", "2", "-c", "16", "-d", "30s", "-s", script, url], stdout=subprocess.PIPE,
                                text=True)
        time.sleep(1)
        moves = 0
        started = time.time()
        while moves < args.moves and time.time() - started < 27:
            run(mv, "promote", "m@v2" if moves % 2 == 0 else "m@v1")
            moves += 1
        out, _ = load.communicate()
        shutil.rmtree(folder, ignore_errors=True)
        line = next((l for l in out.split("\n") if l.startswith("CHURN")), "CHURN missing")
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        print(f"stage churn: {moves} promotions in 30 s of wrk (16 connections, 1 row): {line[6:]}, "
              f"{rps.group(1) if rps else '?'} req/s")
    finally:
        for process in servers:
            try:
                os.killpg(process.pid, signal.SIGTERM) if process.pid == os.getpgid(process.pid) else process.terminate()
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
