# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""What a recovery quiesces around its switch: the kube-apiservers of a Kubernetes control plane, and the user's
own hook files. Pure decisions, fed by what etcd_kube_apiserver observed on each host.

A kube-apiserver that keeps running while etcd's data is switched under it watches a cluster whose members and
revisions changed: its caches may serve what the restore took back. It is stopped before the switch and started
after the recovered cluster passed its checks, in one of two ways:

- a static pod (kubeadm, kubespray's default): its manifest is moved out of the kubelet's manifest dir into an
  aside dir, and back. The kubelet stops the pod when the file goes and starts it when it returns. The file in
  the aside dir is this run's mark: a run killed in between finds it there, and the next run moves it back.
- a systemd unit (kubespray's `kube_apiserver` under systemd, hard-way installs): the unit is stopped, and a mark
  file in the aside dir says so, so that the next run starts it again. A unit that was not running is left alone,
  and not started afterwards.
"""

from __future__ import annotations

import os

STATIC = "static_pod"
UNIT = "systemd"
NONE = "none"

# what etcd_kube_apiserver does
MOVE_ASIDE, MOVE_BACK, STOP_UNIT, START_UNIT, CLEAR_MARK, NOTHING = (
    "move_aside", "move_back", "stop_unit", "start_unit", "clear_mark", "none")


def aside_paths(manifest, unit, aside_dir):
    """Where the manifest goes while the apiserver is stopped, and the unit's mark."""
    return (os.path.join(aside_dir, os.path.basename(manifest)),
            os.path.join(aside_dir, "%s.stopped" % unit))


def _not_found(seen):
    return ("no kube-apiserver was found: no static pod manifest %s (nor %s, where an earlier run moves it) and no "
            "systemd unit %s. Fix: set etcd_recovery_kube_manifest or etcd_recovery_kube_unit to where this host's "
            "kube-apiserver is defined, or take the host out of the group when it runs none."
            % (seen["manifest"], seen["aside"], seen["unit"]))


def step(seen, want):
    """What to do on one host so that its kube-apiserver is `want` (stopped or started), from what was seen there.

    `seen`: manifest, aside, unit, mark (paths and the unit's name); manifest_exists, aside_exists, mark_exists,
    unit_loaded, unit_active, running (a process of the apiserver's name runs; bools).

    Returns mode (static_pod, systemd, none), action (move_aside, move_back, stop_unit, start_unit, clear_mark,
    none), before (running, stopped_by_us, not_running, none), text (what was found and what is done, for the
    summary) and refusal ('' or why nothing can be done, with the fix).
    """
    out = dict(mode=NONE, action=NOTHING, before=NONE, text="", refusal="")
    manifest, aside = seen["manifest_exists"], seen["aside_exists"]
    if manifest or aside:
        out["mode"] = STATIC
        if manifest and aside:
            out["refusal"] = (
                "both %s and %s exist: the manifest an earlier run moved aside was put back, or a new one written, "
                "by hand. Which one is current cannot be known. Fix: keep the current one as %s and move the other "
                "out of %s." % (seen["manifest"], seen["aside"], seen["manifest"], os.path.dirname(seen["aside"])))
            return out
        if manifest:
            out["before"] = "running"
            was = "running" if seen["running"] else "its manifest in place, no process running"
            if want == "stopped":
                out.update(action=MOVE_ASIDE, text="static pod (%s): manifest moved to %s" % (was, seen["aside"]))
            else:
                out["text"] = "static pod (%s): not stopped by this collection, left as it is" % was
            return out
        out["before"] = "stopped_by_us"
        if want == "stopped":
            out["text"] = "static pod: stopped already by an earlier run (its manifest is in %s)" % seen["aside"]
        else:
            out.update(action=MOVE_BACK, text="static pod: manifest moved back to %s" % seen["manifest"])
        return out
    if seen["mark_exists"]:
        out["mode"] = UNIT
        out["before"] = "stopped_by_us"
        if not seen["unit_loaded"]:
            out["refusal"] = (
                "%s says an earlier run stopped %s, but systemd knows no such unit now. Fix: start the "
                "kube-apiserver by hand where it went, then remove %s." % (seen["mark"], seen["unit"], seen["mark"]))
        elif want == "stopped":
            if seen["unit_active"]:
                out.update(action=STOP_UNIT,
                           text="%s: started by hand since an earlier run stopped it; stopped again" % seen["unit"])
            else:
                out["text"] = "%s: stopped already by an earlier run" % seen["unit"]
        elif seen["unit_active"]:
            out.update(action=CLEAR_MARK, text="%s: running again already (started by hand)" % seen["unit"])
        else:
            out.update(action=START_UNIT, text="%s: started" % seen["unit"])
        return out
    if seen["unit_loaded"]:
        out["mode"] = UNIT
        if not seen["unit_active"]:
            out.update(before="not_running",
                       text="%s: not running, left as it is (and not started afterwards)" % seen["unit"])
        elif want == "stopped":
            out.update(before="running", action=STOP_UNIT, text="%s: stopped" % seen["unit"])
        else:
            out.update(before="running", text="%s: running, not stopped by this collection" % seen["unit"])
        return out
    if want == "stopped":
        out["refusal"] = _not_found(seen)
    else:
        out["text"] = "none found"
    return out


def preflight(enabled, group, hosts, results):
    """The kube-apiserver hosts of a run and why it refuses, before anything changed.

    `hosts`: the inventory group's hosts (None when the group does not exist); `results`: etcd_kube_apiserver's
    check-mode results on them, in that order (a loop's registered `results`). Returns hosts, refusals, seen
    (host: the result's before, mode and text)."""
    out = dict(hosts=[], refusals=[], seen={})
    if not enabled:
        return out
    if not hosts:
        out["refusals"].append(
            "etcd_recovery_kube_apiserver is true, but the inventory group %r %s. Nothing was changed. Fix: put the "
            "hosts that run kube-apiserver in it, or name their group with etcd_recovery_kube_group."
            % (group, "does not exist" if hosts is None else "has no hosts"))
        return out
    out["hosts"] = list(hosts)
    # a loop's results name their host by its loop_var
    by_host = {r.get(r.get("ansible_loop_var") or "item"): r for r in results or []}
    for host in hosts:
        r = by_host.get(host)
        if r is None or r.get("skipped"):
            out["refusals"].append("%s: its kube-apiserver was not read." % host)
        elif r.get("unreachable"):
            out["refusals"].append(
                "%s: unreachable (%s). Its kube-apiserver cannot be stopped, and would watch the cluster change "
                "under it. Nothing was changed. Fix: make the host reachable, or take it out of group %r when it is "
                "gone." % (host, str(r.get("msg", "")).strip(), group))
        elif r.get("failed"):
            out["refusals"].append("%s: %s Nothing was changed." % (host, str(r.get("msg", "")).strip()))
        else:
            out["seen"][host] = dict(before=r.get("before", NONE), mode=r.get("mode", NONE), text=r.get("text", ""))
    return out


def hook_files(paths, realpath=os.path.realpath, isfile=os.path.isfile):
    """The user's hook task files as absolute paths (relative ones from where ansible-playbook runs), and why any is
    refused. `paths`: a list, or a comma-separated string."""
    if isinstance(paths, str):
        paths = [p for p in (x.strip() for x in paths.split(",")) if p]
    files, refusals = [], []
    for path in paths or []:
        full = realpath(os.path.expanduser(str(path)))
        if not isfile(full):
            refusals.append("the hook file %s (%s) does not exist on the controller. Nothing was changed. Fix: give "
                            "the path of a task file, absolute or from where ansible-playbook runs." % (path, full))
        files.append(full)
    return dict(files=files, refusals=refusals)


def _by_host(registered):
    results = (registered or {}).get("results") or []
    return {r.get(r.get("ansible_loop_var") or "item"): r for r in results if not r.get("skipped")}


def _said(result):
    if result.get("failed") or result.get("unreachable"):
        return "FAILED: %s" % " ".join(str(result.get("msg") or "failed").split())
    return result.get("text", "")


def report(kube, stopped=None, started=None):
    """Each kube-apiserver host of a run, for its summary and report: mode; planned (the preflight's reading: what
    the run was to do); stopped and started (what the stop and start steps did, '' where they did not run, or
    FAILED and why); running (after the start step, or None)."""
    stops, starts = _by_host(stopped), _by_host(started)
    out = {}
    for host in (kube or {}).get("hosts") or []:
        seen = ((kube or {}).get("seen") or {}).get(host) or {}
        stop, start = stops.get(host) or {}, starts.get(host) or {}
        out[host] = dict(mode=stop.get("mode") or seen.get("mode", NONE), planned=seen.get("text", ""),
                         stopped=_said(stop) if stop else "", started=_said(start) if start else "",
                         running=start.get("running") if start and not start.get("failed") else None)
    return out
