"""The outcome every report carries (issue #24, edge 5): ok, changed, refused or failed, what had changed by then,
and the message that stopped the run, over a table of runs."""

from __future__ import annotations

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_report import changes_made, run_outcome

SPEC = [
    dict(var="stopped", label="etcd stopped"),
    dict(var="moved", label="moved aside", detail="cmd"),
    dict(var="removed", label="old member entry removed", once=True),
    dict(var="env", label="env file rewritten (old file kept)", detail="backup_file"),
]
CHANGED, SAME, SKIPPED = dict(changed=True), dict(changed=False), dict(changed=False, skipped=True)
MOVED = dict(changed=True, cmd=["mv", "--no-target-directory", "/data/etcd.data", "/data/etcd.data.20261204T000000Z"])
GATE = dict(task="Preflight | Stop when the replace would cost quorum", action="ansible.builtin.assert",
            message="Replacing node3 needs the other voting members to keep quorum\n  without it.")
FAILURE = dict(task="Replace | Add the member again", action="etcd_ops.etcd.etcd_member", message="etcdserver: timeout")

CASES = [
    ("nothing to do", {"node1": {}, "node2": {}}, None,
     dict(status="ok", message="", changes=[], stopped={})),
    ("a completed replace",
     {"node1": {"removed": CHANGED},
      "node3": {"stopped": CHANGED, "moved": MOVED, "removed": CHANGED,
                "env": dict(changed=True, backup_file="/data/e.env.1~")}},
     None,
     dict(status="changed", message="", stopped={},
          changes=["node3: etcd stopped", "node3: moved aside (/data/etcd.data.20261204T000000Z)",
                   "old member entry removed", "node3: env file rewritten (old file kept) (/data/e.env.1~)"])),
    ("a gate before any change: refused, the message on one line", {"node1": {"stopped": SKIPPED}, "node3": {}},
     {"node1": GATE},
     dict(status="refused", changes=[], message="Replacing node3 needs the other voting members to keep quorum "
          "without it.", stopped={"node1": dict(task=GATE["task"], message="Replacing node3 needs the other voting "
                                                "members to keep quorum without it.")})),
    ("a gate after a change is a failure: the change is said", {"node3": {"stopped": CHANGED}}, {"node1": GATE},
     dict(status="failed", changes=["node3: etcd stopped"])),
    ("a module's failure is a failure even before any change", {"node1": {"stopped": SAME}}, {"node1": FAILURE},
     dict(status="failed", message="etcdserver: timeout", changes=[])),
    ("hosts that only followed another's failure have no message", {"a": {}, "b": {}}, {"a": None, "b": FAILURE},
     dict(status="failed", message="etcdserver: timeout", stopped={"b": dict(task=FAILURE["task"],
                                                                             message="etcdserver: timeout")})),
    ("a loop's result counts when one item changed", {"n": {"env": dict(results=[SAME, CHANGED])}}, None,
     dict(status="changed", changes=["n: env file rewritten (old file kept)"])),
    ("a loop's items that changed are said one by one, each with its detail",
     {"n": {"moved": dict(changed=True, results=[
         MOVED, SAME, dict(changed=True, cmd=["mv", "-T", "/data/w", "/data/w.20261204T000000Z"])])}},
     None, dict(changes=["n: moved aside (/data/etcd.data.20261204T000000Z)",
                         "n: moved aside (/data/w.20261204T000000Z)"])),
]


@pytest.mark.parametrize("case,seen,stopped,expected", CASES, ids=[c[0] for c in CASES])
def test_the_outcome(case, seen, stopped, expected):
    outcome = run_outcome(seen, SPEC, stopped)
    for key, value in expected.items():
        assert outcome[key] == value, (case, key, outcome[key])


def test_a_once_result_is_said_once_without_a_host():
    seen = {h: {"removed": CHANGED} for h in ("node1", "node2", "node3")}
    assert changes_made(seen, SPEC) == ["old member entry removed"]
