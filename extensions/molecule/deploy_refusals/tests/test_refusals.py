"""deploy.yml with bad input, run as a user runs it: each refusal names the host, the problem and the
fix, and leaves every node exactly as it was."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab


@pytest.fixture(scope="module")
def before():
    return {name: lab.fingerprint(name) for name in lab.NODES}


def assert_unchanged(before):
    for name in lab.NODES:
        assert lab.fingerprint(name) == before[name], f"{name} changed"


def refused(proc, *phrases):
    out = lab.flat(proc.stdout + proc.stderr)
    assert proc.returncode != 0, out[-3000:]
    for phrase in phrases:
        assert phrase in out, f"{phrase!r} not in output:\n{out[-3000:]}"


def test_nodes_are_bare(before):
    for name, fp in before.items():
        assert fp["packages"].strip() == "", f"{name} already has etcd"
        assert fp["processes"].strip() == ""


def test_unreachable_member(before, tmp_path):
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node3").update(ansible_host="172.29.90.99"))
    proc = lab.playbook("deploy", inv)
    refused(proc, "node3 (172.29.90.99) is unreachable", "Nothing was changed on any member",
            "Fix: check the host's address (ansible_host)")
    assert_unchanged(before)


def test_member_without_sudo(before, tmp_path):
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node2").update(ansible_user="nosudo"))
    proc = lab.playbook("deploy", inv)
    refused(proc, "node2: nosudo cannot become root with sudo", "Fix: give nosudo sudo rights")
    assert "cannot become root" not in lab.flat(proc.stdout).replace("node2: nosudo cannot become root", "")
    assert_unchanged(before)


def test_address_the_host_does_not_have(before, tmp_path):
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node2").update(etcd_address="10.9.9.9"))
    proc = lab.playbook("deploy", inv)
    refused(proc, "node2: etcd_address '10.9.9.9' is not an address of this host (it has 172.29.90.12",
            "Fix: set etcd_address for node2 in the inventory")
    assert_unchanged(before)


def test_port_already_taken(before):
    node1 = lab.node("node1")
    node1.check_output("systemd-run --unit=squatter python3 -m http.server 2380 --bind 0.0.0.0")
    try:
        node1.check_output("for i in $(seq 50); do ss -Htln | grep -q ':2380 ' && exit 0; sleep 0.1; done; exit 1")
        squatted = lab.fingerprint("node1")
        proc = lab.playbook("deploy")
        refused(proc, "node1: port 2380 on 0.0.0.0 is taken by python3 (pid",
                "Fix: stop that program, or move etcd to free ports")
        assert lab.fingerprint("node1") == squatted
    finally:
        node1.run("systemctl stop squatter.service")
    assert_unchanged(before)


def test_extra_env_that_deploy_writes_itself(before):
    proc = lab.playbook("deploy", lab.INVENTORY, "-e", '{"etcd_extra_env": {"ETCD_NAME": "other"}}')
    refused(proc, "etcd_extra_env may only add ETCD_* settings that deploy does not write itself")
    assert_unchanged(before)


def test_check_mode_changes_nothing(before):
    proc = lab.playbook("deploy", lab.INVENTORY, "--check")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "[check mode: nothing was changed]" in out
    assert all(counts["changed"] > 0 for counts in lab.recap(proc.stdout).values())
    assert_unchanged(before)


def test_new_member_beside_a_running_cluster_is_refused(tmp_path):
    """Two members deployed, then a third host added to the group: starting it as a new cluster would
    split the cluster, so deploy refuses and changes nothing on any of the three."""
    two = lab.inventory(tmp_path, lambda d: d["all"]["children"]["etcd"]["hosts"].pop("node3"))
    first = lab.playbook("deploy", two)
    assert first.returncode == 0, first.stdout[-3000:]
    running = {name: lab.fingerprint(name) for name in lab.NODES}

    proc = lab.playbook("deploy")
    refused(proc, "node3 has no data, while node1, node2 already run a cluster that was not bootstrapped "
                  "with this inventory's members", "replace_member.yml -e node=NAME")
    for name in lab.NODES:
        assert lab.fingerprint(name) == running[name], f"{name} changed"
