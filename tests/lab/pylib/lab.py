"""Helpers for scenario tests that act as a user: run a playbook from the repository root with the
lab inventory (or a changed copy of it), over SSH+sudo, and look at the nodes as root."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import testinfra
import yaml

TOP = Path(__file__).resolve().parents[3]
# Which lab: the test command runs two at once (tests/run.sh). ETCD_LAB_NET is the third number of its network
# (172.29.NET.0/24), ETCD_LAB_PREFIX names its containers (PREFIX-node1) and network, and ETCD_LAB_ROOT is the
# directory whose tests/lab/inventory.yml and inventory5.yml name its addresses. Unset: the lab of
# tests/lab/inventory.yml (172.29.90.0/24, etcd-ops-lab-node1...), the one the README's demo makes.
NET = os.environ.get("ETCD_LAB_NET") or "90"
PREFIX = os.environ.get("ETCD_LAB_PREFIX") or "etcd-ops-lab"
LAB_DIR = Path(os.environ.get("ETCD_LAB_ROOT") or TOP) / "tests" / "lab"
INVENTORY = LAB_DIR / "inventory.yml"
INVENTORY5 = LAB_DIR / "inventory5.yml"


def address(host: int) -> str:
    """The address HOST (its last number) on this lab's network: node1 is address(11), node5 address(15)."""
    return f"172.29.{NET}.{host}"


def container(name: str) -> str:
    """The container of lab node NAME (docker's name for it)."""
    return f"{PREFIX}-{name}"


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
             interrupt_at: str = "", fault: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run playbooks/NAME.yml as the README says, from the repository root.

    With `interrupt_at`, the run is killed (SIGKILL, as a lost controller) when a task whose name contains it
    starts, before that task runs anywhere. `fault` sets the other ETCD_OPS_* variables of
    tests/lab/callback_plugins/interrupt.py (a task log, a task number, a container to kill).
    """
    env = user_env()
    fault = dict(fault or {})
    if interrupt_at:
        fault["ETCD_OPS_INTERRUPT_AT"] = interrupt_at
    if fault:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(TOP / "tests" / "lab" / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="interrupt", **fault)
    started = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inv), f"playbooks/{name}.yml", *args],
        cwd=TOP, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    proc.seconds = time.monotonic() - started  # the wall time, for the reliability table
    _log_run(name, proc)
    return proc


def _log_run(name: str, proc: subprocess.CompletedProcess) -> None:
    """One line per playbook run of a scenario run of the test command (ETCD_LAB_STEP, set by tests/run.sh) in
    tests/output/playbooks.tsv: the step, the test, the playbook, its seconds and exit code (tests/timings.py sums
    them per step)."""
    step = os.environ.get("ETCD_LAB_STEP")
    if not step:
        return
    test = _current_test()
    path = TOP / "tests" / "output" / "playbooks.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{step}\t{test}\t{name}\t{proc.seconds:.1f}\t{proc.returncode}\n")


def flat(text: str) -> str:
    """Output with all whitespace runs made one space (messages wrap in the YAML callback), and a quote the YAML
    callback doubles in a single-quoted message (ansible-core before 2.19 quotes more of them) made one again."""
    return " ".join(text.split()).replace("''", "'")


def _in_controller_container() -> bool:
    """Whether the playbooks run in the controller container: ETCD_LAB_CORE is a core that tests/cores/where.txt
    places there (2.20, 2.21; tests/lab/bin/core runs its tools there)."""
    core = os.environ.get("ETCD_LAB_CORE", "")
    where = (TOP / "tests" / "cores" / "where.txt").read_text().splitlines()
    return bool(core) and [core, "container"] in [line.split() for line in where if not line.startswith("#")]


def _controller_namespace() -> list[str]:
    """The command prefix that runs a command in the controller container's mount namespace (as root)."""
    pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}",
                          os.environ.get("ETCD_LAB_CONTROLLER", "etcd-ops-lab-controller")],
                         capture_output=True, text=True, check=True).stdout.strip()
    return ["nsenter", "--target", pid, "--mount"]


def controller_listing(path: Path) -> list[str]:
    """The names in the directory `path` as the playbooks' controller sees it (the host, or the controller
    container's mounts)."""
    prefix = _controller_namespace() if _in_controller_container() else []
    return sorted(subprocess.run([*prefix, "ls", "-A", str(path)], capture_output=True, text=True,
                                 check=True).stdout.split())


@contextlib.contextmanager
def controller_tmpfs(path: Path, size: str):
    """A tmpfs of `size` mounted at `path` on the controller (root only), for as long as the block runs. When the
    playbooks run in the controller container (ETCD_LAB_CORE 2.20 or 2.21: tests/lab/bin/core), it is mounted in
    its mount namespace too: the container does not see a mount the host makes after it started."""
    where = [[]]
    if _in_controller_container():
        where.append(_controller_namespace())
    mounted = []
    try:
        for prefix in where:
            subprocess.run([*prefix, "mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
            mounted.append(prefix)
        yield path
    finally:
        for prefix in reversed(mounted):
            subprocess.run([*prefix, "umount", str(path)], check=False)


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    result = {}
    for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
        result[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return result


@functools.cache
def _hostvars(inv: str) -> dict:
    """Every host's variables in an inventory, as Ansible reads them (read once per inventory)."""
    out = subprocess.run(["ansible-inventory", "--list", "-i", inv], capture_output=True, text=True, check=True,
                         env=user_env()).stdout
    return json.loads(out)["_meta"]["hostvars"]


# One SSH connection per node, kept open between commands (testinfra's ansible:// backend opens a new one for
# every command: 0.3 s each). A dead master (a killed container) is given up within 3 s.
CONTROL_DIR = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp") / f"etcd-ops-lab-ssh-{os.getpid()}"
atexit.register(shutil.rmtree, CONTROL_DIR, ignore_errors=True)  # the masters exit by themselves when idle


def node(name: str, inv: Path = INVENTORY):
    """A testinfra host for a lab node, over SSH as the inventory's user, commands run with sudo (address,
    user and key from `inv`)."""
    hostvars = _hostvars(str(inv))[name]
    CONTROL_DIR.mkdir(mode=0o700, exist_ok=True)
    # one socket per user@host:port (%C); testinfra doubles every % of these arguments itself
    extra = " ".join([hostvars.get("ansible_ssh_common_args", ""), "-o ControlMaster=auto -o ControlPersist=60s",
                      f"-o ControlPath={CONTROL_DIR}/%C -o ServerAliveInterval=1 -o ServerAliveCountMax=3"])
    return testinfra.get_host(
        f"ssh://{hostvars['ansible_user']}@{hostvars.get('ansible_host', name)}", sudo=True, ssh_extra_args=extra,
        ssh_identity_file=os.path.expanduser(hostvars["ansible_ssh_private_key_file"]))


def ansible_node(name: str, inv: Path = INVENTORY):
    """A testinfra host whose `.ansible(MODULE, ARGS)` runs an Ansible module on a lab node (slower than `node`:
    a new connection for every call)."""
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inv}", sudo=True)


def etcd(name: str, action: str) -> None:
    """systemctl ACTION etcd.service on a lab node."""
    node(name).run(f"systemctl {action} etcd.service")


def wait_healthy(hosts=None, attempts: int = 60, etcdctl: str = "etcdctl") -> None:
    """Wait until `etcdctl endpoint health` passes on every host (testinfra hosts; default the three nodes);
    `etcdctl` is the command with its settings (a TLS cluster's, say)."""
    hosts = hosts if hosts is not None else [node(n) for n in NODES]
    for _attempt in range(attempts):
        if all(host.run(f"{etcdctl} endpoint health").rc == 0 for host in hosts):
            return
        time.sleep(1)
    raise AssertionError("etcd did not become healthy")


def wait_no_leader(hosts, attempts: int = 60, etcdctl: str = "etcdctl") -> None:
    """After a majority stopped, wait until no survivor (testinfra hosts) names a leader any more: etcd keeps
    naming one for an election timeout, and disaster_recovery.yml refuses a cluster whose member names one."""
    def leader(host):
        out = host.run(f"{etcdctl} endpoint status -w json")
        try:
            return 0 if out.rc else int(json.loads(out.stdout)[0]["Status"].get("leader", 0))  # 0: omitted
        except (ValueError, LookupError, TypeError):
            return 0
    for _attempt in range(attempts):
        if not any(leader(host) for host in hosts):
            return
        time.sleep(0.5)
    raise AssertionError("a survivor still names a leader")


def remove_member(name: str, inv: Path, via: str = "node1") -> None:
    """Member NAME out of the cluster (asked through `via`), where it is still listed, and its etcd stopped and
    disabled for good. etcd refuses a removal ("unhealthy cluster") until every member has been connected a few
    seconds: a cluster rebuilt just before may be younger than that, so the removal is tried for 30 s."""
    listed = json.loads(node(via, inv).check_output("etcdctl member list -w json"))["members"]
    for member in (m for m in listed if m.get("name") == name):
        node(via, inv).check_output(f"for i in $(seq 30); do etcdctl member remove {member['ID']:x} && exit 0; "
                                    "sleep 1; done; exit 1")
    node(name, inv).check_output("systemctl disable --now etcd.service")


FINGERPRINT = {
    # the files of a running member change by themselves: its data dir counts, not what is inside (nor what is inside
    # a WAL dir: /data/etcd.wal, /data/etcd-wal/wal, and those moved aside)
    "data": "find /data -path '/data/etcd.data/*' -prune -o -path '/data/*wal/*' -prune -o "
            "-printf '%p %y %m %u %s %T@\\n' 2>/dev/null | sort",
    "packages": "dpkg-query -W -f='${Package} ${Status}\\n' etcd-server etcd-client 2>/dev/null",
    "processes": "pgrep -a -x etcd || true",
    "units": "find /etc/systemd/system -name 'etcd*' -printf '%p -> %l\\n' | sort",
    "policy-rc.d": "ls -l /usr/sbin/policy-rc.d 2>/dev/null || true",
    "listening": "ss -Htln | awk '{print $4}' | sort",
}


def fingerprint(name: str, inv: Path = INVENTORY) -> dict[str, str]:
    """What a deploy could change on a node; equal before and after means nothing changed. One command on
    the node: each part's output follows a line that names it."""
    script = "; ".join(f"echo '@@fingerprint {key}'; {{ {cmd}; }}" for key, cmd in FINGERPRINT.items())
    out = node(name, inv).run(script).stdout
    parts = re.split(r"^@@fingerprint (\S+)$\n?", out, flags=re.M)[1:]
    found = dict(zip(parts[::2], parts[1::2], strict=True))
    assert list(found) == list(FINGERPRINT), out[-2000:]
    return found


# -- the reliability table (docs/reliability.md, written by tests/fault/report.py) --------------------------------
ROWS = TOP / "tests" / "output" / "reliability"


def failure_message(output: str) -> str:
    """The message of the last failed task in a playbook's output (YAML callback; the refusal that ended the
    play, not an unreachable host or a failure it went on from), as one line."""
    lines = output.splitlines()
    failed = [i for i, line in enumerate(lines) if "FAILED! =>" in line]
    starts = failed[-1:] or [i for i, line in enumerate(lines) if "UNREACHABLE! =>" in line][-1:]
    for index in starts:
        line = lines[index]
        for pos in range(index + 1, min(index + 80, len(lines))):
            stripped = lines[pos].strip()
            if not stripped.startswith("msg:"):
                continue
            value = stripped[len("msg:"):].strip()
            indent = len(lines[pos]) - len(lines[pos].lstrip())
            block = [] if value in ("|-", "|", ">-", ">") else [value]
            for text in lines[pos + 1:]:  # a block scalar, or a plain or quoted one folded over several lines
                if text.strip() and len(text) - len(text.lstrip()) <= indent:
                    break
                block.append(text)
            message = flat("\n".join(block))
            if message[:1] in ("'", '"') and message[-1:] == message[:1]:
                message = message[1:-1].replace("''", "'")
            return message
        return flat(line)
    return ""


def record(kind: str, playbook: str, case: str, outcome: str, detail: str = "", seconds: float = 0.0,
           **extra) -> None:
    """Add one row to the reliability table of this suite (tests/output/reliability/SUITE.jsonl)."""
    suite = os.environ.get("ETCD_LAB_SUITE", "bookworm")
    ROWS.mkdir(parents=True, exist_ok=True)
    row = {"suite": suite, "kind": kind, "playbook": playbook, "case": case, "outcome": outcome,
           "detail": detail, "seconds": round(seconds, 1), **extra}
    with open(ROWS / f"{suite}.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")


def record_edge(edge: int, playbook: str, case: str, outcome: str, proc: subprocess.CompletedProcess | None = None,
                detail: str = "", issue: int = 21) -> None:
    """One of the edges of issue #21 (data loss) or #24 (a real estate's edges), tried on the lab: what the
    operation does now (a refusal's message is taken from the run unless `detail` says what happened)."""
    message = detail or (failure_message(proc.stdout) if proc is not None else "")
    kind = "edge" if issue == 21 else f"edge-{issue}"
    record(kind, playbook, case, outcome, message, getattr(proc, "seconds", 0.0), edge=edge)


LINK = "/var/tmp/etcd-ops-link"


def another_users_work_dirs(name: str, work: str) -> tuple[str, list[str]]:
    """Issue #24, edge 6. On node `name`, the user mallory makes `work` (a dir) and LINK (a link to /root) first,
    as any user of a member could under /var/tmp. Returns (mallory's uid, [work, LINK]); remove them with
    remove_paths."""
    host = node(name)
    host.check_output(f"id mallory >/dev/null 2>&1 || useradd mallory; rm -rf {work} {LINK}; "
                      f"runuser -u mallory -- mkdir -m 0777 {work}; runuser -u mallory -- ln -s /root {LINK}")
    return host.check_output("id -u mallory").strip(), [work, LINK]


def remove_paths(name: str, paths: list[str]) -> None:
    node(name).check_output("rm -rf " + " ".join(paths))


def report_of(path: Path, proc: subprocess.CompletedProcess, playbook: str, case: str, status: str,
              message: str = "", changes: list[str] | None = None) -> dict:
    """Issue #24, edge 5: the report a run wrote on its outcome (etcd_report_file) holds the status, the message
    that stopped it and what had changed by then; one row of the reliability table."""
    data = json.loads(Path(path).read_text())
    assert data["status"] == status, data
    assert message in data["message"], (message, data["message"])
    if changes is not None:
        assert data["changes"] == changes, data["changes"]
    record_edge(5, playbook, case, f"report written: status {status}, {len(data['changes'])} change(s)", proc,
                detail=f"rc {proc.returncode}; status {data['status']}; message: {data['message'][:160] or '-'}; "
                f"changes: {'; '.join(data['changes']) or 'none'}", issue=24)
    return data


def _current_test() -> str:
    """The running test's name as pytest gives it (PYTEST_CURRENT_TEST without its file and its phase)."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].rsplit(" (", 1)[0]


def current_case() -> str:
    """The running test's name in words: test_a_damaged_snapshot_is_refused[corrupted] becomes
    'a damaged snapshot (corrupted)'."""
    test = _current_test()
    name, param = (test.split("[", 1) + [""])[:2]
    name = re.sub(r"_(is|are)_refused.*$|_refused.*$", "", name.removeprefix("test_")).replace("_", " ")
    return f"{name} ({param.rstrip(']')})" if param else name


def record_refusal(playbook: str, proc: subprocess.CompletedProcess, case: str = "", nodes: int = 3) -> None:
    """A bad input that was refused with every node compared unchanged: one row of the matrix (the case is the
    running test's name unless given)."""
    record("bad-input", playbook, case or current_case(),
           f"refused (rc {proc.returncode}); {nodes} of {nodes} nodes unchanged",
           failure_message(proc.stdout), getattr(proc, "seconds", 0.0))


SUITE = os.environ.get("ETCD_LAB_SUITE") or "bookworm"
# Set by `tests/run.sh full` (make test-full): every test runs on every suite, the `once` ones too.
EVERY_SUITE = os.environ.get("ETCD_LAB_EVERY_SUITE") == "1"


def once(suite: str):
    """Mark a test that takes no path etcd 3.4 and 3.5 (or ansible-core 2.16 and 2.21) take differently: a refusal
    decided on the controller, a second run, the timer, the bucket, the kube-apiservers. The test command runs it on
    SUITE only, to keep within its time; `make test-full` (ETCD_LAB_EVERY_SUITE=1) runs it on every suite.
    What each version does differently (restore, drill, KV hash, WAL dir, the tools a member needs) stays on both."""
    return pytest.mark.skipif(not EVERY_SUITE and SUITE != suite,
                              reason=f"runs on {suite} only in the test command (make test-full: on every suite)")


def full_only(why: str):
    """Mark a test the test command leaves out because another test of the same scenario proves what it proves
    (`why` names it); `make test-full` (ETCD_LAB_EVERY_SUITE=1) runs it."""
    return pytest.mark.skipif(not EVERY_SUITE, reason=f"make test-full only: {why}")


def new_machine(name: str, host: int) -> str:
    """A new, empty machine on the lab network at address(host): a container of the lab image (no etcd installed,
    nothing set up) named PREFIX-NAME, started as the scenarios' nodes are, and reachable over SSH when this
    returns. Remove it with remove_machine (tests/lab/setup.sh also removes stale lab containers)."""
    key = os.path.expanduser("~/.cache/etcd-ops-lab/id_ed25519.pub")
    subprocess.run(["docker", "rm", "-f", container(name)], capture_output=True, check=False)
    subprocess.run(
        ["docker", "run", "-d", "--name", container(name), "--hostname", name, "--cap-add", "SYS_ADMIN",
         "--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
         "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
         "-v", f"{key}:/home/ops/.ssh/authorized_keys:ro",
         "--tmpfs", "/run", "--tmpfs", "/run/lock", "-e", "container=docker", "--network", PREFIX,
         "--ip", address(host), f"etcd-ops-lab:{SUITE}", "/lib/systemd/systemd"],
        capture_output=True, text=True, check=True)
    for _attempt in range(120):
        ready = subprocess.run(["docker", "exec", container(name), "systemctl", "is-active", "ssh"],
                               capture_output=True, text=True, check=False)
        if ready.stdout.strip() == "active":
            return address(host)
        time.sleep(0.5)
    raise AssertionError(f"{container(name)}: sshd did not start")


def remove_machine(name: str) -> None:
    """Remove a machine new_machine made (its container), if it is there."""
    subprocess.run(["docker", "rm", "-f", container(name)], capture_output=True, check=False)


def running(name: str) -> bool:
    """Whether the container of lab node NAME runs (a test may have stopped it: its machine is gone)."""
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", container(name)],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() == "true"
