# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixes for TLS and etcd auth errors, from the shared etcd client (one text for modules and roles)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import fix_hints

DOCUMENTATION = r"""
name: fix_hints
short_description: The fixes for TLS and etcd authentication errors among a list of error messages
version_added: 0.1.0
description:
  - Each error that is a TLS error (a certificate the client's CA does not trust, a refused client certificate)
    or an etcd authentication error (no credentials, wrong ones, a user without the root role) gives the fix
    the modules also add to their failures; other errors give nothing.
  - Each fix appears once, in the order of the errors.
options:
  _input:
    description: Error messages (a string or a list; empty and undefined entries are skipped).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Say what to do about the members' probe errors
  ansible.builtin.debug:
    msg: "{{ ['etcdserver: user name is empty'] | etcd_ops.etcd.fix_hints | join(' ') }}"
"""

RETURN = r"""
_value:
  description: The fixes, without repeats; empty when no error is a TLS or an auth one.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"fix_hints": fix_hints}
