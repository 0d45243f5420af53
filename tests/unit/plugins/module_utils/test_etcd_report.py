"""The outcome every report carries (issue #24, edge 5): ok, changed, refused or failed, what had changed by then,
and the message that stopped the run, over a table of runs."""

from __future__ import annotations

import pytest

from ansible_collections.etcd_ops.etcd.plugins.filter.typed_numbers import FilterModule
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_report import changes_made, run_outcome, typed

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


# typed: the numbers that ansible-core before 2.19 renders as text in a report or a snapshot's metadata built in YAML
@pytest.mark.parametrize("value, want", [
    ({"keys": "40", "revision": "41", "size": "24608", "hash": "3166302342"},
     {"keys": 40, "revision": 41, "size": 24608, "hash": 3166302342}),
    ({"duration": "0.31", "kv_hash": "None", "kv_hash_compact_revision": "0"},
     {"duration": 0.31, "kv_hash": None, "kv_hash_compact_revision": 0}),
    # every value under seconds, at any depth; a scalar seconds too (replace_member's)
    ({"seconds": {"total": "21.4", "quiesced": "None", "new_hosts": ""}},
     {"seconds": {"total": 21.4, "quiesced": None, "new_hosts": None}}),
    ({"seconds": "9.0"}, {"seconds": 9.0}),
    ({"seconds": "1e-05"}, {"seconds": 1e-05}),
    # nested: the snapshot of disaster_recovery's report, the drill of backup's
    ({"snapshot": {"keys": "40", "path": "/s/a.db"}, "drill": {"restore_seconds": "1.5", "result": "passed"}},
     {"snapshot": {"keys": 40, "path": "/s/a.db"}, "drill": {"restore_seconds": 1.5, "result": "passed"}}),
    # 2.19's numbers stay as they are
    ({"keys": 40, "seconds": {"total": 21.4}, "bump_revision": 0},
     {"keys": 40, "seconds": {"total": 21.4}, "bump_revision": 0}),
    # text that is not a number field's, or not a number, stays text: IDs, hashes, names
    ({"cluster_id": "12345", "sha256": "1234", "name": "7", "member": "node1", "keys": "not counted"},
     {"cluster_id": "12345", "sha256": "1234", "name": "7", "member": "node1", "keys": "not counted"}),
    ({"revision": "0x10", "size": "012", "keep": "-3"}, {"revision": "0x10", "size": "012", "keep": -3}),
    # a number field holding a dict or list (the bundle's keys record, a list of names) is walked, not converted
    ({"config": {"keys": {"file": "a.keys.age", "size": "600"}}},
     {"config": {"keys": {"file": "a.keys.age", "size": 600}}}),
    ({"keys": ["1", "ca_key"]}, {"keys": ["1", "ca_key"]}),
    ([{"kept": "2"}, "3"], [{"kept": 2}, "3"]),
    ("40", "40"),
    (None, None),
], ids=["ints", "float and null", "seconds nested", "seconds scalar", "exponent", "nested", "already typed",
        "other text", "not canonical", "dict under a number field", "list under a number field", "list", "bare text",
        "none"])
def test_typed_makes_the_number_fields_numbers_again(value, want):
    got = typed(value)
    assert got == want
    assert [type(v) for v in _leaves(got)] == [type(v) for v in _leaves(want)]


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_typed_numbers_filter_is_typed():
    assert FilterModule().filters()["typed_numbers"] is typed
