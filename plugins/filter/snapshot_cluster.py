# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a snapshot is of the cluster a recovery restores, from its metadata and the members' env files."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import snapshot_cluster

DOCUMENTATION = r"""
name: snapshot_cluster
short_description: Whether a snapshot is of the cluster a recovery restores
version_added: 0.1.0
description:
  - Compares the members a snapshot's metadata records (C(member_peer_urls), else only C(members)) with the play's
    members. V(same) when a member has the same name and a peer URL in common (in older snapshots, which record
    names only, the same name); V(other) when none does; V(unknown) without metadata.
options:
  _input:
    description: The snapshot's metadata (its C(.json)), or an empty dict.
    type: dict
    required: true
  names:
    description: The play members' names (C(ETCD_NAME)).
    type: list
    elements: str
    required: true
  peer_urls:
    description: Each play member's peer URLs, in the order of O(names).
    type: list
    elements: list
    required: true
"""

EXAMPLES = r"""
- name: Is it ours?
  ansible.builtin.debug:
    msg: "{{ meta | etcd_ops.etcd.snapshot_cluster(['node1'], [['http://10.0.0.1:2380']]) }}"
"""

RETURN = r"""
_value:
  description: C(match) (V(same), V(other), V(unknown)) and C(reason), the members on both sides when they differ.
  type: dict
"""


def snapshot_cluster_filter(meta, names, peer_urls):
    names, peer_urls = list(names or []), list(peer_urls or [])
    if len(names) != len(peer_urls):
        raise AnsibleFilterError("snapshot_cluster: %d names but %d lists of peer URLs" % (len(names), len(peer_urls)))
    return snapshot_cluster(dict(meta or {}), list(zip(names, peer_urls, strict=True)))


class FilterModule:
    def filters(self):
        return {"snapshot_cluster": snapshot_cluster_filter}
