# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value of JSON text that a template rendered, on every ansible-core the collection supports."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: rendered_json
short_description: The value of JSON text that a template with statements rendered
version_added: 0.5.0
description:
  - The roles build some lists and dicts with Jinja statements (a C({% for %}) loop that writes JSON), since a
    template with statements renders to text; this filter turns that text into the list or dict.
  - ansible-core 2.19 and later keep the rendered text as it is. Earlier ones (2.16 to 2.18) turn a rendered text
    that reads as a Python literal into a list or dict themselves (a JSON list of strings and numbers does, one
    with C(true), C(false) or C(null) does not), so C(from_json) would get a list on one run and text on another;
    this filter takes either.
options:
  _input:
    description: The rendered JSON text, or the list or dict ansible-core already made of it.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Note the hosts and their snapshots
  ansible.builtin.set_fact:
    held: "{{ held_json | etcd_ops.etcd.rendered_json }}"
  vars:
    held_json: >-
      [{% for h in ansible_play_hosts_all %}{{ dict(host=h) | to_json }}{{ ',' if not loop.last }}{% endfor %}]
"""

RETURN = r"""
_value:
  description: The list or dict.
  type: raw
"""


def rendered_json(value):
    if isinstance(value, (list, dict)):
        return value
    if not isinstance(value, str):
        raise AnsibleFilterError(f"rendered_json: expected JSON text, a list or a dict, got {type(value).__name__}")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise AnsibleFilterError(f"rendered_json: not JSON ({exc}): {value[:200]}") from exc


class FilterModule:
    def filters(self):
        return {"rendered_json": rendered_json}
