# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metadata of snapshots in the bucket: the store's copy when it has one, else the bucket's object."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import bucket_metas as _bucket_metas

DOCUMENTATION = r"""
name: bucket_metas
short_description: The metadata of snapshots in the bucket
version_added: 0.1.0
description:
  - For each snapshot name in the bucket, its metadata (the C(.json) sidecar backup.yml wrote), taken from the
    controller's store's copy when O(local) has one for it, else from the bucket's C(NAME.json) object's text as
    read by C(amazon.aws.s3_object) (O(fetched), the registered loop results), else an empty dict (a snapshot
    without metadata belongs to no known cluster).
  - The result goes with the names to P(etcd_ops.etcd.snapshots_of_cluster#filter).
options:
  _input:
    description: Snapshot names in the bucket.
    type: list
    elements: str
    required: true
  local:
    description: Each name's metadata in the controller's store (P(etcd_ops.etcd.snapshot_meta#lookup)), in order.
    type: list
    elements: dict
    required: true
  fetched:
    description: >-
      The results of an C(amazon.aws.s3_object) C(mode=getstr) loop over the names whose metadata was read from the
      bucket (each with C(item), the name, and C(contents)); a failed read counts as no metadata.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: This cluster's snapshots among the bucket's
  ansible.builtin.debug:
    msg: >-
      {{ names | etcd_ops.etcd.snapshots_of_cluster(names | etcd_ops.etcd.bucket_metas(local_metas, read.results),
                                                    member_names, member_peer_urls) }}
"""

RETURN = r"""
_value:
  description: One dict per name, in order.
  type: list
  elements: dict
"""


def bucket_metas(names, local, fetched=None):
    texts = {}
    for result in fetched or []:
        if isinstance(result, dict) and result.get("item") and not result.get("failed") and not result.get("skipped"):
            texts[str(result["item"])] = result.get("contents")
    try:
        return _bucket_metas(names, local, texts)
    except ValueError as exc:
        raise AnsibleFilterError("bucket_metas: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"bucket_metas": bucket_metas}
