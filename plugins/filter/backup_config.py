# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recovery bundle of one backup, from what etcd_node_info read on each member."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_config import bundle

DOCUMENTATION = r"""
name: backup_config
short_description: The recovery bundle of one backup - what a rebuild needs beside the snapshot
version_added: 0.5.0
description:
  - Each member's env file (its text and mode), the systemd unit's file and drop-ins, and the certificates the env
    file names (the CA's among them), from M(etcd_ops.etcd.etcd_node_info) with C(config=true). The keys the env
    files name are listed by path only; no private key is ever in the bundle.
  - A member that was not read (unreachable, a failed read, no env file) is named under C(missing) with why; what
    of a member could not be read (a unit file, a certificate) under C(problems).
  - M(etcd_ops.etcd.etcd_store) writes it as C(NAME.config.json) beside the snapshot.
options:
  _input:
    description: Host - the registered result of M(etcd_ops.etcd.etcd_node_info) there (C(config=true)), in
      inventory order.
    type: dict
    required: true
  cluster:
    description: The cluster's name in the store (its token).
    type: str
    required: true
  snapshot:
    description: The snapshot's file name in the store.
    type: str
    required: true
  env_file:
    description: The env file's path on the members (C(etcd_env_file)).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Work out the recovery bundle
  ansible.builtin.set_fact:
    bundle: "{{ seen_by_host | etcd_ops.etcd.backup_config('etcd-cluster', 'etcd-cluster-20261205T101010Z-r42.db') }}"
"""

RETURN = r"""
_value:
  description: C(format), C(cluster), C(snapshot), C(members) (name - C(host), C(env_file), C(env_mode), C(env),
    C(unit_files), C(certificates), C(keys)), C(missing), C(problems), C(keys_saved) (always false).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"backup_config": bundle}
