#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_env_file
short_description: Set variables in a member's env file, keeping every other line and a backup of the old file
version_added: 0.3.0
description:
  - Reads the env file (a systemd C(EnvironmentFile=), such as C(/data/etcd.env)) on the target, sets each variable
    of O(set) (every C(KEY=value) line of such a key is replaced, so the last one still wins as systemd reads it;
    keys the file lacks are appended in the order given), and keeps comments, blank lines and every other variable.
  - Writes only when the text changes. The old file is kept as a backup first (O(backup)), named as
    M(ansible.builtin.copy) names its backups; the new text goes to a temporary file beside it, which is renamed
    over the old one with its owner and mode.
  - One module run, where M(ansible.builtin.copy) with C(backup) looks at the file, sends it, and runs its module,
    each a round trip.
  - Not an etcd client (not in the action group).
options:
  path:
    description: The env file.
    type: path
    required: true
  set:
    description: The variables to set, by name.
    type: dict
    required: true
  backup:
    description: Keep the old file as C(<path>.<pid>.<time>~) before it is changed.
    type: bool
    default: true
  mode:
    description: The mode of a file this creates (octal); an existing file keeps its own.
    type: raw
    default: "0644"
attributes:
  check_mode:
    description: Reports whether the file would change, and with O(ignore:diff) how; writes nothing.
    support: full
  diff_mode:
    description: The file's text before and after.
    support: full
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Record the restored cluster in the env file
  etcd_ops.etcd.etcd_env_file:
    path: /data/etcd.env
    set:
      ETCD_INITIAL_CLUSTER: node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380,node3=http://10.0.0.3:2380
      ETCD_INITIAL_CLUSTER_TOKEN: etcd-cluster-20261204T120000Z
  become: true
"""

RETURN = r"""
path:
  description: O(path).
  returned: always
  type: str
backup_file:
  description: The backup of the old file ('' when none was made).
  returned: always
  type: str
text:
  description: The file's text after the change (in check mode, what it would be).
  returned: always
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_env import set_env_text


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type="path", required=True),
                                              set=dict(type="dict", required=True),
                                              backup=dict(type="bool", default=True),
                                              mode=dict(type="raw", default="0644")),
                           supports_check_mode=True)
    p = module.params
    path = p["path"]
    try:
        mode = p["mode"] if isinstance(p["mode"], int) else int(str(p["mode"]), 8)
    except ValueError:
        module.fail_json(msg="mode must be octal, such as '0644', not %r." % (p["mode"],), path=path)
    try:
        with open(path) as handle:
            old = handle.read()
        exists = True
    except FileNotFoundError:
        old, exists = "", False
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg="Could not read the env file %s: %s" % (path, exc), path=path)
    new = set_env_text(old, {str(k): "" if v is None else str(v) for k, v in p["set"].items()})
    result = dict(changed=new != old, path=path, backup_file="", text=new)
    if module._diff:
        result["diff"] = dict(before_header=path, after_header=path, before=old, after=new)
    if not result["changed"] or module.check_mode:
        module.exit_json(**result)
    if exists and p["backup"]:
        result["backup_file"] = module.backup_local(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        with os.fdopen(fd, "w") as handle:
            handle.write(new)
    except OSError as exc:
        module.fail_json(msg="Could not write the env file %s: %s. Fix: check the disk there (space, permissions)."
                             % (path, exc), path=path, backup_file=result["backup_file"])
    module.atomic_move(temp, path)  # keeps an existing file's owner and mode
    if not exists:
        module.set_mode_if_different(path, mode, False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
