"""ready(): what each wait of the roles waits for, over a table of cluster_info() answers."""

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import ready

SERVING = dict(status=dict(version="3.5.16"), quorate=False)
QUORATE = dict(status=dict(version="3.5.16"), quorate=True)
DOWN = dict(status={}, quorate=False)
VOTER = dict(is_learner=False, quorate=True)


def info(endpoints=(), members=(), has_quorum=False):
    return dict(endpoints=list(endpoints), members=list(members), quorum=dict(has_quorum=has_quorum))


@pytest.mark.parametrize("answer, wait_for, want", [
    (info([SERVING]), "serving", True),  # a learner serves before it has caught up
    (info([DOWN]), "serving", False),
    (info([]), "serving", False),
    (info([SERVING]), "quorate", False),
    (info([QUORATE, QUORATE]), "quorate", True),
    (info([QUORATE, SERVING]), "quorate", False),
    (info([], [VOTER] * 3, True), "healthy_cluster", True),
    (info([], [VOTER, VOTER, dict(VOTER, is_learner=True)], True), "healthy_cluster", False),
    (info([], [VOTER, VOTER, dict(VOTER, quorate=False)], True), "healthy_cluster", False),
    (info([], [VOTER] * 3, False), "healthy_cluster", False),
    (info([], [], True), "healthy_cluster", False),
])
def test_ready(answer, wait_for, want):
    assert ready(answer, wait_for) is want


def test_an_unknown_wait_is_refused():
    with pytest.raises(ValueError, match="wait_for must be one of serving, quorate, healthy_cluster"):
        ready(info(), "up")
