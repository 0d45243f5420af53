# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""disaster_recovery's etcd_snapshot_time: the newest drilled snapshot at or before a time."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_drill import snapshot_at as pick

DOCUMENTATION = r"""
name: snapshot_at
short_description: The newest snapshot whose restore drill passed, taken at or before a time
version_added: 0.4.0
description:
  - Of the snapshots O(_input) names (a store's paths or a bucket's names, oldest first), the newest whose metadata
    says it was taken at or before O(at) (its C(time)) and whose last restore drill passed (C(drill_result)).
  - C(refusal) says why there is none (O(at) is no time; none taken by then; none of those drilled), with the fix.
options:
  _input:
    description: The snapshots to choose from.
    type: list
    elements: str
    required: true
  metas:
    description: Each snapshot's metadata, by the name in O(_input).
    type: dict
    required: true
  at:
    description:
      - An ISO 8601 time, UTC unless it says otherwise (C(2026-12-05T03:00:00Z), C(2026-12-05 03:00),
        C(2026-12-05)).
    type: str
    required: true
  where:
    description: Where the snapshots are, for the refusal's text.
    type: str
    default: the store
"""

EXAMPLES = r"""
- name: The newest drilled snapshot at or before 03:00 UTC
  ansible.builtin.set_fact:
    chosen: "{{ paths | etcd_ops.etcd.snapshot_at(dict(paths | zip(metas)), '2026-12-05T03:00:00Z') }}"
"""

RETURN = r"""
_value:
  description: C(snapshot) (the chosen one, '' for none), C(time) (when it was taken), C(at) (O(at) in UTC) and
    C(refusal).
  type: dict
"""


def snapshot_at(names, metas, at, where="the store"):
    return pick(names, metas, at, where)


class FilterModule:
    def filters(self):
        return {"snapshot_at": snapshot_at}
