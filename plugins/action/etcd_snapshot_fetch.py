# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd_snapshot_fetch: stream a snapshot from a node to the controller, check it in one sha256 pass, rename it in.

ansible.builtin.fetch hashes the file with sha1 on the node before the copy and with sha1 and md5 on the
controller after it; the collection then needs the sha256 of the copy. Here the file is read once on each end:
to send it, and to hash it (sha256 and etcd's trailer in the same pass).
"""

from __future__ import annotations

import os
import time

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import digests


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("src", "dest", "sha256", "mode"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        started = time.monotonic()
        args = self.validate_argument_spec(argument_spec=dict(
            src=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            sha256=dict(type="str", required=True),
            mode=dict(type="raw", default="0600"),
        ))[1]
        src, dest, expected = args["src"], args["dest"], args["sha256"].lower()
        result.update(src=src, dest=dest, changed=False)
        if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
            return dict(result, failed=True, msg="sha256 must be 64 hex digits, not %r. Fix: pass the sha256 that "
                                                 "etcd_snapshot returned." % args["sha256"][:80])
        try:
            # an unquoted YAML 0600 arrives as the int 384: taken as it is; a string is read as octal
            mode = args["mode"] if isinstance(args["mode"], int) else int(str(args["mode"]), 8)
        except ValueError:
            return dict(result, failed=True, msg="mode must be octal, such as '0600', not %r." % args["mode"])
        directory = os.path.dirname(dest) or "."
        if not os.path.isdir(directory):
            return dict(result, failed=True, msg="The directory %s does not exist on the controller. Fix: create it "
                                                 "first (mode 0700)." % directory)
        if self._task.check_mode:
            return dict(result, changed=True, msg="would fetch %s to %s" % (src, dest))

        incoming = os.path.join(directory, ".incoming-%s" % os.path.basename(dest))
        old_umask = os.umask(0o077)  # the copy is readable by its owner only from its first byte
        try:
            try:
                os.unlink(incoming)  # what an interrupted run left
            except FileNotFoundError:
                pass
            try:
                self._connection.fetch_file(src, incoming)
            except Exception as exc:  # the connection plugins raise AnsibleError and others
                return dict(result, failed=True,
                            msg="Could not copy %s from the node: %s. Fix: the file must exist and be readable by "
                                "the SSH user (the backup role hands it over); there must be room in %s."
                                % (src, to_text(exc).strip(), directory))
            os.chmod(incoming, mode)
            got = digests(incoming)
            if got["sha256"] != expected:
                return dict(result, failed=True, size=got["size"], sha256=got["sha256"],
                            msg="The copy of %s differs from the snapshot on the node: sha256 %s (%d bytes), the "
                                "node's is %s; it was removed and nothing was stored under a final name. Fix: check "
                                "the controller's disk (space, errors) and run the backup again."
                                % (src, got["sha256"], got["size"], expected))
            os.replace(incoming, dest)  # atomic in the same directory; no second copy of the file
        finally:
            os.umask(old_umask)
            if os.path.exists(incoming):
                os.unlink(incoming)
        return dict(result, changed=True, size=got["size"], sha256=got["sha256"],
                    trailer=dict(present=got["has_trailer"], valid=got["trailer_ok"]),
                    seconds=round(time.monotonic() - started, 3))
