# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""list_backups.yml's catalog: one row per snapshot of the store, the bucket and the members, newest first."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_list import catalog, member_place, table

DOCUMENTATION = r"""
name: backup_catalog
short_description: What can be restored - one row per snapshot of the store, the bucket and the members
version_added: 0.4.0
description:
  - Merges what was listed in each place (M(etcd_ops.etcd.etcd_snapshot_list) in the store and on the members,
    the bucket's listing and metadata) into one row per snapshot, newest first, found by its name.
  - Each row has the snapshot's time, revision, keys, size, cluster (C(this), C(other), C(unknown)), its last
    restore drill (C(passed), C(failed), C(never), the copies' latest) and where its copies are.
  - C(lines) is the table C(list_backups.yml) prints.
options:
  _input:
    description:
      - The places, each a dict with C(kind) (C(store), C(s3), C(member)), C(host), C(location), C(error) (why it
        was not read, '' when it was), C(missing) (no such directory) and C(snapshots) (each with C(name),
        C(metadata), and C(size) or C(object)).
    type: list
    elements: dict
    required: true
  play:
    description: This cluster's members, each a list C([name, [peer URLs]]), as their env files say.
    type: list
    elements: list
    default: []
  members:
    description:
      - The members' places, after O(_input)'s, each a dict with C(host), C(location) (the scheduled-snapshot dir),
        C(node) (what M(etcd_ops.etcd.etcd_node_info) registered there, unreachable or not) and C(listed) (what
        M(etcd_ops.etcd.etcd_snapshot_list) registered there). Why one was not read, and the fix, is made from them.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: The catalog
  ansible.builtin.set_fact:
    listed: "{{ places | etcd_ops.etcd.backup_catalog([['node1', ['http://10.0.0.11:2380']]]) }}"
"""

RETURN = r"""
_value:
  description:
    - C(rows) (newest first), C(places) (each place's count, or why it was not read), C(snapshots),
      C(this_cluster), C(drilled) (counts), C(unread) (the places not read) and C(lines) (the table).
  type: dict
"""


def backup_catalog(places, play=None, members=None):
    try:
        members = [member_place(m["host"], m.get("location") or "", m.get("node"), m.get("listed"))
                   for m in members or []]
        out = catalog(list(places or []) + members, [(p[0], p[1]) for p in (play or [])])
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise AnsibleFilterError("backup_catalog: %s" % exc) from exc
    out["lines"] = table(out)
    return out


class FilterModule:
    def filters(self):
        return {"backup_catalog": backup_catalog}
