"""may_write: whether a user may make and remove entries in a dir, from its mode and owners (issue #24, edge 2:
etcd makes a new member's WAL dir beside it)."""

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_host import may_write

ETCD, ETCD_GROUP, DISK = 110, 117, 6


@pytest.mark.parametrize("mode, owner, group, uid, gids, expected", [
    (0o755, 0, 0, ETCD, {ETCD_GROUP}, False),  # root's /data, as deploy makes it
    (0o700, ETCD, ETCD_GROUP, ETCD, {ETCD_GROUP}, True),  # a dir of etcd's own
    (0o500, ETCD, ETCD_GROUP, ETCD, {ETCD_GROUP}, False),  # etcd's, but not writable
    (0o300, ETCD, ETCD_GROUP, ETCD, {ETCD_GROUP}, True),  # write and search are enough
    (0o770, 0, ETCD_GROUP, ETCD, {ETCD_GROUP}, True),  # root's, etcd's group may write
    (0o770, 0, DISK, ETCD, {ETCD_GROUP}, False),  # another group's
    (0o775, 0, DISK, ETCD, {ETCD_GROUP, DISK}, True),  # a group etcd is in
    (0o1777, 0, 0, ETCD, {ETCD_GROUP}, True),  # /tmp: others may write
    (0o707, ETCD, ETCD_GROUP, ETCD, {ETCD_GROUP}, True),
    (0o077, ETCD, ETCD_GROUP, ETCD, {ETCD_GROUP}, False),  # the owner's bits count for the owner, not the others'
    (0o000, ETCD, ETCD_GROUP, 0, {0}, True),  # root may
])
def test_may_write(mode, owner, group, uid, gids, expected):
    assert may_write(mode, owner, group, uid, gids) is expected
