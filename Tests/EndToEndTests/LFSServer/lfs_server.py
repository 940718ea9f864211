"""Starts a real Git LFS server on loopback for mv's tests and benchmarks: moto's S3
server (PyPI moto) and giftless (PyPI giftless) in front of it, with giftless's S3 storage
backend and JWT authentication, as a self-hosted team would run them.

    python3 lfs_server.py <folder> [--tls]

Writes <folder>/server.json once both answer: the LFS URL, the S3 endpoint, the bucket,
a JWT token with read/write/verify on everything (send it as HTTP basic auth, user
`_jwt`), and both processes' ids. With --tls both servers speak HTTPS only, with a
certificate for 127.0.0.1 from a private CA made for the run (its file is `ca_file`).
Runs until killed; kills both servers on SIGTERM.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import jwt

KEY = "mv-tests-signing-key-0123456789abcdef"
BUCKET = "lfs-objects"
ORG, REPO = "team", "models"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder):
    """A private CA and a certificate it signed for 127.0.0.1; returns (ca, cert, key) paths."""
    ca, ca_key = os.path.join(folder, "ca.pem"), os.path.join(folder, "ca.key")
    cert, key, request = os.path.join(folder, "server.pem"), os.path.join(folder, "server.key"), os.path.join(folder, "server.csr")
    extensions = os.path.join(folder, "server.ext")
    with open(extensions, "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")
    quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
                    "-subj", "/CN=mv tests CA"], **quiet)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
                    "-subj", "/CN=127.0.0.1"], **quiet)
    subprocess.run(["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
                    "-days", "2", "-extfile", extensions], **quiet)
    return ca, cert, key


def wait_for(url, timeout=60, ca=None):
    deadline = time.time() + timeout
    context = __import__("ssl").create_default_context(cafile=ca) if ca else None
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2, context=context)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


def main():
    folder = sys.argv[1]
    tls = "--tls" in sys.argv[2:]
    os.makedirs(folder, exist_ok=True)
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    ca = cert = key = None
    if tls:
        ca, cert, key = make_certificate(folder)
        # giftless's own S3 client (boto3) trusts the CA too.
        env["AWS_CA_BUNDLE"] = ca
    scheme = "https" if tls else "http"

    s3_port = free_port()
    s3 = subprocess.Popen(
        [os.path.join(bin_dir, "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)] + (["-c", cert, "-k", key] if tls else []),
        env=env, stdout=open(os.path.join(folder, "moto.log"), "w"), stderr=subprocess.STDOUT)
    s3_url = f"{scheme}://127.0.0.1:{s3_port}"
    wait_for(s3_url, ca=ca)
    boto3.client("s3", endpoint_url=s3_url, aws_access_key_id="test", aws_secret_access_key="test",
                 region_name="us-east-1", verify=ca if tls else None).create_bucket(Bucket=BUCKET)

    config = {
        "AUTH_PROVIDERS": [{"factory": "giftless.auth.jwt:factory", "options": {"algorithm": "HS256", "private_key": KEY}}],
        "PRE_AUTHORIZED_ACTION_PROVIDER": {"factory": "giftless.auth.jwt:factory",
                                           "options": {"algorithm": "HS256", "private_key": KEY, "default_lifetime": 3600}},
        "TRANSFER_ADAPTERS": {"basic": {
            "factory": "giftless.transfer.basic_external:factory",
            "options": {"storage_class": "giftless.storage.amazon_s3:AmazonS3Storage",
                        "storage_options": {"bucket_name": BUCKET, "endpoint": s3_url},
                        "action_lifetime": 3600}}},
        "LEGACY_ENDPOINTS": False,
    }
    lfs_port = free_port()
    giftless = subprocess.Popen(
        [os.path.join(bin_dir, "flask"), "--app", "giftless.wsgi_entrypoint", "run", "--host", "127.0.0.1",
         "--port", str(lfs_port), "--with-threads"] + (["--cert", cert, "--key", key] if tls else []),
        env=dict(env, GIFTLESS_CONFIG_STR=json.dumps(config)),
        stdout=open(os.path.join(folder, "giftless.log"), "w"), stderr=subprocess.STDOUT)

    def stop(*_):
        for process in (giftless, s3):
            process.terminate()
        for process in (giftless, s3):
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wait_for(f"{scheme}://127.0.0.1:{lfs_port}/", ca=ca)
    now = datetime.now(timezone.utc)
    token = jwt.encode({"sub": "mv-tests", "iat": now, "exp": now + timedelta(days=1),
                        "scopes": ["obj:*:*"]}, KEY, algorithm="HS256")
    info = {"lfs_url": f"{scheme}://127.0.0.1:{lfs_port}/{ORG}/{REPO}.git/info/lfs", "s3_url": s3_url, "bucket": BUCKET,
            "prefix": f"{ORG}/{REPO}", "token": token, "pids": [s3.pid, giftless.pid], "pid": os.getpid(), "ca_file": ca}
    with open(os.path.join(folder, "server.json.tmp"), "w") as f:
        json.dump(info, f)
    os.replace(os.path.join(folder, "server.json.tmp"), os.path.join(folder, "server.json"))
    while True:
        if giftless.poll() is not None or s3.poll() is not None:
            stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
