# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a member came back from a rolling restart as it was: same cluster, same member, no less data."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import restart_kept

DOCUMENTATION = r"""
name: restart_kept
short_description: Whether a restarted member came back as it was
version_added: 0.1.0
description:
  - Compares a member's C(endpoint status) (the C(status) of an endpoint of
    M(etcd_ops.etcd.etcd_member_info)) read just before a rolling restart with the one read once it served again.
  - It must answer in the same cluster, as the same member, with at least the revision it had; else the roll
    stops before the next member restarts.
  - A member that did not answer before the restart is judged by its answer after it only.
options:
  _input:
    description: The status before the restart (empty when the member did not answer).
    type: dict
    required: true
  after:
    description: The status once the member served again.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop the roll when the member came back as another cluster or with less data
  ansible.builtin.assert:
    that: (before.endpoints[0].status | etcd_ops.etcd.restart_kept(after.endpoints[0].status)).ok
"""

RETURN = r"""
_value:
  description: C(ok) (true when it came back as it was) and C(reason) (why not, or why it was not compared).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"restart_kept": restart_kept}
