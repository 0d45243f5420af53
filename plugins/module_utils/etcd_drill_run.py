# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The restore drill as it runs on a member (etcd_snapshot_drill, and the members' scheduled backup job): check the
snapshot, restore it into a scratch dir, start the member's own etcd binary on it as a transient systemd unit as the
unit's user on free loopback ports, wait until it serves, read it at the snapshot's revision, stop it and remove the
dir on every outcome. What it reads is compared and recorded by the pure functions of etcd_drill.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import pwd
import shutil
import socket
import tempfile
import time

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill as drill
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import write_file
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdError
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import inspect, read_meta

DEFAULT_DIR = "/var/lib/etcd-ops/drill"
UNIT_PREFIX = "etcd-ops-drill-"
SCRATCH_PREFIX = "scratch-"
# systemd stops a scratch etcd this long after its start, whatever becomes of the module
RUNTIME_MARGIN = 600
AUTH_ERRORS = ("user name is empty", "authentication failed", "invalid auth token", "permission denied",
               "user name not found")


class CannotRun(Exception):
    """The drill cannot run on this host (nothing to do with the snapshot): the message names the fix."""


def free_ports(count=2):
    """Loopback ports nothing listens on now (the kernel's choice), for the scratch etcd."""
    sockets = []
    try:
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def systemctl(module, *args):
    return module.run_command(["systemctl"] + list(args))


def unit_state(module, unit):
    rc, out, _err = systemctl(module, "show", "--property=ActiveState", "--value", unit)
    return out.strip() if rc == 0 else ""


def journal(module, unit, lines=12):
    rc, out, _err = module.run_command(["journalctl", "--unit", unit, "--lines", str(lines), "--no-pager",
                                        "--output", "cat"])
    return out.strip() if rc == 0 else ""


def clean_leftovers(module, scratch_dir):
    """Stop the scratch units and remove the scratch dirs an earlier drill left (a drill that was killed)."""
    gone = []
    rc, out, _err = systemctl(module, "list-units", "--all", "--plain", "--no-legend", UNIT_PREFIX + "*")
    for line in out.splitlines() if rc == 0 else []:
        unit = line.split()[0] if line.split() else ""
        if unit.startswith(UNIT_PREFIX):
            systemctl(module, "stop", unit)
            gone.append(unit)
    for path in glob.glob(os.path.join(glob.escape(scratch_dir), SCRATCH_PREFIX + "*")):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            gone.append(path)
    return gone


def chown_tree(top, uid, gid):
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.lchown(name, uid, gid)


def auth_error(exc):
    text = " ".join((exc.msg, exc.stderr or ""))
    return any(needle in text for needle in AUTH_ERRORS)


class Drill:
    """One drill of a checked snapshot: restore, start, wait, read; the scratch unit and dir gone on every outcome."""

    def __init__(self, module, client, path, want, user):
        self.module, self.client, self.path, self.want, self.user = module, client, path, want, user
        self.unit = "%s%d" % (UNIT_PREFIX, os.getpid())
        self.scratch = ""
        self.out = dict(unit=self.unit, restore_seconds=0.0, serve_seconds=0.0, etcd_version="", failure="",
                        observed=dict(revision=None, keys=None, kv_hash=None, kv_hash_compact_revision=None,
                                      version="", compacted_to=0))

    def run(self, scratch_dir, etcd, timeout):
        try:
            client_port, peer_port = free_ports()
            endpoint = "http://127.0.0.1:%d" % client_port
            peer = "http://127.0.0.1:%d" % peer_port
            self.scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=scratch_dir)
            data = os.path.join(self.scratch, "data")
            started = time.monotonic()
            try:
                self.client.snapshot_restore(self.path, data, "drill", "drill=" + peer, [peer], "etcd-ops-drill")
            except EtcdError as exc:
                return self.failed("it does not restore: %s" % exc.msg)
            chown_tree(self.scratch, self.user.pw_uid, self.user.pw_gid)
            self.out["restore_seconds"] = round(time.monotonic() - started, 3)
            started = time.monotonic()
            self.start(etcd, data, endpoint, peer, timeout)
            status = self.wait(endpoint, timeout)
            if status is None:
                return self.out
            self.out["serve_seconds"] = round(time.monotonic() - started, 3)
            self.read(endpoint, status)
            return self.out
        finally:
            self.clean()

    def failed(self, why):
        self.out["failure"] = why
        return self.out

    def start(self, etcd, data, endpoint, peer, timeout):
        argv = ["systemd-run", "--no-block", "--collect", "--quiet", "--unit=" + self.unit,
                "--description=etcd_ops.etcd restore drill of %s" % os.path.basename(self.path),
                "--property=Type=notify", "--property=User=%s" % self.user.pw_name,
                "--property=Group=%d" % self.user.pw_gid,
                "--property=RuntimeMaxSec=%d" % (timeout + RUNTIME_MARGIN), "--",
                etcd, "--name=drill", "--data-dir=" + data,
                "--listen-client-urls=" + endpoint, "--advertise-client-urls=" + endpoint,
                "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                "--initial-cluster=drill=" + peer, "--initial-cluster-token=etcd-ops-drill"]
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise CannotRun("systemd-run could not start the scratch etcd (rc=%s): %s. Fix: the drill needs systemd "
                            "as PID 1 on the member." % (rc, (err or out).strip()))

    def wait(self, endpoint, timeout):
        """The scratch etcd's status once it serves with a leader; None (and the failure) when it stops or
        does not serve in time."""
        started = time.monotonic()
        deadline, running = started + timeout, False
        while True:
            statuses, _err = self.client.endpoint_status([endpoint])
            if statuses and statuses[0]["leader"]:
                return statuses[0]
            state = unit_state(self.module, self.unit)
            running = running or state in ("activating", "active", "reloading")
            # a unit is inactive for a moment before its start job runs (--no-block); a failed one is unloaded
            # (--collect), which reads as inactive too
            if state == "failed" or (state in ("inactive", "") and (running or time.monotonic() - started > 5)):
                self.failed("the restored etcd stopped before it served (unit %s %s): %s" % (
                    self.unit, state or "gone", journal(self.module, self.unit) or "no log"))
                return None
            if time.monotonic() > deadline:
                self.failed("the restored etcd did not serve within %d s (etcd_verify_timeout): %s" % (
                    timeout, journal(self.module, self.unit, 5) or "no log"))
                return None
            time.sleep(0.2)

    def read(self, endpoint, status):
        seen = self.out["observed"]
        seen.update(revision=status["revision"], version=status["version"])
        self.out["etcd_version"] = status["version"]
        revision = self.want["file_revision"]
        try:
            seen["keys"] = self.client.key_count([endpoint], revision)
            if self.want["kv_hash"] is None:
                # nothing to compare it with; and a history compacted at the snapshot's revision has no HashKV there
                return
            hashed = self.client.hash_kv([endpoint], revision)
            target = drill.compact_to(self.want, hashed["compact_revision"])
            if target:
                self.client.compact(target, endpoints=[endpoint])
                seen["compacted_to"] = target
                hashed = self.client.hash_kv([endpoint], revision)
            seen.update(kv_hash=hashed["hash"], kv_hash_compact_revision=hashed["compact_revision"])
        except EtcdError as exc:
            if auth_error(exc):
                raise CannotRun(
                    "The restored etcd serves, but refuses the drill's reads: the snapshot's cluster has etcd auth on, "
                    "and the drill %s (%s). Fix: set etcd_user and etcd_password to a user with the root role in the "
                    "snapshot (HashKV needs it)." % (
                        "has no credentials" if not self.client.env.get("ETCDCTL_USER") else "user's are refused",
                        exc.msg)) from exc
            self.failed("the restored etcd serves but does not answer at revision %d: %s" % (revision, exc.msg))

    def clean(self):
        if self.scratch:
            if unit_state(self.module, self.unit) not in ("", "inactive"):
                systemctl(self.module, "stop", self.unit)
            shutil.rmtree(self.scratch, ignore_errors=True)


def prepare(module, run_as, etcd_path, scratch_dir, size, check_mode=False):
    """What the drill needs here, or CannotRun with the fix: the user, the etcd binary, the scratch dir, room."""
    try:
        user = pwd.getpwnam(run_as)
    except KeyError as exc:
        raise CannotRun("The user %s does not exist on this host. Fix: set etcd_verify_user to the user the member's "
                        "unit runs etcd as." % run_as) from exc
    if user.pw_uid == 0:
        raise CannotRun("The scratch etcd does not run as root. Fix: set run_as to the user the member's unit runs "
                        "etcd as (etcd, as deploy.yml makes it).")
    etcd = etcd_path or module.get_bin_path("etcd", required=False)
    if not etcd or not os.access(etcd, os.X_OK):
        raise CannotRun("There is no etcd binary%s on this host. Fix: drill on a member (etcd_verify_member), or set "
                        "etcd_path." % (" at " + etcd if etcd else ""))
    for tool in ("systemd-run", "systemctl"):
        if not module.get_bin_path(tool, required=False):
            raise CannotRun("%s is not on this host: the scratch etcd runs as a transient systemd unit. Fix: drill on "
                            "a member that runs systemd." % tool)
    try:
        workdir.ensure(scratch_dir, 0o711, check_mode)
    except workdir.WorkDirError as exc:
        raise CannotRun(workdir.refusal(scratch_dir, str(exc), "Nothing was restored there.")) from exc
    where = scratch_dir
    while not os.path.isdir(where):  # check mode: the dir is not made yet
        where = os.path.dirname(where)
    fs = os.statvfs(where)
    free, need = fs.f_bavail * fs.f_frsize, drill.space_needed(size)
    if free < need:
        raise CannotRun("Not enough space in %s for the drill: %d bytes free, it needs %d (the restored database and "
                        "its first WAL file). Nothing was restored. Fix: free space there, or set etcd_verify_dir to "
                        "a disk with room." % (scratch_dir, free, need))
    return user, etcd


def run(runner, client, path, meta=None, status=None, scratch_dir=DEFAULT_DIR, run_as="etcd", etcd_path=None,
        timeout=120, label=None, member=None, check_mode=False):
    """One restore drill of the snapshot at `path`: checked (unless `status` says a check just read it), restored,
    started, read, compared with `meta`, cleaned up. `runner` runs commands (an AnsibleModule, or the scheduled
    job's LocalRunner).

    Returns the drill: dict(result (passed, failed, or 'not run' in check mode), msg, snapshot, time, seconds,
    expected, observed, checked, not_checked, differences, failure, restore_seconds, serve_seconds, etcd_version,
    unit, leftovers, metadata (`meta` with the drill recorded)). Raises CannotRun, EtcdError or OSError when the
    drill cannot run here: that says nothing about the snapshot.
    """
    began = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = meta if meta is not None else read_meta(path)
    label = label or path
    base = dict(snapshot=path, time=now)
    client.snapshot_tool()  # no etcd tool here says nothing about the snapshot
    try:
        if status is not None:  # checked by the caller a moment ago (etcd_snapshot_push)
            if not os.path.isfile(path):
                raise EtcdError("The snapshot %s does not exist (or is not a file)." % path)
            info = dict(status=status, size=os.path.getsize(path))
        else:
            info = inspect(client, path)
    except EtcdError as exc:
        if not os.path.isfile(path):
            raise
        out = dict(failure="it does not pass its checks: %s" % exc.msg, observed={}, leftovers=[])
        return finish(base, drill.expected(meta, {}), meta, out, began, label, member)
    want = drill.expected(meta, info["status"])
    base["expected"] = want
    user, etcd = prepare(runner, run_as, etcd_path, scratch_dir, info["size"], check_mode)
    if check_mode:
        return dict(base, result="not run", msg="check mode: would restore %s into a scratch etcd under %s as %s and "
                    "compare it with its metadata" % (path, scratch_dir, user.pw_name))
    leftovers = clean_leftovers(runner, scratch_dir)
    out = Drill(runner, client, path, want, user).run(scratch_dir, etcd, timeout)
    out["leftovers"] = leftovers
    return finish(base, want, meta, out, began, label, member)


def finish(base, want, meta, out, began, label, member=None):
    """Compare and record: the drill's result, with its message and the metadata with it recorded."""
    compared = drill.compare(want, out.get("observed") or {}) if not out["failure"] else dict(
        differences=[], checked=[], not_checked=[])
    result = drill.verdict(compared["differences"], out["failure"])
    seconds = round(time.monotonic() - began, 3)
    record = drill.record(dict(out, result=result, time=base["time"], seconds=seconds,
                               member=member or os.uname()[1], **compared), meta)
    if result == "failed":
        msg = drill.failure_message(label, compared["differences"], out["failure"])
    else:
        msg = "The restore drill of %s passed: %s." % (label, ", ".join(compared["checked"]))
    return dict(base, result=result, msg=msg, expected=want, seconds=seconds, metadata=record,
                **dict(out, **compared))


def record_beside(path, drilled):
    """The drill's fields of `drilled` (a drill's metadata) into the snapshot's PATH.json beside it, and nothing
    else of it, under a hidden name first, then renamed. A snapshot without a PATH.json, or whose PATH.json is no
    JSON object, is left as it is. Returns dict(recorded, why)."""
    side = path + ".json"
    if not os.path.isfile(side):
        return dict(recorded=False, why="%s has no metadata file (%s) to record the drill in" % (path, side))
    current = read_meta(path)
    if not current:
        return dict(recorded=False, why="%s is no JSON object: it was left as it is" % side)
    write_file(side, json.dumps(drill.merge(current, drilled), indent=2, sort_keys=True) + "\n")
    return dict(recorded=True, why="")
