"""etcd_store on real files in a temporary store on the controller: ready, saved, pruned, and check mode."""

import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.parsing.dataloader import DataLoader

from ansible_collections.etcd_ops.etcd.plugins.action.etcd_store import ActionModule

MEMBERS = [{"name": "node1", "peer_urls": ["http://10.0.0.1:2380"]}]


def run(args, check_mode=False):
    task = MagicMock()
    task.args = dict(args)
    task.check_mode = check_mode
    task.async_val = 0
    task.action = "etcd_ops.etcd.etcd_store"
    return ActionModule(task, MagicMock(), MagicMock(), DataLoader(), MagicMock(), None).run(task_vars={})


def snapshot(store, name, members=("node1",), url="http://10.0.0.1:2380", meta=True):
    (store / name).write_bytes(b"db")
    (store / (name + ".sha256")).write_text("x  %s\n" % name)
    if meta:
        (store / (name + ".json")).write_text(json.dumps({"members": list(members),
                                                          "member_peer_urls": {m: [url] for m in members}}))


def test_ready_creates_the_store_0700_and_measures_it(tmp_path):
    store = tmp_path / "a" / "store"
    got = run(dict(path=str(store), state="ready"))
    assert got["changed"] and got["created"] and got["exists"] and got["writable"] and got["error"] == ""
    assert oct(store.stat().st_mode & 0o777) == "0o700" and got["free"] > 0
    again = run(dict(path=str(store), state="ready"))
    assert not again["changed"] and not again["created"] and again["writable"]


def test_ready_in_check_mode_creates_nothing(tmp_path):
    store = tmp_path / "store"
    got = run(dict(path=str(store), state="ready"), check_mode=True)
    assert got["changed"] and not got["created"] and not got["exists"] and got["writable"] and got["free"] is None
    assert not store.exists()


def test_ready_says_why_a_store_cannot_be(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    got = run(dict(path=str(blocker / "store"), state="ready"))
    assert not got["changed"] and got["error"] == "could not create it: Not a directory"
    assert run(dict(path=str(blocker), state="ready"))["error"] == "it exists and is not a directory"
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert run(dict(path=str(locked), state="ready"))["error"] == "not writable"


def test_saved_writes_both_sidecars_atomically_0600(tmp_path):
    name = "c-20261204T120000Z-r42.db"
    meta = {"revision": 42, "members": ["node1"], "size": 20}
    got = run(dict(path=str(tmp_path), state="saved", name=name, sha256="ab" * 32, metadata=meta))
    assert got["changed"] and got["written"] == [str(tmp_path / (name + ".json")), str(tmp_path / (name + ".sha256"))]
    assert (tmp_path / (name + ".sha256")).read_text() == "%s  %s\n" % ("ab" * 32, name)
    assert json.loads((tmp_path / (name + ".json")).read_text()) == meta
    assert all(oct((tmp_path / f).stat().st_mode & 0o777) == "0o600" for f in (name + ".json", name + ".sha256"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name + ".json", name + ".sha256"])  # no .incoming-


def test_saved_in_check_mode_writes_nothing(tmp_path):
    got = run(dict(path=str(tmp_path), state="saved", name="c.db", sha256="0" * 64, metadata={}), check_mode=True)
    assert got["changed"] and list(tmp_path.iterdir()) == []


def test_pruned_keeps_the_newest_of_this_cluster_only(tmp_path):
    for day in (1, 2, 3, 4):
        snapshot(tmp_path, "c-2026120%dT000000Z-r%d.db" % (day, day))
    snapshot(tmp_path, "c-20261205T000000Z-r5.db", members=("other",), url="http://10.9.9.9:2380")  # another cluster
    snapshot(tmp_path, "c-20261206T000000Z-r6.db", meta=False)  # nobody's
    snapshot(tmp_path, "c-x-20261201T000000Z-r1.db")  # a cluster whose name starts with this one's
    (tmp_path / "notes.txt").write_text("mine")
    got = run(dict(path=str(tmp_path), state="pruned", cluster="c", keep=2, protect=["c-20261201T000000Z-r1.db"],
                   members=MEMBERS))
    assert got["changed"]
    assert got["kept"] == [str(tmp_path / "c-20261204T000000Z-r4.db"), str(tmp_path / "c-20261203T000000Z-r3.db"),
                           str(tmp_path / "c-20261201T000000Z-r1.db")]
    assert got["removed"] == [str(tmp_path / "c-20261202T000000Z-r2.db")]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not any(n.startswith("c-20261202T") for n in left)  # the snapshot and its sidecars
    for name in ("c-20261205T000000Z-r5.db", "c-20261206T000000Z-r6.db", "c-x-20261201T000000Z-r1.db", "notes.txt"):
        assert name in left


def test_pruned_in_check_mode_and_with_keep_0_removes_nothing(tmp_path):
    for day in (1, 2, 3):
        snapshot(tmp_path, "c-2026120%dT000000Z-r%d.db" % (day, day))
    before = sorted(p.name for p in tmp_path.iterdir())
    got = run(dict(path=str(tmp_path), state="pruned", cluster="c", keep=1, members=MEMBERS), check_mode=True)
    assert got["changed"] and len(got["removed"]) == 2
    got = run(dict(path=str(tmp_path), state="pruned", cluster="c", keep=0, members=MEMBERS))
    assert not got["changed"] and got["removed"] == [] and len(got["kept"]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("args, text", [
    (dict(state="pruned", cluster="c", keep=-1), "keep must be a whole number"),
    (dict(state="saved", name="c.db", sha256="0" * 64, metadata={}, path="/no/such/store"), "is not a directory"),
])
def test_refused_input(tmp_path, args, text):
    got = run(dict(dict(path=str(tmp_path), members=MEMBERS), **args))
    assert got["failed"] and text in got["msg"]


def test_drilled_writes_only_the_drill_fields_atomically_0600(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    name = "etcd-cluster-20261201T000000Z-r5.db"
    snapshot(store, name)
    side = store / (name + ".json")
    before = json.loads(side.read_text())
    drilled = dict(before, keys=999, verified_at="2026-12-05T00:00:00Z", drill_result="passed",
                   drilled_at="2026-12-05T00:00:00Z", drill_seconds=0.4, drill={"member": "node1"})
    out = run(dict(path=str(store), state="drilled", name=name, metadata=drilled))
    assert out["changed"] and out["recorded"] and out["written"] == [str(side)]
    after = json.loads(side.read_text())
    assert after == dict(before, verified_at="2026-12-05T00:00:00Z", drill_result="passed",
                         drilled_at="2026-12-05T00:00:00Z", drill_seconds=0.4, drill={"member": "node1"})
    assert oct(side.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in store.iterdir()) == sorted([name, name + ".json", name + ".sha256"])
    # the same again changes nothing; a failed drill takes verified_at away
    assert not run(dict(path=str(store), state="drilled", name=name, metadata=drilled))["changed"]
    failed = dict(drilled, drill_result="failed")
    del failed["verified_at"]
    run(dict(path=str(store), state="drilled", name=name, metadata=failed))
    assert "verified_at" not in json.loads(side.read_text())
    # check mode writes nothing
    assert run(dict(path=str(store), state="drilled", name=name, metadata=drilled), check_mode=True)["changed"]
    assert json.loads(side.read_text())["drill_result"] == "failed"


def test_drilled_leaves_a_snapshot_without_metadata_alone(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    bare = "etcd-cluster-20261201T000000Z-r5.db"
    snapshot(store, bare, meta=False)
    out = run(dict(path=str(store), state="drilled", name=bare, metadata=dict(drill_result="passed")))
    assert not out["changed"] and not out["recorded"] and "has no metadata" in out["why"]
    assert not (store / (bare + ".json")).exists()
    (store / (bare + ".json")).write_text("[1, 2]")
    out = run(dict(path=str(store), state="drilled", name=bare, metadata=dict(drill_result="passed")))
    assert not out["recorded"] and "is not a JSON object" in out["why"]
    assert (store / (bare + ".json")).read_text() == "[1, 2]"


def test_metrics_of_on_demand_runs_keep_the_last_good_one_and_parse(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    store, prom_dir = tmp_path / "store", tmp_path / "textfile"
    store.mkdir()
    prom_dir.mkdir()
    name = "etcd-cluster-20261205T070547Z-r4.db"
    snapshot(store, name)
    snapshot(store, "etcd-cluster-20261204T070547Z-r3.db")
    good = dict(operation="backup", status="changed", cluster="etcd-cluster", file=str(store / name), size=2048,
                duration=0.5, revision=4, drill=dict(result="passed", restore_seconds=0.2, serve_seconds=0.7))
    got = run(dict(path=str(prom_dir), state="metrics", report=good))
    assert got["metrics_file"] == str(prom_dir / "etcd_ops_store_etcd-cluster.prom") and got["state"]["kept"] == 2
    first = got["state"]["last_success"]
    failed = dict(operation="backup", status="refused", cluster="etcd-cluster", message="No member is healthy.")
    got = run(dict(path=str(prom_dir), state="metrics", report=failed))
    text = (prom_dir / "etcd_ops_store_etcd-cluster.prom").read_text()
    seen = {s.name: (s.value, s.labels) for f in text_string_to_metric_families(text) for s in f.samples}
    assert seen["etcd_backup_last_run_success"][0] == 0
    assert seen["etcd_backup_last_success_timestamp_seconds"][0] == first
    assert seen["etcd_backup_last_size_bytes"][0] == 2048 and seen["etcd_backup_snapshots"][0] == 2
    assert seen["etcd_backup_drill_last_success"][0] == 1
    assert seen["etcd_backup_last_run_success"][1] == {"cluster": "etcd-cluster", "member": "controller"}
    assert sorted(p.name for p in prom_dir.iterdir()) == [".etcd_ops_store_etcd-cluster.state.json",
                                                          "etcd_ops_store_etcd-cluster.prom"]


def test_metrics_need_their_directory_and_a_cluster(tmp_path):
    report = dict(operation="verify_backup", status="changed", snapshot="etcd-cluster-20261205T070547Z-r4.db",
                  result="passed")
    got = run(dict(path=str(tmp_path / "none"), state="metrics", report=report))
    assert got["metrics_file"] == "" and "is not a directory on the controller" in got["warnings"][0]
    got = run(dict(path=str(tmp_path), state="metrics", report=dict(operation="deploy")))
    assert got["metrics_file"] == "" and not got["changed"] and list(tmp_path.iterdir()) == []
    got = run(dict(path=str(tmp_path), state="metrics", report=report), check_mode=True)
    assert got["changed"] and got["metrics_file"] and list(tmp_path.iterdir()) == []
