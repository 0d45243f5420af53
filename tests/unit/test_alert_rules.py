"""docs/etcd-backup-alerts.yml: a rule file Prometheus loads (groups of named rules with an expression), whose
every metric is one the scheduled job writes (etcd_backup_metrics.METRICS)."""

import re
from pathlib import Path

import yaml

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_metrics import METRICS

RULES = Path(__file__).resolve().parents[2] / "docs" / "etcd-backup-alerts.yml"
FUNCTIONS = {"time", "absent", "humanizeDuration"}


def test_every_metric_an_alert_names_is_written_by_the_job():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {"EtcdBackupTooOld", "EtcdBackupFailed", "EtcdBackupDrillFailed",
                                                 "EtcdBackupDrillTooOld"}
    written = {name for name, _help, _key in METRICS}
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("warning", "critical")
        # a selector's labels ({member="controller"}) are the job's labels, not metrics
        selectors = re.findall(r"\{([^}]*)\}", rule["expr"])
        assert {m.split("=")[0].strip() for sel in selectors for m in sel.split(",")} <= {"cluster", "member"}
        names = set(re.findall(r"[a-z_]+(?=\s*[\s)=<>!*{]|$)", re.sub(r"\{[^}]*\}", " ", rule["expr"]))) - FUNCTIONS
        assert names and names <= written, (rule["alert"], names - written)
        for text in rule["annotations"].values():  # the labels an annotation uses are the job's
            assert set(re.findall(r"\$labels\.(\w+)", text)) <= {"cluster", "member"}
