# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why rebuilding only the play's members would split the cluster, from what the members outside answered."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import outside_refusal

DOCUMENTATION = r"""
name: recovery_outside
short_description: Why a recovery of only the play's members would split the cluster
version_added: 0.1.0
description:
  - The refusal's text, with its fix, when the env files name members outside the play that are not named gone,
    or that answer (a status, or an error of etcd's own); an empty string when the recovery may go on.
options:
  _input:
    description: The result of P(etcd_ops.etcd.recovery_cluster#filter).
    type: dict
    required: true
  endpoints:
    description: The C(endpoints) that M(etcd_ops.etcd.etcd_member_info) returned for the members outside.
    type: list
    elements: dict
    required: true
  env_file:
    description: The env file's path, for the message.
    type: str
    default: the env file
"""

EXAMPLES = r"""
- name: Stop when the play leaves out members of the cluster
  ansible.builtin.assert:
    that: __why | length == 0
    fail_msg: "{{ __why }}"
  vars:
    __why: "{{ cluster | etcd_ops.etcd.recovery_outside(probe.endpoints | default([]), etcd_env_file) }}"
"""

RETURN = r"""
_value:
  description: The refusal's text; empty when there is nothing to refuse.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"recovery_outside": outside_refusal}
