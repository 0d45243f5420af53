import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.filter.snapshot_retention import snapshots_beyond

N = [f"/store/etcd-cluster-2026112{d}T000000Z-r{d}.db" for d in range(1, 5)]  # oldest first, as find lists them


def test_beyond_the_newest_kept():
    assert snapshots_beyond(N, 2) == [N[1], N[0]]
    assert snapshots_beyond(N, "2") == [N[1], N[0]]  # a count from -e is a string


def test_zero_keeps_every_one_and_the_one_just_taken_stays():
    assert snapshots_beyond(N, 0) == []
    assert snapshots_beyond(N, 1, ["etcd-cluster-20261121T000000Z-r1.db"]) == [N[2], N[1]]
    assert snapshots_beyond([], 1) == [] and snapshots_beyond(None, 1) == []


@pytest.mark.parametrize("keep", [-1, "-2", "all"])
def test_a_bad_count_is_refused_with_the_fix(keep):
    with pytest.raises(AnsibleFilterError, match="Fix: set etcd_backup_keep"):
        snapshots_beyond(N, keep)
