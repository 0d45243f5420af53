# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""A store of snapshots on a node, and the job the backup role's timer runs there.

The scheduled job (`etcd_backup_schedule`) has no Ansible on the node: the role installs this file, the
client and the snapshot-file helpers under /usr/local/lib/etcd-ops, with a small entry point there that
calls main(). LocalRunner gives EtcdClient the three AnsibleModule methods it uses, so the job runs the same
etcdctl/etcdutl command lines, checks and naming as the modules and the controller store:
`<cluster>-<UTC YYYYmmddTHHMMSSZ>-r<revision>.db` with `.sha256` (sha256sum format) and `.json` sidecars,
mode 0600, and only names of that form are ever pruned.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_config as bundle
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_metrics as metrics
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_lock as lock
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_snapshot_file as snapfile
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import meta_from_text

SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INCOMING = ".incoming-"
# the job's last outcomes, for its metrics and its OnFailure= notification
STATE_FILE = "/var/lib/etcd-ops/backup-state.json"
CONNECTION = ("ca_cert", "client_cert", "client_key", "user", "password", "dial_timeout", "command_timeout",
              "etcdctl_path", "etcdutl_path")


def stored_name(cluster, stamp, revision):
    return "%s-%s-r%d.db" % (cluster, stamp, revision)


def stored(directory, cluster):
    """The snapshots of `cluster` in `directory`, newest first, by the names this collection gives them
    (listed_snapshots); nothing else is counted or pruned."""
    return listed_snapshots(os.listdir(directory), cluster, paths=True)["names"][::-1]


def bucket_metas(names, local, fetched):
    """Each bucket snapshot's metadata, in the order of `names`: the store's .json (`local`, in the same order, {}
    where the store has none) when it has one, else the text read from the bucket (`fetched`: name -> text of the
    NAME.json object), else {} (a snapshot without metadata belongs to no known cluster)."""
    names, local, fetched = list(names or []), list(local or []), dict(fetched or {})
    if len(names) != len(local):
        raise ValueError("%d names but %d local metadata" % (len(names), len(local)))
    return [dict(mine) if mine else meta_from_text(fetched.get(name))
            for name, mine in zip(names, local)]  # noqa: B905 (lengths checked; the job runs on older Pythons)


_STAMP = re.compile(r"-([0-9]{8}T[0-9]{6}Z)-r([0-9]+)\.db$")
# a snapshot as a listing shows it: NAME.db (NAME: <cluster>-<UTC stamp>-r<revision>), and in a bucket with the
# suffixes of its encoding (.zst, .age, .zst.age)
_LISTED = re.compile(r"^(?P<name>(?P<cluster>[^/.][^/]*)-(?P<stamp>[0-9]{8}T[0-9]{6}Z)-r[0-9]+\.db)(\.zst)?(\.age)?$")


def listed_snapshots(entries, cluster="", prefix="", paths=False):
    """The snapshots in a listing, oldest first (by the UTC time in their names, then by name), each once.

    entries: a bucket's keys (those under `prefix`, with it cut off; none in a deeper folder), or with `paths` a
    store's file paths (the file name is matched, the path kept; no encoding suffix: the store holds plain .db
    files). cluster: only this cluster's snapshots ('' every cluster's). A hidden name (a download not finished,
    .incoming-...) is no snapshot.
    Returns dict(names, objects, finished): names as NAME.db (a store's as their paths); objects maps each name to
    the entry it was listed as (NAME.db.zst, ... when the backup compressed or encrypted it; the last one listed
    wins); finished, the names whose .sha256 sidecar is listed too, in the same order (a bucket's upload puts the
    sidecar after the snapshot: only these finished).
    """
    found, objects = {}, {}
    for entry in entries or ():
        entry = str(entry)
        if paths:
            rest = entry.rpartition("/")[2]
            m = _LISTED.match(rest)
            if not m or m.group(0) != m.group("name"):
                continue
            name = entry
        else:
            if not entry.startswith(prefix):
                continue
            m = _LISTED.match(entry[len(prefix):])
            if not m:
                continue
            name = m.group("name")
        if cluster and m.group("cluster") != cluster:
            continue
        found[name] = (m.group("stamp"), name)
        objects[name] = name if paths else entry[len(prefix):]
    listed = {str(entry) for entry in entries or ()}
    names = sorted(found, key=found.get)
    finished = [name for name in names if (name if paths else prefix + name) + ".sha256" in listed]
    return dict(names=names, objects=objects, finished=finished)


def codec_tools(encoding):
    """The controller's tools that decode a bucket's copy with this encoding (the object's suffix beyond NAME.db:
    '', '.zst', '.age', '.zst.age'): zstd for '.zst', age for '.age', in the order the decoding needs them."""
    return [tool for suffix, tool in ((".zst", "zstd"), (".age", "age")) if suffix in (encoding or "")]


def retention(names, keep, protect=()):
    """(kept, removed): which of one cluster's snapshot names (or paths) to keep, newest first.

    One meaning everywhere (the controller's store, the bucket, the members' scheduled job): the newest `keep`
    are kept, and `keep` 0 keeps every one. A name in `protect` (the snapshot just taken) is never removed, even
    when newer names from a skewed clock would push it out. A negative `keep` is refused (ValueError).
    """
    if isinstance(keep, bool) or int(keep) != keep or keep < 0:
        raise ValueError("keep must be a whole number, 0 (keep every snapshot) or more; got %r" % (keep,))

    def newest_first(name):
        found = _STAMP.search(os.path.basename(name))
        return (found.group(1), int(found.group(2))) if found else ("", 0)

    ordered = sorted(names, key=newest_first, reverse=True)
    if keep == 0:
        return ordered, []
    protected = {os.path.basename(p) for p in protect}
    kept = ordered[:keep] + [n for n in ordered[keep:] if os.path.basename(n) in protected]
    return kept, [n for n in ordered[keep:] if os.path.basename(n) not in protected]


SIDECARS = (".sha256", ".json")
# the recovery bundle and its keys' age file (etcd_backup_config.SUFFIX, KEYS_SUFFIX), removed with their snapshot
PRUNED = SIDECARS + (".config.json", ".keys.age")


def prune(directory, cluster, keep, protect=(), ours=None, dry_run=False):
    """Remove the snapshots beyond the newest `keep` (0: none), with their sidecars. Returns (kept, removed), names.

    ours: where given, only the snapshots whose path it accepts count (the controller's store: those whose metadata
    names this cluster's members); dry_run: remove nothing, say what would go (check mode)."""
    names = [n for n in stored(directory, cluster) if ours is None or ours(os.path.join(directory, n))]
    kept, removed = retention(names, keep, protect)
    if not dry_run:
        for name in removed:
            for ext in ("",) + PRUNED:
                path = os.path.join(directory, name + ext)
                if os.path.exists(path):
                    os.unlink(path)
    return kept, removed


def write_sidecars(path, sha256, meta, config=None):
    """The snapshot's sidecars beside it: <path>.sha256 (sha256sum's line) and <path>.json (its metadata), each
    written under a hidden name first, then renamed. With `config` (a recovery bundle, etcd_backup_config), first
    <path>.config.json, recorded with its sha256 in the metadata's `config`."""
    written = []
    if config is not None:
        write_file(path + bundle.SUFFIX, bundle.text(config))
        meta = dict(meta, config=bundle.record(config, os.path.basename(path)))
        written.append(path + bundle.SUFFIX)
    write_file(path + ".sha256", snapfile.sidecar_text(path, sha256))
    write_file(path + ".json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return written + [path + ext for ext in SIDECARS]


def write_file(path, text):
    """Write `text` to `path` (mode 0600) under a temporary name first, then rename it."""
    temp = os.path.join(os.path.dirname(path), INCOMING + os.path.basename(path))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temp, 0o600)
    os.rename(temp, path)


class LocalRunner:
    """The AnsibleModule methods EtcdClient calls, for a process that runs without Ansible."""

    def __init__(self, params):
        self.params = params

    @staticmethod
    def get_bin_path(name, required=False, opt_dirs=None):
        return shutil.which(name, path=os.environ.get("PATH", "") + ":" + SEARCH_PATH)

    @staticmethod
    def run_command(args, environ_update=None, **kwargs):
        env = dict(os.environ)
        env.update(environ_update or {})
        proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def run_job(config, client=None, now=None):
    """One scheduled snapshot: health, save + verify, name with the revision, sidecars, retention.

    `config` is the JSON the role writes: endpoint, dir, cluster, member, keep, timeout and the connection
    options. Returns what was done; raises EtcdError with the cause and the fix.
    """
    endpoint, directory, cluster = config["endpoint"], config["dir"], config["cluster"]
    if client is None:
        params = dict((k, config.get(k)) for k in CONNECTION)
        params["endpoints"] = [endpoint]
        client = EtcdClient(LocalRunner(params))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    # hidden files of an earlier run that was killed: ours, half-written, never a snapshot
    for leftover in os.listdir(directory):
        if leftover.startswith(INCOMING) or leftover.startswith("." + INCOMING):
            os.unlink(os.path.join(directory, leftover))
    health = client.endpoint_health([endpoint])
    if not health or not health[0]["quorate"]:  # an alarm (NOSPACE) does not stop a snapshot: etcd serves it
        error = health[0].get("error") if health else ""
        raise EtcdError("The member at %s is not healthy%s; no snapshot was taken." % (
            endpoint, ": " + error if error else ""),
            hint="A member answers healthy only while the cluster has quorum. The other members' timers keep "
                 "taking snapshots; check this member with `systemctl status etcd` and `etcdctl endpoint health`.")

    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    incoming = os.path.join(directory, "%s%s-%s.db" % (INCOMING, cluster, stamp))
    try:
        snap = snapfile.save(client, incoming, endpoint, config.get("timeout", 600), sidecar=False)
        info = client.member_list([endpoint])
        name = stored_name(cluster, stamp, snap["revision"])
        final = os.path.join(directory, name)
        meta = dict(file=name, sha256=snap["sha256"], size=snap["size"], revision=snap["revision"],
                    hash=snap["hash"], total_keys=snap["total_keys"], keys=snap["keys"], kv_hash=snap["kv_hash"],
                    kv_hash_compact_revision=snap["kv_hash_compact_revision"],
                    etcd_version=snap["etcd_version"],
                    cluster_id=format(info["cluster_id"], "x"), cluster_token=cluster,
                    members=[m["name"] for m in info["members"]],
                    member_peer_urls={m["name"]: m["peer_urls"] for m in info["members"]},
                    source_member=config.get("member", ""),
                    source_endpoint=endpoint, time=now.strftime("%Y-%m-%dT%H:%M:%SZ"), duration=snap["duration"])
        write_sidecars(final, snap["sha256"], meta)  # first: a snapshot under its final name always has both
        os.rename(incoming, final)
    finally:
        if os.path.exists(incoming):
            os.unlink(incoming)
    kept, removed = prune(directory, cluster, int(config.get("keep", 7)), protect=[name])
    result = dict(meta, path=final, removed=removed, kept=len(kept))
    if config.get("verify"):
        from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_drill_run import CannotRun

        try:
            result["drill"] = drill_snapshot(config, final, meta)
        except EtcdError as exc:
            result["drill_error"] = "The restore drill of %s could not run here: %s" % (final, exc.result()["msg"])
        except (CannotRun, OSError) as exc:
            result["drill_error"] = "The restore drill of %s could not run here: %s" % (final, exc)
    return result


def drill_snapshot(config, path, meta, runner=None, client=None):
    """The restore drill of the snapshot just saved (etcd_backup_schedule_verify), on this member: a scratch etcd
    of this member's binary as the unit's user (etcd_drill_run), its result written into the snapshot's .json.
    Returns the drill (etcd_drill_run.run); raises what run raises when the drill cannot run here."""
    # imported here: etcd_drill reads this module's listing
    from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_drill_run as drill_run

    # the scratch etcd serves plain HTTP on loopback: no TLS file; the cluster's credentials (auth comes with the
    # snapshot)
    params = dict((k, config.get(k)) for k in ("user", "password", "etcdctl_path", "etcdutl_path"))
    runner = runner or LocalRunner(params)
    client = client or EtcdClient(runner)
    out = drill_run.run(runner, client, path, meta=meta, scratch_dir=config.get("drill_dir") or drill_run.DEFAULT_DIR,
                        run_as=config.get("run_as") or "etcd", timeout=int(config.get("drill_timeout") or 120),
                        member=config.get("member") or None)
    drill_run.record_beside(path, out["metadata"])
    return out


def job_holder(now=None):
    """This scheduled job as a lock holder (etcd_lock): this member, this process and its start."""
    host, pid = socket.gethostname(), os.getpid()
    start = lock.proc_start(pid)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return dict(id="job/%s/%d/%s" % (host, pid, start), kind="job", host=host, pid=pid, start=start,
                since=now.strftime("%Y-%m-%dT%H:%M:%SZ"))


def locked_job(config, client=None, now=None):
    """run_job while this member's lock is the job's (config `lock`: its path; none: no lock). A run of the
    playbooks that holds it (a recovery, a replace) makes the job skip this time, and say who holds it."""
    path = config.get("lock")
    if not path:
        return run_job(config, client, now)
    workdir.ensure(os.path.dirname(path), 0o755)
    holder = job_holder(now)
    taken = lock.acquire(path, holder, holder["host"])
    if not taken["taken"]:
        raise EtcdError("No snapshot was taken: %s holds the lock %s (one run at a time on a cluster)." % (
            lock.describe(taken["holder"]), path),
            hint="The next run of the timer tries again; a lock of a run that is gone is removed by that "
                 "run's next start, or with sudo rm %s once it is known to be gone." % path)
    try:
        return run_job(config, client, now)
    finally:
        lock.release(path, holder["id"])


def summary(result):
    """The lines the job writes to the journal: the snapshot, and its drill when one ran."""
    lines = ["saved %s: %d bytes, revision %d, %s keys, sha256 %s, took %.2fs; %d snapshot(s) kept, %d removed" % (
        result["path"], result["size"], result["revision"], result["keys"], result["sha256"],
        result["duration"], result["kept"], len(result["removed"]))]
    drilled = result.get("drill")
    if drilled:
        lines.append("%s (restore %.2fs, serving %.2fs after its start, drill %.2fs)" % (
            drilled["msg"], drilled.get("restore_seconds") or 0, drilled.get("serve_seconds") or 0,
            drilled.get("seconds") or 0))
    return "\n".join(lines)


def record_run(config, result, error, now=None):
    """The run's outcome into the job's state file and, with a metrics dir that exists, node_exporter's textfile
    (etcd_backup_metrics). Returns the metrics file written, or ''. A state or metrics file that cannot be written
    is said on stderr; it does not fail the backup."""
    now = int(now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp())
    path = config.get("state") or STATE_FILE
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        state = {}
    saved = dict(size=result["size"], duration=result["duration"], revision=result["revision"],
                 kept=result["kept"]) if result else None
    interval = None
    if config.get("schedule"):
        proc = subprocess.run(["systemd-analyze", "calendar", "--iterations=2", config["schedule"]],
                              capture_output=True, text=True, check=False, env=dict(os.environ, TZ="UTC"))
        interval = metrics.calendar_interval(proc.stdout) if proc.returncode == 0 else None
    state = metrics.next_state(state if isinstance(state, dict) else {}, now, saved=saved,
                               drilled=(result or {}).get("drill"), error=error, interval=interval)
    written = ""
    try:
        workdir.ensure(os.path.dirname(path), 0o755)
        write_file(path, json.dumps(state, indent=2, sort_keys=True) + "\n")
        directory = config.get("metrics_dir") or ""
        if directory and os.path.isdir(directory):
            written = metrics.write(directory, metrics.render(state, config.get("cluster", ""),
                                                              config.get("member", "")))
    except (OSError, workdir.WorkDirError) as exc:
        sys.stderr.write("etcd-ops-backup: could not write its state or metrics: %s\n" % exc)
    return written


def notify(config, state_path=None, opener=None, run=subprocess.run):
    """etcd-ops-backup-failed.service (OnFailure= of the backup service): tell the user's command and webhook
    that the last run failed, with its message. The command runs with ETCD_OPS_CLUSTER, ETCD_OPS_MEMBER and
    ETCD_OPS_MESSAGE set; the webhook gets a JSON POST. Returns the errors (an empty list when all were told)."""
    try:
        with open(state_path or config.get("state") or STATE_FILE) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        state = {}
    message = (state.get("message") if isinstance(state, dict) else "") or "the last run failed; see its journal"
    facts = dict(cluster=config.get("cluster", ""), member=config.get("member", ""), message=message,
                 unit="etcd-ops-backup.service", time=datetime.datetime.now(datetime.timezone.utc).strftime(
                     "%Y-%m-%dT%H:%M:%SZ"))
    errors = []
    command = config.get("on_failure_command") or ""
    if command:
        env = dict(os.environ, ETCD_OPS_CLUSTER=facts["cluster"], ETCD_OPS_MEMBER=facts["member"],
                   ETCD_OPS_MESSAGE=message)
        proc = run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, check=False, timeout=60)
        if proc.returncode != 0:
            errors.append("the on-failure command exited %d: %s" % (proc.returncode, (proc.stderr or "").strip()))
    url = config.get("on_failure_url") or ""
    if url:
        request = urllib.request.Request(url, data=json.dumps(facts).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with (opener or urllib.request.build_opener().open)(request, timeout=10) as answer:
                answer.read()
        except (OSError, ValueError) as exc:  # urllib's errors are OSErrors
            errors.append("the on-failure webhook %s: %s" % (url, exc))
    return errors


def main(argv=None):
    """Entry point of the scheduled job: `etcd-ops-backup.py --config FILE` (a snapshot, its drill when asked, the
    metrics), or `etcd-ops-backup.py --notify --config FILE` (the OnFailure= unit). Exit 0 or 1 (2: bad usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    notifying = argv[:1] == ["--notify"]
    if notifying:
        argv = argv[1:]
    if len(argv) != 2 or argv[0] != "--config":
        sys.stderr.write("usage: etcd-ops-backup.py [--notify] --config FILE (installed by etcd_ops.etcd's backup "
                         "role)\n")
        return 2
    try:
        with open(argv[1]) as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        sys.stderr.write("etcd-ops-backup failed: %s\n" % exc)
        return 1
    if notifying:
        errors = notify(config)
        for error in errors:
            sys.stderr.write("etcd-ops-backup: %s\n" % error)
        return 1 if errors else 0
    result, error = None, ""
    try:
        result = locked_job(config)
        if (result.get("drill") or {}).get("result") == "failed":
            error = result["drill"]["msg"]
        error = error or result.get("drill_error", "")
    except (OSError, ValueError, KeyError, workdir.WorkDirError) as exc:
        error = str(exc)
    except EtcdError as exc:
        failure = exc.result()
        error = failure["msg"]
        if failure.get("cmd"):
            error += "\ncommand: %s (rc=%s)\nstderr: %s" % (
                failure["cmd"], failure["rc"], (failure["stderr"] or "").strip())
    record_run(config, result, error.split("\n")[0])
    if result:
        sys.stdout.write(summary(result) + "\n")
    if error:
        sys.stderr.write("etcd-ops-backup failed: %s\n" % error)
        return 1
    return 0
