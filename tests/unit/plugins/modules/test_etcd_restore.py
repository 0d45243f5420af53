"""etcd_restore on real directories, with a fake restore tool."""

import getpass
import hashlib
import json
import os
import shutil

import pytest

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_restore


@pytest.fixture
def setup(fake_etcd, recorded, version, tmp_path):
    body = os.urandom(4096)
    snap = tmp_path / "s.db"
    snap.write_bytes(body + hashlib.sha256(body).digest())
    restores = []

    def restore(argv, env):
        data_dir = next(a.split("=", 1)[1] for a in argv if a.startswith("--data-dir="))
        restores.append(argv)
        assert not os.path.exists(data_dir) or not os.listdir(data_dir)
        os.makedirs(os.path.join(data_dir, "member", "snap"))
        with open(os.path.join(data_dir, "member", "snap", "db"), "w") as handle:
            handle.write("restored %d" % len(restores))
        wal_dir = next((a.split("=", 1)[1] for a in argv if a.startswith("--wal-dir=")), None)
        if wal_dir:  # etcd writes a separate WAL dir's files at its top
            os.makedirs(wal_dir)
            with open(os.path.join(wal_dir, "0000000000000000-0000000000000000.wal"), "w") as handle:
                handle.write("wal %d" % len(restores))
    fake = fake_etcd(("etcdctl", "etcdutl")).on("version", recorded(version, "version.txt"))
    fake.on("snapshot restore", "", do=restore)
    args = dict(snapshot=str(snap), data_dir=str(tmp_path / "data"), name="node1",
                peer_urls=["http://10.0.0.11:2380"], owner=getpass.getuser(),
                initial_cluster="node1=http://10.0.0.11:2380,node2=http://10.0.0.12:2380",
                cluster_token="tok-1")
    return fake, args, restores, tmp_path


def test_stage_then_switch_then_unchanged(setup, run_module):
    fake, args, restores, tmp = setup
    staged = run_module(etcd_restore, dict(args, state="staged"))
    assert staged["changed"] and staged["restored"] and not staged["switched"]
    assert (tmp / "data.etcd-ops-staging" / "member" / "snap" / "db").exists()
    argv = restores[0]
    for flag in ("--name=node1", "--initial-advertise-peer-urls=http://10.0.0.11:2380", "--initial-cluster-token=tok-1",
                 "--initial-cluster=node1=http://10.0.0.11:2380,node2=http://10.0.0.12:2380",
                 f"--data-dir={tmp}/data.etcd-ops-staging"):
        assert flag in argv
    assert "--skip-hash-check" not in argv and not [a for a in argv if a.startswith("--bump-revision")]

    switched = run_module(etcd_restore, args)
    assert switched["changed"] and not switched["restored"] and switched["switched"] and switched["moved_aside"] == ""
    assert len(restores) == 1 and not (tmp / "data.etcd-ops-staging").exists()
    assert json.loads((tmp / "data" / "member" / ".etcd-ops-restore.json").read_text())["cluster_token"] == "tok-1"
    assert oct((tmp / "data").stat().st_mode & 0o777) == "0o700"

    again = run_module(etcd_restore, args)
    assert not again["changed"] and len(restores) == 1


def test_old_data_dir_is_moved_aside_never_deleted(setup, run_module):
    fake, args, restores, tmp = setup
    (tmp / "data" / "member").mkdir(parents=True)
    (tmp / "data" / "member" / "old").write_text("old data")
    check = run_module(etcd_restore, args, check_mode=True)
    assert check["changed"] and check["restored"] and check["moved_aside"].startswith(f"{tmp}/data.")
    assert not restores and (tmp / "data" / "member" / "old").exists()

    result = run_module(etcd_restore, args)
    aside = result["moved_aside"]
    assert result["changed"] and aside.startswith(f"{tmp}/data.") and aside.endswith("Z")
    assert open(os.path.join(aside, "member", "old")).read() == "old data"
    assert (tmp / "data" / "member" / "snap" / "db").read_text() == "restored 1"


def test_a_failed_restore_leaves_no_staging_dir(setup, run_module):
    fake, args, restores, tmp = setup

    def half(argv, env):
        os.makedirs(os.path.join(tmp, "data.etcd-ops-staging", "member", "snap"))
    fake.on("snapshot restore", rc=1, stderr="Error: expected sha256 [...], got [...]\n", do=half)
    result = run_module(etcd_restore, args)
    assert result["failed"] and "expected sha256" in result["msg"]
    assert sorted(p.name for p in tmp.iterdir()) == ["s.db"]


def test_name_must_be_in_the_initial_cluster(setup, run_module):
    fake, args, restores, tmp = setup
    result = run_module(etcd_restore, dict(args, name="node9"))
    assert result["failed"] and "node9 is not in initial_cluster" in result["msg"] and not restores


def test_bump_revision_where_the_tool_has_it(setup, run_module, version):
    fake, args, restores, tmp = setup
    result = run_module(etcd_restore, dict(args, bump_revision=1000000000))
    if version.startswith("3.4."):
        assert result["failed"] and f"etcdctl {version} cannot bump the revision" in result["msg"] and not restores
    else:
        assert result["changed"] and "--bump-revision=1000000000" in restores[0] and "--mark-compacted" in restores[0]
        assert restores[0][0].endswith("etcdutl")


def test_staging_again_is_unchanged(setup, run_module):
    fake, args, restores, tmp = setup
    assert run_module(etcd_restore, dict(args, state="staged"))["changed"]
    again = run_module(etcd_restore, dict(args, state="staged"))
    assert not again["changed"] and not again["restored"] and len(restores) == 1


def test_retire_removes_the_copy_then_retires_the_marker(setup, run_module):
    """check, real, check: the check predicts the real run; once retired, nothing is left to do."""
    fake, args, restores, tmp = setup
    (tmp / "s.db.sha256").write_text(hashlib.sha256((tmp / "s.db").read_bytes()).hexdigest() + "  s.db\n")
    assert run_module(etcd_restore, args)["switched"]
    marker = tmp / "data" / "member" / ".etcd-ops-restore.json"
    done = tmp / "data" / "member" / ".etcd-ops-restore.done.json"
    text = marker.read_text()
    retire = dict(snapshot=args["snapshot"], data_dir=args["data_dir"], state="retired", remove_snapshot=True)
    checked = run_module(etcd_restore, retire, check_mode=True)
    assert checked["changed"] and checked["retired"]
    assert checked["removed"] == [str(tmp / "s.db"), str(tmp / "s.db.sha256")] and marker.exists()
    real = run_module(etcd_restore, retire)
    keys = ("changed", "retired", "removed")
    assert {k: real[k] for k in keys} == {k: checked[k] for k in keys}
    assert not marker.exists() and done.read_text() == text and not (tmp / "s.db").exists()
    again = run_module(etcd_restore, retire, check_mode=True)
    assert not again["changed"] and not again["retired"] and again["removed"] == []
    assert not run_module(etcd_restore, retire)["changed"]


def test_restore_options_are_required_to_stage(setup, run_module):
    fake, args, restores, tmp = setup
    result = run_module(etcd_restore, dict(snapshot=args["snapshot"], data_dir=args["data_dir"], state="staged"))
    assert result["failed"] and "name" in result["msg"] and "cluster_token" in result["msg"]


WAL = "0000000000000000-0000000000000000.wal"


@pytest.fixture
def wal_setup(setup):
    """A member with a separate WAL dir that holds the old cluster's WAL (issue #24, edge 2)."""
    fake, args, restores, tmp = setup
    (tmp / "wal").mkdir()
    (tmp / "wal" / WAL).write_text("old wal")
    (tmp / "data" / "member" / "snap").mkdir(parents=True)
    return fake, dict(args, wal_dir=str(tmp / "wal")), restores, tmp


def test_a_wal_dir_is_staged_marked_and_switched_with_the_data_dir(wal_setup, run_module):
    fake, args, restores, tmp = wal_setup
    staged = run_module(etcd_restore, dict(args, state="staged"))
    assert staged["restored"] and f"--wal-dir={tmp}/wal.etcd-ops-staging" in restores[0]
    mark = json.loads((tmp / "data.etcd-ops-staging" / "member" / ".etcd-ops-restore.json").read_text())
    assert json.loads((tmp / "wal.etcd-ops-staging" / ".etcd-ops-restore.json").read_text()) == mark
    assert oct((tmp / "wal.etcd-ops-staging").stat().st_mode & 0o777) == "0o700"
    check = run_module(etcd_restore, args, check_mode=True)
    assert check["switched"] and not check["restored"] and (tmp / "wal" / WAL).read_text() == "old wal"
    switched = run_module(etcd_restore, args)
    assert switched["moved_aside"] == check["moved_aside"]
    data_aside, wal_aside = switched["moved_aside"].split(",")
    assert data_aside.startswith(f"{tmp}/data.2") and wal_aside.startswith(f"{tmp}/wal.2")
    assert open(os.path.join(wal_aside, WAL)).read() == "old wal"
    assert (tmp / "wal" / WAL).read_text() == "wal 1"
    assert (tmp / "data" / "member" / "snap" / "db").read_text() == "restored 1"
    assert not run_module(etcd_restore, args)["changed"] and len(restores) == 1


def test_a_run_killed_between_the_two_renames_switches_only_the_data_dir(wal_setup, run_module):
    """The WAL dir is switched first: killed then, the WAL in place is the restored one (its mark says so) and the
    data dir's staging is still marked: the next run renames the data dir alone, restoring nothing."""
    fake, args, restores, tmp = wal_setup
    run_module(etcd_restore, dict(args, state="staged"))
    os.rename(tmp / "wal", tmp / "wal.20260101T000000Z")
    os.rename(tmp / "wal.etcd-ops-staging", tmp / "wal")
    result = run_module(etcd_restore, args)
    assert result["switched"] and not result["restored"] and len(restores) == 1
    assert result["moved_aside"].startswith(f"{tmp}/data.2") and "," not in result["moved_aside"]
    assert (tmp / "wal" / WAL).read_text() == "wal 1" and (tmp / "wal.20260101T000000Z" / WAL).read_text() == "old wal"


def test_a_data_dir_switched_without_its_wal_dir_gets_the_wal_dir_switched(wal_setup, run_module):
    """What a run of 0.x left when the WAL dir could not be renamed after the data dir was (a mount point): the
    data dir in place and marked, the old WAL in place. Its mark no longer means done: the staged WAL is switched."""
    fake, args, restores, tmp = wal_setup
    run_module(etcd_restore, dict(args, state="staged"))
    os.rename(tmp / "data", tmp / "data.20260101T000000Z")
    os.rename(tmp / "data.etcd-ops-staging", tmp / "data")
    staged = run_module(etcd_restore, dict(args, state="staged"))
    assert not staged["changed"]
    result = run_module(etcd_restore, args)
    assert result["switched"] and not result["restored"] and result["moved_aside"].startswith(f"{tmp}/wal.2")
    assert (tmp / "wal" / WAL).read_text() == "wal 1" and len(restores) == 1


def test_a_lost_wal_staging_is_restored_afresh_and_both_dirs_switched(wal_setup, run_module):
    """The data dir is in place but the WAL's staging is gone: both dirs must come from one restore, so the
    restore runs again and both are switched; the data dir restored before is moved aside, not deleted."""
    fake, args, restores, tmp = wal_setup
    run_module(etcd_restore, dict(args, state="staged"))
    os.rename(tmp / "data", tmp / "data.20260101T000000Z")
    os.rename(tmp / "data.etcd-ops-staging", tmp / "data")
    shutil.rmtree(tmp / "wal.etcd-ops-staging")
    result = run_module(etcd_restore, args)
    assert result["restored"] and result["switched"] and len(restores) == 2
    data_aside, wal_aside = result["moved_aside"].split(",")
    assert open(os.path.join(data_aside, "member", "snap", "db")).read() == "restored 1"
    assert open(os.path.join(wal_aside, WAL)).read() == "old wal"
    assert (tmp / "data" / "member" / "snap" / "db").read_text() == "restored 2"
    assert (tmp / "wal" / WAL).read_text() == "wal 2"


def test_retire_removes_the_wal_dirs_mark(wal_setup, run_module):
    fake, args, restores, tmp = wal_setup
    run_module(etcd_restore, args)
    assert (tmp / "wal" / ".etcd-ops-restore.json").exists()
    retire = dict(snapshot=args["snapshot"], data_dir=args["data_dir"], wal_dir=args["wal_dir"], state="retired")
    assert run_module(etcd_restore, retire)["retired"]
    assert not (tmp / "wal" / ".etcd-ops-restore.json").exists() and (tmp / "wal" / WAL).exists()
    assert (tmp / "data" / "member" / ".etcd-ops-restore.done.json").exists()
