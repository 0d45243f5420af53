# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""Snapshot files: checksums in one streaming pass, the sha256 trailer etcd appends, sidecars.

`etcdctl snapshot save` appends sha256(db) to the bbolt file, so a good snapshot has
size % 512 == 32 and sha256(file[:-32]) == file[-32:]; that is the check `snapshot restore` makes
(`snapshot status` does not catch corruption). A copy of member/snap/db has no trailer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdError, fix_text

CHUNK = 1 << 20
TRAILER = 32
# Room asked for beyond the member's database size: the file also grows while it downloads.
SPACE_MARGIN = 1.1


def digests(path):
    """One pass over the file, one hash, memory flat in its size.

    Returns dict(size, sha256 (hex of the whole file), has_trailer, trailer_ok). sha256 hashes a stream, so the
    state after the body (all but the last 32 bytes) gives the trailer's check, and the same state fed the last
    32 bytes gives the whole file's sha256: no second hash over the file.
    """
    digest = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb") as handle:
        remaining = max(os.fstat(handle.fileno()).st_size - TRAILER, 0)
        size = 0
        while remaining:
            n = handle.readinto(view[:min(CHUNK, remaining)])
            if not n:
                break
            digest.update(view[:n])
            size += n
            remaining -= n
        tail = handle.read()  # the last 32 bytes (more when the file grew meanwhile)
    body = digest.copy().digest()
    digest.update(tail)
    size += len(tail)
    has_trailer = size % 512 == TRAILER
    return dict(size=size, sha256=digest.hexdigest(), has_trailer=has_trailer,
                trailer_ok=has_trailer and len(tail) == TRAILER and body == tail)


def sidecar_path(path):
    return path + ".sha256"


def read_sidecar(path):
    """The sha256 in `<path>.sha256` (sha256sum format), or None when there is no sidecar.

    Raises ValueError when the sidecar is not in sha256sum format.
    """
    side = sidecar_path(path)
    if not os.path.exists(side):
        return None
    with open(side) as handle:
        fields = handle.read().split()
    if not fields or len(fields[0]) != 64 or any(c not in "0123456789abcdef" for c in fields[0].lower()):
        raise ValueError("%s is not in sha256sum format (`<sha256>  <file name>`)" % side)
    return fields[0].lower()


def sidecar_text(path, sha256):
    """The line `sha256sum` writes for the file, so `sha256sum -c` checks it from its directory."""
    return "%s  %s\n" % (sha256, os.path.basename(path))


def meta_from_text(text):
    """A snapshot's metadata (its .json sidecar's text) as a dict: {} when it is empty, not JSON or not an object."""
    try:
        meta = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def read_meta(path):
    """The metadata backup.yml wrote beside a snapshot (<snapshot>.json: its cluster, members, revision, keys);
    {} when there is none or it cannot be read."""
    try:
        with open(path + ".json", encoding="utf-8") as handle:
            return meta_from_text(handle.read())
    except (OSError, UnicodeDecodeError):
        return {}


def inspect(client, path, deep=False, deep_dir=None, skip_hash_check=False, require_sidecar=False, read_status=True,
            expected_sha256=None):
    """Everything there is to know about a snapshot file; raises EtcdError when it is not usable.

    Without `read_status` it needs no etcd tool (a controller's check): size, sha256, sidecar, trailer.
    `expected_sha256` is the sha256 the file must have (a copy checked against its source, in the same pass).
    """
    if not os.path.isfile(path):
        raise EtcdError("The snapshot %s does not exist (or is not a file)." % path,
                        hint="Check the path; snapshots made by backup.yml are *.db files in etcd_backup_dir.")
    d = digests(path)
    if d["size"] == 0:
        raise EtcdError("The snapshot %s is empty." % path, hint="It cannot be used; take or pick another one.")
    try:
        recorded = read_sidecar(path)
    except ValueError as exc:
        raise EtcdError(str(exc), hint="Write it again with `sha256sum FILE > FILE.sha256`, or remove it.") from exc
    sidecar = dict(path=sidecar_path(path), exists=recorded is not None, sha256=recorded or "",
                   matches=recorded == d["sha256"] if recorded else None)
    if recorded is None and require_sidecar:
        raise EtcdError("The snapshot %s has no sidecar %s." % (path, sidecar["path"]),
                        hint="Every snapshot the collection makes has one; without it the copy cannot be checked.")
    if expected_sha256 and expected_sha256.lower() != d["sha256"]:
        raise EtcdError("The copy %s differs from its source: sha256 %s, the source has %s." % (
            path, d["sha256"], expected_sha256.lower()),
            hint="The copy is damaged or incomplete (disk, space, network); copy it again.")
    if recorded is not None and recorded != d["sha256"]:
        raise EtcdError("The snapshot %s does not match its sidecar: sha256 %s, the sidecar says %s." % (
            path, d["sha256"], recorded), hint="The file changed or was copied incompletely; use another snapshot.")
    if not skip_hash_check and not d["trailer_ok"]:
        if d["has_trailer"]:
            why = "its sha256 trailer does not match its content: the file is corrupted"
        else:
            why = ("its size (%d bytes) is not whole 512-byte pages plus etcd's 32-byte sha256 trailer: it is "
                   "truncated, or a copy of a data dir's db file rather than a `snapshot save` file" % d["size"])
        raise EtcdError("The snapshot %s is not usable: %s." % (path, why),
                        hint="Use another snapshot; only a db file copied from a data dir may be restored "
                             "with skip_hash_check, knowingly.")
    checked = dict(path=path, size=d["size"], sha256=d["sha256"], sidecar=sidecar,
                   trailer=dict(present=d["has_trailer"], valid=d["trailer_ok"]), meta=read_meta(path))
    if not read_status:
        return dict(checked, status={}, deep={}, tool="", versions={}, restore_bump_revision=False)
    tool = client.snapshot_tool()
    try:
        status = client.snapshot_status(path)
    except EtcdError as exc:
        exc.hint = "The file does not read as an etcd snapshot; use another one."
        raise
    deep_result = {}
    if deep:
        parent = deep_dir or os.path.dirname(os.path.abspath(path))
        workdir = tempfile.mkdtemp(prefix=".etcd-snapshot-check-", dir=parent)
        try:
            client.snapshot_restore(path, os.path.join(workdir, "data"), "check", "check=http://127.0.0.1:2380",
                                    ["http://127.0.0.1:2380"], "etcd-ops-check", skip_hash_check=skip_hash_check)
        except EtcdError as exc:
            exc.hint = "A restore of this file fails the same way; use another snapshot."
            raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        deep_result = dict(restored=True, tool=tool)
    return dict(checked, status=status, deep=deep_result, tool=tool, versions=client.versions(),
                restore_bump_revision=client.restore_supports_bump_revision())


def user_keys(client, endpoint, revision):
    """The number of keys at the snapshot's revision, asked of the member it came from; None when the member
    cannot say (it compacted that revision away already). `snapshot status` cannot tell: its totalKey counts
    every entry of every bucket (each stored revision of each key, and etcd's own), not the keys."""
    try:
        return client.key_count([endpoint], revision)
    except EtcdError:
        return None


def kv_hash(client, endpoint, revision):
    """etcd's KV hash (HashKV) at the snapshot's revision, asked of the member it came from: what a restore of the
    snapshot must give back (a restore drill compares it). dict(hash, compact_revision), or None when the member
    cannot say (it compacted that revision away already; with etcd auth on, a user without the root role)."""
    try:
        answer = client.hash_kv([endpoint], revision)
    except EtcdError:
        return None
    return dict(hash=answer["hash"], compact_revision=answer["compact_revision"])


def save(client, path, endpoint, timeout, settle=None, sidecar=True):
    """Save a snapshot from one endpoint to `path`, verified before it gets that name.

    The download goes to a hidden temporary name beside `path`; `settle(file)` (mode, owner) and `inspect`
    run on it, then it is renamed, so nothing half-written carries a final name. With `sidecar`, a
    `<path>.sha256` is written the same way. Returns what the file is (size, sha256, revision, ...).
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise EtcdError("The directory %s does not exist." % directory, hint="Create it first (mode 0700).")
    statuses, err = client.endpoint_status([endpoint])
    if not statuses:
        raise EtcdError("The member at %s does not answer: %s" % (endpoint, err or "no status"),
                        hint=fix_text(err) or "Take the snapshot from a healthy member (endpoint).")
    member = statuses[0]
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    if free < member["db_size"] * SPACE_MARGIN:
        raise EtcdError("Not enough space in %s: %d bytes free, the database is %d bytes." % (
            directory, free, member["db_size"]), hint="Free space there or write the snapshot elsewhere.")

    settle = settle or (lambda file: os.chmod(file, 0o600))
    started = time.monotonic()
    temp = os.path.join(directory, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    temp_side = temp + ".sha256"
    try:
        client.snapshot_save(temp, endpoint, timeout)
        settle(temp)
        info = inspect(client, temp)
        if sidecar:
            with open(temp_side, "w") as handle:
                handle.write(sidecar_text(path, info["sha256"]))
            settle(temp_side)
        os.rename(temp, path)
        if sidecar:
            os.rename(temp_side, sidecar_path(path))
    finally:
        for leftover in (temp, temp_side, temp + ".part"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    status = info["status"]
    kv = kv_hash(client, endpoint, status["revision"])
    return dict(path=path, sidecar=sidecar_path(path) if sidecar else "", endpoint=endpoint, size=info["size"],
                sha256=info["sha256"], revision=status["revision"], hash=status["hash"],
                total_keys=status["total_keys"], keys=user_keys(client, endpoint, status["revision"]),
                kv_hash=kv["hash"] if kv else None, kv_hash_compact_revision=kv["compact_revision"] if kv else None,
                etcd_version=member["version"],
                duration=round(time.monotonic() - started, 3))
