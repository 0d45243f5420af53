# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The restore drill's decisions (verify_backup.yml, etcd_snapshot_drill): what a snapshot promises (its metadata,
else `snapshot status`), how the scratch etcd's answers compare with it, the verdict, and what goes back into the
metadata. Pure functions, no I/O: tests/unit/plugins/module_utils/test_etcd_drill.py drives them over tables.

What is compared, at the snapshot's revision R:
- the revision the restored etcd is at (a restore without a revision bump keeps the snapshot's);
- the number of keys at R (backup.yml asked the member it came from);
- etcd's hash of the keys and their history at R (HashKV): equal on two copies of one history that were compacted
  at the same revision. The member may compact between the snapshot and its HashKV (a kube-apiserver compacts every
  5 minutes): the metadata records the compact revision the hash was taken at, and the scratch etcd is compacted to
  it first (`compact_to`), so that the two hashes cover the same history.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_plan import member_view
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import listed_snapshots
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import snapshot_cluster

# the restored database is about the snapshot's size (a tenth more for what etcd adds on start), and etcd
# preallocates its first WAL file
ROOM = 1.1
WAL_FILE = 64 * 1024 * 1024
RESULTS = ("passed", "failed")
# what a drill writes into a snapshot's metadata (`record`); every other field is the backup's
DRILL_FIELDS = ("verified_at", "drill_result", "drilled_at", "drill_seconds", "drill")


def as_int(value):
    """An int from metadata written by a template: None for None, '', 'None', or anything that is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def space_needed(size):
    """Bytes the scratch dir needs: the restored database and the first WAL file."""
    return int(int(size) * ROOM) + WAL_FILE


def expected(meta, status):
    """What a restore of the snapshot must give back: its revision (the file's own, from `snapshot status`), and
    from its metadata (backup.yml's NAME.json; {} when there is none) the revision it names, the keys at it and
    the KV hash with the compact revision it was taken at (None where the metadata does not say)."""
    meta = meta or {}
    hashed = as_int(meta.get("kv_hash"))
    return dict(file_revision=as_int(status.get("revision")) or 0,
                revision=as_int(meta.get("revision")),
                keys=as_int(meta.get("keys")),
                kv_hash=hashed,
                kv_hash_compact_revision=as_int(meta.get("kv_hash_compact_revision")) if hashed is not None else None,
                cluster=meta.get("cluster_token") or "", etcd_version=meta.get("etcd_version") or "",
                has_metadata=bool(meta))


def compact_to(want, scratch_compact):
    """The revision to compact the scratch etcd to before its KV hash is compared, or 0 for none: the one the
    recorded hash was taken at, when that is later than the restored history's own compaction (the member compacted
    between the snapshot and its HashKV) and within the snapshot's history."""
    revision = want["file_revision"]
    target = want["kv_hash_compact_revision"]
    if want["kv_hash"] is None or target is None:
        return 0
    return target if scratch_compact < target <= revision else 0


def compare(want, seen):
    """The differences between what the snapshot promises (`expected`) and what the scratch etcd showed (`seen`:
    revision, keys at the revision, kv_hash and kv_hash_compact_revision, each None when it was not read), and what
    was and was not checked. Returns dict(differences, checked, not_checked), each a list of sentences."""
    differences, checked, not_checked = [], [], []
    revision = want["file_revision"]
    if want["revision"] is not None and want["revision"] != revision:
        differences.append("revision: the metadata says %d, the file holds revision %d (the metadata is another "
                           "snapshot's)" % (want["revision"], revision))
    if seen.get("revision") is not None:
        checked.append("revision %d" % revision)
        # a keyspace never written: `snapshot status` says 0, and etcd's revisions start at 1
        if seen["revision"] != max(revision, 1):
            differences.append("revision: the snapshot is at %d, the restored etcd at %d" % (
                revision, seen["revision"]))
    if want["keys"] is None:
        not_checked.append("keys: %s" % ("not in the metadata" if want["has_metadata"] else "no metadata"))
    elif seen.get("keys") is not None:
        checked.append("%d keys" % want["keys"])
        if seen["keys"] != want["keys"]:
            differences.append("keys at revision %d: the metadata says %d, the restored etcd has %d" % (
                revision, want["keys"], seen["keys"]))
    if want["kv_hash"] is None:
        not_checked.append("KV hash: %s" % (
            "not in the metadata (a backup made before it was recorded, or by a user without etcd's root role)"
            if want["has_metadata"] else "no metadata"))
    elif seen.get("kv_hash") is not None:
        checked.append("KV hash %d" % want["kv_hash"])
        if seen["kv_hash"] != want["kv_hash"]:
            differences.append("KV hash at revision %d: the metadata says %d (history %s), the restored etcd gives "
                               "%d (%s)" % (revision, want["kv_hash"], _compacted(want["kv_hash_compact_revision"]),
                                            seen["kv_hash"], _compacted(seen.get("kv_hash_compact_revision"))))
    return dict(differences=differences, checked=checked, not_checked=not_checked)


def _compacted(revision):
    """A compact revision in words: etcd says -1 (3.4, 3.5) or 0 for a history never compacted."""
    revision = as_int(revision)
    return "compacted at %d" % revision if revision and revision > 0 else "never compacted"


def verdict(differences, failure=""):
    """'failed' when the snapshot did not restore or serve (`failure`) or its contents differ; else 'passed'."""
    return "failed" if failure or differences else "passed"


def record(drill, meta=None):
    """The snapshot's metadata with this drill in it. `drill`: dict(result, time, seconds, member, etcd_version,
    restore_seconds, serve_seconds, checked, not_checked, differences, failure). `verified_at` is the time of the
    last drill, kept only while the last drill passed; `drill_result` and `drill_seconds` say the last one's."""
    if drill.get("result") not in RESULTS:
        raise ValueError("a drill's result is passed or failed, not %r" % (drill.get("result"),))
    out = dict(meta or {})
    out.pop("verified_at", None)
    if drill["result"] == "passed":
        out["verified_at"] = drill["time"]
    out.update(drill_result=drill["result"], drilled_at=drill["time"], drill_seconds=drill["seconds"],
               drill={key: drill.get(key) for key in (
                   "member", "etcd_version", "restore_seconds", "serve_seconds", "checked", "not_checked",
                   "differences", "failure")})
    return out


def failure_message(snapshot, differences, failure):
    """The message of a failed drill: which snapshot, what failed or differed, and what to do."""
    if failure:
        why = "%s. The snapshot is damaged or is no etcd snapshot" % failure
    else:
        why = ("%s. It restores and serves, but not what was recorded when it was taken: the metadata is another "
               "snapshot's, or the file was changed" % "; ".join(differences))
    return ("The restore drill of %s failed: %s. The snapshot and its sidecars were kept as they are. Fix: do not "
            "count on this snapshot for a recovery; take a new backup (backup.yml) and drill it, and find what "
            "changed this one (the disk, a copy, a hand edit)." % (snapshot, why))


def merge(current, drilled):
    """`current` metadata (as it is in the store now) with the drill fields of `drilled` (a `record`), and no
    other change: a drill rewrites only what it owns."""
    out = {key: value for key, value in (current or {}).items() if key not in DRILL_FIELDS}
    out.update({key: drilled[key] for key in DRILL_FIELDS if key in drilled})
    return out


def _seen(m):
    """One member as the drill's preflight read it (etcd_node_info): backup's view of it (reachable, healthy, its
    health in words, its name), whether it could be read at all, its unit's user and its peer URLs."""
    seen = member_view(m)
    node = m.get("node") or {}
    env = node.get("env") or {}
    unit = node.get("unit") or {}
    read = seen["reachable"] and not m.get("error")
    if seen["reachable"] and not read:
        seen["health"] = "not read: %s" % seen["error"]
    user = (unit.get("user") or "root") if unit.get("load_state") == "loaded" else "etcd"
    peer_urls = [u.strip() for u in (env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS") or "").split(",") if u.strip()]
    return dict(seen, read=read, user=user, peer_urls=peer_urls)


SOURCES = ("store", "member", "s3")


def _held(settings, by_host):
    """The members' scheduled snapshots as (host, name, path, metadata), of the members that could be read."""
    out = []
    for place in settings.get("held") or []:
        host = place.get("host")
        if host not in by_host or not by_host[host]["read"]:
            continue
        for snap in place.get("snapshots") or []:
            out.append((host, snap["name"], snap["path"], dict(snap.get("metadata") or {})))
    return out


def _undrilled(meta):
    return (meta or {}).get("drill_result") not in RESULTS


def drill_plan(members, settings=None):
    """The decision of verify_backup.yml: which snapshots to drill, each on which member, as which user; and the
    refusals.

    `members`: the play's hosts in inventory order, each dict(host, unreachable, error, node) as the etcd_node_info
    task left them. `settings`:
    - member (etcd_verify_member, '' for the first healthy one, else the first one read: a drill needs the member's
      etcd binary, not its cluster), user (etcd_verify_user, '' for the user the member's unit runs etcd as);
    - source (etcd_verify_source): 'store', the controller's store: store (etcd_backup_dir), stored (its *.db
      paths) and metas (their metadata, in that order); 'member', the members' scheduled snapshots: held, each
      dict(host, snapshots: [dict(name, path, metadata)]) as etcd_snapshot_list saw them; or 's3', the bucket:
      bucket_url (s3://bucket/prefix/), bucket, each dict(name, object, metadata) of a snapshot whose upload finished;
    - snapshot (etcd_snapshot: a path on the controller, or with source member or s3 a name; '' for the newest of
      this cluster's), snapshot_is_file (whether that path is a file), snapshot_meta (its metadata);
    - undrilled (etcd_verify_undrilled): every snapshot of this cluster there whose metadata records no drill,
      oldest first, instead of the newest.

    Returns dict(where_text (the source in words), drills (each dict(where, member, user, snapshot (a path on the
    controller, on the member with source member, a name with source s3), object (the bucket's object, ''
    elsewhere), meta, cluster (the snapshot's match with the play's cluster: same, other, unknown, and why))), the
    first drill's fields at the top too, hosts (each member's health), refusals).
    """
    settings = settings or {}
    counts = (len(settings.get("stored") or []), len(settings.get("metas") or []))
    if counts[0] != counts[1]:
        raise ValueError("%d stored snapshots but %d metadata" % counts)
    seen = [_seen(m) for m in members]
    by_host = {m["host"]: m for m in seen}
    chosen = settings.get("member") or ""
    source = settings.get("source") or "store"
    where_text = {"store": settings.get("store") or "the store", "s3": settings.get("bucket_url") or "the bucket",
                  "member": "%s on the members" % (settings.get("schedule_dir") or "the scheduled-snapshot dir")}
    out = dict(member="", user="", snapshot="", meta={}, cluster=dict(match="unknown", reason=""), where=source,
               where_text=where_text.get(source, source), drills=[], hosts={m["host"]: m["health"] for m in seen},
               refusals=[])
    if source not in SOURCES:
        out["refusals"].append("etcd_verify_source %s is not one of %s. Nothing was changed. Fix: store (the "
                               "controller's etcd_backup_dir) or member (the members' scheduled snapshots)."
                               % (source, ", ".join(SOURCES)))
        return out
    if settings.get("undrilled") and settings.get("snapshot"):
        out["refusals"].append("etcd_snapshot and etcd_verify_undrilled are both given. Nothing was changed. Fix: give "
                               "one: the snapshot to drill, or every snapshot not yet drilled.")
        return out
    if chosen and (chosen not in by_host or not by_host[chosen]["read"]):
        out["refusals"].append(
            "etcd_verify_member %s is not a member of the play that could be read (%s). Nothing was changed. Fix: "
            "pick a member that is reachable (it needs no quorum, only its etcd binary), or leave "
            "etcd_verify_member empty." % (chosen, by_host[chosen]["health"] if chosen in by_host
                                           else "not in group etcd"))
        return out
    order = [m for m in seen if m["healthy"]] + [m for m in seen if m["read"] and not m["healthy"]]
    if not order:
        out["refusals"].append(
            "No member of group etcd could be read (%s). Nothing was changed. Fix: a drill needs one reachable "
            "member where become works; check SSH and sudo on the members." % "; ".join(
                "%s: %s" % (m["host"], m["health"]) for m in seen))
        return out
    play = [(m["name"], m["peer_urls"]) for m in seen if m["read"]]

    def ours(meta):
        return snapshot_cluster(meta or {}, play)["match"] == "same"

    objects = {}
    if source == "store":
        picks = _store_picks(settings, ours, play, out["refusals"])
        drills = [(chosen or order[0]["host"], path, meta) for path, meta in picks]
    elif source == "s3":
        picks = _bucket_picks(settings, ours, play, out["refusals"])
        objects = {name: obj for name, _meta, obj in picks}
        drills = [(chosen or order[0]["host"], name, meta) for name, meta, _obj in picks]
    else:
        drills = _member_picks(settings, ours, play, by_host, chosen, [m["host"] for m in order], out["refusals"])
    for member, path, meta in drills:
        user = settings.get("user") or by_host[member]["user"]
        if user == "root":
            refusal = ("The unit on %s runs etcd as root, and the drill's scratch etcd never runs as root. Nothing "
                       "was changed. Fix: set etcd_verify_user to an unprivileged user (etcd)." % member)
            if refusal not in out["refusals"]:
                out["refusals"].append(refusal)
        cluster = snapshot_cluster(meta, play) if play else dict(match="unknown", reason="")
        out["drills"].append(dict(where=source, member=member, user=user, snapshot=path, object=objects.get(path, ""),
                                  meta=meta, cluster=cluster))
    if not drills and not out["refusals"]:
        out["member"] = chosen or order[0]["host"]
        out["user"] = settings.get("user") or by_host[out["member"]]["user"]
    if out["drills"]:
        out.update({key: out["drills"][0][key] for key in ("member", "user", "snapshot", "meta", "cluster")})
    return out


def _members_text(play):
    return ", ".join("%s=%s" % (name, ",".join(urls)) for name, urls in play) or "none read"


def _store_picks(settings, ours, play, refusals):
    """The store's snapshots to drill: [(path, meta)]."""
    stored = list(settings.get("stored") or [])
    meta_of = dict(zip(stored, list(settings.get("metas") or [])))  # noqa: B905 (lengths checked)
    if settings.get("snapshot") and not settings.get("snapshot_is_file", True):
        refusals.append(
            "etcd_snapshot %s is not a file on the controller. Nothing was changed. Fix: give the path of a snapshot "
            "file (relative to where ansible-playbook runs), or leave etcd_snapshot empty for the newest of this "
            "cluster's in etcd_backup_dir." % settings["snapshot"])
        return []
    if settings.get("snapshot"):
        path = settings["snapshot"]
        return [(path, dict(settings.get("snapshot_meta") or meta_of.get(path) or {}))]
    ordered = [path for path in listed_snapshots(stored, paths=True)["names"] if ours(meta_of.get(path))]
    if not ordered:
        names = listed_snapshots(stored, paths=True)["names"]
        refusals.append(
            "The store %s holds no snapshot of this cluster (%d snapshot(s) there, none whose metadata names these "
            "members: %s). Nothing was changed. Fix: take one with backup.yml, point etcd_backup_dir at your store, or "
            "name a file with -e etcd_snapshot=PATH."
            % (settings.get("store") or "etcd_backup_dir", len(names), _members_text(play)))
        return []
    if settings.get("undrilled"):
        return [(path, dict(meta_of[path])) for path in ordered if _undrilled(meta_of[path])]
    return [(ordered[-1], dict(meta_of[ordered[-1]]))]


def _bucket_picks(settings, ours, play, refusals):
    """The bucket's snapshots to drill: [(name, meta, object)]."""
    found = {b["name"]: b for b in settings.get("bucket") or []}
    url = settings.get("bucket_url") or "the bucket"
    named = (settings.get("snapshot") or "").rsplit("/", 1)[-1]
    if named:
        name = re.sub(r"(?<=\.db)(\.zst)?(\.age)?$", "", named)
        if name not in found:
            refusals.append(
                "%s%s is not in the bucket, or has no .sha256 object beside it (its upload did not finish). Nothing "
                "was changed. Fix: name one of the bucket's snapshots (playbooks/list_backups.yml lists them), or "
                "leave etcd_snapshot empty for the newest." % (url, name))
            return []
        return [(name, dict(found[name].get("metadata") or {}), found[name].get("object") or name)]
    names = listed_snapshots(sorted(found))["names"]
    mine = [n for n in names if ours(found[n].get("metadata"))]
    if not mine:
        refusals.append(
            "%s holds no snapshot of this cluster (%d snapshot(s) there, none whose metadata names these members: "
            "%s). Nothing was changed. Fix: check etcd_s3_bucket and etcd_s3_prefix (backup.yml's), or name one with "
            "-e etcd_snapshot=NAME." % (url, len(names), _members_text(play)))
        return []
    if settings.get("undrilled"):
        mine = [n for n in mine if _undrilled(found[n].get("metadata"))]
    else:
        mine = mine[-1:]
    return [(n, dict(found[n].get("metadata") or {}), found[n].get("object") or n) for n in mine]


def _member_picks(settings, ours, play, by_host, chosen, order, refusals):
    """The members' scheduled snapshots to drill, each on the member that holds it: [(host, path, meta)]. A
    snapshot several members hold (the same name) is drilled once: on etcd_verify_member when it holds it, else on
    the first healthy one."""
    held = _held(settings, by_host)
    rank = {host: i for i, host in enumerate([chosen] if chosen else order)}
    if chosen:
        held = [h for h in held if h[0] == chosen]
    where = settings.get("schedule_dir") or "the scheduled-snapshot dir"
    # who was searched, as the subject of a refusal
    nobody = "etcd_verify_member %s does not hold" % chosen if chosen else "No member holds"
    named = (settings.get("snapshot") or "").rsplit("/", 1)[-1]
    if named:
        holders = sorted((h for h in held if h[1] == named), key=lambda h: rank.get(h[0], len(rank)))
        if not holders:
            refusals.append(
                "%s %s in %s. Nothing was changed. Fix: name one a member holds "
                "(playbooks/list_backups.yml lists them and where), or leave etcd_snapshot empty for the newest."
                % (nobody, named, where))
            return []
        host, _name, path, meta = holders[0]
        return [(host, path, meta)]
    mine = [h for h in held if ours(h[3])]
    if not mine:
        refusals.append(
            "%s a snapshot of this cluster in %s (%d snapshot(s) there, none whose metadata names these "
            "members: %s). Nothing was changed. Fix: install the members' timer (backup.yml -e "
            "etcd_backup_schedule=daily), or drill the controller's store (leave etcd_verify_source at store)."
            % (nobody, where, len(held), _members_text(play)))
        return []
    names = listed_snapshots(sorted({h[1] for h in mine}))["names"]
    first = {}
    for h in sorted(mine, key=lambda h: rank.get(h[0], len(rank))):
        first.setdefault(h[1], h)
    if settings.get("undrilled"):
        picks = [h for name in names for h in mine if h[1] == name and _undrilled(h[3])]
        return [(h[0], h[2], h[3]) for h in sorted(picks, key=lambda h: (names.index(h[1]), rank.get(h[0], 99)))]
    host, _name, path, meta = first[names[-1]]
    return [(host, path, meta)]


def _utc(text):
    """An ISO 8601 time as aware UTC: a zone it names is honoured, none means UTC; None when it is no time."""
    text = str(text or "").strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def snapshot_at(names, metas, at, where="the store"):
    """disaster_recovery's etcd_snapshot_time: of `names` (oldest first), the newest whose metadata (`metas`, by
    name) says it was taken at or before `at` and whose last restore drill passed. Returns dict(snapshot ('' for
    none), time (when it was taken), at (`at` in UTC), refusal (why there is none, with the fix))."""
    when = _utc(at)
    out = dict(snapshot="", time="", at="", refusal="")
    if when is None:
        out["refusal"] = ("etcd_snapshot_time %s is not a time. Nothing was changed. Fix: give an ISO 8601 time, UTC "
                          "unless it says otherwise, such as 2026-12-05T03:00:00Z or \"2026-12-05 03:00\"." % at)
        return out
    out["at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    dated = [(name, _utc((metas.get(name) or {}).get("time"))) for name in names]
    dated = sorted(((taken, name) for name, taken in dated if taken is not None), key=lambda item: item[0])
    by_then = [name for taken, name in dated if taken <= when]
    drilled = [name for name in by_then if (metas.get(name) or {}).get("drill_result") == "passed"]
    if drilled:
        out.update(snapshot=drilled[-1], time=metas[drilled[-1]].get("time", ""))
        return out
    if not by_then:
        out["refusal"] = (
            "No snapshot in %s was taken at or before %s (%d there%s). Nothing was changed. Fix: give a later "
            "etcd_snapshot_time, or name a snapshot with -e etcd_snapshot=PATH." % (
                where, out["at"], len(names),
                ", the oldest taken %s" % metas[dated[0][1]]["time"] if dated else ""))
        return out
    newest = by_then[-1]
    state = (metas.get(newest) or {}).get("drill_result")
    out["refusal"] = (
        "No snapshot in %s taken at or before %s passed a restore drill: %d taken by then, none drilled with success "
        "(the newest: %s, taken %s, %s). Nothing was changed. Fix: drill it with verify_backup.yml "
        "-e etcd_snapshot=PATH (then run this again), name a snapshot with -e etcd_snapshot=PATH to restore it "
        "undrilled, or give another etcd_snapshot_time." % (
            where, out["at"], len(by_then), newest, metas[newest]["time"],
            "its drill failed" if state == "failed" else "never drilled"))
    return out
