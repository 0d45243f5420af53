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
import subprocess
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
@lab.once("bookworm")
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


@lab.once("bookworm")
def test_an_empty_store_is_refused(tmp_path):
    before = fingerprints()
    proc = recover(tmp_path)
    refused(proc, before, f"There is no snapshot to restore: {tmp_path} holds no snapshot made by backup.yml",
            "Nothing was changed.", "-e etcd_snapshot=PATH")


@lab.once("bookworm")
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


@lab.once("bookworm")
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


@lab.once("bookworm")
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


@lab.once("bookworm")
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


@lab.once("bookworm")
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


@lab.once("trixie")
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


# -- under Kubernetes: the kube-apiservers stopped around the switch, and the site's hooks (issue #26) ------------
FILES = Path(__file__).resolve().parents[1] / "files"
HOOKS = Path(__file__).resolve().parents[4] / "tests" / "lab" / "hooks"
MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ASIDE = "/etc/kubernetes/etcd-ops-stopped"
STANDIN_LOG = "/var/log/kube-apiserver-standin.log"
HOOK_LOG = "/var/log/etcd-ops-hook.log"
KUBE = ("-e", "etcd_recovery_kube_apiserver=true", "-e", "etcd_recovery_kube_group=etcd")
UNITS = {
    "kube-apiserver.service": "[Service]\nExecStart=/usr/local/bin/kube-apiserver\nRestart=always\n"
                              "[Install]\nWantedBy=multi-user.target\n",
    # the kubelet's part for a static pod: the stand-in runs while the manifest is there
    "fake-kubelet.path": f"[Path]\nPathExists={MANIFEST}\n[Install]\nWantedBy=multi-user.target\n",
    "fake-kubelet.service": f"[Service]\nEnvironment=MANIFEST={MANIFEST}\nExecStart=/usr/local/bin/kube-apiserver\n",
}
STATIC = "node2"  # node1 and node3 run it as a systemd unit


def put(name, path, text, mode="644"):
    data = base64.b64encode(text.encode()).decode()
    lab.node(name).check_output(
        f"mkdir -p $(dirname {path}) && echo {data} | base64 -d > {path} && chmod {mode} {path}")


def apiserver_running(name):
    return lab.node(name).run("pgrep -x kube-apiserver").rc == 0


def wait_apiservers(running, names=lab.NODES):
    for _attempt in range(60):
        if all(apiserver_running(n) == running for n in names):
            return
        time.sleep(0.5)
    raise AssertionError({n: apiserver_running(n) for n in names})


@pytest.fixture(scope="module")
def apiservers():
    """A stand-in kube-apiserver on each member (files/kube-apiserver: it logs the cluster its member's etcd shows):
    node1 and node3 run it as kube-apiserver.service, node2 as a static pod whose kubelet is a path unit."""
    for name in lab.NODES:
        # a script's own name is its process's name (the kernel's comm), as a real kube-apiserver's
        put(name, "/usr/local/bin/kube-apiserver", "#!/usr/bin/python3\n" + (FILES / "kube-apiserver.py").read_text(),
            "755")
        units = ["fake-kubelet.path", "fake-kubelet.service"] if name == STATIC else ["kube-apiserver.service"]
        for unit in units:
            put(name, f"/etc/systemd/system/{unit}", UNITS[unit])
        if name == STATIC:
            put(name, MANIFEST, "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver}\n", "600")
        lab.node(name).check_output(f"systemctl daemon-reload && systemctl enable --now {units[0]}")
    wait_apiservers(True)
    yield
    for name in [n for n in lab.NODES if lab.running(n)]:  # the last test replaces the machines
        lab.node(name).run("systemctl disable --now kube-apiserver.service fake-kubelet.path fake-kubelet.service; "
                           "rm -rf /etc/systemd/system/kube-apiserver.service /etc/systemd/system/fake-kubelet.* "
                           f"/etc/kubernetes /usr/local/bin/kube-apiserver {STANDIN_LOG} {HOOK_LOG}; "
                           "systemctl daemon-reload")


def standin_log(name):
    """The stand-in's log on a node: (wall time, monotonic time, what) per line."""
    out = lab.node(name).check_output(f"cat {STANDIN_LOG}")
    return [(float(w), float(m), what) for w, m, what in (line.split(" ", 2) for line in out.splitlines())]


def without_data_mtime(prints):
    return {n: dict(p, data=re.sub(r"^(/data d \S+ \S+ \S+) \S+$", r"\1", p["data"], flags=re.M))
            for n, p in prints.items()}


def cluster_id(name="node1"):
    return "%x" % json.loads(lab.node(name).check_output("etcdctl endpoint status -w json"))[0]["Status"]["header"][
        "cluster_id"]


def hook_log(name):
    out = lab.node(name).run(f"cat {HOOK_LOG}").stdout
    return [line.split(" ") for line in out.splitlines()]


@lab.once("trixie")
def test_kube_apiservers_a_failed_hook_and_a_recovery_between_them(store, tmp_path, apiservers):
    """Issue #26. Two members lost, a stand-in apiserver on each member (two systemd units, one static pod).
    A host with no apiserver found is refused and check mode prints the plan, both changing nothing; a hook that
    fails before the switch gets every apiserver started again and the after_start hooks run, every member as it
    was; then the recovery stops them before the switch and starts them after its checks, and node1's stand-in,
    which watched the old cluster to the end, never saw it after the switch."""
    old = cluster_id()
    kept = aside("node1")
    lose("node2", "node3")
    before = fingerprints()
    proc = recover(store, *KUBE, "-e", "etcd_recovery_kube_unit=nope.service")
    refused(proc, before, "node1: no kube-apiserver was found: no static pod manifest", "no systemd unit nope.service",
            "node3: no kube-apiserver was found", "Nothing was changed.")
    assert "node2: no kube-apiserver" not in lab.flat(proc.stdout)
    proc = recover(store, *KUBE, "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert "kube-apiserver: stopped before the switch, started again after the checks:" in out
    assert f"node2: static pod (running): manifest moved to {ASIDE}/kube-apiserver.yaml" in out
    assert "node1: kube-apiserver.service: stopped" in out and "node3: kube-apiserver.service: stopped" in out
    assert fingerprints() == before
    wait_apiservers(True)

    # a hook that fails before the switch: everything started again, no member switched
    report = tmp_path / "failed.json"
    proc = recover(store, *KUBE, "-e", f"etcd_report_file={report}", "-e",
                   f"etcd_recovery_hooks_before_stop={HOOKS / 'hook-fails.yml'}",
                   "-e", f"etcd_recovery_hooks_after_start={HOOKS / 'hook.yml'}")
    assert proc.returncode != 0 and "the site's quiesce step failed" in lab.flat(proc.stdout), proc.stdout[-3000:]
    wait_apiservers(True)
    assert lab.node(STATIC).run(f"ls -A {ASIDE}").stdout.strip() == ""
    data = json.loads(report.read_text())
    assert data["status"] == "failed" and "the site's quiesce step failed" in data["message"]
    assert data["kube_apiservers"]["node2"]["stopped"].startswith("static pod (running): manifest moved to")
    assert data["kube_apiservers"]["node2"]["started"] == f"static pod: manifest moved back to {MANIFEST}"
    assert data["kube_apiservers"]["node1"]["started"] == "kube-apiserver.service: started"
    for name in lab.NODES:  # on every member of the play
        assert [h[1:4] for h in hook_log(name)] == [["disaster_recovery", "after_start", "recover"]], name
    assert "staging dir and copy removed again (the run stopped before its switch)" in " ".join(data["changes"])
    assert lab.node("node1").service("etcd").is_running and aside("node1") == kept
    # as it was, but for the mtime of /data itself: the staging dir was made in it, and removed
    assert without_data_mtime(fingerprints()) == without_data_mtime(before)
    for name in lab.NODES:  # no copy of the snapshot left on a node
        assert lab.node(name).run("ls -A /var/lib/etcd-ops/recovery 2>/dev/null").stdout.strip() == ""

    # the recovery: stopped before the switch, started after the checks
    for name in lab.NODES:
        lab.node(name).check_output(f"rm -f {HOOK_LOG}")
    report = tmp_path / "report.json"
    hook = str(HOOKS / "hook.yml")
    proc = recover(store, *KUBE, "-e", f"etcd_report_file={report}", "-e", f"etcd_recovery_hooks_before_stop={hook}",
                   "-e", f"etcd_recovery_hooks_after_start={hook}")
    out = assert_recovered(proc)
    wait_apiservers(True)
    new = cluster_id()
    assert new != old
    assert re.search(r"kube-apiserver: stopped before the switch, started again after the checks: down [0-9.]+s", out)
    assert (f"node2: static pod (running): manifest moved to {ASIDE}/kube-apiserver.yaml; then static pod: manifest "
            f"moved back to {MANIFEST}") in out
    assert "node1: kube-apiserver.service: stopped; then kube-apiserver.service: started" in out
    assert f"hooks before the switch: {hook}" in out and f"hooks after the start: {hook}" in out
    data = json.loads(report.read_text())
    assert data["seconds"]["quiesced"] > 0 and data["hooks"] == {"before_stop": [hook], "after_start": [hook]}
    assert all(k["running"] for k in data["kube_apiservers"].values())
    lab.record("kubernetes", "disaster_recovery.yml", "etcd_recovery_kube_apiserver with hooks",
               "apiservers stopped before the switch and started after the checks",
               f"down {data['seconds']['quiesced']} s")
    # node1's etcd stopped for the switch after its stand-in stopped; the stand-in saw only the new cluster after
    switched = int(lab.node("node1").check_output(
        "systemctl show etcd.service -p InactiveEnterTimestampMonotonic --value")) / 1e6
    log = standin_log("node1")
    stops = [mono for _wall, mono, what in log if what == "stop"]
    assert stops and max(s for s in stops if s < switched) < switched
    last_stop = max(s for s in stops if s < switched)
    assert [w for _wall, mono, w in log if mono < last_stop and w.startswith("seen ")][-1].startswith(f"seen {old} ")
    after = [w for _wall, mono, w in log if mono > switched]
    assert after[0] == "start" and after.count("start") == 1
    assert [w for w in after if w.startswith("seen ")]
    assert all(w.startswith(f"seen {new} ") for w in after if w != "start")
    # the hooks ran on every member at their points, after the apiservers stopped and after they started
    for name in lab.NODES:
        points = hook_log(name)
        assert [p[1:4] for p in points] == [["disaster_recovery", "before_stop", "recover"],
                                            ["disaster_recovery", "after_start", "recover"]], name
        assert points[0][4] == "node1,node2,node3"
    walls = {w: [wall for wall, _mono, what in log if what == w] for w in ("stop", "start")}
    assert walls["stop"][-1] < float(hook_log("node1")[0][0]) < walls["start"][-1] < float(hook_log("node1")[1][0])


# -- every member lost, the run killed part-way, then run again --------------------------------------------------
@lab.once("trixie")
def test_stopped_members_and_the_run_killed_between_switch_and_start_then_run_again(store, apiservers):
    """With the kube-apiservers (issue #26): the killed run leaves them stopped; the next one finds them so and
    starts them after its checks."""
    before = {n: aside(n) for n in lab.NODES}
    lose("node1", "node2", "node3", wipe=False)
    proc = recover(store, *KUBE, interrupt_at="Start | Note the time")
    assert "INTERRUPTED at task" in proc.stdout, proc.stdout[-3000:]
    moved = {n: aside(n) for n in lab.NODES}
    assert all(len(moved[n]) == len(before[n]) + 1 for n in lab.NODES)
    wait_apiservers(False)
    assert lab.node(STATIC).check_output(f"ls {ASIDE}").split() == ["kube-apiserver.yaml"]
    assert lab.node("node1").check_output(f"ls {ASIDE}").split() == ["kube-apiserver.service.stopped"]
    proc = recover(store, *KUBE)
    out = assert_recovered(proc)
    assert "(an interrupted run resumed)" in out
    wait_apiservers(True)
    assert ("node1: kube-apiserver.service: stopped already by an earlier run; then kube-apiserver.service: "
            "started") in out
    assert (f"node2: static pod: stopped already by an earlier run (its manifest is in {ASIDE}/kube-apiserver.yaml); "
            "then static pod: manifest moved back") in out
    assert all(lab.node(n).run(f"ls -A {ASIDE}").stdout.strip() == "" for n in lab.NODES)
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


# -- onto new machines (issue #26): last, since it replaces the scenario's machines --------------------------------
BUCKET, S3_PREFIX = "etcd-backups", "lab/etcd/"


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    """A real S3 server on the controller's loopback (SeaweedFS) and backup.yml's upload to it, of the cluster as
    the tests above left it; the machines new_machine makes for the tests below are removed after them."""
    import s3lab

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID=s3lab.ACCESS_KEY, AWS_SECRET_ACCESS_KEY=s3lab.SECRET_KEY)
    s3_vars = ("-e", "etcd_recovery_source=s3", "-e", f"etcd_s3_bucket={BUCKET}", "-e", f"etcd_s3_prefix={S3_PREFIX}",
               "-e", f"etcd_s3_endpoint={s3lab.ENDPOINT}", "-e", f"etcd_s3_region={s3lab.REGION}")
    try:
        with s3lab.server(tmp_path_factory.mktemp("seaweedfs")) as client:
            lab.wait_healthy()
            proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={tmp_path_factory.mktemp('b')}",
                                *s3_vars[2:])
            assert proc.returncode == 0, proc.stdout[-3000:]
            metas = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]
                     if o["Key"].endswith(".db.json")]
            meta = json.loads(client.get_object(Bucket=BUCKET, Key=sorted(metas)[-1])["Body"].read())
            assert meta["config"]["members"] == ["node1", "node2", "node3"]
            yield dict(s3=client, s3_vars=s3_vars, cluster_id=meta["cluster_id"])
    finally:
        for name in ("new2", "new3", "fresh1", "fresh2", "fresh3"):
            lab.remove_machine(name)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def moved_to(tmp_path, name, **where):
    """An inventory whose hosts are at the given lab addresses (node2=32: node2 at address(32))."""
    def change(data):
        for host, number in where.items():
            lab.hostvars(data, host)["ansible_host"] = lab.address(number)
    path = lab.inventory(tmp_path, change)
    return path.rename(path.with_name(f"{name}.yml"))


def new_machines(**where):
    """The scenario's machines of those hosts gone (their containers stopped), new empty ones at new addresses."""
    for host, (machine, number) in where.items():
        subprocess.run(["docker", "stop", lab.container(host)], capture_output=True, check=True)
        lab.new_machine(machine, number)


def bare(name, inv):
    """A machine with nothing set up: no etcd package, no env file, no unit."""
    fp = lab.fingerprint(name, inv)
    return "etcd-server install ok installed" not in fp["packages"] and "/data/etcd.env" not in fp["data"]


def assert_on_new_machines(proc, inv, addresses):
    assert proc.returncode == 0, proc.stdout[-4000:]
    hosts = [lab.node(n, inv) for n in lab.NODES]
    lab.wait_healthy(hosts)
    listed = json.loads(hosts[0].check_output("etcdctl member list -w json"))["members"]
    assert sorted((m["name"], m["peerURLs"][0]) for m in listed) == [
        (n, f"http://{lab.address(a)}:2380") for n, a in zip(lab.NODES, addresses, strict=True)]
    for host in hosts:
        kvs = json.loads(host.check_output("etcdctl get /dr-test/ --prefix -w json --consistency=s")).get("kvs", [])
        assert len(kvs) == KEYS
        assert host.service("etcd").is_enabled
    return lab.flat(proc.stdout)


# On etcd 3.4 (lab 91 in the test command, where there is time to spare); the tls scenario recovers a TLS cluster
# onto new machines on 3.5.
@pytest.mark.skipif(lab.SUITE != "bookworm", reason="runs on etcd 3.4; the tls scenario covers 3.5")
def test_new_machines_beside_a_kept_one_are_recovered_from_the_bucket(bucket, tmp_path):
    """Mixed: node1 keeps its machine (its etcd stopped, its data there), node2 and node3 are new empty machines at
    new addresses: refused without etcd_recovery_new_hosts, with the fix named and nothing changed; with it, set up
    from the bucket's recovery bundle alone (an empty store) and recovered."""
    lose("node1", "node2", "node3", wipe=False)
    new_machines(node2=("new2", 32), node3=("new3", 33))
    inv = moved_to(tmp_path, "mixed", node2=32, node3=33)
    kept = lab.fingerprint("node1", inv)
    store = tmp_path / "empty-store"
    proc = recover(store, *bucket["s3_vars"], inv=inv)
    assert proc.returncode != 0
    assert ("node2, node3 have no /data/etcd.env: etcd is not set up there (a new machine?). Nothing was changed. "
            "Fix: run this again with -e etcd_recovery_new_hosts=true") in lab.flat(proc.stdout), proc.stdout[-3000:]
    assert bare("node2", inv) and bare("node3", inv) and lab.fingerprint("node1", inv) == kept
    lab.record_refusal("disaster_recovery.yml", proc)

    proc = recover(store, *bucket["s3_vars"], "-e", "etcd_recovery_new_hosts=true", inv=inv)
    out = assert_on_new_machines(proc, inv, (11, 32, 33))
    for name, number in (("node2", 32), ("node3", 33)):
        assert (f"new host {name}: etcd installed, env file and unit written from the recovery bundle (member {name}, "
                f"its own), member {name} at {lab.address(number)}") in out
        env = lab.node(name, inv).check_output("cat /data/etcd.env")
        assert f"ETCD_ADVERTISE_CLIENT_URLS=http://{lab.address(number)}:2379" in env
        assert f"ETCD_NAME={name}" in env
    assert "new hosts " in out and len(sorted(store.glob("*.db.config.json"))) == 1  # the bundle kept in the store


@pytest.mark.skipif(lab.SUITE != "bookworm", reason="runs on etcd 3.4; the tls scenario covers 3.5")
@lab.full_only("the tls scenario recovers all three members onto new machines at new addresses, from the bucket")
def test_then_all_three_are_new_machines_named_as_the_snapshot_s_cluster(bucket, tmp_path):
    """All three machines gone (the test before's new ones removed, the scenario's stopped): new ones at other
    addresses, the same snapshot from the bucket. No peer URL is the snapshot's: refused until its cluster is named,
    then recovered so."""
    for name in ("new2", "new3"):
        lab.remove_machine(name)
    new_machines(node1=("fresh1", 41), node2=("fresh2", 42), node3=("fresh3", 43))
    inv = moved_to(tmp_path, "all-new", node1=41, node2=42, node3=43)
    store = tmp_path / "another-empty-store"
    proc = recover(store, *bucket["s3_vars"], "-e", "etcd_recovery_new_hosts=true", inv=inv)
    assert proc.returncode != 0
    out = lab.flat(proc.stdout)
    assert f"is a snapshot of another cluster (ID {bucket['cluster_id']}" in out, out[-3000:]
    assert (f"-e etcd_recovery_snapshot_cluster={bucket['cluster_id']}. New machines at new addresses share no peer "
            "URL with the snapshot's members: if node1, node2, node3 are the cluster's new machines, that is the "
            "fix.") in out
    assert all(bare(n, inv) for n in lab.NODES)
    lab.record_refusal("disaster_recovery.yml", proc)

    proc = recover(store, *bucket["s3_vars"], "-e", "etcd_recovery_new_hosts=true",
                   "-e", f"etcd_recovery_snapshot_cluster={bucket['cluster_id']}", inv=inv)
    out = assert_on_new_machines(proc, inv, (41, 42, 43))
    assert out.count("new host node") == 3
