# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify_backup's plan, made on the controller from what etcd_node_info read on each member and the store."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_drill import drill_plan as plan

DOCUMENTATION = r"""
name: drill_plan
short_description: Which snapshot verify_backup.yml drills, on which member, as which user, and why it refuses
version_added: 0.4.0
description:
  - The decision of C(verify_backup.yml), made in one place from what M(etcd_ops.etcd.etcd_node_info) read on every
    member and the snapshots in the store.
  - C(member) is C(etcd_verify_member) when set, else the first member that answers healthy, else the first one
    read (a drill needs the member's etcd binary, not its cluster). C(user) is C(etcd_verify_user) when set, else
    the user the member's unit runs etcd as.
  - C(snapshot) is C(etcd_snapshot) when set (of any cluster; C(cluster) says whose), else the newest snapshot in
    the store whose metadata names this cluster's members.
  - C(refusals) holds the text of every reason to stop before a change, each with its fix.
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
      - C(member), C(user), C(snapshot), C(snapshot_meta) (its metadata), C(store), C(stored) (the store's C(*.db)
        paths) and C(metas) (their metadata, in the same order).
    type: dict
"""

EXAMPLES = r"""
- name: Choose the snapshot and the member
  ansible.builtin.set_fact:
    plan: "{{ members | etcd_ops.etcd.drill_plan(dict(member='', user='', snapshot='', store='/backups', stored=paths,
                                                      metas=query('etcd_ops.etcd.snapshot_meta', paths))) }}"
"""

RETURN = r"""
_value:
  description:
    - C(member), C(user), C(snapshot) (its path on the controller), C(meta) (its metadata), C(cluster) (C(match) -
      same, other or unknown - and C(reason)), C(hosts) (each member's health) and C(refusals).
  type: dict
"""


def drill_plan(members, settings=None):
    try:
        return plan(members, settings)
    except ValueError as exc:
        raise AnsibleFilterError("drill_plan: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"drill_plan": drill_plan}
