# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: kills ansible-playbook the moment a task whose name contains $ETCD_OPS_INTERRUPT_AT
starts, before that task runs on any host - a controller lost at that task boundary (SIGKILL: no handler,
no cleanup). Enabled by tests/lab/pylib/lab.py, never shipped with the collection."""

from __future__ import annotations

import os
import signal
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: interrupt
type: aggregate
short_description: Kill the run when a given task starts (tests only)
description:
  - Kills ansible-playbook with SIGKILL when a task whose name contains E(ETCD_OPS_INTERRUPT_AT) starts.
requirements:
  - enabled in the callbacks_enabled setting
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "interrupt"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_task_start(self, task, is_conditional):
        marker = os.environ.get("ETCD_OPS_INTERRUPT_AT", "")
        if marker and marker in task.get_name():
            sys.stdout.write("\nINTERRUPTED at task: %s\n" % task.get_name())
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
