# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outcome of a run for its JSON report (etcd_report_file)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_report import run_outcome

DOCUMENTATION = r"""
name: run_outcome
short_description: The outcome of a run of one of the collection's roles, for its report
version_added: 0.1.0
description:
  - Works out what a report (C(etcd_report_file)) says on every outcome, a run that stopped included.
  - The status is C(ok) or C(changed) for a run that completed; C(refused) when a gate (an assert or fail task)
    stopped it and nothing had changed; C(failed) otherwise.
  - The changes are sentences, one per host and registered result that changed, in the order of O(spec).
options:
  _input:
    description: Each host's registered results, by host, in the play's order.
    type: dict
    required: true
  spec:
    description:
      - The results that stand for changes, in order; each a dict of C(var) (the registered name), C(label) (what
        its change means), C(once) (a run_once task, said once without a host) and C(detail) (a key of the result
        the sentence ends with).
    type: list
    elements: dict
    required: true
  stopped:
    description:
      - For each host whose own task stopped the run, a dict of C(task), C(action) and C(message) (from
        C(ansible_failed_task) and C(ansible_failed_result) in a rescue). Empty for a completed run.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: The outcome
  ansible.builtin.debug:
    msg: "{{ {'node1': {'__moved': {'changed': true}}} | etcd_ops.etcd.run_outcome(spec) }}"
  vars:
    spec: [{var: __moved, label: moved aside}]
"""

RETURN = r"""
_value:
  description: dict(status, message, changes, stopped); C(stopped) holds each stopping host's task and message.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"run_outcome": run_outcome}
