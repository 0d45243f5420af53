#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_kube_apiserver
short_description: Stop a host's kube-apiserver before etcd's data is switched, and start it again after
version_added: 0.5.0
description:
  - A kube-apiserver that keeps running while etcd is restored watches a cluster whose members and revisions change
    under it. The disaster_recovery role stops it before the switch and starts it after the recovered cluster
    passed its checks (C(etcd_recovery_kube_apiserver)).
  - A static pod (kubeadm, kubespray) is stopped by moving its manifest (O(manifest)) into O(aside_dir), where the
    kubelet does not read it, and started by moving it back. The module then waits until no process named
    O(process) runs (stop), or one runs (start).
  - A systemd unit (O(unit)) is stopped with C(systemctl stop), after a mark file in O(aside_dir) records that this
    collection stopped it; C(state=started) starts it and removes the mark. A unit that was not running is left
    alone, and not started afterwards.
  - The manifest in O(aside_dir), or the mark, is how a later run finds an apiserver an interrupted run stopped.
  - Refuses, changing nothing, a host where neither the manifest, the moved manifest, the unit nor a mark is
    found, and one where both the manifest and a moved copy exist.
  - Nothing is deleted; the module does not talk to etcd or Kubernetes.
author:
  - etcd_ops maintainers (@etcd-ops)
attributes:
  check_mode:
    support: full
    description: Reads the host and returns what would be done (RV(action), RV(text)), or fails with the refusal.
  diff_mode:
    support: none
    description: No diff.
options:
  state:
    description: V(stopped) before the switch, V(started) after the checks.
    type: str
    choices: [stopped, started]
    required: true
  manifest:
    description: The static pod's manifest, in the kubelet's manifest dir.
    type: path
    default: /etc/kubernetes/manifests/kube-apiserver.yaml
  unit:
    description: The systemd unit, where the apiserver runs under systemd.
    type: str
    default: kube-apiserver.service
  aside_dir:
    description:
      - Where the manifest and the unit's mark go while the apiserver is stopped; made 0700 root's. It must not be
        the kubelet's manifest dir, and it must be on the manifest's filesystem (the manifest is renamed into it).
    type: path
    default: /etc/kubernetes/etcd-ops-stopped
  process:
    description: The apiserver's process name (as in C(/proc/PID/comm)), waited for after a static pod's move.
    type: str
    default: kube-apiserver
  timeout:
    description:
      - Seconds to wait until the process is gone after the manifest was moved aside (else the module fails, and
        the recovery stops before its switch), or until it runs after the move back (else a warning).
    type: int
    default: 120
"""

EXAMPLES = r"""
- name: Stop every kube-apiserver before the switch
  etcd_ops.etcd.etcd_kube_apiserver:
    state: stopped
  delegate_to: "{{ item }}"
  loop: "{{ groups['kube_control_plane'] }}"
  run_once: true

- name: Start them after the recovered cluster passed its checks
  etcd_ops.etcd.etcd_kube_apiserver:
    state: started
  delegate_to: "{{ item }}"
  loop: "{{ groups['kube_control_plane'] }}"
  run_once: true
"""

RETURN = r"""
mode:
  description: How the apiserver runs there, V(static_pod) or V(systemd).
  returned: always
  type: str
action:
  description: What was done (or, in check mode, would be) - V(move_aside), V(move_back), V(stop_unit),
    V(start_unit), V(clear_mark) (the unit runs already), or V(none).
  returned: always
  type: str
before:
  description: V(running), V(stopped_by_us) (an earlier run stopped it), V(not_running) (a unit that was not
    running), or V(none).
  returned: always
  type: str
text:
  description: What was found and done, for the run's summary.
  returned: always
  type: str
running:
  description: Whether a process named O(process) runs afterwards (static pods; for units, whether it is active).
  returned: always
  type: bool
waited:
  description: Seconds waited for the process to go or to come.
  returned: always
  type: float
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_quiesce as quiesce
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir


def process_running(name):
    """Whether a process whose comm is `name` runs (not this module's own)."""
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() == name:
                    return True
        except OSError:
            continue
    return False


def unit_state(module, unit):
    """(loaded, active) of a systemd unit; (False, False) without systemd."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return False, False
    rc, out, err = module.run_command([systemctl, "show", unit, "--property=LoadState,ActiveState"])
    if rc != 0:
        module.fail_json(msg="Could not read the unit %s: %s" % (unit, err.strip()), cmd=[systemctl, "show", unit],
                         rc=rc, stderr=err)
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return (props.get("LoadState") == "loaded",
            props.get("ActiveState") in ("active", "activating", "reloading", "deactivating"))


def systemctl(module, verb, unit):
    cmd = [module.get_bin_path("systemctl", required=True), verb, unit]
    rc, out, err = module.run_command(cmd)
    if rc != 0:
        module.fail_json(msg="systemctl %s %s failed: %s" % (verb, unit, (err or out).strip()), cmd=cmd, rc=rc,
                         stderr=err)


def wait_for(want_running, name, timeout):
    start = time.monotonic()
    while process_running(name) != want_running:
        if time.monotonic() - start >= timeout:
            return False, round(time.monotonic() - start, 1)
        time.sleep(0.5)
    return True, round(time.monotonic() - start, 1)


def main():
    module = AnsibleModule(
        argument_spec=dict(state=dict(type="str", choices=["stopped", "started"], required=True),
                           manifest=dict(type="path", default="/etc/kubernetes/manifests/kube-apiserver.yaml"),
                           unit=dict(type="str", default="kube-apiserver.service"),
                           aside_dir=dict(type="path", default="/etc/kubernetes/etcd-ops-stopped"),
                           process=dict(type="str", default="kube-apiserver"),
                           timeout=dict(type="int", default=120)),
        supports_check_mode=True)
    p = module.params
    manifest, aside_dir = os.path.abspath(p["manifest"]), os.path.abspath(p["aside_dir"])
    if aside_dir == os.path.dirname(manifest):
        module.fail_json(msg="aside_dir %s is the manifest's dir: the kubelet would still run the pod. Fix: set "
                             "etcd_recovery_kube_aside_dir to a dir outside the kubelet's manifest dir." % aside_dir)
    aside, mark = quiesce.aside_paths(manifest, p["unit"], aside_dir)
    loaded, active = unit_state(module, p["unit"])
    seen = dict(manifest=manifest, aside=aside, unit=p["unit"], mark=mark,
                manifest_exists=os.path.exists(manifest), aside_exists=os.path.exists(aside),
                mark_exists=os.path.exists(mark), unit_loaded=loaded, unit_active=active,
                running=process_running(p["process"]))
    step = quiesce.step(seen, p["state"])
    if step["refusal"]:
        module.fail_json(msg=step["refusal"], **{k: v for k, v in step.items() if k != "refusal"})
    action = step["action"]
    result = dict(changed=action != quiesce.NOTHING, mode=step["mode"], action=action, before=step["before"],
                  text=step["text"], waited=0.0,
                  running=seen["running"] if step["mode"] != quiesce.UNIT else seen["unit_active"])
    if module.check_mode or action == quiesce.NOTHING:
        module.exit_json(**result)
    try:
        if action == quiesce.MOVE_ASIDE:
            workdir.ensure(aside_dir, 0o700)
            os.rename(manifest, aside)
            gone, result["waited"] = wait_for(False, p["process"], p["timeout"])
            result["running"] = not gone
            if not gone:
                module.fail_json(
                    msg="The manifest %s was moved to %s, but a %s process still runs after %d s: the kubelet has "
                        "not stopped the pod (is it running?). The recovery stops before its switch, and puts the "
                        "manifest back. Fix: see `systemctl status kubelet` and `crictl ps` on this host."
                        % (manifest, aside, p["process"], p["timeout"]), **result)
        elif action == quiesce.MOVE_BACK:
            os.rename(aside, manifest)
            came, result["waited"] = wait_for(True, p["process"], p["timeout"])
            result["running"] = came
            if not came:
                result["text"] += "; no %s process after %d s: see the kubelet" % (p["process"], p["timeout"])
                module.warn("%s: no %s process after %d s. Fix: see `systemctl status kubelet` and `crictl ps`."
                            % (manifest, p["process"], p["timeout"]))
        elif action == quiesce.STOP_UNIT:
            workdir.ensure(aside_dir, 0o700)
            if not seen["mark_exists"]:
                tmp = mark + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(dict(unit=p["unit"], stopped_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   by="etcd_ops.etcd"), f)
                os.rename(tmp, mark)
            systemctl(module, "stop", p["unit"])
            result["running"] = False
        elif action in (quiesce.START_UNIT, quiesce.CLEAR_MARK):
            if action == quiesce.START_UNIT:
                systemctl(module, "start", p["unit"])
            os.remove(mark)  # the mark only: it is this collection's own file
            result["running"] = True
    except workdir.WorkDirError as exc:
        module.fail_json(msg="The aside dir %s cannot be used: %s. Nothing was moved. Fix: set "
                             "etcd_recovery_kube_aside_dir to a dir only root can write." % (aside_dir, exc))
    except OSError as exc:
        module.fail_json(msg="Could not %s on this host: %s. Fix: the aside dir must be on the manifest's "
                             "filesystem, and the task must run with become (root)." % (action.replace("_", " "), exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
