"""The decisions of etcd_plan, one row per case (issue: deploy.yml on a running cluster whose env file named another
data dir rewrote it with the default one and ETCD_INITIAL_CLUSTER_STATE=new: the members came back empty)."""

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import (
    auth_user,
    cluster_name,
    deploy_identity,
    restart_kept,
    restart_needed,
    snapshot_cluster,
)

DEFAULTS = dict(name="node1", data_dir="/data/etcd.data", token="etcd-cluster")
ENV = dict(ETCD_NAME="sl1", ETCD_DATA_DIR="/srv/etcd-data/", ETCD_WAL_DIR="/wal/etcd",
           ETCD_INITIAL_CLUSTER_TOKEN="prod")
KEPT = dict(name="sl1", data_dir="/srv/etcd-data", wal_dir="/wal/etcd", token="prod")
FRESH = dict(name="node1", data_dir="/data/etcd.data", wal_dir="", token="etcd-cluster")


@pytest.mark.parametrize("env, holds_data, running, given, expect, keep, refused", [
    # the case: the env file's data dir holds the data; nothing in the inventory -> the env file wins
    (ENV, True, True, {}, KEPT, True, []),
    (ENV, True, False, {}, KEPT, True, []),        # stopped, with data
    (ENV, False, True, {}, KEPT, True, []),        # running, data elsewhere we could not see: still kept
    # the inventory says the same: fine; says otherwise: refused, the env file's value stays the plan
    (ENV, True, True, dict(data_dir="/srv/etcd-data"), KEPT, True, []),
    (ENV, True, True, dict(data_dir="/data/etcd.data"), KEPT, True,
     [("data_dir", "etcd_data_dir", "/data/etcd.data", "/srv/etcd-data")]),
    (ENV, True, True, dict(name="node1", token="etcd-cluster"), KEPT, True,
     [("name", "etcd_name", "node1", "sl1"), ("token", "etcd_cluster_token", "etcd-cluster", "prod")]),
    # no data, not running: the inventory (or the defaults) decide, the env file is rewritten
    (ENV, False, False, {}, FRESH, False, []),
    (ENV, False, False, dict(data_dir="/x/"), dict(FRESH, data_dir="/x"), False, []),
    ({}, False, False, {}, FRESH, False, []),
    ({}, False, True, {}, FRESH, False, []),       # Debian's own etcd.service runs, no env file of ours
    # an env file that names only some settings: the rest from the inventory or defaults
    (dict(ETCD_NAME="sl1"), True, True, {}, dict(FRESH, name="sl1"), True, []),
    (dict(ETCD_DATA_DIR="/srv/d"), True, True, dict(name="n9"), dict(FRESH, name="n9", data_dir="/srv/d"), True, []),
    # an empty value given counts as not given
    (ENV, True, True, dict(data_dir="", name=None), KEPT, True, []),
])
def test_deploy_identity(env, holds_data, running, given, expect, keep, refused):
    got = deploy_identity(env, holds_data, running, given, DEFAULTS)
    assert {k: got[k] for k in expect} == expect
    assert got["keep"] is keep and got["refusals"] == refused


def test_a_wal_dir_from_etcd_extra_env_must_match_the_env_files():
    got = deploy_identity(ENV, True, True, dict(wal_dir="/other/wal"), DEFAULTS)
    assert got["wal_dir"] == "/wal/etcd"
    assert got["refusals"] == [("wal_dir", "etcd_extra_env.ETCD_WAL_DIR", "/other/wal", "/wal/etcd")]
    assert deploy_identity(ENV, True, True, dict(wal_dir="/wal/etcd/"), DEFAULTS)["refusals"] == []
    assert deploy_identity({}, False, False, dict(wal_dir="/w"), DEFAULTS)["wal_dir"] == "/w"


# A snapshot belongs to one cluster (issue: recovery restored another cluster's snapshot from a shared store)
X = [("x1", ["http://10.0.0.1:2380"]), ("x2", ["http://10.0.0.2:2380"]), ("x3", ["http://10.0.0.3:2380"])]
X_META = dict(cluster_id="aa", cluster_token="etcd-cluster", members=["x1", "x2", "x3"],
              member_peer_urls=dict(X))
Y_META = dict(cluster_id="bb", cluster_token="etcd-cluster", members=["y1", "y2", "y3"],
              member_peer_urls={f"y{i}": [f"http://10.0.1.{i}:2380"] for i in (1, 2, 3)})


@pytest.mark.parametrize("meta, play, match", [
    (X_META, X, "same"),
    (Y_META, X, "other"),                                              # the case: same token, other members
    (X_META, [("x1", ["http://10.0.0.9:2380"])] + X[1:], "same"),      # x1 rebuilt at a new address
    (X_META, [(n, [u.replace("10.0.0", "10.9.9") for u in urls]) for n, urls in X], "other"),  # all new machines
    (X_META, [("n1", ["http://10.0.0.1:2380"])], "other"),             # same URL, another name: not the same member
    (dict(members=["x1", "x2", "x3"]), X, "same"),                     # made before peer URLs were recorded
    (dict(members=["y1", "y2", "y3"]), X, "other"),
    (dict(members=[""]), X, "other"),
    ({}, X, "unknown"),                                                # -e etcd_snapshot=a file without .json
])
def test_snapshot_cluster(meta, play, match):
    got = snapshot_cluster(meta, play)
    assert got["match"] == match
    if match == "other":
        assert got["reason"].startswith("its members are ")


def test_a_token_a_recovery_stamped_is_the_same_token():
    """After disaster_recovery.yml the env file's token is etcd-cluster-<UTC time>: an inventory that names
    etcd-cluster still names this cluster (the lab's tls scenario found deploy refusing it)."""
    env = dict(ENV, ETCD_INITIAL_CLUSTER_TOKEN="etcd-cluster-20261203T112835Z")
    got = deploy_identity(env, True, True, dict(token="etcd-cluster"), DEFAULTS)
    assert got["refusals"] == [] and got["token"] == "etcd-cluster-20261203T112835Z"
    assert deploy_identity(env, True, True, dict(token="other"), DEFAULTS)["refusals"][0][0] == "token"


@pytest.mark.parametrize("user, deploy_auth, expect", [
    ("bob", False, "bob"),
    ("bob", True, "bob"),        # etcd_user wins
    ("", True, "root"),          # etcd_deploy_auth makes root; etcd_user may stay empty
    ("  ", True, "root"),
    (None, True, "root"),
    ("", False, ""),             # no auth: no user
    (None, False, ""),
])
def test_auth_user(user, deploy_auth, expect):
    assert auth_user(user, deploy_auth) == expect


@pytest.mark.parametrize("token, expect", [
    ("etcd-cluster", "etcd-cluster"),
    ("etcd-cluster-20261203T112835Z", "etcd-cluster"),         # after a recovery: the same name
    ("etcd-cluster-20261203T112835Z-20261204T000000Z", "etcd-cluster-20261203T112835Z"),  # only the last one
    ("prod/eu 1", "prod_eu_1"),
    ("etcd-cluster-2026120T112835Z", "etcd-cluster-2026120T112835Z"),  # not a UTC stamp
    ("", ""),
])
def test_cluster_name(token, expect):
    assert cluster_name(token) == expect


S = dict(cluster_id=0xAA, member_id=0x11, revision=500)


@pytest.mark.parametrize("before, after, ok, reason", [
    (S, dict(S, revision=501), True, ""),
    (S, S, True, ""),
    # deploy rewrote the data dir (or STATE=new over an empty one): a new cluster of one, revision 1
    (S, dict(S, cluster_id=0xBB, member_id=0x22, revision=1), False, "came back in another cluster (ID bb, was aa)"),
    (S, dict(S, member_id=0x22), False, "came back as another member (ID 22, was 11)"),
    (S, dict(S, revision=12), False, "its revision went back from 500 to 12: it lost data"),
    (S, {}, False, "does not answer with its status"),
    (S, None, False, "does not answer with its status"),
    ({}, S, True, "not compared: it did not answer before"),
    (None, dict(S, cluster_id=0), False, "does not answer"),
])
def test_restart_kept(before, after, ok, reason):
    """Issue #21 (6): each member of a rolling restart must come back as it was before the next one restarts."""
    got = restart_kept(before, after)
    assert got["ok"] is ok and reason in got["reason"] and (reason or not got["reason"])


ENV_NOW = dict(ETCD_NAME="node1", ETCD_DATA_DIR="/data/etcd.data", ETCD_INITIAL_CLUSTER="node1=http://a:2380",
               ETCD_INITIAL_CLUSTER_STATE="new", ETCD_INITIAL_CLUSTER_TOKEN="etcd-cluster")


@pytest.mark.parametrize("new, needed", [
    (ENV_NOW, False),
    # the state deploy writes for a member that holds data: etcd reads it only on a first start
    (dict(ENV_NOW, ETCD_INITIAL_CLUSTER_STATE="existing"), False),
    (dict(ENV_NOW, ETCD_INITIAL_CLUSTER="node1=http://a:2380,node2=http://b:2380"), False),
    (dict(ENV_NOW, ETCD_HEARTBEAT_INTERVAL="200"), True),
    (dict(ENV_NOW, ETCD_DATA_DIR="/srv/etcd"), True),
    ({k: v for k, v in ENV_NOW.items() if k != "ETCD_DATA_DIR"}, True),
])
def test_restart_needed(new, needed):
    assert restart_needed(ENV_NOW, new) is needed
    assert restart_needed(None, {}) is False
