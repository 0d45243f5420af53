"""The scheduled job's store on a node: naming, sidecars, retention and refusals, with a fake etcdctl."""

import datetime
import hashlib
import json
import os
import time

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_store as store
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError

NOW = datetime.datetime(2026, 11, 25, 2, 30, 5, tzinfo=datetime.timezone.utc)


def snapshot_bytes(pages=16):
    body = os.urandom(512 * pages)
    return body + hashlib.sha256(body).digest()


class Runner:
    """What EtcdClient needs of a module, answering from a FakeEtcd."""

    def __init__(self, fake):
        self.fake, self.params = fake, {"endpoints": ["http://127.0.0.1:2379"]}

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return f"/usr/bin/{name}" if name in self.fake.tools else None

    def run_command(self, args, environ_update=None, **kwargs):
        return self.fake.run_command(args, environ_update=environ_update)


@pytest.fixture
def etcd(fake_etcd_class, recorded, version):
    """A healthy member whose `snapshot save` writes `data` (set .data to change it)."""
    fake = fake_etcd_class(("etcdctl", "etcdutl") if version >= "3.5" else ("etcdctl",))
    fake.data = snapshot_bytes()

    def save(argv, env):
        assert env["ETCDCTL_ENDPOINTS"] == "http://127.0.0.1:2379"
        with open(argv[-1], "wb") as handle:
            handle.write(fake.data)
    health = json.loads(recorded(version, "endpoint_health.json"))[:1]
    fake.on("version", recorded(version, "version.txt"))
    if "etcdutl" in fake.tools:
        fake.on("etcdutl version", recorded(version, "etcdutl_version.txt"))
    fake.on("snapshot status", recorded(version, "snapshot_status.json"))
    fake.on("endpoint status -w json", json.dumps(json.loads(recorded(version, "endpoint_status.json"))[:1]))
    fake.on("endpoint health -w json", json.dumps(health))
    fake.on("member list -w json", recorded(version, "member_list.json"))
    fake.on("snapshot save", "Snapshot saved\n", do=save)
    fake.on("get", recorded(version, "get_count.json"))
    fake.on("endpoint hashkv", recorded(version, "endpoint_hashkv.json"))
    fake.client = EtcdClient(Runner(fake))
    return fake


def config(tmp_path, **kw):
    return dict(dict(endpoint="http://127.0.0.1:2379", dir=str(tmp_path / "store"), cluster="etcd-cluster",
                     member="node1", keep=3, timeout=600, state=str(tmp_path / "state.json")), **kw)


def test_a_verified_snapshot_under_its_final_name_with_sidecars(etcd, recorded, version, tmp_path):
    result = store.run_job(config(tmp_path), client=etcd.client, now=NOW)
    status = json.loads(recorded(version, "snapshot_status.json"))
    name = f"etcd-cluster-20261125T023005Z-r{status['revision']}.db"
    directory = tmp_path / "store"
    assert sorted(p.name for p in directory.iterdir()) == [name, name + ".json", name + ".sha256"]
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in directory.iterdir())
    digest = hashlib.sha256(etcd.data).hexdigest()
    assert (directory / name).read_bytes() == etcd.data
    assert (directory / f"{name}.sha256").read_text() == f"{digest}  {name}\n"
    meta = json.loads((directory / f"{name}.json").read_text())
    members = json.loads(recorded(version, "member_list.json"))["members"]
    assert meta["file"] == name and meta["sha256"] == digest and meta["size"] == len(etcd.data)
    assert meta["revision"] == status["revision"] and meta["total_keys"] == status["totalKey"]
    assert meta["keys"] == json.loads(recorded(version, "get_count.json"))["count"]
    hashed = json.loads(recorded(version, "endpoint_hashkv.json"))[0]["HashKV"]
    assert meta["kv_hash"] == hashed["hash"] and meta["kv_hash_compact_revision"] == hashed["compact_revision"]
    assert sorted(meta["members"]) == sorted(m["name"] for m in members)
    assert meta["member_peer_urls"] == {m["name"]: m["peerURLs"] for m in members}  # the cluster's identity
    assert meta["source_member"] == "node1" and meta["time"] == "2026-11-25T02:30:05Z"
    assert meta["cluster_id"] == format(json.loads(recorded(version, "member_list.json"))["header"]["cluster_id"], "x")
    assert result["path"] == str(directory / name) and result["kept"] == 1 and result["removed"] == []
    line = store.summary(result)
    assert line.startswith(f"saved {directory / name}: {len(etcd.data)} bytes, revision {status['revision']}")
    assert line.endswith("1 snapshot(s) kept, 0 removed")


def test_retention_prunes_only_our_names(etcd, tmp_path):
    directory = tmp_path / "store"
    directory.mkdir()
    ours = [f"etcd-cluster-2026112{d}T000000Z-r{d}.db" for d in range(1, 5)]
    foreign = ["etcd-cluster-latest.db", "other-cluster-20260101T000000Z-r1.db", "notes.txt",
               "etcd-cluster-x-20261129T000000Z-r9.db"]
    for name in ours:
        for ext in ("", ".sha256", ".json"):
            (directory / (name + ext)).write_text("x")
    for name in foreign:
        (directory / name).write_text("mine")
    result = store.run_job(config(tmp_path, keep=3), client=etcd.client, now=NOW)
    assert result["removed"] == ours[:2][::-1] and result["kept"] == 3
    names = set(os.listdir(directory))
    assert not any(n.startswith(tuple(ours[:2])) for n in names)
    assert set(ours[2:]) <= names and set(foreign) <= names


def test_an_unhealthy_member_is_refused_and_nothing_written(etcd, recorded, version, tmp_path):
    etcd.on("endpoint health -w json", recorded(version, "no_quorum_endpoint_health.json"), rc=1)
    with pytest.raises(EtcdError) as err:
        store.run_job(config(tmp_path), client=etcd.client, now=NOW)
    assert "is not healthy" in err.value.msg and "no snapshot was taken" in err.value.msg
    assert list((tmp_path / "store").iterdir()) == []
    assert not [a for a in etcd.argvs() if "save" in a]


def test_a_bad_download_leaves_nothing(etcd, tmp_path):
    etcd.data = snapshot_bytes()[:-1]
    with pytest.raises(EtcdError) as err:
        store.run_job(config(tmp_path), client=etcd.client, now=NOW)
    assert "is not usable" in err.value.msg
    assert list((tmp_path / "store").iterdir()) == []


def test_leftovers_of_a_killed_run_are_removed(etcd, tmp_path):
    directory = tmp_path / "store"
    directory.mkdir()
    (directory / "..incoming-etcd-cluster-20261124T000000Z.db.tmp-99").write_bytes(b"half")
    (directory / ".incoming-etcd-cluster-20261124T000000Z-r5.db.json").write_text("{")
    store.run_job(config(tmp_path), client=etcd.client, now=NOW)
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]


def test_main_reports_success_and_failure(etcd, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(store, "EtcdClient", lambda runner: etcd.client)
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(config(tmp_path)))
    assert store.main(["--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"saved {tmp_path}/store/etcd-cluster-")

    etcd.on("snapshot save", "", rc=1, stderr="context deadline exceeded")
    assert store.main(["--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "etcd-ops-backup failed:" in err and "rc=1" in err and "context deadline exceeded" in err

    assert store.main(["--config", str(tmp_path / "missing.json")]) == 1
    assert "No such file" in capsys.readouterr().err
    assert store.main([]) == 2


def test_local_runner_runs_a_real_process_with_the_environment():
    rc, out, err = store.LocalRunner({}).run_command(["/bin/sh", "-c", "echo $ETCDCTL_ENDPOINTS; exit 3"],
                                                     environ_update={"ETCDCTL_ENDPOINTS": "http://x:2379"})
    assert (rc, out, err) == (3, "http://x:2379\n", "")
    assert store.LocalRunner.get_bin_path("sh") is not None


# retention: one rule for the store, the bucket and the members' job (issue: etcd_backup_keep 0 emptied the store)
N = [f"etcd-cluster-2026112{d}T000000Z-r{d}.db" for d in range(1, 6)]  # oldest first


@pytest.mark.parametrize("names, keep, protect, kept, removed", [
    (N, 3, (), N[:1:-1], N[1::-1]),                      # the newest 3 kept, newest first
    (N, 0, (), N[::-1], []),                              # 0 keeps every one (it emptied the store before)
    (N, 0, (N[0],), N[::-1], []),
    (N, 10, (), N[::-1], []),                             # fewer than keep: nothing removed
    ([], 1, (), [], []),
    (N, 1, (N[0],), [N[4], N[0]], N[3:0:-1]),             # the one just taken is kept though a clock skew made
    (N, 1, ("/store/" + N[0],), [N[4], N[0]], N[3:0:-1]),  # newer names (by file name, also from a path)
    (["/s/" + n for n in N], 4, (), ["/s/" + n for n in N[:0:-1]], ["/s/" + N[0]]),  # paths, sorted by name
    ([N[2], N[0], N[4], N[1], N[3]], 2, (), [N[4], N[3]], [N[2], N[1], N[0]]),        # any input order
])
def test_retention_table(names, keep, protect, kept, removed):
    assert store.retention(names, keep, protect) == (kept, removed)


@pytest.mark.parametrize("keep", [-1, -3, 1.5, True])
def test_retention_refuses_a_negative_or_odd_count(keep):
    with pytest.raises(ValueError, match="0 \\(keep every snapshot\\) or more"):
        store.retention(N, keep)


def test_the_job_with_keep_0_keeps_every_snapshot(etcd, tmp_path):
    directory = tmp_path / "store"
    directory.mkdir()
    for name in N:
        (directory / name).write_text("x")
    result = store.run_job(config(tmp_path, keep=0), client=etcd.client, now=NOW)
    assert result["removed"] == [] and result["kept"] == len(N) + 1
    assert os.path.exists(result["path"]) and set(N) <= set(os.listdir(directory))


def test_the_job_never_prunes_the_snapshot_it_took(etcd, tmp_path):
    """Older stored names from a clock that ran ahead sort newer than the one just taken: it stays."""
    directory = tmp_path / "store"
    directory.mkdir()
    ahead = [f"etcd-cluster-2099010{d}T000000Z-r{d}.db" for d in range(1, 4)]
    for name in ahead:
        (directory / name).write_text("x")
    result = store.run_job(config(tmp_path, keep=1), client=etcd.client, now=NOW)
    assert os.path.exists(result["path"])
    assert result["removed"] == ahead[1::-1]


@pytest.mark.parametrize("text, meta", [
    ('{"cluster_id": "aa"}', {"cluster_id": "aa"}),
    ("", {}), (None, {}), ("not json", {}), ("[1]", {}), ('"a"', {}), (b'{"a": 1}', {"a": 1}),
])
def test_metadata_from_a_sidecar_s_text(text, meta):
    assert store.meta_from_text(text) == meta


# -- a store's or a bucket's listing ---------------------------------------------------------------------------------
def test_a_bucket_listing_gives_each_snapshot_once_oldest_first_with_its_object():
    keys = ["etcd/b-20261202T000000Z-r9.db.zst.age", "etcd/b-20261202T000000Z-r9.db.sha256",
            "etcd/a-20261203T000000Z-r5.db", "etcd/a-20261201T000000Z-r1.db", "etcd/a-20261201T000000Z-r1.db.json",
            "etcd/old/a-20261204T000000Z-r7.db", "other/a-20261205T000000Z-r8.db", "etcd/notes.db",
            "etcd/a-20261203T000000Z-r5.db.zst"]
    got = store.listed_snapshots(keys, prefix="etcd/")
    assert got["names"] == ["a-20261201T000000Z-r1.db", "b-20261202T000000Z-r9.db", "a-20261203T000000Z-r5.db"]
    assert got["objects"] == {"a-20261201T000000Z-r1.db": "a-20261201T000000Z-r1.db",
                              "b-20261202T000000Z-r9.db": "b-20261202T000000Z-r9.db.zst.age",
                              "a-20261203T000000Z-r5.db": "a-20261203T000000Z-r5.db.zst"}
    assert store.listed_snapshots(keys, "b", "etcd/")["names"] == ["b-20261202T000000Z-r9.db"]
    # finished: the .sha256 object is there (a plain .db object without one is not, nor a .json alone)
    assert got["finished"] == ["b-20261202T000000Z-r9.db"]
    keys.append("etcd/a-20261203T000000Z-r5.db.sha256")
    finished = store.listed_snapshots(keys, prefix="etcd/")["finished"]
    assert finished == ["b-20261202T000000Z-r9.db", "a-20261203T000000Z-r5.db"]


def test_a_store_listing_keeps_paths_and_takes_no_encoded_files():
    paths = ["/s/etcd-cluster-20261203T000000Z-r5.db", "/s/etcd-cluster-20261201T000000Z-r1.db",
             "/s/etcd-cluster-x-20261202T000000Z-r2.db", "/s/etcd-cluster-20261204T000000Z-r6.db.zst",
             "/s/snapshot.db", "/s/.incoming-etcd-cluster-20261205T000000Z-r7.db"]
    assert store.listed_snapshots(paths, paths=True)["names"] == [
        "/s/etcd-cluster-20261201T000000Z-r1.db", "/s/etcd-cluster-x-20261202T000000Z-r2.db",
        "/s/etcd-cluster-20261203T000000Z-r5.db"]
    assert store.listed_snapshots(paths, "etcd-cluster", paths=True)["names"] == [
        "/s/etcd-cluster-20261201T000000Z-r1.db", "/s/etcd-cluster-20261203T000000Z-r5.db"]


def test_main_keeps_its_state_and_writes_the_metrics(etcd, tmp_path, monkeypatch, capsys):
    from prometheus_client.parser import text_string_to_metric_families

    monkeypatch.setattr(store, "EtcdClient", lambda runner: etcd.client)
    (tmp_path / "textfile").mkdir()
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(config(tmp_path, metrics_dir=str(tmp_path / "textfile"))))
    assert store.main(["--config", str(path)]) == 0
    prom = tmp_path / "textfile" / "etcd_ops_backup.prom"

    def seen():
        return {s.name: s.value for f in text_string_to_metric_families(prom.read_text()) for s in f.samples}
    first = seen()
    assert first["etcd_backup_last_run_success"] == 1 and first["etcd_backup_snapshots"] == 1
    assert first["etcd_backup_last_size_bytes"] == len(etcd.data)
    etcd.on("snapshot save", "", rc=1, stderr="context deadline exceeded")
    assert store.main(["--config", str(path)]) == 1
    second = seen()
    assert second["etcd_backup_last_run_success"] == 0
    assert second["etcd_backup_last_success_timestamp_seconds"] == first["etcd_backup_last_success_timestamp_seconds"]
    assert "context deadline exceeded" in json.loads((tmp_path / "state.json").read_text())["message"]
    # no metrics dir (node_exporter not installed): the state alone, and the backup is not failed for it
    path.write_text(json.dumps(config(tmp_path, metrics_dir=str(tmp_path / "none"))))
    etcd.on("snapshot save", "Snapshot saved\n", do=lambda argv, env: open(argv[-1], "wb").write(etcd.data))
    assert store.main(["--config", str(path)]) == 0 and not (tmp_path / "none").exists()
    capsys.readouterr()


def test_the_job_drills_the_snapshot_it_saved_and_records_it(etcd, tmp_path, monkeypatch, capsys):
    from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill_run

    calls = []

    def drilled(runner, client, path, meta=None, **kw):
        calls.append((path, meta, kw))
        result = "failed" if len(calls) > 1 else "passed"
        record = dict(meta, drill_result=result)
        return dict(result=result, msg="The restore drill of %s %s: x." % (path, result), metadata=record,
                    restore_seconds=0.1, serve_seconds=0.2, seconds=0.5)
    monkeypatch.setattr(etcd_drill_run, "run", drilled)
    monkeypatch.setattr(store, "EtcdClient", lambda runner: etcd.client)
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(config(tmp_path, verify=True, run_as="etcd", drill_dir=str(tmp_path / "drill"),
                                      drill_timeout=30)))
    assert store.main(["--config", str(path)]) == 0
    out = capsys.readouterr().out
    snap, meta, kw = calls[0]
    assert kw == dict(scratch_dir=str(tmp_path / "drill"), run_as="etcd", timeout=30, member="node1")
    assert meta["file"] == os.path.basename(snap) and "kv_hash" in meta
    assert json.loads(open(snap + ".json").read())["drill_result"] == "passed"
    assert "passed: x. (restore 0.10s, serving 0.20s after its start, drill 0.50s)" in out
    time.sleep(1)  # names carry the second
    assert store.main(["--config", str(path)]) == 1  # the drill failed: the snapshot is kept, the run fails
    err = capsys.readouterr().err
    assert "etcd-ops-backup failed: The restore drill of" in err and "failed: x." in err
    assert json.loads(open(calls[1][0] + ".json").read())["drill_result"] == "failed" and os.path.exists(calls[1][0])

    def cannot(*args, **kw):
        raise etcd_drill_run.CannotRun("The user etcd does not exist on this host.")
    monkeypatch.setattr(etcd_drill_run, "run", cannot)
    time.sleep(1)
    assert store.main(["--config", str(path)]) == 1
    assert "could not run here: The user etcd does not exist on this host." in capsys.readouterr().err
    state = json.loads((tmp_path / "state.json").read_text())
    assert not state["last_run_ok"] and state["drill_ok"] is False and state["kept"] == 3


def test_notify_tells_the_command_and_the_webhook(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(dict(message="The member at http://127.0.0.1:2379 is not healthy")))
    told = tmp_path / "told"
    posted = []

    class Answer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b""

    def opener(request, timeout):
        posted.append((request.full_url, request.get_method(), json.loads(request.data), timeout))
        return Answer()
    conf = dict(cluster="etcd-cluster", member="node1", state=str(state), on_failure_url="http://hook.example/x",
                on_failure_command='printf "%s|%s|%s" "$ETCD_OPS_CLUSTER" "$ETCD_OPS_MEMBER" "$ETCD_OPS_MESSAGE"'
                f' > {told}')
    assert store.notify(conf, opener=opener) == []
    assert told.read_text() == "etcd-cluster|node1|The member at http://127.0.0.1:2379 is not healthy"
    url, method, body, timeout = posted[0]
    assert (url, method, timeout) == ("http://hook.example/x", "POST", 10)
    assert body["message"].startswith("The member at") and body["unit"] == "etcd-ops-backup.service"

    def refused(request, timeout):
        raise OSError("connection refused")
    errors = store.notify(dict(conf, on_failure_command="exit 3"), opener=refused)
    assert errors[0].startswith("the on-failure command exited 3") and "connection refused" in errors[1]


@pytest.mark.parametrize("encoding, tools", [("", []), (".zst", ["zstd"]), (".age", ["age"]),
                                             (".zst.age", ["zstd", "age"]), (None, [])])
def test_the_tools_that_decode_a_bucket_s_copy(encoding, tools):
    from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import codec_tools

    assert codec_tools(encoding) == tools
