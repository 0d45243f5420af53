# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention of one cluster's snapshots: the same rule for the store, the bucket and the members' job."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import retention

DOCUMENTATION = r"""
name: snapshots_beyond
short_description: The snapshots that retention removes, beyond the newest ones kept
version_added: 0.1.0
description:
  - Takes one cluster's snapshot names or paths (C(<cluster>-<UTC stamp>-r<revision>.db)), orders them newest first
    by the UTC stamp in their names, and returns those beyond the newest O(keep).
  - O(keep=0) keeps every snapshot (nothing is returned), as in the bucket and the members' scheduled job.
  - A name in O(protect) (the snapshot just taken) is never returned.
options:
  _input:
    description: Snapshot names or paths of one cluster.
    type: list
    elements: str
    required: true
  keep:
    description: How many of the newest to keep; 0 keeps every one. A negative number fails.
    type: int
    required: true
  protect:
    description: Names (or paths; their file names are compared) that are never returned.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The snapshots beyond the newest 14, never the one just taken
  ansible.builtin.debug:
    msg: "{{ stored_paths | etcd_ops.etcd.snapshots_beyond(14, [just_taken]) }}"
"""

RETURN = r"""
_value:
  description: The names or paths to remove, newest first; empty when O(keep) is 0 or nothing is beyond it.
  type: list
  elements: str
"""


def snapshots_beyond(names, keep, protect=None):
    try:
        return retention(list(names or []), int(keep), protect or [])[1]
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            "snapshots_beyond: %s. Fix: set etcd_backup_keep / etcd_backup_s3_keep / etcd_backup_schedule_keep to 0 "
            "(keep every snapshot) or a positive number." % exc) from exc


class FilterModule:
    def filters(self):
        return {"snapshots_beyond": snapshots_beyond}
