# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why an operation refuses to run in an AWX/AAP job: what it keeps on the controller would go with the job."""

from __future__ import annotations

import os

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_job import job, refusals

DOCUMENTATION = r"""
name: job_refusals
short_description: Why an operation refuses to keep its store or CA inside an AWX/AAP job's container
version_added: 0.5.0
description:
  - AWX and AAP run a job in a container that is removed when the job ends, with the job's private data dir (the
    project and the inventory) inside it. The defaults of C(etcd_backup_dir) and C(etcd_deploy_pki_dir) lie beside
    the inventory, so in a job they are inside that dir.
  - Refused, with the fix, when the operation would keep or read there what must outlive the job - a backup's
    snapshot with no bucket, a drill or recovery from the store, a TLS deploy's CA key.
  - A job is told by the extra variables C(awx_job_id) or C(tower_job_id), which AWX and AAP pass to every job.
options:
  _input:
    description: The operation - C(backup), C(verify_backup), C(disaster_recovery) or C(deploy).
    type: str
    required: true
  settings:
    description: The operation's variables (C(etcd_backup_dir), C(etcd_deploy_pki_dir), C(etcd_s3_bucket),
      C(etcd_recovery_source), C(etcd_verify_source), C(etcd_snapshot), C(etcd_deploy_tls)).
    type: dict
    required: true
  job_vars:
    description: The job's extra variables C(awx_job_id) and C(tower_job_id) (empty outside a job).
    type: dict
    required: true
  inventory_dir:
    description: C(inventory_dir).
    type: str
    required: true
  start_dir:
    description:
      - The directory the run started in; in a job, the project's (ansible-runner starts ansible-playbook there).
      - Default is the controller process's working directory (not the C(PWD) variable, which a process started
        in another directory may have inherited).
    type: str
"""

EXAMPLES = r"""
- name: Stop when the store would go with the job's container
  ansible.builtin.assert:
    that: refusals | length == 0
    fail_msg: "{{ refusals | join(' ') }}"
  vars:
    refusals: >-
      {{ 'backup' | etcd_ops.etcd.job_refusals({'etcd_backup_dir': etcd_backup_dir},
         {'awx_job_id': awx_job_id | default('')}, inventory_dir) }}
"""

RETURN = r"""
_value:
  description: The refusal, a sentence with its fix; empty outside a job or when nothing would be lost.
  type: list
  elements: str
"""


def job_refusals(operation, settings, job_vars, inventory_dir, start_dir=None):
    if start_dir is None:
        start_dir = os.getcwd()  # the controller's: filters run in the ansible-playbook process
    return refusals(operation, settings, job(job_vars), inventory_dir or "", start_dir or "")


class FilterModule:
    def filters(self):
        return {"job_refusals": job_refusals}
