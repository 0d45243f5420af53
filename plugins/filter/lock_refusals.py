# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a run must stop after taking each member's lock (one run at a time on a cluster)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_lock import lock_refusals

DOCUMENTATION = r"""
name: lock_refusals
short_description: Why a run must stop after taking each member's lock
version_added: 0.1.0
description:
  - Reads the results of M(etcd_ops.etcd.etcd_lock) on each member and returns one message per member whose lock
    another run holds (with the holder and the fix), or where the lock could not be taken though the module ran.
  - An unreachable member, or one where become failed, is left out, for the preflight's read to name.
options:
  _input:
    description: The etcd_lock task's result, by host.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop when another run holds the lock
  ansible.builtin.assert:
    that: refusals | length == 0
    fail_msg: "{{ refusals | join(' ') }}"
  vars:
    refusals: "{{ dict(hosts | zip(hosts | map('extract', hostvars, 'lock'))) | etcd_ops.etcd.lock_refusals }}"
    hosts: "{{ ansible_play_hosts_all }}"
"""

RETURN = r"""
_value:
  description: The messages, in the play's host order; empty when the run may go on.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"lock_refusals": lock_refusals}
