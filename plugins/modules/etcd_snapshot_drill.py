#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot_drill
short_description: Prove a snapshot restores - restore it into a scratch etcd, start it, compare what it serves
version_added: 0.4.0
description:
  - A restore drill on the target, which changes nothing of the member it runs on. The snapshot is checked (its
    sidecar, etcd's sha256 trailer, C(snapshot status)), restored into a new scratch directory under
    O(scratch_dir) with the etcd tool of this host, and started with this host's own etcd binary as a transient
    systemd unit (C(etcd-ops-drill-*), C(systemd-run)), as O(run_as) (the user the member's unit runs etcd as),
    never root, listening on two free loopback ports only. The scratch etcd is a cluster of one, which never contacts
    the real members.
  - Once it serves, it is asked, at the snapshot's revision, for its revision, the number of keys and etcd's own
    hash of the keys and their history (C(HashKV)); each is compared with what the snapshot's metadata recorded when
    it was taken (backup.yml's C(NAME.json)). Where the member had compacted its history between the snapshot and
    its C(HashKV), the scratch etcd is compacted to that revision first, so both hashes cover the same history.
  - The scratch unit is stopped and its directory removed on every outcome; the unit also has a C(RuntimeMaxSec),
    so systemd stops it even when the module is killed. Units and directories a killed drill left are removed
    first.
  - A snapshot that fails its checks, does not restore, does not serve within O(timeout), or whose contents differ
    from its metadata fails the module with RV(result=failed), what differed, and RV(metadata) (the metadata with
    the failed drill recorded). A drill that cannot run here (no space, no such user, no etcd binary, credentials
    refused) fails without RV(result), which says nothing about the snapshot.
  - The snapshot file is only read, never changed or removed.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
options:
  path:
    description: The snapshot file on the target (with its C(<path>.sha256) sidecar when it has one).
    type: path
    required: true
  label:
    description:
      - How messages name the snapshot; default O(path). The role gives the controller's path when O(path) is the
        member's copy of it.
    type: str
  metadata:
    description:
      - The snapshot's metadata, as backup.yml wrote it (C(revision), C(keys), C(kv_hash),
        C(kv_hash_compact_revision)). Omitted, C(<path>.json) is read where it exists.
      - Without metadata the drill proves that the snapshot restores and serves at its revision, and says what it
        could not compare.
    type: dict
  status:
    description:
      - The snapshot's status as a check of this very file has just read it (the
        RV(etcd_ops.etcd.etcd_snapshot_push#module:status) of the copy M(etcd_ops.etcd.etcd_snapshot_push) made and
        checked). Given, the file is not read again before
        the restore, which checks etcd's sha256 trailer itself; its revision is taken from here.
      - Omitted, the file is checked first (its sidecar, the trailer, C(snapshot status)).
    type: dict
  scratch_dir:
    description:
      - The directory the scratch etcd's data dir is made in (a new C(scratch-*) directory, owned by O(run_as),
        mode 0700, removed after the drill). It is made where missing, mode 0711, and must be a safe work dir (root's,
        reached through no path another user can change). It needs the room of the restored database and its
        first WAL file (64 MiB), which is checked first.
    type: path
    default: /var/lib/etcd-ops/drill
  run_as:
    description: The user the scratch etcd runs as; its primary group too. Never root.
    type: str
    default: etcd
  etcd_path:
    description: The etcd binary; default the C(etcd) found on the target's path (the member's own).
    type: path
  timeout:
    description: Seconds the scratch etcd has to serve once started.
    type: int
    default: 120
notes:
  - O(endpoints) and the TLS options are not used - the scratch etcd serves plain HTTP on loopback. O(user) and
    O(password) are - a snapshot of a cluster with etcd auth on restores with auth on, and C(HashKV) needs the root
    role.
attributes:
  check_mode:
    description: Checks the snapshot and what the drill needs; starts nothing, and reports RV(result=not run).
    support: full
  diff_mode:
    description: Nothing of the target changes.
    support: none
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Drill the newest scheduled snapshot on this member
  etcd_ops.etcd.etcd_snapshot_drill:
    path: /var/backups/etcd-ops/etcd-cluster-20261205T020000Z-r5012.db
  become: true
  register: drill

- name: Drill a copy of a stored snapshot, with the metadata from the controller's store
  etcd_ops.etcd.etcd_snapshot_drill:
    path: /var/lib/etcd-ops/drill/{{ name }}
    metadata: "{{ lookup('ansible.builtin.file', 'etcd-backups/' ~ name ~ '.json') | from_json }}"
    user: root
    password: "{{ etcd_password }}"
  become: true
  vars:
    name: etcd-cluster-20261205T020000Z-r5012.db
"""

RETURN = r"""
result:
  description: V(passed), V(failed) (the snapshot is at fault), or V(not run) (check mode).
  returned: always, except when the drill could not run here
  type: str
  sample: passed
differences:
  description: What the restored etcd showed otherwise than the metadata says, a sentence each.
  returned: when the drill ran
  type: list
  elements: str
  sample: ["keys at revision 5012: the metadata says 5000, the restored etcd has 4999"]
failure:
  description: Why the snapshot did not check, restore or serve; empty when it did.
  returned: when the drill ran
  type: str
checked:
  description: What was compared and found equal or not.
  returned: when the drill ran
  type: list
  elements: str
  sample: ["revision 5012", "5000 keys", "KV hash 2558562925"]
not_checked:
  description: What could not be compared, and why (no metadata, a value it does not record).
  returned: when the drill ran
  type: list
  elements: str
expected:
  description: What the snapshot promises - C(file_revision), and from its metadata C(revision), C(keys), C(kv_hash),
    C(kv_hash_compact_revision).
  returned: always
  type: dict
observed:
  description: What the scratch etcd served - C(revision), C(keys), C(kv_hash), C(kv_hash_compact_revision),
    C(version), and C(compacted_to) (0 unless it was compacted first).
  returned: when the drill ran
  type: dict
restore_seconds:
  description: Seconds the restore into the scratch dir took.
  returned: when the drill ran
  type: float
serve_seconds:
  description: Seconds from the start of the scratch etcd until it served.
  returned: when the drill ran
  type: float
seconds:
  description: Seconds the whole drill took, the checks of the file and the cleanup included.
  returned: when the drill ran
  type: float
time:
  description: When the drill started (UTC, ISO 8601).
  returned: always
  type: str
etcd_version:
  description: The version of the scratch etcd (this host's etcd).
  returned: when the drill ran
  type: str
unit:
  description: The transient unit the scratch etcd ran as.
  returned: when the drill ran
  type: str
metadata:
  description: The snapshot's metadata with this drill recorded (C(drill_result), C(drilled_at), C(drill_seconds),
    C(drill), and C(verified_at) while the last drill passed), for the caller to store beside the snapshot.
  returned: when the drill ran
  type: dict
leftovers:
  description: Units and scratch directories of an earlier drill that was killed, stopped and removed first.
  returned: when the drill ran
  type: list
  elements: str
commands:
  description: The etcd commands run (no secrets).
  returned: always
  type: list
  elements: str
"""

import datetime
import glob
import os
import pwd
import shutil
import socket
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill as drill
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import inspect, read_meta

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
    """One drill: check, restore, start, wait, read, compare; the scratch unit and dir gone on every outcome."""

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


def prepare(module, p, client, size):
    """What the drill needs here, or CannotRun with the fix: the user, the etcd binary, the scratch dir, room."""
    try:
        user = pwd.getpwnam(p["run_as"])
    except KeyError as exc:
        raise CannotRun("The user %s does not exist on this host. Fix: set etcd_verify_user to the user the member's "
                        "unit runs etcd as." % p["run_as"]) from exc
    if user.pw_uid == 0:
        raise CannotRun("The scratch etcd does not run as root. Fix: set run_as to the user the member's unit runs "
                        "etcd as (etcd, as deploy.yml makes it).")
    etcd = p["etcd_path"] or module.get_bin_path("etcd", required=False)
    if not etcd or not os.access(etcd, os.X_OK):
        raise CannotRun("There is no etcd binary%s on this host. Fix: drill on a member (etcd_verify_member), or set "
                        "etcd_path." % (" at " + etcd if etcd else ""))
    for tool in ("systemd-run", "systemctl"):
        if not module.get_bin_path(tool, required=False):
            raise CannotRun("%s is not on this host: the scratch etcd runs as a transient systemd unit. Fix: drill on "
                            "a member that runs systemd." % tool)
    try:
        workdir.ensure(p["scratch_dir"], 0o711, module.check_mode)
    except workdir.WorkDirError as exc:
        raise CannotRun(workdir.refusal(p["scratch_dir"], str(exc), "Nothing was restored there.")) from exc
    where = p["scratch_dir"]
    while not os.path.isdir(where):  # check mode: the dir is not made yet
        where = os.path.dirname(where)
    fs = os.statvfs(where)
    free, need = fs.f_bavail * fs.f_frsize, drill.space_needed(size)
    if free < need:
        raise CannotRun("Not enough space in %s for the drill: %d bytes free, it needs %d (the restored database and "
                        "its first WAL file). Nothing was restored. Fix: free space there, or set etcd_verify_dir to "
                        "a disk with room." % (p["scratch_dir"], free, need))
    return user, etcd


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            path=dict(type="path", required=True),
            label=dict(type="str"),
            metadata=dict(type="dict"),
            status=dict(type="dict"),
            scratch_dir=dict(type="path", default="/var/lib/etcd-ops/drill"),
            run_as=dict(type="str", default="etcd"),
            etcd_path=dict(type="path"),
            timeout=dict(type="int", default=120),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # the scratch etcd serves plain HTTP on loopback: the cluster's TLS files are not for it
    for option in ("ca_cert", "client_cert", "client_key"):
        p[option] = None
    client = EtcdClient(module)
    began = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = p["metadata"] if p["metadata"] is not None else read_meta(p["path"])
    base = dict(changed=False, snapshot=p["path"], time=now, commands=client.commands)
    label = p["label"] or p["path"]
    try:
        client.snapshot_tool()  # no etcd tool here says nothing about the snapshot
    except EtcdError as exc:
        module.fail_json(**dict(base, **exc.result()))
    try:
        if p["status"] is not None:  # checked by the caller a moment ago (etcd_snapshot_push)
            if not os.path.isfile(p["path"]):
                raise EtcdError("The snapshot %s does not exist (or is not a file)." % p["path"])
            info = dict(status=p["status"], size=os.path.getsize(p["path"]))
        else:
            info = inspect(client, p["path"])
    except EtcdError as exc:
        if not os.path.isfile(p["path"]):
            module.fail_json(**dict(base, **exc.result()))
        want = drill.expected(meta, {})
        finish(module, base, want, meta, dict(failure="it does not pass its checks: %s" % exc.msg, observed={}),
               began, now, label)
    want = drill.expected(meta, info["status"])
    try:
        user, etcd = prepare(module, p, client, info["size"])
        if module.check_mode:
            module.exit_json(**dict(base, result="not run", expected=want, msg="check mode: would restore %s into a "
                                    "scratch etcd under %s as %s and compare it with its metadata" % (
                                        p["path"], p["scratch_dir"], user.pw_name)))
        leftovers = clean_leftovers(module, p["scratch_dir"])
        out = Drill(module, client, p["path"], want, user).run(p["scratch_dir"], etcd, p["timeout"])
    except CannotRun as exc:
        module.fail_json(**dict(base, msg=str(exc), expected=want))
    except EtcdError as exc:
        module.fail_json(**dict(base, expected=want, **exc.result()))
    except OSError as exc:
        module.fail_json(**dict(base, expected=want, msg="The drill could not run here: %s" % exc))
    out["leftovers"] = leftovers
    finish(module, base, want, meta, out, began, now, label)


def finish(module, base, want, meta, out, began, now, label):
    """Compare, record and exit: exit_json when the drill passed, fail_json (with the record) when it failed."""
    compared = drill.compare(want, out.get("observed") or {}) if not out["failure"] else dict(
        differences=[], checked=[], not_checked=[])
    result = drill.verdict(compared["differences"], out["failure"])
    seconds = round(time.monotonic() - began, 3)
    record = drill.record(dict(out, result=result, time=now, seconds=seconds, member=os.uname()[1], **compared),
                          meta)
    done = dict(base, result=result, expected=want, seconds=seconds, metadata=record, **dict(out, **compared))
    if result == "failed":
        module.fail_json(msg=drill.failure_message(label, compared["differences"], out["failure"]),
                         **done)
    module.exit_json(msg="The restore drill of %s passed: %s." % (label, ", ".join(compared["checked"])),
                     **done)


if __name__ == "__main__":
    main()
