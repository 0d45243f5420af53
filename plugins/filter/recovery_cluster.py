# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster disaster_recovery restores, the members its play leaves out, and what it refuses about them."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import restored_cluster

DOCUMENTATION = r"""
name: recovery_cluster
short_description: The cluster a recovery restores, and the members its play leaves out
version_added: 0.1.0
description:
  - From the play's members as their env files name them, the restored cluster's C(ETCD_INITIAL_CLUSTER) (every
    member's peer URLs, in inventory order), the members the env files name that the play leaves out (each with a
    client URL to ask it), and the refusals (a member without an env file, two members with one name or peer URL,
    a member named gone that the play holds), each with its fix.
options:
  _input:
    description:
      - The members in inventory order, each a dict of C(host), C(name), C(peer_urls), C(endpoint), C(env_exists)
        and C(env_initial_cluster) (its env file's C(ETCD_INITIAL_CLUSTER)).
    type: list
    elements: dict
    required: true
  gone:
    description: C(etcd_recovery_gone_members), a list or names separated by commas.
    type: raw
    required: true
  env_file:
    description: The env file's path, for the messages.
    type: str
    default: the env file
"""

EXAMPLES = r"""
- name: Work out the restored cluster
  ansible.builtin.set_fact:
    cluster: "{{ members | etcd_ops.etcd.recovery_cluster(etcd_recovery_gone_members, etcd_env_file) }}"
"""

RETURN = r"""
_value:
  description:
    - C(initial_cluster), C(names), C(outside) (each C(name), C(peer_urls), C(client_url)), C(gone), C(refusals).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"recovery_cluster": restored_cluster}
