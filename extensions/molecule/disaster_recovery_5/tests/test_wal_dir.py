"""Issue #24, edge 2: members with a separate WAL dir (ETCD_WAL_DIR), on four members (node5 removed, as the tests
of test_disaster_recovery_5.py leave it, or by the fixture where they did not run): replace_member moves the WAL
dir aside with the data dir, and refuses before any change where etcd could not make the new member's WAL dir;
disaster_recovery refuses a WAL dir that is a mount point, and restores and switches each WAL dir with its data
dir.

Before the fix, on the lab (etcd 3.4): a forced replace of a member with a WAL dir moved its data dir aside but not
its WAL; etcd started as the removed member from the old WAL and exited ("the member has been permanently removed
from the cluster"), and the cluster was left with an unstarted learner. A recovery whose WAL dir could not be
renamed (a mount point) had switched the data dir first; the re-run counted the member as switched (the data dir's
mark) and started the restored data on the old cluster's WAL: etcd panicked, on every member."""

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

FOUR = ("node1", "node2", "node3", "node4")
OWN = "/data/etcd-wal/wal"  # in a dir of etcd's own: etcd can make a new member's WAL dir there
ROOTS = "/data/etcd.wal"  # beside the env file, in root's /data: etcd cannot
LAYOUT = {"node1": OWN, "node2": OWN, "node3": ROOTS}  # node4 keeps its WAL in the data dir
KEYS = 50
GONE = ("-e", "etcd_recovery_gone_members=node5")


def node(name):
    return lab.node(name, lab.INVENTORY5)


def fingerprints():
    return {n: lab.fingerprint(n, lab.INVENTORY5) for n in FOUR}


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """The inventory of the four members left, and their layout: node1 to node3 get a separate WAL dir, one member at
    a time (stop, move the WAL, name it in the env file, start), as an operator moves the WAL to a disk of its own;
    keys, and a backup in a store of this module's."""
    lab.remove_member("node5", lab.INVENTORY5)
    lab.wait_healthy([node(n) for n in FOUR])
    data = yaml.safe_load(lab.INVENTORY5.read_text())
    del data["all"]["children"]["etcd"]["hosts"]["node5"]
    path = tmp_path_factory.mktemp("wal") / "four.yml"
    path.write_text(yaml.safe_dump(data))
    for name, wal in LAYOUT.items():
        parent = wal.rsplit("/", 1)[0]
        own = f"install -d -o etcd -g etcd -m 0700 {parent} && " if wal == OWN else ""
        node(name).check_output(f"set -e; {own}systemctl stop etcd.service; mv /data/etcd.data/member/wal {wal}; "
                                f"echo ETCD_WAL_DIR={wal} >>/data/etcd.env; systemctl start etcd.service")
        lab.wait_healthy([node(n) for n in FOUR])
    node("node1").check_output(f"for i in $(seq {KEYS}); do etcdctl put /wal/k$i v$i >/dev/null; done")
    store = tmp_path_factory.mktemp("wal-store") / "etcd-backups"
    proc = lab.playbook("backup", path, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return path, store


def wal_files(name, path):
    return node(name).check_output(f"ls {path}/ | grep '\\.wal$' || true").split()


def test_a_member_with_a_wal_dir_is_replaced_and_its_old_wal_moved_aside(four, tmp_path):
    inv, store = four
    old = wal_files("node1", OWN)
    assert old and node("node1").run("test -e /data/etcd.data/member/wal").rc != 0
    report = tmp_path / "report.json"
    proc = lab.playbook("replace_member", inv, "-e", "node=node1", "-e", "etcd_replace_force=true",
                        "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    lab.wait_healthy([node(n) for n in FOUR])
    data = json.loads(report.read_text())
    data_aside, wal_aside = data["moved_aside"].split(",")
    assert data_aside.startswith("/data/etcd.data.2") and wal_aside.startswith(f"{OWN}.2"), data["moved_aside"]
    assert f"node1: moved aside ({wal_aside})" in data["changes"], data["changes"]
    assert wal_files("node1", wal_aside) == old  # kept, never deleted
    assert wal_files("node1", OWN), "etcd made the new member's WAL dir"
    listed = json.loads(node("node2").check_output("etcdctl member list -w json"))["members"]
    assert sorted(m["name"] for m in listed) == list(FOUR) and not any(m.get("isLearner") for m in listed)
    out = node("node1").check_output("etcdctl get /wal/ --prefix --keys-only -w json --consistency=s")
    assert json.loads(out)["count"] == KEYS
    lab.record_edge(2, "replace_member.yml", "node1 with a WAL dir in a dir of etcd's own, forced out",
                    "replaced: the data dir and the WAL dir moved aside, etcd made a new WAL dir; 4/4 healthy", proc,
                    detail=f"moved aside: {data['moved_aside']}", issue=24)


@lab.once("trixie")
def test_a_replace_whose_new_wal_dir_etcd_could_not_make_is_refused(four):
    inv, store = four
    before = fingerprints()
    proc = lab.playbook("replace_member", inv, "-e", "node=node3", "-e", "etcd_replace_force=true")
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0, out[-3000:]
    assert (f"node3: etcd makes a new member's WAL dir {ROOTS} (ETCD_WAL_DIR) by creating {ROOTS}.tmp beside it and "
            "renaming that into place, as the user the unit runs it as (etcd), who cannot write /data (root:root "
            "0755)") in out, out[-3000:]
    assert "Nothing was changed. Fix: let etcd write there (chown etcd /data)" in out
    assert fingerprints() == before
    lab.record_refusal("replace_member.yml", proc, "a WAL dir in root's /data (etcd could not make a new one)",
                       nodes=4)
    lab.record_edge(2, "replace_member.yml", "node3 with its WAL dir in root's /data, forced out",
                    "refused before any change: etcd could not make the new member's WAL dir", proc, issue=24)


@pytest.fixture
def disaster():
    """Three of the four members stopped: no quorum, no survivor naming a leader."""
    for name in ("node2", "node3", "node4"):
        node(name).check_output("systemctl stop etcd.service")
    lab.wait_no_leader([node("node1")])


@lab.once("trixie")
def test_a_wal_dir_that_is_a_mount_point_is_refused_by_a_recovery(four, disaster):
    inv, store = four
    node("node2").check_output(f"mount --bind {OWN} {OWN}")  # a disk of its own, mounted at the WAL dir
    try:
        before = fingerprints()
        proc = lab.playbook("disaster_recovery", inv, "-e", f"etcd_backup_dir={store}", *GONE)
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0, out[-3000:]
        assert (f"node2: the WAL dir {OWN} (ETCD_WAL_DIR) is a mount point. A recovery restores the WAL beside it "
                f"({OWN}.etcd-ops-staging)") in out, out[-3000:]
        assert f"Fix: with etcd stopped, move the WAL files one level down (install -d -o etcd -g etcd -m 0700 " \
               f"{OWN}/wal && mv {OWN}/*.wal {OWN}/wal/)" in out
        assert fingerprints() == before
    finally:
        node("node2").check_output(f"umount {OWN}")
    lab.record_refusal("disaster_recovery.yml", proc, "a WAL dir that is a mount point", nodes=4)
    lab.record_edge(2, "disaster_recovery.yml", "node2's WAL dir is a mount point (3 of 4 members down)",
                    "refused before any change (the data dir was switched first, then the WAL dir's rename failed)",
                    proc, issue=24)


def test_a_recovery_restores_each_wal_dir_with_its_data_dir(four, disaster, tmp_path):
    inv, store = four
    old = {name: wal_files(name, wal) for name, wal in LAYOUT.items()}
    report = tmp_path / "report.json"
    proc = lab.playbook("disaster_recovery", inv, "-e", f"etcd_backup_dir={store}", "-e",
                        f"etcd_report_file={report}", *GONE)
    assert proc.returncode == 0, proc.stdout[-4000:]
    lab.wait_healthy([node(n) for n in FOUR])
    data = json.loads(report.read_text())
    for name, wal in LAYOUT.items():
        data_aside, wal_aside = data["moved_aside"][name].split(",")
        assert data_aside.startswith("/data/etcd.data.2") and wal_aside.startswith(f"{wal}.2"), data["moved_aside"]
        assert wal_files(name, wal_aside) == old[name]
        host = node(name)
        assert wal_files(name, wal), name  # the restored WAL, in the WAL dir
        assert host.run("test -e /data/etcd.data/member/wal").rc != 0, name  # not in the data dir
        assert host.run(f"test -e {wal}/.etcd-ops-restore.json").rc != 0, name  # its mark gone once verified
        assert host.check_output(f"stat -c %U {wal}") == "etcd"
    assert "," not in data["moved_aside"]["node4"]  # no WAL dir of its own
    for name in FOUR:
        out = node(name).check_output("etcdctl get /wal/ --prefix --keys-only -w json --consistency=s")
        assert json.loads(out)["count"] == KEYS, name
    lab.record_edge(2, "disaster_recovery.yml", "3 of 4 members with a WAL dir (two layouts), 3 of 4 down",
                    "recovered: each WAL dir restored and switched with its data dir (WAL dir first), old WAL moved "
                    "aside, its mark removed once verified", proc,
                    detail="moved aside: " + "; ".join(f"{n}: {v}" for n, v in sorted(data["moved_aside"].items())),
                    issue=24)
