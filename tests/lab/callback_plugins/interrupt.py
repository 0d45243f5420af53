# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback for the fault suite (tests/fault). Enabled by tests/lab/pylib/lab.py, never shipped with
the collection. At each task start (before the task runs on any host), driven by environment variables:

- ETCD_OPS_TASK_LOG=FILE: append `task<TAB>N<TAB>name` to FILE as task N starts (1 = the first task), and
  `changed<TAB>N<TAB>host` when it reports a change on a host;
- ETCD_OPS_INTERRUPT_AT=TEXT: the first task whose name contains TEXT is the boundary;
- ETCD_OPS_INTERRUPT_AFTER=N: task N+1 is the boundary (after N tasks have run everywhere);
- at the boundary, by default, ansible-playbook kills itself with SIGKILL (a lost controller: no handler, no
  cleanup); with ETCD_OPS_KILL_CONTAINER=NAME it lets the task run and `docker kill`s container NAME
  ETCD_OPS_KILL_DELAY seconds later (default 1), a node that dies while the task runs on it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: interrupt
type: aggregate
short_description: Kill the run, or a lab node, at a given task (tests only)
description:
  - Kills ansible-playbook with SIGKILL, or a lab container, when a given task starts; logs the tasks started.
requirements:
  - enabled in the callbacks_enabled setting
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "interrupt"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = 0
        self._fired = False

    def _boundary(self, name: str) -> bool:
        marker = os.environ.get("ETCD_OPS_INTERRUPT_AT", "")
        after = os.environ.get("ETCD_OPS_INTERRUPT_AFTER", "")
        if marker and marker in name:
            return True
        return bool(after) and self._started == int(after) + 1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started += 1
        name = task.get_name()
        log = os.environ.get("ETCD_OPS_TASK_LOG", "")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write("task\t%d\t%s\n" % (self._started, name))
        if self._fired or not self._boundary(name):
            return
        self._fired = True
        container = os.environ.get("ETCD_OPS_KILL_CONTAINER", "")
        if container:
            delay = os.environ.get("ETCD_OPS_KILL_DELAY", "1")
            sys.stdout.write("\nKILLING %s in %ss, at task %d: %s\n" % (container, delay, self._started, name))
            sys.stdout.flush()
            subprocess.Popen(  # pylint: disable=consider-using-with
                ["sh", "-c", 'sleep "$1"; docker kill "$2" >/dev/null', "kill", delay, container],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
            return
        sys.stdout.write("\nINTERRUPTED at task %d: %s\n" % (self._started, name))
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def v2_runner_on_ok(self, result):
        log = os.environ.get("ETCD_OPS_TASK_LOG", "")
        if log and result.is_changed():
            with open(log, "a", encoding="utf-8") as handle:
                handle.write("changed\t%d\t%s\n" % (self._started, result._host.get_name()))
