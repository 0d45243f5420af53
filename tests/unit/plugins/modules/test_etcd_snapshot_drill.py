"""etcd_snapshot_drill on real files, with a fake etcdctl/etcdutl and a fake systemd (systemd-run, systemctl,
journalctl answer from the fake): what it starts, how it compares, what it leaves, and each way it fails. The
verify_backup scenario runs it on real etcd under real systemd."""

import hashlib
import json
import os

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill_run as run
from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_snapshot_drill as module


def snapshot_bytes(pages=16):
    body = os.urandom(512 * pages)
    return body + hashlib.sha256(body).digest()


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A snapshot with its sidecar, an executable etcd, a scratch dir, and no real chown."""
    snap = tmp_path / "snap.db"
    snap.write_bytes(snapshot_bytes())
    (tmp_path / "snap.db.sha256").write_text("%s  snap.db\n" % hashlib.sha256(snap.read_bytes()).hexdigest())
    etcd = tmp_path / "etcd"
    etcd.write_text("#!/bin/sh\n")
    etcd.chmod(0o755)
    owned = []
    monkeypatch.setattr(run, "chown_tree", lambda top, uid, gid: owned.append((top, uid, gid)))
    monkeypatch.setattr(run.time, "sleep", lambda s: None)
    return dict(snap=snap, etcd=str(etcd), scratch=tmp_path / "drill", owned=owned)


def revision_of(version, recorded):
    """The revision of the snapshot the fake stands for: the one the recorded HashKV was asked at (the recorded
    `snapshot status` is of a new cluster, at revision 0)."""
    return json.loads(recorded(version, "endpoint_hashkv.json"))[0]["HashKV"]["header"]["revision"]


def answers(fake, version, recorded, state="active", **status_changes):
    """The fake's answers for a drill whose scratch etcd serves the snapshot's revision."""
    revision = revision_of(version, recorded)
    snap_status = dict(json.loads(recorded(version, "snapshot_status.json")), revision=revision)
    status = json.loads(recorded(version, "endpoint_status.json"))[:1]
    status[0]["Status"]["header"]["revision"] = revision
    status[0]["Status"].update(status_changes)
    fake.on("version", recorded(version, "version.txt"))
    if "etcdutl" in fake.tools:
        fake.on("etcdutl version", recorded(version, "etcdutl_version.txt"))
    fake.on("snapshot status", json.dumps(snap_status))
    fake.on("snapshot restore", "", do=lambda argv, env: os.makedirs(
        next(a for a in argv if a.startswith("--data-dir=")).split("=", 1)[1]))
    fake.on("--no-block", "")  # systemd-run
    fake.on("list-units", "")
    fake.on("show", state + "\n")
    fake.on("stop", "")
    fake.on("--unit", "etcd: some log line\n")  # journalctl
    fake.on("endpoint status -w json", json.dumps(status))
    fake.on("get", recorded(version, "get_count.json"))
    fake.on("endpoint hashkv", recorded(version, "endpoint_hashkv.json"))
    fake.on("compact", "compacted\n")
    return fake


def metadata(version, recorded, **changes):
    hashed = json.loads(recorded(version, "endpoint_hashkv.json"))[0]["HashKV"]
    meta = dict(revision=revision_of(version, recorded),
                keys=json.loads(recorded(version, "get_count.json"))["count"], kv_hash=hashed["hash"],
                kv_hash_compact_revision=hashed["compact_revision"], cluster_token="etcd-cluster")
    meta.update(changes)
    return meta


def tools(version):
    base = ["etcdctl", "etcd", "systemd-run", "systemctl"]
    return base + (["etcdutl"] if version.startswith("3.5") else [])


def args(lab, **kw):
    return dict(dict(path=str(lab["snap"]), scratch_dir=str(lab["scratch"]), run_as="nobody", etcd_path=lab["etcd"]),
                **kw)


def test_a_good_snapshot_passes_and_nothing_is_left(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["result"] == "passed", result
    assert not result.get("failed") and not result["changed"] and result["differences"] == []
    assert result["checked"] == ["revision %d" % result["expected"]["file_revision"],
                                 "%d keys" % result["expected"]["keys"], "KV hash %d" % result["expected"]["kv_hash"]]
    assert result["metadata"]["drill_result"] == "passed" and result["metadata"]["verified_at"] == result["time"]
    assert result["metadata"]["cluster_token"] == "etcd-cluster"  # the backup's fields kept
    run = next(argv for argv in fake.argvs() if argv[0] == "systemd-run")
    assert "--property=User=nobody" in run and any(a.startswith("--property=RuntimeMaxSec=") for a in run)
    assert "--collect" in run and run[run.index("--") + 1] == lab["etcd"]
    urls = [a.split("=", 1)[1] for a in run if a.startswith(("--listen-client-urls=", "--listen-peer-urls="))]
    assert len(urls) == 2 and all(u.startswith("http://127.0.0.1:") for u in urls) and urls[0] != urls[1]
    assert not any(u.endswith((":2379", ":2380")) for u in urls)
    restore = next(argv for argv in fake.argvs() if argv[1:3] == ["snapshot", "restore"])
    assert restore[0].endswith("etcdutl" if version.startswith("3.5") else "etcdctl")
    assert "--initial-cluster=drill=%s" % urls[1] in restore
    # the scratch etcd is asked on its own loopback URL, without the cluster's TLS files
    _argv, env = next(c for c in fake.calls if c[0][1:3] == ["endpoint", "hashkv"])
    assert env["ETCDCTL_ENDPOINTS"] == urls[0] and "ETCDCTL_CACERT" not in env
    # stopped, the scratch dir owned by the user while it ran, then removed; the snapshot untouched
    assert ["systemctl", "stop", result["unit"]] in fake.argvs()
    assert lab["owned"] and lab["owned"][0][0].startswith(str(lab["scratch"]))
    assert os.listdir(lab["scratch"]) == [] and oct(lab["scratch"].stat().st_mode & 0o777) == "0o711"
    assert lab["snap"].exists()


def test_contents_that_differ_from_the_metadata_fail_with_the_record(fake_etcd, run_module, recorded, version, lab):
    answers(fake_etcd(tools(version)), version, recorded)
    meta = metadata(version, recorded)
    result = run_module(module, args(lab, metadata=dict(meta, keys=meta["keys"] + 1)))
    assert result["failed"] and result["result"] == "failed"
    assert result["differences"] == ["keys at revision %d: the metadata says %d, the restored etcd has %d" % (
        meta["revision"], meta["keys"] + 1, meta["keys"])]
    assert result["msg"].startswith("The restore drill of %s failed: keys at revision" % lab["snap"])
    assert result["metadata"]["drill_result"] == "failed" and "verified_at" not in result["metadata"]
    assert os.listdir(lab["scratch"]) == []


def test_the_metadata_beside_the_snapshot_is_read_when_none_is_given(fake_etcd, run_module, recorded, version, lab):
    answers(fake_etcd(tools(version)), version, recorded)
    (lab["snap"].parent / "snap.db.json").write_text(json.dumps(metadata(version, recorded, kv_hash=1)))
    result = run_module(module, args(lab))
    assert result["result"] == "failed" and result["differences"][0].startswith("KV hash at revision")


def test_the_scratch_etcd_is_compacted_as_the_member_was(fake_etcd, run_module, recorded, version, lab):
    """The member compacted between the snapshot and its HashKV: the scratch etcd follows, then its hash is read
    again."""
    fake = answers(fake_etcd(tools(version)), version, recorded)
    hashed = json.loads(recorded(version, "endpoint_hashkv.json"))
    earlier = json.loads(json.dumps(hashed))
    earlier[0]["HashKV"].update(compact_revision=hashed[0]["HashKV"]["compact_revision"] - 5, hash=7)
    fake.in_turn("endpoint hashkv", (0, json.dumps(earlier), ""), (0, json.dumps(hashed), ""))
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["result"] == "passed", result
    target = hashed[0]["HashKV"]["compact_revision"]
    assert result["observed"]["compacted_to"] == target
    compacts = [a for a in fake.argvs() if a[1:2] == ["compact"]]
    assert compacts == [["/usr/bin/etcdctl", "compact", str(target), "--physical"]]


def test_without_metadata_it_proves_the_restore_and_says_what_it_could_not_compare(
        fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    # a history compacted at the snapshot's own revision has no HashKV there: not asked when there is nothing to
    # compare it with
    fake.on("endpoint hashkv", "[]", rc=1, stderr=recorded(version, "endpoint_hashkv_compacted.err"))
    result = run_module(module, args(lab))
    assert result["result"] == "passed" and result["checked"] == ["revision %d" % result["expected"]["file_revision"]]
    assert result["not_checked"] == ["keys: no metadata", "KV hash: no metadata"]
    assert not [a for a in fake.argvs() if a[1:3] == ["endpoint", "hashkv"]]
    older = run_module(module, args(lab, metadata=metadata(version, recorded, kv_hash=None)))
    assert older["result"] == "passed" and older["not_checked"][0].startswith("KV hash: not in the metadata")


def test_a_damaged_snapshot_fails_before_anything_starts(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    data = bytearray(lab["snap"].read_bytes())
    data[100] ^= 0xFF
    lab["snap"].write_bytes(bytes(data))
    (lab["snap"].parent / "snap.db.sha256").unlink()
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["failed"] and result["result"] == "failed"
    assert "it does not pass its checks: The snapshot %s is not usable: its sha256 trailer does not match" % (
        lab["snap"]) in result["msg"]
    assert "The snapshot is damaged or is no etcd snapshot" in result["msg"]
    assert not [a for a in fake.argvs() if a[0] == "systemd-run" or "restore" in a]
    assert result["metadata"]["drill_result"] == "failed"


def test_a_snapshot_that_does_not_restore_fails(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    fake.on("snapshot restore", "", rc=1, stderr="Error: snapshot file integrity check failed")
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["result"] == "failed" and "it does not restore:" in result["msg"]
    assert "integrity check failed" in result["msg"]
    assert not [a for a in fake.argvs() if a[0] == "systemd-run"] and os.listdir(lab["scratch"]) == []


def test_a_scratch_etcd_that_stops_before_it_serves_fails_with_its_log(fake_etcd, run_module, recorded, version,
                                                                       lab):
    fake = answers(fake_etcd(tools(version)), version, recorded, state="failed")
    fake.on("endpoint status -w json", "", rc=1, stderr="connection refused")
    fake.on("--unit", "panic: freepages: failed to get all reachable pages\n")
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["result"] == "failed"
    assert "the restored etcd stopped before it served (unit etcd-ops-drill-" in result["msg"]
    assert "panic: freepages" in result["msg"] and os.listdir(lab["scratch"]) == []


def test_a_scratch_etcd_that_does_not_serve_in_time_fails(fake_etcd, run_module, recorded, version, lab,
                                                          monkeypatch):
    fake = answers(fake_etcd(tools(version)), version, recorded, state="activating")
    fake.on("endpoint status -w json", "", rc=1, stderr="context deadline exceeded")
    clock = iter(range(0, 100000, 7))
    monkeypatch.setattr(run.time, "monotonic", lambda: next(clock))
    result = run_module(module, args(lab, metadata=metadata(version, recorded), timeout=20))
    assert result["result"] == "failed" and "did not serve within 20 s (etcd_verify_timeout)" in result["msg"]
    assert any(a[1:2] == ["stop"] for a in fake.argvs())


def test_leftovers_of_a_killed_drill_are_stopped_and_removed(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    fake.on("list-units", "etcd-ops-drill-77.service loaded active running etcd_ops.etcd restore drill\n")
    (lab["scratch"] / "scratch-old" / "data").mkdir(parents=True)
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["result"] == "passed"
    assert result["leftovers"] == ["etcd-ops-drill-77.service", str(lab["scratch"] / "scratch-old")]
    assert ["systemctl", "stop", "etcd-ops-drill-77.service"] in fake.argvs() and os.listdir(lab["scratch"]) == []


@pytest.mark.parametrize("case,change,text", [
    ("root", dict(run_as="root"), "The scratch etcd does not run as root."),
    ("no such user", dict(run_as="no-such-user-here"), "The user no-such-user-here does not exist on this host."),
    ("no etcd", dict(etcd_path="/nonexistent/etcd"), "There is no etcd binary at /nonexistent/etcd on this host."),
])
def test_a_drill_that_cannot_run_says_why_and_judges_nothing(fake_etcd, run_module, recorded, version, lab, case,
                                                             change, text):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    result = run_module(module, dict(args(lab, metadata=metadata(version, recorded)), **change))
    assert result["failed"] and text in result["msg"] and "result" not in result
    assert not [a for a in fake.argvs() if a[0] == "systemd-run" or "restore" in a]


def test_no_room_for_the_drill(fake_etcd, run_module, recorded, version, lab, monkeypatch):
    answers(fake_etcd(tools(version)), version, recorded)
    real = os.statvfs

    class Full:
        f_bavail, f_frsize = 10, 4096

    monkeypatch.setattr(run.os, "statvfs", lambda p: Full() if str(p).startswith(str(lab["scratch"])) else real(p))
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["failed"] and "result" not in result
    assert "Not enough space in %s for the drill: 40960 bytes free" % lab["scratch"] in result["msg"]


def test_a_scratch_dir_another_user_could_change_is_refused(fake_etcd, run_module, recorded, version, lab):
    answers(fake_etcd(tools(version)), version, recorded)
    lab["scratch"].mkdir(mode=0o777)
    lab["scratch"].chmod(0o777)
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["failed"] and "result" not in result
    assert "is not safe to hold a snapshot" in result["msg"] and "Nothing was restored there." in result["msg"]


def test_auth_on_without_credentials_is_named(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    fake.on("get", "", rc=1, stderr="Error: etcdserver: user name is empty")
    result = run_module(module, args(lab, metadata=metadata(version, recorded)))
    assert result["failed"] and "result" not in result
    assert "the snapshot's cluster has etcd auth on, and the drill has no credentials" in result["msg"]
    assert "Fix: set etcd_user and etcd_password" in result["msg"] and os.listdir(lab["scratch"]) == []


def test_check_mode_starts_nothing(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    result = run_module(module, args(lab, metadata=metadata(version, recorded)), check_mode=True)
    assert result["result"] == "not run" and not result["changed"] and "check mode: would restore" in result["msg"]
    assert not [a for a in fake.argvs() if a[0] in ("systemd-run", "systemctl") or "restore" in a]
    assert not lab["scratch"].exists()


def test_a_status_from_the_copy_s_check_skips_reading_the_file_again(fake_etcd, run_module, recorded, version, lab):
    fake = answers(fake_etcd(tools(version)), version, recorded)
    status = dict(json.loads(recorded(version, "snapshot_status.json")), revision=revision_of(version, recorded))
    status = {"revision": status["revision"], "hash": status["hash"], "total_keys": status["totalKey"]}
    (lab["snap"].parent / "snap.db.sha256").write_text("0" * 64 + "  snap.db\n")  # would fail a check of the file
    result = run_module(module, args(lab, metadata=metadata(version, recorded), status=status))
    assert result["result"] == "passed", result
    assert not [a for a in fake.argvs() if a[1:3] == ["snapshot", "status"]]
    assert any(a[1:3] == ["snapshot", "restore"] for a in fake.argvs())


@pytest.mark.parametrize("changed", [{}, {"keys": -1}], ids=["passed", "failed"])
def test_record_writes_the_drill_into_the_json_beside_the_snapshot_and_nothing_else(
        fake_etcd, run_module, recorded, version, lab, changed):
    answers(fake_etcd(tools(version)), version, recorded)
    side = lab["snap"].parent / "snap.db.json"
    backup = dict(metadata(version, recorded, **changed), source_member="node2", sha256="ab" * 32)
    side.write_text(json.dumps(backup))
    before = sorted(os.listdir(lab["snap"].parent))
    result = run_module(module, args(lab, record=True))
    written = json.loads(side.read_text())
    assert result["recorded"] is True and result["changed"] is True and result["why"] == ""
    assert written["drill_result"] == ("failed" if changed else "passed") and written["drilled_at"] == result["time"]
    assert {k: v for k, v in written.items() if k in backup} == backup  # the backup's fields as they were
    assert oct(side.stat().st_mode & 0o777) == "0o600"
    assert sorted(set(os.listdir(lab["snap"].parent)) - {"drill"}) == before  # no file left beside it


@pytest.mark.parametrize("content, why", [(None, "has no metadata file"), ("[1]", "is no JSON object")])
def test_record_leaves_a_snapshot_without_a_json_object_beside_it_as_it_is(
        fake_etcd, run_module, recorded, version, lab, content, why):
    answers(fake_etcd(tools(version)), version, recorded)
    side = lab["snap"].parent / "snap.db.json"
    if content is not None:
        side.write_text(content)
    result = run_module(module, args(lab, record=True, metadata=metadata(version, recorded)))
    assert result["result"] == "passed" and result["recorded"] is False and why in result["why"]
    assert not result["changed"]
    assert (side.read_text() if content is not None else None) == content and side.exists() == (content is not None)


def test_record_writes_nothing_in_check_mode(fake_etcd, run_module, recorded, version, lab):
    answers(fake_etcd(tools(version)), version, recorded)
    side = lab["snap"].parent / "snap.db.json"
    side.write_text(json.dumps(metadata(version, recorded)))
    text = side.read_text()
    result = run_module(module, args(lab, record=True), check_mode=True)
    assert result["result"] == "not run" and result["recorded"] is False and result["why"] == "check mode: not written"
    assert side.read_text() == text
