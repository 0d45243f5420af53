# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's tools that decode a bucket's copy of a snapshot."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import codec_tools as tools

DOCUMENTATION = r"""
name: codec_tools
short_description: The tools that decode a bucket's copy of a snapshot
version_added: 0.4.0
description:
  - The tools the controller needs to encode or decode an object of this encoding, as backup.yml names them (the
    object's suffix beyond C(NAME.db)) - C(zstd) for C(.zst), C(age) for C(.age), both for C(.zst.age), none for
    C('').
options:
  _input:
    description: The encoding, such as C(.zst.age).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The tools a copy needs
  ansible.builtin.debug:
    msg: "{{ '.zst.age' | etcd_ops.etcd.codec_tools }}"
"""

RETURN = r"""
_value:
  description: The tools, in the order the decoding needs them.
  type: list
  elements: str
"""


def codec_tools(encoding):
    return tools(encoding)


class FilterModule:
    def filters(self):
        return {"codec_tools": codec_tools}
