#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_member_info
short_description: Read the members, health, status and quorum of an etcd cluster
version_added: 0.1.0
description:
  - Lists the members (ID, name, peer and client URLs, learner or voter), asks every member for its
    health and status (leader, raft term and index, revision, DB size, version), and works out the
    quorum - how many voting members are healthy, of how many, and whether that is a majority.
  - Changes nothing. It answers while the cluster has no quorum, and says so; on etcd 3.5+ the member
    list itself needs quorum, and the module then reports the endpoints it was given.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
  - etcd_ops.etcd.attributes.info_module
options:
  cluster:
    description:
      - Probe every member's client URLs from the member list, not only O(endpoints).
    type: bool
    default: true
  list_members:
    description:
      - Read the member list. V(false) asks the endpoints only for their health and status, for a probe that needs
        no member (with O(cluster=false)). On etcd 3.5+ the member list needs quorum, and a member without it
        answers only after 5 s, whatever the command timeout.
    type: bool
    default: true
  count_keys:
    description:
      - Also count the keys the cluster holds at O(revision) (the count of a range over every key; one key is read),
        as the first of O(endpoints) sees it (a serializable read, which needs no quorum).
    type: bool
    default: false
  revision:
    description:
      - With O(count_keys), the revision to count at; 0 is the current one. A revision the cluster has compacted
        away fails.
    type: int
    default: 0
  wait_for:
    description:
      - Ask again until the answer is this, every O(wait_interval) seconds, for at most O(wait_timeout) seconds, in
        this one module run (a task's C(until) makes a module run of each try). V(serving), every endpoint asked
        answers its status (it runs and serves clients, a learner too; the health is not read then, etcd answers
        none of a learner); V(quorate), every endpoint asked serves a
        quorum read; V(healthy_cluster), the cluster has quorum, no learner, and every member is quorate.
      - The last answer is returned when the time runs out, with RV(ready) false; the task fails only on its own
        condition (C(failed_when)).
    type: str
    choices: [serving, quorate, healthy_cluster]
  wait_timeout:
    description: Seconds to wait with O(wait_for).
    type: int
    default: 60
  wait_interval:
    description: Seconds between two asks with O(wait_for).
    type: float
    default: 0.5
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Read the cluster from one member
  etcd_ops.etcd.etcd_member_info:
    endpoints: [http://127.0.0.1:2379]
  register: cluster

- name: Stop unless the cluster has quorum
  ansible.builtin.assert:
    that: cluster.quorum.has_quorum
    fail_msg: "{{ cluster.quorum.healthy_voters }} of {{ cluster.quorum.voters }} voting members are healthy"
"""

RETURN = r"""
cluster_id:
  description: The cluster ID, as hex (0 when no endpoint answered).
  returned: always
  type: str
  sample: 3fd0e328ba881aa9
members:
  description:
    - The members, each with its health and status where its client URL answered.
    - C(healthy) is etcdctl's word (false while an alarm is raised); C(quorate) says the member served a
      linearizable read, so it is part of a cluster with quorum, whatever its C(alarms).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 10164140046384920816, id_hex: 8d0e4785301878f0, name: node1, peer_urls: [http://172.29.90.11:2380],
       client_urls: [http://172.29.90.11:2379], is_learner: false, started: true, healthy: true,
       quorate: true, alarms: [], is_leader: true, revision: 4, raft_term: 2, raft_index: 14, db_size: 20480,
       version: 3.4.23}
member_list_error:
  description:
    - Why the member list could not be read (etcd 3.5+ needs quorum for it); empty when it was read or not asked
      for (O(list_members=false)).
  returned: always
  type: str
endpoints:
  description:
    - Health and status per probed endpoint; C(error) says why an endpoint is unhealthy, and C(hint) what to do
      when that is a TLS or an etcd authentication error (empty otherwise).
    - C(quorate) is true when the endpoint served a linearizable read (healthy, or unhealthy only because of
      C(alarms) such as V(NOSPACE)); C(status.has_leader) when its status names a leader with no error but alarms.
  returned: always
  type: list
  elements: dict
  sample:
    - {endpoint: "http://172.29.90.11:2379", health: false, took: "2ms", error: "etcdserver: user name is empty",
       hint: "etcd authentication is on: set etcd_user and etcd_password (vault the password) to a user with the
       root role.", alarms: [], quorate: false, status: {}}
leader:
  description: The leader's ID (hex) and name; empty when there is none.
  returned: always
  type: dict
  sample: {id_hex: 8d0e4785301878f0, name: node1}
quorum:
  description:
    - C(voters) voting members, C(healthy_voters) of them quorate (healthy, or unhealthy only because of an alarm),
      C(needed) for a majority, and C(has_quorum).
    - C(has_quorum) also needs a leader.
  returned: always
  type: dict
  sample: {voters: 3, healthy_voters: 3, needed: 2, has_quorum: true}
alarms:
  description: The alarms raised in the cluster (V(NOSPACE), V(CORRUPT)), as the probed members report them.
  returned: always
  type: list
  elements: str
  sample: [NOSPACE]
alarm_fix:
  description: What to do about each of RV(alarms) (empty without alarms).
  returned: always
  type: str
versions:
  description: Versions of the tools on the host (C(etcdctl), C(etcdutl); null when absent) and of the server.
  returned: always
  type: dict
  sample: {etcdctl: 3.4.23, etcdutl: null, server: 3.4.23}
key_count:
  description: With O(count_keys), the number of keys at O(revision) (the current one when 0).
  returned: when O(count_keys)
  type: int
  sample: 1000
ready:
  description: Whether the last answer is what O(wait_for) asked for.
  returned: with O(wait_for)
  type: bool
asks:
  description: How many times the cluster was asked.
  returned: with O(wait_for)
  type: int
waited:
  description: Seconds from the first ask to the last answer.
  returned: with O(wait_for)
  type: float
commands:
  description: The commands the module ran (no secrets in them; each once, however many asks).
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import WAIT_FOR, cluster_info, ready


def main():
    module = AnsibleModule(argument_spec=etcd_argument_spec(cluster=dict(type="bool", default=True),
                                                            list_members=dict(type="bool", default=True),
                                                            count_keys=dict(type="bool", default=False),
                                                            revision=dict(type="int", default=0),
                                                            wait_for=dict(type="str", choices=list(WAIT_FOR)),
                                                            wait_timeout=dict(type="int", default=60),
                                                            wait_interval=dict(type="float", default=0.5)),
                           supports_check_mode=True)
    p = module.params
    if p["cluster"] and not p["list_members"]:
        module.fail_json(msg="cluster=true probes the client URLs of the member list, which list_members=false "
                             "leaves unread. Fix: set cluster=false with list_members=false.")
    client = EtcdClient(module)
    started = time.monotonic()
    asks = 0
    try:
        while True:
            asks += 1
            # `serving` needs the status alone: a learner answers no health read, after etcdctl's whole timeout
            info = cluster_info(client, p["endpoints"], p["cluster"], list_members=p["list_members"],
                                read_health=p["wait_for"] != "serving")
            done = not p["wait_for"] or ready(info, p["wait_for"])
            if done or time.monotonic() - started + p["wait_interval"] > p["wait_timeout"]:
                break
            time.sleep(p["wait_interval"])
        if p["wait_for"]:
            info.update(ready=done, asks=asks, waited=round(time.monotonic() - started, 3))
            client.commands[:] = list(dict.fromkeys(client.commands))  # each command once, however many asks
        if p["count_keys"]:
            info["key_count"] = client.key_count(p["endpoints"], p["revision"])
    except EtcdError as exc:
        module.fail_json(commands=client.commands, **exc.result())
    module.exit_json(changed=False, commands=client.commands, **info)


if __name__ == "__main__":
    main()
