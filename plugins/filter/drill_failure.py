# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A drill that failed before it reached a member: the snapshot failed its checks on the controller."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill as drill

DOCUMENTATION = r"""
name: drill_failure
short_description: The record and the message of a drill whose snapshot failed its checks on the controller
version_added: 0.4.0
description:
  - A snapshot whose sha256 differs from its sidecar, or whose etcd sha256 trailer does not match, fails the drill
    before it is copied anywhere. This is that failed drill, as M(etcd_ops.etcd.etcd_snapshot_drill) returns one -
    the metadata with it recorded and the message.
options:
  _input:
    description: The snapshot's metadata.
    type: dict
    required: true
  snapshot:
    description: The snapshot's path.
    type: str
    required: true
  failure:
    description: Why it failed its checks.
    type: str
    required: true
  time:
    description: When the drill started (UTC, ISO 8601).
    type: str
    required: true
  seconds:
    description: Seconds the check took.
    type: float
    default: 0.0
"""

EXAMPLES = r"""
- name: Record the failed check
  ansible.builtin.set_fact:
    failed_drill: "{{ meta | etcd_ops.etcd.drill_failure(path, check.msg, now(utc=true).isoformat()) }}"
"""

RETURN = r"""
_value:
  description: C(result) (failed), C(metadata) (the metadata with the drill recorded) and C(msg).
  type: dict
"""


def drill_failure(meta, snapshot, failure, time, seconds=0.0):
    why = "it does not pass its checks on the controller: %s" % str(failure).strip().rstrip(".")
    record = drill.record(dict(result="failed", time=time, seconds=seconds, member="controller", failure=why,
                               checked=[], not_checked=[], differences=[]), meta)
    return dict(result="failed", metadata=record, msg=drill.failure_message(snapshot, [], why))


class FilterModule:
    def filters(self):
        return {"drill_failure": drill_failure}
