# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user's hook task files on the controller, and the missing ones."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_quiesce import hook_files

DOCUMENTATION = r"""
name: hook_files
short_description: The user's hook task files, as absolute paths on the controller, and the missing ones
version_added: 0.5.0
description:
  - C(etcd_recovery_hooks_before_stop), C(etcd_recovery_hooks_after_start) and replace_member's hooks name task
    files on the controller. This filter makes each absolute (a relative path is taken from where
    C(ansible-playbook) runs) and names each one that does not exist, so that a run refuses it before it changes
    anything rather than when it reaches the hook.
options:
  _input:
    description: The paths, a list or a comma-separated string.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the hook files
  ansible.builtin.assert:
    that: (etcd_recovery_hooks_before_stop | etcd_ops.etcd.hook_files).refusals | length == 0
"""

RETURN = r"""
_value:
  description: C(files) (absolute paths, in order) and C(refusals) (a sentence with its fix for each missing file).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"hook_files": hook_files}
