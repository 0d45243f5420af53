"""etcd_snapshot_list on real files."""

import json

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_snapshot_list

NAME = "etcd-cluster-20261205T060000Z-r250.db"


def test_it_lists_a_directory_and_changes_nothing(run_module, tmp_path):
    (tmp_path / NAME).write_bytes(b"x" * 10)
    (tmp_path / (NAME + ".json")).write_text(json.dumps(dict(revision=250, drill_result="passed")))
    before = sorted(p.name for p in tmp_path.iterdir())
    for check_mode in (False, True):
        result = run_module(etcd_snapshot_list, {"path": str(tmp_path)}, check_mode=check_mode)
        assert result["changed"] is False and result["exists"] is True
        [found] = result["snapshots"]
        assert (found["name"], found["size"], found["sidecar"]) == (NAME, 10, False)
        assert found["metadata"] == dict(revision=250, drill_result="passed")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_missing_directory_is_no_error(run_module, tmp_path):
    result = run_module(etcd_snapshot_list, {"path": str(tmp_path / "none")})
    assert result.get("failed") is not True and result["exists"] is False and result["snapshots"] == []


def test_a_directory_that_cannot_be_read_fails_with_the_fix(run_module, tmp_path, monkeypatch):
    def denied(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("os.listdir", denied)
    result = run_module(etcd_snapshot_list, {"path": str(tmp_path)})
    assert result["failed"] is True
    assert result["msg"] == "Cannot list %s: Permission denied." % tmp_path
    assert "become" in result["hint"]
