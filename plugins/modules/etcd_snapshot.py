#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot
short_description: Save an etcd snapshot from one member to a file on the target, verified
version_added: 0.1.0
description:
  - Runs C(etcdctl snapshot save) against exactly one endpoint into a temporary file beside O(path),
    checks it (etcd's sha256 trailer, then C(snapshot status)), sets its owner and mode 0600 (a snapshot holds
    every secret in the cluster), and only then renames it to O(path). A C(<path>.sha256) sidecar in sha256sum
    format is written the same way. Nothing half-written is ever left under a final name.
  - Checks first that the directory has room for the member's database.
  - When O(path) exists already, nothing is saved unless O(force=true); the existing file is reported.
  - The directory of O(path) must be a safe work dir, and is refused otherwise before anything is written. It is
    no symbolic link, it and every directory on the way to it belong to root (or to the user the module runs as),
    and no other user can write to them (a directory all can write to, such as C(/var/tmp), only with the sticky
    bit, and then the next one on the way must be root's). A snapshot holds every key of the cluster.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
options:
  path:
    description: The snapshot file to write on the target. Its directory must exist, unless O(dir_mode) is given.
    type: path
    required: true
  dir_mode:
    description:
      - Create the directory of O(path) (and missing parents, V(0755)) where it is missing, owned by the user the
        module runs as, with this mode (octal, e.g. V('0711')), and set this mode on it where it exists. A directory
        that appears under that name meanwhile (a link another user made) is not followed; the module fails.
    type: raw
  members:
    description:
      - Also read the cluster's member list through the same endpoint, for the snapshot's metadata (RV(cluster_id),
        RV(members)), with one more etcdctl call in the same run instead of another task.
    type: bool
    default: false
  endpoint:
    description: The one client URL to take the snapshot from (etcd refuses several); default the first of O(endpoints).
    type: str
  owner:
    description: Owner of the snapshot and its sidecar; default the user the module runs as.
    type: str
  group:
    description: Group of the snapshot and its sidecar.
    type: str
  timeout:
    description:
      - Seconds the whole download may take. etcdctl has no default limit and hangs on an unreachable member.
    type: int
    default: 600
  force:
    description: Replace an existing O(path) with a new snapshot.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reports whether a snapshot would be saved; saves nothing.
    support: full
  diff_mode:
    description: No diff.
    support: none
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Snapshot the member on this host
  etcd_ops.etcd.etcd_snapshot:
    endpoints: [http://127.0.0.1:2379]
    path: /var/tmp/etcd-snapshot.db
  register: snap

- name: Show it
  ansible.builtin.debug:
    msg: "{{ snap.path }}: revision {{ snap.revision }}, {{ snap.keys }} keys, {{ snap.size }} bytes"
"""

RETURN = r"""
path:
  description: The snapshot file.
  returned: always
  type: str
sidecar:
  description: The sha256 sidecar (sha256sum format).
  returned: success
  type: str
endpoint:
  description: The endpoint the snapshot came from.
  returned: success
  type: str
size:
  description: Size in bytes.
  returned: success
  type: int
sha256:
  description: sha256 of the file.
  returned: success
  type: str
revision:
  description: The snapshot's revision.
  returned: success
  type: int
hash:
  description: The snapshot's hash (crc32c), as C(snapshot status) reports it.
  returned: success
  type: int
total_keys:
  description: The snapshot's key count, as C(snapshot status) reports it (every bucket entry on 3.4/3.5).
  returned: success
  type: int
keys:
  description:
    - The number of keys at the snapshot's revision, asked of the member it came from (what a restore must give
      back); null when the member no longer has that revision, or when the file existed already.
  returned: success
  type: int
kv_hash:
  description:
    - etcd's hash of the keys and their history at the snapshot's revision (C(HashKV), etcd's own consistency
      hash), asked of the member it came from. A restore of the snapshot gives the same hash; the restore drill
      (M(etcd_ops.etcd.etcd_snapshot_drill)) compares them.
    - Null when the member cannot say (it compacted that revision away already; with etcd auth on, a user without
      the root role), or when the file existed already.
  returned: success
  type: int
kv_hash_compact_revision:
  description: The revision the member had compacted its history to when it gave RV(kv_hash) (null with it).
  returned: success
  type: int
etcd_version:
  description: The version of the member the snapshot came from.
  returned: success
  type: str
duration:
  description: Seconds the save and the checks took.
  returned: success
  type: float
cluster_id:
  description: The cluster's ID, in hex (with O(members)).
  returned: success and O(members)
  type: str
members:
  description: The cluster's members (with O(members)), each with C(id), C(id_hex), C(name), C(peer_urls),
    C(client_urls), C(is_learner) and C(started).
  returned: success and O(members)
  type: list
  elements: dict
commands:
  description: The commands the module ran (no secrets in them).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_snapshot_file as snapfile
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import inspect


def _settle(module, path, owner, group):
    module.set_mode_if_different(path, "0600", False)
    if owner:
        module.set_owner_if_different(path, owner, False)
    if group:
        module.set_group_if_different(path, group, False)


def save(module, client, path, endpoint, owner, group, timeout):
    return snapfile.save(client, path, endpoint, timeout, settle=lambda p: _settle(module, p, owner, group))


def snapshot_dir(module, path, mode):
    """The snapshot's directory: checked as a work dir (root's, reached through no path another user could
    change: etcd_workdir), and with `mode` given, created (with its parents) where missing; whether it changed."""
    directory = os.path.dirname(os.path.abspath(path))
    if mode is not None:
        try:
            mode = mode if isinstance(mode, int) else int(str(mode), 8)
        except ValueError:
            module.fail_json(msg="dir_mode must be octal, such as '0711', not %r." % (mode,), path=path)
    try:
        if mode is None:
            workdir.check_path(directory)
            return False
        return workdir.ensure(directory, mode, module.check_mode)
    except workdir.WorkDirError as exc:
        module.fail_json(msg=workdir.refusal(directory, str(exc)), path=path, changed=False, commands=[])
    except OSError as exc:
        module.fail_json(msg="Could not create the snapshot's directory %s: %s. Fix: give a path where this user "
                             "can create it." % (directory, exc.strerror or exc), path=path)


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            path=dict(type="path", required=True),
            endpoint=dict(type="str"),
            owner=dict(type="str"),
            group=dict(type="str"),
            timeout=dict(type="int", default=600),
            force=dict(type="bool", default=False),
            dir_mode=dict(type="raw"),
            members=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    endpoint = p["endpoint"] or p["endpoints"][0]
    client = EtcdClient(module)
    snapshot_dir(module, p["path"], p["dir_mode"])
    try:
        if os.path.exists(p["path"]) and not p["force"]:
            info = inspect(client, p["path"])
            status = info["status"]
            module.exit_json(changed=False, path=p["path"], sidecar=info["sidecar"]["path"], endpoint=endpoint,
                             size=info["size"], sha256=info["sha256"], revision=status["revision"],
                             hash=status["hash"], total_keys=status["total_keys"], keys=None, kv_hash=None,
                             kv_hash_compact_revision=None, etcd_version="",
                             duration=0.0,
                             msg="%s exists; set force to replace it" % p["path"], commands=client.commands)
        if module.check_mode:
            module.exit_json(changed=True, path=p["path"], endpoint=endpoint, commands=client.commands,
                             msg="would save a snapshot from %s" % endpoint)
        result = save(module, client, p["path"], endpoint, p["owner"], p["group"], p["timeout"])
        if p["members"]:
            listed = client.member_list([endpoint])
            result.update(cluster_id=format(listed["cluster_id"], "x"), members=listed["members"])
    except EtcdError as exc:
        module.fail_json(path=p["path"], commands=client.commands, **exc.result())
    module.exit_json(changed=True, commands=client.commands, **result)


if __name__ == "__main__":
    main()
