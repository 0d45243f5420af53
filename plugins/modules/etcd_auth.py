#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_auth
short_description: Turn etcd authentication on (with a root user) or off
version_added: 0.1.0
description:
  - With O(state=enabled), makes sure etcd authentication is on and that O(user) C(root) logs in with
    O(password). When auth is off, it creates the C(root) user (or sets its password), grants it the
    C(root) role and enables auth; when auth is on already, it only checks that the credentials log in and
    hold the root role, and changes nothing.
  - With O(state=disabled), turns auth off (logging in as O(user)); the users and roles stay in etcd.
  - The password goes to etcdctl on its standard input (C(--interactive=false)) or in C(ETCDCTL_PASSWORD),
    never on its command line.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
options:
  state:
    description: Whether etcd authentication should be on or off.
    type: str
    choices: [enabled, disabled]
    default: enabled
notes:
  - etcdctl reads a password from standard input up to the first blank, so a password with a space, tab
    or newline is refused before anything changes; so is an empty one.
  - Whether auth is on is read with a user list that carries no password. With client certificate auth and a
    certificate whose common name is an etcd user holding the root role, that list works with auth on too;
    the module then takes auth for off and sets root's password and enables auth again (harmless, reported
    as a change).
author:
  - etcd_ops maintainers (@etcd-ops)
attributes:
  check_mode:
    description: Reports what it would change; changes nothing.
    support: full
  diff_mode:
    description: Shows auth off/on before and after.
    support: full
"""

EXAMPLES = r"""
- name: Turn etcd auth on with a root user
  etcd_ops.etcd.etcd_auth:
    endpoints: [http://127.0.0.1:2379]
    user: root
    password: "{{ etcd_password }}"
"""

RETURN = r"""
enabled:
  description: Whether etcd auth is on after the run.
  returned: always
  type: bool
  sample: true
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [created user root, granted role root to root, enabled auth]
commands:
  description: The etcdctl command lines run (never with a secret).
  returned: always
  type: list
  elements: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import (
    EtcdClient,
    EtcdError,
    etcd_argument_spec,
)

ROOT = "root"


def check_login(client):
    """The credentials log in and hold the root role (a user get of root needs both)."""
    roles = client.user_roles(ROOT)
    if ROOT not in roles:
        raise EtcdError("etcd user root does not hold the root role.",
                        hint="Fix: grant it with `etcdctl user grant-role root root` (as root).")


def enable(client, password, check_mode, actions, enabled, users):
    if enabled:
        check_login(client)
        return True
    if ROOT in users:
        actions.append("set the password of user root")
        if not check_mode:
            client.user_set_password(ROOT, password)
    else:
        actions.append("created user root")
        if not check_mode:
            client.user_set_password(ROOT, password, create=True)
    if ROOT not in users or ROOT not in client.user_roles(ROOT, anonymous=True):
        actions.append("granted role root to root")
        if not check_mode:
            client.user_grant_role(ROOT, ROOT)
    actions.append("enabled auth")
    if not check_mode:
        client.auth_enable()
        check_login(client)
    return True


def disable(client, check_mode, actions, enabled):
    if not enabled:
        return False
    actions.append("disabled auth")
    if not check_mode:
        client.auth_disable()
    return False


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(state=dict(type="str", default="enabled", choices=["enabled", "disabled"])),
        required_if=[("state", "enabled", ("user", "password")), ("state", "disabled", ("user", "password"))],
        supports_check_mode=True,
    )
    p = module.params
    if p["user"] != ROOT:
        module.fail_json(msg="user is %r: etcd auth needs the user root (with the root role) to be turned on or off."
                             " Nothing was changed. Fix: set user to root." % p["user"])
    if not p["password"]:
        module.fail_json(msg="The password is empty. Nothing was changed. Fix: set password (etcd_password).")
    if re.search(r"\s", p["password"]):
        module.fail_json(msg="The password holds a blank (space, tab or newline): etcdctl reads a password up to the "
                             "first blank, so etcd would keep another one. Nothing was changed. Fix: choose a "
                             "password without blanks.")
    client = EtcdClient(module)
    actions = []
    try:
        was, users = client.auth_enabled()
        if p["state"] == "enabled":
            now = enable(client, p["password"], module.check_mode, actions, was, users)
        else:
            now = disable(client, module.check_mode, actions, was)
    except EtcdError as exc:
        module.fail_json(commands=client.commands, actions=actions, **exc.result())
    module.exit_json(changed=bool(actions), enabled=now, actions=actions, commands=client.commands,
                     diff=dict(before=dict(auth="on" if was else "off"), after=dict(auth="on" if now else "off")))


if __name__ == "__main__":
    main()
