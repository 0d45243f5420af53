"""backup's decision over a table of cases: what each member showed (etcd_node_info), the user's choice of member,
the store's free space, and the member to snapshot or the refusal. The backup and tls scenarios prove the same rows
end to end on the lab."""

from __future__ import annotations

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_plan import backup_plan

MB = 1024 * 1024


def node(i, healthy=True, error="", alarms=(), db_size=20 * MB, token="etcd-cluster-20261201T000000Z"):
    return dict(env=dict(ETCD_NAME="etcd-%d" % i, ETCD_INITIAL_CLUSTER_TOKEN=token),
                endpoint="http://10.0.0.%d:2379" % i,
                probe=dict(ran=True, healthy=healthy, quorate=healthy or bool(alarms), alarms=list(alarms),
                           status=dict(db_size=db_size) if healthy else {},
                           error="" if healthy else (error or "connection refused")))


def members(*states):
    """Each member: a dict of node() options, "unreachable", or ("failed", msg)."""
    out = []
    for i, s in enumerate(states, 1):
        m = dict(host="node%d" % i)
        if s == "unreachable":
            m.update(unreachable=True, node={})
        elif isinstance(s, tuple):
            m.update(error=s[1], node={})
        else:
            m["node"] = node(i, **s)
        out.append(m)
    return out


DOWN = dict(healthy=False)

CASES = [
    ("the first healthy member", [{}, {}, {}], {}, dict(source="node1", healthy_hosts=["node1", "node2", "node3"])),
    ("the first healthy one when the first is down", [DOWN, "unreachable", {}], {},
     dict(source="node3", healthy_hosts=["node3"], refusals=[])),
    ("the member asked for", [{}, {}, {}], dict(member="node2"), dict(source="node2", refusals=[])),
    ("the cluster's name: its token without the recovery's UTC time", [{}, {}, {}], {},
     dict(cluster_name="etcd-cluster")),
    ("NOSPACE: still snapshotted (etcd serves snapshots then), the alarm and its fix named",
     [dict(healthy=False, alarms=["NOSPACE"]), {}, {}], {},
     dict(source="node1", alarms=["NOSPACE"], refusals=[])),
    ("a store with room", [{}, {}, {}], dict(store_free=23 * MB), dict(refusals=[])),
    ("a store free space given as text (a template rendered it)", [{}, {}, {}], dict(store_free="104857600"),
     dict(source="node1", refusals=[])),
    ("the schedule alone: no member needed", [DOWN, DOWN, "unreachable"], dict(now=False),
     dict(source="", healthy_hosts=[], refusals=[])),
]


@pytest.mark.parametrize("case,states,settings,expected", CASES, ids=[c[0] for c in CASES])
def test_the_plan(case, states, settings, expected):
    result = backup_plan(members(*states), dict(dict(now=True, member="", store="/backups"), **settings))
    for key, value in expected.items():
        assert result[key] == value, (case, key, result[key])


def test_the_alarm_s_fix_is_given():
    result = backup_plan(members(dict(healthy=False, alarms=["NOSPACE"]), {}, {}), dict(now=True))
    assert result["alarm_fix"].startswith("NOSPACE: ") and len(result["alarm_fix"]) > 20


REFUSALS = [
    ("no member healthy: each one's health, and disaster_recovery as the last resort",
     [DOWN, "unreachable", ("failed", "sudo: a password is required")], {},
     ["No member of group etcd answers healthy (node1: unhealthy: connection refused; node2: unreachable; node3: "
      "unhealthy: sudo: a password is required). Nothing was changed. Fix: a member answers healthy only while",
      "disaster_recovery.yml"]),
    ("etcd auth without credentials: the fix names etcd_user first",
     [dict(healthy=False, error="etcdserver: user name is empty")] * 3, {},
     ["Fix: etcd authentication is on: set etcd_user and etcd_password", "Otherwise: a member answers healthy"]),
    ("the member asked for is down", [{}, DOWN, {}], dict(member="node2"),
     ["etcd_backup_member node2 is not a reachable, healthy member of group etcd. Nothing was changed.",
      "pick another etcd_backup_member (or leave it empty)"]),
    ("the member asked for is no member", [{}, {}, {}], dict(member="node9"),
     ["etcd_backup_member node9 is not a reachable, healthy member"]),
    ("a store that is no writable directory, before any member is looked at", [DOWN, DOWN, DOWN],
     dict(store_error="could not create it: Not a directory"),
     ["The backup store /backups on the controller is not a directory this user can write (could not create it: Not "
      "a directory). Nothing was changed on any member. Fix: set etcd_backup_dir to a directory you can write"]),
    ("no room in the store for the database", [{}, {}, {}], dict(store_free=21 * MB),
     ["Not enough space in the store /backups on the controller: 22020096 bytes free, the database of node1 is "
      "20971520 bytes"]),
]


@pytest.mark.parametrize("case,states,settings,texts", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals(case, states, settings, texts):
    result = backup_plan(members(*states), dict(dict(now=True, member="", store="/backups"), **settings))
    assert len(result["refusals"]) == 1, result["refusals"]
    for text in texts:
        assert text in result["refusals"][0], (case, result["refusals"][0])


def test_each_member_s_view():
    result = backup_plan(members({}, "unreachable", DOWN), dict(now=True))
    assert result["hosts"]["node1"] == dict(endpoint="http://10.0.0.1:2379", healthy=True, health="healthy",
                                            name="etcd-1", cluster_name="etcd-cluster")
    assert result["hosts"]["node2"]["health"] == "unreachable" and result["hosts"]["node2"]["name"] == "node2"
    assert result["hosts"]["node3"]["health"] == "unhealthy: connection refused"


@pytest.mark.parametrize("states, known", [
    ([{}, {}, {}], "etcd-cluster"),
    # no member can be snapshotted: the name still comes from the first env file read
    (["unreachable", dict(healthy=False), dict(healthy=False)], "etcd-cluster"),
    (["unreachable", "unreachable", ("failed", "sudo: a password is required")], ""),
])
def test_the_cluster_is_known_also_when_no_member_can_be_snapshotted(states, known):
    plan = backup_plan(members(*states), dict(now=True))
    assert plan["known_cluster"] == known
    assert plan["cluster_name"] == (known if states[0] == {} else "")
