#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_member
short_description: Add, promote or remove an etcd cluster member, without costing quorum
version_added: 0.1.0
description:
  - O(state=present) adds the member O(name) with O(peer_urls) when the cluster has no member by that name
    or peer URL - as a learner when O(learner=true) - and, with O(promote=true), promotes a learner once it
    has caught up with the leader (retrying until O(promote_timeout)).
  - O(state=absent) removes the member found by O(name) or by one of O(peer_urls) (a member that never
    started has no name).
  - Refuses a change that would leave the healthy voting members without a majority, unless O(force=true) -
    adding a voter while a member is down, or removing a member while another is down. Remove the dead
    member first, or add the new one as a learner.
  - Idempotent. Returns the settings the new member's env file needs (C(ETCD_INITIAL_CLUSTER) and
    C(ETCD_INITIAL_CLUSTER_STATE=existing)), built from the member list.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
options:
  name:
    description: The member's name (its C(ETCD_NAME)).
    type: str
    required: true
  peer_urls:
    description: The member's peer URLs. Required with O(state=present).
    type: list
    elements: str
  state:
    description: Whether the member should be in the cluster.
    type: str
    choices: [present, absent]
    default: present
  learner:
    description: Add the member as a learner (a non-voting member that catches up before it counts for quorum).
    type: bool
    default: false
  promote:
    description: Promote the member if it is a learner, once it has caught up.
    type: bool
    default: false
  promote_timeout:
    description: Seconds to keep retrying the promotion while etcd says the learner is not in sync yet.
    type: int
    default: 120
  force:
    description: Make the change even when it would leave the healthy voting members without a majority.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reports what would be added, promoted or removed; changes nothing.
    support: full
  diff_mode:
    description: Shows the member before and after.
    support: full
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Add node1 back as a learner, through a healthy member
  etcd_ops.etcd.etcd_member:
    endpoints: [http://10.0.0.12:2379]
    name: node1
    peer_urls: [http://10.0.0.11:2380]
    learner: true
  register: added

- name: Promote it once it has caught up
  etcd_ops.etcd.etcd_member:
    endpoints: [http://10.0.0.12:2379]
    name: node1
    peer_urls: [http://10.0.0.11:2380]
    promote: true

- name: Remove the old member entry of node1
  etcd_ops.etcd.etcd_member:
    endpoints: [http://10.0.0.12:2379]
    name: node1
    peer_urls: [http://10.0.0.11:2380]
    state: absent
"""

RETURN = r"""
member:
  description:
    - The member after the change (empty when absent), with C(id), C(id_hex), C(name), C(peer_urls),
      C(client_urls) and C(is_learner).
  returned: always
  type: dict
actions:
  description: What was done (or would be, in check mode), e.g. C(added node1 as a learner).
  returned: always
  type: list
  elements: str
env:
  description: The settings the member's env file needs to join (present only).
  returned: when state is present
  type: dict
  sample:
    ETCD_NAME: node1
    ETCD_INITIAL_CLUSTER: node1=http://10.0.0.11:2380,node2=http://10.0.0.12:2380
    ETCD_INITIAL_CLUSTER_STATE: existing
quorum:
  description: The quorum as the module saw it before the change.
  returned: always
  type: dict
commands:
  description: The commands the module ran (no secrets in them).
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import cluster_info


def find(members, name, peer_urls):
    for member in members:
        if member["name"] == name or set(member["peer_urls"]) & set(peer_urls or []):
            return member
    return None


def quorum_after(members, drop=None, add_voter=False):
    """(healthy voters, voters) after removing `drop` and/or adding one voter that is not up yet."""
    voters = [m for m in members if not m["is_learner"] and m is not drop]
    healthy = sum(1 for m in voters if m.get("healthy"))
    return healthy, len(voters) + (1 if add_voter else 0)


def refuse_unless_majority(healthy, voters, what, force):
    if force or healthy >= voters // 2 + 1:
        return
    raise EtcdError("Refusing to %s: afterwards only %d of %d voting members would be healthy, and %d are needed." % (
        what, healthy, voters, voters // 2 + 1),
        hint="Bring the down members back, remove a dead member before adding its replacement, add the new "
             "member as a learner, or set force=true if you know better.")


def join_env(members, name, peer_urls):
    pairs = []
    for member in members:
        member_name = member["name"] or (name if set(member["peer_urls"]) & set(peer_urls) else "")
        pairs += ["%s=%s" % (member_name, url) for url in member["peer_urls"] if member_name]
    return dict(ETCD_NAME=name, ETCD_INITIAL_CLUSTER=",".join(pairs), ETCD_INITIAL_CLUSTER_STATE="existing")


def add(client, name, peer_urls, learner, settle=15):
    """member add; etcd refuses it ("unhealthy cluster") until every member has been connected for 5s,
    so a cluster that just (re)started gets a few seconds. The quorum guard has already passed."""
    deadline = time.monotonic() + settle
    while True:
        try:
            return client.member_add(name, peer_urls, learner)
        except EtcdError as exc:
            if "unhealthy cluster" not in (exc.stderr or "") or time.monotonic() >= deadline:
                raise
        time.sleep(1)


def promote(client, member, timeout):
    """Promote a learner once it is in sync. The request goes to the leader: with etcd auth on, a follower that
    forwards it loses the credentials (etcd 3.4.23: "auth: user name is empty" in the leader's log, a timeout
    here)."""
    deadline = time.monotonic() + timeout
    while True:
        rc, out, err = client.member_promote(member["id"], check=False, endpoints=client.leader_endpoint())
        if rc == 0:
            return
        if "not in sync" not in err and "can only promote a learner member which is in sync" not in err:
            raise EtcdError("Promoting %s failed: %s" % (member["name"] or member["id_hex"], err.strip()),
                            cmd=client.commands[-1], rc=rc, stdout=out, stderr=err)
        if time.monotonic() >= deadline:
            raise EtcdError("%s did not catch up with the leader within %ss: %s" % (
                member["name"] or member["id_hex"], timeout, err.strip()),
                hint="Check that it runs (journalctl -u etcd on it) and reaches the others on the peer port; "
                     "raise promote_timeout for a large database.")
        time.sleep(0.5)  # a learner is in sync within a second or two of serving


def main():
    module = AnsibleModule(
        argument_spec=etcd_argument_spec(
            name=dict(type="str", required=True),
            peer_urls=dict(type="list", elements="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            learner=dict(type="bool", default=False),
            promote=dict(type="bool", default=False),
            promote_timeout=dict(type="int", default=120),
            force=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ["peer_urls"])],
        supports_check_mode=True,
    )
    p = module.params
    client = EtcdClient(module)
    actions = []
    try:
        info = cluster_info(client, p["endpoints"])
        if info["member_list_error"]:
            raise EtcdError("Cannot read the member list: %s" % info["member_list_error"],
                            hint="Membership changes need a cluster with quorum; point endpoints at a healthy member.")
        members = info["members"]
        current = find(members, p["name"], p["peer_urls"])
        after = dict(current) if current else {}
        if p["state"] == "absent" and current:
            refuse_unless_majority(*quorum_after(members, drop=current), what="remove %s" % p["name"], force=p["force"])
            actions.append("removed %s (%s)" % (p["name"], current["id_hex"]))
            if not module.check_mode:
                client.member_remove(current["id"])
            after = {}
        elif p["state"] == "present":
            if not current:
                if not p["learner"]:
                    refuse_unless_majority(*quorum_after(members, add_voter=True),
                                           what="add %s as a voting member" % p["name"], force=p["force"])
                actions.append("added %s%s" % (p["name"], " as a learner" if p["learner"] else ""))
                after = dict(name=p["name"], peer_urls=p["peer_urls"], is_learner=p["learner"])
                if not module.check_mode:
                    after, members = add(client, p["name"], p["peer_urls"], p["learner"])
                    after["name"] = after["name"] or p["name"]
            elif sorted(current["peer_urls"]) != sorted(p["peer_urls"]):
                raise EtcdError("%s is in the cluster with peer URLs %s, not %s." % (
                    p["name"], ",".join(current["peer_urls"]), ",".join(p["peer_urls"])),
                    hint="Remove it first (state=absent), then add it with its new peer URLs.")
            if p["promote"] and after.get("is_learner"):
                actions.append("promoted %s" % p["name"])
                if not module.check_mode:
                    if "id" not in after:
                        after = find(client.member_list()["members"], p["name"], p["peer_urls"])
                    promote(client, after, p["promote_timeout"])
                after = dict(after, is_learner=False)
    except EtcdError as exc:
        module.fail_json(commands=client.commands, actions=actions, **exc.result())
    before = dict(present=bool(current), learner=bool(current and current["is_learner"]))
    result = dict(changed=bool(actions), member=after, actions=actions, quorum=info["quorum"], commands=client.commands,
                  diff=dict(before=before, after=dict(present=bool(after), learner=bool(after.get("is_learner")))))
    if p["state"] == "present":
        planned = [after] if module.check_mode and not current else []  # the add check mode did not make
        result["env"] = join_env(members + planned, p["name"], p["peer_urls"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
