# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What can be restored (list_backups.yml): the snapshots in the controller's store, in the bucket and in the
members' scheduled-snapshot dirs, merged into one catalog, newest first.

`read_dir` reads one directory (module etcd_snapshot_list, on the controller or a member). `catalog` and `table`
are pure: they take what was read in each place and decide what one row per snapshot says - its time, revision,
keys, size, cluster, last drill and where its copies are."""

from __future__ import annotations

import datetime
import os
import re

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import listed_snapshots
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import snapshot_cluster
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import read_meta

KINDS = ("store", "s3", "member")
# the metadata fields a row shows and the report carries
_SHOWN = ("time", "revision", "keys", "total_keys", "size", "sha256", "cluster_token", "source_member",
          "etcd_version", "kv_hash")


def read_dir(directory):
    """The backup role's snapshots in DIRECTORY, oldest first: each dict(name, path, size, mtime, sidecar (whether
    NAME.sha256 is there), metadata (its NAME.json, {} when none)). Hidden files, half-written ones and files not
    named as the backup role names them are left out. exists=False when there is no such directory."""
    if not os.path.isdir(directory):
        return dict(exists=False, path=directory, snapshots=[])
    paths = [os.path.join(directory, entry) for entry in os.listdir(directory)]
    found = []
    for path in listed_snapshots([p for p in paths if os.path.isfile(p)], paths=True)["names"]:
        st = os.stat(path)
        found.append(dict(name=os.path.basename(path), path=path, size=st.st_size, mtime=int(st.st_mtime),
                          sidecar=os.path.isfile(path + ".sha256"), metadata=read_meta(path)))
    return dict(exists=True, path=directory, snapshots=found)


def member_place(host, location, node=None, listed=None):
    """One member's place for `catalog`, from what list_backups.yml registered on it: `node` (etcd_node_info's
    result: unreachable, msg) and `listed` (etcd_snapshot_list's: failed, msg, exists, snapshots; skipped when the
    member was unreachable). Its error says why it was not read, with the fix; `missing`, that it has no such dir."""
    node, listed = node or {}, listed or {}
    if node.get("unreachable"):
        why = re.sub(r"^Task failed: ", "", (node.get("msg") or "").strip())
        error = "unreachable (%s). Fix: check SSH and sudo to %s" % (why, host)
    elif listed.get("failed"):
        error = (listed.get("msg") or "").strip()
    else:
        error = ""
    return dict(kind="member", host=host, location=location, error=error,
                missing="exists" in listed and not listed["exists"], snapshots=list(listed.get("snapshots") or []))


def _stamp_time(name):
    """The UTC time in a snapshot's name (<cluster>-YYYYmmddTHHMMSSZ-r<revision>.db) as ISO 8601, '' if none."""
    try:
        stamp = name.rsplit("-r", 1)[0].rsplit("-", 1)[1]
        return datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
    except (IndexError, ValueError):
        return ""


def _name_revision(name):
    try:
        return int(name.rsplit("-r", 1)[1].split(".", 1)[0])
    except (IndexError, ValueError):
        return None


def _drill_of(meta):
    """A copy's last drill from its metadata: dict(result, at, seconds, verified_at, member), result '' if never."""
    result = meta.get("drill_result") or ""
    drill = meta.get("drill") if isinstance(meta.get("drill"), dict) else {}
    return dict(result=result if result in ("passed", "failed") else "", at=meta.get("drilled_at") or "",
                seconds=meta.get("drill_seconds"), verified_at=meta.get("verified_at") or "",
                member=drill.get("member") or "")


def _where(place):
    return place["host"] if place["kind"] == "member" else place["kind"]


def catalog(places, play=None):
    """One row per snapshot, newest first, from what each place held.

    places: each dict(kind: store, s3 or member; host: the member ('' otherwise); location: the directory or the
    bucket's s3://bucket/prefix/; error: why it could not be read ('' when it was); missing: the directory does not
    exist (a member without scheduled backups); snapshots: each dict(name, metadata, and size (the copy's bytes;
    none for a bucket's object) or object (the bucket's object name, NAME.db.zst when compressed))).
    play: this cluster's members [(name, [peer URLs])] as their env files say; empty: no snapshot is known to be
    this cluster's.

    A snapshot's copies are found by its name, which holds the cluster, the UTC time and the revision. The row's
    metadata is the copy's that has the most (the first place in `places` order among equals); its drill is the
    copies' latest. Copies whose recorded sha256 differ are named in the row's notes.
    """
    play = [(name, list(urls or [])) for name, urls in (play or [])]
    rows, by_name, summaries = [], {}, []
    for place in places:
        kind = place.get("kind")
        if kind not in KINDS:
            raise ValueError("place kind %r is not one of %s" % (kind, ", ".join(KINDS)))
        place = dict(place, host=place.get("host") or "", error=place.get("error") or "")
        snaps = list(place.get("snapshots") or [])
        location = place.get("location") or ""
        label = place["host"] + ":" + location if kind == "member" else location
        summaries.append(dict(kind=kind, host=place["host"], location=location, label=label,
                              read=not place["error"], error=place["error"], missing=bool(place.get("missing")),
                              snapshots=len(snaps)))
        for snap in snaps:
            name = snap["name"]
            meta = dict(snap.get("metadata") or {})
            copy = dict(where=_where(place), kind=kind, host=place["host"], location=place.get("location") or "",
                        object=snap.get("object") or name, size=snap.get("size"), sha256=meta.get("sha256") or "",
                        drill=_drill_of(meta))
            row = by_name.get(name)
            if row is None:
                row = by_name[name] = dict(name=name, meta=meta, copies=[])
                rows.append(row)
            elif len(meta) > len(row["meta"]):
                row["meta"] = meta
            row["copies"].append(copy)
    out = []
    for row in rows:
        out.append(_row(row, play))
    out.sort(key=lambda r: (r["time"], r["name"]), reverse=True)
    return dict(rows=out, places=summaries, snapshots=len(out),
                this_cluster=sum(1 for r in out if r["cluster"] == "this"),
                drilled=sum(1 for r in out if r["drill"] == "passed"),
                unread=[s for s in summaries if s["error"]])


def _row(row, play):
    meta, copies = row["meta"], row["copies"]
    shown = {key: meta.get(key) for key in _SHOWN}
    shown["time"] = shown["time"] or _stamp_time(row["name"])
    if shown["revision"] is None:
        shown["revision"] = _name_revision(row["name"])
    if shown["size"] is None:
        shown["size"] = next((c["size"] for c in copies if c["size"] is not None), None)
    if not play:
        cluster = dict(match="unknown", reason="no member's env file was read")
    else:
        cluster = snapshot_cluster(meta, play)
    drills = sorted((c["drill"] for c in copies if c["drill"]["result"]), key=lambda d: d["at"])
    last = drills[-1] if drills else dict(result="", at="", seconds=None, verified_at="", member="")
    notes = []
    sums = sorted({c["sha256"] for c in copies if c["sha256"]})
    if len(sums) > 1:
        notes.append("its copies differ: " + "; ".join(
            "%s sha256 %s" % (c["where"], c["sha256"][:12]) for c in copies if c["sha256"]))
    if not meta:
        notes.append("no metadata (.json): its cluster, keys and drills are unknown")
    return dict(shown, name=row["name"], cluster={"same": "this"}.get(cluster["match"], cluster["match"]),
                cluster_reason=cluster["reason"], drill=last["result"] or "never", drilled_at=last["at"],
                verified_at=last["verified_at"], drill_seconds=last["seconds"], drill_member=last["member"],
                where=[c["where"] for c in copies], copies=copies, notes=notes)


def human_size(size):
    """Bytes as etcd operators read them: 1.5 GiB, 20.0 MiB, 512 B; '?' when unknown."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024
    return "?"  # pragma: no cover


def _place_line(s):
    kind = {"store": "store", "s3": "bucket", "member": "member"}[s["kind"]]
    if s["error"]:
        return "%-7s %s: NOT READ - %s" % (kind, s["label"], s["error"])
    if s["missing"]:
        return "%-7s %s: no such directory (%s)" % (
            kind, s["label"], "no scheduled backups there" if s["kind"] == "member" else "no backup stored yet")
    return "%-7s %s: %d snapshot(s)" % (kind, s["label"], s["snapshots"])


def table(cat):
    """The catalog as the lines list_backups.yml prints: the places read, then one line per snapshot, newest
    first (time, revision, keys, size, last drill, cluster, where), then each row's notes."""
    lines = [_place_line(s) for s in cat["places"]]
    lines.append("%d snapshot(s), %d of this cluster, %d whose last drill passed" % (
        cat["snapshots"], cat["this_cluster"], cat["drilled"]))
    if not cat["rows"]:
        return lines
    head = ("TIME", "REVISION", "KEYS", "SIZE", "LAST DRILL", "CLUSTER", "WHERE", "NAME")
    body = []
    for r in cat["rows"]:
        drill = r["drill"] if r["drill"] == "never" else "%s %s" % (r["drill"], r["drilled_at"])
        body.append((r["time"] or "?", "?" if r["revision"] is None else str(r["revision"]),
                     "?" if r["keys"] is None else str(r["keys"]), human_size(r["size"]), drill,
                     r["cluster"] if r["cluster"] == "this" else "%s (%s)" % (r["cluster"], r["cluster_token"] or "?"),
                     ",".join(r["where"]), r["name"]))
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    lines.append((fmt % head).rstrip())
    lines.extend((fmt % line).rstrip() for line in body)
    for r in cat["rows"]:
        for note in r["notes"]:
            lines.append("note: %s: %s" % (r["name"], note))
    return lines
