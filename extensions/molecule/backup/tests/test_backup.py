"""backup.yml as a user runs it (README command, over SSH+sudo), and what it leaves in the store."""

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

NAME = re.compile(r"^etcd-cluster-\d{8}T\d{6}Z-r\d+\.db$")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


def backup(store, *args):
    return lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", *args)


def snapshots(store):
    return sorted(p for p in store.iterdir() if NAME.match(p.name))


@pytest.fixture(scope="module", autouse=True)
def keys():
    """25 keys in the cluster before the first test (a set-up step, not a test)."""
    lab.node("node1").check_output("for i in $(seq 25); do etcdctl put /backup-test/k$i v$i >/dev/null; done")


def test_first_backup(store):
    proc = backup(store)
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = snapshots(store)
    assert oct(store.stat().st_mode & 0o777) == "0o700"
    for path in (snap, Path(f"{snap}.sha256"), Path(f"{snap}.json")):
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    digest = hashlib.sha256(snap.read_bytes()).hexdigest()
    assert Path(f"{snap}.sha256").read_text() == f"{digest}  {snap.name}\n"
    meta = json.loads(Path(f"{snap}.json").read_text())
    assert meta["sha256"] == digest and meta["size"] == snap.stat().st_size and meta["file"] == snap.name
    assert meta["revision"] >= 26 and snap.name.endswith(f"-r{meta['revision']}.db")
    assert sorted(meta["members"]) == ["node1", "node2", "node3"] and meta["source_member"] == "node1"
    assert meta["etcd_version"].startswith("3.") and re.match(r"^[0-9a-f]+$", meta["cluster_id"])
    out = lab.flat(proc.stdout)
    assert f"file: {snap}" in out and f"sha256: {digest}" in out and f"revision: {meta['revision']}" in out
    assert not [p for p in store.iterdir() if p.name.startswith(".")]  # no half-written file left
    # the node's temporary copy is gone
    assert lab.node("node1").run("ls -A /var/lib/etcd-ops/backup").stdout.strip() == ""
    # the recovery bundle (issue #26): each member's env file and unit as they are there, recorded in the metadata
    config = Path(f"{snap}.config.json")
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    bundle = json.loads(config.read_text())
    assert meta["config"]["sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert meta["config"]["members"] == sorted(bundle["members"]) == ["node1", "node2", "node3"]
    assert bundle["missing"] == bundle["problems"] == {} and bundle["keys_saved"] is False
    for name in lab.NODES:
        node, part = lab.node(name), bundle["members"][name]
        assert part["env"] == node.file("/data/etcd.env").content_string and part["env_file"] == "/data/etcd.env"
        unit = node.check_output("systemctl show -p FragmentPath --value etcd.service")
        assert part["unit_files"][0]["path"] == unit
        assert part["unit_files"][0]["text"] == node.file(unit).content_string
        assert part["certificates"] == part["keys"] == {}  # a plain http cluster
    assert f"config: {snap.name}.config.json: env file and unit of node1, node2, node3" in out


def test_the_members_work_dir_is_root_s_and_one_another_user_made_is_refused(store):
    """Issue #24, edge 6. The default work dir is root's /var/lib/etcd-ops/backup (0711); before, it was
    /var/tmp/etcd-ops-backup, a name any user of the member could make first and so read every snapshot written
    there. A work dir another user made, or a link, is refused, and nothing is written."""
    node1 = lab.node("node1")
    assert node1.check_output("stat -c '%U %a' /var/lib/etcd-ops/backup /var/lib/etcd-ops").split() == \
        ["root", "711", "root", "755"]
    uid, works = lab.another_users_work_dirs("node1", "/var/tmp/etcd-ops-backup")
    try:
        for work in works:
            before, held = {n: lab.fingerprint(n) for n in lab.NODES}, snapshots(store)
            proc = backup(store, "-e", f"etcd_backup_node_dir={work}", "-e", "etcd_backup_member=node1")
            out = lab.flat(proc.stdout)
            assert proc.returncode != 0, out[-3000:]
            assert (f"The work dir {work} is not safe to hold a snapshot: {work} belongs to uid {uid}, not root. "
                    "A snapshot holds every key of the cluster") in out, out[-3000:]
            assert "Nothing was written there. Fix: remove or move what is there" in out
            assert {n: lab.fingerprint(n) for n in lab.NODES} == before and snapshots(store) == held
            assert node1.check_output("ls -A /var/tmp/etcd-ops-backup /root | grep -c '\\.db' || true").strip() == "0"
            lab.record_refusal("backup.yml", proc, f"a work dir another user made ({work})")
            lab.record_edge(6, "backup.yml", f"-e etcd_backup_node_dir={work}, made by another user",
                            "refused, nothing written", proc, issue=24)
    finally:
        lab.remove_paths("node1", works)


def test_status_reads_every_file_in_the_store(store):
    node1 = lab.node("node1")
    tool = "etcdutl" if node1.run("command -v etcdutl").rc == 0 else "etcdctl"
    for snap in snapshots(store):
        node1.run("mkdir -p /var/tmp/check && rm -f /var/tmp/check/s.db")
        lab.ansible_node("node1").ansible("copy", f"src={snap} dest=/var/tmp/check/s.db mode=0600", check=False,
                                          become=True)
        status = json.loads(node1.check_output(f"{tool} snapshot status /var/tmp/check/s.db -w json"))
        meta = json.loads(Path(f"{snap}.json").read_text())
        assert status["revision"] == meta["revision"] and status["hash"] == meta["hash"]


def test_second_backup_and_a_member_down(store):
    time.sleep(1)  # names carry the second
    assert backup(store).returncode == 0
    lab.etcd("node1", "stop")
    try:
        proc = backup(store)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "warning: node1 is unhealthy" in proc.stdout
        newest = json.loads(Path(f"{snapshots(store)[-1]}.json").read_text())
        assert newest["source_member"] == "node2"
    finally:
        lab.etcd("node1", "start")
        lab.wait_healthy()
    assert len(snapshots(store)) == 3


def test_retention_keeps_the_newest_and_nothing_else_is_touched(store):
    foreign = [store / "mine.db", store / "etcd-cluster-latest.db", store / "notes.txt"]
    for path in foreign:
        path.write_text("not a snapshot of ours")
    # another cluster with the same token backs up into this store: an older snapshot of its, named as ours are
    other = store / "etcd-cluster-20200101T000000Z-r7.db"
    other.write_bytes(b"\0" * 1024)
    Path(f"{other}.json").write_text(json.dumps(dict(cluster_id="1234abcd", cluster_token="etcd-cluster",
                                                     members=["y1"], member_peer_urls={"y1": ["http://10.0.1.1:2380"]})))
    foreign += [other, Path(f"{other}.json")]
    before = [p for p in snapshots(store) if p != other]
    lab.wait_healthy()
    proc = backup(store, "-e", "etcd_backup_keep=2")
    assert proc.returncode == 0, proc.stdout[-3000:]
    kept = [p for p in snapshots(store) if p != other]
    assert len(kept) == 2 and kept[0] == before[-1] and kept[1] not in before
    for snap in before[:-1]:
        assert not any(Path(f"{snap}{ext}").exists() for ext in ("", ".sha256", ".json", ".config.json"))
    assert all(path.exists() for path in foreign)
    lab.record_edge(1, "backup.yml", "another cluster's older snapshot in the store (same token), etcd_backup_keep=2",
                    "pruned only this cluster's snapshots", detail="the other cluster's snapshot and its metadata "
                    f"kept; this cluster's {len(before) + 1} became the newest 2")
    other.unlink()
    Path(f"{other}.json").unlink()


def test_keep_0_keeps_every_snapshot_and_a_negative_count_is_refused(store):
    """etcd_backup_keep 0 means every snapshot, as etcd_backup_s3_keep 0 does (it emptied the store before)."""
    before = snapshots(store)
    proc = backup(store, "-e", "etcd_backup_keep=0")
    assert proc.returncode == 0, proc.stdout[-3000:]
    after = snapshots(store)
    assert set(before) < set(after) and len(after) == len(before) + 1
    assert f"store: {len(after)} snapshot(s) kept (etcd_backup_keep 0)" in lab.flat(proc.stdout)
    lab.record_edge(3, "backup.yml", "etcd_backup_keep=0", "kept every snapshot, the new one too",
                    detail=f"{len(before)} before, {len(after)} after; the summary says "
                    f"'store: {len(after)} snapshot(s) kept (etcd_backup_keep 0)'")
    listing = sorted(p.name for p in store.iterdir())
    nodes = {n: lab.fingerprint(n) for n in lab.NODES}
    proc = backup(store, "-e", "etcd_backup_keep=-1")
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0 and "etcd_backup_keep=-1: a retention count is the number of newest" in out, out[-2000:]
    assert "etcd_backup_s3_keep" not in out  # no bucket: its count (etcd_backup_keep's by default) is not in play
    assert "Nothing was changed. Fix: set it to 0 or a positive number." in out
    assert sorted(p.name for p in store.iterdir()) == listing
    assert {n: lab.fingerprint(n) for n in lab.NODES} == nodes
    lab.record_refusal("backup.yml", proc, "a negative retention count (etcd_backup_keep=-1)")
    lab.record_edge(3, "backup.yml", "etcd_backup_keep=-1", "refused before any change", proc)


def test_check_mode_writes_nothing(store):
    listing = sorted(p.name for p in store.iterdir())
    proc = backup(store, "--check")
    assert proc.returncode == 0 and "check mode: would snapshot" in lab.flat(proc.stdout)
    assert sorted(p.name for p in store.iterdir()) == listing
    assert lab.node("node1").run("ls -A /var/lib/etcd-ops/backup").stdout.strip() == ""


def test_report_file(store, tmp_path):
    report = tmp_path / "backup.json"
    proc = backup(store, "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0
    data = json.loads(report.read_text())
    assert data["operation"] == "backup" and Path(data["file"]).exists() and data["unavailable_members"] == []


def test_no_healthy_member_is_refused(store):
    listing = sorted(p.name for p in store.iterdir())
    lab.etcd("node2", "stop")
    lab.etcd("node3", "stop")
    try:
        before = {n: lab.fingerprint(n) for n in lab.NODES}
        proc = backup(store)
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0
        # each member with etcdctl's error (node1 has no quorum, node2 and node3 refuse connections)
        assert "No member of group etcd answers healthy (node1: unhealthy: " in out
        assert "; node2: unhealthy: " in out and "; node3: unhealthy: " in out
        assert "disaster_recovery.yml" in out
        assert {n: lab.fingerprint(n) for n in lab.NODES} == before
        lab.record_refusal("backup.yml", proc, "no healthy member (two of three stopped)")
    finally:
        for name in ("node2", "node3"):
            lab.node(name).run("systemctl start --no-block etcd.service")
    assert sorted(p.name for p in store.iterdir()) == listing
    lab.wait_healthy()


def test_store_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    before = {n: lab.fingerprint(n) for n in lab.NODES}
    proc = backup(blocker / "store")
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0 and f"The backup store {blocker}/store on the controller is not a directory" in out
    assert {n: lab.fingerprint(n) for n in lab.NODES} == before
    lab.record_refusal("backup.yml", proc, "a store path that is a file")


def test_default_store_is_beside_the_inventory():
    default = lab.INVENTORY.parent / "etcd-backups"  # also the demo's store: remove only what this test made
    existed = default.exists()
    before = set(default.iterdir()) if existed else set()
    proc = lab.playbook("backup")
    try:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert len(snapshots(default)) == len([p for p in before if NAME.match(p.name)]) + 1
    finally:
        for path in set(default.iterdir()) - before if default.exists() else ():
            path.unlink()
        if not existed and default.exists():
            default.rmdir()


def job_run(project: Path, inv: Path, playbook: str, *args: str) -> subprocess.CompletedProcess:
    """ansible-playbook as an AWX/AAP job runs it: started in the project's dir (ansible-runner's cwd), on the
    project's playbook that imports the collection's, with the job's extra variable awx_job_id."""
    env = lab.user_env()
    env["ANSIBLE_CONFIG"] = str(lab.TOP / "ansible.cfg")  # the collection from the checkout, as the EE would hold it
    started = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", str(inv), f"{playbook}.yml", "-e", "awx_job_id=4711", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    proc.seconds = time.monotonic() - started
    return proc


def test_in_an_awx_job_a_store_or_ca_inside_the_job_s_container_is_refused(tmp_path):
    """Issue #27: run as an AWX/AAP job runs it (awx_job_id; the job's private data dir holding inventory/ and
    project/, the run started in project/, whose playbook imports the collection's): the default store and CA
    beside the inventory would go with the job's container. Each operation that needs them there is refused
    before the lock and before any member is read, the fix named; a store on a volume outside that dir passes."""
    job_dir = tmp_path / "runner"
    inv = job_dir / "inventory" / "hosts"
    project = job_dir / "project"
    inv.parent.mkdir(parents=True)
    project.mkdir()
    inv.write_text(lab.INVENTORY.read_text())
    for name in ("backup", "verify_backup", "disaster_recovery", "deploy"):
        (project / f"{name}.yml").write_text(
            f"- name: {name}\n  ansible.builtin.import_playbook: etcd_ops.etcd.{name}\n")
    nodes = {n: lab.fingerprint(n) for n in lab.NODES}
    cases = [
        ("backup", [], "the snapshot this backup takes would be kept only in etcd_backup_dir",
         "or set etcd_s3_bucket so that every snapshot is copied to the bucket"),
        ("verify_backup", [], "the drill reads the snapshots of etcd_backup_dir", "(etcd_verify_source=s3)"),
        ("disaster_recovery", [], "the recovery takes its snapshot from etcd_backup_dir",
         "recover from the bucket (etcd_recovery_source=s3)"),
        ("deploy", ["-e", "etcd_deploy_tls=true"], "keeps the cluster's CA key in etcd_deploy_pki_dir",
         "set etcd_deploy_pki_dir to a directory on a persistent volume"),
    ]
    for playbook, args, why, fix in cases:
        proc = job_run(project, inv, playbook, *args)
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0, out[-2000:]
        assert f"This run is AWX/AAP job 4711, whose container and private data dir ({job_dir}) are removed" in out
        assert why in out and "Nothing was changed. Fix: " in out and fix in out.split(why)[1], out[-2000:]
        assert "Take each member's lock" not in proc.stdout, f"{playbook}: refused only after the lock"
        lab.record_refusal(f"{playbook}.yml", proc, f"an AWX/AAP job whose store or CA is inside its container "
                           f"({playbook}{' ' + ' '.join(args) if args else ''})")
    assert not (inv.parent / "etcd-backups").exists() and not (inv.parent / "etcd-pki").exists()
    assert {n: lab.fingerprint(n) for n in lab.NODES} == nodes
    for name in lab.NODES:
        assert lab.node(name).run(f"test -e {LOCK}").rc != 0, name
    # a store on a volume outside the job's private data dir passes (check mode: nothing is written)
    volume = tmp_path / "volume" / "etcd-backups"
    proc = job_run(project, inv, "backup", "-e", f"etcd_backup_dir={volume}", "--check")
    assert proc.returncode == 0 and "check mode: would snapshot" in lab.flat(proc.stdout), proc.stdout[-3000:]


def test_a_store_without_room_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small store needs root (CI runs as root)")
    small = tmp_path / "small"
    small.mkdir()
    with lab.controller_tmpfs(small, "8k"):
        before = {n: lab.fingerprint(n) for n in lab.NODES}
        proc = backup(small / "store")
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0
        assert f"Not enough space in the store {small}/store on the controller: 8192 bytes free" in out
        assert lab.controller_listing(small / "store") == []
        assert lab.node("node1").run("ls -A /var/lib/etcd-ops/backup").stdout.strip() == ""
        assert {n: lab.fingerprint(n) for n in lab.NODES} == before
        lab.record_refusal("backup.yml", proc, "a full disk: the controller's store on an 8 KiB tmpfs")


# Scheduled snapshots on the members. The calendar value never fires during a test run.
SCHEDULE = "2099-01-01 03:00:00"
NODE_DIR = "/var/backups/etcd-ops"
JOB_FILES = "find /etc/systemd/system /usr/local/lib /etc/etcd-ops -name '*etcd-ops*' 2>/dev/null | sort"


def schedule(store, value, *args):
    return backup(store, "-e", f'etcd_backup_schedule="{value}"', "-e", "etcd_backup_now=false", *args)


def node_snapshots(name):
    out = lab.node(name).check_output(f"ls -A {NODE_DIR}")
    return sorted(n for n in out.split() if NAME.match(n))


def job_state(name):
    host = lab.node(name)
    return host.run(f"{JOB_FILES}; md5sum /etc/etcd-ops/backup.json /etc/systemd/system/etcd-ops-backup.* 2>/dev/null;"
                    " systemctl is-enabled etcd-ops-backup.timer; systemctl is-active etcd-ops-backup.timer").stdout


def test_schedule_installs_a_timer_on_every_member_and_twice_changes_nothing(store):
    proc = schedule(store, SCHEDULE)
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert f"schedule: etcd-ops-backup.timer on node1, node2, node3, OnCalendar={SCHEDULE}" in out
    assert "etcd backup of cluster" not in out  # etcd_backup_now=false: no snapshot into the store
    for name in lab.NODES:
        host = lab.node(name)
        assert host.service("etcd-ops-backup.timer").is_enabled
        assert host.service("etcd-ops-backup.timer").is_running
        assert SCHEDULE in host.check_output("systemctl show etcd-ops-backup.timer -p TimersCalendar")
        assert host.file("/etc/etcd-ops/backup.json").mode == 0o600
        assert host.file(NODE_DIR).mode == 0o700
        settings = json.loads(host.file("/etc/etcd-ops/backup.json").content_string)
        assert settings["member"] == name and settings["cluster"] == "etcd-cluster" and settings["keep"] == 7
    again = schedule(store, SCHEDULE)
    assert again.returncode == 0 and all(c["changed"] == 0 for c in lab.recap(again.stdout).values()), again.stdout


def test_the_timers_job_skips_while_a_run_holds_its_member_s_lock():
    """Issue #24, edge 4: the members' job takes its member's lock too; a run's lock makes it skip, and say who."""
    hold_lock("node2", controller="ci-runner-7", pid=4242, start=1, boot="x")
    host = lab.node("node2")
    try:
        before = node_snapshots("node2")
        assert host.run("systemctl start etcd-ops-backup.service").rc != 0
        journal = host.check_output("journalctl -u etcd-ops-backup.service -n 5 -o cat")
        assert ("No snapshot was taken: disaster_recovery.yml run by ops@ci-runner-7 (ansible-playbook pid 4242) "
                f"since 2026-12-04T21:00:00Z holds the lock {LOCK}") in journal, journal
        assert node_snapshots("node2") == before
        said = next(line for line in journal.splitlines() if "No snapshot was taken" in line)
        lab.record_edge(4, "etcd-ops-backup.service", "the members' timer job while a run holds node2's lock",
                        "skipped, the holder named in the journal", detail=said[:400], issue=24)
    finally:
        host.check_output(f"rm -f {LOCK}")
        host.run("systemctl reset-failed etcd-ops-backup.service")


def test_the_timers_service_started_by_hand_writes_a_verified_snapshot():
    host = lab.node("node2")
    host.check_output("systemctl start etcd-ops-backup.service")
    [name] = node_snapshots("node2")
    path = f"{NODE_DIR}/{name}"
    for file in (path, f"{path}.sha256", f"{path}.json"):
        assert host.file(file).mode == 0o600 and host.file(file).user == "root", file
    assert host.run(f"cd {NODE_DIR} && sha256sum -c {name}.sha256").rc == 0
    tool = "etcdutl" if host.run("command -v etcdutl").rc == 0 else "etcdctl"
    status = json.loads(host.check_output(f"{tool} snapshot status {path} -w json"))
    meta = json.loads(host.file(f"{path}.json").content_string)
    assert status["revision"] == meta["revision"] and status["hash"] == meta["hash"]
    assert name.endswith(f"-r{meta['revision']}.db")
    assert meta["source_member"] == "node2" and sorted(meta["members"]) == ["node1", "node2", "node3"]
    assert not [n for n in host.check_output(f"ls -A {NODE_DIR}").split() if n.startswith(".")]
    journal = host.check_output("journalctl -u etcd-ops-backup.service --no-pager -o cat")
    assert f"saved {path}: {meta['size']} bytes, revision {meta['revision']}" in journal


def test_the_members_retention_keeps_the_newest_and_nothing_else(store):
    proc = backup(store, "-e", f'etcd_backup_schedule="{SCHEDULE}"', "-e", "etcd_backup_now=false",
                  "-e", "etcd_backup_schedule_keep=2")
    assert proc.returncode == 0, proc.stdout[-3000:]
    host = lab.node("node2")
    host.check_output(f"echo mine > {NODE_DIR}/etcd-cluster-latest.db")
    before = node_snapshots("node2")
    for _run in range(2):
        time.sleep(1)  # names carry the second
        host.check_output("systemctl start etcd-ops-backup.service")
    kept = node_snapshots("node2")
    assert len(kept) == 2 and before[0] not in kept
    assert host.run(f"ls {NODE_DIR}/{before[0]}.json {NODE_DIR}/{before[0]}.sha256").rc != 0
    assert host.file(f"{NODE_DIR}/etcd-cluster-latest.db").exists
    assert "1 removed" in host.check_output("journalctl -u etcd-ops-backup.service --no-pager -o cat | tail -n 3")


LOCK = "/var/lib/etcd-ops/lock.json"


def hold_lock(name, **holder):
    """A lock on node `name` as another run, or a job, leaves it (holder fields as etcd_lock writes them)."""
    holder = dict(dict(id="test/" + "/".join(str(v) for v in holder.values()), kind="run",
                       operation="disaster_recovery.yml", user="ops", since="2026-12-04T21:00:00Z"), **holder)
    lab.node(name).check_output(f"mkdir -p /var/lib/etcd-ops && echo '{json.dumps(holder)}' > {LOCK}")
    return holder


def test_one_run_at_a_time_a_live_run_s_lock_is_refused_a_gone_one_taken_over(store, tmp_path):
    """Issue #24, edge 4. Before, nothing stopped two runs on one cluster from interleaving (a recovery during a
    backup, two replaces). Each run now takes every member's lock before it reads them; another live run's lock
    stops it before any change, naming the holder; the lock of a run killed on this controller (its ansible-playbook
    process is gone) is taken over, as after the fault suite's kills."""
    sleeper = subprocess.Popen(["sleep", "300"])  # stands for a live ansible-playbook of this controller
    try:
        start = int(Path(f"/proc/{sleeper.pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        controller, boot = socket.gethostname(), Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        for whose, holder, who in (
                ("another controller's", dict(controller="ci-runner-7", pid=4242, start=1, boot="x"),
                 "disaster_recovery.yml run by ops@ci-runner-7 (ansible-playbook pid 4242) since 2026-12-04T21:00:00Z"),
                ("this controller's", dict(controller=controller, pid=sleeper.pid, start=start, boot=boot),
                 f"disaster_recovery.yml run by ops@{controller} (ansible-playbook pid {sleeper.pid})")):
            held = hold_lock("node2", **holder)
            before, snaps = {n: lab.fingerprint(n) for n in lab.NODES}, snapshots(store)
            report = tmp_path / "report.json"
            proc = backup(store, "-e", f"etcd_report_file={report}")
            out = lab.flat(proc.stdout)
            assert proc.returncode != 0, out[-3000:]
            assert f"node2: {who}" in out and f"holds the lock {LOCK}: one run at a time on a cluster" in out, \
                out[-3000:]
            assert "Nothing was changed. Fix: wait until it ends." in out
            assert {n: lab.fingerprint(n) for n in lab.NODES} == before and snapshots(store) == snaps
            assert json.loads(lab.node("node2").check_output(f"cat {LOCK}")) == held  # theirs, untouched
            for name in ("node1", "node3"):  # this run's own locks were given back
                assert lab.node(name).run(f"test -e {LOCK}").rc != 0, name
            lab.report_of(report, proc, "backup.yml", f"a refusal ({whose} live run holds node2's lock)",
                          "refused", "holds the lock", changes=[])
            lab.record_refusal("backup.yml", proc, f"{whose} live run holds node2's lock")
            lab.record_edge(4, "backup.yml", f"node2 locked by {whose} live run",
                            "refused before any change; the holder named", proc, issue=24)
    finally:
        sleeper.kill()
        sleeper.wait()
    # the same holder, its process gone now: a run killed on this controller
    hold_lock("node2", controller=controller, pid=sleeper.pid, start=start, boot=boot)
    proc = backup(store)
    assert proc.returncode == 0, proc.stdout[-3000:]
    for name in lab.NODES:
        assert lab.node(name).run(f"test -e {LOCK}").rc != 0, name
    lab.record_edge(4, "backup.yml", "node2 locked by a run of this controller whose process is gone (killed)",
                    "taken over; the backup ran; every lock given back", proc,
                    detail="exit 0; no lock file left on any member", issue=24)


def test_the_job_on_a_stopped_member_fails_loudly_and_writes_nothing():
    host = lab.node("node3")
    lab.etcd("node3", "stop")
    try:
        assert host.run("systemctl start etcd-ops-backup.service").rc != 0
        assert host.run("systemctl is-failed etcd-ops-backup.service").stdout.strip() == "failed"
        journal = host.check_output("journalctl -u etcd-ops-backup.service --no-pager -o cat")
        assert f"etcd-ops-backup failed: The member at http://{lab.address(13)}:2379 is not healthy" in journal
        assert node_snapshots("node3") == []
        assert host.check_output(f"ls -A {NODE_DIR}").strip() == ""
    finally:
        lab.etcd("node3", "start")
        host.run("systemctl reset-failed etcd-ops-backup.service")
        lab.wait_healthy()


def test_a_schedule_systemd_refuses_changes_nothing(store):
    before = {n: job_state(n) for n in lab.NODES}
    proc = schedule(store, "2099-13-01 03:00")
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0
    assert 'etcd_backup_schedule="2099-13-01 03:00" is not a systemd calendar event' in out
    assert "systemd-analyze calendar VALUE" in out
    assert {n: job_state(n) for n in lab.NODES} == before


def test_schedule_in_check_mode_changes_nothing(store):
    before = {n: job_state(n) for n in lab.NODES}
    proc = schedule(store, "2099-02-01 03:00:00", "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "schedule: check mode: would install etcd-ops-backup.timer on node1, node2, node3" in lab.flat(proc.stdout)
    assert {n: job_state(n) for n in lab.NODES} == before


def test_nothing_to_do_is_said(store):
    proc = backup(store, "-e", "etcd_backup_now=false")
    assert proc.returncode != 0 and "this run would do nothing" in lab.flat(proc.stdout)


def test_schedule_absent_removes_the_timer_and_keeps_the_snapshots(store, tmp_path):
    kept = node_snapshots("node2")
    report = tmp_path / "report.json"
    proc = schedule(store, "absent", "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert "schedule: removed etcd-ops-backup.timer from node1, node2, node3" in out
    assert f"the snapshots it took stay in {NODE_DIR}" in out
    assert json.loads(report.read_text())["schedule"] == dict(state="absent", on_calendar="", dir=NODE_DIR, keep=7,
                                                              members=["node1", "node2", "node3"])
    for name in lab.NODES:
        assert lab.node(name).run(JOB_FILES).stdout.strip() == "", name
        assert lab.node(name).run("systemctl cat etcd-ops-backup.timer").rc != 0
    assert node_snapshots("node2") == kept and len(kept) == 2
    again = schedule(store, "absent")
    assert again.returncode == 0 and all(c["changed"] == 0 for c in lab.recap(again.stdout).values())
