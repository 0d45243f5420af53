"""etcd_snapshot_push (the node's side) on real files, with a fake etcdctl."""

import errno
import hashlib
import json
import os

import pytest

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_snapshot_push


def snapshot_bytes(pages=16):
    body = os.urandom(512 * pages)
    return body + hashlib.sha256(body).digest()


def tools(fake, version, recorded):
    fake.on("version", recorded(version, "version.txt"))
    fake.on("snapshot status", recorded(version, "snapshot_status.json"))
    return fake


def sha(data):
    return hashlib.sha256(data).hexdigest()


def mode_of(path):
    return oct(path.stat().st_mode & 0o777)


def names(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def dirs(tmp_path):
    """(remote tmp dir, where the action plugin put the copy; dest's directory)."""
    remote, target = tmp_path / "remote-tmp", tmp_path / "target"
    remote.mkdir()
    target.mkdir()
    return remote, target


def pushed(remote, data):
    src = remote / "snapshot"
    src.write_bytes(data)
    src.chmod(0o644)  # as _transfer_file/_fixup_perms2 may leave it: the module must settle the mode
    return src


def test_without_src_and_no_dest_says_absent(fake_etcd, run_module, recorded, version, dirs):
    fake = tools(fake_etcd(), version, recorded)
    remote, target = dirs
    dest = target / "s.db"
    result = run_module(etcd_snapshot_push, {"dest": str(dest), "sha256": "a" * 64, "mode": "0600"})
    assert not result.get("failed")
    assert result["changed"] is False and result["present"] is False and result["copied"] is False
    assert result["why"] == "absent" and result["path"] == str(dest)
    assert names(target) == [] and fake.calls == []


def test_places_a_good_copy_with_its_sidecar(fake_etcd, run_module, recorded, version, dirs):
    fake = tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    src = pushed(remote, data)
    dest = target / "s.db"
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(dest), "sha256": sha(data),
                                             "mode": "0600"})
    assert not result.get("failed"), result
    assert result["changed"] is True and result["copied"] is True
    assert result["sha256"] == sha(data) and result["size"] == len(data) and result["path"] == str(dest)
    assert result["sidecar"] == {"path": str(dest) + ".sha256", "exists": True, "sha256": sha(data),
                                 "matches": True}
    assert result["trailer"] == {"present": True, "valid": True}
    assert result["status"]["revision"] == json.loads(recorded(version, "snapshot_status.json"))["revision"]
    assert dest.read_bytes() == data and mode_of(dest) == "0o600"
    side = target / "s.db.sha256"
    assert side.read_text() == f"{sha(data)}  s.db\n" and mode_of(side) == "0o600"
    assert not src.exists() and names(remote) == []
    assert names(target) == ["s.db", "s.db.sha256"]  # no hidden temporary names left
    status = [argv for argv in fake.argvs() if argv[1:3] == ["snapshot", "status"]]
    assert status and status[0][3] == str(src)  # the copy was checked before it got its name


def test_places_a_copy_across_filesystems(fake_etcd, run_module, recorded, version, dirs, monkeypatch):
    """The remote tmp dir on another filesystem than dest: a copy to a hidden name beside dest, then a rename."""
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    src = pushed(remote, data)
    dest = target / "s.db"
    real_rename, renames = os.rename, []

    def rename(a, b):
        renames.append((str(a), str(b)))
        if str(a) == str(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(a, b)
    monkeypatch.setattr(etcd_snapshot_push.os, "rename", rename)
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(dest), "sha256": sha(data),
                                             "mode": "0600"})
    assert not result.get("failed"), result
    assert result["copied"] is True and result["changed"] is True
    assert dest.read_bytes() == data and mode_of(dest) == "0o600"
    assert (target / "s.db.sha256").read_text() == f"{sha(data)}  s.db\n"
    assert not src.exists() and names(target) == ["s.db", "s.db.sha256"]
    via = [b for a, b in renames if b == str(dest)]
    assert len(via) == 2  # the failed rename of src, then the hidden copy's
    assert any(os.path.basename(a).startswith(".s.db.tmp-") and b == str(dest) for a, b in renames)


def test_a_copy_that_differs_from_its_source_is_removed(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    old = snapshot_bytes(4)
    dest = target / "s.db"
    dest.write_bytes(old)
    (target / "s.db.sha256").write_text(f"{sha(old)}  s.db\n")
    data = snapshot_bytes()
    src = pushed(remote, data)
    expected = sha(snapshot_bytes())  # the source's sha256: another file
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(dest), "sha256": expected,
                                             "mode": "0600"})
    assert result["failed"] and result["copied"] is False
    assert "differs from its source" in result["msg"] and expected in result["msg"] and sha(data) in result["msg"]
    assert not src.exists() and names(remote) == []
    assert dest.read_bytes() == old and (target / "s.db.sha256").read_text() == f"{sha(old)}  s.db\n"
    assert names(target) == ["s.db", "s.db.sha256"]


def test_a_truncated_copy_is_not_usable_and_removed(fake_etcd, run_module, recorded, version, dirs):
    fake = tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()[:-1]  # one byte short
    src = pushed(remote, data)
    dest = target / "s.db"
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(dest), "sha256": sha(data),
                                             "mode": "0600"})
    assert result["failed"] and "is not usable" in result["msg"] and result["copied"] is False
    assert not src.exists() and names(target) == []
    assert not [a for a in fake.argvs() if "status" in a]  # refused before any tool ran


def test_a_missing_dest_directory_fails_and_removes_the_copy(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    src = pushed(remote, data)
    dest = target / "nope" / "s.db"
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(dest), "sha256": sha(data),
                                             "mode": "0600"})
    assert result["failed"] and f"The directory {target / 'nope'} does not exist" in result["msg"]
    assert not src.exists() and names(target) == []


def test_with_src_in_check_mode_copies_nothing(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    src = pushed(remote, data)
    dest = target / "s.db"
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(dest), "sha256": sha(data),
                                             "mode": "0600"}, check_mode=True)
    assert result["changed"] is True and result["copied"] is False and not result.get("failed")
    assert names(target) == []


def test_without_src_a_dest_in_place_gets_its_sidecar(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    dest = target / "s.db"
    dest.write_bytes(data)
    dest.chmod(0o600)
    args = {"dest": str(dest), "sha256": sha(data), "mode": "0600"}

    checked = run_module(etcd_snapshot_push, args, check_mode=True)
    assert not checked.get("failed") and checked["present"] is True and checked["copied"] is False
    assert checked["sha256"] == sha(data)
    assert names(target) == ["s.db"] and dest.read_bytes() == data  # check mode writes no sidecar

    result = run_module(etcd_snapshot_push, args)
    assert not result.get("failed") and result["present"] is True and result["copied"] is False
    assert result["changed"] is True and result["sha256"] == sha(data)
    side = target / "s.db.sha256"
    assert side.read_text() == f"{sha(data)}  s.db\n" and mode_of(side) == "0o600"
    assert names(target) == ["s.db", "s.db.sha256"] and dest.read_bytes() == data

    again = run_module(etcd_snapshot_push, args)
    assert again["present"] is True and again["changed"] is False
    assert again["sidecar"]["exists"] is True and again["sidecar"]["matches"] is True


def test_without_src_the_dest_mode_is_settled(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    dest = target / "s.db"
    dest.write_bytes(data)
    dest.chmod(0o644)
    (target / "s.db.sha256").write_text(f"{sha(data)}  s.db\n")
    (target / "s.db.sha256").chmod(0o600)
    result = run_module(etcd_snapshot_push, {"dest": str(dest), "sha256": sha(data).upper(), "mode": "0600"})
    assert result["present"] is True and result["changed"] is True
    assert mode_of(dest) == "0o600"


def test_without_src_check_mode_reports_the_sidecar_it_would_write(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    dest = target / "s.db"
    dest.write_bytes(data)
    dest.chmod(0o600)
    checked = run_module(etcd_snapshot_push, {"dest": str(dest), "sha256": sha(data), "mode": "0600"},
                         check_mode=True)
    assert names(target) == ["s.db"]
    assert checked["changed"] is True


def test_without_src_the_result_reports_the_sidecar_it_wrote(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    dest = target / "s.db"
    dest.write_bytes(data)
    dest.chmod(0o600)
    result = run_module(etcd_snapshot_push, {"dest": str(dest), "sha256": sha(data), "mode": "0600"})
    assert (target / "s.db.sha256").exists()
    assert result["sidecar"] == {"path": str(dest) + ".sha256", "exists": True, "sha256": sha(data),
                                 "matches": True}


@pytest.mark.parametrize("value", ["abc", "g" * 64, "a" * 65, ""])
def test_a_sha256_that_is_not_64_hex_digits_fails(fake_etcd, run_module, dirs, value):
    fake = fake_etcd()
    remote, target = dirs
    data = snapshot_bytes()
    src = pushed(remote, data)
    result = run_module(etcd_snapshot_push, {"src": str(src), "dest": str(target / "s.db"), "sha256": value,
                                             "mode": "0600"})
    assert result["failed"] and "64 hex digits" in result["msg"] and result["copied"] is False
    assert names(target) == [] and fake.calls == []


def test_a_dest_holding_another_file_is_not_present(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    other = snapshot_bytes()
    dest = target / "s.db"
    dest.write_bytes(other)
    expected = sha(snapshot_bytes())
    result = run_module(etcd_snapshot_push, {"dest": str(dest), "sha256": expected, "mode": "0600"})
    assert not result.get("failed") and result["present"] is False and result["changed"] is False
    assert "differs from its source" in result["why"] and result["copied"] is False
    assert dest.read_bytes() == other and names(target) == ["s.db"]  # no sidecar written for it


def test_dir_mode_creates_the_missing_dest_directory(fake_etcd, run_module, recorded, version, dirs):
    tools(fake_etcd(), version, recorded)
    remote, target = dirs
    data = snapshot_bytes()
    dest = target / "new" / "dir" / "s.db"
    result = run_module(etcd_snapshot_push, {"src": str(pushed(remote, data)), "dest": str(dest), "sha256": sha(data),
                                             "mode": "0600", "dir_mode": "0700"})
    assert result["copied"] and dest.read_bytes() == data
    assert oct((target / "new" / "dir").stat().st_mode & 0o777) == "0o700"


@pytest.mark.skipif(os.geteuid() != 0, reason="another owner needs chown: run as root (CI does)")
@pytest.mark.parametrize("with_src", [False, True])
def test_a_work_dir_another_user_made_is_refused_and_nothing_is_written(
        fake_etcd, run_module, recorded, version, dirs, with_src):
    """Issue #24, edge 6: a dest dir another user made (as one could under /var/tmp) is neither trusted for a copy
    found there nor written to; the uploaded copy is removed."""
    remote, target = dirs
    os.chown(target, 4242, 4242)
    data = snapshot_bytes()
    (target / "s.db").write_bytes(data)  # a "snapshot" that user placed, with the right sha256 even
    fake = tools(fake_etcd(), version, recorded)
    args = dict(dest=str(target / "s.db"), sha256=sha(data), dir_mode="0700")
    if with_src:
        args["src"] = str(pushed(remote, data))
    result = run_module(etcd_snapshot_push, args)
    assert result["failed"] and not result["copied"]
    assert result["msg"].startswith(f"The work dir {target} is not safe to hold a snapshot: {target} belongs to uid "
                                    "4242, not root.")
    assert names(target) == ["s.db"] and names(remote) == [] and fake.calls == []
