#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot_push
short_description: Copy a snapshot file from the controller to a node, checked against its sha256 in one pass
version_added: 0.3.0
description:
  - Puts a snapshot from the controller on the target as O(dest), owned and moded as asked, with a
    C(<dest>.sha256) sidecar beside it; a file of that name that is not the same snapshot is replaced.
  - The file is streamed over the connection to the remote user's temporary directory (no checksum on the
    controller), then checked there in one streaming pass - its sha256 against O(sha256), etcd's sha256 trailer,
    and C(snapshot status) - and only a copy that passed gets the name O(dest) (atomic rename; the sidecar after
    it). A copy that fails is removed and O(dest) is left as it was.
  - When O(dest) already holds the snapshot (its sha256 is O(sha256)), nothing is copied and the file is only
    checked, so a second run costs one read of the file on the target.
  - The check is that of M(etcd_ops.etcd.etcd_snapshot_info), with the same return values.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
options:
  src:
    description:
      - The snapshot file on the controller (the action plugin reads it).
      - The module itself receives the path of the copy in the remote user's temporary directory.
    type: path
  dest:
    description: Where the snapshot goes on the target. Its directory must exist, unless O(dir_mode) is set.
    type: path
    required: true
  dir_mode:
    description:
      - When set, a missing directory of O(dest) (and its missing parents, V(0755)) is created with this mode, owned
        by the user the module runs as (root with become). Unset, a missing directory fails the copy.
      - Set or not, the directory must be a safe work dir, or nothing is written there (and a copy found there is
        not taken). It must be no symbolic link, it and every directory on the way to it root's (or the user's the
        module runs as) and writable by no one else (a directory all can write to, such as C(/var/tmp), only with
        the sticky bit, and then the next one on the way must be root's). A recovery restores the file it finds
        there.
    type: str
  sha256:
    description: The sha256 of the snapshot, as the controller's check computed it (64 hex digits).
    type: str
    required: true
  owner:
    description: Owner of O(dest) and its sidecar.
    type: str
  group:
    description: Group of O(dest) and its sidecar.
    type: str
  mode:
    description: Mode of O(dest) and its sidecar.
    type: raw
    default: "0600"
  skip_hash_check:
    description: Accept a file without etcd's sha256 trailer (see M(etcd_ops.etcd.etcd_snapshot_info)).
    type: bool
    default: false
attributes:
  action:
    description: The action plugin streams O(src) from the controller to the target.
    support: full
  check_mode:
    description: Checks a copy that is already in place; copies nothing, and reports C(changed) when it would.
    support: full
  diff_mode:
    description: No diff of a binary snapshot.
    support: none
notes:
  - The copy goes through the remote user's temporary directory (C(remote_tmp)), which needs room for it.
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Check the snapshot on the controller
  etcd_ops.etcd.etcd_snapshot_info:
    path: /var/backups/etcd/etcd-cluster-20261125T031500Z-r1234.db
    read_status: false
  delegate_to: localhost
  run_once: true
  register: snap

- name: Copy it to every member, checked there
  etcd_ops.etcd.etcd_snapshot_push:
    src: /var/backups/etcd/etcd-cluster-20261125T031500Z-r1234.db
    dest: /var/lib/etcd-recovery/etcd-cluster-20261125T031500Z-r1234.db
    sha256: "{{ snap.sha256 }}"
    owner: root
    group: root
  become: true
"""

RETURN = r"""
path:
  description: O(dest).
  returned: always
  type: str
copied:
  description: Whether the file was copied (V(false) when O(dest) already held the snapshot).
  returned: always
  type: bool
size:
  description: The size of the copy in bytes.
  returned: success
  type: int
sha256:
  description: Its sha256 (O(sha256)).
  returned: success
  type: str
sidecar:
  description: The sidecar written beside the copy (as in M(etcd_ops.etcd.etcd_snapshot_info)).
  returned: success
  type: dict
trailer:
  description: Whether the file has etcd's sha256 trailer (C(present)) and whether it is right (C(valid)).
  returned: success
  type: dict
status:
  description: The snapshot's status (as in M(etcd_ops.etcd.etcd_snapshot_info)).
  returned: success
  type: dict
tool:
  description: The tool that read the snapshot (C(etcdctl) or C(etcdutl)).
  returned: success
  type: str
versions:
  description: Versions of the etcd tools on the host (null when absent).
  returned: success
  type: dict
restore_bump_revision:
  description: Whether the tool here can bump the revision on restore (etcd 3.4.27+, 3.5.10+, 3.6).
  returned: success
  type: bool
seconds:
  description: Seconds the action took (copy and check), as the controller measured them.
  returned: always
  type: float
commands:
  description: The commands the module ran.
  returned: always
  type: list
  elements: str
"""

import errno
import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import (
    CHUNK,
    inspect,
    sidecar_path,
    sidecar_text,
)


def settle(module, path, p):
    """Owner, group and mode as asked; the result's `changed` when any differed."""
    args = dict(path=path, owner=p["owner"], group=p["group"], mode=p["mode"], secontext=[None, None, None],
                seuser=None, serole=None, setype=None, selevel=None, attributes=None)
    return module.set_fs_attributes_if_different(args, False)


def write_private(path, text):
    """A small file, 0600 from its creation (settle() then gives it the owner and mode asked)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)


def look(module, client, p):
    """The check of a dest that may hold the snapshot already: (info, None), or (None, why it must be copied)."""
    dest = p["dest"]
    workdir.check_path(os.path.dirname(os.path.abspath(dest)))  # a file found in a dir others can change is no proof
    if not os.path.exists(dest):
        return None, "absent"
    try:
        return inspect(client, dest, skip_hash_check=p["skip_hash_check"], expected_sha256=p["sha256"]), None
    except EtcdError as exc:
        return None, exc.msg


def place(module, client, p):
    """Check the transferred copy, then give it (and a sidecar) the name dest. A failed copy is removed."""
    src, dest = p["src"], p["dest"]
    directory = os.path.dirname(dest)
    side_temp = os.path.join(directory, ".%s.sha256.tmp-%d" % (os.path.basename(dest), os.getpid()))
    copy_temp = os.path.join(directory, ".%s.tmp-%d" % (os.path.basename(dest), os.getpid()))
    try:
        if p["dir_mode"]:
            workdir.ensure(directory, int(p["dir_mode"], 8))
        else:
            workdir.check_path(directory)
        if not os.path.isdir(directory):
            raise EtcdError("The directory %s does not exist on the target." % directory,
                            hint="Create it first, or set dir_mode.")
        info = inspect(client, src, skip_hash_check=p["skip_hash_check"], expected_sha256=p["sha256"])
        write_private(side_temp, sidecar_text(dest, info["sha256"]))
        settle(module, side_temp, p)
        settle(module, src, p)
        try:
            os.rename(src, dest)  # the remote tmp dir on dest's filesystem: the checked file itself
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # another filesystem: a copy to a hidden name beside dest (mode as asked from the start), then a rename
            with open(src, "rb") as source, os.fdopen(os.open(copy_temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                                                      "wb") as target:
                shutil.copyfileobj(source, target, CHUNK)
                target.flush()
                os.fsync(target.fileno())
            settle(module, copy_temp, p)
            os.rename(copy_temp, dest)
        os.rename(side_temp, sidecar_path(dest))
    finally:
        for leftover in (src, side_temp, copy_temp):
            if os.path.exists(leftover):
                os.unlink(leftover)
    info["path"] = dest
    info["sidecar"] = dict(path=sidecar_path(dest), exists=True, sha256=info["sha256"], matches=True)
    return info


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            src=dict(type="path"),
            dest=dict(type="path", required=True),
            sha256=dict(type="str", required=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw", default="0600"),
            dir_mode=dict(type="str"),
            skip_hash_check=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not re.fullmatch(r"[0-9a-fA-F]{64}", p["sha256"]):
        module.fail_json(path=p["dest"], copied=False, commands=[],
                         msg="sha256 must be 64 hex digits, not %r. Fix: pass the sha256 the controller's "
                             "etcd_snapshot_info returned." % p["sha256"][:80])
    p["sha256"] = p["sha256"].lower()
    client = EtcdClient(module)
    try:
        if not p["src"]:
            # without src: is the snapshot at dest already? (the action plugin asks first, then copies)
            info, why = look(module, client, p)
            if info is None:
                module.exit_json(changed=False, present=False, why=why, path=p["dest"], copied=False,
                                 commands=client.commands)
            # attributes as asked and the sidecar the restore's marker reads (in check mode: only whether they would)
            changed = settle(module, p["dest"], p)
            side = sidecar_path(p["dest"])
            if not os.path.exists(side):
                changed = True
                if not module.check_mode:
                    write_private(side, sidecar_text(p["dest"], info["sha256"]))
            if os.path.exists(side):
                changed = settle(module, side, p) or changed
            info["sidecar"] = dict(path=side, exists=os.path.exists(side), sha256=info["sha256"],
                                   matches=os.path.exists(side))
            module.exit_json(changed=changed, present=True, copied=False, commands=client.commands, **info)
        if module.check_mode:
            module.exit_json(changed=True, path=p["dest"], copied=False, commands=client.commands)
        info = place(module, client, p)
    except EtcdError as exc:
        module.fail_json(path=p["dest"], copied=False, commands=client.commands, **exc.result())
    except workdir.WorkDirError as exc:
        module.fail_json(path=p["dest"], copied=False, commands=client.commands,
                         msg=workdir.refusal(os.path.dirname(os.path.abspath(p["dest"])), str(exc)))
    except OSError as exc:
        module.fail_json(path=p["dest"], copied=False, commands=client.commands,
                         msg="Could not put the copy at %s: %s. Fix: run the task with become (root), and check the "
                             "space and permissions of %s." % (p["dest"], exc, os.path.dirname(p["dest"])))
    module.exit_json(changed=True, copied=True, commands=client.commands, **info)


if __name__ == "__main__":
    main()
