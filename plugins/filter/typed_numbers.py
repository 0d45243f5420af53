# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A report or a snapshot's metadata with its number fields as numbers (ansible-core before 2.19 renders them as
text)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_report import typed

DOCUMENTATION = r"""
name: typed_numbers
short_description: A report's number fields as numbers again
version_added: 0.1.0
description:
  - >-
    ansible-core before 2.19 renders each templated value of a YAML dict as text, so a report built from one
    (C(etcd_report_file)) would say C("keys": "40") where 2.19 says C("keys": 40).
  - Gives the report's number fields back their JSON types; changes nothing else. The number fields are C(size),
    C(revision), C(total_keys), C(keys), C(hash), C(kv_hash), C(kv_hash_compact_revision), C(duration),
    C(restore_seconds), C(serve_seconds), C(kept), C(keep), C(bump_revision), and every value under C(seconds).
  - The text V(None) or an empty text there becomes null; a text that is not a number stays as it is.
options:
  _input:
    description: The report (or a snapshot's metadata).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: A report with its numbers as numbers
  ansible.builtin.debug:
    msg: "{{ {'keys': '40', 'seconds': {'total': '12.5'}, 'cluster_id': '12345'} | etcd_ops.etcd.typed_numbers }}"
  # {"keys": 40, "seconds": {"total": 12.5}, "cluster_id": "12345"}
"""

RETURN = r"""
_value:
  description: The same data, its number fields as numbers.
  type: raw
"""


class FilterModule:
    def filters(self):
        return {"typed_numbers": typed}
