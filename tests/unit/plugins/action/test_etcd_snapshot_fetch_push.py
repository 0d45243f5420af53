"""The controller's side of etcd_snapshot_fetch and etcd_snapshot_push, with a fake connection.

The fetch runs on real files on the controller (tmp_path); for the push, the node's module is scripted and the
transfer recorded (that side is the module's, tested in tests/unit/plugins/modules/test_etcd_snapshot_push.py).
"""

import hashlib
import os
import posixpath
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader

from ansible_collections.etcd_ops.etcd.plugins.action.etcd_snapshot_fetch import ActionModule as FetchAction
from ansible_collections.etcd_ops.etcd.plugins.action.etcd_snapshot_push import ActionModule as PushAction

MODULE = "etcd_ops.etcd.etcd_snapshot_push"
TMPDIR = "/home/ops/.ansible/tmp/ansible-tmp-1700000000.1-42-1"


def snapshot_bytes(pages=16):
    body = os.urandom(512 * pages)
    return body + hashlib.sha256(body).digest()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def names(directory):
    return sorted(p.name for p in directory.iterdir())


class Shell:
    def __init__(self, tmpdir=None):
        self.tmpdir = tmpdir

    def join_path(self, *parts):
        return posixpath.join(*parts)


class Connection:
    """fetch_file writes `data` (or what `fetch(src, dest)` does) and records each call with the umask then."""

    def __init__(self, data=b"", fetch=None):
        self._shell = Shell()
        self.data, self.fetch, self.fetched = data, fetch, []

    def fetch_file(self, src, dest):
        umask = os.umask(0)
        os.umask(umask)
        self.fetched.append((src, dest, umask, os.path.exists(dest)))
        if self.fetch:
            return self.fetch(src, dest)
        with open(dest, "wb") as handle:
            handle.write(self.data)


def make_task(args, check_mode=False, search=()):
    task = MagicMock()
    task.args = dict(args)
    task.check_mode = check_mode
    task.async_val = 0
    task.action = "etcd_ops.etcd.test"
    task.get_search_path.return_value = list(search)
    return task


def build(cls, connection, args, check_mode=False, search=()):
    return cls(make_task(args, check_mode, search), connection, MagicMock(), DataLoader(), MagicMock(), None)


# -- fetch ------------------------------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    return directory


def fetch_args(dest, data=None, **more):
    args = dict(src="/var/lib/etcd-backup/snapshot.db", dest=str(dest), sha256=sha(data) if data else "0" * 64)
    return dict(args, **more)


def test_fetch_renames_a_matching_copy_in(store):
    data = snapshot_bytes()
    dest = store / "s.db"
    (store / ".incoming-s.db").write_bytes(b"left by an interrupted run")
    connection = Connection(data)
    umask = os.umask(0o022)
    try:
        result = build(FetchAction, connection, fetch_args(dest, data)).run(task_vars={})
        assert os.umask(0o022) == 0o022  # the controller's umask is given back
    finally:
        os.umask(umask)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["sha256"] == sha(data) and result["size"] == len(data)
    assert result["trailer"] == {"present": True, "valid": True}
    assert result["src"] == "/var/lib/etcd-backup/snapshot.db" and result["dest"] == str(dest)
    assert dest.read_bytes() == data and oct(dest.stat().st_mode & 0o777) == "0o600"
    assert names(store) == ["s.db"]  # no .incoming-* left
    assert connection.fetched == [("/var/lib/etcd-backup/snapshot.db", str(store / ".incoming-s.db"), 0o077, False)]


def test_fetch_sets_the_mode_asked_and_takes_an_upper_case_sha256(store):
    data = snapshot_bytes()
    dest = store / "s.db"
    result = build(FetchAction, Connection(data), fetch_args(dest, data, mode="0640",
                                                             sha256=sha(data).upper())).run(task_vars={})
    assert not result.get("failed"), result
    assert oct(dest.stat().st_mode & 0o777) == "0o640" and dest.read_bytes() == data


def test_fetch_takes_an_int_mode_as_yaml_gives_it(store):
    data = snapshot_bytes()
    dest = store / "s.db"
    result = build(FetchAction, Connection(data), fetch_args(dest, data, mode=0o640)).run(task_vars={})
    assert not result.get("failed"), result
    assert oct(dest.stat().st_mode & 0o777) == "0o640"


def test_fetch_removes_a_copy_that_differs_and_keeps_the_old_file(store):
    old = snapshot_bytes(4)
    dest = store / "s.db"
    dest.write_bytes(old)
    data = snapshot_bytes()
    expected = sha(snapshot_bytes())
    result = build(FetchAction, Connection(data), fetch_args(dest, sha256=expected)).run(task_vars={})
    assert result["failed"] and result["changed"] is False
    assert "it was removed" in result["msg"] and expected in result["msg"] and sha(data) in result["msg"]
    assert result["sha256"] == sha(data) and result["size"] == len(data)
    assert dest.read_bytes() == old and names(store) == ["s.db"]


def test_fetch_leaves_nothing_for_a_mismatch_without_an_old_file(store):
    result = build(FetchAction, Connection(snapshot_bytes()), fetch_args(store / "s.db")).run(task_vars={})
    assert result["failed"] and "differs from the snapshot on the node" in result["msg"]
    assert names(store) == []


def test_fetch_that_fails_says_the_ssh_user_must_read_it_and_leaves_nothing(store):
    def broken(src, dest):
        with open(dest, "wb") as handle:
            handle.write(b"half a file")
        raise AnsibleError("failed to transfer file to %s:\n\nscp: %s: Permission denied\n" % (dest, src))
    connection = Connection(fetch=broken)
    result = build(FetchAction, connection, fetch_args(store / "s.db", snapshot_bytes())).run(task_vars={})
    assert result["failed"] and result["changed"] is False
    assert "SSH user" in result["msg"] and "Permission denied" in result["msg"] and str(store) in result["msg"]
    assert names(store) == [] and len(connection.fetched) == 1


def test_fetch_in_check_mode_fetches_nothing(store):
    connection = Connection(snapshot_bytes())
    result = build(FetchAction, connection, fetch_args(store / "s.db", snapshot_bytes()),
                   check_mode=True).run(task_vars={})
    assert result["changed"] is True and not result.get("failed") and "would fetch" in result["msg"]
    assert connection.fetched == [] and names(store) == []


@pytest.mark.parametrize("value", ["abc", "g" * 64, "a" * 63, "a" * 65])
def test_fetch_refuses_a_bad_sha256_before_any_copy(store, value):
    connection = Connection(snapshot_bytes())
    result = build(FetchAction, connection, fetch_args(store / "s.db", sha256=value)).run(task_vars={})
    assert result["failed"] and "64 hex digits" in result["msg"]
    assert connection.fetched == [] and names(store) == []


def test_fetch_refuses_a_mode_that_is_not_octal(store):
    connection = Connection(snapshot_bytes())
    result = build(FetchAction, connection, fetch_args(store / "s.db", snapshot_bytes(), mode="u=rw")).run(
        task_vars={})
    assert result["failed"] and "mode must be octal" in result["msg"] and connection.fetched == []


def test_fetch_to_a_missing_directory_fails_naming_it(store):
    connection = Connection(snapshot_bytes())
    missing = store / "nope"
    result = build(FetchAction, connection, fetch_args(missing / "s.db", snapshot_bytes())).run(task_vars={})
    assert result["failed"] and f"The directory {missing} does not exist on the controller" in result["msg"]
    assert connection.fetched == [] and names(store) == []


# -- push -------------------------------------------------------------------------------------------------------

class Push:
    """A push action with the node's module scripted (`answers`, in turn) and the remote side recorded."""

    def __init__(self, args, answers, check_mode=False, search=(), tmpdir_made_by_module=None):
        self.connection = Connection()
        self.action = build(PushAction, self.connection, args, check_mode, search)
        self.answers = list(answers)
        self.calls, self.made, self.transfers, self.fixups, self.removed = [], [], [], [], []
        self.transfer_error = None
        self.tmpdir_made_by_module = tmpdir_made_by_module
        self.action._execute_module = self.execute_module
        self.action._make_tmp_path = self.make_tmp_path
        self.action._transfer_file = self.transfer_file
        self.action._fixup_perms2 = self.fixup_perms2
        self.action._remove_tmp_path = self.remove_tmp_path

    def execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append((module_name, dict(module_args)))
        if self.tmpdir_made_by_module and self.connection._shell.tmpdir is None:
            self.connection._shell.tmpdir = self.tmpdir_made_by_module  # as without pipelining
        return dict(self.answers.pop(0))

    def make_tmp_path(self, remote_user=None):
        self.made.append(TMPDIR)
        self.connection._shell.tmpdir = TMPDIR
        return TMPDIR

    def transfer_file(self, local, remote):
        self.transfers.append((local, remote))
        if self.transfer_error:
            raise self.transfer_error
        return remote

    def fixup_perms2(self, remote_paths, remote_user=None, execute=True):
        self.fixups.append(tuple(remote_paths))

    def remove_tmp_path(self, tmp_path, force=False):
        self.removed.append(tmp_path)
        self.connection._shell.tmpdir = None

    def run(self):
        return self.action.run(task_vars={"inventory_hostname": "node1"})


@pytest.fixture
def snapshot(tmp_path):
    data = snapshot_bytes()
    path = tmp_path / "controller" / "s.db"
    path.parent.mkdir()
    path.write_bytes(data)
    return path, data


def push_args(path, data):
    return dict(src=str(path), dest="/var/lib/etcd-recovery/s.db", sha256=sha(data), mode="0600")


def node_args(data):
    return dict(dest="/var/lib/etcd-recovery/s.db", sha256=sha(data), mode="0600")


def test_push_copies_nothing_when_the_node_holds_the_snapshot(snapshot):
    path, data = snapshot
    push = Push(push_args(path, data), [dict(changed=False, present=True, copied=False, sha256=sha(data))])
    result = push.run()
    assert not result.get("failed") and result["changed"] is False and result["copied"] is False
    assert result["sha256"] == sha(data) and "present" not in result and "seconds" in result
    assert push.calls == [(MODULE, node_args(data))]  # asked without src
    assert push.made == [] and push.transfers == [] and push.fixups == []


def test_push_streams_the_file_when_the_node_lacks_it(snapshot):
    path, data = snapshot
    placed = dict(changed=True, copied=True, sha256=sha(data), path="/var/lib/etcd-recovery/s.db", present=False)
    push = Push(push_args(path, data), [dict(changed=False, present=False, why="absent", copied=False), placed])
    result = push.run()
    remote = TMPDIR + "/snapshot"
    assert not result.get("failed") and result["changed"] is True and result["copied"] is True
    assert "present" not in result and "why" not in result and result["sha256"] == sha(data)
    assert push.made == [TMPDIR]
    assert push.transfers == [(str(path), remote)] and push.fixups == [(TMPDIR, remote)]
    assert push.calls == [(MODULE, node_args(data)), (MODULE, dict(node_args(data), src=remote))]
    assert push.removed == [TMPDIR]


def test_push_uses_the_tmpdir_the_first_module_call_made(snapshot):
    """Without pipelining the first call leaves a remote tmp dir: the copy goes there, and it is removed."""
    path, data = snapshot
    made = "/home/ops/.ansible/tmp/ansible-tmp-1700000000.2-42-7"
    push = Push(push_args(path, data), [dict(present=False, why="absent"), dict(changed=True, copied=True)],
                tmpdir_made_by_module=made)
    result = push.run()
    assert result["copied"] is True and push.made == []
    assert push.transfers == [(str(path), made + "/snapshot")]
    assert push.calls[1][1]["src"] == made + "/snapshot" and push.removed == [made]


def test_push_reports_a_copy_the_node_refused(snapshot):
    path, data = snapshot
    refused = dict(failed=True, copied=False, msg="The copy ... differs from its source")
    push = Push(push_args(path, data), [dict(present=False, why="absent"), refused])
    result = push.run()
    assert result["failed"] and "differs from its source" in result["msg"] and result["copied"] is False
    assert len(push.transfers) == 1 and push.removed == [TMPDIR]


def test_push_removes_the_tmpdir_when_the_transfer_fails(snapshot):
    path, data = snapshot
    push = Push(push_args(path, data), [dict(present=False, why="absent")])
    push.transfer_error = AnsibleError("failed to transfer file: No space left on device")
    with pytest.raises(AnsibleError, match="No space left"):
        push.run()
    assert len(push.calls) == 1 and push.removed == [TMPDIR]


def test_push_in_check_mode_would_copy(snapshot):
    path, data = snapshot
    push = Push(push_args(path, data), [dict(changed=False, present=False, why="absent", copied=False)],
                check_mode=True)
    result = push.run()
    assert result["changed"] is True and not result.get("failed") and result["copied"] is False
    assert result["msg"] == "would copy %s (absent)" % path
    assert "present" not in result and "why" not in result
    assert len(push.calls) == 1 and push.made == [] and push.transfers == [] and push.fixups == []


def test_push_stops_when_the_first_module_call_fails(snapshot):
    path, data = snapshot
    push = Push(push_args(path, data), [dict(failed=True, msg="etcdctl not found")])
    result = push.run()
    assert result["failed"] and result["msg"] == "etcdctl not found"
    assert len(push.calls) == 1 and push.transfers == []


def test_push_without_src_fails(snapshot):
    path, data = snapshot
    args = push_args(path, data)
    del args["src"]
    push = Push(args, [])
    result = push.run()
    assert result["failed"] and "src is required" in result["msg"] and result["copied"] is False
    assert push.calls == [] and push.transfers == []


def test_push_of_a_missing_src_fails(tmp_path):
    data = snapshot_bytes()
    missing = tmp_path / "nope.db"
    push = Push(push_args(missing, data), [], search=[str(tmp_path)])
    result = push.run()
    assert result["failed"] and f"The snapshot {missing} is not on the controller" in result["msg"]
    assert push.calls == [] and push.transfers == []


def test_push_of_a_directory_fails(tmp_path):
    data = snapshot_bytes()
    push = Push(push_args(tmp_path, data), [])
    result = push.run()
    assert result["failed"] and "is not a file" in result["msg"] and push.calls == []


def test_push_finds_a_relative_src_in_files(tmp_path):
    data = snapshot_bytes()
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "s.db").write_bytes(data)
    push = Push(dict(push_args("s.db", data)), [dict(present=False, why="absent"), dict(changed=True, copied=True)],
                search=[str(tmp_path)])
    result = push.run()
    assert result["copied"] is True
    assert push.transfers == [(str(tmp_path / "files" / "s.db"), TMPDIR + "/snapshot")]
