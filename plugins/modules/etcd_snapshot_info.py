#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot_info
short_description: Check an etcd snapshot file without changing anything
version_added: 0.1.0
description:
  - Reads a snapshot file on the target, in one streaming pass (memory flat in its size) - its size, its
    sha256, and the sha256 trailer C(etcdctl snapshot save) appended, which is the check C(snapshot restore)
    makes and the only one that catches a corrupted or truncated file (C(snapshot status) does not).
  - Compares the sha256 with the C(<path>.sha256) sidecar (sha256sum format) when there is one.
  - Reads the snapshot's status (revision, hash, keys, size) with the tool the installed etcd version needs
    (etcdctl on 3.4, etcdutl where installed on 3.5, etcdutl only on 3.6).
  - With O(deep=true), proves the file by restoring it into a temporary directory, removed afterwards.
  - Fails with a message that says what is wrong when the file is missing, empty, truncated, corrupted,
    or does not match its sidecar.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
  - etcd_ops.etcd.attributes.info_module
options:
  path:
    description: The snapshot file on the target.
    type: path
    required: true
  deep:
    description:
      - Also restore the snapshot into a temporary directory (needs free space about the snapshot's size).
    type: bool
    default: false
  deep_dir:
    description: Directory for the trial restore of O(deep); default the snapshot's own directory.
    type: path
  skip_hash_check:
    description:
      - Accept a file without etcd's sha256 trailer, such as a copy of a member's C(member/snap/db).
        Such a file is not checked for corruption, and may lack writes that were only in the WAL.
    type: bool
    default: false
  require_sidecar:
    description: Fail when there is no C(<path>.sha256) sidecar.
    type: bool
    default: false
  read_status:
    description:
      - Read the snapshot's status with the etcd tool. V(false) checks only what needs no etcd tool (size, sha256,
        sidecar, trailer), for a file on a controller that has no etcd installed.
    type: bool
    default: true
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Check a snapshot before using it
  etcd_ops.etcd.etcd_snapshot_info:
    path: /var/backups/etcd/etcd-cluster-20261125T031500Z-r1234.db
    deep: true
  register: snap

- name: Show it
  ansible.builtin.debug:
    msg: "revision {{ snap.status.revision }}, {{ snap.status.total_keys }} keys, sha256 {{ snap.sha256 }}"
"""

RETURN = r"""
path:
  description: The snapshot file.
  returned: always
  type: str
size:
  description: Its size in bytes.
  returned: success
  type: int
sha256:
  description: The sha256 of the whole file (what the sidecar holds).
  returned: success
  type: str
meta:
  description:
    - The metadata C(backup.yml) wrote beside the snapshot (C(<path>.json) - its cluster ID and token, members and
      their peer URLs, revision, key count); {} when there is none or it is not a JSON object.
  returned: success
  type: dict
sidecar:
  description: C(path) of the sidecar, whether it C(exists), the C(sha256) it holds, and whether it C(matches).
  returned: success
  type: dict
  sample: {path: /backups/s.db.sha256, exists: true, sha256: 9f86d081884c7d65..., matches: true}
trailer:
  description: Whether the file has etcd's sha256 trailer (C(present)) and whether it is right (C(valid)).
  returned: success
  type: dict
  sample: {present: true, valid: true}
status:
  description:
    - The snapshot's status - C(revision), C(hash) (crc32c), C(total_keys), C(total_size),
      C(storage_version) (3.6).
  returned: success
  type: dict
  sample: {revision: 1234, hash: 3265418383, total_keys: 1029, total_size: 2109440, storage_version: ""}
deep:
  description: With O(deep), whether the trial restore succeeded and with which tool.
  returned: success
  type: dict
  sample: {restored: true, tool: etcdutl}
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
commands:
  description: The commands the module ran.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import inspect


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            path=dict(type="path", required=True),
            deep=dict(type="bool", default=False),
            deep_dir=dict(type="path"),
            skip_hash_check=dict(type="bool", default=False),
            require_sidecar=dict(type="bool", default=False),
            read_status=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    client = EtcdClient(module)
    try:
        info = inspect(client, p["path"], p["deep"], p["deep_dir"], p["skip_hash_check"], p["require_sidecar"],
                       p["read_status"])
    except EtcdError as exc:
        module.fail_json(path=p["path"], commands=client.commands, **exc.result())
    module.exit_json(changed=False, commands=client.commands, **info)


if __name__ == "__main__":
    main()
