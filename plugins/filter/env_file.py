# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse the text of a systemd EnvironmentFile (such as /data/etcd.env) into a dict."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_env import parse_env_file

DOCUMENTATION = r"""
name: env_file
short_description: Parse a systemd EnvironmentFile into a dictionary
version_added: 0.1.0
description:
  - Reads C(KEY=value) lines the way systemd's C(EnvironmentFile=) does for the files etcd uses.
  - Blank lines and lines starting with C(#) or C(;) are skipped; a leading C(export) is ignored.
  - A value wrapped in matching single or double quotes is unquoted; the last assignment of a key wins.
options:
  _input:
    description: The file's text, for example the decoded content of M(ansible.builtin.slurp).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the member's env file
  ansible.builtin.slurp:
    src: /data/etcd.env
  register: __env

- name: Use its values
  ansible.builtin.debug:
    msg: "{{ (__env.content | b64decode | etcd_ops.etcd.env_file).ETCD_NAME }}"
"""

RETURN = r"""
_value:
  description: The variables, by name.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"env_file": parse_env_file}
