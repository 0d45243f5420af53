"""One run at a time on a cluster (issue #24, edge 4): the members' lock file, its holders, and which are known to
be gone; on real files and real processes."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_store as store
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_lock as lock


def run(pid=None, controller="ctl", boot="b1", **extra):
    pid = pid or os.getpid()
    return dict(id="%s/%s/%d" % (controller, boot, pid), kind="run", operation="disaster_recovery.yml",
                controller=controller, user="ops", pid=pid, start=lock.proc_start(pid), boot=boot,
                since="2026-12-04T21:00:00Z", **extra)


@pytest.fixture
def gone_pid():
    """The pid of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "lock.json")


def test_taken_where_none_is_then_given_back(path):
    ours = run()
    assert lock.acquire(path, ours, "node1") == dict(taken=True, holder=ours, stale="", written=True)
    assert json.load(open(path)) == ours
    assert lock.acquire(path, ours, "node1")["taken"]  # the same run again
    assert lock.release(path, "someone else") == dict(ours=False, holder=ours) and os.path.exists(path)
    assert lock.release(path, ours["id"], dry_run=True)["ours"] and os.path.exists(path)
    assert lock.release(path, ours["id"]) == dict(ours=True, holder=ours) and not os.path.exists(path)
    assert lock.release(path, ours["id"]) == dict(ours=False, holder={})


def test_another_live_run_holds_it(path):
    theirs = run(controller="other")
    lock.acquire(path, theirs, "node1")
    result = lock.acquire(path, run(), "node1")
    assert not result["taken"] and result["holder"] == theirs and json.load(open(path)) == theirs
    text = lock.refusal("node2", theirs, path)
    assert text.startswith(f"node2: disaster_recovery.yml run by ops@other (ansible-playbook pid {os.getpid()}) "
                           f"since 2026-12-04T21:00:00Z holds the lock {path}: one run at a time")
    assert "Nothing was changed. Fix: wait until it ends. If it is gone for good" in text


def test_a_job_whose_process_is_gone_is_taken_over_on_its_member(path, gone_pid):
    job = dict(id="job/node1/%d/1" % gone_pid, kind="job", host="node1", pid=gone_pid, start=1, since="t")
    lock.acquire(path, job, "node1")
    ours = run()
    result = lock.acquire(path, ours, "node1")
    assert result["taken"] and result["stale"] == "its process is gone"
    assert json.load(open(path))["took_over"]["id"] == job["id"]


def test_a_live_job_is_not_taken_over(path):
    job = store.job_holder()
    job["host"] = "node1"
    lock.acquire(path, job, "node1")
    assert not lock.acquire(path, run(), "node1")["taken"]
    assert "the scheduled backup job on node1" in lock.refusal("node1", job, path)


def test_a_run_the_controller_found_gone_is_taken_over_only_by_its_id(path):
    theirs = run(controller="other")
    lock.acquire(path, theirs, "node1")
    assert not lock.acquire(path, run(), "node1", take_over="another id")["taken"]
    result = lock.acquire(path, run(), "node1", take_over=theirs["id"])
    assert result["taken"] and result["stale"] == "its controller found it gone"


@pytest.mark.parametrize("case,holder,why", [
    ("this controller's run, process gone", "gone", "its ansible-playbook process is gone"),
    ("this controller's run, alive", "alive", ""),
    ("this controller's run before a boot", "booted", "its controller has booted since"),
    ("another controller's run", "other", ""),
    ("a job", "job", ""),
])
def test_which_runs_this_controller_knows_to_be_gone(case, holder, why, gone_pid):
    holders = dict(gone=run(pid=gone_pid), alive=run(), booted=run(boot="b0"), other=run(controller="x", pid=gone_pid),
                   job=dict(kind="job", host="ctl", pid=gone_pid))
    assert lock.stale_for_controller(holders[holder], "ctl", "b1") == why, case


def test_an_unreadable_lock_is_stale_on_the_member(path):
    with open(path, "w") as handle:
        handle.write("{not json")
    result = lock.acquire(path, run(), "node1")
    assert result["taken"] and result["stale"] == "the lock file cannot be read"


def test_the_job_skips_while_a_run_holds_the_lock_and_gives_back_its_own(tmp_path, monkeypatch):
    path = str(tmp_path / "lock" / "lock.json")
    os.makedirs(os.path.dirname(path))
    ran = []
    monkeypatch.setattr(store, "run_job", lambda config, client=None, now=None: ran.append(config) or {"ok": 1})
    theirs = run(controller="other")
    lock.acquire(path, theirs, "node1")
    with pytest.raises(store.EtcdError, match=r"No snapshot was taken: disaster_recovery.yml run by ops@other"):
        store.locked_job({"lock": path})
    assert ran == [] and json.load(open(path)) == theirs
    lock.release(path, theirs["id"])
    assert store.locked_job({"lock": path}) == {"ok": 1} and not os.path.exists(path)
    assert store.locked_job({}) == {"ok": 1}  # no lock set: none taken


def test_which_lock_results_stop_the_run():
    seen = {
        "node1": dict(changed=False, taken=True),
        "node2": dict(taken=False, refusal="node2: ... holds the lock"),
        "node3": dict(unreachable=True, msg="ssh: connect to host"),
        "node4": dict(failed=True, msg="Missing sudo password"),  # become failed: the read names it
        "node5": dict(failed=True, msg="The work dir /var/lib/etcd-ops is not safe", invocation={}),
        "node6": dict(skipped=True),
    }
    assert lock.lock_refusals(seen) == [
        "node2: ... holds the lock",
        "node5: the lock could not be taken: The work dir /var/lib/etcd-ops is not safe Nothing was changed."]
