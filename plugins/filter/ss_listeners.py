# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse `ss -Htlnp` output into a list of listening sockets."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_host import ss_listeners

DOCUMENTATION = r"""
name: ss_listeners
short_description: Parse the output of C(ss -Htlnp) into a list of listening TCP sockets
version_added: 0.1.0
description:
  - Each line of C(ss -Htlnp) (no header, TCP, listening, numeric, with processes) becomes a dict
    with the local address, the port, and the name and pid of the first process that holds it.
  - With I(ports), only sockets on those ports are returned.
options:
  _input:
    description: The output of C(ss -Htlnp), as a string or a list of lines.
    type: raw
    required: true
  ports:
    description: Keep only sockets listening on these ports.
    type: list
    elements: int
"""

EXAMPLES = r"""
- name: List listening sockets
  ansible.builtin.command: ss -Htlnp
  register: __ss
  changed_when: false

- name: Who holds port 2379
  ansible.builtin.debug:
    msg: "{{ __ss.stdout | etcd_ops.etcd.ss_listeners([2379]) }}"
"""

RETURN = r"""
_value:
  description:
    - One dict per socket, with C(address), C(port), C(process) (empty when unknown)
      and C(pid) (0 when unknown).
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"ss_listeners": ss_listeners}
