# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's side of etcd_lock: names this run (the ansible-playbook process that runs this task, on this
controller, since its boot), runs the module on the member with it, and takes over a lock of a run of this
controller that is gone. See plugins/module_utils/etcd_lock.py."""

from __future__ import annotations

import datetime
import getpass
import os
import socket

from ansible.plugins.action import ActionBase

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_lock as lock

MODULE = "etcd_ops.etcd.etcd_lock"


def this_run(operation):
    """This run as a lock holder: the workers of a run are children of its ansible-playbook process."""
    controller, pid = socket.gethostname(), os.getppid()
    start, boot = lock.proc_start(pid), lock.boot_id()
    return dict(id="%s/%s/%d/%s" % (controller, boot[:8], pid, start), kind="run", operation=operation,
                controller=controller, user=getpass.getuser(), pid=pid, start=start, boot=boot,
                since=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


class ActionModule(ActionBase):
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        holder = this_run(args.get("operation") or "")
        args["holder"] = holder
        found = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        if found.get("failed") or args.get("state", "present") != "present" or found.get("taken"):
            return dict(result, **found)
        held = found.get("holder") or {}
        why = lock.stale_for_controller(held, holder["controller"], holder["boot"])
        if why and not self._task.check_mode:
            found = self._execute_module(module_name=MODULE, module_args=dict(args, take_over=held.get("id", "")),
                                         task_vars=task_vars)
            if found.get("taken"):
                found["stale"] = why
        elif why:
            found["taken"] = True  # check mode: a real run would take it over
        if not found.get("taken") and not found.get("failed"):
            host = (task_vars or {}).get("inventory_hostname", "")
            found["refusal"] = lock.refusal(host, found.get("holder") or {}, found.get("path") or lock.LOCK_PATH)
        return dict(result, **found)
