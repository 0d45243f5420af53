# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The private keys a backup encrypts beside its recovery bundle (etcd_backup_config_keys)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_config import keys_content

DOCUMENTATION = r"""
name: backup_keys
short_description: The private keys a backup encrypts beside its recovery bundle
version_added: 0.5.0
description:
  - With C(etcd_backup_config_keys), the text M(etcd_ops.etcd.etcd_snapshot_codec) encrypts with age into
    C(NAME.db.keys.age) (its O(etcd_ops.etcd.etcd_snapshot_codec#module:content), never written in plain), and what the
    bundle says of it - which member's keys, the CA's key, what could not be read. Use it only in a C(no_log) task.
options:
  _input:
    description: Host - the registered loop of M(ansible.builtin.slurp) over that member's key files.
    type: dict
    required: true
  nodes:
    description: Host - what M(etcd_ops.etcd.etcd_node_info) read there with C(config=true) (the member's name, and
      its key files by env variable).
    type: dict
    required: true
  ca_key:
    description: The deploy CA's key on the controller, C(path) and C(pem), when it is there.
    type: dict
"""

EXAMPLES = r"""
- name: Encrypt the keys
  etcd_ops.etcd.etcd_snapshot_codec:
    operation: encode
    content: "{{ (reads | etcd_ops.etcd.backup_keys(nodes)).content }}"
    recipients: "{{ etcd_backup_config_age_recipients }}"
    dest: /srv/etcd-backups/NAME.db.keys.age
  no_log: true
"""

RETURN = r"""
_value:
  description: C(content) (JSON with the keys' text - secret), C(members) (name - the variables saved), C(ca_key)
    (its path, or empty) and C(problems) (name - what was not read).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"backup_keys": keys_content}
