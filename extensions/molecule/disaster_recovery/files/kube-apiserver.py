"""A stand-in kube-apiserver for the lab (issue #26). The test installs it as /usr/local/bin/kube-apiserver behind a
python3 shebang line, so that its process is named kube-apiserver. Every half second it reads the cluster of its
member's etcd, as an apiserver's watch would see it, and logs what it saw with the time (wall clock, and the
monotonic clock systemd's timestamps use). With MANIFEST set it plays a static pod: it exits once the manifest is
gone, and a path unit (the kubelet's part) starts it again when the manifest is back."""

import json
import os
import signal
import subprocess
import sys
import time

LOG = "/var/log/kube-apiserver-standin.log"
MANIFEST = os.environ.get("MANIFEST", "")


def log(what):
    with open(LOG, "a") as f:
        f.write("%.6f %.6f %s\n" % (time.time(), time.monotonic(), what))


def stop(*_):
    log("stop")
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
log("start")
while True:
    if MANIFEST and not os.path.exists(MANIFEST):
        stop()
    try:
        out = subprocess.run(["etcdctl", "--endpoints=http://127.0.0.1:2379", "--dial-timeout=1s",
                              "--command-timeout=1s", "endpoint", "status", "-w", "json"],
                             capture_output=True, text=True, timeout=3, check=False).stdout
        header = json.loads(out)[0]["Status"]["header"]
        log("seen %x %d" % (header["cluster_id"], header["revision"]))
    except (ValueError, KeyError, IndexError, subprocess.TimeoutExpired):
        log("none")
    time.sleep(0.5)
