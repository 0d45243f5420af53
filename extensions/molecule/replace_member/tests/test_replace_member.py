"""replace_member.yml as a user runs it (README command, over SSH+sudo): what it does to the cluster and the
node, re-runs, and the refusals, each compared with every node's state before."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

KEYS = 30
PLANNED = {}  # what check mode said it would do, for the real run to be compared with


def replace(*args, inv=lab.INVENTORY):
    return lab.playbook("replace_member", inv, *args)


def members():
    """The member list as node2 or node1 sees it (whichever answers)."""
    for name in ("node2", "node1", "node3"):
        out = lab.node(name).run("etcdctl member list -w json")
        if out.rc == 0:
            return json.loads(out.stdout)["members"]
    raise AssertionError("no member answers member list")


def assert_whole_cluster():
    lab.wait_healthy()
    listed = members()
    assert sorted(m.get("name", "") for m in listed) == ["node1", "node2", "node3"]
    assert not any(m.get("isLearner") for m in listed)


def keys_on(name):
    out = lab.node(name).check_output("etcdctl get /replace-test/ --prefix --keys-only")
    return len([line for line in out.splitlines() if line.strip()])


def state():
    """Every node's fingerprint and the cluster's member IDs: equal before and after means nothing changed."""
    return {n: lab.fingerprint(n) for n in lab.NODES}, sorted(m["ID"] for m in members())


def unchanged(before, proc):
    after = {n: lab.fingerprint(n) for n in lab.NODES}
    assert after == before[0], proc.stdout[-2000:]


@pytest.fixture(scope="module", autouse=True)
def keys():
    """KEYS keys in the cluster before the first test (a set-up step, not a test)."""
    lab.node("node1").check_output(
        f"for i in $(seq {KEYS}); do etcdctl put /replace-test/k$i v$i >/dev/null; done")


def test_node_is_required():
    before = state()
    proc = replace()
    assert proc.returncode != 0
    assert "Which member should be replaced? Nothing was changed. Fix: -e node=NAME, one of: node1, node2, node3" \
        in lab.flat(proc.stdout)
    unchanged(before, proc)
    lab.record_refusal("replace_member.yml", proc, "no node given")


def test_an_unknown_node_is_refused_with_the_valid_names():
    before = state()
    proc = replace("-e", "node=node9")
    assert proc.returncode != 0
    out = lab.flat(proc.stdout)
    assert "node=node9 is not a host of group etcd. Nothing was changed." in out
    assert "Fix: -e node=NAME, one of: node1, node2, node3" in out
    unchanged(before, proc)
    lab.record_refusal("replace_member.yml", proc, "an unknown node (node=node9)")


def test_a_healthy_member_is_left_alone():
    proc = replace("-e", "node=node1")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "node1 (member node1) is healthy" in lab.flat(proc.stdout)
    assert all(c["changed"] == 0 for c in lab.recap(proc.stdout).values()), proc.stdout


def test_a_wiped_member_check_mode_shows_the_plan_and_changes_nothing():
    lab.etcd("node1", "stop")
    lab.node("node1").check_output("rm -rf /data/etcd.data")  # the disaster: the member lost its data
    before = state()
    proc = replace("-e", "node=node1", "--check")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "check mode: the plan for node1 (member node1), through node2; nothing was changed" in out
    removal = re.search(rf"remove member ([0-9a-f]+) \(http://{lab.address(11)}:2380\)", out)
    assert removal, out[-3000:]
    PLANNED["removed"] = removal.group(1)
    assert f"add node1 (http://{lab.address(11)}:2380) as a learner through node2" in out
    assert "promote it once it has caught up with the leader" in out
    assert "move /data/etcd.data aside" not in out  # there is nothing to move
    unchanged(before, proc)
    assert state()[1] == before[1]


def test_a_node_that_answers_as_another_cluster_is_refused():
    """node1 (wiped) runs a stray etcd that bootstrapped a cluster of its own at node1's address: it is no lost
    member of this cluster, and replacing it would wipe that other cluster's member."""
    node1 = lab.node("node1")
    node1.check_output(
        "install -d -o etcd -m 0700 /var/lib/stray-etcd && systemd-run --unit stray-etcd -p User=etcd etcd --name node1"
        f" --data-dir /var/lib/stray-etcd --listen-client-urls http://{lab.address(11)}:2379,http://127.0.0.1:2379"
        f" --advertise-client-urls http://{lab.address(11)}:2379 --listen-peer-urls http://{lab.address(11)}:2380"
        f" --initial-advertise-peer-urls http://{lab.address(11)}:2380 --initial-cluster node1=http://{lab.address(11)}:2380"
        " --initial-cluster-token stray")
    try:
        lab.wait_healthy([node1])
        before = state()
        proc = replace("-e", "node=node1")
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0, out[-3000:]
        assert f"node1 answers at http://{lab.address(11)}:2379 as a member of cluster" in out, out[-3000:]
        assert "replacing it would wipe a member of another cluster. Nothing was changed." in out
        unchanged(before, proc)
        assert state()[1] == before[1]
        lab.record_refusal("replace_member.yml", proc, "the node answers as a member of another cluster")
        lab.record_edge(5, "replace_member.yml", "the node answers as a member of another cluster",
                        "refused before any change", proc)
    finally:
        node1.run("systemctl stop stray-etcd; rm -rf /var/lib/stray-etcd")


def test_a_wiped_member_is_replaced(tmp_path):
    report = tmp_path / "report.json"
    env_before = lab.node("node1").file("/data/etcd.env").content_string
    proc = replace("-e", "node=node1", "-e", f"etcd_report_file={report}")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "replaced member node1 on node1 through node2" in out
    assert "old data: none to move" in out
    # what the check run planned is what was done: the same entry removed, the member added as a learner, promoted
    assert f"removed: member {PLANNED['removed']} http://{lab.address(11)}:2380" in out, out[-3000:]
    assert f"added: node1 http://{lab.address(11)}:2380 as a learner, promoted" in out
    assert "cluster: node" in out and "3/3 voting members healthy" in out
    assert_whole_cluster()
    node1 = lab.node("node1")
    assert keys_on("node1") == KEYS
    assert node1.file("/data/etcd.data").user == "etcd" and node1.file("/data/etcd.data").mode == 0o700
    env = node1.file("/data/etcd.env").content_string
    assert "ETCD_INITIAL_CLUSTER_STATE=existing" in env and "ETCD_NAME=node1" in env
    assert env.endswith("\n") and "\\n" not in env  # whole lines, no escaped newline written out
    assert re.search(rf"^ETCD_INITIAL_CLUSTER=.*node1=http://{lab.address(11)}:2380", env, re.M)
    data = json.loads(report.read_text())
    assert data["operation"] == "replace_member" and data["result"] == "replaced"
    if env != env_before:  # the old file kept beside it
        assert node1.file(data["env_backup"]).content_string == env_before
    else:  # etcd's `member add` listed the members in the deployed order (member IDs decide it): nothing to keep
        assert data["env_backup"] == "", data


def test_a_second_run_is_a_no_op():
    check = replace("-e", "node=node1", "--check")  # check mode says so first
    assert check.returncode == 0 and "node1 (member node1) is healthy" in lab.flat(check.stdout), check.stdout[-3000:]
    proc = replace("-e", "node=node1")
    assert proc.returncode == 0 and "node1 (member node1) is healthy" in lab.flat(proc.stdout)
    assert all(c["changed"] == 0 for c in lab.recap(proc.stdout).values()), proc.stdout


HOOKS = Path(__file__).resolve().parents[4] / "tests" / "lab" / "hooks"
HOOK_LOG = "/var/log/etcd-ops-hook.log"


def hook_points():
    """Each host's hook log (tests/lab/hooks/hook.yml): the operation, the point and the plan's state per line."""
    return {n: [line.split(" ")[1:4] for line in lab.node(n).run(f"cat {HOOK_LOG}").stdout.splitlines()]
            for n in lab.NODES}


def test_force_replaces_a_healthy_member_and_moves_its_data_aside():
    """With the site's hooks (issue #26): one that fails before the stop changes nothing and runs the after_start
    hooks; then they run at their points, on every host of the play."""
    after = ("-e", f"etcd_replace_hooks_after_start={HOOKS / 'hook.yml'}")
    before = {n: lab.fingerprint(n) for n in lab.NODES}
    proc = replace("-e", "node=node2", "-e", "etcd_replace_force=true", *after,
                   "-e", f"etcd_replace_hooks_before_stop={HOOKS / 'hook-fails.yml'}")
    assert proc.returncode != 0 and "the site's quiesce step failed" in lab.flat(proc.stdout), proc.stdout[-3000:]
    assert {n: lab.fingerprint(n) for n in lab.NODES} == before
    assert hook_points() == {n: [["replace_member", "after_start", "replace"]] for n in lab.NODES}
    for n in lab.NODES:
        lab.node(n).check_output(f"rm {HOOK_LOG}")
    proc = replace("-e", "node=node2", "-e", "etcd_replace_force=true", *after,
                   "-e", f"etcd_replace_hooks_before_stop={HOOKS / 'hook.yml'}")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert hook_points() == {n: [["replace_member", "before_stop", "replace"],
                                 ["replace_member", "after_start", "replace"]] for n in lab.NODES}
    moved = re.search(r"old data: moved aside to (/data/etcd\.data\.\d{8}T\d{6}Z)", out)
    assert moved, out
    node2 = lab.node("node2")
    assert node2.file(f"{moved.group(1)}/member").is_directory  # never deleted
    assert_whole_cluster()
    assert keys_on("node2") == KEYS


@pytest.mark.parametrize("node", ["node1", "node3"])
def test_two_of_three_down_is_refused(node):
    lab.etcd("node2", "stop")
    lab.etcd("node3" if node == "node1" else "node1", "stop")
    try:
        before = {n: lab.fingerprint(n) for n in lab.NODES}
        proc = replace("-e", f"node={node}")
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0
        assert f"No member of group etcd other than {node} answers healthy" in out
        assert "disaster_recovery.yml" in out
        assert {n: lab.fingerprint(n) for n in lab.NODES} == before
        lab.record_refusal("replace_member.yml", proc, f"two of three members down, node={node} (quorum lost)")
    finally:
        for name in lab.NODES:
            lab.node(name).run("systemctl start --no-block etcd.service")
    assert_whole_cluster()


def test_forcing_a_healthy_member_out_while_another_is_down_is_refused():
    lab.etcd("node3", "stop")
    try:
        before = state()
        proc = replace("-e", "node=node1", "-e", "etcd_replace_force=true")
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0
        assert "Replacing node1 needs the other voting members to keep quorum without it, but only 1 of 2 are healthy" \
            " (2 needed; down: node3). Nothing was changed. Fix: bring the down members back first or replace it " \
            "first (replace_member.yml -e node=node3)" in out
        unchanged(before, proc)
        assert state()[1] == before[1]
        lab.record_refusal("replace_member.yml", proc, "forcing a healthy member out while another is down "
                           "(a quorum-losing replace)")
    finally:
        lab.etcd("node3", "start")
    assert_whole_cluster()


def test_a_member_without_env_file_is_refused():
    lab.etcd("node3", "stop")
    lab.node("node3").check_output("mv /data/etcd.env /data/etcd.env.hidden-by-test")
    try:
        before = state()
        proc = replace("-e", "node=node3")
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0
        assert "node3 has no /data/etcd.env: it is not set up as a member" in out and "deploy.yml" in out
        unchanged(before, proc)
        assert state()[1] == before[1]
        lab.record_refusal("replace_member.yml", proc, "the member to replace has no env file")
    finally:
        lab.node("node3").check_output("mv /data/etcd.env.hidden-by-test /data/etcd.env")
        lab.etcd("node3", "start")
    assert_whole_cluster()


def test_an_unreachable_member_gets_its_membership_changed_then_a_rerun_finishes(tmp_path):
    def unreachable(data):
        lab.hostvars(data, "node3")["ansible_port"] = 2222  # nothing listens there: SSH fails
    lab.etcd("node3", "stop")
    report = tmp_path / "report.json"
    proc = replace("-e", "node=node3", "-e", f"etcd_report_file={report}", inv=lab.inventory(tmp_path, unreachable))
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0
    lab.report_of(report, proc, "replace_member.yml", "a failure after changes (node3 unreachable)", "failed",
                  "node3 is unreachable: its membership was changed, the member itself was not.",
                  changes=["old member entry removed", "member added again"])
    assert "re-added member node3 on node3 through node1" in out
    assert "left to do on node3 (unreachable)" in out and "run replace_member.yml -e node=node3 again" in out
    [entry] = [m for m in members() if f"http://{lab.address(13)}:2380" in m["peerURLs"]]
    assert entry.get("isLearner") and not entry.get("name")  # a learner that has not started
    assert lab.node("node3").file("/data/etcd.data/member").is_directory  # the node was not touched

    proc = replace("-e", "node=node3")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"old data: moved aside to /data/etcd\.data\.\d{8}T\d{6}Z", out)
    assert_whole_cluster()
    assert keys_on("node3") == KEYS


def test_a_machine_rebuilt_empty_at_a_new_address_is_deployed_then_joined(tmp_path):
    """node3's machine is rebuilt: no etcd, no /data, another address (the inventory says so). deploy.yml installs
    and configures it but holds it back (started as a new cluster it would split node1's and node2's);
    replace_member.yml then swaps its old entry for one with the new peer URL and joins it."""
    node3 = lab.node("node3")
    node3.check_output("systemctl stop etcd.service; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q etcd-server "
                       "etcd-client >/dev/null; rm -rf /data /etc/systemd/system/etcd.service; systemctl daemon-reload")
    for args in (["network", "disconnect", lab.PREFIX, lab.container("node3")],
                 ["network", "connect", "--ip", lab.address(23), lab.PREFIX, lab.container("node3")]):
        subprocess.run(["docker", *args], check=True, capture_output=True)

    def moved(data):
        lab.hostvars(data, "node3")["ansible_host"] = lab.address(23)
    inv = lab.inventory(tmp_path, moved)
    others = {n: lab.fingerprint(n) for n in ("node1", "node2")}

    proc = lab.playbook("deploy", inv)
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "held back: node3 has no data while node1, node2 run a cluster bootstrapped with other members" in out
    assert f"ansible-playbook -i {inv} playbooks/replace_member.yml -e node=node3" in out
    assert {n: lab.fingerprint(n) for n in ("node1", "node2")} == others
    node3 = lab.node("node3", inv)  # the same container, reached at its new address through the inventory copy
    assert node3.run("pgrep -x etcd").rc != 0
    assert node3.run("systemctl is-enabled etcd.service").stdout.strip() != "enabled"  # "linked"
    assert node3.file("/data/etcd.env").contains(f"ETCD_INITIAL_ADVERTISE_PEER_URLS=http://{lab.address(23)}:2380")

    proc = lab.playbook("replace_member", inv, "-e", "node=node3")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(rf"removed: member [0-9a-f]+ http://{lab.address(13)}:2380", out)
    assert f"added: node3 http://{lab.address(23)}:2380 as a learner, promoted" in out
    assert "3/3 voting members healthy" in out
    listed = members()  # through node2
    assert sorted(m.get("name", "") for m in listed) == ["node1", "node2", "node3"]
    assert not any(m.get("isLearner") for m in listed)
    [entry] = [m for m in listed if m["name"] == "node3"]
    assert entry["peerURLs"] == [f"http://{lab.address(23)}:2380"]
    lab.wait_healthy([node3])
    out = node3.check_output("etcdctl get /replace-test/ --prefix --keys-only")
    assert len([line for line in out.splitlines() if line.strip()]) == KEYS
    assert node3.service("etcd.service").is_enabled
    again = lab.playbook("deploy", inv)  # deploy agrees with what replace_member wrote
    assert again.returncode == 0 and all(c["changed"] == 0 for c in lab.recap(again.stdout).values()), again.stdout
