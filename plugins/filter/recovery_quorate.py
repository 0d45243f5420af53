# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a recovery stops when the cluster still has quorum, from a read of the live cluster."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import quorum_refusal

DOCUMENTATION = r"""
name: recovery_quorate
short_description: Why a recovery stops when the cluster still has quorum
version_added: 0.1.0
description:
  - The refusal's text for a cluster that still has quorum (the plan's state C(refuse)), from
    M(etcd_ops.etcd.etcd_member_info) at a healthy member. How many voting members serve, the leader, each member
    (healthy, serving under an alarm, or down); the alarm raised and its fix; and the fix (replace_member.yml).
options:
  _input:
    description: What M(etcd_ops.etcd.etcd_member_info) returned at a healthy member.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop when the cluster has quorum
  ansible.builtin.fail:
    msg: "{{ live | etcd_ops.etcd.recovery_quorate }}"
  when: plan.state == 'refuse'
"""

RETURN = r"""
_value:
  description: The text, several lines.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"recovery_quorate": quorum_refusal}
