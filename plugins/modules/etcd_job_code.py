#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_job_code
short_description: Install the members' scheduled job's code (this collection's module_utils) as one zip file
version_added: 0.5.0
description:
  - Puts the module_utils files named in O(modules), from this collection on the controller, into one zip file under
    their import path (C(ansible_collections/etcd_ops/etcd/plugins/module_utils/)), and copies it to O(dest) on the
    member where the member's copy differs. The job (C(etcd-ops-backup.py) of the backup role's
    C(etcd_backup_schedule)) puts O(dest) on its C(sys.path), and Python imports from the zip as it is.
  - One file to compare and copy per member instead of one per module. The zip's bytes depend on the code alone
    (sorted entries, one fixed time), so a second run with the same collection changes nothing.
  - The comparison and the copy are M(ansible.builtin.copy)'s, with its check mode and its result.
options:
  dest:
    description: The zip file's path on the member.
    type: path
    required: true
  modules:
    description: The file names of the module_utils the job imports (all it imports, directly or not).
    type: list
    elements: str
    required: true
  owner:
    description: The file's owner.
    type: str
    default: root
  group:
    description: The file's group.
    type: str
    default: root
  mode:
    description: The file's mode.
    type: raw
    default: "0644"
attributes:
  action:
    description: Builds the zip on the controller, then runs M(ansible.builtin.copy).
    support: full
  check_mode:
    description: As M(ansible.builtin.copy) - writes nothing and says whether it would.
    support: full
  diff_mode:
    description: As M(ansible.builtin.copy) for a binary file.
    support: partial
seealso:
  - module: ansible.builtin.copy
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Install the job's code
  etcd_ops.etcd.etcd_job_code:
    dest: /usr/local/lib/etcd-ops/etcd-ops-job.zip
    modules: [etcd_client.py, etcd_version.py, etcd_backup_store.py]
"""

RETURN = r"""
dest:
  description: O(dest).
  returned: success
  type: str
checksum:
  description: The zip's sha1, as M(ansible.builtin.copy) returns it.
  returned: success
  type: str
modules:
  description: The module files in the zip, sorted.
  returned: success
  type: list
  elements: str
"""
