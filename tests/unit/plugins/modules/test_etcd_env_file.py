"""etcd_env_file on real files: set, keep, back up, check mode, diff."""

import os

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_env_file

TEXT = "# etcd\nETCD_NAME=node1\nETCD_INITIAL_CLUSTER=old\nexport ETCD_INITIAL_CLUSTER=older\n\nETCD_X=1\n"


def test_sets_keeps_every_other_line_and_backs_up(tmp_path, run_module):
    path = tmp_path / "etcd.env"
    path.write_text(TEXT)
    path.chmod(0o640)
    result = run_module(etcd_env_file, {"path": str(path), "set": {"ETCD_INITIAL_CLUSTER": "node1=http://a:2380",
                                                                   "ETCD_INITIAL_CLUSTER_TOKEN": "t-1"}})
    want = ("# etcd\nETCD_NAME=node1\nETCD_INITIAL_CLUSTER=node1=http://a:2380\nETCD_INITIAL_CLUSTER=node1=http://a:2380"
            "\n\nETCD_X=1\nETCD_INITIAL_CLUSTER_TOKEN=t-1\n")
    assert result["changed"] and path.read_text() == want and result["text"] == want
    assert oct(path.stat().st_mode & 0o777) == "0o640"  # the file keeps its mode
    backup = result["backup_file"]
    assert backup.startswith(str(path) + ".") and backup.endswith("~") and open(backup).read() == TEXT
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["etcd.env", os.path.basename(backup)])
    again = run_module(etcd_env_file, {"path": str(path), "set": {"ETCD_INITIAL_CLUSTER_TOKEN": "t-1"}})
    assert not again["changed"] and again["backup_file"] == "" and len(list(tmp_path.iterdir())) == 2


def test_check_mode_and_diff_write_nothing(tmp_path, run_module):
    path = tmp_path / "etcd.env"
    path.write_text(TEXT)
    args = {"path": str(path), "set": {"ETCD_X": "2"}, "_ansible_diff": True}
    result = run_module(etcd_env_file, args, check_mode=True)
    assert result["changed"] and path.read_text() == TEXT and list(tmp_path.iterdir()) == [path]
    assert result["diff"]["before"] == TEXT and "ETCD_X=2\n" in result["diff"]["after"]


def test_a_missing_file_is_created_with_the_mode_and_no_backup(tmp_path, run_module):
    path = tmp_path / "etcd.env"
    result = run_module(etcd_env_file, {"path": str(path), "set": {"ETCD_NAME": "node9"}, "mode": "0600"})
    assert result["changed"] and path.read_text() == "ETCD_NAME=node9\n" and result["backup_file"] == ""
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_unreadable_file_fails_with_its_path(tmp_path, run_module):
    (tmp_path / "etcd.env").mkdir()
    result = run_module(etcd_env_file, {"path": str(tmp_path / "etcd.env"), "set": {"A": "1"}})
    assert result["failed"] and result["msg"].startswith(f"Could not read the env file {tmp_path}/etcd.env")
