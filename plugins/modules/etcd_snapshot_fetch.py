#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot_fetch
short_description: Copy a snapshot file from a node to the controller, checked against its sha256 in one pass
version_added: 0.3.0
description:
  - Streams O(src) from the target over the connection to a hidden C(.incoming-) name beside O(dest) on the
    controller, readable by its owner only from the first byte, hashes the copy once (sha256, and etcd's sha256
    trailer in the same pass), and renames it to O(dest) only when its sha256 is O(sha256). A copy that differs,
    or one cut short, is removed; O(dest) is never half-written.
  - Unlike M(ansible.builtin.fetch), it computes no sha1 on the target before the copy and no sha1 and md5 on the
    controller after it, and never falls back to C(slurp) (which reads the whole file into memory) - the SSH user
    must be able to read O(src). The task's C(become) does not apply to the copy.
  - An action plugin only; it runs nothing on the target.
options:
  src:
    description: The snapshot file on the target.
    type: str
    required: true
  dest:
    description: The path on the controller. Its directory must exist; a file there is replaced.
    type: path
    required: true
  sha256:
    description: The sha256 the copy must have, as M(etcd_ops.etcd.etcd_snapshot) returned it (64 hex digits).
    type: str
    required: true
  mode:
    description: Mode of O(dest), octal.
    type: raw
    default: "0600"
attributes:
  action:
    description: The whole module is an action plugin on the controller.
    support: full
  check_mode:
    description: Copies nothing and reports C(changed).
    support: full
  diff_mode:
    description: No diff of a binary snapshot.
    support: none
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Save a snapshot on the first member
  etcd_ops.etcd.etcd_snapshot:
    path: /var/lib/etcd-backup/snapshot.db
  register: snap
  become: true

- name: Bring it to the controller, checked
  etcd_ops.etcd.etcd_snapshot_fetch:
    src: /var/lib/etcd-backup/snapshot.db
    dest: /var/backups/etcd/etcd-cluster-20261125T031500Z-r1234.db
    sha256: "{{ snap.sha256 }}"
"""

RETURN = r"""
src:
  description: O(src).
  returned: always
  type: str
dest:
  description: O(dest).
  returned: always
  type: str
size:
  description: Bytes copied.
  returned: success
  type: int
sha256:
  description: The sha256 of the copy (also when it differed).
  returned: when copied
  type: str
trailer:
  description: Whether the copy has etcd's sha256 trailer (C(present)) and whether it is right (C(valid)).
  returned: success
  type: dict
  sample: {present: true, valid: true}
seconds:
  description: Seconds the copy and its check took.
  returned: success
  type: float
"""
