# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""What the backups and the restore drills did, as Prometheus metrics for node_exporter's textfile collector.

The members' scheduled job keeps its last outcomes in a small state file (a failed run must not lose the time of
the last good one) and writes the metrics from it after every run, under a temporary name first, then renamed, as
the textfile collector wants. Pure functions but `write`: tests/unit/plugins/module_utils/test_etcd_backup_metrics.py
parses their text with the Prometheus client library's own parser.
"""

from __future__ import annotations

import datetime
import os
import re

PROM_FILE = "etcd_ops_backup.prom"

# name, help, the state's key; every metric is a gauge with the labels cluster and member
METRICS = (
    ("etcd_backup_schedule_interval_seconds", "Seconds between two runs of the backup timer (its first two elapses).",
     "interval"),
    ("etcd_backup_last_run_timestamp_seconds", "When the last scheduled backup ran (Unix time).", "last_run"),
    ("etcd_backup_last_run_success", "Whether the last scheduled backup saved a checked snapshot (1) or not (0).",
     "last_run_ok"),
    ("etcd_backup_last_success_timestamp_seconds", "When the last checked snapshot was saved (Unix time).",
     "last_success"),
    ("etcd_backup_last_size_bytes", "Size of the last snapshot saved.", "size"),
    ("etcd_backup_last_duration_seconds", "Seconds the last snapshot took to save and check.", "duration"),
    ("etcd_backup_last_revision", "etcd revision of the last snapshot saved.", "revision"),
    ("etcd_backup_snapshots", "Snapshots kept in the member's backup dir after the last run.", "kept"),
    ("etcd_backup_drill_last_timestamp_seconds", "When the last restore drill ran (Unix time).", "drill_last"),
    ("etcd_backup_drill_last_success", "Whether the last restore drill passed (1) or failed (0).", "drill_ok"),
    ("etcd_backup_drill_last_success_timestamp_seconds", "When a restore drill last passed (Unix time).",
     "drill_last_success"),
    ("etcd_backup_drill_last_restore_seconds", "Seconds the last drill's restore took.", "drill_restore_seconds"),
    ("etcd_backup_drill_last_serve_seconds", "Seconds from the last drill's scratch etcd start until it served.",
     "drill_serve_seconds"),
)


# systemd 252 says "Iter. #2:", 257 "Iteration #2:"
_ELAPSE = re.compile(r"^\s*(Next elapse|Iter(?:\.|ation) #2):\s*\S+\s+(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})",
                     re.M)


def calendar_interval(text):
    """Seconds between the first two elapses `systemd-analyze calendar --iterations=2 VALUE` printed (run with
    TZ=UTC); None when it printed no two."""
    found = dict(("second" if kind.startswith("Iter") else "first", value)
                 for kind, value in _ELAPSE.findall(text or ""))
    if "first" not in found or "second" not in found:
        return None
    first, second = (datetime.datetime.strptime(found[k], "%Y-%m-%d %H:%M:%S") for k in ("first", "second"))
    return int((second - first).total_seconds())


def next_state(state, now, saved=None, drilled=None, error="", interval=None, backup=True):
    """The state after one run at `now` (Unix seconds): `saved` is the run's snapshot (size, duration, revision,
    kept) when one was saved and checked, `drilled` its drill (result, restore_seconds, serve_seconds) when one ran,
    `error` why the run failed, `interval` the timer's (calendar_interval). What a failed run did not redo keeps its
    last value. A run that is no backup (`backup=False`: verify_backup.yml) changes only the drill's values."""
    out = dict(state or {})
    if backup:
        out.update(last_run=now, last_run_ok=bool(saved) and not error, message=error or "")
    if interval:
        out["interval"] = interval
    if saved:
        out.update(last_success=now, size=saved.get("size"), duration=saved.get("duration"),
                   revision=saved.get("revision"), kept=saved.get("kept"))
    if drilled:
        passed = drilled.get("result") == "passed"
        out.update(drill_last=now, drill_ok=passed, drill_restore_seconds=drilled.get("restore_seconds"),
                   drill_serve_seconds=drilled.get("serve_seconds"))
        if passed:
            out["drill_last_success"] = now
    return out


def _label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def render(state, cluster, member):
    """The text exposition format of `state`'s metrics; a metric the state has no value for is left out (an alert
    on its absence says more than a zero would)."""
    labels = 'cluster="%s",member="%s"' % (_label(cluster), _label(member))
    lines = []
    for name, text, key in METRICS:
        value = (state or {}).get(key)
        if value is None or value == "":
            continue
        lines += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name, "%s{%s} %s" % (name, labels, _number(value))]
    return "\n".join(lines) + "\n" if lines else ""


def write(directory, text, name=PROM_FILE):
    """`text` as DIRECTORY/NAME, written under a hidden name in the same dir first, then renamed (the collector
    never reads half a file). Mode 0644: node_exporter runs as its own user."""
    path = os.path.join(directory, name)
    temp = os.path.join(directory, ".%s.%d" % (name, os.getpid()))
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.rename(temp, path)
    return path


def controller_files(cluster):
    """The metrics file and the state file a controller keeps for `cluster`'s store (etcd_controller_metrics_dir):
    one pair per cluster, the state hidden (the textfile collector reads *.prom only)."""
    return "etcd_ops_store_%s.prom" % cluster, ".etcd_ops_store_%s.state.json" % cluster


def from_report(report):
    """What an on-demand run's report (etcd_report_file's JSON: backup.yml's or verify_backup.yml's, on any outcome)
    says for the metrics: dict(cluster, backup (a backup run, not a drill run), saved (size, duration, revision of
    the snapshot stored; None when none was), drilled (result, restore_seconds, serve_seconds; None when no drill
    ran), error (why the run stopped, '')). The cluster is the report's `cluster`, else the first part of its
    snapshot's name. None for a report of another operation, or one that names no cluster (a run stopped before it
    knew which: nothing to say of any cluster's backups)."""
    # imported here: etcd_backup_store imports this module
    from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import listed_snapshots

    report = report or {}
    operation = report.get("operation")
    if operation not in ("backup", "verify_backup"):
        return None
    path = report.get("file") if operation == "backup" else report.get("snapshot")
    found = listed_snapshots([os.path.basename(path or "")])["names"]
    cluster = report.get("cluster") or (found[0].rsplit("-", 2)[0] if found else "")
    if not cluster:
        return None
    status = report.get("status") or ""
    error = (report.get("message") or "stopped") if status in ("refused", "failed") else ""
    drill = report.get("drill") if operation == "backup" else report
    drilled = None
    if isinstance(drill, dict) and drill.get("result") in ("passed", "failed"):
        drilled = dict(result=drill["result"], restore_seconds=drill.get("restore_seconds"),
                       serve_seconds=drill.get("serve_seconds"))
    saved = None
    if operation == "backup" and int(report.get("size") or 0) > 0 and not error:
        saved = dict(size=int(report["size"]), duration=report.get("duration"), revision=report.get("revision"))
    return dict(cluster=cluster, backup=operation == "backup", saved=saved, drilled=drilled, error=error)
