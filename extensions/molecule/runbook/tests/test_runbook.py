"""The collection on a cluster set up by hand the runbook's way (not by deploy.yml), with the README's commands
and only the variables the issues promise: etcd_backup_dir for backup.yml, node for replace_member.yml.

The cluster runs TLS with a CA made by `openssl req -x509` (prepare.yml), which has no keyUsage extension: etcd
accepts it, Python 3.13's ssl (the trixie suite's) does not. Issue #21 (4): recovery's health wait failed on
such a cluster after it had switched the members; every check now talks to etcd through etcdctl."""

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest
from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

NAME = re.compile(r"^etcd-cluster-\d{8}T\d{6}Z-r\d+\.db$")
KEYS = 20
ETCDCTL = ("ETCDCTL_CACERT=/data/pki/ca.crt ETCDCTL_CERT=/data/pki/member.crt ETCDCTL_KEY=/data/pki/member.key "
           "ETCDCTL_ENDPOINTS=https://127.0.0.1:2379 etcdctl")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("runbook") / "etcd-backups"


def keys_on(name):
    out = lab.node(name).check_output(f"{ETCDCTL} get /runbook/ --prefix --keys-only")
    return len([line for line in out.splitlines() if line.strip()])


def test_the_ca_has_no_key_usage():
    ca = x509.load_pem_x509_certificate(lab.node("node1").file("/data/pki/ca.crt").content)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.KeyUsage)


@pytest.fixture(scope="module", autouse=True)
def keys():
    """KEYS keys in the cluster before the first test (a set-up step, not a test)."""
    lab.node("node1").check_output(f"for i in $(seq {KEYS}); do {ETCDCTL} put /runbook/k$i v$i >/dev/null; done")


def test_backup_with_only_the_store_set(store):
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = [p for p in store.iterdir() if NAME.match(p.name)]
    meta = json.loads(Path(f"{snap}.json").read_text())
    assert meta["cluster_token"] == "etcd-cluster" and meta["source_endpoint"] == f"https://{lab.address(11)}:2379"
    assert sorted(meta["members"]) == ["node1", "node2", "node3"] and meta["revision"] >= KEYS
    assert Path(f"{snap}.sha256").read_text().split()[0] == hashlib.sha256(snap.read_bytes()).hexdigest()
    lab.record_edge(4, "backup.yml", "etcd_backup_dir only", "saved a snapshot over TLS",
                    detail=f"exit 0; {snap.name}, revision {meta['revision']}")


def test_replace_a_wiped_member_with_only_node_set():
    node2 = lab.node("node2")
    node2.check_output("systemctl stop etcd.service && rm -rf /data/etcd.data")  # the runbook's own wipe
    proc = lab.playbook("replace_member", lab.INVENTORY, "-e", "node=node2")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "replaced member node2 on node2 through node1" in out and "3/3 voting members healthy" in out
    env = node2.file("/data/etcd.env").content_string
    assert "ETCD_INITIAL_CLUSTER_STATE=existing" in env
    assert 'ETCD_DATA_DIR="/data/etcd.data"' in env  # every other line as the operator wrote it
    lab.wait_healthy([node2], etcdctl=ETCDCTL)
    assert keys_on("node2") == KEYS
    listed = json.loads(node2.check_output(f"{ETCDCTL} member list -w json"))["members"]
    assert sorted(m["name"] for m in listed) == ["node1", "node2", "node3"]
    assert not any(m.get("isLearner") for m in listed)
    lab.record_edge(4, "replace_member.yml", "node=node2 only, node2 wiped", "replaced the member",
                    detail=f"exit 0; 3 voting members, {KEYS} keys on node2")


def test_recover_a_lost_cluster_with_only_the_store_set(store):
    for name in ("node2", "node3"):  # two of three lose their data: no quorum
        lab.node(name).check_output("systemctl stop etcd.service && rm -rf /data/etcd.data")
    proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "etcd cluster rebuilt from" in out and "3/3 healthy" in out
    assert f"keys: {KEYS} at the restored revision (the snapshot: {KEYS})" in out
    lab.wait_healthy(etcdctl=ETCDCTL)
    for name in lab.NODES:
        node = lab.node(name)
        assert keys_on(name) == KEYS
        env = node.file("/data/etcd.env").content_string
        assert 'ETCD_DATA_DIR="/data/etcd.data"' in env  # every other line as the operator wrote it
        assert re.search(r"^ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster-\d{8}T\d{6}Z$", env, re.M)
        # the runbook's unit runs etcd as root: the restored data is root's
        assert node.file("/data/etcd.data/member").user == "root"
    lab.record_edge(4, "disaster_recovery.yml", "etcd_backup_dir only, node2 and node3 wiped",
                    "rebuilt the cluster; its health checks pass through etcdctl",
                    detail=f"exit 0; 3/3 healthy, {KEYS} keys on every member")
