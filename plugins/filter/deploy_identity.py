# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy on a member that already holds data: its env file's name, data dir, WAL dir and token are the truth."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import deploy_identity

DOCUMENTATION = r"""
name: deploy_identity
short_description: The name, data dir, WAL dir and token deploy writes for a member, and what it refuses
version_added: 0.1.0
description:
  - A member that runs, or whose data dir (the env file's C(ETCD_DATA_DIR)) holds an initialised member dir, keeps
    the C(ETCD_NAME), C(ETCD_DATA_DIR), C(ETCD_WAL_DIR) and C(ETCD_INITIAL_CLUSTER_TOKEN) of its env file; an
    inventory value that differs from one of them is returned as a refusal.
  - Any other member gets the inventory's values, else the role's defaults.
options:
  _input:
    description: The member's env file, parsed (empty when absent).
    type: dict
    required: true
  holds_data:
    description: Whether the member's data dir holds an initialised member dir.
    type: bool
    required: true
  running:
    description: Whether etcd.service is active on the member.
    type: bool
    required: true
  given:
    description: The settings (C(name), C(data_dir), C(token)) the inventory or extra vars set; absent or null
      when left to the role's default.
    type: dict
    required: true
  defaults:
    description: The role's value of each setting.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: What this member keeps
  ansible.builtin.set_fact:
    identity: >-
      {{ env | etcd_ops.etcd.deploy_identity(true, true, {}, {'name': 'node1', 'data_dir': '/data/etcd.data'}) }}
"""

RETURN = r"""
_value:
  description: C(name), C(data_dir), C(wal_dir), C(token), C(keep) (the env file's settings are kept) and
    C(refusals), each a list of setting, variable, the inventory's value and the env file's.
  type: dict
"""


def deploy_identity_filter(env, holds_data, running, given, defaults):
    return deploy_identity(dict(env or {}), bool(holds_data), bool(running), dict(given or {}), dict(defaults or {}))


class FilterModule:
    def filters(self):
        return {"deploy_identity": deploy_identity_filter}
