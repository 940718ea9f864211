"""Starts a real Git LFS server on loopback for mv's tests and benchmarks: moto's S3
server (PyPI moto) and giftless (PyPI giftless) in front of it, with giftless's S3 storage
backend and JWT authentication, as a self-hosted team would run them.

    python3 lfs_server.py <folder>

Writes <folder>/server.json once both answer: the LFS URL, the S3 endpoint, the bucket,
a JWT token with read/write/verify on everything (send it as HTTP basic auth, user
`_jwt`), and both processes' ids. Runs until killed; kills both servers on SIGTERM.
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


def wait_for(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")

    s3_port = free_port()
    s3 = subprocess.Popen(
        [os.path.join(bin_dir, "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
        env=env, stdout=open(os.path.join(folder, "moto.log"), "w"), stderr=subprocess.STDOUT)
    s3_url = f"http://127.0.0.1:{s3_port}"
    wait_for(s3_url)
    boto3.client("s3", endpoint_url=s3_url, aws_access_key_id="test", aws_secret_access_key="test",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)

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
         "--port", str(lfs_port), "--with-threads"],
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
    wait_for(f"http://127.0.0.1:{lfs_port}/")
    now = datetime.now(timezone.utc)
    token = jwt.encode({"sub": "mv-tests", "iat": now, "exp": now + timedelta(days=1),
                        "scopes": ["obj:*:*"]}, KEY, algorithm="HS256")
    info = {"lfs_url": f"http://127.0.0.1:{lfs_port}/{ORG}/{REPO}.git/info/lfs", "s3_url": s3_url, "bucket": BUCKET,
            "prefix": f"{ORG}/{REPO}", "token": token, "pids": [s3.pid, giftless.pid], "pid": os.getpid()}
    with open(os.path.join(folder, "server.json.tmp"), "w") as f:
        json.dump(info, f)
    os.replace(os.path.join(folder, "server.json.tmp"), os.path.join(folder, "server.json"))
    while True:
        if giftless.poll() is not None or s3.poll() is not None:
            stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
