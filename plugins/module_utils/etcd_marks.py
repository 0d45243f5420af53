# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The marks etcd_restore leaves in what it restored, so an interrupted recovery resumes instead of restoring twice.

A restore is staged in <data dir>.etcd-ops-staging and marked there (MARKER: the snapshot's sha256, the member's
name, peer URLs, the initial cluster, token and revision bump); the switch renames it into place, mark and all.
Once the recovered cluster is verified, the mark is retired (renamed to DONE): a later run on the healthy cluster
reads it as "this recovery was done", and after a new disaster restores afresh.

A member with a separate WAL dir (ETCD_WAL_DIR) has its WAL restored into <WAL dir>.etcd-ops-staging, marked at its
top (WAL_MARKER, the same mark; etcd logs "ignored file in WAL directory" for it and reads on) and switched on its
own rename: each dir says for itself whether its restore is in place. The data dir's mark is written last (the
staging is complete) and the data dir is switched last; the WAL dir's mark is removed when the data dir's is retired.
"""

from __future__ import annotations

import json
import os

MARKER = os.path.join("member", ".etcd-ops-restore.json")
DONE = os.path.join("member", ".etcd-ops-restore.done.json")
WAL_MARKER = ".etcd-ops-restore.json"
STAGING = ".etcd-ops-staging"


def read_marker(directory, name=MARKER):
    """The mark in a restored dir, or None (no mark, or one that cannot be read as JSON)."""
    try:
        with open(os.path.join(directory, name)) as handle:
            mark = json.load(handle)
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) else None


def restore_dirs(data_dir, wal_dir=""):
    """[(dir, its staging dir, the mark's name in it)] of one member's restore: the data dir, then the WAL dir when
    the member has a separate one."""
    data_dir = data_dir.rstrip("/") or data_dir
    out = [(data_dir, data_dir + STAGING, MARKER)]
    if wal_dir:
        wal_dir = wal_dir.rstrip("/") or wal_dir
        out.append((wal_dir, wal_dir + STAGING, WAL_MARKER))
    return out


def wal_inside(wal_dir, data_dir):
    """Whether a WAL dir lies inside the data dir (or is it): then it is no dir of its own, and moves with the data
    dir."""
    wal_dir, data_dir = (wal_dir or "").rstrip("/"), (data_dir or "").rstrip("/")
    return bool(wal_dir) and bool(data_dir) and (wal_dir == data_dir or wal_dir.startswith(data_dir + "/"))


def marks(data_dir, wal_dir=""):
    """Every mark of an earlier run around one data dir: in place (data), staged (staging) and retired (done); with a
    separate WAL dir, its marks in place (wal) and staged (wal_staging), else None."""
    data, wal = (restore_dirs(data_dir, wal_dir) + [None])[:2]
    return dict(data=read_marker(data[0]), staging=read_marker(data[1]), done=read_marker(data[0], DONE),
                wal=read_marker(wal[0], wal[2]) if wal else None,
                wal_staging=read_marker(wal[1], wal[2]) if wal else None)


def matches(mark, sha256, initial_cluster):
    """Whether a mark is of a restore of this snapshot into this cluster (its members and peer URLs)."""
    return bool(mark) and mark.get("snapshot_sha256") == sha256 and mark.get("initial_cluster") == initial_cluster


def switched(found, sha256, initial_cluster, wal_dir=""):
    """Whether the restore of this snapshot into this cluster is in place in every dir of the member (`found` as
    marks() returns it): the data dir, and a separate WAL dir too. A member whose data dir was switched and whose WAL
    dir was not would start the restored data with the old cluster's WAL."""
    found = found or {}
    return matches(found.get("data"), sha256, initial_cluster) and (
        not wal_dir or matches(found.get("wal"), sha256, initial_cluster))


def switch(dirs, marker, stamp, fresh=False, check_mode=False):
    """Rename each staged dir of one restore into place, moving what is there aside to <dir>.<stamp> (never deleted):
    the WAL dir first, the data dir last. A dir whose restore is in place already is left alone, unless the restore
    was staged afresh (`fresh`): then every dir is switched, so that all come from one restore. Returns the paths
    moved aside. Raises OSError (a dir that cannot be renamed, such as a mount point) with every earlier rename
    done: each dir's mark tells a later run where it stands."""
    aside = []
    for target, staging, name in reversed(dirs):
        if not fresh and read_marker(target, name) == marker:
            continue
        if os.path.lexists(target):
            moved = "%s.%s" % (target, stamp)
            if os.path.lexists(moved):
                raise FileExistsError("%s exists already: run again in a second" % moved)
            aside.append(moved)
            if not check_mode:
                os.rename(target, moved)
        if not check_mode:
            os.rename(staging, target)
    return list(reversed(aside))
