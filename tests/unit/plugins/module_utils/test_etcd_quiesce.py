"""etcd_quiesce: what is done to a host's kube-apiserver around a recovery, over a table of what was seen there;
the hosts' refusals; the hook files."""

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_quiesce as q

BASE = dict(manifest="/etc/kubernetes/manifests/kube-apiserver.yaml",
            aside="/etc/kubernetes/etcd-ops-stopped/kube-apiserver.yaml", unit="kube-apiserver.service",
            mark="/etc/kubernetes/etcd-ops-stopped/kube-apiserver.service.stopped",
            manifest_exists=False, aside_exists=False, mark_exists=False, unit_loaded=False, unit_active=False,
            running=False)


def seen(**kw):
    return dict(BASE, **kw)


# (what was seen, want) -> (mode, action, before, a piece of the text)
CASES = [
    # a static pod
    (seen(manifest_exists=True, running=True), "stopped",
     ("static_pod", "move_aside", "running", "static pod (running): manifest moved to /etc/kubernetes/etcd-ops")),
    (seen(manifest_exists=True), "stopped",
     ("static_pod", "move_aside", "running", "its manifest in place, no process running")),
    (seen(aside_exists=True), "stopped",
     ("static_pod", "none", "stopped_by_us", "stopped already by an earlier run")),
    (seen(aside_exists=True), "started",
     ("static_pod", "move_back", "stopped_by_us", "manifest moved back to /etc/kubernetes/manifests/")),
    (seen(manifest_exists=True, running=True), "started",
     ("static_pod", "none", "running", "not stopped by this collection, left as it is")),
    # a static pod wins over a unit of the same name (kubeadm hosts have no kube-apiserver.service)
    (seen(manifest_exists=True, unit_loaded=True, unit_active=True), "stopped",
     ("static_pod", "move_aside", "running", "manifest moved")),
    # a systemd unit
    (seen(unit_loaded=True, unit_active=True), "stopped",
     ("systemd", "stop_unit", "running", "kube-apiserver.service: stopped")),
    (seen(unit_loaded=True, unit_active=True), "started",
     ("systemd", "none", "running", "running, not stopped by this collection")),
    (seen(unit_loaded=True), "stopped", ("systemd", "none", "not_running", "not running, left as it is")),
    (seen(unit_loaded=True), "started", ("systemd", "none", "not_running", "not started afterwards")),
    (seen(unit_loaded=True, mark_exists=True), "stopped",
     ("systemd", "none", "stopped_by_us", "stopped already by an earlier run")),
    (seen(unit_loaded=True, mark_exists=True), "started", ("systemd", "start_unit", "stopped_by_us", ": started")),
    (seen(unit_loaded=True, unit_active=True, mark_exists=True), "stopped",
     ("systemd", "stop_unit", "stopped_by_us", "started by hand since an earlier run stopped it; stopped again")),
    (seen(unit_loaded=True, unit_active=True, mark_exists=True), "started",
     ("systemd", "clear_mark", "stopped_by_us", "running again already")),
    # nothing there: nothing to start after a recovery
    (seen(), "started", ("none", "none", "none", "none found")),
]


@pytest.mark.parametrize("observed, want, expected", CASES)
def test_step(observed, want, expected):
    got = q.step(observed, want)
    mode, action, before, text = expected
    assert (got["mode"], got["action"], got["before"], got["refusal"]) == (mode, action, before, "")
    assert text in got["text"], got["text"]


@pytest.mark.parametrize("observed, want, message", [
    (seen(), "stopped", "no kube-apiserver was found: no static pod manifest /etc/kubernetes/manifests/kube-apiserver"
                        ".yaml (nor /etc/kubernetes/etcd-ops-stopped/kube-apiserver.yaml, where an earlier run moves "
                        "it) and no systemd unit kube-apiserver.service. Fix: set etcd_recovery_kube_manifest"),
    (seen(manifest_exists=True, aside_exists=True), "stopped", "Which one is current cannot be known. Fix: keep"),
    (seen(manifest_exists=True, aside_exists=True), "started", "Which one is current cannot be known"),
    (seen(mark_exists=True), "started", "says an earlier run stopped kube-apiserver.service, but systemd knows"),
    (seen(mark_exists=True), "stopped", "Fix: start the kube-apiserver by hand where it went, then remove"),
])
def test_refusals(observed, want, message):
    got = q.step(observed, want)
    assert message in got["refusal"] and got["action"] == "none"


def test_aside_paths():
    assert q.aside_paths("/etc/kubernetes/manifests/kube-apiserver.yaml", "api.service", "/x") == (
        "/x/kube-apiserver.yaml", "/x/api.service.stopped")


def ok(host, **kw):
    return dict(item=host, changed=True, mode="systemd", before="running", text="kube-apiserver.service: stopped", **kw)


def test_preflight_off_reads_nothing():
    assert q.preflight(False, "kube_control_plane", None, []) == dict(hosts=[], refusals=[], seen={})


@pytest.mark.parametrize("hosts, word", [(None, "does not exist"), ([], "has no hosts")])
def test_preflight_refuses_a_missing_or_empty_group(hosts, word):
    got = q.preflight(True, "kube_control_plane", hosts, [])
    assert got["refusals"] == [
        f"etcd_recovery_kube_apiserver is true, but the inventory group 'kube_control_plane' {word}. Nothing was "
        "changed. Fix: put the hosts that run kube-apiserver in it, or name their group with etcd_recovery_kube_group."]


def test_preflight_names_every_host_it_refuses_and_keeps_what_it_saw():
    results = [ok("cp1"), dict(item="cp2", unreachable=True, msg="Failed to connect to the host via ssh "),
               dict(item="cp3", failed=True, msg="cp3 has no apiserver. Fix: x."), dict(item="cp4", skipped=True)]
    got = q.preflight(True, "kube_control_plane", ["cp1", "cp2", "cp3", "cp4", "cp5"], results)
    assert got["hosts"] == ["cp1", "cp2", "cp3", "cp4", "cp5"]
    assert got["seen"] == {"cp1": dict(before="running", mode="systemd", text="kube-apiserver.service: stopped")}
    assert got["refusals"] == [
        "cp2: unreachable (Failed to connect to the host via ssh). Its kube-apiserver cannot be stopped, and would "
        "watch the cluster change under it. Nothing was changed. Fix: make the host reachable, or take it out of "
        "group 'kube_control_plane' when it is gone.",
        "cp3: cp3 has no apiserver. Fix: x. Nothing was changed.",
        "cp4: its kube-apiserver was not read.",
        "cp5: its kube-apiserver was not read."]


def test_hook_files(tmp_path):
    hook = tmp_path / "quiesce.yml"
    hook.write_text("---\n")
    got = q.hook_files([str(hook), "missing.yml"], realpath=lambda p: p if p.startswith("/") else f"/work/{p}")
    assert got["files"] == [str(hook), "/work/missing.yml"]
    assert got["refusals"] == [
        "the hook file missing.yml (/work/missing.yml) does not exist on the controller. Nothing was changed. Fix: "
        "give the path of a task file, absolute or from where ansible-playbook runs."]
    assert q.hook_files(f" {hook} , ") == dict(files=[str(hook)], refusals=[])
    assert q.hook_files([]) == q.hook_files("") == dict(files=[], refusals=[])


def test_report_says_per_host_what_was_planned_and_done():
    kube = dict(hosts=["cp1", "cp2", "cp3"],
                seen={"cp1": dict(mode="systemd", before="running", text="kube-apiserver.service: stopped"),
                      "cp2": dict(mode="static_pod", before="running", text="static pod (running): manifest moved"),
                      "cp3": dict(mode="systemd", before="not_running", text="not running, left as it is")})
    loop = "__etcd_kube_host"
    stopped = dict(results=[
        dict(__etcd_kube_host="cp1", ansible_loop_var=loop, mode="systemd", text="kube-apiserver.service: stopped"),
        dict(__etcd_kube_host="cp2", ansible_loop_var=loop, failed=True, msg="a kube-apiserver process\n still runs"),
        dict(__etcd_kube_host="cp3", ansible_loop_var=loop, mode="systemd", text="not running, left as it is")])
    started = dict(results=[
        dict(__etcd_kube_host="cp1", ansible_loop_var=loop, mode="systemd", text="started", running=True),
        dict(__etcd_kube_host="cp2", ansible_loop_var=loop, mode="static_pod", text="manifest moved back",
             running=True),
        dict(__etcd_kube_host="cp3", ansible_loop_var=loop, skipped=True)])
    got = q.report(kube, stopped, started)
    assert got["cp1"] == dict(mode="systemd", planned="kube-apiserver.service: stopped",
                              stopped="kube-apiserver.service: stopped", started="started", running=True)
    assert got["cp2"]["stopped"] == "FAILED: a kube-apiserver process still runs" and got["cp2"]["mode"] == "static_pod"
    assert got["cp3"]["started"] == "" and got["cp3"]["running"] is None
    # check mode: only the plan
    assert q.report(kube)["cp2"] == dict(mode="static_pod", planned="static pod (running): manifest moved",
                                         stopped="", started="", running=None)
    assert q.report(dict(hosts=[], refusals=[], seen={})) == {}
