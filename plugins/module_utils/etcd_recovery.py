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

import datetime
import json
import re
from urllib.parse import urlsplit

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import fix_hints
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import guess_client_url, members_outside
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_marks import STAGING, matches, switched, wal_inside
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import snapshot_cluster
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_tls_files import cert_facts
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_workdir import refusal as workdir_refusal

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
    wal_dir = m.get("wal_dir") or ""
    return dict(
        host=m["host"],
        healthy=bool(probe.get("healthy")),
        silent=unit.get("active_state") == "active" and not probe.get("status"),
        probe_error=(probe.get("error") or "").strip(),
        no_tool="is not installed" in (probe.get("error") or "") and not probe.get("ran", True),
        # with a separate WAL dir, only when both dirs were switched
        switched=switched(marks, sha, initial_cluster, wal_dir),
        earlier=[mark for mark in (marks.get(k) for k in ("data", "staging", "wal", "wal_staging"))
                 if matches(mark, sha, initial_cluster)],
        retired=matches(done, sha, initial_cluster) and done.get("cluster_token", "") == m.get("token", ""),
        retired_bump=int(done.get("bump_revision") or 0),
        unit_loaded=unit.get("load_state") == "loaded",
        unit_user=unit.get("user") or "",
        data=node.get("data") or {},
        wal=dict(node.get("wal") or {}, dir=wal_dir),
        space=node.get("space") or [],
        kept=list(node.get("kept") or []),
        work_dirs={path: why for path, why in (node.get("work_dirs") or {}).items() if why},
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
    earlier run restored it already, the restore: its db beside the data dir and its first WAL file beside the WAL
    dir (the data dir without a separate one); what shares a filesystem is added up."""
    if len(m["space"]) < 2:
        return []
    restore_db, restore_wal = (0, 0) if m["switched"] else (int(size * 1.1), WAL_SIZE)
    checks = [(m["space"][0], restore_db), (m["space"][1], size)]
    wal_space = m["wal"].get("space") or {}
    if m["wal"]["dir"] and wal_space.get("mount"):
        checks.append((wal_space, restore_wal))
    else:
        checks[0] = (m["space"][0], restore_db + restore_wal)
    need, free = {}, {}
    for fs, bytes_needed in checks:
        need[fs["mount"]] = need.get(fs["mount"], 0) + bytes_needed
        free[fs["mount"]] = int(fs["free"])
    return [(mount, free[mount], need[mount]) for mount in need if free[mount] < need[mount]]


def _owner(m, service_user):
    """The user the restored dirs belong to: the unit's User= (none means root); without a unit, the role's."""
    if m["unit_loaded"]:
        return m["unit_user"] or "root"
    return service_user


def _plan_text(m, src, owner):
    if m["switched"]:
        return "restored by an earlier run of this recovery: start it"
    data_dir, wal_dir = src["data_dir"], m["wal"]["dir"]
    if m["data"].get("initialised"):
        moves = "move %s aside to %s.<UTC time>" % (data_dir, data_dir)
    else:
        moves = "%s holds no data, nothing to move aside" % data_dir
    if wal_dir and m["wal"].get("exists"):
        moves += ", and the WAL dir %s to %s.<UTC time>" % (wal_dir, wal_dir)
    elif wal_dir:
        moves += "; the WAL dir %s is made" % wal_dir
    return "member %s %s, owned by %s; %s" % (src["name"], ",".join(src["peer_urls"]), owner, moves)


def _snapshot_refusals(members, snapshot, settings):
    """Why the snapshot cannot be restored here: it failed its check on the controller, or it is another cluster's
    (and the user did not name that cluster with etcd_recovery_snapshot_cluster)."""
    s3 = settings.get("source") == "s3"
    older = list(settings.get("older") or ())
    if snapshot.get("failed"):
        text = ""
        if s3:
            text = ("%s failed its check on the controller: the object was changed or damaged in the bucket, or in "
                    "transit. %s bucket was not changed. " % (
                        settings.get("s3_url", "the object"),
                        "The" if settings.get("s3_in_store") else "The downloaded copy was removed; the"))
        text += "%s Nothing was changed." % (snapshot.get("msg") or "").strip()
        if older:
            text += " The next newest snapshot in the %s is %s (-e etcd_snapshot=%s)." % (
                "bucket" if s3 else "store", older[0], older[0])
        return [text]
    meta = snapshot.get("meta") or {}
    new_hosts = [m["host"] for m in members if (m.get("node") or {}).get("new_host")]
    of = snapshot_cluster(meta, [(m["name"], m["peer_urls"]) for m in members])
    if of["match"] == "other" and settings.get("snapshot_cluster", "") != meta.get("cluster_id", "-"):
        return ["%s is a snapshot of another cluster (ID %s, token %s): %s. Restoring it would make these members "
                "serve that cluster's keys. Nothing was changed.\nFix: name a snapshot of this cluster with -e "
                "etcd_snapshot=PATH (a store or bucket can hold the snapshots of several clusters with one token); "
                "or, to put that cluster's data on these members on purpose, name its cluster: -e "
                "etcd_recovery_snapshot_cluster=%s.%s" % (
                    settings.get("snapshot_path") or snapshot.get("path", "the snapshot"),
                    meta.get("cluster_id") or "unknown", meta.get("cluster_token") or "unknown", of["reason"],
                    meta.get("cluster_id", ""),
                    (" New machines at new addresses share no peer URL with the snapshot's members: if %s %s the "
                     "cluster's new machines, that is the fix." % (
                         ", ".join(new_hosts), "is one of" if len(new_hosts) == 1 else "are")) if new_hosts else "")]
    return []


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
        hints = fix_hints([m["probe_error"] for m in silent])
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
        wal_dir = m["wal"]["dir"]
        if wal_inside(wal_dir, data_dir) and not m["switched"]:
            out.append(
                "%s: the WAL dir %s (ETCD_WAL_DIR) is inside the data dir %s. A recovery restores each beside it and "
                "switches each by a rename: the restored WAL would go away with the old data dir. Nothing was changed. "
                "Fix: with etcd stopped, move the WAL dir out of the data dir (e.g. to %s-wal, keeping its owner) and "
                "set ETCD_WAL_DIR to it in %s; or remove ETCD_WAL_DIR there and move the WAL files to %s/member/wal, "
                "etcd's own place for them." % (m["host"], wal_dir, data_dir, data_dir, env_file, data_dir))
        elif wal_dir and m["wal"].get("mountpoint") and not m["switched"]:
            out.append(
                "%s: the WAL dir %s (ETCD_WAL_DIR) is a mount point. A recovery restores the WAL beside it (%s%s) and "
                "renames that into place, and moves the old WAL dir aside: a mount point can be neither replaced nor "
                "moved. Nothing was changed. Fix: with etcd stopped, move the WAL files one level down (install -d -o "
                "%s -g %s -m 0700 %s/wal && mv %s/*.wal %s/wal/) and set ETCD_WAL_DIR=%s/wal in %s, or mount the disk "
                "one level up." % (m["host"], wal_dir, wal_dir, STAGING, m["wal"].get("owner") or "etcd",
                                   m["wal"].get("group") or "etcd", wal_dir, wal_dir, wal_dir, wal_dir, env_file))
    for m in members:
        for path, why in sorted(m["work_dirs"].items()):
            out.append("%s: %s" % (m["host"], workdir_refusal(path, why, "Nothing was changed on any member.")))
    size = int(snapshot.get("size") or 0)
    for m in members:
        short = _shortfalls(m, size)
        if short:
            out.append(
                "Not enough space on %s: %s (the snapshot is %d bytes; a restore takes about that beside the data dir, "
                "a 64 MiB WAL file beside the %s dir, and the copy on the node as much again). Nothing was changed. "
                "Fix: free space there, or set etcd_recovery_node_dir to a disk with room for the copy." % (
                    m["host"], "; ".join("%s has %d bytes free, %d needed" % s for s in short), size,
                    "WAL" if m["wal"]["dir"] else "data"))
    return out


def recovery_plan(members, snapshot, settings):
    """The plan of a disaster recovery.

    members: the restored cluster's members in inventory order, each dict(host, name, peer_urls, data_dir,
      endpoint, token, node): its name, peer URLs, data dir, client URL and token as its env file gives them, and
      `node`, what etcd_node_info returned for it. snapshot: dict(sha256, size) of the snapshot the play restores.
    settings: initial_cluster (the restored cluster, name=URL,...), force (etcd_force_recovery), new_token and
      stamp (etcd_recovery_new_token and the run's UTC time), bump and bump_by (etcd_restore_bump_revision,
      etcd_recovery_bump_by), service_user (etcd_service_user), env_file (for the messages); for the snapshot's
      refusals: snapshot_path, source (store or s3), s3_url and s3_in_store (the bucket's object, and whether the
      controller's store held it before), older (the next newest snapshots, newest first), snapshot_cluster
      (etcd_recovery_snapshot_cluster: the ID of another cluster whose snapshot the user means to restore).

    Returns dict(state, token, resumed, bump, healthy_hosts, earlier, members, refusals): `state` one of STATES;
    `members` by host: switched (an earlier run switched this member already), retired, healthy, owner, kept (old
    data dirs an earlier run moved aside) and plan (what this run does there, in words); `refusals` the texts of
    every reason to stop before anything changes, each with its fix: a snapshot that failed its check or is of
    another cluster (alone: nothing else is judged against it), then missing tools, members that do not answer,
    mount points and space (the quorum refusal is state `refuse`: its text needs a read of the live cluster,
    quorum_refusal).
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
                refusals=_snapshot_refusals(members, snapshot, settings)
                or _refusals(seen, sources, state, snapshot, settings))


def peer_cert_facts(pem, now=None):
    """The names (IP:..., DNS:...) and the end date of a PEM certificate, and whether it expired by `now`
    (an aware datetime; default: the current UTC time). Raises ValueError for text that holds no certificate."""
    facts = cert_facts(pem.encode() if isinstance(pem, str) else pem)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return dict(names=facts["names"], not_after=facts["not_after"].strftime("%Y-%m-%d %H:%M:%S UTC"),
                expired=facts["not_after"] <= now)


def _cert_refusal(host, peer_urls, read, now):
    """Why a member's peer certificate would keep the restored member from joining the others, or ''."""
    path = read.get("path") or ""
    why = ""
    facts = None
    if read.get("pem"):
        try:
            facts = peer_cert_facts(read["pem"], now)
        except ValueError as exc:
            why = "the env file's ETCD_PEER_CERT_FILE (%s) holds no certificate (%s)." % (path, exc)
    if facts is None and not why:
        why = "the env file's ETCD_PEER_CERT_FILE (%s) cannot be read%s." % (
            path or "not set", " (%s)" % read["error"] if read.get("error") else "")
    elif facts and facts["expired"]:
        why = "its peer certificate %s expired on %s." % (path, facts["not_after"])
    elif facts:
        named = [name.split(":", 1)[-1] for name in facts["names"]]
        uncovered = [h for h in (urlsplit(url).hostname or "" for url in peer_urls) if h not in named]
        if uncovered:
            why = "its peer certificate %s does not name %s (it names %s)." % (
                path, ", ".join(uncovered), ", ".join(facts["names"]) or "nothing")
    if not why:
        return ""
    return ("%s: the peer URLs are https (%s), but %s The restored member could not join the others. Nothing was "
            "changed. Fix: give the member a certificate of the cluster's CA naming its peer address (deploy.yml with "
            "etcd_deploy_tls makes them), then run this again." % (host, ", ".join(peer_urls), why))


def play_members(seen, settings):
    """The play's members as their env files name them, from one read of each, and what stops a recovery before
    the cluster is even worked out.

    seen: the members of the play in inventory order, each dict(host, node, name, peer_url): `node` what
      etcd_node_info registered there (an unreachable or failed result too), `name` and `peer_url` the inventory's
      (etcd_name, else the host; http://<etcd_address, else ansible_host>:<etcd_peer_port>) for an env file that
      is silent. settings: group (group etcd's hosts), play (the play's hosts), env_file; now (an aware datetime
      to judge certificates by; default: the current time).
    Returns dict(members, refusals): each member dict(host, name, peer_urls, endpoint, token, data_dir, wal_dir,
    env_exists, env_initial_cluster, tls_peer, node); the refusals, in the order a run meets them: a play that
    leaves out members of group etcd; members unreachable, then members that could not be read; https peer URLs
    whose certificate cannot be read, has expired or does not name them. Later ones are not looked for while an
    earlier kind refuses.
    """
    group, play = list(settings.get("group") or ()), list(settings.get("play") or ())
    left = [h for h in group if h not in play]
    if not group or left:
        return dict(members=[], refusals=[
            "%s A cluster is rebuilt from one snapshot on all its members at once. Nothing was changed.\nFix: run "
            "without --limit; a member that is gone for good leaves group etcd (the restored cluster is made of the "
            "members in the inventory)." % (
                "The play leaves out %s (--limit?)." % ", ".join(left) if group else "Group etcd is empty.")])
    unreachable = [m["host"] for m in seen if (m.get("node") or {}).get("unreachable")]
    if unreachable:
        one = len(unreachable) == 1
        return dict(members=[], refusals=[
            "%s %s unreachable over SSH, and every member of the restored cluster must be restored. Nothing was "
            "changed.\nFix: bring %s back (or correct ansible_host), or, for a machine that is gone for good, take "
            "it out of group etcd (or put its replacement in with its address)." % (
                ", ".join(unreachable), "is" if one else "are", "it" if one else "them")])
    unread = [m for m in seen if (m.get("node") or {}).get("failed")]
    if unread:
        return dict(members=[], refusals=["%s. Nothing was changed.\nFix: the cause above (become: sudo must work "
                                          "there), then run this again." % "; ".join(
                                              "%s: %s" % (m["host"], (m["node"].get("msg") or "failed").strip())
                                              for m in unread)])
    members, refusals = [], []
    for m in seen:
        node = m["node"]
        env = node.get("env") or {}
        peer_urls = [u.strip() for u in (env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS") or m["peer_url"]).split(",")
                     if u.strip()]
        tls_peer = (any(u.startswith("https://") for u in peer_urls)
                    and str(env.get("ETCD_PEER_AUTO_TLS", "false")).lower() != "true")
        members.append(dict(host=m["host"], name=env.get("ETCD_NAME") or m["name"], peer_urls=peer_urls,
                            endpoint=node.get("endpoint", ""), token=env.get("ETCD_INITIAL_CLUSTER_TOKEN") or
                            "etcd-cluster", data_dir=node.get("data_dir", ""), wal_dir=node.get("wal_dir", ""),
                            env_exists=bool(node.get("env_exists")),
                            env_initial_cluster=env.get("ETCD_INITIAL_CLUSTER", ""), tls_peer=tls_peer, node=node))
        if tls_peer and not node.get("tls_issue"):  # a new host's certificate is issued for its address
            refusal = _cert_refusal(m["host"], peer_urls, node.get("peer_cert") or {}, settings.get("now"))
            if refusal:
                refusals.append(refusal)
    return dict(members=members, refusals=refusals)


def quorum_refusal(live):
    """Why a recovery stops when the cluster has quorum (state `refuse`), from a read of the live cluster
    (etcd_member_info at a healthy member): how many voters serve, the leader, each member, the alarm and its fix."""
    alarms = list(live.get("alarms") or [])
    quorum = live.get("quorum") or {}
    if not quorum.get("has_quorum", True):
        # a member's status named a leader a moment ago (etcd 3.4 keeps one for an election timeout after a
        # majority stops), but the cluster no longer has one: say so, rather than that it has quorum
        return ("A member named a leader when this run read it, but now %s of %s voting members are healthy and "
                "there is %s: the cluster is losing quorum at this moment, or electing a leader. Nothing was changed."
                "\nFix: wait a few seconds and run this again: a cluster that lost quorum is then recovered; one that "
                "elected a leader is refused as healthy." % (
                    quorum.get("healthy_voters", "?"), quorum.get("voters", "?"),
                    "no leader" if not live.get("leader") else "no quorum"))
    words = {(True, True): "healthy", (False, True): "serving, alarm"}
    lines = ["The cluster has quorum: %s of %s voting members are %s, leader %s." % (
        quorum.get("healthy_voters", "?"), quorum.get("voters", "?"), "serving" if alarms else "healthy",
        (live.get("leader") or {}).get("name") or "?")]
    for m in live.get("members") or ():
        lines.append("  %s %s %s%s%s" % (
            m.get("name") or "(unstarted)", ",".join(m.get("peer_urls") or ()),
            words.get((bool(m.get("healthy")), bool(m.get("quorate"))), "DOWN"),
            (" " + ",".join(m["alarms"])) if m.get("alarms") else "", " learner" if m.get("is_learner") else ""))
    if alarms:
        lines.append("Alarm raised: %s. The cluster has its data and a leader (etcd calls a member unhealthy while an "
                     "alarm is raised); rebuilding it from a snapshot would lose every write since that snapshot.\n"
                     "Fix for the alarm: %s" % (", ".join(alarms), live.get("alarm_fix") or ""))
    lines.append("This is not a disaster, and nothing was changed. Fix: replace a failed member with "
                 "replace_member.yml -e node=NAME; rebuilding from the snapshot would throw away every write since it "
                 "(etcd_force_recovery=true does it anyway, moving the current data aside).")
    return "\n".join(lines)


def _names(value):
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return [str(name) for name in value or ()]


def restored_cluster(members, gone, env_file="the env file", new_hosts=False):
    """The cluster a recovery restores, from the play's members as their env files name them.

    members: in inventory order, dict(host, name, peer_urls, endpoint, env_exists, env_initial_cluster) (the last
    the env file's ETCD_INITIAL_CLUSTER). gone: etcd_recovery_gone_members (a list, or names separated by commas).
    Returns dict(initial_cluster, names, outside, gone, refusals): the restored cluster's ETCD_INITIAL_CLUSTER (every
    play member's peer URLs, in inventory order, identical on every node); the members the env files name that the
    play leaves out, each with a client URL to ask it (its host, the first play member's scheme and port); and the
    refusals: a member without an env file (unless new_hosts, etcd_recovery_new_hosts: it is set up from the
    snapshot's recovery bundle, etcd_new_hosts.py), two members with one name or peer URL, a gone member the play
    holds.
    """
    names = [m["name"] for m in members]
    urls = [url for m in members for url in m["peer_urls"]]
    gone = _names(gone)
    refusals = []
    no_env = [m["host"] for m in members if not m.get("env_exists")]
    if no_env and not new_hosts:
        refusals.append(
            "%s %s no %s: etcd is not set up there (a new machine?). Nothing was changed. Fix: run this again with -e "
            "etcd_recovery_new_hosts=true: it sets %s up from the snapshot's recovery bundle (etcd installed, the env "
            "file and unit written with %s address) and restores %s with the others. (deploy.yml would start an "
            "empty cluster there.)" % (
                ", ".join(no_env), "has" if len(no_env) == 1 else "have", env_file,
                "it" if len(no_env) == 1 else "them", "its" if len(no_env) == 1 else "each one's",
                "it" if len(no_env) == 1 else "them"))
    elif len(set(names)) < len(names) or len(set(urls)) < len(urls):
        refusals.append(
            "Two members would share a name or a peer URL: %s. Fix: correct ETCD_NAME / "
            "ETCD_INITIAL_ADVERTISE_PEER_URLS in the env files (or etcd_address in the inventory). Nothing was "
            "changed." % "; ".join("%s=%s %s" % (m["host"], m["name"], ",".join(m["peer_urls"])) for m in members))
    held = [name for name in gone if name in names]
    if held:
        refusals.append(
            "etcd_recovery_gone_members names %s, which the play holds and restores. Nothing was changed. Fix: name "
            "only members that are gone for good and left out of group etcd." % ", ".join(held))
    outside = members_outside([m.get("env_initial_cluster") or "" for m in members], names, urls)
    first = members[0]["endpoint"] if members else ""
    for member in outside:
        member["client_url"] = guess_client_url(member["peer_urls"][0], first)
    initial = ",".join("%s=%s" % (m["name"], url) for m in members for url in m["peer_urls"])
    return dict(initial_cluster=initial, names=names, outside=outside, gone=gone, refusals=refusals)


def outside_refusal(cluster, endpoints, env_file="the env file"):
    """Why a recovery of only the play's members would split the cluster, or '' when it would not.

    cluster: restored_cluster's result. endpoints: etcd_member_info's `endpoints` for the members outside the play
    (asked without credentials). A member outside answers when its status reads, or when etcd itself refuses the
    read (etcd 3.4.42+/3.5.28+ want the root role for it: "etcdserver: user name is empty"); an answering member
    is not gone, whether it has a leader or not. Every member outside must be named gone, and none may answer.
    """
    outside, gone = cluster["outside"], cluster["gone"]
    if not outside:
        return ""
    by_url = {e.get("endpoint"): e for e in endpoints or ()}
    lines, answering = [], []
    for m in outside:
        e = by_url.get(m["client_url"], {})
        if e.get("status"):
            leader = "with a leader" if e["status"].get("has_leader") else "without a leader"
            said = "etcd answers at %s, %s" % (m["client_url"], leader)
        elif "etcdserver:" in (e.get("error") or ""):
            said = "etcd answers at %s (%s)" % (m["client_url"], e["error"])
        else:
            said = "no answer at %s" % m["client_url"]
        if said.startswith("etcd answers"):
            answering.append(m["name"])
        named = " (named gone)" if m["name"] in gone else ""
        lines.append("  %s %s: %s%s" % (m["name"], ",".join(m["peer_urls"]), said, named))
    not_gone = [m["name"] for m in outside if m["name"] not in gone]
    if not answering and not not_gone:
        return ""
    text = ["The env files (%s, ETCD_INITIAL_CLUSTER) name members that this play leaves out:" % env_file] + lines
    text.append("Rebuilding only %s from the snapshot would make a second cluster beside %s. Nothing was changed." % (
        ", ".join(cluster["names"]),
        "them, and clients that reach them would read and write the old data" if answering else "them"))
    if answering:
        one = len(answering) == 1
        text.append("Fix: %s still %s etcd: put %s in group etcd and run this again (while a majority serves, this is "
                    "no disaster: replace the lost members with replace_member.yml -e node=NAME); or stop etcd there "
                    "for good first." % (", ".join(answering), "runs" if one else "run", "it" if one else "them"))
    else:
        text.append("Fix: put them in group etcd (the cluster is rebuilt on all its members at once); or, if they are "
                    "gone for good, name them: -e '{\"etcd_recovery_gone_members\": %s}'." % json.dumps(
                        [m["name"] for m in outside]))
    return "\n".join(text)
