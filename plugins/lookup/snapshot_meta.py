# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metadata (.json) of snapshots in the controller's store, one dict per snapshot path."""

from __future__ import annotations

DOCUMENTATION = r"""
name: snapshot_meta
short_description: The metadata of snapshots in the controller's store
version_added: 0.1.0
description:
  - For each snapshot path, the content of its C(PATH.json) sidecar (written by the backup role), parsed; an empty
    dict when it is missing, unreadable or not a JSON object. Reads files on the controller only.
options:
  _terms:
    description: Snapshot paths (lists are flattened).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Every stored snapshot's metadata, in the order of the paths
  ansible.builtin.set_fact:
    metas: "{{ query('etcd_ops.etcd.snapshot_meta', stored_paths) }}"
"""

RETURN = r"""
_raw:
  description: One dict per path, in order.
  type: list
  elements: dict
"""


from ansible.plugins.lookup import LookupBase  # noqa: E402 (after the documentation, as ansible-test wants)

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import read_meta  # noqa: E402


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        paths = []
        for term in terms:
            paths.extend(term if isinstance(term, (list, tuple)) else [term])
        return [read_meta(str(path)) for path in paths]
