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


def assert_unchanged(before, proc=None):
    for name in lab.NODES:
        assert lab.fingerprint(name) == before[name], f"{name} changed"
    if proc is not None:  # a refusal: a row of docs/reliability.md
        lab.record_refusal("deploy.yml", proc)


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
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node3").update(ansible_host=lab.address(99)))
    proc = lab.playbook("deploy", inv)
    refused(proc, f"node3 ({lab.address(99)}) is unreachable", "Nothing was changed on any member",
            "Fix: check the host's address (ansible_host)")
    assert_unchanged(before, proc)


def test_member_without_sudo(before, tmp_path):
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node2").update(ansible_user="nosudo"))
    proc = lab.playbook("deploy", inv)
    refused(proc, "node2: nosudo cannot become root with sudo", "Fix: give nosudo sudo rights")
    assert "cannot become root" not in lab.flat(proc.stdout).replace("node2: nosudo cannot become root", "")
    assert_unchanged(before, proc)


def test_address_the_host_does_not_have(before, tmp_path):
    inv = lab.inventory(tmp_path, lambda d: lab.hostvars(d, "node2").update(etcd_address="10.9.9.9"))
    proc = lab.playbook("deploy", inv)
    refused(proc, f"node2: etcd_address '10.9.9.9' is not an address of this host (it has {lab.address(12)}",
            "Fix: set etcd_address for node2 in the inventory")
    assert_unchanged(before, proc)


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
    assert_unchanged(before, proc)


def test_extra_env_that_deploy_writes_itself(before):
    proc = lab.playbook("deploy", lab.INVENTORY, "-e", '{"etcd_extra_env": {"ETCD_NAME": "other"}}')
    refused(proc, "etcd_extra_env may only add ETCD_* settings that deploy does not write itself")
    assert_unchanged(before, proc)


def test_check_mode_changes_nothing(before):
    proc = lab.playbook("deploy", lab.INVENTORY, "--check")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "[check mode: nothing was changed]" in out
    assert all(counts["changed"] > 0 for counts in lab.recap(proc.stdout).values())
    assert_unchanged(before)


def test_new_member_beside_a_running_cluster_is_held_back_then_joined(tmp_path):
    """Two members deployed, then a third host added to the group: started as a new cluster it would split the
    running one, so deploy installs and configures it but does not start (or enable) it, leaves the two running
    members as they were, and names the command that joins it; replace_member.yml then joins it."""
    two = lab.inventory(tmp_path, lambda d: d["all"]["children"]["etcd"]["hosts"].pop("node3"))
    first = lab.playbook("deploy", two)
    assert first.returncode == 0, first.stdout[-3000:]
    running = {name: lab.fingerprint(name) for name in ("node1", "node2")}
    lab.node("node1").check_output("etcdctl put /grown yes")

    proc = lab.playbook("deploy")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, out[-3000:]
    assert "held back: node3 has no data while node1, node2 run a cluster bootstrapped with other members" in out
    assert f"ansible-playbook -i {lab.INVENTORY} playbooks/replace_member.yml -e node=node3" in out
    for name in ("node1", "node2"):
        assert lab.fingerprint(name) == running[name], f"{name} changed"
    node3 = lab.node("node3")
    assert node3.run("pgrep -x etcd").rc != 0
    assert node3.run("systemctl is-enabled etcd.service").stdout.strip() != "enabled"  # "linked"
    assert node3.file("/data/etcd.env").exists and not node3.file("/data/etcd.data/member").exists

    proc = lab.playbook("replace_member", lab.INVENTORY, "-e", "node=node3")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "3/3 voting members healthy" in lab.flat(proc.stdout)
    assert node3.check_output("etcdctl get /grown --print-value-only").strip() == "yes"
