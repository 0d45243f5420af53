"""replace_member's decision over a table of cases: what each member showed (etcd_node_info), the cluster as the
helper lists it (etcd_member_info), and what the plan must be. The replace_member scenario and the fault suite
prove the same rows end to end on the lab."""

from __future__ import annotations

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_replace import replace_plan

SETTINGS = dict(force=False, learner=True, stamp="20261204T010000Z", env_file="/data/etcd.env")
CID = 0xABC


def node(healthy=True, error="", cluster_id=CID, initialised=True, mountpoint=False, env=True, i=1, wal=None,
         user="etcd"):
    """What etcd_node_info returns for member i (the parts the plan reads); `wal` a separate WAL dir's read (WAL's,
    with these keys changed)."""
    status = dict(cluster_id=cluster_id, has_leader=healthy) if cluster_id else {}
    return dict(
        wal=dict(WAL, **wal) if wal is not None else dict(dir="", exists=False, holds_wal=False, mountpoint=False),
        unit=dict(load_state="loaded", active_state="active", user=user),
        env_exists=env,
        env=dict(ETCD_NAME="node%d" % i, ETCD_INITIAL_ADVERTISE_PEER_URLS="http://10.0.0.%d:2380" % i) if env else {},
        endpoint="http://10.0.0.%d:2379" % i if env else "http://127.0.0.1:2379",
        data_dir="/data/etcd.data",
        probe=dict(ran=True, healthy=healthy, quorate=healthy, alarms=[], status=status,
                   error="" if healthy else (error or "connection refused")),
        data=dict(exists=True, initialised=initialised, mountpoint=mountpoint, owner="etcd", group="etcd"))


DOWN = dict(healthy=False, cluster_id=0)
# a separate WAL dir in a dir of etcd's own (issue #24, edge 2)
WAL = dict(dir="/data/etcd-wal/wal", exists=True, holds_wal=True, mountpoint=False, owner="etcd", group="etcd",
           parent_writable=True, parent="etcd:etcd 0700")


def members(*nodes, address_given=False):
    """The play's members; a node given as "unreachable" or ("failed", msg) was not read."""
    out = []
    for i, n in enumerate(nodes, 1):
        seen = dict(name="node%d" % i, peer_urls=["http://10.0.0.%d:2380" % i], data_dir="/data/etcd.data",
                    address_given=address_given)
        m = dict(host="node%d" % i, inventory=seen)
        if n == "unreachable":
            m.update(unreachable=True, node={})
        elif isinstance(n, tuple):
            m.update(error=n[1], node={})
        else:
            m["node"] = node(i=i, **n)
        out.append(m)
    return out


def entry(i, quorate=True, learner=False, name=True, url=None):
    return dict(id=i, id_hex="%x" % i, name="node%d" % i if name else "", is_learner=learner, quorate=quorate,
                peer_urls=[url or "http://10.0.0.%d:2380" % i],
                client_urls=["http://10.0.0.%d:2379" % i] if name else [])


def cluster(*entries):
    return dict(cluster_id="%x" % CID, members=list(entries))


def plan(nodes, listed=None, node_="node1", address_given=False, **settings):
    return replace_plan(members(*nodes, address_given=address_given), node_, listed, dict(SETTINGS, **settings))


HEALTHY3 = cluster(entry(1), entry(2), entry(3))
NODE1_DOWN = cluster(entry(1, quorate=False), entry(2), entry(3))
FULL_STEPS = ["stop etcd on node1", "move /data/etcd.data aside to /data/etcd.data.20261204T010000Z",
              "create an empty /data/etcd.data (0700)", "remove member 1 (http://10.0.0.1:2380)",
              "add node1 (http://10.0.0.1:2380) as a learner through node2",
              "write ETCD_INITIAL_CLUSTER and ETCD_INITIAL_CLUSTER_STATE=existing into /data/etcd.env (backup kept)",
              "start etcd on node1 and wait until it serves", "promote it once it has caught up with the leader"]

# (case, nodes, cluster, options, expected subset of the plan)
CASES = [
    ("a healthy member: nothing to do", [{}, {}, {}], HEALTHY3, {},
     dict(state="healthy", helper="node2", steps=[], refusals=[], target="node1")),
    ("forced on a healthy member: every step, its data moved aside", [{}, {}, {}], HEALTHY3, dict(force=True),
     dict(state="replace", steps=FULL_STEPS, refusals=[])),
    ("a wiped member: nothing to move aside", [dict(DOWN, initialised=False), {}, {}], NODE1_DOWN, {},
     dict(state="replace", refusals=[], steps=[s for s in FULL_STEPS if not s.startswith("move")])),
    ("a stopped member with data: moved aside", [DOWN, {}, {}], NODE1_DOWN, {},
     dict(state="replace", steps=FULL_STEPS)),
    ("without a learner: added as a voter, no promotion", [DOWN, {}, {}], NODE1_DOWN, dict(learner=False),
     dict(state="replace",
          steps=FULL_STEPS[:4] + ["add node1 (http://10.0.0.1:2380) through node2"] + FULL_STEPS[5:7])),
    ("an earlier run added it and it started as a learner: resume", [DOWN, {}, {}],
     cluster(entry(1, quorate=False, learner=True), entry(2), entry(3)), {},
     dict(state="resume", refusals=[], steps=["start etcd on node1 if stopped",
                                              "promote it once it has caught up with the leader"])),
    ("a learner that answers is still a learner: resumed (promoted), not called healthy", [{}, {}, {}],
     cluster(entry(1, learner=True), entry(2), entry(3)), {}, dict(state="resume")),
    ("a started learner forced: replaced", [DOWN, {}, {}],
     cluster(entry(1, quorate=False, learner=True), entry(2), entry(3)), dict(force=True),
     dict(state="replace", steps=FULL_STEPS)),
    ("a learner that never started (no name) is found by its peer URL and replaced", [DOWN, {}, {}],
     cluster(entry(1, quorate=False, learner=True, name=False), entry(2), entry(3)), {},
     dict(state="replace", entry=dict(id=1), steps=FULL_STEPS)),
    ("no entry left (removed by hand): added, nothing removed", [DOWN, {}, {}], cluster(entry(2), entry(3)), {},
     dict(state="replace", entry={}, steps=[s for s in FULL_STEPS if not s.startswith("remove")])),
    ("the helper is the first healthy member other than the node", [DOWN, "unreachable", {}], NODE1_DOWN, {},
     dict(helper="node3", state="replace")),
    ("unreachable: the membership alone changes, with the peer URLs the cluster knows it by",
     ["unreachable", {}, {}], cluster(entry(1, quorate=False, url="http://10.9.9.1:2380"), entry(2), entry(3)), {},
     dict(state="replace", reachable=False, peer_urls=["http://10.9.9.1:2380"], endpoint="http://10.0.0.1:2379",
          steps=["remove member 1 (http://10.9.9.1:2380)",
                 "add node1 (http://10.9.9.1:2380) as a learner through node2"],
          refusals=[])),
    ("unreachable, the inventory names its (new) address: added at that address", ["unreachable", {}, {}],
     cluster(entry(1, quorate=False, url="http://10.9.9.1:2380"), entry(2), entry(3)), dict(address_given=True),
     dict(peer_urls=["http://10.0.0.1:2380"], entry=dict(id=1), refusals=[])),
    ("an unreachable learner is not resumed (it cannot be started): replaced", ["unreachable", {}, {}],
     cluster(entry(1, quorate=False, learner=True), entry(2), entry(3)), {}, dict(state="replace")),
    # issue #24, edge 2: a separate WAL dir is moved aside too (etcd would start as the removed member from it)
    ("a stopped member with a WAL dir: both moved aside, etcd makes the WAL dir", [dict(DOWN, wal={}), {}, {}],
     NODE1_DOWN, {},
     dict(state="replace", refusals=[], move_aside=["/data/etcd.data", "/data/etcd-wal/wal"],
          steps=FULL_STEPS[:2] + ["move /data/etcd-wal/wal aside to /data/etcd-wal/wal.20261204T010000Z"]
          + FULL_STEPS[2:6] + ["start etcd on node1 and wait until it serves (it makes its WAL dir "
                               "/data/etcd-wal/wal)"] + FULL_STEPS[7:])),
    ("a WAL dir inside the data dir moves aside with it: no step, no refusal of its own",
     [dict(DOWN, wal=dict(dir="/data/etcd.data/wal", parent_writable=False, mountpoint=True)), {}, {}], NODE1_DOWN, {},
     dict(state="replace", refusals=[], move_aside=["/data/etcd.data"], steps=FULL_STEPS)),
    ("a WAL dir moved aside by an interrupted run (no WAL files left): not moved again",
     [dict(DOWN, initialised=False, wal=dict(holds_wal=False)), {}, {}], NODE1_DOWN, {},
     dict(state="replace", refusals=[], move_aside=[])),
    ("a rebuilt machine at a new address: the old entry removed, the new URL added",
     [dict(DOWN, initialised=False, env=True), {}, {}],
     cluster(entry(1, quorate=False, url="http://10.0.0.99:2380"), entry(2), entry(3)), {},
     dict(state="replace", entry=dict(id=1), peer_urls=["http://10.0.0.1:2380"])),
]


@pytest.mark.parametrize("case,nodes,listed,options,expected", CASES, ids=[c[0] for c in CASES])
def test_the_plan(case, nodes, listed, options, expected):
    result = plan(nodes, listed, **options)
    for key, value in expected.items():
        if key == "entry" and value:
            assert {k: result["entry"].get(k) for k in value} == value, case
        else:
            assert result[key] == value, (case, key, result[key])


REFUSALS = [
    ("two of three down: no helper, and the fix is disaster_recovery", [DOWN, DOWN, "unreachable"], None, {},
     ["No member of group etcd other than node1 answers healthy (node1: unhealthy: connection refused; node2: "
      "unhealthy: connection refused; node3: unreachable). The cluster has lost quorum", "disaster_recovery.yml"]),
    ("wrong TLS files: the fix names them, not quorum",
     [DOWN, dict(DOWN, error="x509: certificate signed by unknown authority"), DOWN], None, {},
     ["node2: unhealthy: x509: certificate signed by unknown authority", "Nothing was changed. Fix: the client's "
      "TLS files do not match"]),
    ("forcing a healthy member out while another is down costs quorum", [{}, {}, DOWN],
     cluster(entry(1), entry(2), entry(3, quorate=False)), dict(force=True),
     ["Replacing node1 needs the other voting members to keep quorum without it, but only 1 of 2 are healthy "
      "(2 needed; down: node3). Nothing was changed.", "or replace it first (replace_member.yml -e node=node3)"]),
    ("5 members, the node and two others down", [DOWN, {}, {}, DOWN, DOWN],
     cluster(entry(1, quorate=False), entry(2), entry(3), entry(4, quorate=False), entry(5, quorate=False)), {},
     ["only 2 of 4 are healthy (3 needed; down: node4, node5). Nothing was changed. Fix: bring the down members "
      "back first; if quorum"]),
    # issue #24, edge 1: the node is stopped before its entry is removed, so until then it counts among the voters
    ("4 members, one down: forcing out a member that still votes would cost quorum while it is stopped",
     [{}, {}, DOWN, {}], cluster(entry(1), entry(2), entry(3, quorate=False), entry(4)),
     dict(force=True, node_="node4"),
     ["Replacing node4 needs the other voting members to keep quorum without it, but only 2 of 3 are healthy (3 "
      "needed: node4 is stopped before its entry is removed, and until then the cluster has 4 voting members, 3 of "
      "them needed for quorum; down: node3)", "or replace it first (replace_member.yml -e node=node3)"]),
    ("4 members, one down: a member that fails health reads may still vote, and is counted",
     [{}, {}, DOWN, DOWN], cluster(entry(1), entry(2), entry(3, quorate=False), entry(4, quorate=False)),
     dict(node_="node4"),
     ["only 2 of 3 are healthy (3 needed: node4 is stopped"]),
    ("6 members, two down: the 4 needed of 6 are not there", [{}, {}, DOWN, DOWN, {}, {}],
     cluster(*[entry(i, quorate=i not in (3, 4)) for i in range(1, 7)]), dict(force=True, node_="node6"),
     ["only 3 of 5 are healthy (4 needed: node6 is stopped", "down: node3, node4). Nothing was changed. Fix: bring "
      "the down members back first; if quorum"]),
    ("the member to replace has no env file", [dict(DOWN, env=False), {}, {}], NODE1_DOWN, {},
     ["node1 has no /data/etcd.env: it is not set up as a member (a rebuilt machine?). Nothing was changed.",
      "deploy.yml"]),
    ("the member to replace answers as a member of another cluster", [dict(cluster_id=0xDEF), {}, {}],
     NODE1_DOWN, {},
     ["node1 answers at http://10.0.0.1:2379 as a member of cluster def, not of this one (abc, read through node2)"]),
    ("its data dir is a mount point that holds data", [dict(DOWN, mountpoint=True), {}, {}], NODE1_DOWN, {},
     ["node1: the data dir /data/etcd.data is a mount point and holds data",
      "(mv /data/etcd.data/member /data/etcd.data/member.old)"]),
    # issue #24, edge 2
    ("its WAL dir is a mount point", [dict(DOWN, wal=dict(mountpoint=True)), {}, {}], NODE1_DOWN, {},
     ["node1: the WAL dir /data/etcd-wal/wal (ETCD_WAL_DIR) is a mount point; the old WAL is moved aside by renaming "
      "the dir, and etcd makes a new member's WAL dir beside it (/data/etcd-wal/wal.tmp) and renames that into place: "
      "a mount point allows neither. Nothing was changed.", "install -d -o etcd -m 0700 /data/etcd-wal/wal/wal"]),
    ("the unit's user cannot write beside its WAL dir",
     [dict(DOWN, wal=dict(dir="/data/etcd.wal", parent_writable=False, parent="root:root 0755")), {}, {}],
     NODE1_DOWN, dict(force=True),
     ["node1: etcd makes a new member's WAL dir /data/etcd.wal (ETCD_WAL_DIR) by creating /data/etcd.wal.tmp beside "
      "it and renaming that into place, as the user the unit runs it as (etcd), who cannot write /data (root:root "
      "0755): the replaced member would fail to start after its old entry was removed. Nothing was changed. Fix: let "
      "etcd write there (chown etcd /data), or give the WAL a dir of etcd's own (install -d -o etcd -m 0700 "
      "/data/etcd-wal; with etcd stopped, move /data/etcd.wal there and set ETCD_WAL_DIR=/data/etcd-wal/etcd.wal)"]),
    ("it could not be read (sudo failed)", [("failed", "sudo: a password is required"), {}, {}], NODE1_DOWN, {},
     ["Could not read node1: sudo: a password is required. Nothing was changed."]),
]


@pytest.mark.parametrize("case,nodes,listed,options,texts", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals(case, nodes, listed, options, texts):
    refusals = plan(nodes, listed, **options)["refusals"]
    assert len(refusals) == 1, refusals
    for text in texts:
        assert text in refusals[0], (case, refusals[0])


NOT_REFUSED = [
    ("quorum is not counted for a healthy member", [{}, {}, DOWN], cluster(entry(1), entry(2), entry(3, quorate=False)),
     {}),
    ("a missing env file on an unreachable node: its membership changes", ["unreachable", {}, {}], NODE1_DOWN, {}),
    ("an empty mount point is no refusal", [dict(DOWN, mountpoint=True, initialised=False), {}, {}], NODE1_DOWN, {}),
    ("a mount point is no refusal when resuming (nothing is moved)", [dict(DOWN, mountpoint=True), {}, {}],
     cluster(entry(1, quorate=False, learner=True), entry(2), entry(3)), {}),
    ("a stray etcd of this cluster (same ID) is no other cluster", [dict(DOWN, cluster_id=CID), {}, {}], NODE1_DOWN,
     {}),
    ("a failed read on a healthy member: nothing to do anyway", [("failed", "sudo: a password is required"), {}, {}],
     HEALTHY3, {}),
    ("4 members, all others healthy: 3 of 4 while the node is stopped", [{}, {}, {}, DOWN],
     cluster(entry(1), entry(2), entry(3), entry(4, quorate=False)), dict(node_="node4")),
    ("4 members, one down: a learner to replace does not vote, so 2 of 3 are enough", [{}, {}, DOWN, DOWN],
     cluster(entry(1), entry(2), entry(3, quorate=False), entry(4, quorate=False, learner=True)), dict(node_="node4")),
    ("4 listed before, the node's entry already removed (a re-run): 2 of the 3 left are enough",
     [{}, {}, DOWN, DOWN], cluster(entry(1), entry(2), entry(3, quorate=False)), dict(node_="node4")),
    ("a WAL dir beside which only root may write, when etcd runs as root",
     [dict(DOWN, user="", wal=dict(dir="/data/etcd.wal", parent_writable=True, parent="root:root 0755")), {}, {}],
     NODE1_DOWN, {}),
    ("a WAL mount point when resuming (nothing is moved, the learner has its WAL)",
     [dict(DOWN, wal=dict(mountpoint=True)), {}, {}],
     cluster(entry(1, quorate=False, learner=True), entry(2), entry(3)), {}),
    ("learners do not count among the voters left", [DOWN, {}, {}, DOWN, DOWN],
     cluster(entry(1, quorate=False), entry(2), entry(3), entry(4, quorate=False, learner=True),
             entry(5, quorate=False, learner=True)), {}),
]


@pytest.mark.parametrize("case,nodes,listed,options", NOT_REFUSED, ids=[c[0] for c in NOT_REFUSED])
def test_not_refused(case, nodes, listed, options):
    assert plan(nodes, listed, **options)["refusals"] == [], case


def test_before_the_cluster_is_read_only_the_helper_is_chosen():
    result = plan([DOWN, {}, {}], None)
    assert result["helper"] == "node2" and result["state"] == "" and result["steps"] == [] and not result["refusals"]
    assert result["hosts"]["node1"] == dict(name="node1", endpoint="http://10.0.0.1:2379", data_dir="/data/etcd.data",
                                            peer_urls=["http://10.0.0.1:2380"], reachable=True, healthy=False,
                                            health="unhealthy: connection refused")


def test_an_unread_member_is_seen_as_the_inventory_has_it():
    result = plan(["unreachable", {}, {}], None)
    assert result["hosts"]["node1"]["name"] == "node1" and result["hosts"]["node1"]["health"] == "unreachable"
    assert result["peer_urls"] == ["http://10.0.0.1:2380"]


def test_the_node_must_be_a_member_given():
    with pytest.raises(ValueError, match="node9"):
        plan([{}, {}, {}], None, node_="node9")
