# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The marks etcd_restore leaves in what it restored, so an interrupted recovery resumes instead of restoring twice.

A restore is staged in <data dir>.etcd-ops-staging and marked there (MARKER: the snapshot's sha256, the member's
name, peer URLs, the initial cluster, token and revision bump); the switch renames it into place, mark and all.
Once the recovered cluster is verified, the mark is retired (renamed to DONE): a later run on the healthy cluster
reads it as "this recovery was done", and after a new disaster restores afresh.
"""

from __future__ import annotations

import json
import os

MARKER = os.path.join("member", ".etcd-ops-restore.json")
DONE = os.path.join("member", ".etcd-ops-restore.done.json")
STAGING = ".etcd-ops-staging"


def read_marker(directory, name=MARKER):
    """The mark in a restored dir, or None (no mark, or one that cannot be read as JSON)."""
    try:
        with open(os.path.join(directory, name)) as handle:
            mark = json.load(handle)
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) else None


def marks(data_dir):
    """Every mark of an earlier run around one data dir: in place (data), staged (staging) and retired (done)."""
    data_dir = data_dir.rstrip("/") or data_dir
    return dict(data=read_marker(data_dir), staging=read_marker(data_dir + STAGING),
                done=read_marker(data_dir, DONE))


def matches(mark, sha256, initial_cluster):
    """Whether a mark is of a restore of this snapshot into this cluster (its members and peer URLs)."""
    return bool(mark) and mark.get("snapshot_sha256") == sha256 and mark.get("initial_cluster") == initial_cluster
