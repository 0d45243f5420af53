# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup's plan, made on the controller from what etcd_node_info read on each member."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_plan import backup_plan

DOCUMENTATION = r"""
name: backup_plan
short_description: Which member backup.yml snapshots, and why it refuses
version_added: 0.1.0
description:
  - The decision of C(backup.yml), made in one place from what M(etcd_ops.etcd.etcd_node_info) read on every
    member and the store's free space.
  - C(source) is C(etcd_backup_member) when set, else the first member that answers healthy (a quorum read; a
    raised alarm such as NOSPACE does not stop a snapshot).
  - C(refusals) holds the text of every reason to stop before a change, each with its fix (no healthy member, or
    not the one asked for, with each member's health and the TLS or auth fix its error calls for; no room in the
    store for the source's database).
options:
  _input:
    description:
      - The play's hosts in inventory order, each a dict of C(host), C(unreachable) and C(error) (from the
        M(etcd_ops.etcd.etcd_node_info) task) and C(node) (its result).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - C(member) (etcd_backup_member), C(now) (etcd_backup_now), C(store) (etcd_backup_dir) and C(store_free) (bytes
        free there; null when not measured).
    type: dict
"""

EXAMPLES = r"""
- name: Choose the member to snapshot
  ansible.builtin.set_fact:
    plan: "{{ members | etcd_ops.etcd.backup_plan(dict(member='', now=true, store='/backups', store_free=none)) }}"
"""

RETURN = r"""
_value:
  description:
    - C(source), C(healthy_hosts), C(hosts) (each member's endpoint, healthy, health, name and cluster_name, by
      host), C(cluster_name) (the source's token without a recovery's UTC time), C(alarms), C(alarm_fix),
      C(db_size) and C(refusals).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"backup_plan": backup_plan}
