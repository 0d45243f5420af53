"""disaster_recovery.yml as a user runs it (README command, over SSH+sudo): the bad-input matrix, each compared
with every node's state before; check mode; two of three members lost; a re-run; all members stopped and the run
killed between switch and start, then run again to completion. Every other interruption point: tests/fault
(scenario faults)."""

import base64
import datetime
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

KEYS = 40
DATA = "/data/etcd.data"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


def recover(store, *args, inv=lab.INVENTORY, **kwargs):
    return lab.playbook("disaster_recovery", inv, "-e", f"etcd_backup_dir={store}", *args, **kwargs)


def snapshot(store):
    [snap] = sorted(store.glob("*.db"))
    return snap


def fingerprints():
    """Every node's files under /data (the env file included), packages, etcd process, units and ports."""
    return {n: lab.fingerprint(n) for n in lab.NODES}


def refused(proc, before, *messages):
    assert proc.returncode != 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    for message in messages:
        assert message in out, out[-3000:]
    assert fingerprints() == before, out[-3000:]
    for name in lab.NODES:  # no copy of the snapshot left on a node
        assert lab.node(name).run("ls -A /var/lib/etcd-ops/recovery 2>/dev/null").stdout.strip() == ""
    lab.record_refusal("disaster_recovery.yml", proc)


def lose(*names, wipe=True):
    """Stop etcd on these nodes and, with `wipe`, remove their data dir (the data is lost for good)."""
    for name in names:
        lab.etcd(name, "stop")
        if wipe:
            lab.node(name).check_output(f"rm -rf {DATA}")


def aside(name):
    """The moved-aside data dirs on a node."""
    out = lab.node(name).run(f"ls -d {DATA}.2* 2>/dev/null").stdout
    return sorted(out.split())


def assert_recovered(proc):
    assert proc.returncode == 0, proc.stdout[-4000:]
    lab.wait_healthy()
    node1 = lab.node("node1")
    listed = json.loads(node1.check_output("etcdctl member list -w json"))["members"]
    assert sorted(m.get("name", "") for m in listed) == ["node1", "node2", "node3"]
    assert not any(m.get("isLearner") for m in listed)
    for name in lab.NODES:
        node = lab.node(name)
        kvs = json.loads(node.check_output("etcdctl get /dr-test/ --prefix -w json --consistency=s")).get("kvs", [])
        got = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}
        assert got == {f"/dr-test/k{i}": f"v{i}" for i in range(1, KEYS + 1)}, name
        assert node.run(f"ls -d {DATA}.etcd-ops-staging").rc != 0, f"staging dir left on {name}"
        assert node.run("ls -A /var/lib/etcd-ops/recovery").stdout.strip() == ""
        assert node.service("etcd").is_enabled
    return lab.flat(proc.stdout)


def test_write_keys_and_back_up(store):
    lab.node("node1").check_output(
        f"for i in $(seq {KEYS}); do etcdctl put /dr-test/k$i v$i >/dev/null; done")
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert json.loads(Path(f"{snapshot(store)}.json").read_text())["keys"] == KEYS


# -- bad input, on a healthy cluster: the snapshot is refused before anything else ----------------------------
def test_a_healthy_cluster_is_refused(store, tmp_path):
    before = fingerprints()
    report = tmp_path / "report.json"
    proc = recover(store, "-e", f"etcd_report_file={report}")
    refused(proc, before, "The cluster has quorum: 3 of 3 voting members are healthy",
            "This is not a disaster, and nothing was changed.", "replace_member.yml -e node=NAME",
            "etcd_force_recovery=true")
    data = lab.report_of(report, proc, "disaster_recovery.yml", "a refusal (a healthy cluster)", "refused",
                         "The cluster has quorum: 3 of 3 voting members are healthy", changes=[])
    assert data["operation"] == "disaster_recovery" and data["check_mode"] is False
    assert list(data["stopped"]) == ["node1"]


@pytest.mark.skipif(os.environ.get("ETCD_LAB_SUITE", "bookworm") == "bookworm",
                    reason="etcd 3.4's endpoint health ignores alarms (unit tests hold its recorded NOSPACE output)")
def test_a_full_quota_is_not_a_disaster(store, tmp_path):
    """A quorate cluster with the NOSPACE alarm raised: etcd 3.5 calls every member unhealthy. Recovery once took
    that for a lost quorum and rebuilt the cluster from the older snapshot; it must refuse and name the alarm,
    and backup.yml must save the data it holds."""
    node1 = lab.node("node1")
    for name in lab.NODES:
        lab.node(name).check_output("echo ETCD_QUOTA_BACKEND_BYTES=1048576 >> /data/etcd.env"
                                    " && systemctl restart --no-block etcd.service")
    try:
        lab.wait_healthy()
        node1.check_output("head -c 300000 /dev/zero | tr '\\0' x > /var/tmp/fill; for i in $(seq 8); do"
                           " etcdctl put /fill/k$i < /var/tmp/fill >/dev/null 2>&1 || true; done; rm -f /var/tmp/fill")
        assert "alarm:NOSPACE" in node1.check_output("etcdctl alarm list")
        before = fingerprints()
        proc = recover(store)
        refused(proc, before, "The cluster has quorum: 3 of 3 voting members are serving", "Alarm raised: NOSPACE.",
                "rebuilding it from a snapshot would lose every write since that snapshot",
                "etcdctl alarm disarm", "This is not a disaster, and nothing was changed.")
        lab.record_edge(2, "disaster_recovery.yml", "3 of 3 members serve with a leader, NOSPACE raised",
                        "refused before any change: names the alarm and its fix", proc)
        proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={tmp_path}")
        out = lab.flat(proc.stdout)
        assert proc.returncode == 0, out[-3000:]
        assert "ALARM: NOSPACE raised in the cluster; this snapshot holds its data." in out
        [snap] = sorted(tmp_path.glob("*.db"))
        keys = json.loads(Path(f"{snap}.json").read_text())["keys"]
        assert keys > KEYS
        lab.record_edge(2, "backup.yml", "the same cluster, NOSPACE raised", "saved a snapshot of the data",
                        detail=f"exit 0; {keys} keys in the snapshot (the earlier backup: {KEYS}); the summary says "
                        "'ALARM: NOSPACE raised in the cluster; this snapshot holds its data.'")
    finally:
        for name in lab.NODES:
            lab.node(name).run("sed -i '/^ETCD_QUOTA_BACKEND_BYTES=/d' /data/etcd.env"
                               " && systemctl restart --no-block etcd.service")
        for _attempt in range(30):
            if node1.run("etcdctl alarm disarm && etcdctl del --prefix /fill/").rc == 0:
                break
            time.sleep(1)
        lab.wait_healthy()


def test_an_empty_store_is_refused(tmp_path):
    before = fingerprints()
    proc = recover(tmp_path)
    refused(proc, before, f"There is no snapshot to restore: {tmp_path} holds no snapshot made by backup.yml",
            "Nothing was changed.", "-e etcd_snapshot=PATH")


def test_a_missing_snapshot_is_refused(store, tmp_path):
    before = fingerprints()
    proc = recover(store, "-e", f"etcd_snapshot={tmp_path}/nope.db")
    refused(proc, before, f"The snapshot {tmp_path}/nope.db does not exist", "Nothing was changed.")


def test_a_snapshot_of_another_cluster_is_refused(store, tmp_path):
    """Two inventories back up into one store, and their clusters share the token (etcd-cluster): the newest
    snapshot there is the other cluster's. Its metadata names other members: refused (one named with etcd_snapshot
    goes through the same check)."""
    snap = snapshot(store)
    other = tmp_path / "etcd-backups"
    other.mkdir()
    for ext in ("", ".sha256"):
        shutil.copy(f"{snap}{ext}", other / f"{snap.name}{ext}")
    meta = json.loads(Path(f"{snap}.json").read_text())
    meta.update(cluster_id="1234abcd", members=["y1", "y2", "y3"],
                member_peer_urls={f"y{i}": [f"http://10.0.1.{i}:2380"] for i in (1, 2, 3)})
    (other / f"{snap.name}.json").write_text(json.dumps(meta))
    before = fingerprints()
    proc = recover(other)
    refused(proc, before,
            f"{other / snap.name} is a snapshot of another cluster (ID 1234abcd, token etcd-cluster):",
            "its members are y1=http://10.0.1.1:2380, y2=http://10.0.1.2:2380, y3=http://10.0.1.3:2380;"
            f" the play's are node1=http://{lab.address(11)}:2380", "Nothing was changed.",
            "-e etcd_recovery_snapshot_cluster=1234abcd")
    assert sorted(p.name for p in other.iterdir()) == [snap.name, f"{snap.name}.json", f"{snap.name}.sha256"]
    lab.record_edge(1, "disaster_recovery.yml", "the store's newest snapshot is another cluster's (same token)",
                    "refused before any change; every node and the store as they were", proc)


def damaged(store, tmp_path, how, sidecar):
    snap = snapshot(store)
    data = bytearray(snap.read_bytes())
    if how == "flip":
        data[len(data) // 2] ^= 0x01
    else:
        data = data[: len(data) - 1000]
    bad = tmp_path / snap.name
    bad.write_bytes(bytes(data))
    if sidecar:
        shutil.copy(f"{snap}.sha256", f"{bad}.sha256")
    return bad


@pytest.mark.parametrize("how, sidecar, message", [
    ("flip", True, "does not match its sidecar"),
    ("flip", False, "its sha256 trailer does not match its content: the file is corrupted"),
    ("truncate", False, "is not whole 512-byte pages plus etcd's 32-byte sha256 trailer: it is truncated"),
], ids=["differs from its checksum", "corrupted", "truncated"])
def test_a_damaged_snapshot_is_refused(store, tmp_path, how, sidecar, message):
    bad = damaged(store, tmp_path, how, sidecar)
    before = fingerprints()
    proc = recover(store, "-e", f"etcd_snapshot={bad}")
    refused(proc, before, f"The snapshot {bad} ", message, "Nothing was changed.")


# -- two of three members lose their data -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def disaster():
    """node2 and node3 lose their data and quorum is lost: the set-up of the tests below, made once by the first
    that asks for it."""
    lose("node2", "node3")
    assert lab.node("node1").run("ETCDCTL_COMMAND_TIMEOUT=3s etcdctl put /dr-test/lost x").rc != 0


def test_an_unreachable_member_is_refused(store, tmp_path, disaster):
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node3").update(ansible_host=lab.address(99)))
    before = fingerprints()
    proc = recover(store, inv=inv)
    refused(proc, before, "node3 is unreachable over SSH", "Nothing was changed.")


def test_a_member_without_the_etcd_tools_is_refused(store, disaster):
    node2 = lab.node("node2")
    node2.check_output("mv /usr/bin/etcdctl /usr/bin/etcdctl.away")
    try:
        before = fingerprints()
        proc = recover(store)
        refused(proc, before, "node2: etcdctl is not installed on this host", "Nothing was changed.",
                "apt-get install etcd-client etcd-server")
    finally:
        node2.check_output("mv /usr/bin/etcdctl.away /usr/bin/etcdctl")


def test_a_work_dir_another_user_made_is_refused(store, disaster):
    """Issue #24, edge 6. Before, the copy went to /var/tmp/etcd-ops-recovery, a fixed name any user of a member
    could make first (or link elsewhere): the snapshot (every key of the cluster) would have landed in that user's
    dir, where it could be read, or swapped between its check and the restore. Now the default is root's
    /var/lib/etcd-ops/recovery, and a work dir another user made, or a link, is refused before any change."""
    node2 = lab.node("node2")
    uid, works = lab.another_users_work_dirs("node2", "/var/tmp/etcd-ops-recovery")
    try:
        for work in works:
            before = fingerprints()
            proc = recover(store, "-e", f"etcd_recovery_node_dir={work}")
            refused(proc, before, f"node2: The work dir {work} is not safe to hold a snapshot: {work} belongs to uid "
                    f"{uid}, not root.", "Nothing was changed on any member.")
            assert node2.check_output("ls -A /var/tmp/etcd-ops-recovery").strip() == ""
            lab.record_edge(6, "disaster_recovery.yml", f"-e etcd_recovery_node_dir={work}, made by another user "
                            "on node2", "refused before any change", proc, issue=24)
    finally:
        lab.remove_paths("node2", works)


def test_check_mode_prints_the_plan_and_changes_nothing(store, disaster, tmp_path):
    before = fingerprints()
    report = tmp_path / "report.json"
    proc = recover(store, "--check", "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert f"check mode: the plan to rebuild the cluster from {snapshot(store)}; nothing was changed" in out
    data = lab.report_of(report, proc, "disaster_recovery.yml", "check mode", "ok", changes=[])
    assert data["check_mode"] is True and "nothing to move aside" in data["plan"]["node2"]["plan"]
    assert f"move {DATA} aside to {DATA}.<UTC time>" in out  # node1 has data
    assert f"{DATA} holds no data, nothing to move aside" in out  # node2, node3 lost it
    assert fingerprints() == before


def test_an_etcd_snapshot_time_with_no_drilled_snapshot_by_then_is_refused(store, disaster):
    before = fingerprints()
    proc = recover(store, "-e", "etcd_snapshot_time=2020-01-01T00:00:00Z")
    refused(proc, before, f"No snapshot in {store} was taken at or before 2020-01-01T00:00:00Z (1 there, the oldest "
            "taken ", "Nothing was changed. Fix: give a later etcd_snapshot_time")
    proc = recover(store, "-e", "etcd_snapshot_time=2099-01-01 00:00")
    refused(proc, before, f"No snapshot in {store} taken at or before 2099-01-01T00:00:00Z passed a restore drill: 1 "
            f"taken by then, none drilled with success (the newest: {snapshot(store)}", "never drilled",
            "Fix: drill it with verify_backup.yml -e etcd_snapshot=PATH")


def newer_undrilled(store):
    """A later snapshot beside the store's one, never drilled: the same file under a name and a time an hour on."""
    older = snapshot(store)
    meta = json.loads(Path(f"{older}.json").read_text())
    taken = datetime.datetime.strptime(meta["time"], "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(hours=1)
    name = older.name.replace(older.name.split("-r")[0][-16:], taken.strftime("%Y%m%dT%H%M%SZ"))
    newer = store / name
    shutil.copy(older, newer)
    Path(f"{newer}.sha256").write_text(Path(f"{older}.sha256").read_text().replace(older.name, name))
    for field in ("verified_at", "drill_result", "drilled_at", "drill_seconds", "drill"):
        meta.pop(field, None)
    Path(f"{newer}.json").write_text(json.dumps(dict(meta, file=name, time=taken.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    return newer


def test_two_lost_members_are_recovered(store, tmp_path, disaster):
    """Issue #25: the snapshot is drilled while the cluster has no quorum (a drill needs only a member's etcd
    binary), and the recovery takes the newest drilled snapshot at or before etcd_snapshot_time, not a newer one
    that was never drilled."""
    timed = tmp_path / "etcd-backups"
    shutil.copytree(store, timed)
    drilled = snapshot(timed)
    proc = lab.playbook("verify_backup", lab.INVENTORY, "-e", f"etcd_backup_dir={timed}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert json.loads(Path(f"{drilled}.json").read_text())["drill_result"] == "passed"
    newer = newer_undrilled(timed)
    report = tmp_path / "report.json"
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    proc = recover(timed, "-e", f"etcd_report_file={report}", "-e",
                   f"etcd_snapshot_time={now.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    out = assert_recovered(proc)
    assert f"etcd cluster rebuilt from {drilled}" in out and newer.name not in out
    lab.record("drill", "disaster_recovery.yml", "etcd_snapshot_time with a newer snapshot never drilled",
               "restored the newest drilled one", f"{drilled.name}, not {newer.name}")
    assert f"keys: {KEYS} at the restored revision (the snapshot: {KEYS})" in out
    [moved] = aside("node1")
    assert f"node1: {moved}" in out and aside("node2") == aside("node3") == []
    data = json.loads(report.read_text())
    assert data["result"] == "recovered" and data["keys"] == KEYS and data["leader"] in lab.NODES
    assert data["moved_aside"] == {"node1": moved, "node2": "", "node3": ""}
    env = lab.node("node2").check_output("cat /data/etcd.env")
    assert f"ETCD_INITIAL_CLUSTER_TOKEN={data['cluster_token']}" in env
    assert data["cluster_token"].startswith("etcd-cluster-")
    tool_bumps = data["bump_revision"] > 0
    meta = json.loads(Path(f"{snapshot(store)}.json").read_text())
    if tool_bumps:
        assert data["revision"] >= meta["revision"] + data["bump_revision"]
        assert "marked compacted" in out
    else:  # etcd 3.4.23 cannot
        assert "not bumped: etcdctl 3.4.23 cannot" in out


def test_the_recovered_cluster_backs_up_under_its_own_name(tmp_path):
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={tmp_path}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = tmp_path.glob("*.db")
    # the token got the recovery's UTC time; the store's name stays the cluster's, so retention still applies
    assert re.match(r"^etcd-cluster-\d{8}T\d{6}Z-r\d+\.db$", snap.name), snap.name
    assert json.loads(Path(f"{snap}.json").read_text())["keys"] == KEYS


def test_a_second_run_finds_the_recovery_done(store):
    """Check, real, check, real: after the check run's plan and the real run that did it (the tests above), a check
    run and a real one both find nothing to do."""
    before = fingerprints()
    for mode in (("--check",), ()):
        proc = recover(store, *mode)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert (f"etcd cluster already rebuilt from {snapshot(store)} by an earlier run, which verified it; "
                "nothing was changed") in lab.flat(proc.stdout), mode
        assert all(c["changed"] == 0 for c in lab.recap(proc.stdout).values()), proc.stdout[-3000:]
        assert fingerprints() == before, mode


# -- every member lost, the run killed part-way, then run again --------------------------------------------------
def test_stopped_members_and_the_run_killed_between_switch_and_start_then_run_again(store):
    before = {n: aside(n) for n in lab.NODES}
    lose("node1", "node2", "node3", wipe=False)
    proc = recover(store, interrupt_at="Start | Note the time")
    assert "INTERRUPTED at task" in proc.stdout, proc.stdout[-3000:]
    moved = {n: aside(n) for n in lab.NODES}
    assert all(len(moved[n]) == len(before[n]) + 1 for n in lab.NODES)
    proc = recover(store)
    out = assert_recovered(proc)
    assert "(an interrupted run resumed)" in out
    assert {n: aside(n) for n in lab.NODES} == moved  # nothing moved aside a second time
    for name in lab.NODES:  # where the old data is, though this run did not move it
        assert f"{name}: switched by the interrupted run; kept: {', '.join(moved[name])}" in out


def test_a_db_copied_from_a_data_dir_needs_the_explicit_skip_of_the_hash_check(store, tmp_path):
    lose("node1", "node2", "node3", wipe=False)
    raw = tmp_path / "db"  # no `snapshot save` made it: no sha256 trailer, no sidecar, no metadata
    raw.write_bytes(base64.b64decode(lab.node("node1").check_output(f"base64 -w0 {DATA}/member/snap/db")))
    before = fingerprints()
    proc = recover(store, "-e", f"etcd_snapshot={raw}")
    refused(proc, before, "truncated, or a copy of a data dir's db file rather than a `snapshot save` file",
            "only a db file copied from a data dir may be restored with skip_hash_check, knowingly")
    proc = recover(store, "-e", f"etcd_snapshot={raw}", "-e", "etcd_restore_skip_hash_check=true")
    out = assert_recovered(proc)
    assert "keys: not counted" not in out and "(the snapshot: unknown (no metadata))" in out
