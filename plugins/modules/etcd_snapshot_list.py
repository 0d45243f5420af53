#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot_list
short_description: List the snapshots the backup role keeps in a directory, with their metadata
version_added: 0.4.0
description:
  - Lists the snapshots in a directory on the target - the controller's store (C(etcd_backup_dir), with
    C(delegate_to=localhost)) or a member's scheduled-snapshot directory (C(etcd_backup_schedule_dir)) - by the
    names the backup role gives them (C(<cluster>-<UTC time>-r<revision>.db)), oldest first.
  - For each, its size, its modification time, whether its C(NAME.sha256) sidecar is there, and its metadata
    (C(NAME.json), parsed; the cluster, revision, keys, KV hash and the last restore drill).
  - Reads the directory only; it reads no snapshot's contents and needs no etcd. A directory that does not exist
    is no error (RV(exists=false)).
  - Hidden files (a backup's half-written snapshot) and files not named as the backup role names them are left out.
options:
  path:
    description: The directory.
    type: path
    required: true
attributes:
  check_mode:
    description: Reads only; the same in check mode.
    support: full
  diff_mode:
    description: No diff.
    support: none
seealso:
  - module: etcd_ops.etcd.etcd_snapshot_info
    description: Checks one snapshot's contents (sha256, etcd's trailer, its status).
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: List the member's scheduled snapshots
  etcd_ops.etcd.etcd_snapshot_list:
    path: /var/backups/etcd-ops
  register: scheduled

- name: List the controller's store
  etcd_ops.etcd.etcd_snapshot_list:
    path: "{{ playbook_dir }}/etcd-backups"
  delegate_to: localhost
  become: false
"""

RETURN = r"""
exists:
  description: Whether the directory exists.
  type: bool
  returned: always
path:
  description: The directory.
  type: str
  returned: always
snapshots:
  description: The snapshots, oldest first by the UTC time in their names.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The file name.
      type: str
      sample: etcd-cluster-20261205T061500Z-r1234.db
    path:
      description: The file's path.
      type: str
    size:
      description: Its size in bytes.
      type: int
    mtime:
      description: Its modification time, seconds since the epoch.
      type: int
    sidecar:
      description: Whether its C(NAME.sha256) sidecar is there.
      type: bool
    metadata:
      description: Its C(NAME.json), parsed; empty when there is none or it is no JSON object.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_list import read_dir


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type="path", required=True)), supports_check_mode=True)
    path = module.params["path"]
    try:
        found = read_dir(path)
    except OSError as exc:
        module.fail_json(msg="Cannot list %s: %s." % (path, exc.strerror or exc), path=path,
                         hint="Check that the directory can be read by the user the task runs as (become).")
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
