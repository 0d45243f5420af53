# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse `ss -Htlnp` output into a list of listening sockets."""

from __future__ import annotations

import re

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

_PROCESS = re.compile(r'users:\(\("(?P<name>[^"]*)",pid=(?P<pid>\d+)')


def ss_listeners(output, ports=None):
    lines = output.splitlines() if isinstance(output, str) else list(output or [])
    wanted = {int(p) for p in ports} if ports else None
    sockets = []
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        # With -H the columns are: State Recv-Q Send-Q Local:Port Peer:Port [Process].
        # ss without -H would put a header first; it has no number after the colon.
        address, _sep, port = fields[3].rpartition(":")
        if not port.isdigit():
            continue
        port = int(port)
        if wanted is not None and port not in wanted:
            continue
        match = _PROCESS.search(line)
        sockets.append({
            "address": address.strip("[]"),
            "port": port,
            "process": match.group("name") if match else "",
            "pid": int(match.group("pid")) if match else 0,
        })
    return sockets


class FilterModule:
    def filters(self):
        return {"ss_listeners": ss_listeners}
