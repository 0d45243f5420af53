"""The backup metrics: the state a run leaves, and its text as the Prometheus client library's own parser reads it."""

from __future__ import annotations

import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_metrics as metrics

SAVED = dict(size=24608, duration=0.091, revision=54, kept=3)


def parsed(text):
    """{metric name: (labels, value)} as Prometheus reads the text."""
    out = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family
        for sample in family.samples:
            out[sample.name] = (sample.labels, sample.value)
    return out


def test_a_good_run_with_a_drill():
    state = metrics.next_state({}, 1000, saved=SAVED, drilled=dict(result="passed", restore_seconds=0.02,
                                                                   serve_seconds=0.4))
    seen = parsed(metrics.render(state, "etcd-cluster", "node1"))
    assert seen["etcd_backup_last_run_success"] == ({"cluster": "etcd-cluster", "member": "node1"}, 1.0)
    assert seen["etcd_backup_last_success_timestamp_seconds"][1] == 1000
    assert seen["etcd_backup_last_size_bytes"][1] == 24608 and seen["etcd_backup_snapshots"][1] == 3
    assert seen["etcd_backup_last_duration_seconds"][1] == 0.091
    assert seen["etcd_backup_drill_last_success"][1] == 1 and seen["etcd_backup_drill_last_serve_seconds"][1] == 0.4
    assert seen["etcd_backup_drill_last_success_timestamp_seconds"][1] == 1000
    assert len(seen) == len(metrics.METRICS) - 1  # no interval given


def test_a_failed_run_keeps_the_time_of_the_last_good_one():
    good = metrics.next_state({}, 1000, saved=SAVED, drilled=dict(result="passed", restore_seconds=1, serve_seconds=1))
    failed = metrics.next_state(good, 2000, error="The member at http://127.0.0.1:2379 is not healthy")
    seen = parsed(metrics.render(failed, "etcd-cluster", "node1"))
    assert seen["etcd_backup_last_run_success"][1] == 0 and seen["etcd_backup_last_run_timestamp_seconds"][1] == 2000
    assert seen["etcd_backup_last_success_timestamp_seconds"][1] == 1000
    assert failed["message"].startswith("The member at")
    drill_failed = metrics.next_state(good, 3000, saved=SAVED, drilled=dict(result="failed"),
                                      error="The restore drill of x failed")
    seen = parsed(metrics.render(drill_failed, "etcd-cluster", "node1"))
    assert seen["etcd_backup_drill_last_success"][1] == 0
    assert seen["etcd_backup_drill_last_timestamp_seconds"][1] == 3000
    assert seen["etcd_backup_drill_last_success_timestamp_seconds"][1] == 1000
    # a snapshot was saved, but the run failed (its drill): the run counts as failed
    assert seen["etcd_backup_last_run_success"][1] == 0
    assert seen["etcd_backup_last_success_timestamp_seconds"][1] == 3000


def test_what_never_happened_is_left_out_and_labels_are_escaped():
    first_failed = metrics.next_state({}, 5, error="boom")
    seen = parsed(metrics.render(first_failed, 'odd "name"\\x', "node\n1"))
    assert set(seen) == {"etcd_backup_last_run_timestamp_seconds", "etcd_backup_last_run_success"}
    assert seen["etcd_backup_last_run_success"][0] == {"cluster": 'odd "name"\\x', "member": "node\n1"}
    assert metrics.render({}, "c", "m") == ""


def test_write_is_atomic_and_readable_by_node_exporter(tmp_path):
    path = metrics.write(str(tmp_path), "x 1\n")
    assert path == str(tmp_path / "etcd_ops_backup.prom") and open(path).read() == "x 1\n"
    assert oct(os.stat(path).st_mode & 0o777) == "0o644" and os.listdir(tmp_path) == ["etcd_ops_backup.prom"]


DAILY = """  Original form: daily
Normalized form: *-*-* 00:00:00
    Next elapse: Sun 2026-12-06 00:00:00 UTC
       From now: 19h left
       Iter. #2: Mon 2026-12-07 00:00:00 UTC
       From now: 1 day 19h left
"""


def test_the_timer_s_interval_from_systemd_analyze():
    assert metrics.calendar_interval(DAILY) == 86400
    assert metrics.calendar_interval(DAILY.replace("       Iter. #2:", "   Iteration #2:")) == 86400  # systemd 257
    assert metrics.calendar_interval(DAILY.replace("Mon 2026-12-07 00:00:00", "Sun 2026-12-06 06:00:00")) == 21600
    assert metrics.calendar_interval("Failed to parse calendar specification") is None
    assert metrics.calendar_interval("    Next elapse: Sun 2026-12-06 00:00:00 UTC\n") is None
    state = metrics.next_state({}, 5, saved=SAVED, interval=86400)
    assert parsed(metrics.render(state, "c", "m"))["etcd_backup_schedule_interval_seconds"][1] == 86400


# -- an on-demand run's report into the controller's metrics (etcd_controller_metrics_dir) ------------------------
NAME = "/s/etcd-cluster-20261205T070547Z-r4.db"
PASSED = dict(result="passed", restore_seconds=0.1, serve_seconds=0.4)


@pytest.mark.parametrize("report, expected", [
    (dict(operation="backup", status="changed", cluster="etcd-cluster", file=NAME, size=20512, duration=0.3,
          revision=4),
     dict(cluster="etcd-cluster", backup=True, saved=dict(size=20512, duration=0.3, revision=4), drilled=None,
          error="")),
    # backup.yml's drill
    (dict(operation="backup", status="changed", cluster="etcd-cluster", file=NAME, size=20512, duration=0.3,
          revision=4, drill=dict(PASSED, member="node1")),
     dict(cluster="etcd-cluster", backup=True, saved=dict(size=20512, duration=0.3, revision=4), drilled=PASSED,
          error="")),
    # a backup that stopped: no snapshot saved, the message kept
    (dict(operation="backup", status="refused", cluster="etcd-cluster", message="No member is healthy."),
     dict(cluster="etcd-cluster", backup=True, saved=None, drilled=None, error="No member is healthy.")),
    # a snapshot saved, then the run failed (the upload): not a success
    (dict(operation="backup", status="failed", cluster="etcd-cluster", file=NAME, size=20512, message="upload"),
     dict(cluster="etcd-cluster", backup=True, saved=None, drilled=None, error="upload")),
    # verify_backup.yml: only the drill; its cluster from the snapshot's name
    (dict(operation="verify_backup", status="changed", snapshot=NAME, **PASSED),
     dict(cluster="etcd-cluster", backup=False, saved=None, drilled=PASSED, error="")),
    (dict(operation="verify_backup", status="failed", snapshot="s3-name/etcd-cluster-20261205T070547Z-r4.db",
          result="failed", restore_seconds=0.1, serve_seconds=None, message="differs"),
     dict(cluster="etcd-cluster", backup=False, saved=None,
          drilled=dict(result="failed", restore_seconds=0.1, serve_seconds=None), error="differs")),
    (dict(operation="verify_backup", status="ok", snapshot=NAME, result="not run"),
     dict(cluster="etcd-cluster", backup=False, saved=None, drilled=None, error="")),
])
def test_a_report_says_what_the_metrics_record(report, expected):
    assert metrics.from_report(report) == expected


@pytest.mark.parametrize("report", [dict(operation="deploy", status="ok"), dict(operation="backup", status="failed"),
                                    dict(operation="verify_backup", status="refused", snapshot="")])
def test_a_report_of_no_cluster_s_backups_is_none(report):
    assert metrics.from_report(report) is None


def test_a_drill_run_changes_only_the_drill_s_values():
    state = metrics.next_state({}, 100, saved=dict(size=5, duration=1, revision=3, kept=1))
    after = metrics.next_state(state, 200, drilled=dict(result="failed", restore_seconds=1, serve_seconds=2),
                               backup=False)
    assert after["last_run"] == 100 and after["last_run_ok"] is True and after["last_success"] == 100
    assert after["drill_last"] == 200 and after["drill_ok"] is False and "drill_last_success" not in after
