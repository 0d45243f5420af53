# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a recovery did to each kube-apiserver, for its summary and report."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_quiesce import report

DOCUMENTATION = r"""
name: kube_report
short_description: What a recovery did to each kube-apiserver
version_added: 0.5.0
description:
  - For the summary and the JSON report of disaster_recovery.yml with C(etcd_recovery_kube_apiserver) on - each
    host's apiserver, how it runs, what the run was to do, what the stop and the start steps did (or why they
    failed), and whether it runs afterwards.
options:
  _input:
    description: The preflight's reading (the C(kube_apiservers) filter's result).
    type: dict
    required: true
  stopped:
    description: The registered loop of M(etcd_ops.etcd.etcd_kube_apiserver) C(state=stopped), if it ran.
    type: dict
  started:
    description: The registered loop of M(etcd_ops.etcd.etcd_kube_apiserver) C(state=started), if it ran.
    type: dict
"""

EXAMPLES = r"""
- name: Report the kube-apiservers
  ansible.builtin.debug:
    msg: "{{ kube | etcd_ops.etcd.kube_report(stopped_result, started_result) }}"
"""

RETURN = r"""
_value:
  description: Host - C(mode), C(planned), C(stopped), C(started) (texts; C(FAILED) and why for a failed step),
    C(running) (a bool, or none before the start step).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"kube_report": report}
