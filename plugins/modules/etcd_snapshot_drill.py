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
  - The snapshot file is only read, never changed or removed. With O(record=true) its C(<path>.json) gets the drill's
    fields (and no other change).
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
  record:
    description:
      - Write the drill into the snapshot's C(<path>.json) beside it - the drill fields of
        RV(metadata) (C(verified_at), C(drill_result), C(drilled_at), C(drill_seconds), C(drill)) and nothing else
        of it - under a hidden name first, then renamed. For a snapshot kept on this host (a member's scheduled
        snapshot). A snapshot without a C(<path>.json), or whose C(<path>.json) is no JSON object, is left as it is
        (RV(recorded=false)). Not in check mode.
    type: bool
    default: false
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
- name: Drill a scheduled snapshot on this member and record the drill in its .json
  etcd_ops.etcd.etcd_snapshot_drill:
    path: /var/backups/etcd-ops/etcd-cluster-20261205T020000Z-r5012.db
    record: true
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
recorded:
  description: Whether the drill was written into C(<path>.json) (O(record=true)).
  returned: with O(record=true), when the drill ran or in check mode
  type: bool
why:
  description: Why the drill was not recorded (O(record=true), RV(recorded=false)).
  returned: with O(record=true), when the drill ran or in check mode
  type: str
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
  returned: when the snapshot could be read
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
  returned: when the drill ran, and in check mode
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill_run as run
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            path=dict(type="path", required=True),
            label=dict(type="str"),
            metadata=dict(type="dict"),
            status=dict(type="dict"),
            scratch_dir=dict(type="path", default=run.DEFAULT_DIR),
            run_as=dict(type="str", default="etcd"),
            etcd_path=dict(type="path"),
            timeout=dict(type="int", default=120),
            record=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # the scratch etcd serves plain HTTP on loopback: the cluster's TLS files are not for it
    for option in ("ca_cert", "client_cert", "client_key"):
        p[option] = None
    client = EtcdClient(module)
    base = dict(changed=False, snapshot=p["path"], commands=client.commands)
    try:
        out = run.run(module, client, p["path"], meta=p["metadata"], status=p["status"], scratch_dir=p["scratch_dir"],
                      run_as=p["run_as"], etcd_path=p["etcd_path"], timeout=p["timeout"], label=p["label"],
                      check_mode=module.check_mode)
    except run.CannotRun as exc:
        module.fail_json(**dict(base, msg=str(exc)))
    except EtcdError as exc:
        module.fail_json(**dict(base, **exc.result()))
    except OSError as exc:
        module.fail_json(**dict(base, msg="The drill could not run here: %s" % exc))
    if p["record"] and out["result"] in ("passed", "failed"):
        try:
            out.update(run.record_beside(p["path"], out["metadata"]))
        except OSError as exc:
            out.update(recorded=False, why="the drill could not be recorded in %s.json: %s" % (p["path"], exc))
        base["changed"] = out["recorded"]
    elif p["record"]:
        out.update(recorded=False, why="check mode: not written")
    if out["result"] == "failed":
        module.fail_json(**dict(base, **out))
    module.exit_json(**dict(base, **out))


if __name__ == "__main__":
    main()
