"""Helpers for scenario tests that act as a user: run a playbook from the repository root with the
lab inventory (or a changed copy of it), over SSH+sudo, and look at the nodes as root."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import testinfra
import yaml

TOP = Path(__file__).resolve().parents[3]
INVENTORY = TOP / "tests" / "lab" / "inventory.yml"
NODES = ("node1", "node2", "node3")


def user_env() -> dict[str, str]:
    """The environment a user has: none of molecule's ANSIBLE_*/MOLECULE_* settings, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_", "PYTEST_"))}
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def inventory(tmp_path: Path, change=None) -> Path:
    """A copy of the lab inventory, changed by `change(data)` (data is the parsed YAML)."""
    data = yaml.safe_load(INVENTORY.read_text())
    if change:
        change(data)
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def hostvars(data: dict, name: str) -> dict:
    """The mutable vars of one host of group etcd in parsed inventory data."""
    return data["all"]["children"]["etcd"]["hosts"][name]


def playbook(name: str, inv: Path = INVENTORY, *args: str, timeout: int = 900,
             interrupt_at: str = "") -> subprocess.CompletedProcess:
    """Run playbooks/NAME.yml as the README says, from the repository root.

    With `interrupt_at`, the run is killed (SIGKILL, as a lost controller) when a task whose name contains it
    starts, before that task runs anywhere (tests/lab/callback_plugins/interrupt.py).
    """
    env = user_env()
    if interrupt_at:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(TOP / "tests" / "lab" / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="interrupt", ETCD_OPS_INTERRUPT_AT=interrupt_at)
    return subprocess.run(
        ["ansible-playbook", "-i", str(inv), f"playbooks/{name}.yml", *args],
        cwd=TOP, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def flat(text: str) -> str:
    """Output with all whitespace runs made one space (messages wrap in the YAML callback)."""
    return " ".join(text.split())


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    result = {}
    for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
        result[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return result


def node(name: str, inv: Path = INVENTORY):
    """A testinfra host for a lab node, over SSH as ops, commands run with sudo (address from `inv`)."""
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inv}", sudo=True)


def etcd(name: str, action: str) -> None:
    """systemctl ACTION etcd.service on a lab node."""
    node(name).run(f"systemctl {action} etcd.service")


def wait_healthy(hosts=None, attempts: int = 60) -> None:
    """Wait until `etcdctl endpoint health` passes on every host (testinfra hosts; default the three nodes)."""
    hosts = hosts if hosts is not None else [node(n) for n in NODES]
    for _attempt in range(attempts):
        if all(host.run("etcdctl endpoint health").rc == 0 for host in hosts):
            return
        time.sleep(1)
    raise AssertionError("etcd did not become healthy")


FINGERPRINT = {
    # the files of a running member change by themselves: its data dir counts, not what is inside
    "data": "find /data -path '/data/etcd.data/*' -prune -o -printf '%p %y %m %u %s %T@\\n' 2>/dev/null | sort",
    "packages": "dpkg-query -W -f='${Package} ${Status}\\n' etcd-server etcd-client 2>/dev/null",
    "processes": "pgrep -a -x etcd || true",
    "units": "find /etc/systemd/system -name 'etcd*' -printf '%p -> %l\\n' | sort",
    "policy-rc.d": "ls -l /usr/sbin/policy-rc.d 2>/dev/null || true",
    "listening": "ss -Htln | awk '{print $4}' | sort",
}


def fingerprint(name: str) -> dict[str, str]:
    """What a deploy could change on a node; equal before and after means nothing changed."""
    host = node(name)
    return {key: host.run(cmd).stdout for key, cmd in FINGERPRINT.items()}
