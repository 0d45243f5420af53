"""etcd_kube_apiserver on real files: a static pod's manifest moved aside and back, a unit stopped with its mark and
started again, check mode, the waits, refusals. systemctl and the process table are stood in for."""

import json

import pytest
from ansible.module_utils import basic

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_kube_apiserver as mod


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host: a manifest dir, an aside dir, a unit (`units`: name -> active) and processes (`procs`)."""
    class Host:
        def __init__(self):
            self.manifests = tmp_path / "manifests"
            self.aside = tmp_path / "etcd-ops-stopped"
            self.units, self.procs, self.calls, self.fail = {}, set(), [], {}

        def args(self, state, **kw):
            return dict(state=state, manifest=str(self.manifests / "kube-apiserver.yaml"), aside_dir=str(self.aside),
                        timeout=1, **kw)

    h = Host()
    h.manifests.mkdir()

    def run_command(self, args, **kwargs):
        h.calls.append(args[1:])
        verb, unit = args[1], args[2]
        if verb == "show":
            if unit not in h.units:
                return 0, "LoadState=not-found\nActiveState=inactive\n", ""
            return 0, "LoadState=loaded\nActiveState=%s\n" % ("active" if h.units[unit] else "inactive"), ""
        if verb in h.fail:
            return 1, "", h.fail[verb]
        h.units[unit] = verb == "start"
        return 0, "", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: "/bin/" + name)
    monkeypatch.setattr(mod, "process_running", lambda name: name in h.procs)
    monkeypatch.setattr(mod.time, "sleep", lambda s: None)
    return h


def test_a_static_pod_is_moved_aside_and_back(host, run_module):
    manifest = host.manifests / "kube-apiserver.yaml"
    manifest.write_text("kind: Pod\n")
    check = run_module(mod, host.args("stopped"), check_mode=True)
    assert check["changed"] and check["action"] == "move_aside" and manifest.exists() and not host.aside.exists()
    got = run_module(mod, host.args("stopped"))  # no process: the kubelet stopped it already
    assert got["changed"] and got["mode"] == "static_pod" and not got["running"]
    assert not manifest.exists() and (host.aside / "kube-apiserver.yaml").read_text() == "kind: Pod\n"
    assert oct(host.aside.stat().st_mode & 0o777) == "0o700"
    again = run_module(mod, host.args("stopped"))
    assert not again["changed"] and again["before"] == "stopped_by_us"
    host.procs.add("kube-apiserver")  # the kubelet starts it once the manifest is back
    back = run_module(mod, host.args("started"))
    assert back["changed"] and back["action"] == "move_back" and back["running"] and manifest.exists()
    assert not (host.aside / "kube-apiserver.yaml").exists()
    assert not run_module(mod, host.args("started"))["changed"]


def test_a_pod_that_does_not_stop_fails_with_the_manifest_aside(host, run_module):
    (host.manifests / "kube-apiserver.yaml").write_text("kind: Pod\n")
    host.procs.add("kube-apiserver")
    got = run_module(mod, host.args("stopped"))
    assert got["failed"] and "still runs after 1 s: the kubelet has not stopped the pod" in got["msg"]
    assert (host.aside / "kube-apiserver.yaml").exists()  # the rescue's started step moves it back
    back = run_module(mod, host.args("started"))
    assert back["action"] == "move_back" and back["running"]


def test_a_pod_that_does_not_come_back_is_a_warning(host, run_module):
    host.aside.mkdir(mode=0o700)
    (host.aside / "kube-apiserver.yaml").write_text("kind: Pod\n")
    got = run_module(mod, host.args("started"))
    assert not got.get("failed") and got["changed"] and not got["running"]
    assert "no kube-apiserver process after 1 s: see the kubelet" in got["text"]


def test_a_unit_is_stopped_with_its_mark_and_started_again(host, run_module):
    host.units["kube-apiserver.service"] = True
    check = run_module(mod, host.args("stopped"), check_mode=True)
    assert check["action"] == "stop_unit" and host.units["kube-apiserver.service"]
    got = run_module(mod, host.args("stopped"))
    assert got["changed"] and got["mode"] == "systemd" and not host.units["kube-apiserver.service"]
    mark = json.loads((host.aside / "kube-apiserver.service.stopped").read_text())
    assert mark["unit"] == "kube-apiserver.service" and mark["by"] == "etcd_ops.etcd"
    assert ["stop", "kube-apiserver.service"] in host.calls
    assert not run_module(mod, host.args("stopped"))["changed"]
    started = run_module(mod, host.args("started"))
    assert started["action"] == "start_unit" and host.units["kube-apiserver.service"]
    assert list(host.aside.iterdir()) == []


def test_a_unit_that_was_not_running_is_left_alone(host, run_module):
    host.units["kube-apiserver.service"] = False
    for state in ("stopped", "started"):
        got = run_module(mod, host.args(state))
        assert not got["changed"] and got["before"] == "not_running"
    assert not host.units["kube-apiserver.service"] and not host.aside.exists()
    assert [c[0] for c in host.calls] == ["show", "show"]


def test_a_failed_systemctl_names_the_command_rc_and_stderr(host, run_module):
    host.units["api.service"] = True
    host.fail["stop"] = "Access denied"
    got = run_module(mod, host.args("stopped", unit="api.service"))
    assert got["failed"] and got["msg"] == "systemctl stop api.service failed: Access denied"
    assert got["cmd"] == ["/bin/systemctl", "stop", "api.service"]
    assert got["rc"] == 1 and got["stderr"] == "Access denied"


def test_nothing_found_is_refused_and_nothing_made(host, run_module):
    got = run_module(mod, host.args("stopped"), check_mode=True)
    assert got["failed"] and got["msg"].startswith("no kube-apiserver was found")
    assert not host.aside.exists()


def test_the_manifest_dir_as_aside_dir_is_refused(host, run_module):
    got = run_module(mod, dict(host.args("stopped"), aside_dir=str(host.manifests)))
    assert got["failed"] and "is the manifest's dir: the kubelet would still run the pod" in got["msg"]
