# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a backup refuses to save the private keys (etcd_backup_config_keys)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_config import keys_refusals

DOCUMENTATION = r"""
name: backup_keys_refusals
short_description: Why a backup refuses to save the private keys beside its recovery bundle
version_added: 0.5.0
description:
  - The keys go only into an age-encrypted file. Refused, before anything is written - the keys asked without the
    bundle, without recipients, with a recipient that is no public key (shown cut short), or without C(age) on the
    controller.
options:
  _input:
    description: C(etcd_backup_config).
    type: bool
    required: true
  keys:
    description: C(etcd_backup_config_keys).
    type: bool
    required: true
  recipients:
    description: C(etcd_backup_config_age_recipients).
    type: list
    elements: str
    required: true
  age_found:
    description: Whether the controller has C(age).
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Stop when the keys cannot be saved encrypted
  ansible.builtin.assert:
    that: refusals | length == 0
    fail_msg: "{{ refusals | join('\n') }}"
  vars:
    refusals: "{{ etcd_backup_config | etcd_ops.etcd.backup_keys_refusals(true, recipients, true) }}"
"""

RETURN = r"""
_value:
  description: Each refusal, a sentence with its fix; empty when the keys can be saved.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"backup_keys_refusals": keys_refusals}
