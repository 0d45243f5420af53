# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a running member must restart for a new env file (not for the bootstrap-only settings alone)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import restart_needed

DOCUMENTATION = r"""
name: restart_needed
short_description: Whether a running member must restart for its new env file
version_added: 0.1.0
description:
  - Compares a member's env file before and after deploy wrote it (both parsed, as by
    P(etcd_ops.etcd.env_file#filter)).
  - True when a setting other than C(ETCD_INITIAL_CLUSTER), C(ETCD_INITIAL_CLUSTER_STATE) and
    C(ETCD_INITIAL_CLUSTER_TOKEN) was added, removed or changed; etcd reads those three only when it initialises an
    empty data dir, so a change to them alone needs no restart.
options:
  _input:
    description: The env file before, parsed.
    type: dict
    required: true
  new:
    description: The env file deploy wrote, parsed.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Restart only for a setting etcd reads at every start
  ansible.builtin.debug:
    msg: "{{ old_env | etcd_ops.etcd.restart_needed(new_env) }}"
"""

RETURN = r"""
_value:
  description: Whether the member must restart.
  type: bool
"""


class FilterModule:
    def filters(self):
        return {"restart_needed": restart_needed}
