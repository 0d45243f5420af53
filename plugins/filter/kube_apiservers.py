# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kube-apiserver hosts of a recovery and why it refuses them, from etcd_kube_apiserver's check-mode reads."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_quiesce import preflight

DOCUMENTATION = r"""
name: kube_apiservers
short_description: The kube-apiserver hosts of a recovery, and why it refuses them
version_added: 0.5.0
description:
  - With C(etcd_recovery_kube_apiserver) on, the hosts of the inventory group whose kube-apiservers a recovery
    stops before its switch, and the refusals found before anything changed - a group that does not exist or is
    empty, a host that is unreachable, one where no apiserver is found or where its manifest and a moved copy
    both exist.
options:
  _input:
    description: The registered results of M(etcd_ops.etcd.etcd_kube_apiserver) in check mode, looped over the
      group's hosts (C(register.results)), or an empty list when the feature is off.
    type: list
    elements: dict
    required: true
  enabled:
    description: C(etcd_recovery_kube_apiserver).
    type: bool
    required: true
  group:
    description: The group's name, for the messages.
    type: str
    required: true
  hosts:
    description: The group's hosts; none when the group does not exist.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Work out the kube-apiservers
  ansible.builtin.set_fact:
    kube: "{{ seen.results | default([]) | etcd_ops.etcd.kube_apiservers(true, 'kube_control_plane',
              groups['kube_control_plane'] | default(none)) }}"
"""

RETURN = r"""
_value:
  description: C(hosts), C(refusals) (each a sentence with its fix) and C(seen) (host - its C(before), C(mode) and
    C(text)).
  type: dict
"""


def kube_apiservers(results, enabled, group, hosts=None):
    return preflight(enabled, group, hosts, results)


class FilterModule:
    def filters(self):
        return {"kube_apiservers": kube_apiservers}
