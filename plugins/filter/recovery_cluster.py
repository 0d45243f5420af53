# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster disaster_recovery restores, from one read of each member, and what it refuses about them."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_new_hosts import fresh_hosts
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import play_members, restored_cluster

DOCUMENTATION = r"""
name: recovery_cluster
short_description: The cluster a recovery restores, the members its play leaves out, and what stops it
version_added: 0.1.0
description:
  - From one read of each member of the play (M(etcd_ops.etcd.etcd_node_info)), each member as its env file names
    it (the inventory's name and peer URL where the file is silent); the restored cluster's C(ETCD_INITIAL_CLUSTER)
    (every member's peer URLs, in inventory order); the members the env files name that the play leaves out (each
    with a client URL to ask it).
  - The refusals, each with its fix, in the order a run meets them. A play that leaves out members of group etcd;
    members unreachable over SSH, then members that could not be read (while one of these refuses, nothing else is
    looked at). A member without an env file (unless C(new_hosts)), two members with one name or peer URL, a
    member named gone that the play holds. An https peer URL whose certificate cannot be read, has expired or does
    not name it (the controller parses the certificates with C(cryptography)).
options:
  _input:
    description:
      - The members of the play in inventory order, each a dict of C(host), C(node) (what
        M(etcd_ops.etcd.etcd_node_info) registered there, an unreachable or failed result too), C(name) and
        C(peer_url) (the inventory's, for an env file without C(ETCD_NAME) or C(ETCD_INITIAL_ADVERTISE_PEER_URLS)).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - C(group) (group etcd's hosts), C(play) (the play's hosts), C(gone) (C(etcd_recovery_gone_members), a list or
        names separated by commas), C(env_file) (for the messages), C(new_hosts) (C(etcd_recovery_new_hosts), so a
        member without an env file is a new machine, not refused).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Work out the restored cluster
  ansible.builtin.set_fact:
    cluster: >-
      {{ seen | etcd_ops.etcd.recovery_cluster({'group': groups['etcd'], 'play': ansible_play_hosts_all,
                                                'gone': etcd_recovery_gone_members, 'env_file': etcd_env_file}) }}
"""

RETURN = r"""
_value:
  description:
    - C(members) (each C(host), C(name), C(peer_urls), C(endpoint), C(token), C(data_dir), C(wal_dir), C(env_exists),
      C(env_initial_cluster), C(tls_peer), C(node)), C(by_host) (the same by host), C(initial_cluster), C(names),
      C(peer_urls) (each member's list), C(outside) (each C(name), C(peer_urls), C(client_url)), C(gone),
      C(refusals), C(new_hosts) (the hosts read with no env file, set up from the snapshot's recovery bundle, when
      O(settings) has C(new_hosts)).
  type: dict
"""


def recovery_cluster(seen, settings):
    settings = dict(settings or {})
    env_file = settings.get("env_file") or "the env file"
    read = play_members(seen, settings)
    members = read["members"]
    if not members:
        return dict(members=[], by_host={}, initial_cluster="", names=[], peer_urls=[], outside=[], gone=[],
                    new_hosts=[], refusals=read["refusals"])
    new_hosts = bool(settings.get("new_hosts"))
    cluster = restored_cluster(members, settings.get("gone") or [], env_file, new_hosts)
    cluster.update(members=members, by_host={m["host"]: m for m in members},
                   new_hosts=fresh_hosts(seen) if new_hosts else [],
                   peer_urls=[m["peer_urls"] for m in members], refusals=cluster["refusals"] + read["refusals"])
    return cluster


class FilterModule:
    def filters(self):
        return {"recovery_cluster": recovery_cluster}
