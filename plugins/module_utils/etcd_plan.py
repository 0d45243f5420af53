# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""Decisions the roles make from what they observed: pure functions, no I/O, unit-tested over tables of cases."""

from __future__ import annotations

import re

# disaster_recovery.yml appends the UTC time of a recovery to the token (etcd_recovery_new_token): the same cluster
_RECOVERY_STAMP = re.compile(r"-[0-9]{8}T[0-9]{6}Z$")

# What deploy takes from a member's env file when the member already holds data: (setting, env variable).
IDENTITY = (("name", "ETCD_NAME"), ("data_dir", "ETCD_DATA_DIR"), ("wal_dir", "ETCD_WAL_DIR"),
            ("token", "ETCD_INITIAL_CLUSTER_TOKEN"))
# The inventory variable behind each setting (a WAL dir is given in etcd_extra_env, if at all).
VARIABLE = dict(name="etcd_name", data_dir="etcd_data_dir", token="etcd_cluster_token",
                wal_dir="etcd_extra_env.ETCD_WAL_DIR")


def _path(value):
    value = (value or "").strip()
    return value.rstrip("/") or value


def deploy_identity(env, holds_data, running, given, defaults):
    """Which name, data dir, WAL dir and token deploy writes for one member, and what it refuses.

    env: the member's env file, parsed ({} when absent). holds_data: its data dir (the env file's, else the
    default) has an initialised member dir. running: etcd.service is active. given: the settings the inventory or
    -e set for this host ({setting: value}; a setting left to the role's default is absent). defaults: the role's
    values for every setting. Returns dict(name, data_dir, wal_dir, token, keep, refusals): `keep` is true when
    the member holds data or runs, and the env file's settings are then the truth: a new data dir would start an
    empty cluster beside the data, and etcd ignores a new name or token once initialised. An inventory value that
    differs from the env file's is then refused (refusals: [(setting, variable, given, env's)]).
    """
    keep = bool(env) and bool(holds_data or running)
    out = dict(keep=keep, refusals=[])
    for setting, variable in IDENTITY:
        norm = _path if setting in ("data_dir", "wal_dir") else (lambda v: (v or "").strip())
        want = norm(given[setting]) if given.get(setting) not in (None, "") else norm(defaults.get(setting, ""))
        have = norm(env.get(variable, "")) if keep else ""
        if keep and have:
            same = want == have
            if setting == "token":
                same = _RECOVERY_STAMP.sub("", want) == _RECOVERY_STAMP.sub("", have)
            if given.get(setting) not in (None, "") and not same:
                out["refusals"].append((setting, VARIABLE.get(setting, setting), want, have))
            out[setting] = have
        else:
            out[setting] = want
    return out


def snapshot_cluster(meta, play_members):
    """Whether a snapshot is of the cluster the play restores: 'same', 'other' or 'unknown', with the reason.

    meta: the snapshot's metadata ({} when it has none). play_members: [(name, [peer URLs])] of the play, from the
    members' env files. A snapshot that records its members' peer URLs (member_peer_urls) is of this cluster when
    one member has the same name and a peer URL in common with a play member: a cluster keeps its members across
    a replacement at a new address, two clusters share none. An older snapshot records only the names (members):
    it is of this cluster when a name is shared, and 'other' when none is. No metadata: 'unknown'.
    """
    play = {(name, url) for name, urls in play_members for url in urls}
    names = sorted({member[0] for member in play_members})
    recorded = meta.get("member_peer_urls")
    if isinstance(recorded, dict) and recorded:
        theirs = {(name, url) for name, urls in recorded.items() for url in urls or ()}
        if theirs & play:
            return dict(match="same", reason="")
        return dict(match="other", reason="its members are %s; the play's are %s" % (
            _pairs(theirs), _pairs(play)))
    if meta.get("members"):
        theirs = set(meta["members"]) - {""}
        if theirs & set(names):
            return dict(match="same", reason="it records member names only (made before peer URLs were recorded)")
        return dict(match="other", reason="its members are %s; the play's are %s" % (
            ", ".join(sorted(theirs)), ", ".join(names)))
    return dict(match="unknown", reason="it has no metadata (.json) that names its cluster")


def _pairs(pairs):
    return ", ".join("%s=%s" % pair for pair in sorted(pairs)) or "none"


def auth_user(user, deploy_auth):
    """The etcd user deploy's own checks (health wait, summary) ask as: `user` (etcd_user) when given, else root
    when deploy turns etcd auth on (etcd_deploy_auth makes root and lets etcd_user stay empty), else none ('')."""
    user = (user or "").strip()
    if user:
        return user
    return "root" if deploy_auth else ""


def cluster_name(token):
    """A cluster's name in file and dir names: its token without the UTC time disaster_recovery.yml appends to it
    (the same cluster before and after a recovery), anything but letters, digits, _ . - made _."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", _RECOVERY_STAMP.sub("", token or ""))


def restart_kept(before, after):
    """Whether a member restarted by a rolling restart came back as it was, before the next one restarts.

    before, after: the member's `endpoint status` (etcd_member_info's endpoints[0].status) read just before the
    restart and once it served again ({} when it did not answer). It must answer in the same cluster, as the
    same member, with at least the revision it had: a member that came back as a new cluster (another data dir,
    or INITIAL_CLUSTER_STATE=new over an empty one) or with less data stops the roll while the others still serve.
    A member that did not answer before (its client URL or TLS changes with this run) is compared by what it
    answers after only. Returns dict(ok, reason).
    """
    before, after = dict(before or {}), dict(after or {})
    if not after.get("cluster_id"):
        return dict(ok=False, reason="it does not answer with its status after the restart")
    if not before.get("cluster_id"):
        return dict(ok=True, reason="not compared: it did not answer before the restart")
    if after["cluster_id"] != before["cluster_id"]:
        return dict(ok=False, reason="it came back in another cluster (ID %x, was %x): it started a new cluster "
                                     "instead of rejoining its own" % (after["cluster_id"], before["cluster_id"]))
    if after.get("member_id") != before.get("member_id"):
        return dict(ok=False, reason="it came back as another member (ID %x, was %x)" % (
            after.get("member_id") or 0, before.get("member_id") or 0))
    if int(after.get("revision") or 0) < int(before.get("revision") or 0):
        return dict(ok=False, reason="its revision went back from %d to %d: it lost data" % (
            before.get("revision") or 0, after.get("revision") or 0))
    return dict(ok=True, reason="")


# etcd reads these only when it initialises an empty data dir; a member that holds data ignores them
BOOTSTRAP_ONLY = ("ETCD_INITIAL_CLUSTER", "ETCD_INITIAL_CLUSTER_STATE", "ETCD_INITIAL_CLUSTER_TOKEN")


def restart_needed(old_env, new_env):
    """Whether a running member must restart for its new env file: some setting other than the bootstrap-only
    ones (BOOTSTRAP_ONLY) was added, removed or changed. old_env, new_env: the files, parsed ({name: value})."""
    old_env, new_env = dict(old_env or {}), dict(new_env or {})
    keys = (set(old_env) | set(new_env)) - set(BOOTSTRAP_ONLY)
    return any(old_env.get(key) != new_env.get(key) for key in keys)
