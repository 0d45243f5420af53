"""The backup_catalog filter as list_backups.yml calls it."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.filter.backup_catalog import backup_catalog

NAME = "etcd-cluster-20261205T060000Z-r250.db"


def test_the_filter_gives_the_rows_and_the_table():
    meta = dict(revision=250, keys=3, member_peer_urls={"node1": ["http://10.0.0.11:2380"]})
    out = backup_catalog([dict(kind="store", location="/s", snapshots=[dict(name=NAME, size=5, metadata=meta)])],
                         [["node1", ["http://10.0.0.11:2380"]]])
    assert out["rows"][0]["cluster"] == "this" and out["lines"][0] == "store   /s: 1 snapshot(s)"


def test_the_filter_says_what_is_wrong_with_its_input():
    with pytest.raises(AnsibleFilterError, match="backup_catalog: place kind 'x' is not one of"):
        backup_catalog([dict(kind="x")])
    with pytest.raises(AnsibleFilterError, match="backup_catalog: 'name'"):
        backup_catalog([dict(kind="store", snapshots=[dict(size=1)])])


def test_the_members_places_are_made_from_what_was_registered():
    out = backup_catalog([], [], [dict(host="node1", location="/d", node=dict(unreachable=True, msg="timed out"),
                                       listed=dict(skipped=True))])
    assert out["unread"][0]["error"] == "unreachable (timed out). Fix: check SSH and sudo to node1"
    assert out["lines"][0] == "member  node1:/d: NOT READ - unreachable (timed out). Fix: check SSH and sudo to node1"
