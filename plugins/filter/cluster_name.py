# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster's name in the store's file names and the PKI dir: its token, without a recovery's UTC time."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import cluster_name

DOCUMENTATION = r"""
name: cluster_name
short_description: A cluster's name in file and dir names, from its token
version_added: 0.1.0
description:
  - The token (C(ETCD_INITIAL_CLUSTER_TOKEN)) without the C(-YYYYmmddTHHMMSSZ) that disaster_recovery.yml appends
    to it, so a cluster keeps its name across recoveries; any character but letters, digits, C(_), C(.) and C(-)
    becomes C(_).
options:
  _input:
    description: The cluster's token.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The store's name for this cluster
  ansible.builtin.debug:
    msg: "{{ 'etcd-cluster-20261203T112835Z' | etcd_ops.etcd.cluster_name }}"  # etcd-cluster
"""

RETURN = r"""
_value:
  description: The name.
  type: str
"""


def cluster_name_filter(token):
    return cluster_name(token if isinstance(token, str) else "")


class FilterModule:
    def filters(self):
        return {"cluster_name": cluster_name_filter}
