# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd user deploy's own checks ask as."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import auth_user

DOCUMENTATION = r"""
name: auth_user
short_description: The etcd user deploy's health wait and summary ask as
version_added: 0.1.0
description:
  - The input (C(etcd_user)) when it is set; else V(root) when O(deploy_auth) is true (deploy turns etcd auth on with
    the user root); else an empty string (no user).
options:
  _input:
    description: The etcd user given (C(etcd_user)), possibly empty.
    type: str
    required: true
  deploy_auth:
    description: Whether deploy turns etcd authentication on (C(etcd_deploy_auth)).
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Who the checks log in as
  ansible.builtin.debug:
    msg: "{{ etcd_user | etcd_ops.etcd.auth_user(etcd_deploy_auth | bool) }}"
"""

RETURN = r"""
_value:
  description: The user name, or an empty string.
  type: str
"""


def auth_user_filter(user, deploy_auth):
    return auth_user(user if isinstance(user, str) else "", bool(deploy_auth))


class FilterModule:
    def filters(self):
        return {"auth_user": auth_user_filter}
