"""disaster_recovery's decision over a table of cases: each row is what the members showed (etcd_node_info) and
what the plan must be. The refusal and resume rows of docs/reliability.md that depend on observations alone are
rows here; the lab proves the same rows end to end (tests/fault, the disaster_recovery scenarios)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import (
    WAL_SIZE,
    outside_refusal,
    peer_cert_facts,
    play_members,
    quorum_refusal,
    recovery_plan,
    restored_cluster,
)

SHA = "a" * 64
CLUSTER = "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380,node3=http://10.0.0.3:2380"
SNAPSHOT = dict(sha256=SHA, size=10 * 1024 * 1024)
SETTINGS = dict(initial_cluster=CLUSTER, force=False, new_token=False, stamp="20261204T010000Z", bump=True,
                bump_by=1000000000, service_user="etcd", env_file="/data/etcd.env")
GB = 1024 ** 3


def node(active="inactive", healthy=False, quorate=False, status=None, error="connection refused", ran=True,
         data=None, staging=None, done=None, mountpoint=False, initialised=True, free=(GB, GB),
         mounts=("/", "/"), user="etcd", loaded="loaded", kept=(), work_dirs=None, wal=None, wal_mark=None,
         wal_staging=None):
    """What etcd_node_info returns for one member (the parts the plan reads); `wal` a separate WAL dir's read
    (WAL_DIR's, with these keys changed)."""
    wal_read = dict(WAL_DIR, **wal) if wal is not None else dict(dir="", exists=False, mountpoint=False, space={})
    return dict(
        wal_dir=wal_read["dir"], wal=wal_read,
        unit=dict(load_state=loaded, active_state=active, user=user),
        probe=dict(ran=ran, healthy=healthy, quorate=quorate, alarms=[], status=status or {}, error=error),
        data=dict(exists=True, initialised=initialised, mountpoint=mountpoint),
        space=[dict(path="/data", mount=mounts[0], free=free[0]),
               dict(path="/var/lib/etcd-ops/recovery", mount=mounts[1], free=free[1])],
        marks=dict(data=data, staging=staging, done=done, wal=wal_mark, wal_staging=wal_staging),
        kept=list(kept), work_dirs=work_dirs or {"/var/lib/etcd-ops/recovery": ""})


# a separate WAL dir (issue #24, edge 2), on the data dir's filesystem
WAL_DIR = dict(dir="/data/etcd.wal", exists=True, holds_wal=True, mountpoint=False, owner="etcd", group="etcd",
               parent_writable=False, parent="root:root 0755", space=dict(path="/data", mount="/", free=GB))


def mark(sha=SHA, cluster=CLUSTER, token="etcd-cluster-20261201T000000Z", bump=1000000000):
    return dict(snapshot_sha256=sha, initial_cluster=cluster, cluster_token=token, bump_revision=bump,
                name="node1", peer_urls=["http://10.0.0.1:2380"])


def members(*nodes, token="etcd-cluster"):
    return [dict(host="node%d" % i, name="node%d" % i, peer_urls=["http://10.0.0.%d:2380" % i],
                 data_dir="/data/etcd.data", wal_dir=n.get("wal_dir", ""), endpoint="http://10.0.0.%d:2379" % i,
                 token=token, node=n)
            for i, n in enumerate(nodes, 1)]


LOST = node()  # etcd stopped or dead, no marks: the disaster
LEADER = dict(has_leader=True, revision=42)


def plan(nodes, token="etcd-cluster", **settings):
    return recovery_plan(members(*nodes, token=token), SNAPSHOT, dict(SETTINGS, **settings))


# (case, nodes, settings, expected subset of the plan)
STATE_CASES = [
    ("every member lost: rebuild", [LOST, LOST, LOST], {},
     dict(state="recover", token="etcd-cluster", resumed=False, bump=1000000000, refusals=[], healthy_hosts=[])),
    ("a healthy member: the cluster has quorum", [LOST, node(active="active", healthy=True, quorate=True,
                                                             status=LEADER, error=""), LOST], {},
     dict(state="refuse", healthy_hosts=["node2"], refusals=[])),
    ("a quorate cluster under NOSPACE is not lost", [node(active="active", healthy=True, quorate=True,
                                                          status=LEADER, error="Active Alarm(s): NOSPACE")] * 3, {},
     dict(state="refuse", healthy_hosts=["node1", "node2", "node3"])),
    ("a slow health read, but a status with a leader", [node(active="active", healthy=True, status=LEADER,
                                                             error="context deadline exceeded"), LOST, LOST], {},
     dict(state="refuse")),
    ("the cluster has quorum, forced", [node(active="active", healthy=True, quorate=True, status=LEADER, error=""),
                                        LOST, LOST], dict(force=True),
     dict(state="recover", refusals=[])),
    ("a new token is stamped with the run's time", [LOST] * 3, dict(new_token=True),
     dict(state="recover", token="etcd-cluster-20261204T010000Z")),
    ("a stamped token is stamped anew, not twice", [LOST] * 3, dict(new_token=True),
     dict(token="etcd-cluster-20261204T010000Z")),
    ("no bump asked", [LOST] * 3, dict(bump=False), dict(bump=0)),
    ("an interrupted run switched node1: resume with its token and bump",
     [node(data=mark(bump=7)), node(staging=mark(bump=7)), LOST], dict(new_token=True),
     dict(state="recover", resumed=True, token="etcd-cluster-20261201T000000Z", bump=7)),
    ("marks of another snapshot are not an earlier run of this one",
     [node(data=mark(sha="b" * 64)), node(staging=mark(cluster="x=http://1.1.1.1:2380")), LOST], {},
     dict(state="recover", resumed=False, token="etcd-cluster")),
    ("every member switched and the cluster came up: complete",
     [node(data=mark(), active="active", healthy=True, quorate=True, status=LEADER, error="")] * 3, {},
     dict(state="complete", resumed=True, token="etcd-cluster-20261201T000000Z")),
    ("a verified recovery of this snapshot: done, nothing to do",
     [node(done=mark(token="etcd-cluster", bump=5), active="active", healthy=True, quorate=True, status=LEADER,
           error="")] * 3, dict(new_token=True),
     dict(state="done", token="etcd-cluster", bump=5, resumed=False, refusals=[])),
    ("a verified recovery, forced again: a new rebuild",
     [node(done=mark(token="etcd-cluster"), active="active", healthy=True, quorate=True, status=LEADER, error="")] * 3,
     dict(new_token=True, force=True),
     dict(state="recover", token="etcd-cluster-20261204T010000Z", bump=1000000000)),
    ("a retired mark of an older token is a new disaster", [node(done=mark(token="old-token"))] * 3, {},
     dict(state="recover", resumed=False)),
    # issue #24, edge 2: a separate WAL dir
    ("every member switched both dirs and the cluster came up: complete",
     [node(data=mark(), wal={}, wal_mark=mark(), active="active", healthy=True, quorate=True, status=LEADER,
           error="")] * 3, {},
     dict(state="complete", resumed=True)),
    ("data dirs switched without their WAL dirs (etcd fails on the old WAL): resumed, not 'complete'",
     [node(data=mark(), wal={}, active="activating")] * 3, {},
     dict(state="recover", resumed=True, token="etcd-cluster-20261201T000000Z")),
    ("a WAL dir switched by a run killed before the data dir: resume with its token",
     [node(wal={}, wal_mark=mark(token="t-wal", bump=9), staging=mark(token="t-wal", bump=9)), LOST, LOST],
     dict(new_token=True), dict(state="recover", resumed=True, token="t-wal", bump=9)),
]


@pytest.mark.parametrize("case,nodes,settings,expected", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_token_and_bump(case, nodes, settings, expected):
    token = "etcd-cluster-20261101T000000Z" if "stamped anew" in case else "etcd-cluster"
    result = plan(copy.deepcopy(nodes), token=token, **settings)
    assert {key: result[key] for key in expected} == expected


def test_resume_takes_the_first_member_s_mark_in_inventory_order():
    result = plan([LOST, node(staging=mark(token="t-2", bump=3)), node(data=mark(token="t-3", bump=4))])
    assert result["token"] == "t-2" and result["bump"] == 3
    assert [m["cluster_token"] for m in result["earlier"]] == ["t-2", "t-3"]
    assert [result["members"][h]["switched"] for h in ("node1", "node2", "node3")] == [False, False, True]


def test_each_member_s_part():
    result = plan([node(), node(initialised=False, loaded="not-found"), node(data=mark(), user="", kept=["/d.2"])])
    parts = result["members"]
    assert parts["node1"] == dict(
        switched=False, retired=False, healthy=False, owner="etcd", kept=[],
        plan="member node1 http://10.0.0.1:2380, owned by etcd; "
             "move /data/etcd.data aside to /data/etcd.data.<UTC time>")
    assert parts["node2"]["owner"] == "etcd"  # no unit: the role's etcd_service_user
    assert parts["node2"]["plan"].endswith("/data/etcd.data holds no data, nothing to move aside")
    assert parts["node3"]["owner"] == "root"  # a unit without User= runs etcd as root
    assert parts["node3"]["plan"] == "restored by an earlier run of this recovery: start it"
    assert parts["node3"]["kept"] == ["/d.2"]


def test_each_member_s_part_with_a_wal_dir():
    """Issue #24, edge 2: a member counts as switched only when both its dirs are; the plan names the WAL dir."""
    result = plan([node(wal={}), node(data=mark(), wal={}), node(data=mark(), wal={}, wal_mark=mark())])
    parts = result["members"]
    assert parts["node1"]["plan"] == (
        "member node1 http://10.0.0.1:2380, owned by etcd; move /data/etcd.data aside to /data/etcd.data.<UTC time>, "
        "and the WAL dir /data/etcd.wal to /data/etcd.wal.<UTC time>")
    assert [parts[h]["switched"] for h in ("node1", "node2", "node3")] == [False, False, True]
    assert plan([node(wal=dict(exists=False))])["members"]["node1"]["plan"].endswith(
        "; the WAL dir /data/etcd.wal is made")


# (case, nodes, settings, the refusals' texts must hold these, in this order; [] for none)
REFUSAL_CASES = [
    ("a member without the etcd tools",
     [LOST, node(ran=False, error="etcdctl is not installed on this host. Install etcd-client or set etcdctl_path."),
      LOST], {},
     ["node2: etcdctl is not installed on this host. Install etcd-client or set etcdctl_path. Nothing was changed. "
      "Fix: install etcd's tools there (Debian: apt-get install etcd-client etcd-server), then run this again."]),
    ("no tools is refused before the quorum is judged",
     [node(active="active", healthy=True, quorate=True, status=LEADER, error=""),
      node(ran=False, error="etcdctl is not installed on this host."), LOST], {},
     ["node2: etcdctl is not installed on this host. Nothing was changed."]),
    ("etcd runs but does not answer at its env file's URL",
     [node(active="active", error="dial tcp 10.0.0.1:2999: connect: connection refused"), LOST, LOST], {},
     ["etcd runs on node1 (systemd: active) but does not answer at http://10.0.0.1:2379 (dial tcp 10.0.0.1:2999: "
      "connect: connection refused)\nA cluster may still be serving there: this is not known to be a disaster. "
      "Nothing was changed.\nFix: correct ETCD_ADVERTISE_CLIENT_URLS in /data/etcd.env (the tools talk to its first "
      "URL), or stop etcd on a member that is truly lost (systemctl stop etcd); etcd_force_recovery=true goes ahead "
      "anyway."]),
    ("etcd runs but does not answer, forced", [node(active="active"), LOST, LOST], dict(force=True), []),
    ("a silent member's TLS error names its fix first",
     [node(active="active", error="x509: certificate signed by unknown authority"), LOST, LOST], {},
     ["(x509: certificate signed by unknown authority)", "Fix: ", "Otherwise: correct ETCD_ADVERTISE_CLIENT_URLS"]),
    ("a data dir that is a mount point", [LOST, node(mountpoint=True), LOST], {},
     ["node2: the data dir /data/etcd.data is a mount point. A recovery restores beside it "
      "(/data/etcd.data.etcd-ops-staging) and renames that into place, and moves the old dir aside: a mount point can "
      "be neither replaced nor moved. Nothing was changed. Fix: with etcd stopped, move the member dir one level down "
      "(e.g. /data/etcd.data/data) and set ETCD_DATA_DIR to it in /data/etcd.env, or mount the disk one level up."]),
    ("a mount point an earlier run switched already", [node(mountpoint=True, data=mark()), LOST, LOST], {}, []),
    ("no room for the copy on its own filesystem", [LOST, node(free=(GB, 16384), mounts=("/", "/var/tmp")), LOST], {},
     ["Not enough space on node2: /var/tmp has 16384 bytes free, 10485760 needed (the snapshot is 10485760 bytes; a "
      "restore takes about that beside the data dir, a 64 MiB WAL file beside the data dir, and the copy on the node "
      "as much again). Nothing was changed. Fix: free space there, or set etcd_recovery_node_dir to a disk with room "
      "for the copy."]),
    ("no room for the restore and the copy on one filesystem", [node(free=(80 * 2 ** 20,) * 2), LOST, LOST], {},
     ["Not enough space on node1: / has 83886080 bytes free, %d needed" % (int(10485760 * 1.1) + WAL_SIZE + 10485760)]),
    ("no room for the restore beside the data dir", [node(free=(2 ** 20, GB), mounts=("/data", "/")), LOST, LOST], {},
     ["Not enough space on node1: /data has 1048576 bytes free, %d needed" % (int(10485760 * 1.1) + WAL_SIZE)]),
    ("a switched member needs room for the copy only", [node(free=(10485760,) * 2, data=mark()), LOST, LOST], {},
     []),
    # issue #24, edge 6
    ("a work dir another user made",
     [LOST, node(work_dirs={"/var/tmp/etcd-ops-recovery": "/var/tmp/etcd-ops-recovery belongs to uid 1000, not root"}),
      LOST], {},
     ["node2: The work dir /var/tmp/etcd-ops-recovery is not safe to hold a snapshot: /var/tmp/etcd-ops-recovery "
      "belongs to uid 1000, not root. A snapshot holds every key of the cluster", "Nothing was changed on any member. "
      "Fix: remove or move what is there"]),
    ("a work dir that is a link, on a switched member too",
     [node(data=mark(), work_dirs={"/var/tmp/x": "/var/tmp/x is a symbolic link"}), LOST, LOST], {},
     ["node1: The work dir /var/tmp/x is not safe to hold a snapshot: /var/tmp/x is a symbolic link."]),
    # issue #24, edge 2: a separate WAL dir
    ("a WAL dir that is a mount point", [LOST, node(wal=dict(mountpoint=True)), LOST], {},
     ["node2: the WAL dir /data/etcd.wal (ETCD_WAL_DIR) is a mount point. A recovery restores the WAL beside it "
      "(/data/etcd.wal.etcd-ops-staging) and renames that into place, and moves the old WAL dir aside: a mount point "
      "can be neither replaced nor moved. Nothing was changed. Fix: with etcd stopped, move the WAL files one level "
      "down (install -d -o etcd -g etcd -m 0700 /data/etcd.wal/wal && mv /data/etcd.wal/*.wal /data/etcd.wal/wal/) "
      "and set ETCD_WAL_DIR=/data/etcd.wal/wal in /data/etcd.env, or mount the disk one level up."]),
    ("a WAL dir inside the data dir",
     [LOST, node(wal=dict(dir="/data/etcd.data/wal")), LOST], {},
     ["node2: the WAL dir /data/etcd.data/wal (ETCD_WAL_DIR) is inside the data dir /data/etcd.data. A recovery "
      "restores each beside it and switches each by a rename: the restored WAL would go away with the old data dir. "
      "Nothing was changed. Fix: with etcd stopped, move the WAL dir out of the data dir (e.g. to /data/etcd.data-wal,"
      " keeping its owner) and set ETCD_WAL_DIR to it in /data/etcd.env; or remove ETCD_WAL_DIR there and move the "
      "WAL files to /data/etcd.data/member/wal, etcd's own place for them."]),
    ("a WAL mount point whose data dir alone was switched", [node(wal=dict(mountpoint=True), data=mark()), LOST,
                                                             LOST], {}, ["node1: the WAL dir /data/etcd.wal"]),
    ("a WAL mount point an earlier run switched already (both dirs)",
     [node(wal=dict(mountpoint=True), data=mark(), wal_mark=mark()), LOST, LOST], {}, []),
    ("no room for the first WAL file on the WAL disk",
     [LOST, node(wal=dict(space=dict(path="/wal", mount="/wal", free=2 ** 20))), LOST], {},
     ["Not enough space on node2: /wal has 1048576 bytes free, %d needed (the snapshot is 10485760 bytes; a restore "
      "takes about that beside the data dir, a 64 MiB WAL file beside the WAL dir" % WAL_SIZE]),
    ("the WAL disk does not count the db", [node(free=(int(10485760 * 1.1), GB), mounts=("/data", "/"),
                                                 wal=dict(space=dict(path="/wal", mount="/wal", free=WAL_SIZE))),
                                            LOST, LOST], {}, []),
    ("a WAL dir on the data disk: db and WAL added up",
     [node(free=(int(10485760 * 1.1) + WAL_SIZE - 1, GB), mounts=("/data", "/"),
           wal=dict(space=dict(path="/data", mount="/data", free=int(10485760 * 1.1) + WAL_SIZE - 1))), LOST, LOST],
     {}, ["Not enough space on node1: /data has %d bytes free, %d needed" % (
         int(10485760 * 1.1) + WAL_SIZE - 1, int(10485760 * 1.1) + WAL_SIZE)]),
    ("every refusal of a rebuild at once, in order",
     [node(active="active"), node(mountpoint=True), node(free=(1, 1))], {},
     ["etcd runs on node1", "node2: the data dir", "Not enough space on node3"]),
    ("the cluster has quorum: only the quorum is reported (it needs a read of the live cluster)",
     [node(active="active", healthy=True, quorate=True, status=LEADER, error=""), node(mountpoint=True),
      node(free=(1, 1))], {}, []),
]


@pytest.mark.parametrize("case,nodes,settings,expected", REFUSAL_CASES, ids=[c[0] for c in REFUSAL_CASES])
def test_refusals(case, nodes, settings, expected):
    text = "\n".join(plan(copy.deepcopy(nodes), **settings)["refusals"])
    if not expected:
        assert text == ""
    position = 0
    for part in expected:
        found = text.find(part, position)
        assert found >= 0, "%r not in %r (after position %d)" % (part, text, position)
        position = found + len(part)


def test_every_refusal_says_nothing_changed_and_names_a_fix():
    result = plan([node(active="active"), node(mountpoint=True), node(free=(1, 1))])
    assert len(result["refusals"]) == 3
    for text in result["refusals"]:
        assert "Nothing was changed." in text and "Fix: " in text


def test_no_members_is_an_error_not_a_plan():
    with pytest.raises(ValueError):
        recovery_plan([], SNAPSHOT, SETTINGS)


# -- the restored cluster, and the members the play leaves out ------------------------------------------------------
FIVE = ",".join("node%d=http://10.0.0.%d:2380" % (i, i) for i in range(1, 6))


def named(*hosts, env_initial_cluster=FIVE, env_exists=True):
    return [dict(host="node%d" % i, name="node%d" % i, peer_urls=["http://10.0.0.%d:2380" % i],
                 endpoint="https://10.0.0.%d:2379" % i, env_exists=env_exists, env_initial_cluster=env_initial_cluster)
            for i in hosts]


def test_the_restored_cluster_is_the_play_in_inventory_order():
    cluster = restored_cluster(named(3, 1, 2, env_initial_cluster=CLUSTER), [])
    assert cluster["initial_cluster"] == ("node3=http://10.0.0.3:2380,node1=http://10.0.0.1:2380,"
                                          "node2=http://10.0.0.2:2380")
    assert cluster["outside"] == [] and cluster["refusals"] == [] and cluster["names"] == ["node3", "node1", "node2"]


def test_members_outside_the_play_are_found_with_a_client_url_to_ask():
    cluster = restored_cluster(named(4, 5), "node1, node2,node3")
    assert [m["name"] for m in cluster["outside"]] == ["node1", "node2", "node3"]
    assert cluster["outside"][0] == dict(name="node1", peer_urls=["http://10.0.0.1:2380"],
                                         client_url="https://10.0.0.1:2379")
    assert cluster["gone"] == ["node1", "node2", "node3"] and cluster["refusals"] == []


@pytest.mark.parametrize("members, gone, expected", [
    (named(1, 2, env_exists=False), [], "node1, node2 have no /data/etcd.env: etcd is not set up there"),
    ([dict(m, name="node1") for m in named(1, 2)], [], "Two members would share a name or a peer URL: "
                                                       "node1=node1 http://10.0.0.1:2380; node2=node1"),
    ([dict(m, peer_urls=["http://10.0.0.9:2380"]) for m in named(1, 2)], [], "Two members would share a name"),
    (named(1, 2), ["node2", "node7"], "etcd_recovery_gone_members names node2, which the play holds and restores."),
], ids=["no env file", "one name twice", "one peer URL twice", "a gone member the play holds"])
def test_what_the_restored_cluster_refuses(members, gone, expected):
    [text] = restored_cluster(members, gone, "/data/etcd.env")["refusals"]
    assert text.startswith(expected) and "Nothing was changed." in text and "Fix: " in text


def answer(url, leader=True):
    return dict(endpoint=url, status=dict(has_leader=leader), error="")


SILENT = [dict(endpoint="https://10.0.0.%d:2379" % i, status={}, error="connection refused") for i in (1, 2, 3)]


@pytest.mark.parametrize("gone, endpoints, expected", [
    ([], [answer("https://10.0.0.%d:2379" % i) for i in (1, 2, 3)],
     ["  node1 http://10.0.0.1:2380: etcd answers at https://10.0.0.1:2379, with a leader\n",
      "Rebuilding only node4, node5 from the snapshot would make a second cluster beside them, and clients that reach",
      "Fix: node1, node2, node3 still run etcd: put them in group etcd"]),
    (["node1", "node2", "node3"], [answer("https://10.0.0.1:2379", leader=False)] + SILENT[1:],
     ["etcd answers at https://10.0.0.1:2379, without a leader (named gone)",
      "no answer at https://10.0.0.2:2379 (named gone)", "Fix: node1 still runs etcd: put it in group etcd"]),
    (["node1"], SILENT + [dict(endpoint="https://10.0.0.2:2379", status={}, error="etcdserver: user name is empty")],
     ["node2 http://10.0.0.2:2380: etcd answers at https://10.0.0.2:2379 (etcdserver: user name is empty)",
      "Fix: node2 still runs etcd"]),
    (["node1"], SILENT,
     ["no answer at https://10.0.0.1:2379 (named gone)", "beside them. Nothing was changed.",
      "Fix: put them in group etcd (the cluster is rebuilt on all its members at once); or, if they are gone for "
      "good, name them: -e '{\"etcd_recovery_gone_members\": [\"node1\", \"node2\", \"node3\"]}'."]),
    (["node1", "node2", "node3"], SILENT, []),
], ids=["three answer with a leader", "named gone, one answers", "etcd refuses the status: it answers",
        "silent but not named gone", "every one gone and silent: go on"])
def test_a_recovery_of_part_of_the_cluster(gone, endpoints, expected):
    text = outside_refusal(restored_cluster(named(4, 5), gone, "/data/etcd.env"), endpoints, "/data/etcd.env")
    if not expected:
        assert text == ""
    position = 0
    for part in expected:
        found = text.find(part, position)
        assert found >= 0, "%r not in %r" % (part, text)
        position = found + len(part)


# -- the play's members, from one read of each ----------------------------------------------------------------------
def pem(names=("IP:10.0.0.1", "DNS:node1"), days=30):
    """A self-signed certificate naming `names`, ending `days` from now (negative: expired)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "member")])
    sans = [x509.IPAddress(ipaddress.ip_address(n[3:])) if n.startswith("IP:") else x509.DNSName(n[4:])
            for n in names]
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(1).not_valid_before(now - datetime.timedelta(days=400))
               .not_valid_after(now + datetime.timedelta(days=days)))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def read(i, env=None, peer_cert=None, **node):
    """One member's seen entry: what etcd_node_info registered there, and the inventory's name and peer URL."""
    env = {"ETCD_NAME": "node%d" % i, "ETCD_INITIAL_ADVERTISE_PEER_URLS": "http://10.0.0.%d:2380" % i,
           "ETCD_INITIAL_CLUSTER": CLUSTER} if env is None else env
    result = dict(env_exists=bool(env), env=env, endpoint="http://10.0.0.%d:2379" % i, data_dir="/data/etcd.data",
                  wal_dir="", peer_cert=peer_cert or dict(path="", pem="", error=""))
    result.update(node)
    return dict(host="host%d" % i, node=result, name="inv%d" % i, peer_url="http://192.168.0.%d:2380" % i)


PLAY = dict(group=["host1", "host2", "host3"], play=["host1", "host2", "host3"], env_file="/data/etcd.env")


def tls(i, cert):
    env = {"ETCD_NAME": "node%d" % i, "ETCD_INITIAL_ADVERTISE_PEER_URLS": "https://10.0.0.%d:2380" % i,
           "ETCD_PEER_CERT_FILE": "/etc/etcd/peer.crt"}
    return read(i, env=env, peer_cert=cert)


def test_each_member_as_its_env_file_names_it_else_as_the_inventory_does():
    got = play_members([read(1), read(2, env={}), read(3, env={"ETCD_INITIAL_CLUSTER_TOKEN": "tok"})], PLAY)
    assert got["refusals"] == []
    one, two, three = got["members"]
    assert (one["name"], one["peer_urls"], one["token"]) == ("node1", ["http://10.0.0.1:2380"], "etcd-cluster")
    assert (two["name"], two["peer_urls"], two["env_exists"]) == ("inv2", ["http://192.168.0.2:2380"], False)
    assert (three["token"], three["env_initial_cluster"], three["tls_peer"]) == ("tok", "", False)
    assert one["node"]["endpoint"] == one["endpoint"] == "http://10.0.0.1:2379"


GOOD = dict(path="/etc/etcd/peer.crt", error="")


@pytest.mark.parametrize("seen, settings, expected", [
    ([read(1), read(2)], dict(PLAY, play=["host1", "host2"]),
     "The play leaves out host3 (--limit?). A cluster is rebuilt from one snapshot on all its members at once."),
    ([], dict(PLAY, group=[], play=["host1"]), "Group etcd is empty."),
    ([read(1), read(2, unreachable=True), read(3, unreachable=True)], PLAY,
     "host2, host3 are unreachable over SSH, and every member of the restored cluster must be restored."),
    ([read(1), read(2, unreachable=True, failed=True), read(3, failed=True, msg="sudo: a password is required\n")],
     PLAY, "host2 is unreachable over SSH, and every member"),
    ([read(1), read(2), read(3, failed=True, msg="sudo: a password is required\n")], PLAY,
     "host3: sudo: a password is required. Nothing was changed.\nFix: the cause above (become: sudo must work"),
    ([tls(1, dict(GOOD, pem=pem(days=-1)))], dict(PLAY, group=["host1"], play=["host1"]),
     "host1: the peer URLs are https (https://10.0.0.1:2380), but its peer certificate /etc/etcd/peer.crt expired on"),
    ([tls(1, dict(GOOD, pem=pem(names=("IP:10.0.0.9", "DNS:node1"))))], dict(PLAY, group=["host1"], play=["host1"]),
     "host1: the peer URLs are https (https://10.0.0.1:2380), but its peer certificate /etc/etcd/peer.crt does not "
     "name 10.0.0.1 (it names IP:10.0.0.9, DNS:node1)."),
    ([tls(1, dict(GOOD, pem=pem(names=())))], dict(PLAY, group=["host1"], play=["host1"]),
     "does not name 10.0.0.1 (it names nothing)."),
    ([tls(1, dict(path="/etc/etcd/peer.crt", pem="", error="[Errno 13] Permission denied"))],
     dict(PLAY, group=["host1"], play=["host1"]),
     "but the env file's ETCD_PEER_CERT_FILE (/etc/etcd/peer.crt) cannot be read ([Errno 13] Permission denied)."),
    ([read(1, env={"ETCD_INITIAL_ADVERTISE_PEER_URLS": "https://10.0.0.1:2380"})],
     dict(PLAY, group=["host1"], play=["host1"]), "but the env file's ETCD_PEER_CERT_FILE (not set) cannot be read."),
    ([tls(1, dict(GOOD, pem="-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))],
     dict(PLAY, group=["host1"], play=["host1"]),
     "but the env file's ETCD_PEER_CERT_FILE (/etc/etcd/peer.crt) holds no certificate"),
], ids=["the play leaves out a member", "group etcd is empty", "two unreachable", "unreachable before unread",
        "sudo fails on one", "an expired peer certificate", "a peer certificate that does not name the address",
        "a peer certificate without names", "an unreadable peer certificate", "https without a peer certificate",
        "a peer certificate file that holds none"])
def test_what_stops_a_recovery_before_the_cluster_is_worked_out(seen, settings, expected):
    [text] = play_members(seen, settings)["refusals"]
    assert expected in text, text
    assert "Nothing was changed." in text and "Fix: " in text


@pytest.mark.parametrize("env", [
    {"ETCD_INITIAL_ADVERTISE_PEER_URLS": "https://10.0.0.1:2380", "ETCD_PEER_AUTO_TLS": "true"},
    {"ETCD_INITIAL_ADVERTISE_PEER_URLS": "https://10.0.0.1:2380", "ETCD_PEER_CERT_FILE": "/p.crt"},
], ids=["auto TLS makes its own certificate", "a certificate that names the address"])
def test_peer_certificates_that_let_the_member_join(env):
    cert = dict(path="/p.crt", pem=pem(), error="")
    got = play_members([read(1, env=env, peer_cert=cert)], dict(PLAY, group=["host1"], play=["host1"]))
    assert got["refusals"] == [] and len(got["members"]) == 1


def test_peer_cert_facts_reads_names_and_the_end_date():
    import datetime

    facts = peer_cert_facts(pem(days=10))
    assert facts["names"] == ["IP:10.0.0.1", "DNS:node1"] and facts["expired"] is False
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=11)
    assert peer_cert_facts(pem(days=10), later)["expired"] is True


# -- the snapshot: its check on the controller, and its cluster ------------------------------------------------------
OTHER = dict(cluster_id="abc", cluster_token="etcd-cluster", member_peer_urls={"x1": ["http://10.9.9.1:2380"]})


@pytest.mark.parametrize("snapshot, settings, expected", [
    (dict(failed=True, msg="sha256 mismatch: the file was changed."), dict(older=["/s/b.db", "/s/a.db"]),
     ["sha256 mismatch: the file was changed. Nothing was changed. The next newest snapshot in the store is /s/b.db "
      "(-e etcd_snapshot=/s/b.db)."]),
    (dict(failed=True, msg="bad trailer."), dict(source="s3", s3_url="s3://b/p/c.db", s3_in_store=False, older=[]),
     ["s3://b/p/c.db failed its check on the controller: the object was changed or damaged in the bucket, or in "
      "transit. The downloaded copy was removed; the bucket was not changed. bad trailer. Nothing was changed."]),
    (dict(SNAPSHOT, meta=OTHER), dict(snapshot_path="/s/c.db"),
     ["/s/c.db is a snapshot of another cluster (ID abc, token etcd-cluster): its members are x1=http://10.9.9.1:2380;"]),
    (dict(SNAPSHOT, meta=OTHER), dict(snapshot_path="/s/c.db", snapshot_cluster="abc"), []),
    (dict(SNAPSHOT, meta=OTHER), dict(snapshot_path="/s/c.db", snapshot_cluster="def"), ["/s/c.db is a snapshot of"]),
    (dict(SNAPSHOT, meta=dict(OTHER, member_peer_urls={"node2": ["http://10.0.0.2:2380"]})), {}, []),
], ids=["the store's fails its check", "the bucket's fails its check", "another cluster's",
        "another cluster's, named on purpose", "another cluster's, another ID named", "this cluster's"])
def test_the_snapshot_is_refused_before_anything_else(snapshot, settings, expected):
    got = recovery_plan(members(node(active="active", healthy=True, status=LEADER), LOST, LOST), snapshot,
                        dict(SETTINGS, **settings))["refusals"]
    assert len(got) == len(expected)
    for text, start in zip(got, expected, strict=True):
        assert text.startswith(start), text
        assert "Nothing was changed." in text


# -- the quorum refusal, from a read of the live cluster --------------------------------------------------------------
def test_the_quorum_refusal_names_each_member_and_the_alarm_s_fix():
    live = dict(quorum=dict(healthy_voters=2, voters=3), leader=dict(name="node1"), alarms=["NOSPACE"],
                alarm_fix="etcdctl defrag, then etcdctl alarm disarm.",
                members=[dict(name="node1", peer_urls=["http://10.0.0.1:2380"], healthy=False, quorate=True,
                              alarms=["NOSPACE"]),
                         dict(name="node2", peer_urls=["http://10.0.0.2:2380"], healthy=False, quorate=False),
                         dict(name="", peer_urls=["http://10.0.0.3:2380"], healthy=True, quorate=True,
                              is_learner=True)])
    assert quorum_refusal(live).split("\n") == [
        "The cluster has quorum: 2 of 3 voting members are serving, leader node1.",
        "  node1 http://10.0.0.1:2380 serving, alarm NOSPACE",
        "  node2 http://10.0.0.2:2380 DOWN",
        "  (unstarted) http://10.0.0.3:2380 healthy learner",
        "Alarm raised: NOSPACE. The cluster has its data and a leader (etcd calls a member unhealthy while an alarm is "
        "raised); rebuilding it from a snapshot would lose every write since that snapshot.",
        "Fix for the alarm: etcdctl defrag, then etcdctl alarm disarm.",
        "This is not a disaster, and nothing was changed. Fix: replace a failed member with replace_member.yml -e "
        "node=NAME; rebuilding from the snapshot would throw away every write since it (etcd_force_recovery=true does "
        "it anyway, moving the current data aside)."]
    healthy = quorum_refusal(dict(quorum=dict(healthy_voters=3, voters=3), leader=dict(name="node2"), members=[]))
    assert healthy.startswith("The cluster has quorum: 3 of 3 voting members are healthy, leader node2.\nThis is")


def test_the_filter_joins_the_members_the_cluster_and_every_refusal_in_order():
    from ansible_collections.etcd_ops.etcd.plugins.filter.recovery_cluster import recovery_cluster

    bad = dict(path="/etc/etcd/peer.crt", pem="", error="gone")
    seen = [read(1, env={}), tls(2, bad), read(3)]
    got = recovery_cluster(seen, dict(PLAY, gone="node3"))
    assert [text.split(" ")[0] for text in got["refusals"]] == ["host1", "etcd_recovery_gone_members", "host2:"]
    assert got["names"] == ["inv1", "node2", "node3"] and got["by_host"]["host2"]["tls_peer"] is True
    assert got["peer_urls"] == [["http://192.168.0.1:2380"], ["https://10.0.0.2:2380"], ["http://10.0.0.3:2380"]]
    assert got["initial_cluster"] == "inv1=http://192.168.0.1:2380,node2=https://10.0.0.2:2380,node3=http://10.0.0.3:2380"
    stopped = recovery_cluster([read(1, unreachable=True)], dict(PLAY, group=["host1"], play=["host1"]))
    assert stopped["members"] == [] and stopped["by_host"] == {} and len(stopped["refusals"]) == 1


def test_a_cluster_that_lost_its_leader_since_it_was_read_is_not_called_quorate():
    """etcd 3.4 keeps naming a leader for an election timeout after a majority stops: the members' read may see
    one that the live read no longer does. The refusal must not say the cluster has quorum."""
    live = dict(quorum=dict(healthy_voters=0, voters=5, needed=3, has_quorum=False), leader=None, members=[])
    text = quorum_refusal(live)
    assert text.startswith("A member named a leader when this run read it, but now 0 of 5 voting members are healthy "
                           "and there is no leader")
    assert "quorum:" not in text and "Nothing was changed." in text and "Fix: wait a few seconds" in text
