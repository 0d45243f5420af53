"""etcd_member with a fake etcdctl answering recorded etcd 3.4.23 / 3.5.16 output."""

import json

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_member


def cluster(fake, fixture, version, down=()):
    """A healthy 3-member cluster (recorded), with the members in `down` not answering."""
    fake.on("version", fixture(version, "version.txt"))
    fake.on("member list -w json", fixture(version, "member_list.json"))
    status = [s for s in json.loads(fixture(version, "endpoint_status.json")) if not s["Endpoint"].endswith(down)]
    fake.on("endpoint status -w json", json.dumps(status), rc=1 if down else 0)
    health = json.loads(fixture(version, "endpoint_health.json"))
    for h in health:
        if h["endpoint"].endswith(down):
            h.update(health=False, error="context deadline exceeded")
    fake.on("endpoint health -w json", json.dumps(health), rc=1 if down else 0)
    return fake


def test_add_learner_returns_join_settings(fake_etcd, run_module, recorded, version):
    fake = cluster(fake_etcd(), recorded, version)
    fake.on("member add node4 --peer-urls=http://172.29.90.14:2380 --learner -w json",
            recorded(version, "member_add_learner.json"))
    result = run_module(etcd_member, {"name": "node4", "peer_urls": ["http://172.29.90.14:2380"], "learner": True,
                                      "password": "S3cret!", "user": "root"})
    assert result["changed"] and result["actions"] == ["added node4 as a learner"]
    assert result["member"]["is_learner"] and result["member"]["name"] == "node4"
    env = result["env"]
    assert env["ETCD_INITIAL_CLUSTER_STATE"] == "existing" and env["ETCD_NAME"] == "node4"
    assert sorted(env["ETCD_INITIAL_CLUSTER"].split(",")) == sorted(
        [f"node{i}=http://172.29.90.1{i}:2380" for i in (1, 2, 3, 4)])
    assert all("S3cret!" not in " ".join(argv) for argv in fake.argvs())
    assert "S3cret!" not in json.dumps(result)
    assert all(env.get("ETCDCTL_PASSWORD") == "S3cret!" for argv, env in fake.calls if argv[0].endswith("etcdctl")
               and argv[1:] != ["version"])


def test_present_member_is_unchanged(fake_etcd, run_module, recorded, version):
    fake = cluster(fake_etcd(), recorded, version)
    result = run_module(etcd_member, {"name": "node2", "peer_urls": ["http://172.29.90.12:2380"]})
    assert not result["changed"] and result["actions"] == []
    assert not [argv for argv in fake.argvs() if "add" in argv or "remove" in argv]


def test_check_mode_remove_runs_nothing(fake_etcd, run_module, recorded, version):
    fake = cluster(fake_etcd(), recorded, version)
    result = run_module(etcd_member, {"name": "node3", "peer_urls": ["http://172.29.90.13:2380"], "state": "absent"},
                        check_mode=True)
    assert result["changed"] and result["actions"][0].startswith("removed node3 (")
    assert not [argv for argv in fake.argvs() if "remove" in argv]
    assert result["diff"] == {"before": {"present": True, "learner": False},
                              "after": {"present": False, "learner": False}}


def test_removal_that_costs_quorum_is_refused(fake_etcd, run_module, recorded, version):
    fake = cluster(fake_etcd(), recorded, version, down=("172.29.90.13:2379",))
    result = run_module(etcd_member, {"name": "node2", "peer_urls": ["http://172.29.90.12:2380"], "state": "absent"})
    assert result["failed"]
    assert "Refusing to remove node2: afterwards only 1 of 2 voting members would be healthy" in result["msg"]
    assert not [argv for argv in fake.argvs() if "remove" in argv]


def test_removing_the_dead_member_is_allowed(fake_etcd, run_module, recorded, version):
    fake = cluster(fake_etcd(), recorded, version, down=("172.29.90.13:2379",))
    node3 = next(m for m in json.loads(recorded(version, "member_list.json"))["members"] if m["name"] == "node3")
    fake.on(f"member remove {node3['ID']:x}", f"Member {node3['ID']:x} removed from cluster\n")
    result = run_module(etcd_member, {"name": "node3", "peer_urls": ["http://172.29.90.13:2380"], "state": "absent"})
    assert result["changed"] and ["member", "remove", format(node3["ID"], "x")] == fake.argvs()[-1][1:]


def test_voter_add_while_a_member_is_down_is_refused_but_learner_is_not(fake_etcd, run_module, recorded, version):
    cluster(fake_etcd(), recorded, version, down=("172.29.90.13:2379",))
    args = {"name": "node4", "peer_urls": ["http://172.29.90.14:2380"]}
    result = run_module(etcd_member, args)
    assert result["failed"] and "only 2 of 4 voting members would be healthy, and 3 are needed" in result["msg"]
    forced = run_module(etcd_member, dict(args, learner=True), check_mode=True)
    assert forced["changed"] and forced["actions"] == ["added node4 as a learner"]


def test_promote_retries_while_the_learner_catches_up(fake_etcd, run_module, recorded, version, monkeypatch):
    monkeypatch.setattr(etcd_member.time, "sleep", lambda s: None)
    fake = cluster(fake_etcd(), recorded, version)
    listed = json.loads(recorded(version, "member_list.json"))
    learner = json.loads(recorded(version, "member_add_learner.json"))["member"]
    listed["members"].append(dict(learner, name="node4"))
    fake.on("member list -w json", json.dumps(listed))
    promote_key = f"member promote {learner['ID']:x}"
    fake.in_turn(promote_key, (1, "", recorded(version, "member_promote_not_in_sync.err")), (0, "promoted\n", ""))
    result = run_module(etcd_member, {"name": "node4", "peer_urls": ["http://172.29.90.14:2380"], "promote": True})
    assert result["changed"] and result["actions"] == ["promoted node4"] and not result["member"]["is_learner"]
    assert [argv[1:] for argv in fake.argvs()].count(promote_key.split()) == 2
    # sent to the leader: a follower forwarding it with etcd auth on loses the credentials (3.4.23)
    status = json.loads(recorded(version, "endpoint_status.json"))
    leader_id = status[0]["Status"]["leader"]
    [leader_url] = [m["clientURLs"][0] for m in listed["members"] if m["ID"] == leader_id]
    promotes = [env for argv, env in fake.calls if argv[1:] == promote_key.split()]
    assert all(env["ETCDCTL_ENDPOINTS"] == leader_url for env in promotes)


def test_peer_urls_are_required_for_present(run_module):
    result = run_module(etcd_member, {"name": "node4"})
    assert result["failed"] and "peer_urls" in result["msg"]


def test_add_waits_out_a_cluster_that_just_started(fake_etcd, run_module, recorded, version, monkeypatch):
    monkeypatch.setattr(etcd_member.time, "sleep", lambda s: None)
    fake = cluster(fake_etcd(), recorded, version)
    key = "member add node4 --peer-urls=http://172.29.90.14:2380 --learner -w json"
    fake.in_turn(key, (1, "", "Error: etcdserver: unhealthy cluster\n"),
                 (0, recorded(version, "member_add_learner.json"), ""))
    result = run_module(etcd_member, {"name": "node4", "peer_urls": ["http://172.29.90.14:2380"], "learner": True})
    assert result["changed"] and [" ".join(a[1:]) for a in fake.argvs()].count(key) == 2


def test_check_mode_on_a_present_member_lists_each_member_once(fake_etcd, run_module, recorded, version):
    cluster(fake_etcd(), recorded, version)
    result = run_module(etcd_member, {"name": "node2", "peer_urls": ["http://172.29.90.12:2380"]}, check_mode=True)
    assert not result["changed"]
    assert sorted(result["env"]["ETCD_INITIAL_CLUSTER"].split(",")) == [
        f"node{i}=http://172.29.90.1{i}:2380" for i in (1, 2, 3)]
