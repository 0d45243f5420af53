#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_restore
short_description: Restore an etcd snapshot into a member's data dir, never deleting the old one
version_added: 0.1.0
description:
  - Restores one snapshot for one member (its O(name), O(peer_urls), the full O(initial_cluster) and the
    O(cluster_token)) into a staging dir beside O(data_dir), with the tool the installed etcd needs
    (etcdctl on 3.4, etcdutl where installed on 3.5, etcdutl only on 3.6), and hands it to O(owner).
    etcd's own hash check proves the file during the restore; a failed restore leaves no staging dir.
  - With O(state=present) it then moves an existing O(data_dir) aside to C(<data_dir>.<UTC timestamp>)
    (never deleted) and renames the staging dir into place - one rename on the same filesystem.
    With O(state=staged) it stops after the staging restore, so several members can be staged before any
    of them is switched.
  - A marker in the restored dir (the snapshot's sha256, the member's name, peer URLs, the initial cluster
    and token) makes a second run with the same inputs report unchanged without touching the dir.
  - With O(wal_dir), the WAL is restored into C(<wal_dir>.etcd-ops-staging), marked at its top
    (C(.etcd-ops-restore.json)), and switched before the data dir. Each dir's marker says whether its restore is in
    place, so a run killed between the two renames switches only the dir that is left; a dir whose staging was lost
    is restored afresh, and then both are switched, so that they come from one restore.
  - Stop etcd on the member before O(state=present); the module does not manage the service.
  - With O(state=retired), once the recovered cluster is verified, it retires the marker (renames it to
    C(member/.etcd-ops-restore.done.json); the WAL dir's marker is removed), so that a later run finds the
    recovery done, and a new disaster is restored afresh; with O(remove_snapshot) it first removes the snapshot
    copy and its sidecar.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
options:
  snapshot:
    description: The snapshot file on the target.
    type: path
    required: true
  data_dir:
    description: The member's data dir (C(ETCD_DATA_DIR)).
    type: path
    required: true
  wal_dir:
    description:
      - A separate WAL dir (C(ETCD_WAL_DIR)), staged and switched the same way; start etcd with the same value.
      - With O(state=retired), its marker is removed (the data dir's retired marker is the record).
    type: path
  name:
    description:
      - The member's name (C(ETCD_NAME)); it must be one of the names in O(initial_cluster).
      - Required with O(state=staged) and O(state=present), as are O(peer_urls), O(initial_cluster) and
        O(cluster_token).
    type: str
  peer_urls:
    description: The member's peer URLs (C(ETCD_INITIAL_ADVERTISE_PEER_URLS)).
    type: list
    elements: str
  initial_cluster:
    description: The whole restored cluster, C(name=peer_url,...), identical on every member.
    type: str
  cluster_token:
    description: The cluster token, identical on every member; a new one per recovery keeps stale members out.
    type: str
  owner:
    description: User that owns the restored dirs (the user etcd runs as).
    type: str
    default: etcd
  group:
    description: Group of the restored dirs; default the primary group of O(owner).
    type: str
  skip_hash_check:
    description:
      - Restore a file that has no sha256 trailer (a copy of a data dir's C(member/snap/db)). Such a file is
        not checked for corruption and may lack writes that were only in the WAL.
    type: bool
    default: false
  bump_revision:
    description:
      - Bump the revision by this much and mark it compacted (C(--bump-revision N --mark-compacted)), so that
        watching clients such as Kubernetes notice the restore. 0 turns it off.
      - Needs etcd 3.4.27+, 3.5.10+ or 3.6; older tools fail with a clear message.
    type: int
    default: 0
  remove_snapshot:
    description: With O(state=retired), remove O(snapshot) and its C(.sha256) sidecar (the copy on the member).
    type: bool
    default: false
  state:
    description:
      - C(staged) restores into the staging dir only; C(present) also switches it into place; C(retired) retires
        the marker of a verified recovery.
    type: str
    choices: [staged, present, retired]
    default: present
attributes:
  check_mode:
    description: Reports what would be restored, moved aside and switched; changes nothing.
    support: full
  diff_mode:
    description: No diff.
    support: none
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Stage the restore of node1 (nothing else changes yet)
  etcd_ops.etcd.etcd_restore:
    snapshot: /var/tmp/etcd-snapshot.db
    data_dir: /data/etcd.data
    name: node1
    peer_urls: [http://10.0.0.11:2380]
    initial_cluster: node1=http://10.0.0.11:2380,node2=http://10.0.0.12:2380,node3=http://10.0.0.13:2380
    cluster_token: etcd-cluster-restored-20261125
    state: staged

- name: Switch it into place (etcd stopped)
  etcd_ops.etcd.etcd_restore:
    snapshot: /var/tmp/etcd-snapshot.db
    data_dir: /data/etcd.data
    name: node1
    peer_urls: [http://10.0.0.11:2380]
    initial_cluster: node1=http://10.0.0.11:2380,node2=http://10.0.0.12:2380,node3=http://10.0.0.13:2380
    cluster_token: etcd-cluster-restored-20261125
  register: restored

- name: Say where the old data went
  ansible.builtin.debug:
    msg: "old data dir kept at {{ restored.moved_aside }}"
"""

RETURN = r"""
data_dir:
  description: The data dir.
  returned: always
  type: str
staging_dir:
  description: The staging dir, C(<data_dir>.etcd-ops-staging).
  returned: always
  type: str
moved_aside:
  description:
    - Where the previous data dir (and WAL dir, comma-separated) went; empty when there was none.
  returned: always
  type: str
restored:
  description: Whether a restore ran (or would run, in check mode).
  returned: always
  type: bool
switched:
  description: Whether the staging dir was (or would be) renamed into place.
  returned: always
  type: bool
retired:
  description: With O(state=retired), whether a marker was (or would be) retired.
  returned: always
  type: bool
removed:
  description: With O(state=retired), the files removed (or that would be).
  returned: always
  type: list
  elements: str
tool:
  description: The tool that restored (C(etcdctl) or C(etcdutl)).
  returned: when a restore ran
  type: str
marker:
  description: What the restored dir was made from.
  returned: always
  type: dict
commands:
  description: The commands the module ran.
  returned: always
  type: list
  elements: str
"""

import grp
import json
import os
import pwd
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_snapshot_file as snapfile
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_marks import (
    DONE,
    MARKER,
    WAL_MARKER,
    read_marker,
    restore_dirs,
    switch,
)

RESTORE_OPTIONS = ("name", "peer_urls", "initial_cluster", "cluster_token")


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for entry in dirs + files:
            os.chown(os.path.join(root, entry), uid, gid)


def owner_ids(owner, group):
    try:
        user = pwd.getpwnam(owner)
        gid = grp.getgrnam(group).gr_gid if group else user.pw_gid
    except KeyError as exc:
        hint = "Set owner (and group) to the user etcd runs as; Debian's package creates 'etcd'."
        raise EtcdError("Unknown user or group: %s" % exc, hint=hint) from exc
    return user.pw_uid, gid


def stage(client, p, marker, uid, gid, dirs):
    """Restore into the staging dir(s); on failure leave none behind. The marks are written last, the WAL dir's
    before the data dir's: a staging dir with a mark is complete, and owned by the user etcd runs as."""
    stagings = [staging for target, staging, name in dirs]
    for path in stagings:
        if os.path.lexists(path):  # an earlier, unfinished staging of ours
            shutil.rmtree(path)
    try:
        client.snapshot_restore(p["snapshot"], stagings[0], p["name"], p["initial_cluster"], p["peer_urls"],
                                p["cluster_token"], wal_dir=stagings[1] if len(stagings) > 1 else None,
                                skip_hash_check=p["skip_hash_check"], bump_revision=p["bump_revision"])
        for path in stagings:
            os.chmod(path, 0o700)
            chown_tree(path, uid, gid)
        for _target, staging, name in reversed(dirs):
            with open(os.path.join(staging, name), "w") as handle:
                json.dump(marker, handle, sort_keys=True)
            os.chown(os.path.join(staging, name), uid, gid)
    except BaseException:
        for path in stagings:
            shutil.rmtree(path, ignore_errors=True)
        raise


def retire(module, client, p, result):
    """The recovery was verified: remove the member's snapshot copy (with remove_snapshot), then retire the marker;
    a run killed in between retires it on the next run."""
    if p["remove_snapshot"]:
        result["removed"] = [path for path in (p["snapshot"], snapfile.sidecar_path(p["snapshot"]))
                             if os.path.lexists(path)]
    marker = os.path.join(result["data_dir"], MARKER)
    wal_marker = os.path.join(p["wal_dir"], WAL_MARKER) if p["wal_dir"] else ""
    result["retired"] = os.path.isfile(marker)
    if not module.check_mode:
        try:
            for path in result["removed"]:
                os.remove(path)
            if wal_marker and os.path.isfile(wal_marker):  # the WAL dir's mark goes first: the data dir's is the record
                os.remove(wal_marker)
            if result["retired"]:
                os.replace(marker, os.path.join(result["data_dir"], DONE))
        except OSError as exc:
            module.fail_json(msg="Retiring the restore of %s failed: %s" % (result["data_dir"], exc),
                             commands=client.commands, **result)
    module.exit_json(changed=bool(result["removed"]) or result["retired"], commands=client.commands, **result)


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            snapshot=dict(type="path", required=True),
            data_dir=dict(type="path", required=True),
            wal_dir=dict(type="path"),
            name=dict(type="str"),
            peer_urls=dict(type="list", elements="str"),
            initial_cluster=dict(type="str"),
            cluster_token=dict(type="str", no_log=False),
            owner=dict(type="str", default="etcd"),
            group=dict(type="str"),
            skip_hash_check=dict(type="bool", default=False),
            bump_revision=dict(type="int", default=0),
            remove_snapshot=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["staged", "present", "retired"]),
        ),
        required_if=[("state", state, RESTORE_OPTIONS) for state in ("staged", "present")],
        supports_check_mode=True,
    )
    p = module.params
    client = EtcdClient(module)
    dirs = restore_dirs(p["data_dir"], p["wal_dir"] or "")
    data_dir, staging = dirs[0][0], dirs[0][1]
    result = dict(data_dir=data_dir, staging_dir=staging, moved_aside="", restored=False, switched=False,
                  retired=False, removed=[])
    if p["state"] == "retired":
        retire(module, client, p, result)
    try:
        if not os.path.isfile(p["snapshot"]):
            raise EtcdError("The snapshot %s does not exist." % p["snapshot"], hint="Copy it to the member first.")
        names = [pair.split("=", 1)[0] for pair in p["initial_cluster"].split(",")]
        if p["name"] not in names:
            raise EtcdError("%s is not in initial_cluster (%s)." % (p["name"], p["initial_cluster"]),
                            hint="initial_cluster lists every member of the restored cluster, this one included.")
        sha256 = snapfile.read_sidecar(p["snapshot"]) or snapfile.digests(p["snapshot"])["sha256"]
        marker = dict(snapshot_sha256=sha256, name=p["name"], peer_urls=sorted(p["peer_urls"]),
                      initial_cluster=p["initial_cluster"], cluster_token=p["cluster_token"],
                      bump_revision=p["bump_revision"])
        result["marker"] = marker
        placed = [read_marker(target, name) == marker for target, staging_dir, name in dirs]
        if all(placed):
            module.exit_json(changed=False, commands=client.commands, **result)
        uid, gid = owner_ids(p["owner"], p["group"])
        # staged: every dir not in place has its staging dir marked (a WAL dir switched by a run killed before its
        # data dir was, say); otherwise restore afresh, and switch every dir, so that all come from one restore
        fresh = not all(done or read_marker(staging_dir, name) == marker
                        for done, (_target, staging_dir, name) in zip(placed, dirs))  # noqa: B905 (same length)
        if fresh:
            result["restored"] = True
            result["tool"] = client.snapshot_tool()
            if not module.check_mode:
                stage(client, p, marker, uid, gid, dirs)
        if p["state"] == "present":
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            try:
                aside = switch(dirs, marker, stamp, fresh=fresh, check_mode=module.check_mode)
            except FileExistsError as exc:
                raise EtcdError("%s." % exc, hint="Run again in a second.") from exc
            result.update(moved_aside=",".join(aside), switched=True)
    except EtcdError as exc:
        module.fail_json(commands=client.commands, **dict(result, **exc.result()))
    except (OSError, ValueError) as exc:
        module.fail_json(msg="Restore of %s into %s failed: %s" % (p["snapshot"], data_dir, exc),
                         commands=client.commands, **result)
    module.exit_json(changed=result["restored"] or result["switched"], commands=client.commands, **result)


if __name__ == "__main__":
    main()
