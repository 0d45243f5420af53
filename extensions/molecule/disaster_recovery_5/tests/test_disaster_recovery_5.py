"""disaster_recovery.yml on five members as a user runs it (README commands, over SSH+sudo): three of five lose
their data, the cluster is rebuilt from the newest snapshot on all five. A rebuild of five takes no path a rebuild of
three does not (scenario disaster_recovery, on both versions): the test command runs these on 3.5 only (lab.once)."""

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

INVENTORY = lab.INVENTORY5
NODES = ("node1", "node2", "node3", "node4", "node5")
KEYS = 200


def node(name):
    return lab.node(name, INVENTORY)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


@lab.once("trixie")
def test_five_members_back_up(store):
    node("node1").check_output(f"for i in $(seq {KEYS}); do etcdctl put /five/k$i v$i >/dev/null; done")
    proc = lab.playbook("backup", INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = store.glob("*.db")
    meta = json.loads(Path(f"{snap}.json").read_text())
    assert meta["keys"] == KEYS and sorted(meta["members"]) == list(NODES)


def fingerprints():
    return {n: lab.fingerprint(n, INVENTORY) for n in NODES}


@lab.once("trixie")
def test_a_play_of_two_lost_members_beside_three_that_serve_is_refused(store, tmp_path):
    """The play names only the two members that lost their data; the other three still have quorum. A rebuild of
    the two would make a second cluster: the members the env files name outside the play are asked, and refused."""
    for name in ("node4", "node5"):
        node(name).check_output("systemctl stop etcd.service && rm -rf /data/etcd.data")
    data = yaml.safe_load(INVENTORY.read_text())
    hosts = data["all"]["children"]["etcd"]["hosts"]
    for name in ("node1", "node2", "node3"):
        del hosts[name]
    two = tmp_path / "two.yml"
    two.write_text(yaml.safe_dump(data))
    before = fingerprints()
    for extra in ([], ["-e", "etcd_recovery_gone_members=node1,node2,node3"]):
        proc = lab.playbook("disaster_recovery", two, "-e", f"etcd_backup_dir={store}", *extra)
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0, out[-3000:]
        assert "name members that this play leaves out" in out, out[-3000:]
        for name in ("node1", "node2", "node3"):
            assert f"{name} http://{lab.address(10 + int(name[-1]))}:2380: etcd answers at" in out, out[-3000:]
        assert "with a leader" in out and "would make a second cluster" in out
        assert "node1, node2, node3 still run etcd" in out and "replace_member.yml -e node=NAME" in out
        assert fingerprints() == before
        lab.record_refusal("disaster_recovery.yml", proc, "the play holds 2 of 5 members, 3 still serve" +
                           (" (named gone)" if extra else ""), nodes=5)
        lab.record_edge(5, "disaster_recovery.yml", "the play holds 2 of 5 members, 3 still serve" +
                        (" (named gone with etcd_recovery_gone_members)" if extra else ""),
                        "refused before any change: the members left out answer with a leader", proc)


@lab.once("trixie")
def test_three_of_five_lose_their_data_and_the_cluster_is_rebuilt(store, tmp_path):
    for name in ("node3", "node4", "node5"):
        node(name).check_output("systemctl stop etcd.service && rm -rf /data/etcd.data")
    lab.wait_no_leader([node("node1"), node("node2")])  # a disaster that has settled: no survivor names a leader
    report = tmp_path / "report.json"
    proc = lab.playbook("disaster_recovery", INVENTORY, "-e", f"etcd_backup_dir={store}",
                        "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    lab.wait_healthy([node(n) for n in NODES])
    data = json.loads(report.read_text())
    assert sorted(data["members"]) == list(NODES) and data["keys"] == KEYS
    assert data["moved_aside"]["node1"] and data["moved_aside"]["node2"] and not data["moved_aside"]["node5"]
    listed = json.loads(node("node4").check_output("etcdctl member list -w json"))["members"]
    assert sorted(m["name"] for m in listed) == list(NODES) and not any(m.get("isLearner") for m in listed)
    for name in NODES:
        out = node(name).check_output("etcdctl get /five/ --prefix --keys-only --limit=1 -w json --consistency=s")
        assert json.loads(out)["count"] == KEYS, name
    print(lab.flat(proc.stdout)[-1500:])


@lab.once("trixie")
def test_an_even_sized_cluster_is_not_made_to_lose_quorum_by_a_replace(tmp_path):
    """Issue #24, edge 1. Four voting members (node5 removed), node3 down, node4 forced out: replace_member stops
    node4 before removing its entry, and until then 3 of the 4 voters are needed. Before the fix it went on (2 of 3
    others healthy was enough for the 3 left after the removal), stopped node4, moved its data aside, and its
    removal failed: the cluster had lost quorum. Now it is refused with every node as it was, and the fix it names
    (replace node3 first) works."""
    lab.remove_member("node5", INVENTORY)
    data = yaml.safe_load(INVENTORY.read_text())
    del data["all"]["children"]["etcd"]["hosts"]["node5"]
    four = tmp_path / "four.yml"
    four.write_text(yaml.safe_dump(data))
    node("node3").check_output("systemctl stop etcd.service")
    before = {n: lab.fingerprint(n, INVENTORY) for n in NODES[:4]}
    report = tmp_path / "report.json"
    proc = lab.playbook("replace_member", four, "-e", "node=node4", "-e", "etcd_replace_force=true",
                        "-e", f"etcd_report_file={report}")
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0, out[-3000:]
    assert ("only 2 of 3 are healthy (3 needed: node4 is stopped before its entry is removed, and until then the "
            "cluster has 4 voting members, 3 of them needed for quorum; down: node3)") in out, out[-3000:]
    assert "or replace it first (replace_member.yml -e node=node3)" in out
    assert {n: lab.fingerprint(n, INVENTORY) for n in NODES[:4]} == before
    lab.record_refusal("replace_member.yml", proc, "4 members, node3 down, node4 forced out", nodes=4)
    lab.report_of(report, proc, "replace_member.yml", "a refusal (4 members, node3 down, node4 forced out)",
                  "refused", "Replacing node4 needs the other voting members to keep quorum", changes=[])
    lab.record_edge(1, "replace_member.yml", "4 voting members, node3 down, node4 (healthy) forced out",
                    "refused before any change: 3 of the 4 voters are needed until node4's entry is removed", proc,
                    issue=24)
    proc = lab.playbook("replace_member", four, "-e", "node=node3")
    assert proc.returncode == 0, proc.stdout[-3000:]
    lab.wait_healthy([node(n) for n in NODES[:4]])
    listed = json.loads(node("node4").check_output("etcdctl member list -w json"))["members"]
    assert sorted(m["name"] for m in listed) == list(NODES[:4]) and not any(m.get("isLearner") for m in listed)
