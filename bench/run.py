"""The benchmark of issue #9: the collection's playbooks against the runbook's bare commands, on the lab.

For each member count (3: molecule scenario disaster_recovery, 5: disaster_recovery_5) it brings up the lab as
the scenarios do (molecule destroy, create, prepare: real etcd members under systemd, deployed by deploy.yml),
and for each database size it fills etcd with random values, then times, each from the same starting state:

  backup     backup.yml                     against bare/backup.sh            (the runbook's section 1)
  recovery   disaster_recovery.yml          against bare/disaster_recovery.sh (section 3), after a majority of
                                            members was stopped and its data dirs wiped
  replace    replace_member.yml -e node=... against bare/replace_member.sh    (section 2), after that node was
                                            stopped and its data dir wiped

Each playbook runs as a user runs it (tests/lab/pylib/lab.py's playbook(): `ansible-playbook -i INVENTORY
playbooks/NAME.yml` from the repository root, the user's environment), with the profile_tasks callback on; each
bare script SSHes to the nodes as the inventory's user with its key. Both start without a shared SSH connection.
It prints a table (wall seconds, ratio, peak memory of the controller's ansible-playbook process tree and of the
Ansible module processes on the first node) and the issue's targets as PASS/FAIL lines, writes the same with
the 10 slowest tasks of every playbook to --out, and destroys the lab at the end, also after an error.

usage: .venv/bin/python bench/run.py [--members 3,5] [--sizes 50,500,1000] [--ops backup,recovery,replace]
                                     [--suite trixie] [--repeat N] [--out FILE]
or `make bench ARGS="..."`, which sets up the machine first (docs/performance.md).
"""

from __future__ import annotations

import argparse
import configparser
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab" / "pylib"))
import lab as lablib  # the scenarios' helpers: a user's environment, the message of a failed task

TOP = lablib.TOP  # the repository root
BENCH = TOP / "bench"
VENV_BIN = TOP / ".venv" / "bin"
MOLECULE = TOP / "extensions" / "molecule"
# member count -> the molecule scenario that makes that lab, and its inventory
SCENARIOS = {3: ("disaster_recovery", TOP / "tests" / "lab" / "inventory.yml"),
             5: ("disaster_recovery_5", TOP / "tests" / "lab" / "inventory5.yml")}
# --ops name -> the playbook and the bare script it is timed against
OPS = {"backup": "backup", "recovery": "disaster_recovery", "replace": "replace_member", "drill": "verify_backup"}
ENV_FILE = "/data/etcd.env"  # the runbook's env file, where deploy.yml writes it in the lab
NODE_SNAPSHOT = "/var/tmp/snapshot.db"  # where bare/disaster_recovery.sh copies the snapshot on each node
REPLACE_NODE = "node3"  # the member the replace runs replace (-e node=node3)
MiB = 2**20
GiB = 2**30
DEFAULT_QUOTA = 2 * GiB  # etcd's default ETCD_QUOTA_BACKEND_BYTES
MAX_QUOTA = 8 * GiB  # etcd's suggested maximum
RUN_TIMEOUT = 3600  # seconds for one playbook or bare run


def role_default(role: str, name: str) -> str:
    return yaml.safe_load((TOP / "roles" / role / "defaults" / "main.yml").read_text())[name]


# where the playbooks keep their snapshot copies on the nodes (removed by a run that succeeds; a copy a failed run
# left would spare the next run its copy, so the benchmark removes them between runs)
NODE_COPY_DIRS = (role_default("backup", "etcd_backup_node_dir"),
                  role_default("disaster_recovery", "etcd_recovery_node_dir"))


class LabError(Exception):
    """The lab could not be brought up, changed or read: the rows that need it cannot be measured."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# -- memory: the controller's process tree (/proc) and the module processes on a node (ps) ---------------------
def proc_memory(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB: smaps_rollup where the kernel has it, else VmRSS for both."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        values = dict(re.findall(r"^(Pss|Rss):\s+(\d+) kB", text, re.M))
        return int(values.get("Pss", 0)), int(values.get("Rss", 0))
    except (OSError, ValueError):
        pass
    try:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
        return (int(match[1]),) * 2 if match else (0, 0)
    except OSError:
        return 0, 0


def tree_memory(root: int) -> tuple[int, int]:
    """(PSS, RSS) in KiB summed over a process and all its descendants (workers, ssh, local modules).

    PSS counts a page shared by the forked workers once, divided among them: its sum is what the tree really
    occupies. RSS counts shared pages in every process that maps them, so its sum overstates; both are kept."""
    children = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # the command name (field 2) may hold spaces and parentheses: the ppid is the 2nd field after the last ')'
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    pss = rss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        one_pss, one_rss = proc_memory(pid)
        pss, rss = pss + one_pss, rss + one_rss
    return pss, rss


class TreeSampler(threading.Thread):
    """Samples tree_memory(pid) every 0.2 s until stopped; keeps the peaks (KiB)."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while True:
            pss, rss = tree_memory(self.pid)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            if self.halt.wait(self.interval):
                return

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


# One long-running loop on the node: `ps` every 0.5 s until its stdin closes, or the stop file ($2) appears, or
# a deadline ($1 seconds) passes, should the controller vanish (a killed `docker exec` client does not end the
# process in the container).
NODE_SAMPLER = """
end=$(( $(date +%s) + $1 ))
while [ "$(date +%s)" -lt "$end" ] && [ ! -e "$2" ]; do
  ps -eo rss=,args=
  read -r -t 0.5 _
  [ $? -gt 128 ] || break
done
rm -f "$2"
"""


def is_module_process(args: str) -> bool:
    """An Ansible module on a node: Python running an AnsiballZ file, or, with pipelining (ansible.cfg turns it
    on), a bare interpreter reading the module from stdin (AnsiballZ runs the module in that same process)."""
    words = args.split()
    if not words or not re.fullmatch(r"python[0-9.]*", os.path.basename(words[0])):
        return False
    return len(words) == 1 or "AnsiballZ" in args


class NodeSampler:
    """The peak RSS (KiB) of a single Ansible module process on one node, sampled every 0.5 s."""

    def __init__(self, container: str, max_seconds: int):
        self.peak = 0
        self.container = container
        self.stop_file = f"/tmp/etcd-bench-sampler-{uuid.uuid4().hex[:8]}"
        self.proc = subprocess.Popen(
            ["docker", "exec", "-i", container, "bash", "-c", NODE_SAMPLER, "sampler", str(max_seconds),
             self.stop_file],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            rss, _sep, args = line.strip().partition(" ")
            if rss.isdigit() and is_module_process(args.strip()):
                self.peak = max(self.peak, int(rss))

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # the loop's `read` sees the end of its input and stops
            self.proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            # the end of input did not reach it: the stop file ends it at its next sample
            subprocess.run(["docker", "exec", self.container, "touch", self.stop_file], capture_output=True,
                           timeout=30, check=False)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # our docker client; the loop on the node ends at its deadline
                self.proc.wait()
        self.reader.join(timeout=5)


# -- results ------------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One timed run of a playbook or a bare script."""

    kind: str  # playbook | bare
    seconds: float | None  # None: the run failed (or could not start)
    rc: int
    error: str = ""
    controller_pss_mb: float | None = None
    controller_rss_mb: float | None = None
    node_module_mb: float | None = None
    tasks: list[tuple[str, float]] = field(default_factory=list)
    log: str = ""


@dataclass
class Row:
    """One operation at one size on one member count, with its repeated runs."""

    members: int
    size: int  # the size asked for, MB (MiB)
    db_mb: float  # the database size measured after the fill
    op: str  # backup | recovery | replace | drill
    playbook: list[Run] = field(default_factory=list)
    bare: list[Run] = field(default_factory=list)
    # drill: each playbook run's restore and serve seconds, as the drill measured them on the member
    drill: list[tuple[float | None, float | None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return OPS[self.op]

    @staticmethod
    def _median(runs: list[Run]) -> float | None:
        if not runs or any(r.seconds is None for r in runs):
            return None
        return statistics.median(r.seconds for r in runs)

    @property
    def playbook_s(self) -> float | None:
        return self._median(self.playbook)

    @property
    def bare_s(self) -> float | None:
        return self._median(self.bare)

    @property
    def ratio(self) -> float | None:
        if self.playbook_s is None or not self.bare_s:
            return None
        return self.playbook_s / self.bare_s

    def peak(self, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.playbook if getattr(r, attr) is not None]
        return max(values) if values else None

    def median_run(self) -> Run | None:
        """The playbook run whose time is the median (the lower middle one of an even count)."""
        done = sorted((r for r in self.playbook if r.seconds is not None), key=lambda r: r.seconds)
        return done[(len(done) - 1) // 2] if done else None


# -- the lab ------------------------------------------------------------------------------------------------------
@dataclass
class Member:
    name: str  # inventory host
    address: str  # ansible_host
    container: str  # the molecule platform whose hostname is this host


class Lab:
    """The lab of one member count: molecule's scenario to make and remove it, docker exec to look at the nodes
    (as root) and to set the stage for each run; never used for what is timed."""

    def __init__(self, members: int, suite: str, logdir: Path):
        self.scenario, self.inventory = SCENARIOS[members]
        self.suite, self.logdir = suite, logdir
        inv = yaml.safe_load(self.inventory.read_text())
        self.vars = inv["all"]["vars"]
        hosts = inv["all"]["children"]["etcd"]["hosts"]
        containers = self._containers()
        self.members = [Member(name, hv["ansible_host"], containers[name]) for name, hv in hosts.items()]
        self.env: dict[str, dict[str, str]] = {}

    def _containers(self) -> dict[str, str]:
        """Host name -> container name, from the scenario's platforms (else the shared config.yml's)."""
        scenario = yaml.safe_load((MOLECULE / self.scenario / "molecule.yml").read_text())
        platforms = scenario.get("platforms") or yaml.safe_load((MOLECULE / "config.yml").read_text())["platforms"]
        # the names are templates of the lab's variables (${ETCD_LAB_PREFIX:-etcd-ops-lab}-node1): lab.py expands them
        return {p["hostname"]: lablib.container(p["hostname"]) for p in platforms}

    # molecule, as tests/run.sh calls it: from the repository root, the venv's bin on PATH (molecule calls
    # ansible-config), ETCD_LAB_SUITE choosing the image
    def molecule(self, *args: str) -> None:
        env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   ETCD_LAB_SUITE=self.suite)
        out = self.logdir / f"molecule-{self.scenario}.log"
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(f"\n$ molecule {' '.join(args)} -s {self.scenario}\n")
            handle.flush()
            proc = subprocess.run(["molecule", *args, "-s", self.scenario], cwd=TOP, env=env, stdout=handle,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False, timeout=1800)
        if proc.returncode:
            raise LabError(f"molecule {args[0]} -s {self.scenario} failed (rc {proc.returncode}); "
                           f"last lines of {out}:\n{tail(out.read_text())}")

    def up(self) -> None:
        log(f"{len(self.members)} members: bringing up the lab (molecule destroy, create, prepare -s {self.scenario}, "
            f"suite {self.suite})")
        self.molecule("destroy")
        self.molecule("create")
        for member in self.members:
            # the lab image's cache of the code compiled from modules' payloads off: a user's host has none
            self.sh(member, "rm -rf /var/cache/etcd-ops-lab-pyc")
        self.molecule("prepare", "--force")  # the scenario's prepare: wait for the nodes, deploy.yml
        self.wait_healthy()

    def down(self) -> None:
        log(f"{len(self.members)} members: removing the lab (molecule destroy -s {self.scenario})")
        try:
            self.molecule("destroy")
        except (LabError, subprocess.SubprocessError, OSError) as exc:
            log(f"could not remove the lab: {exc}")

    def sh(self, member: Member, script: str, *, check: bool = True, timeout: int = 600,
           stdin_text: str | None = None, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """A bash script on a node, as root (docker exec); ARGS become $1, $2..."""
        try:
            proc = subprocess.run(["docker", "exec", "-i", member.container, "bash", "-c", script, "bench", *args],
                                  input=stdin_text or "", capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"{member.name}: timed out after {timeout}s: {script.strip()[:200]}") from exc
        if check and proc.returncode:
            raise LabError(f"{member.name}: rc {proc.returncode}: {script.strip()[:200]}\n"
                           f"{tail(proc.stderr or proc.stdout)}")
        return proc

    # -- what the nodes say ----------------------------------------------------------------------------------
    def read_layout(self) -> dict[str, dict[str, str]]:
        """Each member's env file as etcd reads it (ETCD_*), and SERVICE_USER: the user its etcd unit runs as."""
        script = (f'set -a; . {ENV_FILE}; set +a; env | grep "^ETCD_"; '
                  'echo "SERVICE_USER=$(systemctl show -p User --value etcd.service)"')
        for member in self.members:
            out = self.sh(member, script).stdout
            self.env[member.name] = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            self.env[member.name]["SERVICE_USER"] = self.env[member.name].get("SERVICE_USER") or "root"
        return self.env

    def endpoints(self) -> str:
        """Every member's (first) advertised client URL, comma-separated."""
        env = self.env or self.read_layout()
        return ",".join(env[m.name]["ETCD_ADVERTISE_CLIENT_URLS"].split(",")[0] for m in self.members)

    def initial_cluster(self) -> str:
        env = self.read_layout()
        return ",".join(f"{env[m.name]['ETCD_NAME']}={url}" for m in self.members
                        for url in env[m.name]["ETCD_INITIAL_ADVERTISE_PEER_URLS"].split(","))

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def healthy(self) -> bool:
        cmd = f"etcdctl --endpoints={self.endpoints()} --dial-timeout=2s --command-timeout=3s endpoint health"
        return self.sh(self.members[0], cmd, check=False, timeout=60).returncode == 0

    def wait_healthy(self, timeout: int = 180) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if time.monotonic() > deadline:
                raise LabError(f"the cluster is not healthy after {timeout}s")
            time.sleep(1)

    def status(self, member: Member | None = None) -> dict:
        """A member's `endpoint status` on its own client URL on 127.0.0.1 (default the first member)."""
        out = self.sh(member or self.members[0], "etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=3s "
                      "endpoint status -w json", check=False).stdout
        try:
            return json.loads(out)[0]["Status"]
        except (ValueError, LookupError):
            return {}

    def db_size(self) -> int:
        return int(self.status().get("dbSize", 0))

    def etcd_version(self) -> str:
        return self.sh(self.members[0], "etcd --version | head -1", check=False).stdout.strip()

    # -- setting the stage -----------------------------------------------------------------------------------
    def fill(self, target: int) -> dict:
        """Random values until the database has TARGET bytes (bench/fill.py on the first node)."""
        prefix = f"/bench/{uuid.uuid4().hex[:8]}"
        proc = self.sh(self.members[0], 'exec python3 - "$1" "$2"', stdin_text=(BENCH / "fill.py").read_text(),
                       args=(str(target), prefix), timeout=7200)
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError) as exc:
            raise LabError(f"bench/fill.py printed no result: {proc.stdout[-300:]!r} {tail(proc.stderr)}") from exc

    def lose(self, names: list[str]) -> None:
        """Stop etcd on these nodes and remove their data dir: their data is lost for good (as the scenarios do)."""
        for name in names:
            self.sh(self.member(name), f'systemctl stop etcd.service && . {ENV_FILE} && '
                                       f'rm -rf "${{ETCD_DATA_DIR:?not in {ENV_FILE}}}"')

    def wait_no_leader(self, survivors: list[Member], timeout: int = 60) -> None:
        """After a majority is lost, wait until no survivor names a leader any more (a leader without quorum steps
        down within an election timeout): disaster_recovery.yml refuses a cluster whose member still reports one."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = [self.status(member) for member in survivors]
            if all(not st or not st.get("leader") or st.get("errors") for st in statuses):
                return
            if time.monotonic() > deadline:
                raise LabError(f"a member still names a leader {timeout}s after the majority was lost")
            time.sleep(0.5)

    def tidy(self) -> None:
        """Remove what the last run left beside the data on every node (old data dirs moved aside, staging dirs,
        snapshot copies), so the disk does not fill up over the sizes and every run starts alike."""
        copies = " ".join(shlex.quote(f"{path}/") + "*" for path in NODE_COPY_DIRS)
        home = f"~{self.vars['ansible_user']}"
        for member in self.members:
            self.sh(member, f'set -e; . {ENV_FILE}; : "${{ETCD_DATA_DIR:?not in {ENV_FILE}}}"; '
                            f'rm -rf -- "$ETCD_DATA_DIR".* {copies} {NODE_SNAPSHOT} {home}/snapshot.db')

    def ensure_quota(self, max_size_mb: int, bench: Bench) -> None:
        """Raise etcd's backend quota (deploy.yml's etcd_extra_env) when the largest size would come near the
        default 2 GiB: the database grows past the data (bbolt pages, freelist), and NOSPACE would end the run."""
        need = int(max_size_mb * MiB * 1.5)
        if need <= DEFAULT_QUOTA:
            return
        quota = min(MAX_QUOTA, -(-need // GiB) * GiB)
        if quota < need:
            log(f"warning: {max_size_mb} MB needs a quota above etcd's suggested maximum; using {quota // GiB} GiB")
        log(f"raising ETCD_QUOTA_BACKEND_BYTES to {quota} with deploy.yml")
        extra = json.dumps({"etcd_extra_env": {"ETCD_QUOTA_BACKEND_BYTES": str(quota)}})
        run = bench.ansible_playbook("deploy", self, ["-e", extra], f"{len(self.members)}-deploy-quota", sample=False)
        if run.seconds is None:
            raise LabError(f"deploy.yml with the quota failed: {run.error}")
        self.wait_healthy()


# -- the benchmark ------------------------------------------------------------------------------------------------
def profile_callback() -> str:
    """ansible.posix.profile_tasks where the collection is installed (the venv's `ansible` bundle has it)."""
    roots = [*(TOP / ".venv" / "lib").glob("python3*/site-packages"), Path.home() / ".ansible" / "collections"]
    for root in roots:
        if (root / "ansible_collections/ansible/posix/plugins/callback/profile_tasks.py").exists():
            return "ansible.posix.profile_tasks"
    return ""


# profile_tasks' recap lines: "<task name> ------- 12.34s"
TASK_LINE = re.compile(r"^(?P<name>.*?)\s+-*\s*(?P<seconds>\d+\.\d\d)s$")


def top_tasks(output: str, limit: int = 10) -> list[tuple[str, float]]:
    """The slowest tasks from profile_tasks' TASKS RECAP at the end of a playbook's output."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("TASKS RECAP")]
    if not starts:
        return []
    tasks = []
    for line in lines[starts[-1] + 1:]:
        match = TASK_LINE.match(line.strip())
        if match:
            tasks.append((match["name"], float(match["seconds"])))
    return sorted(tasks, key=lambda t: t[1], reverse=True)[:limit]


def timed(cmd: list[str], env: dict[str, str], path: Path, on_start=None) -> tuple[int, float]:
    """Run CMD from the repository root, its output into PATH; (rc, wall seconds). ON_START(pid) is called once it
    runs (to sample its memory). It runs in a session of its own, so that a timeout or Ctrl-C kills its whole
    process group (ansible-playbook's workers and ssh, the script's ssh and scp), and only that."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(cmd)}\n")
        out.flush()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=TOP, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            if on_start:
                on_start(proc.pid)
            rc = proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
            out.write(f"\nbench: killed after {RUN_TIMEOUT}s\n")
        except BaseException:  # Ctrl-C: leave nothing running behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        return rc, time.monotonic() - started


def close_masters(control_dir: str) -> None:
    """End the SSH master connections a run left in its control dir (ControlPersist), then remove the dir."""
    for sock in Path(control_dir).glob("*"):
        subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "bench"], capture_output=True,
                       timeout=10, check=False)
    shutil.rmtree(control_dir, ignore_errors=True)


class Bench:
    def __init__(self, args: argparse.Namespace, logdir: Path):
        self.args, self.logdir = args, logdir
        self.callback = profile_callback()
        self.rows: list[Row] = []
        self.problems: list[str] = []  # lab errors: what could not be measured, and why
        self.versions: dict[str, str] = {}
        if not self.callback:
            log("warning: ansible.posix.profile_tasks is not installed (ansible-core has no profile_tasks of its "
                "own since 2.10): no per-task timings")

    def execute(self, kind: str, cmd: list[str], env: dict[str, str], lab: Lab, label: str,
                sample: bool = True) -> Run:
        """One timed run (KIND: playbook | bare), sampling memory on the controller and on the first node.

        The samplers run alongside bare scripts too, though nothing of theirs is reported there: both kinds run
        under the same small extra load."""
        path = self.logdir / f"{label}.log"
        samplers: dict[str, TreeSampler] = {}

        def sample_tree(pid: int) -> None:
            samplers["tree"] = TreeSampler(pid)
            samplers["tree"].start()

        node = NodeSampler(lab.members[0].container, RUN_TIMEOUT + 60) if sample else None
        try:
            rc, seconds = timed(cmd, env, path, on_start=sample_tree if sample else None)
        finally:
            if "tree" in samplers:
                samplers["tree"].stop()
            if node:
                node.stop()
        output = path.read_text(encoding="utf-8", errors="replace")
        run = Run(kind, round(seconds, 2) if rc == 0 else None, rc, log=str(path))
        if "tree" in samplers:
            run.controller_pss_mb = samplers["tree"].peak_pss / 1024
            run.controller_rss_mb = samplers["tree"].peak_rss / 1024
        if node and node.peak:  # none seen (every module came and went between two samples): not measured
            run.node_module_mb = node.peak / 1024
        if kind == "playbook":
            run.tasks = top_tasks(output)
        if rc:
            message = lablib.failure_message(output) if kind == "playbook" else ""
            run.error = f"rc {rc}" + (f": {message}" if message else "") + f"\n{tail(output)}"
        return run

    def ansible_playbook(self, name: str, lab: Lab, extra: list[str], label: str, sample: bool = True) -> Run:
        """playbooks/NAME.yml as lab.playbook() runs it: `ansible-playbook -i INVENTORY playbooks/NAME.yml ...` from
        the repository root, in the user's environment (no ANSIBLE_* settings), with profile_tasks on."""
        env = lablib.user_env()
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        if self.callback:
            env["ANSIBLE_CALLBACKS_ENABLED"] = self.callback
            env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "10"
        # a control dir of its own: the run starts without an SSH master connection, as the bare script does
        # (ansible.cfg's ControlMaster/ControlPersist would otherwise hand it the one of the run before)
        control = tempfile.mkdtemp(prefix="ebp-", dir="/tmp")
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = control
        cmd = ["ansible-playbook", "-i", str(lab.inventory), f"playbooks/{name}.yml", *extra]
        try:
            return self.execute("playbook", cmd, env, lab, label, sample)
        finally:
            close_masters(control)

    def bare_script(self, script: str, lab: Lab, env_extra: dict[str, str], label: str) -> Run:
        """bench/bare/SCRIPT.sh from the controller, reaching the nodes as the inventory says."""
        control = tempfile.mkdtemp(prefix="ebb-", dir="/tmp")
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(TOP / "ansible.cfg")
        ssh_args = " ".join([
            lab.vars.get("ansible_ssh_common_args", ""),  # the inventory's
            cfg.get("ssh_connection", "ssh_args", fallback=""),  # ansible.cfg's connection sharing
            f"-o ControlPath={control}/%C -o BatchMode=yes"])
        env = dict(lablib.user_env(),
                   BARE_USER=lab.vars["ansible_user"],
                   BARE_KEY=os.path.expanduser(lab.vars["ansible_ssh_private_key_file"]),
                   BARE_SSH_ARGS=ssh_args,
                   BARE_HOSTS=" ".join(m.address for m in lab.members),
                   BARE_ENDPOINTS=lab.endpoints(),
                   BARE_ENV_FILE=ENV_FILE,
                   **env_extra)
        try:
            return self.execute("bare", ["bash", str(BENCH / "bare" / f"{script}.sh")], env, lab, label)
        finally:
            close_masters(control)

    # -- one operation: set the stage, run, clean up --------------------------------------------------------------
    def measure(self, lab: Lab, row: Row, kind: str, store: Path, label: str) -> Run:
        """One run of ROW's operation by KIND (playbook | bare), from the state every run of it starts from."""
        lab.wait_healthy()
        lab.tidy()
        if row.op == "backup":
            if kind == "playbook":
                return self.ansible_playbook("backup", lab, ["-e", f"etcd_backup_dir={store}"], label)
            dest = self.logdir / "bare-snapshot.db"
            try:
                return self.bare_script("backup", lab, {"BARE_DEST": str(dest)}, label)
            finally:
                dest.unlink(missing_ok=True)

        if row.op == "drill":
            snapshot = newest_snapshot(store)
            if snapshot is None:
                return Run(kind, None, -1, error=f"no snapshot in {store} (backup.yml failed?)")
            if kind == "playbook":
                run = self.ansible_playbook("verify_backup", lab, ["-e", f"etcd_backup_dir={store}"], label)
                drilled = json.loads(Path(f"{snapshot}.json").read_text()).get("drill") or {}
                row.drill.append((drilled.get("restore_seconds"), drilled.get("serve_seconds")))
                return run
            return self.bare_script("drill", lab, {"BARE_SNAPSHOT": str(snapshot), "BARE_NODE_SNAPSHOT": NODE_SNAPSHOT},
                                    label)

        if row.op == "recovery":
            snapshot = newest_snapshot(store)
            if snapshot is None:
                return Run(kind, None, -1, error=f"no snapshot in {store} (backup.yml failed?)")
            initial_cluster, layout = lab.initial_cluster(), lab.env
            # a majority loses its data for good: the last members, as the scenarios do (node2+3 of 3, node3-5 of 5)
            survivors, lost = lab.members[:len(lab.members) // 2], lab.members[len(lab.members) // 2:]
            lab.lose([m.name for m in lost])
            lab.wait_no_leader(survivors)
            if kind == "playbook":
                return self.ansible_playbook("disaster_recovery", lab, ["-e", f"etcd_backup_dir={store}"], label)
            return self.bare_script("disaster_recovery", lab, {
                "BARE_SNAPSHOT": str(snapshot),
                "BARE_INITIAL_CLUSTER": initial_cluster,
                "BARE_SERVICE_USER": layout[lab.members[0].name]["SERVICE_USER"],
                "BARE_NODE_SNAPSHOT": NODE_SNAPSHOT}, label)

        # replace: the node loses its data, the others keep quorum
        layout = lab.read_layout()
        target = lab.member(REPLACE_NODE)
        helper = next(m for m in lab.members if m.name != REPLACE_NODE)
        lab.lose([REPLACE_NODE])
        if kind == "playbook":
            return self.ansible_playbook("replace_member", lab, ["-e", f"node={REPLACE_NODE}"], label)
        return self.bare_script("replace_member", lab, {
            "BARE_HELPER": helper.address,
            "BARE_TARGET": target.address,
            "BARE_TARGET_NAME": layout[target.name]["ETCD_NAME"],
            "BARE_TARGET_PEER_URL": layout[target.name]["ETCD_INITIAL_ADVERTISE_PEER_URLS"],
            "BARE_SERVICE_USER": layout[target.name]["SERVICE_USER"]}, label)

    def ready(self, lab: Lab, size: int) -> None:
        """After a run: a healthy cluster for the next one, else the lab made again and filled to SIZE."""
        try:
            lab.wait_healthy()
            return
        except LabError:
            pass
        log(f"{len(lab.members)} members: the cluster is not healthy after the last run; making the lab again")
        lab.down()
        lab.up()
        lab.ensure_quota(max(self.args.sizes), self)
        lab.fill(size * MiB)

    def run_members(self, members: int) -> None:
        lab = Lab(members, self.args.suite, self.logdir)
        try:
            lab.up()
            self.versions.setdefault("etcd", lab.etcd_version())
            lab.ensure_quota(max(self.args.sizes), self)
            for size in self.args.sizes:
                self.run_size(lab, size)
        except Exception as exc:  # the lab could not be made or filled: report it, go on with the next member count
            self.problems.append(f"{members} members: stopped: {type(exc).__name__}: {exc}")
            log(f"{members} members: stopped: {exc}")
        finally:
            if self.args.keep_lab:
                log(f"{members} members: the lab is kept (--keep-lab); `make lab-down` or "
                    f"`molecule destroy -s {lab.scenario}` removes it")
            else:
                lab.down()

    def run_size(self, lab: Lab, size: int) -> None:
        members = len(lab.members)
        log(f"{members} members: filling etcd to {size} MB")
        lab.wait_healthy()
        filled = lab.fill(size * MiB)
        db_mb = lab.db_size() / MiB
        log(f"{members} members: {filled['puts']} puts, database {db_mb:.0f} MB")
        store = self.logdir / f"store-{members}-{size}"
        try:
            for op in self.args.ops:
                if op in ("recovery", "drill") and newest_snapshot(store) is None:
                    # the snapshot both recoveries restore: made by backup.yml, untimed when backup is not measured
                    run = self.ansible_playbook("backup", lab, ["-e", f"etcd_backup_dir={store}"],
                                                f"{members}-{size}-snapshot", sample=False)
                    if run.seconds is None:
                        self.problems.append(f"{members} members, {size} MB: no snapshot to recover from: {run.error}")
                row = Row(members, size, round(db_mb, 1), op)
                self.rows.append(row)
                for repeat in range(self.args.repeat):
                    # alternate which goes first, so neither always finds the caches the other warmed
                    kinds = ("playbook", "bare") if repeat % 2 == 0 else ("bare", "playbook")
                    for kind in kinds:
                        label = f"{members}-{size}-{op}-{kind}-{repeat + 1}"
                        log(f"{members} members, {size} MB: {OPS[op]} {kind} (run {repeat + 1} of {self.args.repeat})")
                        try:
                            run = self.measure(lab, row, kind, store, label)
                        except (LabError, LookupError, ValueError, OSError, subprocess.SubprocessError) as exc:
                            # the disaster could not be made, or the nodes not read: this run did not happen
                            run = Run(kind, None, -1, error=f"setting the stage failed: {type(exc).__name__}: {exc}")
                        (row.playbook if kind == "playbook" else row.bare).append(run)
                        log(f"  -> {'FAILED' if run.seconds is None else f'{run.seconds:.1f}s'}")
                        if op == "backup" and kind == "playbook":
                            prune_store(store)
                        self.ready(lab, size)
        finally:
            shutil.rmtree(store, ignore_errors=True)
            try:
                lab.tidy()
            except LabError as exc:  # a broken lab: the error that broke it is the one to report
                log(f"could not tidy the nodes: {exc}")


def newest_snapshot(store: Path) -> Path | None:
    """The newest snapshot backup.yml put in the store (its names sort by UTC time)."""
    found = sorted(store.glob("*.db")) if store.is_dir() else []
    return found[-1] if found else None


def prune_store(store: Path) -> None:
    """Keep only the newest snapshot (and its sidecars): a store of 1 GB snapshots fills a disk fast."""
    newest = newest_snapshot(store)
    for path in store.glob("*.db*") if store.is_dir() else ():
        if newest and not path.name.startswith(newest.name):
            path.unlink(missing_ok=True)


# -- the report ---------------------------------------------------------------------------------------------------
def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    lines = ["| members | size MB | operation | playbook s | bare s | ratio | controller peak MB "
             "| node module peak MB |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        playbook = "FAILED" if row.playbook and row.playbook_s is None else fmt(row.playbook_s)
        bare = "FAILED" if row.bare and row.bare_s is None else fmt(row.bare_s)
        lines.append(f"| {row.members} | {row.db_mb:.0f} | {row.name} | {playbook} | {bare} | {fmt(row.ratio, 2)} | "
                     f"{fmt(row.peak('controller_pss_mb'))} | {fmt(row.peak('node_module_mb'))} |")
    return "\n".join(lines)


def drill_table(rows: list[Row]) -> str:
    """The restore drill's own measure of each snapshot (verify_backup.yml's record): the restore into the scratch
    dir, and the seconds from the scratch etcd's start until it served (median of the playbook runs)."""
    lines = ["Restore drill, as verify_backup.yml measured it on the member (median of its runs):", "",
             "| members | size MB | snapshot restore s | serving after s |", "|---:|---:|---:|---:|"]
    found = False
    for row in rows:
        times = [t for t in row.drill if None not in t]
        if row.op != "drill" or not times:
            continue
        found = True
        lines.append(f"| {row.members} | {row.db_mb:.0f} | {statistics.median(t[0] for t in times):.2f} | "
                     f"{statistics.median(t[1] for t in times):.2f} |")
    return "\n".join(lines) if found else ""


def flat_enough(small: float, large: float) -> bool:
    """Memory 'flat in DB size': the peak at the largest size at most 10 % + 10 MB above the peak at the smallest
    (reading a 1 GB snapshot into memory would add a gigabyte)."""
    return large <= small * 1.10 + 10


def targets(rows: list[Row]) -> list[str]:
    """The issue's targets, for the combinations measured: PASS, FAIL, or n/a where a run failed."""
    out = []

    def line(ok: bool | None, text: str) -> None:
        out.append(f"{'n/a ' if ok is None else 'PASS' if ok else 'FAIL'} {text}")

    for row in rows:
        where = f"{row.name} at {row.size} MB (DB {row.db_mb:.0f} MB) on {row.members} members"
        # at 1 GB: recovery (on 3 members) at most 0.8x the bare script, backup at most 1.2x
        limit = {"recovery": 0.8 if row.members == 3 else None, "backup": 1.2}.get(row.op) if row.size >= 1000 else None
        if limit is not None:
            if row.ratio is None:
                line(None, f"{where}: at most {limit}x bare: a run FAILED")
            else:
                line(row.ratio <= limit, f"{where}: {row.ratio:.2f}x bare (target <= {limit}x)")
        if row.size <= 50:
            if row.playbook_s is None or row.bare_s is None:
                line(None, f"fixed overhead, {where}: a run FAILED")
            else:
                overhead = row.playbook_s - row.bare_s
                line(overhead <= 15,
                     f"fixed overhead (playbook s - bare s), {where}: {overhead:.1f} s (target <= 15 s)")

    by_key = {(r.members, r.size, r.op): r for r in rows}
    for (members, size, op), five in by_key.items():
        three = by_key.get((3, size, op))
        if members != 5 or three is None:
            continue
        where = f"5 members against 3, {five.name} at {size} MB"
        if five.playbook_s is None or not three.playbook_s:
            line(None, f"{where}: a run FAILED")
        else:
            factor = five.playbook_s / three.playbook_s
            line(factor <= 1.2, f"{where}: {five.playbook_s:.1f} s against {three.playbook_s:.1f} s = {factor:.2f}x "
                                "(target <= 1.2x)")

    groups = defaultdict(list)
    for row in rows:
        groups[(row.members, row.op)].append(row)
    for (members, op), group in groups.items():
        group.sort(key=lambda r: r.size)
        if len(group) < 2:
            continue
        small, large = group[0], group[-1]
        for attr, what in (("node_module_mb", "node module"), ("controller_pss_mb", "controller")):
            where = f"{what} memory flat in DB size, {OPS[op]} on {members} members"
            a, b = small.peak(attr), large.peak(attr)
            if a is None or b is None:
                line(None, f"{where}: not measured (a run FAILED)")
            else:
                line(flat_enough(a, b), f"{where}: {a:.1f} MB at {small.size} MB, {b:.1f} MB at {large.size} MB "
                                        "(target: at most +10 % +10 MB)")
    return out


def failures(rows: list[Row]) -> list[str]:
    out = []
    for row in rows:
        for runs in (row.playbook, row.bare):
            for number, run in enumerate(runs, 1):
                if run.seconds is None:
                    out.append(f"### {row.members} members, {row.size} MB, {row.name}: {run.kind} run {number} FAILED"
                               f"\n\nLog: `{run.log or '-'}`\n\n```\n{run.error.strip()}\n```")
    return out


def machine() -> str:
    mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    osname = "unknown OS"
    try:
        osname = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M)[1]
    except (OSError, TypeError):
        pass
    gib = int(mem[1]) / 2**20 if mem else 0
    return f"{os.cpu_count()} cores, {gib:.0f} GiB, {osname}, kernel {platform.release()}"


def report(bench: Bench, started: datetime.datetime, seconds: float) -> tuple[str, str]:
    """(what is printed, what --out gets): the header, table, targets, failures; --out adds the slowest tasks."""
    args = bench.args
    head = [f"Run {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.0f} min: members {','.join(map(str, args.members))}, "
            f"sizes {','.join(map(str, args.sizes))} MB, ops {','.join(args.ops)}, {args.repeat} run(s) each "
            f"(median), suite {args.suite} ({bench.versions.get('etcd', 'etcd ?')}), "
            f"{bench.versions.get('ansible', 'ansible ?')}.",
            f"Machine: {machine()}."]
    checked = targets(bench.rows) or ["(none of the issue's targets applies to what was measured)"]
    body = ["\n".join(head), table(bench.rows)]
    drills = drill_table(bench.rows)
    if drills:
        body.append(drills)
    body.append("Targets:\n" + "\n".join(f"- {t}" for t in checked))
    if bench.problems:
        body.append("Not measured:\n" + "\n".join(f"- {p}" for p in bench.problems))
    fails = failures(bench.rows)
    if fails:
        body.append("Failed runs:\n\n" + "\n\n".join(fails))
    printed = "\n\n".join(body)

    tasks = ["## Where the time goes (profile_tasks: the 10 slowest tasks of the median playbook run)"]
    for row in bench.rows:
        run = row.median_run()
        if run is None or not run.tasks:
            continue
        tasks.append(f"### {row.members} members, {row.size} MB, {row.name}.yml ({run.seconds:.1f} s)\n\n"
                     "| task | s |\n|---|---:|\n" + "\n".join(f"| {name} | {s:.2f} |" for name, s in run.tasks))
    written = "\n\n".join(["# etcd_ops.etcd benchmark: playbooks against the runbook's bare commands", printed,
                           *tasks]) + "\n"
    return printed, written


def numbers(text: str) -> list[int]:
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text}") from exc


def operations(text: str) -> list[str]:
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [op for op in wanted if op not in OPS]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(f"unknown operation(s) {', '.join(unknown)}; choose from {', '.join(OPS)}")
    return [op for op in OPS if op in wanted]  # recovery needs backup's snapshot: always in this order


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time the collection's playbooks against bare scripts of the runbook's commands on the lab "
                    "(issue #9). Needs the lab's set-up (make bench does it); removes the lab at the end.")
    parser.add_argument("--members", type=numbers, default=[3], metavar="3,5",
                        help="member counts: 3 (scenario disaster_recovery), 5 (disaster_recovery_5); default 3")
    parser.add_argument("--sizes", type=numbers, default=[50], metavar="50,500,1000",
                        help="database sizes in MB (MiB) to fill etcd to with random values; default 50")
    parser.add_argument("--ops", type=operations, default=list(OPS), metavar="backup,recovery,replace,drill",
                        help="operations to time; default all")
    parser.add_argument("--suite", choices=["bookworm", "trixie"], default="trixie",
                        help="lab image: trixie (etcd 3.5, etcdutl) or bookworm (etcd 3.4); default trixie")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="runs of each playbook and bare script per row; the table shows the median; default 1")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="also write the report (markdown, with the slowest tasks of each playbook) here")
    parser.add_argument("--keep-lab", action="store_true", help="leave the last lab running (to look at it)")
    args = parser.parse_args(argv)
    bad = [m for m in args.members if m not in SCENARIOS]
    if bad:
        parser.error(f"--members: no lab scenario for {bad}; choose from {sorted(SCENARIOS)}")
    if args.repeat < 1 or not args.sizes or min(args.sizes) < 1:
        parser.error("--repeat and --sizes need positive numbers")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    logdir = TOP / "tests" / "output" / "bench" / started.strftime("%Y%m%dT%H%M%SZ")
    logdir.mkdir(parents=True, exist_ok=True)
    log(f"logs in {logdir}")
    bench = Bench(args, logdir)
    version = subprocess.run([str(VENV_BIN / "ansible"), "--version"], capture_output=True, text=True, check=False)
    bench.versions["ansible"] = (version.stdout.splitlines() or ["ansible ?"])[0]
    t0 = time.monotonic()
    try:
        for members in args.members:
            bench.run_members(members)
    except KeyboardInterrupt:
        bench.problems.append("interrupted (Ctrl-C): the rest was not measured")
    printed, written = report(bench, started, time.monotonic() - t0)
    (logdir / "report.md").write_text(written, encoding="utf-8")
    (logdir / "results.json").write_text(json.dumps(
        {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
         "versions": bench.versions, "machine": machine(), "problems": bench.problems,
         "rows": [{**asdict(r), "playbook_s": r.playbook_s, "bare_s": r.bare_s, "ratio": r.ratio}
                  for r in bench.rows]}, indent=2), encoding="utf-8")
    if args.out:
        args.out.write_text(written, encoding="utf-8")
    print(printed)
    log(f"report: {args.out or logdir / 'report.md'}; logs and results.json in {logdir}")
    # the benchmark's own exit status: non-zero only when something could not be measured, never for a target
    return 1 if bench.problems or any(r.playbook_s is None or r.bare_s is None for r in bench.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
