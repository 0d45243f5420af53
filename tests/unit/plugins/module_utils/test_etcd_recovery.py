"""disaster_recovery's decision over a table of cases: each row is what the members showed (etcd_node_info) and
what the plan must be. The refusal and resume rows of docs/reliability.md that depend on observations alone are
rows here; the lab proves the same rows end to end (tests/fault, the disaster_recovery scenarios)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import (
    WAL_SIZE,
    outside_refusal,
    recovery_plan,
    restored_cluster,
)

SHA = "a" * 64
CLUSTER = "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380,node3=http://10.0.0.3:2380"
SNAPSHOT = dict(sha256=SHA, size=10 * 1024 * 1024)
SETTINGS = dict(initial_cluster=CLUSTER, force=False, new_token=False, stamp="20261204T010000Z", bump=True,
                bump_by=1000000000, service_user="etcd", env_file="/data/etcd.env")
GB = 1024 ** 3


def node(active="inactive", healthy=False, quorate=False, status=None, error="connection refused", ran=True,
         data=None, staging=None, done=None, mountpoint=False, initialised=True, free=(GB, GB),
         mounts=("/", "/"), user="etcd", loaded="loaded", kept=()):
    """What etcd_node_info returns for one member (the parts the plan reads)."""
    return dict(
        unit=dict(load_state=loaded, active_state=active, user=user),
        probe=dict(ran=ran, healthy=healthy, quorate=quorate, alarms=[], status=status or {}, error=error),
        data=dict(exists=True, initialised=initialised, mountpoint=mountpoint),
        space=[dict(path="/data", mount=mounts[0], free=free[0]),
               dict(path="/var/tmp/etcd-ops-recovery", mount=mounts[1], free=free[1])],
        marks=dict(data=data, staging=staging, done=done),
        kept=list(kept))


def mark(sha=SHA, cluster=CLUSTER, token="etcd-cluster-20261201T000000Z", bump=1000000000):
    return dict(snapshot_sha256=sha, initial_cluster=cluster, cluster_token=token, bump_revision=bump,
                name="node1", peer_urls=["http://10.0.0.1:2380"])


def members(*nodes, token="etcd-cluster"):
    return [dict(host="node%d" % i, name="node%d" % i, peer_urls=["http://10.0.0.%d:2380" % i],
                 data_dir="/data/etcd.data", endpoint="http://10.0.0.%d:2379" % i, token=token, node=n)
            for i, n in enumerate(nodes, 1)]


LOST = node()  # etcd stopped or dead, no marks: the disaster
LEADER = dict(has_leader=True, revision=42)


def plan(nodes, token="etcd-cluster", **settings):
    return recovery_plan(members(*nodes, token=token), SNAPSHOT, dict(SETTINGS, **settings))


# (case, nodes, settings, expected subset of the plan)
STATE_CASES = [
    ("every member lost: rebuild", [LOST, LOST, LOST], {},
     dict(state="recover", token="etcd-cluster", resumed=False, bump=1000000000, refusals=[], healthy_hosts=[])),
    ("a healthy member: the cluster has quorum", [LOST, node(active="active", healthy=True, quorate=True,
                                                             status=LEADER, error=""), LOST], {},
     dict(state="refuse", healthy_hosts=["node2"], refusals=[])),
    ("a quorate cluster under NOSPACE is not lost", [node(active="active", healthy=True, quorate=True,
                                                          status=LEADER, error="Active Alarm(s): NOSPACE")] * 3, {},
     dict(state="refuse", healthy_hosts=["node1", "node2", "node3"])),
    ("a slow health read, but a status with a leader", [node(active="active", healthy=True, status=LEADER,
                                                             error="context deadline exceeded"), LOST, LOST], {},
     dict(state="refuse")),
    ("the cluster has quorum, forced", [node(active="active", healthy=True, quorate=True, status=LEADER, error=""),
                                        LOST, LOST], dict(force=True),
     dict(state="recover", refusals=[])),
    ("a new token is stamped with the run's time", [LOST] * 3, dict(new_token=True),
     dict(state="recover", token="etcd-cluster-20261204T010000Z")),
    ("a stamped token is stamped anew, not twice", [LOST] * 3, dict(new_token=True),
     dict(token="etcd-cluster-20261204T010000Z")),
    ("no bump asked", [LOST] * 3, dict(bump=False), dict(bump=0)),
    ("an interrupted run switched node1: resume with its token and bump",
     [node(data=mark(bump=7)), node(staging=mark(bump=7)), LOST], dict(new_token=True),
     dict(state="recover", resumed=True, token="etcd-cluster-20261201T000000Z", bump=7)),
    ("marks of another snapshot are not an earlier run of this one",
     [node(data=mark(sha="b" * 64)), node(staging=mark(cluster="x=http://1.1.1.1:2380")), LOST], {},
     dict(state="recover", resumed=False, token="etcd-cluster")),
    ("every member switched and the cluster came up: complete",
     [node(data=mark(), active="active", healthy=True, quorate=True, status=LEADER, error="")] * 3, {},
     dict(state="complete", resumed=True, token="etcd-cluster-20261201T000000Z")),
    ("a verified recovery of this snapshot: done, nothing to do",
     [node(done=mark(token="etcd-cluster", bump=5), active="active", healthy=True, quorate=True, status=LEADER,
           error="")] * 3, dict(new_token=True),
     dict(state="done", token="etcd-cluster", bump=5, resumed=False, refusals=[])),
    ("a verified recovery, forced again: a new rebuild",
     [node(done=mark(token="etcd-cluster"), active="active", healthy=True, quorate=True, status=LEADER, error="")] * 3,
     dict(new_token=True, force=True),
     dict(state="recover", token="etcd-cluster-20261204T010000Z", bump=1000000000)),
    ("a retired mark of an older token is a new disaster", [node(done=mark(token="old-token"))] * 3, {},
     dict(state="recover", resumed=False)),
]


@pytest.mark.parametrize("case,nodes,settings,expected", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_token_and_bump(case, nodes, settings, expected):
    token = "etcd-cluster-20261101T000000Z" if "stamped anew" in case else "etcd-cluster"
    result = plan(copy.deepcopy(nodes), token=token, **settings)
    assert {key: result[key] for key in expected} == expected


def test_resume_takes_the_first_member_s_mark_in_inventory_order():
    result = plan([LOST, node(staging=mark(token="t-2", bump=3)), node(data=mark(token="t-3", bump=4))])
    assert result["token"] == "t-2" and result["bump"] == 3
    assert [m["cluster_token"] for m in result["earlier"]] == ["t-2", "t-3"]
    assert [result["members"][h]["switched"] for h in ("node1", "node2", "node3")] == [False, False, True]


def test_each_member_s_part():
    result = plan([node(), node(initialised=False, loaded="not-found"), node(data=mark(), user="", kept=["/d.2"])])
    parts = result["members"]
    assert parts["node1"] == dict(
        switched=False, retired=False, healthy=False, owner="etcd", kept=[],
        plan="member node1 http://10.0.0.1:2380, owned by etcd; "
             "move /data/etcd.data aside to /data/etcd.data.<UTC time>")
    assert parts["node2"]["owner"] == "etcd"  # no unit: the role's etcd_service_user
    assert parts["node2"]["plan"].endswith("/data/etcd.data holds no data, nothing to move aside")
    assert parts["node3"]["owner"] == "root"  # a unit without User= runs etcd as root
    assert parts["node3"]["plan"] == "restored by an earlier run of this recovery: start it"
    assert parts["node3"]["kept"] == ["/d.2"]


# (case, nodes, settings, the refusals' texts must hold these, in this order; [] for none)
REFUSAL_CASES = [
    ("a member without the etcd tools",
     [LOST, node(ran=False, error="etcdctl is not installed on this host. Install etcd-client or set etcdctl_path."),
      LOST], {},
     ["node2: etcdctl is not installed on this host. Install etcd-client or set etcdctl_path. Nothing was changed. "
      "Fix: install etcd's tools there (Debian: apt-get install etcd-client etcd-server), then run this again."]),
    ("no tools is refused before the quorum is judged",
     [node(active="active", healthy=True, quorate=True, status=LEADER, error=""),
      node(ran=False, error="etcdctl is not installed on this host."), LOST], {},
     ["node2: etcdctl is not installed on this host. Nothing was changed."]),
    ("etcd runs but does not answer at its env file's URL",
     [node(active="active", error="dial tcp 10.0.0.1:2999: connect: connection refused"), LOST, LOST], {},
     ["etcd runs on node1 (systemd: active) but does not answer at http://10.0.0.1:2379 (dial tcp 10.0.0.1:2999: "
      "connect: connection refused)\nA cluster may still be serving there: this is not known to be a disaster. "
      "Nothing was changed.\nFix: correct ETCD_ADVERTISE_CLIENT_URLS in /data/etcd.env (the tools talk to its first "
      "URL), or stop etcd on a member that is truly lost (systemctl stop etcd); etcd_force_recovery=true goes ahead "
      "anyway."]),
    ("etcd runs but does not answer, forced", [node(active="active"), LOST, LOST], dict(force=True), []),
    ("a silent member's TLS error names its fix first",
     [node(active="active", error="x509: certificate signed by unknown authority"), LOST, LOST], {},
     ["(x509: certificate signed by unknown authority)", "Fix: ", "Otherwise: correct ETCD_ADVERTISE_CLIENT_URLS"]),
    ("a data dir that is a mount point", [LOST, node(mountpoint=True), LOST], {},
     ["node2: the data dir /data/etcd.data is a mount point. A recovery restores beside it "
      "(/data/etcd.data.etcd-ops-staging) and renames that into place, and moves the old dir aside: a mount point can "
      "be neither replaced nor moved. Nothing was changed. Fix: with etcd stopped, move the member dir one level down "
      "(e.g. /data/etcd.data/data) and set ETCD_DATA_DIR to it in /data/etcd.env, or mount the disk one level up."]),
    ("a mount point an earlier run switched already", [node(mountpoint=True, data=mark()), LOST, LOST], {}, []),
    ("no room for the copy on its own filesystem", [LOST, node(free=(GB, 16384), mounts=("/", "/var/tmp")), LOST], {},
     ["Not enough space on node2: /var/tmp has 16384 bytes free, 10485760 needed (the snapshot is 10485760 bytes; a "
      "restore takes about that plus a 64 MiB WAL file, and the copy on the node as much again). Nothing was changed. "
      "Fix: free space there, or set etcd_recovery_node_dir to a disk with room for the copy."]),
    ("no room for the restore and the copy on one filesystem", [node(free=(80 * 2 ** 20,) * 2), LOST, LOST], {},
     ["Not enough space on node1: / has 83886080 bytes free, %d needed" % (int(10485760 * 1.1) + WAL_SIZE + 10485760)]),
    ("no room for the restore beside the data dir", [node(free=(2 ** 20, GB), mounts=("/data", "/")), LOST, LOST], {},
     ["Not enough space on node1: /data has 1048576 bytes free, %d needed" % (int(10485760 * 1.1) + WAL_SIZE)]),
    ("a switched member needs room for the copy only", [node(free=(10485760,) * 2, data=mark()), LOST, LOST], {},
     []),
    ("every refusal of a rebuild at once, in order",
     [node(active="active"), node(mountpoint=True), node(free=(1, 1))], {},
     ["etcd runs on node1", "node2: the data dir", "Not enough space on node3"]),
    ("the cluster has quorum: only the quorum is reported (it needs a read of the live cluster)",
     [node(active="active", healthy=True, quorate=True, status=LEADER, error=""), node(mountpoint=True),
      node(free=(1, 1))], {}, []),
]


@pytest.mark.parametrize("case,nodes,settings,expected", REFUSAL_CASES, ids=[c[0] for c in REFUSAL_CASES])
def test_refusals(case, nodes, settings, expected):
    text = "\n".join(plan(copy.deepcopy(nodes), **settings)["refusals"])
    if not expected:
        assert text == ""
    position = 0
    for part in expected:
        found = text.find(part, position)
        assert found >= 0, "%r not in %r (after position %d)" % (part, text, position)
        position = found + len(part)


def test_every_refusal_says_nothing_changed_and_names_a_fix():
    result = plan([node(active="active"), node(mountpoint=True), node(free=(1, 1))])
    assert len(result["refusals"]) == 3
    for text in result["refusals"]:
        assert "Nothing was changed." in text and "Fix: " in text


def test_no_members_is_an_error_not_a_plan():
    with pytest.raises(ValueError):
        recovery_plan([], SNAPSHOT, SETTINGS)


# -- the restored cluster, and the members the play leaves out ------------------------------------------------------
FIVE = ",".join("node%d=http://10.0.0.%d:2380" % (i, i) for i in range(1, 6))


def named(*hosts, env_initial_cluster=FIVE, env_exists=True):
    return [dict(host="node%d" % i, name="node%d" % i, peer_urls=["http://10.0.0.%d:2380" % i],
                 endpoint="https://10.0.0.%d:2379" % i, env_exists=env_exists, env_initial_cluster=env_initial_cluster)
            for i in hosts]


def test_the_restored_cluster_is_the_play_in_inventory_order():
    cluster = restored_cluster(named(3, 1, 2, env_initial_cluster=CLUSTER), [])
    assert cluster["initial_cluster"] == ("node3=http://10.0.0.3:2380,node1=http://10.0.0.1:2380,"
                                          "node2=http://10.0.0.2:2380")
    assert cluster["outside"] == [] and cluster["refusals"] == [] and cluster["names"] == ["node3", "node1", "node2"]


def test_members_outside_the_play_are_found_with_a_client_url_to_ask():
    cluster = restored_cluster(named(4, 5), "node1, node2,node3")
    assert [m["name"] for m in cluster["outside"]] == ["node1", "node2", "node3"]
    assert cluster["outside"][0] == dict(name="node1", peer_urls=["http://10.0.0.1:2380"],
                                         client_url="https://10.0.0.1:2379")
    assert cluster["gone"] == ["node1", "node2", "node3"] and cluster["refusals"] == []


@pytest.mark.parametrize("members, gone, expected", [
    (named(1, 2, env_exists=False), [], "node1, node2 has no /data/etcd.env: etcd is not set up there"),
    ([dict(m, name="node1") for m in named(1, 2)], [], "Two members would share a name or a peer URL: "
                                                       "node1=node1 http://10.0.0.1:2380; node2=node1"),
    ([dict(m, peer_urls=["http://10.0.0.9:2380"]) for m in named(1, 2)], [], "Two members would share a name"),
    (named(1, 2), ["node2", "node7"], "etcd_recovery_gone_members names node2, which the play holds and restores."),
], ids=["no env file", "one name twice", "one peer URL twice", "a gone member the play holds"])
def test_what_the_restored_cluster_refuses(members, gone, expected):
    [text] = restored_cluster(members, gone, "/data/etcd.env")["refusals"]
    assert text.startswith(expected) and "Nothing was changed." in text and "Fix: " in text


def answer(url, leader=True):
    return dict(endpoint=url, status=dict(has_leader=leader), error="")


SILENT = [dict(endpoint="https://10.0.0.%d:2379" % i, status={}, error="connection refused") for i in (1, 2, 3)]


@pytest.mark.parametrize("gone, endpoints, expected", [
    ([], [answer("https://10.0.0.%d:2379" % i) for i in (1, 2, 3)],
     ["  node1 http://10.0.0.1:2380: etcd answers at https://10.0.0.1:2379, with a leader\n",
      "Rebuilding only node4, node5 from the snapshot would make a second cluster beside them, and clients that reach",
      "Fix: node1, node2, node3 still run etcd: put them in group etcd"]),
    (["node1", "node2", "node3"], [answer("https://10.0.0.1:2379", leader=False)] + SILENT[1:],
     ["etcd answers at https://10.0.0.1:2379, without a leader (named gone)",
      "no answer at https://10.0.0.2:2379 (named gone)", "Fix: node1 still runs etcd: put it in group etcd"]),
    (["node1"], SILENT + [dict(endpoint="https://10.0.0.2:2379", status={}, error="etcdserver: user name is empty")],
     ["node2 http://10.0.0.2:2380: etcd answers at https://10.0.0.2:2379 (etcdserver: user name is empty)",
      "Fix: node2 still runs etcd"]),
    (["node1"], SILENT,
     ["no answer at https://10.0.0.1:2379 (named gone)", "beside them. Nothing was changed.",
      "Fix: put them in group etcd (the cluster is rebuilt on all its members at once); or, if they are gone for "
      "good, name them: -e '{\"etcd_recovery_gone_members\": [\"node1\", \"node2\", \"node3\"]}'."]),
    (["node1", "node2", "node3"], SILENT, []),
], ids=["three answer with a leader", "named gone, one answers", "etcd refuses the status: it answers",
        "silent but not named gone", "every one gone and silent: go on"])
def test_a_recovery_of_part_of_the_cluster(gone, endpoints, expected):
    text = outside_refusal(restored_cluster(named(4, 5), gone, "/data/etcd.env"), endpoints, "/data/etcd.env")
    if not expected:
        assert text == ""
    position = 0
    for part in expected:
        found = text.find(part, position)
        assert found >= 0, "%r not in %r" % (part, text)
        position = found + len(part)
