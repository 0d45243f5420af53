# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of etcd_job_code: the members' job's module_utils as one zip (module_utils/etcd_job_code.py),
written to a local temp file and handed to ansible.builtin.copy, which compares it with the member's copy and
copies it where it differs (check mode and --diff as copy does them)."""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible import constants as C
from ansible.plugins.action import ActionBase

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_job_code

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        dest, modules = args.get("dest"), args.get("modules")
        if not dest or not modules or not isinstance(modules, list):
            return dict(result, failed=True, changed=False,
                        msg="dest (the zip's path on the member) and modules (a list of module_utils file names) "
                            "are required.")
        unknown = [name for name in modules if not isinstance(name, str) or os.path.basename(name) != name or
                   not os.path.isfile(os.path.join(SOURCE, name))]
        if unknown:
            return dict(result, failed=True, changed=False,
                        msg="Not a module_utils file of this collection (%s): %s"
                            % (SOURCE, ", ".join(map(str, unknown))))
        code = {}
        for name in modules:
            with open(os.path.join(SOURCE, name), "rb") as handle:
                code[name] = handle.read()
        try:
            data = etcd_job_code.bundle(code)
        except ValueError as exc:
            return dict(result, failed=True, changed=False, msg=str(exc))

        local = tempfile.mkdtemp(dir=C.DEFAULT_LOCAL_TMP)
        try:
            path = os.path.join(local, os.path.basename(dest))
            with open(path, "wb") as handle:
                handle.write(data)
            new_task = self._task.copy()
            new_task.args = dict(src=path, dest=dest, owner=args.get("owner", "root"),
                                 group=args.get("group", "root"), mode=args.get("mode", "0644"))
            copy = self._shared_loader_obj.action_loader.get(
                "ansible.legacy.copy", task=new_task, connection=self._connection, play_context=self._play_context,
                loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
            result.update(copy.run(task_vars=task_vars))
            result["modules"] = sorted(modules)
            return result
        finally:
            shutil.rmtree(local, ignore_errors=True)
