#!/usr/bin/env python3
"""Request fuzzer for mv serve: malformed requests by the ten thousand, then checks that the
server never crashed, never answered 500, never grew without bound, and still answers.

One repository in a temporary folder with two served models: `price` (linear regression on
one numeric column) and `churn` (logistic regression on a numeric and a categorical column).
Each request is made from a valid one of the three protocols by one of these mutations:
flip, insert or delete random bytes; truncate; swap in random JSON of any shape; deep
nesting; huge or non-finite numbers; invalid UTF-8; wrong or missing content type; random
paths and methods; lying Content-Length; broken chunked encoding; Triton binary tensors with wrong sizes;
oversized bodies; slow
clients that stop sending. Requests go out on raw sockets from several threads.

    python3 benchmarks/fuzz_serve.py --mv .build/release/mv [--requests 10000] [--seed 1]

Prints the status counts, the server's RSS before and after, and exits non-zero on a crash,
a 500, a hang, or RSS growth past --max-growth-mib (default 32).
"""
import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

VALID = [
    ("POST", "/invocations?model=price", "application/json", b'{"dataframe_split":{"columns":["x"],"data":[[1.5],[2]]}}'),
    ("POST", "/invocations?model=churn", "application/json", b'{"dataframe_records":[{"tenure":3,"plan":"pro"}]}'),
    ("POST", "/invocations?model=price", "text/csv", b"x\n1\n2\n"),
    ("POST", "/v1/models/price:predict", "application/json", b'{"instances":[[1.0],[2.0]]}'),
    ("POST", "/v1/models/churn:predict", "application/json", b'{"inputs":{"tenure":[1,2],"plan":["pro","max"]}}'),
    ("POST", "/v2/models/churn/infer", "application/json",
     b'{"inputs":[{"name":"tenure","shape":[1],"datatype":"FP64","data":[2]},'
     b'{"name":"plan","shape":[1],"datatype":"BYTES","data":["basic"]}]}'),
    ("POST", "/v2/models/price/infer", "application/json",
     b'{"inputs":[{"name":"x","shape":[2,1],"datatype":"FP64","data":[1,2]}]}'),
    ("GET", "/v1/models/price", None, b""),
    ("GET", "/v2/models/churn", None, b""),
    ("GET", "/metrics", None, b""),
]
ALLOWED = {200, 400, 404, 405, 413, 415, 503, 504}


def random_json(rng, depth=0):
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 1e308, -1e-308, 2 ** 63, rng.uniform(-1e6, 1e6), 12345678901234567890])
    if kind == 2:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(20)))
    if kind == 3:
        return rng.choice(["x", "tenure", "plan", "inputs", "instances", "data", "shape", "pro", ""])
    if kind == 4:
        return rng.choice(["NaN", "Infinity", "-0", "1e999"])
    if kind == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(5))]
    keys = ["dataframe_split", "dataframe_records", "instances", "inputs", "columns", "data", "name", "shape",
            "datatype", "outputs", "params", "id", "x", "tenure", "plan"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def mutate(rng, request):
    method, path, ctype, body = request
    extra_headers = []
    raw_body = None
    choice = rng.randrange(16)
    if choice == 0:
        b = bytearray(body)
        for _ in range(rng.randrange(1, 6)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        body = bytes(b)
    elif choice == 1:
        body = body[: rng.randrange(len(body) + 1)]
    elif choice == 2:
        b = bytearray(body)
        for _ in range(rng.randrange(1, 6)):
            b.insert(rng.randrange(len(b) + 1), rng.choice(b'{}[]",:\\\x00\xff0e-.'))
        body = bytes(b)
    elif choice == 3:
        body = json.dumps(random_json(rng)).encode()
    elif choice == 4:
        depth = rng.choice([63, 64, 65, 1000, 100000])
        body = b"[" * depth + b"]" * depth
    elif choice == 5:
        body = body.replace(b"1", rng.choice([b"1e400", b"NaN", b"-Infinity", b"1" * 400, b"0x10", b"01"]))
    elif choice == 6:
        body = body.replace(b'"pro"', b'"\xff\xfe"').replace(b'"x"', b'"\xc3\x28"')
    elif choice == 7:
        ctype = rng.choice([None, "text/plain", "application/xml", "application/json; charset=latin1", "text/csv", "*/*",
                            "application/json" + "x" * 100])
    elif choice == 8:
        path = rng.choice(["/", "/v1", "/v1/models", "/v1/models/", "/v1/models/price/versions/",
                           "/v1/models/price/versions/99:predict", "/v1/models/price:classify", "/v2/models//infer",
                           "/v2/models/price/versions/x/infer", "/invocations/../metrics", "/%00", "/" + "a" * 5000,
                           "/v1/models/price/labels/nope:predict", "/v2/models/churn/ready?x=%zz"])
    elif choice == 9:
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "FOO"])
    elif choice == 10:
        extra_headers.append(f"Content-Length: {len(body) + rng.choice([-5, 1, 1000])}")
        raw_body = body
    elif choice == 11:
        size = rng.choice([len(body), 7, 0x10, 0xFFFFFFF])
        raw_body = f"{size:x}\r\n".encode() + body + rng.choice([b"\r\n0\r\n\r\n", b"\r\n", b"zz\r\n", b""])
        extra_headers.append("Transfer-Encoding: chunked")
    elif choice == 12:
        body = b'{"instances":[' + b"[1.0]," * 400000 + b"[1.0]]}"
    elif choice == 13:
        extra_headers.append("X-Request-Id: " + "r" * rng.choice([10, 200, 5000]))
        extra_headers.append("X-Model-Name: " + rng.choice(["price", "churn", "nope", "../x", ""]))
        if "/v2/" in path:
            cut = rng.randrange(-2, len(body) + 3)
            extra_headers.append(f"Inference-Header-Content-Length: {cut}")
            body = body.replace(b'"data":[1,2]', b'"parameters":{"binary_data_size":' + str(rng.choice([0, 8, 16, 17, 10**12])).encode() + b'}')
            body += bytes(rng.randrange(256) for _ in range(rng.randrange(24)))
    elif choice == 14:
        body = json.dumps({"inputs": [{"name": "x", "shape": [rng.choice([0, -1, 2 ** 62, 3]), 2 ** 40],
                                      "datatype": rng.choice(["FP64", "BYTES", "FOO"]), "data": [1, 2, 3]}]}).encode()
    else:
        body = json.dumps({"instances": [[random_json(rng)] for _ in range(rng.randrange(1, 4))]}).encode()
    return method, path, ctype, body, extra_headers, raw_body


def send(port, method, path, ctype, body, extra_headers, raw_body, slow=False):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    for header in extra_headers:
        head += header + "\r\n"
    if raw_body is None:
        head += f"Content-Length: {len(body)}\r\n"
        raw_body = body
    data = head.encode("latin-1", "replace") + b"\r\n" + raw_body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            if slow:
                s.sendall(data[: len(data) // 2])
                time.sleep(0.05)
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    response = b"".join(chunks)
    if not response:
        return 0
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return -1


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mv", default=".build/release/mv")
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-growth-mib", type=float, default=32)
    args = parser.parse_args()
    mv = os.path.abspath(args.mv)
    repo = tempfile.mkdtemp(prefix="mv-fuzz-")
    server = None
    try:
        def run(*cmd):
            subprocess.run(cmd, cwd=repo, check=True, capture_output=True)

        run("git", "init", "-q", "-b", "main")
        run("git", "config", "user.name", "Fuzz")
        run("git", "config", "user.email", "fuzz@example.com")
        run(mv, "init")
        run(mv, "example-data", "--rows", "300", "-o", "price.csv")
        rng = random.Random(7)
        with open(os.path.join(repo, "churn.csv"), "w") as f:
            f.write("tenure,plan,churned\n")
            for _ in range(300):
                tenure, plan = rng.uniform(0, 20), rng.choice(["basic", "pro", "max"])
                f.write(f"{tenure:.3f},{plan},{'yes' if 8 - tenure + rng.uniform(-3, 3) > 0 else 'no'}\n")
        run(mv, "train", "price", "--data", "price.csv", "--target", "y")
        run(mv, "train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression")
        run(mv, "promote", "price@v1")
        run(mv, "promote", "churn@v1")
        server = subprocess.Popen([mv, "serve", "--port", "0", "--max-body", "1M", "--max-rows", "1000", "--timeout", "2",
                                   "--max-concurrent", "64"], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        line = server.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1])
        for request in VALID:
            method, path, ctype, body = request
            status = send(port, method, path, ctype, body, [], None)
            assert status == 200, f"valid request {path} answered {status}"
        for _ in range(200):  # warm-up before the first RSS reading
            send(port, *VALID[0], [], None)
        rss_before = rss_kib(server.pid)

        counts = {}
        problems = []
        lock = threading.Lock()
        per_thread = args.requests // args.threads

        def worker(index):
            local = random.Random(args.seed * 1000 + index)
            for _ in range(per_thread):
                mutated = mutate(local, local.choice(VALID))
                slow = local.random() < 0.01
                try:
                    status = send(port, *mutated, slow=slow)
                except (socket.timeout, OSError) as error:
                    status = f"error {error}"
                with lock:
                    counts[status] = counts.get(status, 0) + 1
                    if status not in ALLOWED and status != 0:
                        if len(problems) < 20:
                            problems.append((status, mutated[0], mutated[1], mutated[3][:200]))

        started = time.time()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - started
        alive = server.poll() is None
        final = [send(port, *request, [], None) for request in VALID] if alive else []
        rss_after = rss_kib(server.pid) if alive else 0
        total = sum(counts.values())
        print(f"{total} malformed requests in {elapsed:.1f} s ({total / elapsed:.0f}/s), {args.threads} threads, seed {args.seed}")
        for status, count in sorted(counts.items(), key=lambda kv: str(kv[0])):
            label = "connection closed without an answer" if status == 0 else status
            print(f"  {label}: {count}")
        print(f"server alive: {alive}; valid requests afterwards: {final}")
        print(f"RSS {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after")
        failed = (not alive or any(s != 200 for s in final) or problems
                  or (rss_after - rss_before) / 1024 > args.max_growth_mib)
        for problem in problems:
            print("  unexpected:", problem)
        print("FAIL" if failed else "OK")
        return 1 if failed else 0
    finally:
        if server and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
