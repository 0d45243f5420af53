"""The fault suite's harness: a disaster made on the lab, a playbook killed at a task boundary (or a node killed
while a task runs), the state every node was left in, the same playbook run again, and the checks that nothing
was lost. Each case becomes a row of docs/reliability.md (lab.record; tests/fault/report.py writes the file).

It looks at the nodes as root through `docker exec` (fast, and not through the SSH the playbooks use); the
playbooks themselves run as a user runs them: the README's command, over SSH as the sudo user ops.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import lab

DATA = "/data/etcd.data"
ENV = "/data/etcd.env"
COPY_DIR = "/var/lib/etcd-ops/recovery"
CONTAINER = lab.container("{}")
# every interruption point, even inside a run of tasks that change nothing (ETCD_OPS_FAULTS=every)
EVERY = os.environ.get("ETCD_OPS_FAULTS", "") == "every"


def sh(name: str, script: str, check: bool = True) -> str:
    """Run a shell script as root on a lab node; its stdout."""
    proc = subprocess.run(["docker", "exec", CONTAINER.format(name), "sh", "-c", script],
                          capture_output=True, text=True, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name}: {script}: rc {proc.returncode}: {proc.stderr}")
    return proc.stdout


# What a killed run may have changed on a node, with run-specific times made <UTC>: the service, the data dir and
# its restore mark, a staging dir, moved-aside dirs (counted), the snapshot copy, the env file.
STATE = r"""
D=%(data)s
M=$D/member/.etcd-ops-restore
u() { sed -E 's/[0-9]{8}T[0-9]{6}Z/<UTC>/g' "$@"; }
echo "etcd=etcd $(systemctl is-active etcd.service)/$(systemctl is-enabled etcd.service)"
if [ -d $D/member ]; then echo "data=data dir holds a member dir"
elif [ -d $D ]; then echo "data=empty data dir"; else echo "data=no data dir"; fi
[ -f $M.json ] && echo "mark=restore mark $(u $M.json | md5sum | cut -c1-8)"
[ -f $M.done.json ] && echo "done=retired restore mark"
S=$D.etcd-ops-staging
[ -d $S ] && echo "staging=staging dir$([ -f $S/member/.etcd-ops-restore.json ] && echo ', restored')"
echo "aside=$(ls -d $D.2* 2>/dev/null | wc -l)"
echo "copy=$(ls -A %(copy)s 2>/dev/null | sed -E 's/.*[.]db$/db/; s/.*[.]db[.]sha256$/sha256/' | tr '\n' ' ')"
echo "env=$(u %(env)s | md5sum | cut -c1-8)"
true
""" % {"data": DATA, "copy": COPY_DIR, "env": ENV}


def node_state(name: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in sh(name, STATE).splitlines() if "=" in line)


def aside(name: str) -> list[str]:
    return sorted(sh(name, f"ls -d {DATA}.2* 2>/dev/null || true").split())


def members(names=lab.NODES) -> list[dict]:
    """The member list from the first node that answers, [] when none does."""
    for name in names:
        out = subprocess.run(["docker", "exec", CONTAINER.format(name), "etcdctl", "--command-timeout=3s",
                              "member", "list", "-w", "json"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            return json.loads(out.stdout).get("members", [])
    return []


def membership() -> list[str]:
    """The member list in words: name (or 'unstarted'), learner or voter; sorted."""
    return sorted(f"{m.get('name') or 'unstarted'} {'learner' if m.get('isLearner') else 'voter'}"
                  for m in members())


def keys_on(name: str, prefix: str) -> dict[str, str]:
    out = sh(name, f"etcdctl get {prefix} --prefix -w json --consistency=s")
    kvs = json.loads(out).get("kvs", [])
    return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}


def wait_healthy(names=lab.NODES, seconds: int = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(subprocess.run(["docker", "exec", CONTAINER.format(n), "etcdctl", "--command-timeout=3s",
                               "endpoint", "health"], capture_output=True, check=False).returncode == 0
               for n in names):
            return True
        time.sleep(1)
    return False


def write_keys(prefix: str, count: int) -> dict[str, str]:
    sh("node1", f"for i in $(seq {count}); do etcdctl put {prefix}k$i v$i >/dev/null; done")
    return {f"{prefix}k{i}": f"v{i}" for i in range(1, count + 1)}


def wait_ssh(name: str, seconds: int = 120) -> None:
    """After a node's container was started again: until sshd answers (not until the boot is over: an etcd
    enabled at boot that waits for its peers keeps systemd "starting", as on a real host)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if lab.node(name).run("true").rc == 0:
                return
        except RuntimeError:  # testinfra raises on ssh's own errors (rc 255: sshd not listening yet)
            pass
        time.sleep(1)
    raise AssertionError(f"{name} did not come back")


# -- the task list of a run --------------------------------------------------------------------------------------
@dataclass
class Task:
    number: int
    name: str
    changed_on: set[str] = field(default_factory=set)


def read_task_log(path: Path) -> list[Task]:
    tasks: dict[int, Task] = {}
    for line in path.read_text().splitlines():
        kind, number, text = line.split("\t", 2)
        if kind == "task":
            tasks[int(number)] = Task(int(number), text)
        else:
            tasks[int(number)].changed_on.add(text)
    return [tasks[n] for n in sorted(tasks)]


def kill_points(tasks: list[Task]) -> dict[int, int]:
    """For each task N after which the run can be killed (not the last): the point actually killed.

    Killing after a task that changed nothing on any host leaves every node as killing before it would: such a
    task shares the kill point of the run of tasks it belongs to, the last task before the next change (one kill
    covers the run of read-only tasks; its state is compared with the one before the run). With
    ETCD_OPS_FAULTS=every, every task is its own point."""
    points: dict[int, int] = {}
    pending: list[int] = []
    for index, task in enumerate(tasks[:-1]):
        pending.append(task.number)
        following = tasks[index + 1]
        if EVERY or following.changed_on or task.changed_on or index == len(tasks) - 2:
            for number in pending:
                points[number] = task.number
            pending = []
    return points


def short(name: str) -> str:
    return name.split(" : ", 1)[-1]


def differs(before: dict[str, str], after: dict[str, str]) -> str:
    """What changed on a node, in words; '' when nothing did."""
    words = []
    for key in ("etcd", "data", "mark", "done", "staging", "aside", "copy", "env"):
        old, new = before.get(key, ""), after.get(key, "")
        if old == new:
            continue
        if key == "aside":
            words.append(f"{int(new) - int(old):+d} data dir moved aside")
        elif key == "env":
            words.append("env file rewritten")
        elif key == "copy":
            words.append(f"snapshot copy: {new.strip()}" if new.strip() else "snapshot copy removed")
        elif key == "mark":
            words.append("restore mark written" if not old else "restore mark retired" if not new
                         else "another restore mark")
        else:
            words.append(new or f"{old.split(',')[0]} gone")
    return ", ".join(words)


def left_by(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> str:
    """What a killed run left, node by node, compared with the state before it: 'nothing' when equal."""
    parts = [f"{n}: {differs(before[n], after[n])}" for n in sorted(after) if before[n] != after[n]]
    return "; ".join(parts) if parts else "nothing (every node as before)"


def rerun_note(proc) -> str:
    out = lab.flat(proc.stdout)
    notes = []
    if "(an interrupted run resumed)" in out:
        notes.append("resumed")
    if "already rebuilt from" in out:
        notes.append("found the recovery done and verified, changed nothing")
    if "Nothing to do; etcd_replace_force=true" in out:
        notes.append("found the member healthy, changed nothing")
    if "(already added)" in out:
        notes.append("found the member added, started and promoted it")
    m = re.search(r"in (\d+\.\d)s", out)
    if m:
        notes.append(f"run {m.group(1)} s")
    return ", ".join(notes)
