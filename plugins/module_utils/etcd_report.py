# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The outcome every report carries (etcd_report_file), on every outcome: ok, changed, refused or failed, what had
changed by then, and the message of the task that stopped the run."""

from __future__ import annotations

import re

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


# The number fields of the reports (etcd_report_file) and of a snapshot's metadata (NAME.db.json), by name; every
# value under `seconds` is one too. ansible-core before 2.19 renders each templated value of a YAML dict as text
# ("40", "12.5", "None"); typed() gives them back their JSON types.
NUMBERS = frozenset(("size", "revision", "total_keys", "keys", "hash", "kv_hash", "kv_hash_compact_revision",
                     "duration", "restore_seconds", "serve_seconds", "kept", "keep", "bump_revision", "seconds"))
_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?|-?[0-9]+[eE][-+]?[0-9]+")


def _number(text):
    """A number field's text as its number (None for "None" or ""); other text as it is."""
    if text in ("", "None"):
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def typed(value, number=False):
    """`value` (a report, a snapshot's metadata) with the text of its number fields (NUMBERS, and all under
    `seconds`) made numbers again; nothing else changed. `number`: `value` is itself a number field's."""
    if isinstance(value, dict):
        return {key: typed(item, number or key == "seconds" or (key in NUMBERS and isinstance(item, str)))
                for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item, number) for item in value]
    if number and isinstance(value, str):
        return _number(value)
    return value
