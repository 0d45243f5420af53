"""etcd_member_info on recorded output of a healthy cluster and of one that lost quorum."""

import json

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_member_info


def test_healthy_cluster(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("member list -w json", recorded(version, "member_list.json"))
    fake.on("endpoint status -w json", recorded(version, "endpoint_status.json"))
    fake.on("endpoint health -w json", recorded(version, "endpoint_health.json"))
    result = run_module(etcd_member_info, {})
    assert not result["changed"]
    assert sorted(m["name"] for m in result["members"]) == ["node1", "node2", "node3"]
    assert all(m["healthy"] and m["version"] == version for m in result["members"])
    assert [m["is_leader"] for m in result["members"]].count(True) == 1
    assert result["quorum"] == {"voters": 3, "healthy_voters": 3, "needed": 2, "has_quorum": True}
    assert result["leader"]["name"] in ("node1", "node2", "node3")
    assert result["versions"] == {"etcdctl": version, "etcdutl": None, "server": version}
    # the probe went to every member's client URL, found in the member list
    status_env = next(env for argv, env in fake.calls if argv[1:3] == ["endpoint", "status"])
    assert status_env["ETCDCTL_ENDPOINTS"].count("http://172.29.90.1") == 3


def test_quorum_lost(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    listed = recorded(version, "no_quorum_member_list.json")
    fake.on("member list -w json", listed, rc=0 if listed.strip() else 1,
            stderr=recorded(version, "no_quorum_member_list.err"))
    fake.on("endpoint status -w json", recorded(version, "no_quorum_endpoint_status.json"), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_status.err"))
    fake.on("endpoint health -w json", recorded(version, "no_quorum_endpoint_health.json"), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_health.err"))
    result = run_module(etcd_member_info, {"endpoints": ["http://172.29.90.11:2379", "http://172.29.90.12:2379",
                                                         "http://172.29.90.13:2379"]})
    assert not result["changed"] and result["quorum"]["has_quorum"] is False
    assert result["leader"] == {}
    if version.startswith("3.4."):  # 3.4 serves the member list from local state
        assert len(result["members"]) == 3 and result["member_list_error"] == ""
    else:  # 3.5 needs quorum for it
        assert result["members"] == [] and result["member_list_error"]
    assert result["quorum"]["voters"] == 3 and result["quorum"]["healthy_voters"] == 0


def test_count_keys_at_a_revision(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("member list -w json", recorded(version, "member_list.json"))
    fake.on("endpoint status -w json", recorded(version, "endpoint_status.json"))
    fake.on("endpoint health -w json", recorded(version, "endpoint_health.json"))
    fake.on("get", recorded(version, "get_count.json"))
    result = run_module(etcd_member_info, {"count_keys": True, "revision": 41})
    assert result["key_count"] == 40 and not result["changed"]
    count = ["get", "", "--from-key", "--keys-only", "--limit=1", "--consistency=s", "--rev=41", "-w", "json"]
    assert count in [a[1:] for a in fake.argvs()]
    assert "key_count" not in run_module(etcd_member_info, {})


def test_a_probe_without_the_member_list(fake_etcd, run_module, recorded, version):
    """list_members=false: health and status of the endpoints only (a member list without quorum takes 5 s)."""
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("endpoint status -w json", recorded(version, "no_quorum_endpoint_status.json"), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_status.err"))
    fake.on("endpoint health -w json", recorded(version, "no_quorum_endpoint_health.json"), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_health.err"))
    result = run_module(etcd_member_info, {"endpoints": ["http://172.29.90.11:2379"], "cluster": False,
                                           "list_members": False})
    assert not [a for a in fake.argvs() if a[1:3] == ["member", "list"]]
    assert result["members"] == [] and result["member_list_error"] == ""
    assert [e["endpoint"] for e in result["endpoints"]] == ["http://172.29.90.11:2379"]
    assert result["quorum"]["voters"] == 1


def test_list_members_false_needs_cluster_false(fake_etcd, run_module):
    fake = fake_etcd()
    result = run_module(etcd_member_info, {"list_members": False})
    assert result["failed"] and "Fix: set cluster=false" in result["msg"]
    assert fake.argvs() == []


def test_a_full_quota_is_an_alarm_not_a_lost_quorum(fake_etcd, run_module, recorded, version):
    """Recorded on the lab with a 1 MiB quota filled (NOSPACE): etcd 3.5's health read fails with "Active Alarm(s):
    NOSPACE", 3.4's does not, and both name the alarm in the status. The cluster has quorum and a leader."""
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("member list -w json", recorded(version, "member_list.json"))
    fake.on("endpoint status -w json", recorded(version, "nospace_endpoint_status.json"))
    health = recorded(version, "nospace_endpoint_health.json")
    fake.on("endpoint health -w json", health, rc=1 if '"health":false' in health else 0)
    result = run_module(etcd_member_info, {})
    assert result["quorum"] == {"voters": 3, "healthy_voters": 3, "needed": 2, "has_quorum": True}
    assert result["alarms"] == ["NOSPACE"] and "etcdctl alarm disarm" in result["alarm_fix"]
    assert all(m["quorate"] for m in result["members"]) and result["leader"]
    assert all(e["quorate"] and e["status"]["has_leader"] and e["status"]["alarms"] == ["NOSPACE"]
               for e in result["endpoints"])
    if version.startswith("3.4."):
        assert all(m["healthy"] and m["alarms"] == [] for m in result["members"])
    else:
        assert not any(m["healthy"] for m in result["members"])
        assert all(m["alarms"] == ["NOSPACE"] for m in result["members"])


def test_a_probe_of_one_member_under_nospace(fake_etcd, run_module, recorded, version):
    """The roles' per-member probe (cluster=false, list_members=false): quorate with the alarm, for both versions."""
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    statuses = json.loads(recorded(version, "nospace_endpoint_status.json"))
    healths = json.loads(recorded(version, "nospace_endpoint_health.json"))
    one = "http://172.29.90.11:2379"
    fake.on("endpoint status -w json", json.dumps([s for s in statuses if s["Endpoint"] == one]))
    fake.on("endpoint health -w json", json.dumps([h for h in healths if h["endpoint"] == one]))
    result = run_module(etcd_member_info, {"endpoints": [one], "cluster": False, "list_members": False})
    assert result["endpoints"][0]["quorate"] and result["alarms"] == ["NOSPACE"]


def one(text):
    """The first endpoint's entry of a recorded `-w json` array."""
    return json.dumps(json.loads(text)[:1]) if text.strip() else text


def test_wait_for_quorate_asks_again_in_the_same_run(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.in_turn("endpoint status -w json",
                 (1, one(recorded(version, "no_quorum_endpoint_status.json")),
                  recorded(version, "no_quorum_endpoint_status.err")),
                 (0, one(recorded(version, "endpoint_status.json")), ""))
    fake.in_turn("endpoint health -w json",
                 (1, one(recorded(version, "no_quorum_endpoint_health.json")),
                  recorded(version, "no_quorum_endpoint_health.err")),
                 (1, one(recorded(version, "no_quorum_endpoint_health.json")),
                  recorded(version, "no_quorum_endpoint_health.err")),
                 (0, one(recorded(version, "endpoint_health.json")), ""))
    endpoint = json.loads(recorded(version, "endpoint_health.json"))[0]["endpoint"]
    result = run_module(etcd_member_info, {"endpoints": [endpoint], "cluster": False, "list_members": False,
                                           "wait_for": "quorate", "wait_interval": 0.01})
    assert result["ready"] is True and result["asks"] == 3 and result["endpoints"][0]["quorate"]
    assert len(result["commands"]) == len(set(result["commands"]))  # each command once
    assert len([a for a in fake.argvs() if a[1:3] == ["endpoint", "health"]]) == 3


def test_wait_for_gives_the_last_answer_when_the_time_runs_out(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("endpoint status -w json", one(recorded(version, "no_quorum_endpoint_status.json")), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_status.err"))
    fake.on("endpoint health -w json", one(recorded(version, "no_quorum_endpoint_health.json")), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_health.err"))
    result = run_module(etcd_member_info, {"endpoints": ["http://172.29.90.11:2379"], "cluster": False,
                                           "list_members": False, "wait_for": "quorate", "wait_timeout": 1,
                                           "wait_interval": 0.2})
    assert not result.get("failed") and result["ready"] is False and 3 <= result["asks"] <= 6
    assert result["waited"] <= 1.5 and not result["endpoints"][0]["quorate"]


def test_without_wait_for_one_ask(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("endpoint status -w json", one(recorded(version, "endpoint_status.json")))
    fake.on("endpoint health -w json", one(recorded(version, "endpoint_health.json")))
    result = run_module(etcd_member_info, {"endpoints": ["http://172.29.90.11:2379"], "cluster": False,
                                           "list_members": False})
    assert "ready" not in result and len([a for a in fake.argvs() if a[1:3] == ["endpoint", "health"]]) == 1


def test_a_learner_s_health_is_not_asked(fake_etcd, run_module, recorded, version):
    """etcd answers no health read of a learner, after etcdctl's whole timeout: it is left out of the read."""
    listed = json.loads(recorded(version, "member_list.json"))
    listed["members"][2]["isLearner"] = True
    learner_urls = listed["members"][2]["clientURLs"]
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("member list -w json", json.dumps(listed))
    fake.on("endpoint status -w json", recorded(version, "endpoint_status.json"))
    healths = [h for h in json.loads(recorded(version, "endpoint_health.json")) if h["endpoint"] not in learner_urls]
    fake.on("endpoint health -w json", json.dumps(healths))
    result = run_module(etcd_member_info, {})
    health_env = next(env for argv, env in fake.calls if argv[1:3] == ["endpoint", "health"])
    assert not set(learner_urls) & set(health_env["ETCDCTL_ENDPOINTS"].split(","))
    learner = next(m for m in result["members"] if m["is_learner"])
    assert not learner["healthy"] and not learner["quorate"] and learner["version"]  # its status is read
    entry = next(e for e in result["endpoints"] if e["endpoint"] in learner_urls)
    assert entry["error"].startswith("a learner: etcd serves it no health read")
    assert result["quorum"] == {"voters": 2, "healthy_voters": 2, "needed": 2, "has_quorum": True}


def test_wait_for_serving_reads_the_status_alone(fake_etcd, run_module, recorded, version):
    fake = fake_etcd().on("version", recorded(version, "version.txt"))
    fake.on("endpoint status -w json", one(recorded(version, "endpoint_status.json")))
    result = run_module(etcd_member_info, {"endpoints": ["http://172.29.90.11:2379"], "cluster": False,
                                           "list_members": False, "wait_for": "serving"})
    assert result["ready"] is True and result["asks"] == 1
    assert not [a for a in fake.argvs() if a[1:3] == ["endpoint", "health"]]
