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
  - Reads the file the way systemd's C(EnvironmentFile=) does (its parser in C(src/basic/env-file.c)), as
    compared on systemd 252 and 257.
  - Blank lines and lines starting with C(#) or C(;) are skipped; there are no comments after a value.
  - Quoted parts of a value are unquoted (a backslash escapes in double quotes, none in single quotes), a backslash at
    the end of a line joins the next one, and a quote runs on to its closing one, over lines.
  - A line C(export KEY=value) is ignored, as systemd ignores it (the name would be C(export KEY)), and so is any
    other name that is not a shell variable name. The last assignment of a key wins.
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
