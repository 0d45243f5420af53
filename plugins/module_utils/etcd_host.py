# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a member's host shows besides etcd: its listening sockets (`ss -Htlnp`), parsed; whether a user may write a
dir, from its mode and owners. Pure; the module etcd_node_info runs the command and reads the dirs, and the filter
ss_listeners parses output a task registered."""

from __future__ import annotations

import re

_PROCESS = re.compile(r'users:\(\("(?P<name>[^"]*)",pid=(?P<pid>\d+)')


def ss_listeners(output, ports=None):
    """One dict per listening socket of `ss -Htlnp`'s output (a string or its lines): address, port, and the name
    and pid of the first process that holds it ('' and 0 where ss cannot name it); only `ports` when given."""
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


def may_write(mode, owner_uid, owner_gid, uid, gids):
    """Whether the user `uid` (in the groups `gids`) may make and remove entries in a dir of this mode and owners,
    by its permission bits (ACLs are not read): root may, the owner by the owner's bits, a member of the group by
    the group's, anyone else by the others'."""
    if uid == 0:
        return True
    if uid == owner_uid:
        bits = mode >> 6
    elif owner_gid in gids:
        bits = mode >> 3
    else:
        bits = mode
    return bits & 0o3 == 0o3
