"""Fill etcd with random values until its database reaches a size: run ON a member by bench/run.py
(`docker exec -i CONTAINER python3 - TARGET_BYTES PREFIX < bench/fill.py`), with the node's own Python and
nothing else installed.

It writes through etcd's JSON gateway on the member's local client URL (http://127.0.0.1:2379, which every
member of the lab listens on): a few keep-alive HTTP connections in threads, one put per request, instead of
one etcdctl process per key. Values are random bytes (incompressible) of 64 to 128 KiB each, under new keys
PREFIX/NNNNNNNNN, so earlier data stays and the database only grows. It stops once the member reports a
database size (dbSize of the maintenance status) of at least TARGET_BYTES, and prints one JSON line:
{"puts": N, "bytes": N, "db_size": N}.
"""

import base64
import http.client
import json
import os
import random
import sys
import threading
import time

ENDPOINT = ("127.0.0.1", 2379)
THREADS = 8
CHECK_EVERY = 32  # puts between two reads of the database size
MIN_KIB, MAX_KIB = 64, 128


def call(conn, path, body):
    """POST a JSON body to the gateway; the decoded JSON answer."""
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


def db_size(conn):
    # the gateway writes int64 fields as JSON strings
    return int(call(conn, "/v3/maintenance/status", {}).get("dbSize", 0))


def main():
    target, prefix = int(sys.argv[1]), sys.argv[2]
    state = {"next": 0, "bytes": 0, "db_size": 0, "done": False, "error": ""}
    lock = threading.Lock()

    conn = http.client.HTTPConnection(*ENDPOINT, timeout=120)
    state["db_size"] = db_size(conn)
    conn.close()
    started = time.monotonic()

    def worker():
        conn = http.client.HTTPConnection(*ENDPOINT, timeout=120)
        try:
            while True:
                with lock:
                    if state["done"] or state["db_size"] >= target:
                        state["done"] = True
                        return
                    index = state["next"]
                    state["next"] += 1
                size = random.randint(MIN_KIB, MAX_KIB) * 1024
                key = f"{prefix}/{index:09d}".encode()
                call(conn, "/v3/kv/put", {"key": base64.b64encode(key).decode(),
                                          "value": base64.b64encode(os.urandom(size)).decode()})
                with lock:
                    state["bytes"] += size
                if index % CHECK_EVERY == CHECK_EVERY - 1:
                    current = db_size(conn)
                    with lock:
                        state["db_size"] = max(state["db_size"], current)
                    print(f"fill: {current / 2**20:.0f} of {target / 2**20:.0f} MiB after "
                          f"{time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
        except Exception as exc:  # any failure ends the fill, with its message
            with lock:
                state["done"] = True
                state["error"] = state["error"] or f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _thread in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if state["error"]:
        print(f"fill failed: {state['error']}", file=sys.stderr)
        return 1
    conn = http.client.HTTPConnection(*ENDPOINT, timeout=120)
    final = db_size(conn)
    conn.close()
    print(json.dumps({"puts": state["next"], "bytes": state["bytes"], "db_size": final}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
