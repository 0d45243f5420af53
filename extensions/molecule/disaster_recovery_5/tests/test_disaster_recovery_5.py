"""disaster_recovery.yml on five members as a user runs it (README commands, over SSH+sudo): three of five lose
their data, the cluster is rebuilt from the newest snapshot on all five."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

INVENTORY = lab.TOP / "tests" / "lab" / "inventory5.yml"
NODES = ("node1", "node2", "node3", "node4", "node5")
KEYS = 200


def node(name):
    return lab.node(name, INVENTORY)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


def test_five_members_back_up(store):
    node("node1").check_output(f"for i in $(seq {KEYS}); do etcdctl put /five/k$i v$i >/dev/null; done")
    proc = lab.playbook("backup", INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = store.glob("*.db")
    meta = json.loads(Path(f"{snap}.json").read_text())
    assert meta["keys"] == KEYS and sorted(meta["members"]) == list(NODES)


def test_three_of_five_lose_their_data_and_the_cluster_is_rebuilt(store, tmp_path):
    for name in ("node3", "node4", "node5"):
        node(name).check_output("systemctl stop etcd.service && rm -rf /data/etcd.data")
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
