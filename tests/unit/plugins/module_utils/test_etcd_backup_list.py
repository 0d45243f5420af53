"""list_backups.yml's catalog: one row per snapshot of the store, the bucket and the members, over a table of
cases; the directory read on real files."""

import json
import os

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_list import catalog, human_size, read_dir, table

PLAY = [("node1", ["http://10.0.0.11:2380"]), ("node2", ["http://10.0.0.12:2380"])]
OLD = "etcd-cluster-20261201T000000Z-r100.db"
NEW = "etcd-cluster-20261205T060000Z-r250.db"
OTHER = "etcd-cluster-20261204T000000Z-r9.db"


def meta(name, revision, keys, **more):
    out = dict(file=name, revision=revision, keys=keys, total_keys=keys + 3, size=1024 * 1024, sha256="a" * 64,
               time=name.split("-")[2][:4] + "-12-0" + name.split("-")[2][7] + "T00:00:00Z",
               cluster_token="etcd-cluster", member_peer_urls={"node1": ["http://10.0.0.11:2380"]})
    out.update(more)
    return out


def store(*snaps, error="", missing=False):
    return dict(kind="store", location="/ctl/etcd-backups", error=error, missing=missing, snapshots=list(snaps))


def s3(*snaps, error=""):
    return dict(kind="s3", location="s3://b/p/", error=error, snapshots=list(snaps))


def member(host, *snaps, error="", missing=False):
    return dict(kind="member", host=host, location="/var/backups/etcd-ops", error=error, missing=missing,
                snapshots=list(snaps))


def snap(name, metadata=None, size=1024 * 1024, obj=None):
    out = dict(name=name, metadata=metadata if metadata is not None else {})
    if obj:
        out["object"] = obj
    else:
        out["size"] = size
    return out


DRILLED = dict(drill_result="passed", drilled_at="2026-12-05T06:01:00Z", verified_at="2026-12-05T06:01:00Z",
               drill_seconds=3.2, drill=dict(member="node2"))
FAILED = dict(drill_result="failed", drilled_at="2026-12-05T07:00:00Z", drill_seconds=1.0, drill=dict(member="node1"))


def test_copies_of_one_snapshot_in_three_places_are_one_row_newest_first():
    cat = catalog([store(snap(OLD, meta(OLD, 100, 40)), snap(NEW, meta(NEW, 250, 41))),
                   s3(snap(NEW, meta(NEW, 250, 41), obj=NEW + ".zst")),
                   member("node1", snap(NEW, meta(NEW, 250, 41)))], PLAY)
    assert [r["name"] for r in cat["rows"]] == [NEW, OLD]
    new = cat["rows"][0]
    assert new["where"] == ["store", "s3", "node1"] and new["revision"] == 250 and new["keys"] == 41
    assert new["cluster"] == "this" and new["drill"] == "never" and new["notes"] == []
    assert new["copies"][1]["object"] == NEW + ".zst" and new["copies"][1]["size"] is None
    assert (cat["snapshots"], cat["this_cluster"], cat["drilled"], cat["unread"]) == (2, 2, 0, [])


@pytest.mark.parametrize("copies, drill, at, member_", [
    # the latest drill of any copy is the row's
    ([{}, DRILLED], "passed", "2026-12-05T06:01:00Z", "node2"),
    ([DRILLED, FAILED], "failed", "2026-12-05T07:00:00Z", "node1"),
    ([FAILED, DRILLED], "failed", "2026-12-05T07:00:00Z", "node1"),
    ([{}, {}], "never", "", ""),
    # a drill_result that is neither passed nor failed is no drill
    ([dict(drill_result="maybe", drilled_at="2026-12-06T00:00:00Z"), {}], "never", "", ""),
])
def test_the_row_s_drill_is_the_latest_of_its_copies(copies, drill, at, member_):
    places = [store(snap(NEW, meta(NEW, 250, 41, **copies[0]))),
              member("node1", snap(NEW, meta(NEW, 250, 41, **copies[1])))]
    [row] = catalog(places, PLAY)["rows"]
    assert (row["drill"], row["drilled_at"], row["drill_member"]) == (drill, at, member_)
    assert row["verified_at"] == ("2026-12-05T06:01:00Z" if drill == "passed" else "")


@pytest.mark.parametrize("metadata, play, cluster", [
    (meta(NEW, 250, 41), PLAY, "this"),
    # same name, no peer URL in common: another cluster's
    (meta(NEW, 250, 41, member_peer_urls={"node1": ["http://192.168.0.1:2380"]}), PLAY, "other"),
    # older metadata, names only
    (dict(members=["node2"], revision=250), PLAY, "this"),
    ({}, PLAY, "unknown"),
    # no member's env file read: nothing is known to be this cluster's
    (meta(NEW, 250, 41), [], "unknown"),
])
def test_the_cluster_of_each_row(metadata, play, cluster):
    [row] = catalog([store(snap(NEW, metadata))], play)["rows"]
    assert row["cluster"] == cluster


def test_a_snapshot_without_metadata_takes_its_time_and_revision_from_its_name_and_its_size_from_the_file():
    [row] = catalog([member("node3", snap(NEW, {}, size=4096))], PLAY)["rows"]
    assert (row["time"], row["revision"], row["keys"], row["size"]) == ("2026-12-05T06:00:00Z", 250, None, 4096)
    assert row["notes"] == ["no metadata (.json): its cluster, keys and drills are unknown"]


def test_the_copy_with_the_most_metadata_speaks_for_the_row():
    thin = dict(revision=250)
    [row] = catalog([s3(snap(NEW, thin, obj=NEW)), store(snap(NEW, meta(NEW, 250, 41)))], PLAY)["rows"]
    assert row["keys"] == 41 and row["cluster"] == "this" and row["where"] == ["s3", "store"]


def test_copies_whose_sha256_differ_are_named():
    [row] = catalog([member("node1", snap(NEW, meta(NEW, 250, 41, sha256="1" * 64))),
                     member("node2", snap(NEW, meta(NEW, 250, 41, sha256="2" * 64)))], PLAY)["rows"]
    assert row["notes"] == ["its copies differ: node1 sha256 111111111111; node2 sha256 222222222222"]


def test_places_not_read_are_counted_and_named():
    cat = catalog([store(missing=True), s3(error="Cannot list s3://b/p/: denied"),
                   member("node1", error="unreachable: ssh: timed out"), member("node2", missing=True)], PLAY)
    assert cat["rows"] == [] and [s["kind"] for s in cat["unread"]] == ["s3", "member"]
    assert cat["places"][0] == dict(kind="store", host="", location="/ctl/etcd-backups", label="/ctl/etcd-backups",
                                    read=True, error="", missing=True, snapshots=0)
    assert [s["label"] for s in cat["unread"]] == ["s3://b/p/", "node1:/var/backups/etcd-ops"]
    lines = table(cat)
    assert lines == [
        "store   /ctl/etcd-backups: no such directory (no backup stored yet)",
        "bucket  s3://b/p/: NOT READ - Cannot list s3://b/p/: denied",
        "member  node1:/var/backups/etcd-ops: NOT READ - unreachable: ssh: timed out",
        "member  node2:/var/backups/etcd-ops: no such directory (no scheduled backups there)",
        "0 snapshot(s), 0 of this cluster, 0 whose last drill passed",
    ]


def test_the_table():
    other = meta(OTHER, 9, 2, cluster_token="etcd-cluster", member_peer_urls={"x": ["http://1.2.3.4:2380"]})
    cat = catalog([store(snap(NEW, meta(NEW, 250, 41, **DRILLED)), snap(OTHER, other)),
                   member("node1", snap(OLD, {}, size=512))], PLAY)
    assert table(cat) == [
        "store   /ctl/etcd-backups: 2 snapshot(s)",
        "member  node1:/var/backups/etcd-ops: 1 snapshot(s)",
        "3 snapshot(s), 1 of this cluster, 1 whose last drill passed",
        "TIME                  REVISION  KEYS  SIZE     LAST DRILL                   CLUSTER               "
        "WHERE  NAME",
        "2026-12-05T00:00:00Z  250       41    1.0 MiB  passed 2026-12-05T06:01:00Z  this                  "
        "store  " + NEW,
        "2026-12-04T00:00:00Z  9         2     1.0 MiB  never                        other (etcd-cluster)  "
        "store  " + OTHER,
        "2026-12-01T00:00:00Z  100       ?     512 B    never                        unknown (?)           "
        "node1  " + OLD,
        "note: %s: no metadata (.json): its cluster, keys and drills are unknown" % OLD,
    ]


def test_an_unknown_kind_of_place_is_an_error():
    with pytest.raises(ValueError, match="place kind 'ftp' is not one of store, s3, member"):
        catalog([dict(kind="ftp", snapshots=[])])


@pytest.mark.parametrize("size, text", [(None, "?"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                        (50 * 1024 * 1024, "50.0 MiB"), (3 * 1024 ** 4, "3072.0 GiB")])
def test_human_size(size, text):
    assert human_size(size) == text


def test_read_dir_lists_the_backup_role_s_snapshots_only(tmp_path):
    (tmp_path / NEW).write_bytes(b"x" * 10)
    (tmp_path / (NEW + ".sha256")).write_text("ab  " + NEW + "\n")
    (tmp_path / (NEW + ".json")).write_text(json.dumps(dict(revision=250)))
    (tmp_path / OLD).write_bytes(b"y" * 3)
    (tmp_path / (OLD + ".json")).write_text("[1, 2]")  # no JSON object: no metadata
    (tmp_path / (".incoming-" + NEW)).write_bytes(b"z")  # a backup's half-written file
    (tmp_path / "notes.db").write_bytes(b"z")  # not named as the backup role names them
    os.mkdir(tmp_path / "etcd-cluster-20261203T000000Z-r5.db")  # a directory, not a snapshot
    out = read_dir(str(tmp_path))
    assert out["exists"] is True
    assert [(s["name"], s["size"], s["sidecar"], s["metadata"]) for s in out["snapshots"]] == [
        (OLD, 3, False, {}), (NEW, 10, True, dict(revision=250))]


def test_read_dir_of_a_missing_directory(tmp_path):
    assert read_dir(str(tmp_path / "nope")) == dict(exists=False, path=str(tmp_path / "nope"), snapshots=[])


@pytest.mark.parametrize("node, listed, error, missing, count", [
    ({}, dict(exists=True, snapshots=[dict(name=NEW)]), "", False, 1),
    ({}, dict(exists=False, snapshots=[]), "", True, 0),
    # unreachable: its listing was skipped
    (dict(unreachable=True, msg="Task failed: Data could not be sent to remote host \"10.0.0.3\". ssh: refused"),
     dict(skipped=True), "unreachable (Data could not be sent to remote host \"10.0.0.3\". ssh: refused). Fix: check "
     "SSH and sudo to node3", False, 0),
    # reachable, its listing failed
    ({}, dict(failed=True, msg=" Cannot list /var/backups/etcd-ops: Permission denied. "),
     "Cannot list /var/backups/etcd-ops: Permission denied.", False, 0),
    # env file not read (etcd_node_info failed) but the dir listed
    (dict(failed=True, msg="no env file"), dict(exists=True, snapshots=[]), "", False, 0),
])
def test_a_member_s_place_from_what_was_registered_on_it(node, listed, error, missing, count):
    from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_list import member_place

    place = member_place("node3", "/var/backups/etcd-ops", node, listed)
    assert (place["error"], place["missing"], len(place["snapshots"])) == (error, missing, count)
    assert (place["kind"], place["host"], place["location"]) == ("member", "node3", "/var/backups/etcd-ops")
