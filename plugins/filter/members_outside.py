# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The members the env files name but the play does not hold: a recovery of part of a cluster would split it."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import guess_client_url, members_outside

DOCUMENTATION = r"""
name: members_outside
short_description: The members the env files name that the play does not hold
version_added: 0.1.0
description:
  - Reads each play member's C(ETCD_INITIAL_CLUSTER) and returns the members named there that are not in the play,
    each with its peer URLs and a client URL to ask it (its host, with the scheme and port of O(client_url)).
  - A member counts as in the play when its name or one of its peer URLs is a play member's.
options:
  _input:
    description: Each play member's C(ETCD_INITIAL_CLUSTER) value (empty strings are skipped).
    type: list
    elements: str
    required: true
  play_names:
    description: The play members' names (C(ETCD_NAME)).
    type: list
    elements: str
    required: true
  play_peer_urls:
    description: The play members' peer URLs.
    type: list
    elements: str
    required: true
  client_url:
    description: A play member's client URL, whose scheme and port the guessed client URLs take.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The members outside the play
  ansible.builtin.debug:
    msg: >-
      {{ ['n1=http://a:2380,n4=http://d:2380']
         | etcd_ops.etcd.members_outside(['n1'], ['http://a:2380'], 'http://a:2379') }}
"""

RETURN = r"""
_value:
  description: The members outside the play, by name, each as C(name), C(peer_urls) and C(client_url).
  type: list
  elements: dict
"""


def members_outside_filter(initial_clusters, play_names, play_peer_urls, client_url=""):
    outside = members_outside([t for t in initial_clusters or [] if t], play_names or [], play_peer_urls or [])
    for member in outside:
        member["client_url"] = guess_client_url(member["peer_urls"][0], client_url) if client_url else ""
    return outside


class FilterModule:
    def filters(self):
        return {"members_outside": members_outside_filter}
