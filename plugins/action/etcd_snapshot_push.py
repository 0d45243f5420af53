# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of etcd_snapshot_push: ask the node whether it holds the snapshot, else stream it there.

ansible.builtin.copy hashes the source with sha1 on the controller for every host and the copy again with sha1 on
the node; here the file is only read to be sent, and the node's module checks the copy with the one sha256 pass
(and etcd's trailer) the snapshot check makes anyway.
"""

from __future__ import annotations

import os
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

MODULE = "etcd_ops.etcd.etcd_snapshot_push"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False  # the remote tmp dir is made only when the file has to be sent

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        started = time.monotonic()
        args = dict(self._task.args)
        src = args.pop("src", None)
        if not src:
            return dict(result, failed=True, copied=False, msg="src is required: the snapshot file on the controller.")
        try:
            source = self._find_needle("files", src)
        except AnsibleError as exc:
            return dict(result, failed=True, copied=False,
                        msg="The snapshot %s is not on the controller: %s" % (src, to_text(exc)))
        if not os.path.isfile(source):
            return dict(result, failed=True, copied=False, msg="The snapshot %s is not a file." % source)

        try:
            # 1. does dest hold the snapshot already? (the module checks it and says)
            found = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            if found.get("failed") or found.get("present") or self._task.check_mode:
                if not found.get("failed") and not found.get("present"):
                    found.update(changed=True, msg="would copy %s (%s)" % (source, found.get("why", "")))
                found.pop("present", None)
                found.pop("why", None)
                return dict(result, seconds=round(time.monotonic() - started, 3), **found)

            # 2. stream it to the remote user's tmp dir, then the module checks it and gives it its name
            if self._connection._shell.tmpdir is None:
                self._make_tmp_path()
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "snapshot")
            self._transfer_file(source, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            placed = self._execute_module(module_name=MODULE, module_args=dict(args, src=remote), task_vars=task_vars)
            placed.pop("present", None)
            return dict(result, seconds=round(time.monotonic() - started, 3), **placed)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
