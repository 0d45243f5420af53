# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The outcome every report carries (etcd_report_file), on every outcome: ok, changed, refused or failed, what had
changed by then, and the message of the task that stopped the run."""

from __future__ import annotations

# the tasks that stop a run on purpose: the gates that refuse
GATES = ("assert", "ansible.builtin.assert", "ansible.legacy.assert", "fail", "ansible.builtin.fail",
         "ansible.legacy.fail")


def _changed(result):
    if not isinstance(result, dict) or result.get("skipped"):
        return False
    if result.get("changed"):
        return True
    return any(_changed(item) for item in result.get("results") or [])


def changes_made(seen, spec):
    """What the run changed, as sentences, in the order of `spec`.

    seen: {host: {name: registered result}}, the play's hosts in order. spec: a list of dict(var, label, once,
    detail): `var` a registered result, `label` what its change means, `once` for a run_once task (its result is
    every host's: said once, without a host), `detail` a key of the result whose value the sentence ends with, in
    brackets (of a list, such as a command's argv, the last item). A loop's result says each item that changed.
    """
    out = []
    for item in spec:
        var, label = item["var"], item["label"]
        hosts = [host for host, results in seen.items() if _changed((results or {}).get(var))]
        if item.get("once"):
            hosts = hosts[:1]
        for host in hosts:
            result = seen[host][var]
            # a loop's result: one sentence per item that changed
            for one in [r for r in result.get("results") or [] if _changed(r)] or [result]:
                text = label + _detail(one, item.get("detail"))
                out.append(text if item.get("once") else "%s: %s" % (host, text))
    return out


def _detail(result, key):
    """' (value)' of a result's `key` (of a list, such as a command's argv, the last item: its target), or ''."""
    detail = result.get(key) if key else ""
    if isinstance(detail, list):
        detail = detail[-1] if detail else ""
    return " (%s)" % detail if detail else ""


def run_outcome(seen, spec, stopped=None):
    """The outcome of a run: dict(status, message, changes, stopped).

    stopped: {host: dict(task, action, message)} for each host whose own task stopped the run (none: the run
    completed). status: `refused` when every such task was a gate (an assert or fail) and nothing had changed;
    `failed` otherwise; `changed` or `ok` for a completed run. message: the first stopping host's message.
    """
    changes = changes_made(seen, spec)
    stopped = {host: why for host, why in (stopped or {}).items() if why}
    if not stopped:
        return dict(status="changed" if changes else "ok", message="", changes=changes, stopped={})
    gates = all(why.get("action") in GATES for why in stopped.values())
    first = next(iter(stopped.values()))
    return dict(status="refused" if gates and not changes else "failed",
                message=" ".join(str(first.get("message") or "failed").split()),
                changes=changes,
                stopped={host: dict(task=why.get("task", ""), message=" ".join(str(why.get("message") or "").split()))
                         for host, why in stopped.items()})
