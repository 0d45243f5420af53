# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd_store: the controller's snapshot store, in the controller's own process.

Each of the steps it replaces (create the dir, look at it, measure its free space, write two sidecars, list the
snapshots, remove the old ones) was a module run on localhost: a Python process and a module payload each, about
0.4-0.6 s apiece. Here each state is one call that costs milliseconds. The store's contract (names, sidecars,
retention) stays in module_utils/etcd_backup_store.py, which the members' timer job uses too.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.action import ActionBase

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_metrics as metrics
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_config import (
    SUFFIX,
    bundle_files,
    record,
    summary,
)
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import (
    SIDECARS,
    prune,
    stored,
    write_file,
    write_sidecars,
)
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_drill import merge
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import snapshot_cluster
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_report import typed
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import read_meta


def ready(path, check_mode):
    """Create the store (0700) where it is missing, then say whether it is a directory this user can write and how
    much room it has. Check mode creates nothing; a missing store then counts as ready (the real run creates it)."""
    out = dict(path=path, created=False, exists=os.path.isdir(path), writable=False, free=None, error="")
    if not os.path.lexists(path) and not check_mode:
        try:
            os.makedirs(path, mode=0o700)
        except OSError as exc:
            return dict(out, error="could not create it: %s" % (exc.strerror or exc))
        out.update(created=True, exists=True)
    if os.path.lexists(path) and not os.path.isdir(path):
        return dict(out, error="it exists and is not a directory")
    if out["exists"]:
        out["writable"] = os.access(path, os.W_OK | os.X_OK)
        if not out["writable"]:
            out["error"] = "not writable"
        fs = os.statvfs(path)
        out["free"] = fs.f_bavail * fs.f_frsize
    elif check_mode:
        out["writable"] = True  # not there yet: the real run creates it
    return out


def drilled(snapshot, metadata, check_mode):
    """A drill's result into the snapshot's NAME.json (its drill fields only, the rest as it is there now), written
    under a hidden name, then renamed. A snapshot without a NAME.json gets none: a file the store did not make stays
    nobody's (retention leaves it alone)."""
    side = snapshot + ".json"
    if not os.path.isfile(side):
        return dict(changed=False, recorded=False, why="%s has no metadata (%s) to record the drill in" % (
            snapshot, os.path.basename(side)))
    current = read_meta(snapshot)
    if not current:
        return dict(changed=False, recorded=False, why="%s is not a JSON object; it was left as it is" % side)
    updated = merge(current, metadata)
    if updated == current:
        return dict(changed=False, recorded=True, written=[])
    if not check_mode:
        write_file(side, json.dumps(updated, indent=2, sort_keys=True) + "\n")
    return dict(changed=True, recorded=True, written=[side])


def metrics_written(directory, report, check_mode, now=None):
    """An on-demand run's outcome (its report) into the controller's metrics for its cluster's store: the state kept
    beside them (a failed run keeps the time of the last good one), then the metrics file, each under a hidden name
    first, then renamed. The snapshots kept are counted in the store the report names. A directory that does not
    exist gets nothing (a warning): node_exporter's textfile dir is the user's to make."""
    seen = metrics.from_report(report)
    if seen is None:
        return dict(changed=False, metrics_file="", why="the report names no cluster whose backups it is about")
    if not os.path.isdir(directory):
        return dict(changed=False, metrics_file="", why="%s is not a directory" % directory,
                    warnings=["etcd_controller_metrics_dir %s is not a directory on the controller: no metrics were "
                              "written. Fix: create it (node_exporter's --collector.textfile.directory)." % directory])
    prom, state_name = metrics.controller_files(seen["cluster"])
    state_path = os.path.join(directory, state_name)
    try:
        with open(state_path) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        state = {}
    saved = seen["saved"]
    if saved and report.get("file") and os.path.isdir(os.path.dirname(report["file"])):
        saved = dict(saved, kept=len(stored(os.path.dirname(report["file"]), seen["cluster"])))
    now = int(now if now is not None else time.time())
    state = metrics.next_state(state if isinstance(state, dict) else {}, now, saved=saved, drilled=seen["drilled"],
                               error=seen["error"], backup=seen["backup"])
    path = os.path.join(directory, prom)
    if not check_mode:
        write_file(state_path, json.dumps(state, indent=2, sort_keys=True) + "\n")
        metrics.write(directory, metrics.render(state, seen["cluster"], "controller"), name=prom)
    return dict(changed=True, metrics_file=path, state=state)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "state", "name", "sha256", "metadata", "cluster", "keep", "protect", "members",
                             "report", "config"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", required=True, choices=["ready", "saved", "pruned", "drilled", "metrics"]),
            name=dict(type="str"),
            sha256=dict(type="str"),
            metadata=dict(type="dict"),
            cluster=dict(type="str"),
            keep=dict(type="int"),
            protect=dict(type="list", elements="str", default=[]),
            members=dict(type="list", elements="dict", default=[]),
            report=dict(type="dict"),
            config=dict(type="dict"),
        ), required_if=[("state", "saved", ("name", "sha256", "metadata")), ("state", "drilled", ("name", "metadata")),
                        ("state", "pruned", ("cluster", "keep")), ("state", "metrics", ("report",))])[1]
        path, state, check = args["path"], args["state"], self._task.check_mode
        result.update(path=path, changed=False)
        if state == "ready":
            out = ready(path, check)
            return dict(result, changed=out["created"] or (check and not out["exists"]), **out)
        if state == "metrics":
            try:
                return dict(result, **metrics_written(path, args["report"], check))
            except OSError as exc:
                return dict(result, metrics_file="", why=str(exc),
                            warnings=["Could not write the metrics in %s: %s" % (path, exc)])
        if not os.path.isdir(path):
            return dict(result, failed=True, msg="The store %s is not a directory on the controller. Fix: run the "
                                                 "backup role's preflight first (it creates the store)." % path)
        try:
            if state == "drilled":
                return dict(result, **drilled(os.path.join(path, args["name"]), typed(args["metadata"]), check))
            if state == "saved":
                snapshot = os.path.join(path, args["name"])
                config = args["config"]
                if check:
                    written = [snapshot + ext for ext in SIDECARS] + ([snapshot + SUFFIX] if config is not None else [])
                else:
                    # (typed: ansible-core before 2.19 passes the numbers of metadata built in YAML as text)
                    written = write_sidecars(snapshot, args["sha256"], typed(args["metadata"]), config)
                rec = record(config, args["name"]) if config is not None else {}
                # the bundle's files, as the bucket's upload takes them
                return dict(result, changed=True, written=sorted(written), config=rec, config_summary=summary(rec),
                            bundle_files=[dict(key=f, src=os.path.join(path, f)) for f in bundle_files(rec)])
            # Only this cluster's snapshots by their metadata: a store that two clusters with one token share
            # holds the other's too, and one without metadata is nobody's.
            members = [(m.get("name") or "", list(m.get("peer_urls") or [])) for m in args["members"]]
            kept, removed = prune(path, args["cluster"], args["keep"], args["protect"], dry_run=check,
                                  ours=lambda snap: snapshot_cluster(read_meta(snap), members)["match"] == "same")
        except ValueError as exc:  # a negative keep
            return dict(result, failed=True, msg="%s. Fix: set etcd_backup_keep to 0 (keep every snapshot) or a "
                                                 "positive number." % exc)
        except OSError as exc:
            return dict(result, failed=True, msg="Could not %s in the store %s: %s. Fix: check the controller's disk "
                                                 "(space, permissions) and run the backup again."
                                                 % ({"saved": "write the sidecars", "drilled": "record the drill"}.get(
                                                     state, "prune"), path, exc))
        return dict(result, changed=bool(removed), kept=[os.path.join(path, n) for n in kept],
                    removed=[os.path.join(path, n) for n in removed])
