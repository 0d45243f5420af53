#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_lock
short_description: Take or give back a member's lock, so that one run at a time changes a cluster
version_added: 0.1.0
description:
  - A lock file on the member (O(path)) says which run holds it; the collection's playbooks take it on every member
    before they read them and give it back at their end, on every outcome, and the members' scheduled backup job
    takes its own member's.
  - The action plugin on the controller names this run (the operation, the controller, the user, the
    C(ansible-playbook) process and its start), so that a run on this controller that was killed is known to be
    gone, and its lock taken over. A scheduled job whose process is gone is taken over on the member. A lock of a
    live run, or of another controller's run, is not taken; RV(refusal) says who holds it and the fix.
  - It never fails for a held lock; the caller stops on RV(taken).
  - The lock's directory must be a safe work dir (root's, reached through no directory another user can write to).
author:
  - etcd_ops maintainers (@etcd-ops)
extends_documentation_fragment:
  - etcd_ops.etcd.attributes
attributes:
  check_mode:
    support: full
    description: Reports whether the lock would be taken; writes nothing.
  diff_mode:
    support: none
    description: No diff.
options:
  state:
    description: V(present) takes the lock, V(absent) gives it back (only where this run holds it).
    type: str
    choices: [present, absent]
    default: present
  operation:
    description: What the run does, for the holder's description (for example V(disaster_recovery.yml)).
    type: str
    default: ""
  path:
    description: The lock file on the member.
    type: path
    default: /var/lib/etcd-ops/lock.json
  holder:
    description: Set by the action plugin; not for playbooks.
    type: dict
  take_over:
    description: Set by the action plugin; not for playbooks.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Take the lock on every member
  etcd_ops.etcd.etcd_lock:
    operation: disaster_recovery.yml
  register: lock

- name: Give it back
  etcd_ops.etcd.etcd_lock:
    state: absent
"""

RETURN = r"""
taken:
  description: Whether this run holds the lock (or, in check mode, would).
  returned: state=present
  type: bool
holder:
  description: Who holds the lock afterwards (operation, controller, user, pid, since; or the job's host and pid).
  returned: always
  type: dict
stale:
  description: Why the lock of a gone holder was taken over, or an empty string.
  returned: state=present
  type: str
refusal:
  description: When the lock is another's, the message that names the member, the holder and the fix (set by the
    action plugin).
  returned: when not taken
  type: str
path:
  description: The lock file.
  returned: always
  type: str
"""

import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_lock as lock
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir


def main():
    module = AnsibleModule(
        argument_spec=dict(state=dict(type="str", choices=["present", "absent"], default="present"),
                           operation=dict(type="str", default=""),
                           path=dict(type="path", default=lock.LOCK_PATH),
                           holder=dict(type="dict"),
                           take_over=dict(type="str", default="")),
        supports_check_mode=True)
    p = module.params
    holder = p["holder"]
    if not holder or not holder.get("id"):
        module.fail_json(msg="holder is set by the etcd_lock action plugin: run the module through it "
                             "(etcd_ops.etcd.etcd_lock), not as ansible.legacy.etcd_lock.")
    path, host = p["path"], socket.gethostname()
    if p["state"] == "absent":
        given = lock.release(path, holder["id"], dry_run=module.check_mode)
        module.exit_json(changed=given["ours"], holder=given["holder"])
    try:
        if module.check_mode:
            current = lock.read(path)
            free = current is None or current.get("id") == holder["id"] or bool(lock.stale_here(current, host))
            result = dict(taken=free, holder=current or holder, stale="", written=free and current is None)
        else:
            workdir.ensure(os.path.dirname(path), 0o755)
            result = lock.acquire(path, holder, host, p["take_over"])
    except workdir.WorkDirError as exc:
        module.fail_json(msg=workdir.refusal(os.path.dirname(path), str(exc), "Nothing was written there."))
    except OSError as exc:
        module.fail_json(msg="Could not take the lock %s: %s. Fix: run the task with become (root)." % (path, exc))
    written = result.pop("written")
    module.exit_json(changed=written, path=path, **result)


if __name__ == "__main__":
    main()
