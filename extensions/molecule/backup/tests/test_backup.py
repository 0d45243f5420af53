"""backup.yml as a user runs it (README command, over SSH+sudo), and what it leaves in the store."""

import hashlib
import json
import re
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


def etcd(name, action):
    lab.node(name).run(f"systemctl {action} etcd.service")


def wait_healthy():
    for _attempt in range(60):
        if all(lab.node(n).run("etcdctl endpoint health").rc == 0 for n in lab.NODES):
            return
        time.sleep(1)
    raise AssertionError("cluster did not become healthy")


def test_write_keys():
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
    assert lab.node("node1").run("ls -A /var/tmp/etcd-ops-backup").stdout.strip() == ""


def test_status_reads_every_file_in_the_store(store):
    node1 = lab.node("node1")
    tool = "etcdutl" if node1.run("command -v etcdutl").rc == 0 else "etcdctl"
    for snap in snapshots(store):
        node1.run("mkdir -p /var/tmp/check && rm -f /var/tmp/check/s.db")
        node1.ansible("copy", f"src={snap} dest=/var/tmp/check/s.db mode=0600", check=False, become=True)
        status = json.loads(node1.check_output(f"{tool} snapshot status /var/tmp/check/s.db -w json"))
        meta = json.loads(Path(f"{snap}.json").read_text())
        assert status["revision"] == meta["revision"] and status["hash"] == meta["hash"]


def test_second_backup_and_a_member_down(store):
    time.sleep(1)  # names carry the second
    assert backup(store).returncode == 0
    etcd("node1", "stop")
    try:
        proc = backup(store)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "warning: node1 is unhealthy" in proc.stdout
        newest = json.loads(Path(f"{snapshots(store)[-1]}.json").read_text())
        assert newest["source_member"] == "node2"
    finally:
        etcd("node1", "start")
        wait_healthy()
    assert len(snapshots(store)) == 3


def test_retention_keeps_the_newest_and_nothing_else_is_touched(store):
    foreign = [store / "mine.db", store / "etcd-cluster-latest.db", store / "notes.txt"]
    for path in foreign:
        path.write_text("not a snapshot of ours")
    before = snapshots(store)
    wait_healthy()
    proc = backup(store, "-e", "etcd_backup_keep=2")
    assert proc.returncode == 0, proc.stdout[-3000:]
    kept = snapshots(store)
    assert len(kept) == 2 and kept[0] == before[-1] and kept[1] not in before
    for snap in before[:-1]:
        assert not any(Path(f"{snap}{ext}").exists() for ext in ("", ".sha256", ".json"))
    assert all(path.exists() for path in foreign)


def test_check_mode_writes_nothing(store):
    listing = sorted(p.name for p in store.iterdir())
    proc = backup(store, "--check")
    assert proc.returncode == 0 and "check mode: would snapshot" in lab.flat(proc.stdout)
    assert sorted(p.name for p in store.iterdir()) == listing
    assert lab.node("node1").run("ls -A /var/tmp/etcd-ops-backup").stdout.strip() == ""


def test_report_file(store, tmp_path):
    report = tmp_path / "backup.json"
    proc = backup(store, "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0
    data = json.loads(report.read_text())
    assert data["operation"] == "backup" and Path(data["file"]).exists() and data["unavailable_members"] == []


def test_no_healthy_member_is_refused(store):
    listing = sorted(p.name for p in store.iterdir())
    etcd("node2", "stop")
    etcd("node3", "stop")
    try:
        proc = backup(store)
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0
        assert "No member of group etcd answers healthy (node1: unhealthy, node2: unhealthy, node3: unhealthy)" in out
        assert "disaster_recovery.yml" in out
    finally:
        for name in ("node2", "node3"):
            lab.node(name).run("systemctl start --no-block etcd.service")
    assert sorted(p.name for p in store.iterdir()) == listing
    wait_healthy()


def test_store_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = backup(blocker / "store")
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0 and f"The backup store {blocker}/store on the controller is not a directory" in out


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
