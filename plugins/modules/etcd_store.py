#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_store
short_description: The controller's snapshot store - make it ready, file a snapshot's sidecars, prune old snapshots
version_added: 0.3.0
description:
  - Works on the controller's snapshot store (C(etcd_backup_dir)) in the controller's own process, with the naming
    and retention rules the members' scheduled job uses too (C(plugins/module_utils/etcd_backup_store.py)).
  - O(state=ready) creates the store (mode 0700) where it is missing and returns whether it is a directory this
    user can write, and the bytes free there.
  - O(state=saved) writes a snapshot's sidecars beside it, C(NAME.sha256) (C(sha256sum)'s format) and C(NAME.json)
    (O(metadata)), each mode 0600 under a hidden name first, then renamed. With O(config), first the recovery
    bundle C(NAME.config.json), recorded with its sha256 in the metadata's C(config) field.
  - O(state=pruned) removes this cluster's snapshots beyond the newest O(keep), with their sidecars. Only files
    named as the backup role names them (C(<cluster>-<UTC time>-r<revision>.db)) and whose metadata names a member
    of O(members) (same name, a peer URL in common) count; anything else in the store is left alone, and a snapshot
    in O(protect) is never removed.
  - O(state=drilled) records a restore drill in a snapshot's C(NAME.json) - the drill fields of O(metadata) (the
    RV(etcd_ops.etcd.etcd_snapshot_drill#module:metadata) of M(etcd_ops.etcd.etcd_snapshot_drill)), and nothing
    else of it - under a hidden name first, then renamed. A snapshot without a C(NAME.json), or whose C(NAME.json)
    is no JSON object, is left as it is (RV(recorded=false)).
  - O(state=metrics) writes an on-demand run's outcome (O(report), the JSON report of backup.yml or
    verify_backup.yml, on any outcome) as Prometheus metrics for node_exporter's textfile collector into the
    directory O(path) - C(etcd_ops_store_<cluster>.prom), the metrics the members' scheduled job writes, with the
    labels C(cluster) and C(member=controller) - and keeps its state beside them
    (C(.etcd_ops_store_<cluster>.state.json)) so that a failed run keeps the time of the last good one. Each file
    is written under a hidden name first, then renamed. A directory that does not exist gets nothing, with a warning.
  - An action plugin only; it runs nothing on the target.
options:
  path:
    description: The store, a directory on the controller; with O(state=metrics), the metrics directory.
    type: path
    required: true
  state:
    description: What to do, see above.
    type: str
    required: true
    choices: [ready, saved, pruned, drilled, metrics]
  name:
    description: The snapshot's file name in the store (O(state=saved), O(state=drilled)).
    type: str
  sha256:
    description: The snapshot's sha256 (O(state=saved)).
    type: str
  metadata:
    description:
      - The snapshot's metadata, written as C(NAME.json) (O(state=saved)).
      - With O(state=drilled), the metadata with the drill recorded; only its drill fields are written.
    type: dict
  cluster:
    description: The cluster's name in the store, the first part of its snapshots' names (O(state=pruned)).
    type: str
  keep:
    description: How many of the newest snapshots to keep; V(0) keeps every one (O(state=pruned)).
    type: int
  protect:
    description: Snapshot names never to remove (the one just taken).
    type: list
    elements: str
    default: []
  members:
    description: The cluster's members, each a dict with C(name) and C(peer_urls) (O(state=pruned)).
    type: list
    elements: dict
    default: []
  report:
    description: The run's JSON report, as C(etcd_report_file) gets it (O(state=metrics)).
    type: dict
  config:
    description:
      - The recovery bundle (the C(backup_config) filter's result) to write as C(NAME.config.json) beside the
        snapshot (O(state=saved)). It holds no private key.
    type: dict
attributes:
  action:
    description: The whole module is an action plugin on the controller.
    support: full
  check_mode:
    description: Creates, writes and removes nothing, and reports what it would do.
    support: full
  diff_mode:
    description: No diff.
    support: none
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Make the store ready
  etcd_ops.etcd.etcd_store:
    path: /srv/etcd-backups
    state: ready
  register: store

- name: File the snapshot's sidecars
  etcd_ops.etcd.etcd_store:
    path: /srv/etcd-backups
    state: saved
    name: etcd-cluster-20261204T120000Z-r42.db
    sha256: "{{ snap.sha256 }}"
    metadata: {revision: 42}

- name: Keep the newest 7 of this cluster's snapshots
  etcd_ops.etcd.etcd_store:
    path: /srv/etcd-backups
    state: pruned
    cluster: etcd-cluster
    keep: 7
    protect: [etcd-cluster-20261204T120000Z-r42.db]
    members: [{name: node1, peer_urls: ["http://10.0.0.1:2380"]}]
"""

RETURN = r"""
path:
  description: O(path).
  returned: always
  type: str
created:
  description: Whether the store was created (O(state=ready)).
  returned: state is ready
  type: bool
exists:
  description: Whether the store is a directory (O(state=ready)).
  returned: state is ready
  type: bool
writable:
  description: Whether this user can write in it (in check mode, also when it does not exist yet).
  returned: state is ready
  type: bool
free:
  description: Bytes free in it; null when it does not exist.
  returned: state is ready
  type: int
error:
  description: Why the store is not ready ('' when it is).
  returned: state is ready
  type: str
written:
  description: The sidecars written (in check mode, those it would write).
  returned: state is saved or drilled
  type: list
  elements: str
bundle_files:
  description: The recovery bundle's files in the store (the bundle, and the keys' age file when there is one),
    each as the bucket's upload takes it - C(key) (the file name) and C(src) (its path).
  returned: state is saved
  type: list
  elements: dict
config:
  description: What the metadata records of the recovery bundle (file, sha256, size, members, missing, problems,
    CA certificates' paths, how many certificates), or empty without O(config).
  returned: state is saved
  type: dict
recorded:
  description: Whether the snapshot has a C(NAME.json) the drill is recorded in (O(state=drilled)).
  returned: state is drilled
  type: bool
why:
  description: Why the drill was not recorded, or no metrics were written.
  returned: state is drilled and not recorded, or state is metrics and nothing was written
  type: str
metrics_file:
  description: The metrics file written (in check mode, the one it would write); empty when none was.
  returned: state is metrics
  type: str
state:
  description: The state the metrics were written from (last run, last success, size, the last drill...).
  returned: state is metrics and a file was written
  type: dict
kept:
  description: This cluster's snapshots kept, newest first.
  returned: state is pruned
  type: list
  elements: str
removed:
  description: The snapshots removed with their sidecars (in check mode, those it would remove), newest first.
  returned: state is pruned
  type: list
  elements: str
"""
