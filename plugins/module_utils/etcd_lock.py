# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""One run at a time on a cluster: a lock file on each member (issue #24).

A run of the collection's playbooks (disaster_recovery, replace_member, backup) takes the lock on every member it
reaches before it reads them, and gives it back at its end, on every outcome; the members' scheduled backup job
takes its own member's. A second run finds the lock and is refused with who holds it: the operation, the
controller, the user, the process and since when.

A lock whose holder is gone is stale and is taken over: a run killed on this controller (its ansible-playbook
process is gone: the same controller, the same boot, no such process with the same start time), or a scheduled
job whose process is gone on the member. A run of another controller cannot be seen from here: its lock is
refused with the fix of removing the file once that run is known to be gone.

The file is written whole before it appears (a link of a complete temporary file), so it is never half-written,
and it is taken only where none is (the link fails on an existing one).
"""

from __future__ import annotations

import json
import os

LOCK_PATH = "/var/lib/etcd-ops/lock.json"


def proc_start(pid):
    """The start time of a local process (clock ticks since boot, /proc/PID/stat field 22), or None when there is
    no such process."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            stat = handle.read()
    except (OSError, ValueError):
        return None
    # the command name (field 2) is in brackets and may hold spaces: count from after the last ')'
    return int(stat[stat.rindex(")") + 2:].split()[19])


def alive(pid, start):
    """Whether local process `pid` runs and is the one that started at `start` (not a later one with its pid)."""
    now = proc_start(pid)
    return now is not None and (start is None or int(start) == now)


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def describe(holder):
    """Who holds the lock, in words."""
    if not isinstance(holder, dict) or not holder.get("id"):
        return "an unreadable lock file"
    if holder.get("kind") == "job":
        return "the scheduled backup job on %s (pid %s) since %s" % (
            holder.get("host"), holder.get("pid"), holder.get("since"))
    return "%s run by %s@%s (ansible-playbook pid %s) since %s" % (
        holder.get("operation") or "a run", holder.get("user"), holder.get("controller"), holder.get("pid"),
        holder.get("since"))


def read(path):
    """The holder in the lock file, None without one, {} for one that cannot be read."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def stale_here(holder, host):
    """Why a holder seen on this member is known to be gone (a scheduled job of this member whose process is
    gone), or ''. A run's process lives on its controller: see stale_for_controller."""
    if holder == {}:
        return "the lock file cannot be read"
    job_here = holder.get("kind") == "job" and holder.get("host") == host
    if job_here and not alive(holder.get("pid"), holder.get("start")):
        return "its process is gone"
    return ""


def stale_for_controller(holder, controller, boot):
    """Why a run's lock is known to be gone, seen from this controller, or '': the run was this controller's, and
    the controller booted since, or its ansible-playbook process is gone."""
    if holder.get("kind") != "run" or holder.get("controller") != controller:
        return ""
    if holder.get("boot") and holder.get("boot") != boot:
        return "its controller has booted since"
    if not alive(holder.get("pid"), holder.get("start")):
        return "its ansible-playbook process is gone"
    return ""


def _write_temp(path, data, suffix):
    """Write `data` as JSON to a temporary file beside the lock file (0644); its path."""
    temp = os.path.join(os.path.dirname(path), ".lock.%d.%s" % (os.getpid(), suffix))
    with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w") as handle:
        json.dump(data, handle, sort_keys=True)
        handle.write("\n")
    return temp


def _write_new(path, holder):
    """Make the lock file with `holder` where there is none: True, or False when one exists."""
    temp = _write_temp(path, holder, "tmp")
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temp)


def acquire(path, holder, host, take_over=""):
    """Take the lock for `holder` (a dict with a unique `id`). Returns dict(taken, holder, stale, written): `holder`
    the one that holds it afterwards, `written` whether this call wrote the file. Ours already (a second take of
    the same run) counts as taken. A holder this member knows to be gone, or the one `take_over` names (its id:
    the controller found it gone), is replaced."""
    if _write_new(path, holder):
        return dict(taken=True, holder=holder, stale="", written=True)
    current = read(path)
    if current is None:  # it was given back meanwhile
        return acquire(path, holder, host, take_over)
    if current.get("id") == holder["id"]:
        return dict(taken=True, holder=current, stale="", written=False)
    why = stale_here(current, host) or ("its controller found it gone" if take_over and
                                        current.get("id") == take_over else "")
    if not why:
        return dict(taken=False, holder=current, stale="", written=False)
    os.rename(_write_temp(path, dict(holder, took_over=dict(current, stale=why)), "new"), path)
    after = read(path) or {}
    return dict(taken=after.get("id") == holder["id"], holder=after, stale=why, written=True)


def release(path, holder_id, dry_run=False):
    """Give the lock back if `holder_id` holds it (with `dry_run`, only say whether it would). Returns dict(ours,
    holder): whether it was ours, and the holder found ({} for none)."""
    current = read(path) or {}
    ours = current.get("id") == holder_id
    if ours and not dry_run:
        os.unlink(path)
    return dict(ours=ours, holder=current)


def refusal(host, holder, path=LOCK_PATH):
    """The message of a run refused by another's lock on `host`."""
    fix = ("wait until it ends. If it is gone for good (its controller crashed), remove %s on %s "
           "(sudo rm %s) and run this again" % (path, host, path))
    if holder.get("kind") == "job":
        fix = "wait until the job ends (journalctl -u etcd-ops-backup), then run this again"
    return ("%s: %s holds the lock %s: one run at a time on a cluster, so that two never interleave. Nothing was "
            "changed. Fix: %s." % (host, describe(holder), path, fix))


def lock_refusals(seen):
    """Why a run must stop after taking the locks: each member whose lock another run holds (etcd_lock's
    `refusal`), and each where the lock could not be taken though the module ran there (an unsafe lock dir). An
    unreachable member, or one where become failed (the module never ran), is left to the preflight's read, which
    names it with its fix. seen: {host: the etcd_lock task's result}."""
    out = []
    for host, result in seen.items():
        result = result or {}
        if result.get("unreachable") or result.get("skipped"):
            continue
        if result.get("refusal"):
            out.append(result["refusal"])
        elif result.get("failed") and any(key in result for key in ("invocation", "module_stderr", "module_stdout")):
            out.append("%s: the lock could not be taken: %s Nothing was changed." % (
                host, " ".join(str(result.get("msg") or "failed").split())))
    return out
