# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A snapshot's metadata with a drill recorded in it: its own fields, the drill's replaced."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_drill import merge

DOCUMENTATION = r"""
name: drill_merged
short_description: A snapshot's metadata with a restore drill recorded in it
version_added: 0.4.0
description:
  - The metadata O(_input) (a snapshot's C(.json), such as the bucket's copy) with the drill fields of O(drilled)
    (C(verified_at), C(drill_result), C(drilled_at), C(drill_seconds), C(drill)) in place of its own, and every
    other field as it was. A drill that failed leaves no C(verified_at).
  - The same rule as M(etcd_ops.etcd.etcd_store) O(etcd_ops.etcd.etcd_store#module:state=drilled) and
    M(etcd_ops.etcd.etcd_snapshot_drill) O(etcd_ops.etcd.etcd_snapshot_drill#module:record=true).
options:
  _input:
    description: The metadata to record the drill in.
    type: dict
    required: true
  drilled:
    description:
      - Metadata with the drill recorded (the RV(etcd_ops.etcd.etcd_snapshot_drill#module:metadata) of
        M(etcd_ops.etcd.etcd_snapshot_drill)); only its drill fields are taken.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The bucket's metadata with the drill recorded
  ansible.builtin.set_fact:
    recorded: "{{ bucket_meta | etcd_ops.etcd.drill_merged(drill.metadata) }}"
"""

RETURN = r"""
_value:
  description: The metadata with the drill recorded.
  type: dict
"""


def drill_merged(current, drilled):
    if not isinstance(current, dict) or not isinstance(drilled, dict):
        raise AnsibleFilterError("drill_merged: the metadata and the drill must be dicts, not %s and %s"
                                 % (type(current).__name__, type(drilled).__name__))
    return merge(current, drilled)


class FilterModule:
    def filters(self):
        return {"drill_merged": drill_merged}
