# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""disaster_recovery's decision: from what each member showed (etcd_node_info) and the snapshot the play restores,
whether this is a disaster, an interrupted recovery to resume, or one already done; the token, the revision bump
and what each member will do; and every refusal, with its cause and its fix. A pure function, no I/O: the unit
tests drive it over a table of cases (tests/unit/plugins/module_utils/test_etcd_recovery.py).
"""

from __future__ import annotations

import re

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import fix_hint
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_marks import STAGING, matches

# the UTC time a recovery appends to the token (etcd_recovery_new_token)
_STAMP = re.compile(r"-[0-9]{8}T[0-9]{6}Z$")
# a restore needs the db (about the snapshot's size, plus a tenth) and a first WAL file (64 MiB, preallocated)
WAL_SIZE = 64 * 1024 * 1024

# the states: recover (rebuild from the snapshot), refuse (the cluster has quorum: not a disaster), complete (an
# interrupted run switched every member and the cluster came up: start and verify), done (a verified recovery of
# this snapshot already: nothing to do)
STATES = ("recover", "refuse", "complete", "done")


def _member(m, snapshot, initial_cluster):
    """One member's part: its health as its probe saw it, and what earlier runs left."""
    node = m.get("node") or {}
    probe = node.get("probe") or {}
    marks = node.get("marks") or {}
    unit = node.get("unit") or {}
    sha = snapshot.get("sha256", "")
    done = marks.get("done") or {}
    return dict(
        host=m["host"],
        healthy=bool(probe.get("healthy")),
        silent=unit.get("active_state") == "active" and not probe.get("status"),
        probe_error=(probe.get("error") or "").strip(),
        no_tool="is not installed" in (probe.get("error") or "") and not probe.get("ran", True),
        switched=matches(marks.get("data"), sha, initial_cluster),
        earlier=[mark for mark in (marks.get("data"), marks.get("staging")) if matches(mark, sha, initial_cluster)],
        retired=matches(done, sha, initial_cluster) and done.get("cluster_token", "") == m.get("token", ""),
        retired_bump=int(done.get("bump_revision") or 0),
        unit_loaded=unit.get("load_state") == "loaded",
        unit_user=unit.get("user") or "",
        data=node.get("data") or {},
        space=node.get("space") or [],
        kept=list(node.get("kept") or []),
    )


def _state(members, force):
    healthy = [m for m in members if m["healthy"]]
    if healthy and any(m["switched"] for m in members) and all(m["switched"] or m["retired"] for m in members):
        return "complete"
    if healthy and all(m["retired"] for m in members) and not force:
        return "done"
    if healthy and not force:
        return "refuse"
    return "recover"


def _token(members, old, earlier, settings):
    if all(m["retired"] for m in members) and any(m["healthy"] for m in members) and not settings.get("force"):
        return old  # this cluster was rebuilt from this snapshot with its current token
    if earlier:
        return earlier[0].get("cluster_token") or old
    if settings.get("new_token"):
        return "%s-%s" % (_STAMP.sub("", old), settings["stamp"])
    return old


def _bump(members, state, earlier, settings):
    if earlier:
        return int(earlier[0].get("bump_revision") or 0)
    if state == "done":
        return members[0]["retired_bump"]
    return int(settings.get("bump_by") or 0) if settings.get("bump") else 0


def _shortfalls(m, size):
    """[(mount, free, need)] where the member lacks room: the snapshot's copy (under the node dir) and, unless an
    earlier run restored it already, the restore (beside the data dir); both on one filesystem when they share it."""
    if len(m["space"]) < 2:
        return []
    beside, copy_dir = m["space"][0], m["space"][1]
    restore_need = 0 if m["switched"] else int(size * 1.1 + WAL_SIZE)
    if beside["mount"] == copy_dir["mount"]:
        checks = [(beside, restore_need + size)]
    else:
        checks = [(beside, restore_need), (copy_dir, size)]
    return [(fs["mount"], int(fs["free"]), need) for fs, need in checks if int(fs["free"]) < need]


def _owner(m, service_user):
    """The user the restored dirs belong to: the unit's User= (none means root); without a unit, the role's."""
    if m["unit_loaded"]:
        return m["unit_user"] or "root"
    return service_user


def _plan_text(m, src, owner):
    if m["switched"]:
        return "restored by an earlier run of this recovery: start it"
    data_dir = src["data_dir"]
    if m["data"].get("initialised"):
        moves = "move %s aside to %s.<UTC time>" % (data_dir, data_dir)
    else:
        moves = "%s holds no data, nothing to move aside" % data_dir
    return "member %s %s, owned by %s; %s" % (src["name"], ",".join(src["peer_urls"]), owner, moves)


def _refusals(members, sources, state, snapshot, settings):
    out = []
    no_tool = [m for m in members if m["no_tool"]]
    if no_tool:
        out.append("%s. Nothing was changed. Fix: install etcd's tools there (Debian: apt-get install etcd-client "
                   "etcd-server), then run this again." % "; ".join(
                       "%s: %s" % (m["host"], m["probe_error"].rstrip(".")) for m in no_tool))
    if out or state != "recover":
        return out
    env_file = settings.get("env_file", "the env file")
    silent = [m for m in members if m["silent"]]
    if silent and not settings.get("force"):
        hints = []
        for m in silent:
            hint = fix_hint(m["probe_error"])
            if hint and hint not in hints:
                hints.append(hint)
        lines = ["etcd runs on %s (systemd: active) but does not answer at %s%s" % (
            m["host"], sources[m["host"]]["endpoint"], " (%s)" % m["probe_error"] if m["probe_error"] else "")
            for m in silent]
        out.append("\n".join(lines) + "\nA cluster may still be serving there: this is not known to be a disaster. "
                   "Nothing was changed.\nFix: %scorrect ETCD_ADVERTISE_CLIENT_URLS in %s (the tools talk to its "
                   "first URL), or stop etcd on a member that is truly lost (systemctl stop etcd); "
                   "etcd_force_recovery=true goes ahead anyway." % (
                       ("%s Otherwise: " % " ".join(hints)) if hints else "", env_file))
    for m in members:
        data_dir = sources[m["host"]]["data_dir"]
        if m["data"].get("mountpoint") and not m["switched"]:
            out.append(
                "%s: the data dir %s is a mount point. A recovery restores beside it (%s%s) and renames that into "
                "place, and moves the old dir aside: a mount point can be neither replaced nor moved. Nothing was "
                "changed. Fix: with etcd stopped, move the member dir one level down (e.g. %s/data) and set "
                "ETCD_DATA_DIR to it in %s, or mount the disk one level up." % (
                    m["host"], data_dir, data_dir, STAGING, data_dir, env_file))
    size = int(snapshot.get("size") or 0)
    for m in members:
        short = _shortfalls(m, size)
        if short:
            out.append(
                "Not enough space on %s: %s (the snapshot is %d bytes; a restore takes about that plus a 64 MiB WAL "
                "file, and the copy on the node as much again). Nothing was changed. Fix: free space there, or set "
                "etcd_recovery_node_dir to a disk with room for the copy." % (
                    m["host"], "; ".join("%s has %d bytes free, %d needed" % s for s in short), size))
    return out


def recovery_plan(members, snapshot, settings):
    """The plan of a disaster recovery.

    members: the restored cluster's members in inventory order, each dict(host, name, peer_urls, data_dir,
      endpoint, token, node): its name, peer URLs, data dir, client URL and token as its env file gives them, and
      `node`, what etcd_node_info returned for it. snapshot: dict(sha256, size) of the snapshot the play restores.
    settings: initial_cluster (the restored cluster, name=URL,...), force (etcd_force_recovery), new_token and
      stamp (etcd_recovery_new_token and the run's UTC time), bump and bump_by (etcd_restore_bump_revision,
      etcd_recovery_bump_by), service_user (etcd_service_user), env_file (for the messages).

    Returns dict(state, token, resumed, bump, healthy_hosts, earlier, members, refusals): `state` one of STATES;
    `members` by host: switched (an earlier run switched this member already), retired, healthy, owner, kept (old
    data dirs an earlier run moved aside) and plan (what this run does there, in words); `refusals` the texts of
    every reason to stop before anything changes, each with its fix (the quorum refusal is state `refuse`: its
    text needs a read of the live cluster).
    """
    if not members:
        raise ValueError("recovery_plan needs the members of the play")
    initial_cluster = settings.get("initial_cluster", "")
    seen = [_member(m, snapshot, initial_cluster) for m in members]
    sources = {m["host"]: m for m in members}
    state = _state(seen, bool(settings.get("force")))
    earlier = [mark for m in seen for mark in m["earlier"]]
    old = members[0].get("token") or "etcd-cluster"
    service_user = settings.get("service_user", "etcd")
    out_members = {}
    for m in seen:
        owner = _owner(m, service_user)
        out_members[m["host"]] = dict(switched=m["switched"], retired=m["retired"], healthy=m["healthy"],
                                      owner=owner, kept=m["kept"], plan=_plan_text(m, sources[m["host"]], owner))
    return dict(state=state, token=_token(seen, old, earlier, settings), resumed=bool(earlier),
                bump=_bump(seen, state, earlier, settings), earlier=earlier,
                healthy_hosts=[m["host"] for m in seen if m["healthy"]], members=out_members,
                refusals=_refusals(seen, sources, state, snapshot, settings))
