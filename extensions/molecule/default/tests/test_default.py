"""A cluster deployed by playbooks/deploy.yml: the runbook's layout, three healthy members, one leader,
a write on one member readable on every other."""

import json
import uuid

import pytest

MEMBERS = {"node1": "172.29.90.11", "node2": "172.29.90.12", "node3": "172.29.90.13"}


ALL = ",".join(f"http://{a}:2379" for a in MEMBERS.values())


def etcdctl(host, args, endpoints="http://127.0.0.1:2379"):
    """Run etcdctl on the node (as the runbook does); on failure show the member's journal."""
    cmd = host.run(f"etcdctl --endpoints={endpoints} {args}")
    if cmd.rc != 0:
        with host.sudo():
            journal = host.run("journalctl -u etcd.service -n 30 --no-pager -o cat").stdout
        pytest.fail(f"etcdctl {args} failed on {host.backend.hostname}: {cmd.stderr}\n{journal}")
    return cmd.stdout


def test_runbook_layout(host):
    name = host.backend.hostname
    env = host.file("/data/etcd.env")
    assert env.is_file and env.mode == 0o644
    content = env.content_string
    assert f"ETCD_NAME={name}\n" in content
    assert "ETCD_DATA_DIR=/data/etcd.data\n" in content
    assert f"ETCD_INITIAL_ADVERTISE_PEER_URLS=http://{MEMBERS[name]}:2380\n" in content
    assert f"ETCD_LISTEN_CLIENT_URLS=http://{MEMBERS[name]}:2379,http://127.0.0.1:2379\n" in content
    assert "ETCD_INITIAL_CLUSTER=" + ",".join(f"{n}=http://{a}:2380" for n, a in MEMBERS.items()) + "\n" in content
    assert "ETCD_INITIAL_CLUSTER_STATE=new\n" in content
    assert "ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster\n" in content

    unit = host.file("/data/etcd.service").content_string
    assert "Type=notify\n" in unit and "User=etcd\n" in unit and "EnvironmentFile=/data/etcd.env\n" in unit
    link = host.file("/etc/systemd/system/etcd.service")
    assert link.is_symlink and link.linked_to == "/data/etcd.service"

    data = host.file("/data/etcd.data")
    assert data.user == "etcd" and data.mode == 0o700
    with host.sudo():
        assert host.file("/data/etcd.data/member").is_directory


def test_etcd_installed_from_debian_packages(host):
    assert host.package("etcd-server").is_installed
    assert host.package("etcd-client").is_installed


def test_service_is_ours_and_debian_unit_does_not_fight(host):
    with host.sudo():
        fragment = host.check_output("systemctl show etcd.service -p FragmentPath --value")
        assert fragment == "/etc/systemd/system/etcd.service"
        assert host.check_output("systemctl is-active etcd.service") == "active"
        assert host.check_output("systemctl is-enabled etcd.service") == "enabled"
        # Debian's alias of its own unit is gone, and no throwaway member runs.
        assert not host.file("/etc/systemd/system/etcd2.service").exists
        pids = host.check_output("pgrep -x etcd").split()
        assert len(pids) == 1
        assert host.check_output(f"ps -o user= -p {pids[0]}") == "etcd"


def test_cluster_members_and_health(host):
    members = json.loads(etcdctl(host, "member list -w json"))["members"]
    assert sorted(m["name"] for m in members) == sorted(MEMBERS)
    for m in members:
        assert m["peerURLs"] == [f"http://{MEMBERS[m['name']]}:2380"]
        assert m["clientURLs"] == [f"http://{MEMBERS[m['name']]}:2379"]
        assert not m.get("isLearner", False)
    health = json.loads(etcdctl(host, "endpoint health -w json", ALL))
    assert len(health) == 3 and all(h["health"] for h in health)


def test_one_leader(host):
    status = json.loads(etcdctl(host, "endpoint status -w json", ALL))
    leaders = {s["Status"]["leader"] for s in status}
    assert len(status) == 3 and len(leaders) == 1 and 0 not in leaders


def test_a_write_replicates_to_every_member(host):
    if host.backend.hostname != "node1":
        pytest.skip("written once, from node1")
    key, value = f"/etcd-ops-test/{uuid.uuid4()}", str(uuid.uuid4())
    etcdctl(host, f"put {key} {value}")
    for address in MEMBERS.values():
        got = etcdctl(host, f"get {key} --print-value-only", f"http://{address}:2379").strip()
        assert got == value, f"{address} does not have the write"
