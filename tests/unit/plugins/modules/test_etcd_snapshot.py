"""etcd_snapshot and etcd_snapshot_info on real files, with a fake etcdctl/etcdutl."""

import hashlib
import json
import os

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_snapshot, etcd_snapshot_info


def snapshot_bytes(pages=16):
    body = os.urandom(512 * pages)
    return body + hashlib.sha256(body).digest()


def tools(fake, version, recorded):
    fake.on("version", recorded(version, "version.txt"))
    fake.on("snapshot status", recorded(version, "snapshot_status.json"))
    fake.on("endpoint status -w json", json.dumps(json.loads(recorded(version, "endpoint_status.json"))[:1]))
    fake.on("get", recorded(version, "get_count.json"))
    fake.on("endpoint hashkv", recorded(version, "endpoint_hashkv.json"))
    return fake


def test_save_writes_atomically_with_sidecar_and_mode(fake_etcd, run_module, recorded, version, tmp_path):
    data = snapshot_bytes()

    def save(argv, env):
        assert env["ETCDCTL_ENDPOINTS"] == "http://127.0.0.1:2379" and env["ETCDCTL_COMMAND_TIMEOUT"] == "600s"
        assert os.path.basename(argv[-1]).startswith(".s.db.tmp-")  # never the final name
        with open(argv[-1], "wb") as handle:
            handle.write(data)
    fake = tools(fake_etcd(), version, recorded).on("snapshot save", "Snapshot saved\n", do=save)
    path = tmp_path / "s.db"
    result = run_module(etcd_snapshot, {"path": str(path)})
    status = json.loads(recorded(version, "snapshot_status.json"))
    assert result["changed"] and result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["revision"] == status["revision"] and result["total_keys"] == status["totalKey"]
    assert result["keys"] == json.loads(recorded(version, "get_count.json"))["count"]
    count = next(argv for argv in fake.argvs() if argv[1] == "get")
    at = ["--rev=%d" % status["revision"]] if status["revision"] else ["--consistency=s"]
    assert count[-3:] == at + ["-w", "json"]
    hashed = json.loads(recorded(version, "endpoint_hashkv.json"))[0]["HashKV"]
    assert result["kv_hash"] == hashed["hash"] and result["kv_hash_compact_revision"] == hashed["compact_revision"]
    asked = next(argv for argv in fake.argvs() if argv[1:3] == ["endpoint", "hashkv"])
    assert asked[3:] == (["--rev=%d" % status["revision"]] if status["revision"] else []) + ["-w", "json"]
    assert path.read_bytes() == data and oct(path.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "s.db.sha256").read_text() == f"{result['sha256']}  s.db\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db", "s.db.sha256"]
    assert any("snapshot save" in c for c in result["commands"])
    assert result["etcd_version"].startswith(version.rsplit(".", 1)[0])

    again = run_module(etcd_snapshot, {"path": str(path)})
    assert not again["changed"] and again["sha256"] == result["sha256"]
    assert len([a for a in fake.argvs() if "save" in a]) == 1


def test_a_bad_download_leaves_nothing_under_the_final_name(fake_etcd, run_module, recorded, version, tmp_path):
    def save(argv, env):
        with open(argv[-1], "wb") as handle:
            handle.write(snapshot_bytes()[:-1])  # one byte short
    tools(fake_etcd(), version, recorded).on("snapshot save", "", do=save)
    result = run_module(etcd_snapshot, {"path": str(tmp_path / "s.db")})
    assert result["failed"] and "is not usable" in result["msg"]
    assert list(tmp_path.iterdir()) == []


def test_save_check_mode_and_no_space(fake_etcd, run_module, recorded, version, tmp_path, monkeypatch):
    fake = tools(fake_etcd(), version, recorded)
    result = run_module(etcd_snapshot, {"path": str(tmp_path / "s.db")}, check_mode=True)
    assert result["changed"] and not [a for a in fake.argvs() if "save" in a]

    class Full:
        f_bavail, f_frsize = 1, 4096
    monkeypatch.setattr(etcd_snapshot.os, "statvfs", lambda p: Full)
    result = run_module(etcd_snapshot, {"path": str(tmp_path / "s.db")})
    assert result["failed"] and result["msg"].startswith(f"Not enough space in {tmp_path}: 4096 bytes free")
    assert list(tmp_path.iterdir()) == []


def test_info_reads_and_compares_the_sidecar(fake_etcd, run_module, recorded, version, tmp_path):
    tools(fake_etcd(), version, recorded)
    data = snapshot_bytes()
    path = tmp_path / "s.db"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "s.db.sha256").write_text(f"{digest}  s.db\n")
    result = run_module(etcd_snapshot_info, {"path": str(path)})
    assert not result["changed"] and result["sidecar"]["matches"]
    assert result["trailer"] == {"present": True, "valid": True}
    assert result["status"]["revision"] == json.loads(recorded(version, "snapshot_status.json"))["revision"]

    (tmp_path / "s.db.sha256").write_text(f"{'0' * 64}  s.db\n")
    result = run_module(etcd_snapshot_info, {"path": str(path)})
    assert result["failed"] and "does not match its sidecar" in result["msg"]


def test_info_refuses_corrupted_truncated_missing(fake_etcd, run_module, recorded, version, tmp_path):
    fake = tools(fake_etcd(), version, recorded)
    data = bytearray(snapshot_bytes())
    data[700] ^= 1
    (tmp_path / "flip.db").write_bytes(bytes(data))
    (tmp_path / "cut.db").write_bytes(bytes(data[:5000]))
    flip = run_module(etcd_snapshot_info, {"path": str(tmp_path / "flip.db")})
    cut = run_module(etcd_snapshot_info, {"path": str(tmp_path / "cut.db")})
    missing = run_module(etcd_snapshot_info, {"path": str(tmp_path / "nope.db")})
    assert "the file is corrupted" in flip["msg"] and "is not whole 512-byte pages" in cut["msg"]
    assert "does not exist" in missing["msg"]
    assert not [a for a in fake.argvs() if "status" in a]  # refused before any tool ran


def test_deep_check_restores_into_a_temporary_dir_and_removes_it(fake_etcd, run_module, recorded, version, tmp_path):
    seen = []

    def restore(argv, env):
        data_dir = next(a.split("=", 1)[1] for a in argv if a.startswith("--data-dir="))
        seen.append(data_dir)
        os.makedirs(os.path.join(data_dir, "member", "snap"))
    fake = tools(fake_etcd(("etcdctl", "etcdutl")), version, recorded).on("snapshot restore", "", do=restore)
    data = snapshot_bytes()
    (tmp_path / "s.db").write_bytes(data)
    result = run_module(etcd_snapshot_info, {"path": str(tmp_path / "s.db"), "deep": True})
    assert result["deep"] == {"restored": True, "tool": "etcdutl" if version >= "3.5" else "etcdctl"}
    assert seen and seen[0].startswith(str(tmp_path / ".etcd-snapshot-check-"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]
    assert next(a for a in fake.argvs() if "restore" in a)[0].endswith(result["tool"])


def test_save_without_the_key_count_when_the_revision_is_compacted(fake_etcd, run_module, recorded, version, tmp_path):
    data = snapshot_bytes()

    def save(argv, env):
        with open(argv[-1], "wb") as handle:
            handle.write(data)
    fake = tools(fake_etcd(), version, recorded).on("snapshot save", "Snapshot saved\n", do=save)
    fake.on("get", "", rc=1, stderr=recorded(version, "get_count_compacted.err"))
    fake.on("endpoint hashkv", "[]", rc=1, stderr=recorded(version, "endpoint_hashkv_compacted.err"))
    result = run_module(etcd_snapshot, {"path": str(tmp_path / "s.db")})
    assert result["changed"] and result["keys"] is None and (tmp_path / "s.db").exists()
    assert result["kv_hash"] is None and result["kv_hash_compact_revision"] is None


def test_info_without_status_needs_no_etcd_tool(fake_etcd, run_module, tmp_path):
    fake = fake_etcd(tools=())
    path = tmp_path / "s.db"
    path.write_bytes(snapshot_bytes())
    result = run_module(etcd_snapshot_info, {"path": str(path), "read_status": False})
    assert not result.get("failed") and result["trailer"] == {"present": True, "valid": True}
    assert result["status"] == {} and result["restore_bump_revision"] is False and fake.calls == []
    bad = bytearray(path.read_bytes())
    bad[100] ^= 1
    path.write_bytes(bytes(bad))
    failed = run_module(etcd_snapshot_info, {"path": str(path), "read_status": False})
    assert failed["failed"] and "the file is corrupted" in failed["msg"] and fake.calls == []


def test_info_says_whether_a_restore_can_bump_the_revision(fake_etcd, run_module, recorded, version, tmp_path):
    tools(fake_etcd(), version, recorded)
    path = tmp_path / "s.db"
    path.write_bytes(snapshot_bytes())
    result = run_module(etcd_snapshot_info, {"path": str(path)})
    # Debian's 3.4.23 cannot (3.4.27+), 3.5.16 can (3.5.10+)
    assert result["restore_bump_revision"] is (version >= "3.5")


def test_save_into_a_new_dir_with_the_member_list(fake_etcd, run_module, recorded, version, tmp_path):
    """backup.yml's one call: the dir made (0711), the snapshot saved, and the member list for the metadata."""
    data = snapshot_bytes()

    def save(argv, env):
        with open(argv[-1], "wb") as handle:
            handle.write(data)
    fake = tools(fake_etcd(), version, recorded).on("snapshot save", "Snapshot saved\n", do=save)
    fake.on("member list -w json", recorded(version, "member_list.json"))
    path = tmp_path / "backups" / "s.db"
    result = run_module(etcd_snapshot, {"path": str(path), "dir_mode": "0711", "members": True})
    assert result["changed"] and path.read_bytes() == data
    assert oct(path.parent.stat().st_mode & 0o777) == "0o711"
    listed = json.loads(recorded(version, "member_list.json"))
    assert result["cluster_id"] == format(int(listed["header"]["cluster_id"]), "x")
    assert [m["name"] for m in result["members"]] == [m["name"] for m in listed["members"]]
    assert all(m["peer_urls"] for m in result["members"])
    # an existing dir gets the mode; without members no member list is read
    path.parent.chmod(0o755)
    again = run_module(etcd_snapshot, {"path": str(tmp_path / "backups" / "t.db"), "dir_mode": "0711"})
    assert oct(path.parent.stat().st_mode & 0o777) == "0o711" and "members" not in again
    assert len([a for a in fake.argvs() if a[1:3] == ["member", "list"]]) == 1


def test_dir_mode_must_be_octal_and_check_mode_makes_no_dir(fake_etcd, run_module, recorded, version, tmp_path):
    tools(fake_etcd(), version, recorded)
    result = run_module(etcd_snapshot, {"path": str(tmp_path / "d" / "s.db"), "dir_mode": "rwx"})
    assert result["failed"] and "dir_mode must be octal" in result["msg"]
    result = run_module(etcd_snapshot, {"path": str(tmp_path / "d" / "s.db"), "dir_mode": "0711"}, check_mode=True)
    assert result["changed"] and not (tmp_path / "d").exists()
