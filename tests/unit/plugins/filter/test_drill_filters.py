"""The drill's filters: the plan as the role calls it, and a drill failed by the controller's check."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.filter.drill_failure import drill_failure
from ansible_collections.etcd_ops.etcd.plugins.filter.drill_plan import drill_plan


def test_a_snapshot_that_fails_its_check_on_the_controller_is_a_failed_drill():
    meta = dict(revision=5, keys=4, verified_at="2026-12-01T00:00:00Z", drill_result="passed")
    out = drill_failure(meta, "/b/s.db", "The snapshot /b/s.db does not match its sidecar.", "2026-12-05T00:00:00Z")
    assert out["result"] == "failed"
    assert out["msg"].startswith("The restore drill of /b/s.db failed: it does not pass its checks on the controller: "
                                 "The snapshot /b/s.db does not match its sidecar. The snapshot is damaged")
    record = out["metadata"]
    assert record["drill_result"] == "failed" and "verified_at" not in record and record["keys"] == 4
    assert record["drill"]["member"] == "controller" and record["drilled_at"] == "2026-12-05T00:00:00Z"


def test_the_plan_filter_says_what_is_wrong_with_its_input():
    with pytest.raises(AnsibleFilterError, match="drill_plan: 1 stored snapshots but 0 metadata"):
        drill_plan([], dict(stored=["/b/x.db"], metas=[]))


def test_a_drill_merged_into_the_bucket_s_metadata_keeps_its_own_fields():
    from ansible_collections.etcd_ops.etcd.plugins.filter.drill_merged import drill_merged

    bucket = dict(revision=5, object=dict(file="s.db.zst", sha256="ab"), verified_at="2026-12-01T00:00:00Z",
                  drill_result="passed")
    failed = dict(revision=999, drill_result="failed", drilled_at="2026-12-05T00:00:00Z", drill=dict(member="node1"))
    out = drill_merged(bucket, failed)
    assert out == dict(revision=5, object=dict(file="s.db.zst", sha256="ab"), drill_result="failed",
                       drilled_at="2026-12-05T00:00:00Z", drill=dict(member="node1"))
    with pytest.raises(AnsibleFilterError, match="drill_merged: the metadata and the drill must be dicts"):
        drill_merged("x", {})
