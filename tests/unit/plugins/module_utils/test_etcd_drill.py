"""The restore drill's decisions over tables of cases: what a snapshot promises, how the scratch etcd's answers
compare, the compaction that makes the KV hashes comparable, the record in the metadata, and the plan (which
snapshot, which member, which user, the refusals). The verify_backup scenario proves the same rows on the lab."""

from __future__ import annotations

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill as drill

META = dict(revision=54, keys=53, kv_hash=2558562925, kv_hash_compact_revision=40, cluster_token="etcd-cluster",
            etcd_version="3.4.23", file="etcd-cluster-20261205T032817Z-r54.db")
SEEN = dict(revision=54, keys=53, kv_hash=2558562925, kv_hash_compact_revision=40)


@pytest.mark.parametrize("value,expected", [
    (5, 5), ("5", 5), (" 12 ", 12), (None, None), ("", None), ("None", None), (True, None), ("x", None), (0, 0),
])
def test_as_int_reads_what_a_template_wrote(value, expected):
    assert drill.as_int(value) == expected


def test_expected_from_the_metadata_and_the_file():
    want = drill.expected(dict(META, keys="53", kv_hash="2558562925"), dict(revision=54))
    assert want == dict(file_revision=54, revision=54, keys=53, kv_hash=2558562925, kv_hash_compact_revision=40,
                        cluster="etcd-cluster", etcd_version="3.4.23", has_metadata=True)
    bare = drill.expected({}, dict(revision=9))
    assert bare["file_revision"] == 9 and bare["revision"] is None and bare["keys"] is None
    assert not bare["has_metadata"]
    # a hash without its compact revision is still compared; a compact revision without a hash means nothing
    assert drill.expected(dict(META, kv_hash=None), dict(revision=54))["kv_hash_compact_revision"] is None


COMPARE = [
    ("all equal", META, SEEN, [], ["revision 54", "53 keys", "KV hash 2558562925"], []),
    ("a key missing", META, dict(SEEN, keys=52),
     ["keys at revision 54: the metadata says 53, the restored etcd has 52"], None, []),
    ("another hash", META, dict(SEEN, kv_hash=1),
     ["KV hash at revision 54: the metadata says 2558562925 (history compacted at 40), the restored etcd gives 1 "
      "(compacted at 40)"], None, []),
    ("another hash, never compacted (etcd says -1)", dict(META, kv_hash_compact_revision=-1),
     dict(SEEN, kv_hash=1, kv_hash_compact_revision=-1),
     ["KV hash at revision 54: the metadata says 2558562925 (history never compacted), the restored etcd gives 1 "
      "(never compacted)"], None, []),
    ("the restored etcd at another revision", META, dict(SEEN, revision=60),
     ["revision: the snapshot is at 54, the restored etcd at 60"], None, []),
    ("metadata of another snapshot", dict(META, revision=99), SEEN,
     ["revision: the metadata says 99, the file holds revision 54 (the metadata is another snapshot's)"], None, []),
    ("no keys and no hash recorded (an older backup)", dict(META, keys=None, kv_hash=None), SEEN, [],
     ["revision 54"], ["keys: not in the metadata", "KV hash: not in the metadata (a backup made before it was "
                       "recorded, or by a user without etcd's root role)"]),
    ("no metadata at all", {}, SEEN, [], ["revision 54"], ["keys: no metadata", "KV hash: no metadata"]),
]


def test_a_snapshot_of_a_keyspace_never_written():
    """`snapshot status` says revision 0 when no key was ever written; the restored etcd is at 1, etcd's first."""
    want = drill.expected(dict(META, revision=0, keys=0, kv_hash=5, kv_hash_compact_revision=-1), dict(revision=0))
    assert drill.compare(want, dict(revision=1, keys=0, kv_hash=5, kv_hash_compact_revision=-1))["differences"] == []
    assert drill.compare(want, dict(revision=2, keys=0, kv_hash=5))["differences"] == [
        "revision: the snapshot is at 0, the restored etcd at 2"]


@pytest.mark.parametrize("case,meta,seen,differences,checked,not_checked", COMPARE, ids=[c[0] for c in COMPARE])
def test_compare(case, meta, seen, differences, checked, not_checked):
    out = drill.compare(drill.expected(meta, dict(revision=54)), seen)
    assert out["differences"] == differences
    if checked is not None:
        assert out["checked"] == checked
    assert out["not_checked"] == not_checked
    assert drill.verdict(out["differences"]) == ("failed" if differences else "passed")


@pytest.mark.parametrize("recorded,scratch,target", [
    (40, 40, 0),    # the same compaction: nothing to do
    (45, 30, 45),   # the member compacted between the snapshot and its HashKV: the scratch etcd follows
    (30, 45, 0),    # the scratch's history is compacted further than the record's: no compaction undoes that
    (60, 30, 0),    # beyond the snapshot's revision: not a compaction of its history
    (0, 0, 0),
])
def test_compact_to(recorded, scratch, target):
    assert drill.compact_to(drill.expected(dict(META, kv_hash_compact_revision=recorded), dict(revision=54)),
                            scratch) == target
    assert drill.compact_to(drill.expected(dict(META, kv_hash=None), dict(revision=54)), scratch) == 0


def test_a_failure_fails_whatever_compared():
    assert drill.verdict([], "it does not restore: boom") == "failed"


def test_space_needed_is_the_database_and_the_first_wal_file():
    assert drill.space_needed(100 * 1024 * 1024) == int(100 * 1024 * 1024 * 1.1) + 64 * 1024 * 1024


def _drill(result, **kw):
    return dict(dict(result=result, time="2026-12-05T03:28:23Z", seconds=0.4, member="node1", etcd_version="3.4.23",
                     restore_seconds=0.03, serve_seconds=0.26, checked=["revision 54"], not_checked=[],
                     differences=[], failure=""), **kw)


def test_record_a_passed_drill_then_a_failed_one():
    passed = drill.record(_drill("passed"), META)
    assert passed["verified_at"] == "2026-12-05T03:28:23Z" and passed["drill_result"] == "passed"
    assert passed["drill_seconds"] == 0.4 and passed["drill"]["member"] == "node1"
    assert {k: passed[k] for k in META} == META  # the backup's fields as they were
    failed = drill.record(_drill("failed", time="2026-12-06T00:00:00Z", differences=["keys"]), passed)
    assert "verified_at" not in failed and failed["drill_result"] == "failed"
    assert failed["drilled_at"] == "2026-12-06T00:00:00Z" and failed["drill"]["differences"] == ["keys"]
    with pytest.raises(ValueError):
        drill.record(_drill("not run"), META)


def test_merge_writes_only_the_drill_fields():
    recorded = drill.record(_drill("passed"), dict(META, keys=1))  # a stale copy of the metadata
    now = dict(META, note="added since")
    merged = drill.merge(now, recorded)
    assert merged["keys"] == 53 and merged["note"] == "added since" and merged["verified_at"]
    again = drill.merge(merged, drill.record(_drill("failed"), merged))
    assert "verified_at" not in again and again["drill_result"] == "failed"


def test_failure_messages_name_the_snapshot_what_and_the_fix():
    damaged = drill.failure_message("/s/a.db", [], "it does not restore: snapshot file integrity check failed")
    assert damaged.startswith("The restore drill of /s/a.db failed: it does not restore: snapshot file integrity "
                              "check failed. The snapshot is damaged or is no etcd snapshot.")
    assert "were kept as they are. Fix: do not count on this snapshot for a recovery" in damaged
    differs = drill.failure_message("/s/a.db", ["keys at revision 54: x", "KV hash: y"], "")
    assert "failed: keys at revision 54: x; KV hash: y. It restores and serves, but not what was recorded" in differs


# -- the plan -------------------------------------------------------------------------------------------------------
def node(i, healthy=True, user="etcd", loaded=True):
    return dict(env=dict(ETCD_NAME="node%d" % i, ETCD_INITIAL_ADVERTISE_PEER_URLS="http://10.0.0.%d:2380" % i),
                unit=dict(user=user, load_state="loaded" if loaded else "not-found"),
                versions=dict(etcdctl="3.5.16"),
                probe=dict(quorate=healthy, error="" if healthy else "connection refused"))


def members(*states):
    out = []
    for i, s in enumerate(states, 1):
        m = dict(host="node%d" % i)
        if s == "unreachable":
            m.update(unreachable=True, node={})
        elif isinstance(s, tuple):
            m.update(error=s[1], node={})
        else:
            m["node"] = node(i, **s)
        out.append(m)
    return out


def meta(cluster="ours", name="etcd-cluster-20261201T000000Z-r5.db"):
    urls = {"node%d" % i: ["http://10.0.0.%d:2380" % i] for i in (1, 2, 3)} if cluster == "ours" else \
        {"node1": ["http://10.9.9.1:2380"]}
    return dict(file=name, member_peer_urls=urls, revision=5)


STORE = ["/b/etcd-cluster-20261202T000000Z-r9.db", "/b/etcd-cluster-20261201T000000Z-r5.db",
         "/b/etcd-cluster-20261203T000000Z-r12.db", "/b/notes.db"]
METAS = [meta(), meta(), meta("theirs"), {}]
DOWN = dict(healthy=False)

PLANS = [
    ("the newest of this cluster's, on the first healthy member", [{}, {}, {}], {},
     dict(member="node1", user="etcd", snapshot="/b/etcd-cluster-20261202T000000Z-r9.db", refusals=[])),
    ("the first healthy member when the first is down", [DOWN, {}, {}], {}, dict(member="node2")),
    ("no healthy member: the first one read (a drill needs no quorum)", [DOWN, "unreachable", DOWN], {},
     dict(member="node1", refusals=[])),
    ("the member asked for, down or not", [{}, {}, DOWN], dict(member="node3"), dict(member="node3", refusals=[])),
    ("the user asked for", [{}, {}, {}], dict(user="svc-etcd"), dict(user="svc-etcd")),
    ("no unit yet: etcd, the user deploy makes", [dict(loaded=False), {}, {}], {}, dict(user="etcd")),
    ("the named snapshot, another cluster's: drilled, and said so", [{}, {}, {}],
     dict(snapshot="/b/etcd-cluster-20261203T000000Z-r12.db"),
     dict(snapshot="/b/etcd-cluster-20261203T000000Z-r12.db", refusals=[])),
]


@pytest.mark.parametrize("case,states,settings,expected", PLANS, ids=[c[0] for c in PLANS])
def test_the_plan(case, states, settings, expected):
    result = drill.drill_plan(members(*states), dict(dict(store="/b", stored=STORE, metas=METAS), **settings))
    for key, value in expected.items():
        assert result[key] == value, (key, result)
    if settings.get("snapshot"):
        assert result["cluster"]["match"] == "other" and "10.9.9.1" in result["cluster"]["reason"]
    elif not result["refusals"]:
        assert result["cluster"]["match"] == "same" and result["meta"] == meta()


REFUSALS = [
    ("no member could be read", ["unreachable", ("failed", "sudo: a password is required"), "unreachable"], {},
     "No member of group etcd could be read (node1: unreachable; node2: not read: sudo: a password is required; "
     "node3: unreachable). Nothing was changed. Fix: a drill needs one reachable member where become works"),
    ("a member not in the play", [{}, {}, {}], dict(member="node9"),
     "etcd_verify_member node9 is not a member of the play that could be read (not in group etcd). Nothing was "
     "changed. Fix: pick a member that is reachable"),
    ("a member that cannot be read", [{}, "unreachable", {}], dict(member="node2"),
     "etcd_verify_member node2 is not a member of the play that could be read (unreachable)."),
    ("a unit that runs etcd as root", [dict(user=""), {}, {}], {},
     "The unit on node1 runs etcd as root, and the drill's scratch etcd never runs as root. Nothing was changed. "
     "Fix: set etcd_verify_user to an unprivileged user (etcd)."),
    ("etcd_verify_user root", [{}, {}, {}], dict(user="root"), "never runs as root"),
    ("a store without a snapshot of this cluster", [{}, {}, {}], dict(stored=STORE[2:], metas=METAS[2:]),
     "The store /b holds no snapshot of this cluster (1 snapshot(s) there, none whose metadata names these "
     "members: node1=http://10.0.0.1:2380, node2=http://10.0.0.2:2380, node3=http://10.0.0.3:2380). Nothing was "
     "changed. Fix: take one with backup.yml, point etcd_backup_dir at your store, or name a file with -e "
     "etcd_snapshot=PATH."),
    ("a named snapshot that is no file", [{}, {}, {}], dict(snapshot="/nope.db", snapshot_is_file=False),
     "etcd_snapshot /nope.db is not a file on the controller. Nothing was changed. Fix: give the path of a "
     "snapshot file"),
]


@pytest.mark.parametrize("case,states,settings,message", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_the_refusals(case, states, settings, message):
    result = drill.drill_plan(members(*states), dict(dict(store="/b", stored=STORE, metas=METAS), **settings))
    assert any(message in refusal for refusal in result["refusals"]), result["refusals"]


DRILLED = dict(meta(), drill_result="passed", drilled_at="2026-12-04T00:00:00Z")
FAILED = dict(meta(), drill_result="failed", drilled_at="2026-12-04T00:00:00Z")


def test_every_snapshot_of_this_cluster_not_yet_drilled_in_the_store_oldest_first():
    stored = STORE + ["/b/etcd-cluster-20261204T000000Z-r20.db", "/b/etcd-cluster-20261130T000000Z-r2.db"]
    metas = [meta(), meta(), meta("theirs"), {}, DRILLED, FAILED]
    plan = drill.drill_plan(members({}, {}, {}), dict(store="/b", stored=stored, metas=metas, undrilled=True))
    assert plan["refusals"] == []
    assert [(d["member"], d["snapshot"], d["where"]) for d in plan["drills"]] == [
        ("node1", "/b/etcd-cluster-20261201T000000Z-r5.db", "store"),
        ("node1", "/b/etcd-cluster-20261202T000000Z-r9.db", "store")]
    # every one drilled: nothing to do, and no refusal
    done = drill.drill_plan(members({}, {}, {}), dict(store="/b", stored=stored[4:], metas=metas[4:], undrilled=True))
    assert done["drills"] == [] and done["refusals"] == [] and done["member"] == "node1"
    assert done["where_text"] == "/b"


def held(host, *snaps):
    return dict(host=host, snapshots=[dict(name=name, path="/var/backups/etcd-ops/" + name, metadata=m)
                                      for name, m in snaps])


N1, N2, N3 = ("etcd-cluster-20261201T000000Z-r5.db", "etcd-cluster-20261202T000000Z-r9.db",
              "etcd-cluster-20261203T000000Z-r12.db")
HELD = [held("node1", (N1, meta()), (N3, meta("theirs"))), held("node2", (N1, meta()), (N2, DRILLED)),
        held("node3", (N2, meta()))]
MEMBER_PLANS = [
    ("the newest of this cluster's on any member, drilled where it is", [{}, {}, {}], {},
     [("node2", N2)]),
    ("a name two members hold: on the first healthy one", [{}, DOWN, {}], {}, [("node3", N2)]),
    ("etcd_verify_member: its newest", [{}, {}, {}], dict(member="node1"), [("node1", N1)]),
    ("a name", [{}, {}, {}], dict(snapshot=N1), [("node1", N1)]),
    ("a name, as a path", [DOWN, {}, {}], dict(snapshot="/somewhere/" + N1), [("node2", N1)]),
    ("another cluster's by name", [{}, {}, {}], dict(snapshot=N3), [("node1", N3)]),
    ("every one not yet drilled, oldest first, each copy where it is", [{}, {}, {}], dict(undrilled=True),
     [("node1", N1), ("node2", N1), ("node3", N2)]),
    ("an unreachable member's are left out", [{}, {}, "unreachable"], dict(undrilled=True),
     [("node1", N1), ("node2", N1)]),
]


@pytest.mark.parametrize("case,states,settings,expected", MEMBER_PLANS, ids=[c[0] for c in MEMBER_PLANS])
def test_the_plan_of_the_members_scheduled_snapshots(case, states, settings, expected):
    plan = drill.drill_plan(members(*states), dict(dict(source="member", held=HELD), **settings))
    assert plan["refusals"] == []
    assert [(d["member"], d["snapshot"].rsplit("/", 1)[1]) for d in plan["drills"]] == expected
    assert all(d["where"] == "member" and d["snapshot"].startswith("/var/backups/etcd-ops/") for d in plan["drills"])
    assert (plan["member"], plan["snapshot"]) == (plan["drills"][0]["member"], plan["drills"][0]["snapshot"])
    first = plan["drills"][0]
    assert first["cluster"]["match"] == ("other" if expected[0][1] == N3 else "same")


MEMBER_REFUSALS = [
    ("a name no member holds", {}, dict(snapshot="etcd-cluster-20261209T000000Z-r1.db"),
     "No member holds etcd-cluster-20261209T000000Z-r1.db in /var/backups/etcd-ops. Nothing was changed. Fix: name "
     "one a member holds (playbooks/list_backups.yml lists them and where)"),
    ("a name etcd_verify_member does not hold", {}, dict(snapshot=N2, member="node1"),
     "etcd_verify_member node1 does not hold etcd-cluster-20261202T000000Z-r9.db in /var/backups/etcd-ops. "
     "Nothing was changed."),
    ("etcd_verify_member keeps none of this cluster's", {},
     dict(member="node3", held=[held("node3", (N3, meta("theirs")))]),
     "etcd_verify_member node3 does not hold a snapshot of this cluster in /var/backups/etcd-ops (1 snapshot(s) "
     "there"),
    ("no scheduled snapshot of this cluster", dict(held=[held("node1", (N3, meta("theirs")))]), {},
     "No member holds a snapshot of this cluster in /var/backups/etcd-ops (1 snapshot(s) there, none whose metadata "
     "names these members: node1=http://10.0.0.1:2380, node2=http://10.0.0.2:2380, node3=http://10.0.0.3:2380). "
     "Nothing was changed. Fix: install the members' timer (backup.yml -e etcd_backup_schedule=daily)"),
    ("an unknown source", dict(source="bucket"), {},
     "etcd_verify_source bucket is not one of store, member, s3. Nothing was changed."),
    ("a name and every one not yet drilled", {}, dict(snapshot=N1, undrilled=True),
     "etcd_snapshot and etcd_verify_undrilled are both given. Nothing was changed."),
]


@pytest.mark.parametrize("case,base,settings,message", MEMBER_REFUSALS, ids=[c[0] for c in MEMBER_REFUSALS])
def test_the_refusals_of_the_members_scheduled_snapshots(case, base, settings, message):
    given = dict(dict(source="member", held=HELD, schedule_dir="/var/backups/etcd-ops"), **base)
    plan = drill.drill_plan(members({}, {}, {}), dict(given, **settings))
    assert plan["drills"] == [] and any(message in refusal for refusal in plan["refusals"]), plan["refusals"]


BUCKET = [dict(name=N1, object=N1 + ".zst.age", metadata=meta()), dict(name=N2, object=N2, metadata=DRILLED),
          dict(name=N3, object=N3, metadata=meta("theirs")),
          dict(name="etcd-cluster-20261130T000000Z-r2.db", object="etcd-cluster-20261130T000000Z-r2.db", metadata={})]
BUCKET_PLANS = [
    ("the newest of this cluster's", {}, [(N2, N2)]),
    ("every one not yet drilled", dict(undrilled=True), [(N1, N1 + ".zst.age")]),
    ("a name", dict(snapshot=N3), [(N3, N3)]),
    ("a name given with the object's suffixes", dict(snapshot=N1 + ".zst.age"), [(N1, N1 + ".zst.age")]),
]


@pytest.mark.parametrize("case,settings,expected", BUCKET_PLANS, ids=[c[0] for c in BUCKET_PLANS])
def test_the_plan_of_the_bucket(case, settings, expected):
    plan = drill.drill_plan(members({}, {}, {}), dict(dict(source="s3", bucket=BUCKET, bucket_url="s3://b/p/"),
                                                      **settings))
    assert plan["refusals"] == []
    assert [(d["snapshot"], d["object"]) for d in plan["drills"]] == expected
    assert all(d["where"] == "s3" and d["member"] == "node1" for d in plan["drills"])
    assert plan["where_text"] == "s3://b/p/"


@pytest.mark.parametrize("settings,message", [
    (dict(snapshot="etcd-cluster-20261209T000000Z-r1.db"),
     "s3://b/p/etcd-cluster-20261209T000000Z-r1.db is not in the bucket, or has no .sha256 object beside it (its "
     "upload did not finish). Nothing was changed. Fix: name one of the bucket's snapshots"),
    (dict(bucket=BUCKET[2:]),
     "s3://b/p/ holds no snapshot of this cluster (2 snapshot(s) there, none whose metadata names these members: "
     "node1=http://10.0.0.1:2380"),
], ids=["a name the bucket lacks", "no snapshot of this cluster"])
def test_the_refusals_of_the_bucket(settings, message):
    plan = drill.drill_plan(members({}, {}, {}), dict(dict(source="s3", bucket=BUCKET, bucket_url="s3://b/p/"),
                                                      **settings))
    assert plan["drills"] == [] and any(message in r for r in plan["refusals"]), plan["refusals"]


def test_the_plan_refuses_metadata_out_of_step_with_the_paths():
    with pytest.raises(ValueError):
        drill.drill_plan(members({}), dict(stored=STORE, metas=METAS[:1]))


# -- disaster_recovery's etcd_snapshot_time: the newest drilled snapshot at or before a time ------------------------
def taken(time, result="passed"):
    meta = dict(time=time)
    if result:
        meta["drill_result"] = result
    return meta


AT_NAMES = ["s1", "s2", "s3", "s4"]
AT_METAS = {"s1": taken("2026-12-01T02:00:00Z"), "s2": taken("2026-12-02T02:00:00Z", "failed"),
            "s3": taken("2026-12-03T02:00:00Z", None), "s4": taken("2026-12-04T02:00:00Z")}


@pytest.mark.parametrize("at,chosen", [
    ("2026-12-05T00:00:00Z", "s4"),
    ("2026-12-04T02:00:00Z", "s4"),        # at the time itself
    ("2026-12-04T01:59:59Z", "s1"),        # s3 never drilled, s2's drill failed
    ("2026-12-04 03:30", "s4"),            # no zone: UTC
    ("2026-12-04T04:00:00+02:00", "s4"),   # 02:00 UTC
    ("2026-12-04T03:59:59+02:00", "s1"),
    ("2026-12-02", "s1"),                  # a date: its midnight
])
def test_snapshot_at(at, chosen):
    out = drill.snapshot_at(AT_NAMES, AT_METAS, at)
    assert out["snapshot"] == chosen and out["refusal"] == "" and out["time"] == AT_METAS[chosen]["time"]


def test_snapshot_at_refusals():
    none_yet = drill.snapshot_at(AT_NAMES, AT_METAS, "2026-11-30T00:00:00Z")["refusal"]
    assert none_yet.startswith("No snapshot in the store was taken at or before 2026-11-30T00:00:00Z (4 there, the "
                               "oldest taken 2026-12-01T02:00:00Z). Nothing was changed. Fix: ")
    undrilled = drill.snapshot_at(["s2", "s3"], AT_METAS, "2026-12-03T12:00:00Z", "s3://b/etcd/")["refusal"]
    assert undrilled.startswith("No snapshot in s3://b/etcd/ taken at or before 2026-12-03T12:00:00Z passed a restore "
                                "drill: 2 taken by then, none drilled with success (the newest: s3, taken "
                                "2026-12-03T02:00:00Z, never drilled). Nothing was changed. Fix: drill it with "
                                "verify_backup.yml -e etcd_snapshot=PATH")
    bad = drill.snapshot_at(AT_NAMES, AT_METAS, "yesterday")["refusal"]
    assert bad == ("etcd_snapshot_time yesterday is not a time. Nothing was changed. Fix: give an ISO 8601 time, UTC "
                   "unless it says otherwise, such as 2026-12-05T03:00:00Z or \"2026-12-05 03:00\".")
    # a snapshot without a time in its metadata is never chosen by time
    assert drill.snapshot_at(["x"], {"x": dict(drill_result="passed")}, "2026-12-05")["snapshot"] == ""
