# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshots of one cluster among a store's: what its retention may count and prune."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import snapshot_cluster

DOCUMENTATION = r"""
name: snapshots_of_cluster
short_description: The snapshots of one cluster among a store's
version_added: 0.1.0
description:
  - Keeps the snapshot paths whose metadata (from the P(etcd_ops.etcd.snapshot_meta#lookup) lookup, in the same
    order) is of the cluster whose members are O(names) with O(peer_urls) (see
    P(etcd_ops.etcd.snapshot_cluster#filter)). A snapshot without metadata, or of another cluster, is left out.
options:
  _input:
    description: Snapshot paths.
    type: list
    elements: str
    required: true
  metas:
    description: Each path's metadata, in the same order.
    type: list
    elements: dict
    required: true
  names:
    description: The cluster's member names.
    type: list
    elements: str
    required: true
  peer_urls:
    description: Each member's peer URLs, in the order of O(names).
    type: list
    elements: list
    required: true
  cluster_id:
    description:
      - A cluster ID (hex, as the metadata records it, C(etcd_recovery_snapshot_cluster)). Given, the snapshots of
        that cluster are kept instead, whatever their members (a recovery onto new machines names its cluster so).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: This cluster's snapshots
  ansible.builtin.debug:
    msg: >-
      {{ paths | etcd_ops.etcd.snapshots_of_cluster(query('etcd_ops.etcd.snapshot_meta', paths), ['node1'],
                                                    [['http://10.0.0.1:2380']]) }}
"""

RETURN = r"""
_value:
  description: The paths of this cluster's snapshots, in their order.
  type: list
  elements: str
"""


def snapshots_of_cluster(paths, metas, names, peer_urls, cluster_id=""):
    paths, metas, names, peer_urls = list(paths or []), list(metas or []), list(names or []), list(peer_urls or [])
    if len(paths) != len(metas) or len(names) != len(peer_urls):
        raise AnsibleFilterError("snapshots_of_cluster: %d paths but %d metadata, %d names but %d lists of peer URLs"
                                 % (len(paths), len(metas), len(names), len(peer_urls)))
    if cluster_id:
        return [path for path, meta in zip(paths, metas, strict=True) if (meta or {}).get("cluster_id") == cluster_id]
    members = list(zip(names, peer_urls, strict=True))
    return [path for path, meta in zip(paths, metas, strict=True)
            if snapshot_cluster(dict(meta or {}), members)["match"] == "same"]


class FilterModule:
    def filters(self):
        return {"snapshots_of_cluster": snapshots_of_cluster}
