# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set variables in the text of a systemd EnvironmentFile, keeping every other line."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_env import set_env_text

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
    return set_env_text(text, settings)


class FilterModule:
    def filters(self):
        return {"env_file_set": env_file_set}
