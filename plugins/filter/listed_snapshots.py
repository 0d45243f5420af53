# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshots in a store's or a bucket's listing, by the names the backup role gives them, oldest first."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import listed_snapshots

DOCUMENTATION = r"""
name: listed_snapshots
short_description: The snapshots in a store's or a bucket's listing, oldest first
version_added: 0.1.0
description:
  - Picks the snapshots out of a listing by the names C(backup.yml) gives them
    (C(<cluster>-<UTC time>-r<revision>.db), in a bucket also with C(.zst), C(.age) or C(.zst.age)), each once,
    oldest first by the UTC time in the name. The one place, beside the backup job on the members, that knows
    those names (C(plugins/module_utils/etcd_backup_store.py)).
options:
  _input:
    description: A bucket's keys, or with O(paths) a store's file paths.
    type: list
    elements: str
    required: true
  cluster:
    description: Only this cluster's snapshots; empty for every cluster's.
    type: str
    default: ""
  prefix:
    description:
      - The bucket's prefix (ending in C(/) unless empty); keys not under it, or in a folder below it, are left out.
    type: str
    default: ""
  paths:
    description: The entries are file paths; their file names are matched and the paths kept.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The store's snapshots, oldest first
  ansible.builtin.debug:
    msg: "{{ (found.files | map(attribute='path') | etcd_ops.etcd.listed_snapshots(paths=true)).names }}"
"""

RETURN = r"""
_value:
  description:
    - C(names), the snapshots oldest first (C(NAME.db), or a store's paths); C(objects), each name's entry as listed
      (its bucket key without the prefix, C(NAME.db.zst) when the backup compressed it); C(finished), the names
      whose C(.sha256) sidecar is listed too (a bucket's upload finished), oldest first.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"listed_snapshots": listed_snapshots}
