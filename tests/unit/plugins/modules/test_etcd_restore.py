"""etcd_restore on real directories, with a fake restore tool."""

import getpass
import hashlib
import json
import os

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
            handle.write("restored")
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
    assert (tmp / "data" / "member" / "snap" / "db").read_text() == "restored"


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
