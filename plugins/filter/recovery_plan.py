# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""disaster_recovery's plan, made on the controller from what etcd_node_info read on each member."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import recovery_plan

DOCUMENTATION = r"""
name: recovery_plan
short_description: Whether to rebuild, resume or refuse, the token and bump, and each member's part
version_added: 0.1.0
description:
  - The decision of C(disaster_recovery.yml), made in one place from what M(etcd_ops.etcd.etcd_node_info) read on
    every member and the snapshot the play restores.
  - C(state) is V(recover) (rebuild from the snapshot), V(refuse) (a member answers with quorum or a leader, an
    alarm such as NOSPACE included, so not a disaster), V(complete) (an interrupted run switched every member and the
    cluster came up, to start and verify) or V(done) (this cluster was rebuilt from this snapshot and verified).
  - C(refusals) holds the text of every other reason to stop before a change, each with its fix (a member without
    the etcd tools; when rebuilding, etcd running but silent, a data dir that is a mount point, too little space).
options:
  _input:
    description:
      - The members, in inventory order, each a dict of C(host), C(name), C(peer_urls), C(data_dir), C(endpoint),
        C(token) (from its env file) and C(node) (the result of M(etcd_ops.etcd.etcd_node_info)).
    type: list
    elements: dict
    required: true
  snapshot:
    description: The snapshot, as C(dict(sha256, size)).
    type: dict
    required: true
  settings:
    description:
      - C(initial_cluster), C(force), C(new_token), C(stamp), C(bump), C(bump_by), C(service_user) and C(env_file).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Work out what to do
  ansible.builtin.set_fact:
    plan: "{{ members | etcd_ops.etcd.recovery_plan(snapshot, settings) }}"
"""

RETURN = r"""
_value:
  description:
    - C(state), C(token), C(resumed), C(bump), C(earlier), C(healthy_hosts), C(members) (by host) and C(refusals).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"recovery_plan": recovery_plan}
