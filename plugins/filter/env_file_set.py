# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set variables in the text of a systemd EnvironmentFile, keeping every other line."""

from __future__ import annotations

import re

DOCUMENTATION = r"""
name: env_file_set
short_description: Set variables in the text of a systemd EnvironmentFile, keeping every other line
version_added: 0.1.0
description:
  - Replaces the value of each C(KEY=value) line whose key is in O(settings) (every such line, so the last one
    still wins as systemd reads it) and appends the keys the text does not have, in the order given.
  - Comments, blank lines and every other variable stay as they are; the result ends with a newline.
options:
  _input:
    description: The file's text, for example the decoded content of M(ansible.builtin.slurp).
    type: str
    required: true
  settings:
    description: The variables to set, by name.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Mark the member as joining an existing cluster
  ansible.builtin.copy:
    dest: /data/etcd.env
    content: "{{ __env.content | b64decode | etcd_ops.etcd.env_file_set({'ETCD_INITIAL_CLUSTER_STATE': 'existing'}) }}"
    backup: true
"""

RETURN = r"""
_value:
  description: The new text of the file.
  type: str
"""


def env_file_set(text, settings):
    if not isinstance(text, str):
        raise TypeError(f"env_file_set expects the file's text as a string, got {type(text).__name__}")
    lines = text.splitlines()
    seen = set()
    for index, line in enumerate(lines):
        match = re.match(r"^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if match and match.group(2) in settings:
            key = match.group(2)
            lines[index] = "%s=%s" % (key, settings[key])
            seen.add(key)
    lines += ["%s=%s" % (key, value) for key, value in settings.items() if key not in seen]
    return "\n".join(lines) + "\n"


class FilterModule:
    def filters(self):
        return {"env_file_set": env_file_set}
