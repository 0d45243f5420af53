# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""replace_member's plan, made on the controller from what etcd_node_info read on each member and the cluster."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_replace import replace_plan

DOCUMENTATION = r"""
name: replace_plan
short_description: Which member makes the changes, whether to replace, resume or leave a member, and each step
version_added: 0.1.0
description:
  - The decision of C(replace_member.yml), made in one place from what M(etcd_ops.etcd.etcd_node_info) read on
    every member and, once a healthy member (C(helper)) was found, the cluster as M(etcd_ops.etcd.etcd_member_info)
    read it there.
  - C(state) is V(healthy) (started, voting and answering, so nothing to do), V(resume) (an earlier run added it,
    it runs as a learner, to start and promote) or V(replace); it is empty before the cluster is given.
  - C(refusals) holds the text of every reason to stop before a change, each with its fix (no other healthy
    member, a replace that costs quorum, no env file, a node that answers as a member of another cluster, a data dir
    that is a mount point holding data, a node that could not be read).
options:
  _input:
    description:
      - The play's hosts in inventory order, each a dict of C(host), C(unreachable) and C(error) (from the
        M(etcd_ops.etcd.etcd_node_info) task), C(inventory) (C(name), C(peer_urls), C(data_dir) and C(address_given),
        the inventory's view, used where the env file is silent or was not read) and C(node) (the module's result).
    type: list
    elements: dict
    required: true
  node:
    description: The host to replace.
    type: str
    required: true
  cluster:
    description: The result of M(etcd_ops.etcd.etcd_member_info) through C(helper); omit or null before it was read.
    type: dict
  settings:
    description: C(force), C(learner), C(stamp) (the UTC time that names the moved data dir) and C(env_file).
    type: dict
"""

EXAMPLES = r"""
- name: Choose the member that makes the changes
  ansible.builtin.set_fact:
    first: "{{ members | etcd_ops.etcd.replace_plan(node) }}"

- name: Work out what to do
  ansible.builtin.set_fact:
    plan: "{{ members | etcd_ops.etcd.replace_plan(node, cluster, settings) }}"
"""

RETURN = r"""
_value:
  description:
    - C(helper), C(hosts) (each member's name, endpoint, data_dir, peer_urls, reachable, healthy and health, by
      host), C(state), C(target) (the member's name), C(peer_urls) (to add it with), C(endpoint), C(entry) (its
      current entry in the member list, {} for none), C(reachable), C(steps) and C(refusals).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"replace_plan": replace_plan}
