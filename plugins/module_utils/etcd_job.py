# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""A run inside an AWX or AAP job: what the controller keeps would be lost with the job's container (issue #27).

AWX and AAP run a job template's playbook in an execution environment: a container that is removed when the job
ends, with the job's private data dir (the project, the inventory: /runner in the container) inside it. Every
operation keeps something on the controller, by default beside the inventory: the snapshot store
(`etcd_backup_dir`, `<inventory dir>/etcd-backups`) and deploy's CA (`etcd_deploy_pki_dir`, `<inventory
dir>/etcd-pki`). In a job these defaults are inside the private data dir, so a backup there would be gone when the
job ends, a recovery from the store would find nothing, and a TLS deploy would lose the cluster's CA key (the next
job would make another CA that the members' certificates do not chain to).

A job is told by the extra variables AWX and AAP pass to every job (`awx_job_id`, and `tower_job_id` from older
releases). Its private data dir is the directory above the inventory's that also holds the directory the run
started in (ansible-runner starts it in the project's, /runner/project; the playbook's own dir is the
collection's, since a project's playbook imports etcd_ops.etcd.NAME). What is kept there is
refused, with the fix: a persistent volume mounted into the job's container (a path outside the private data
dir), or the bucket. What is not lost is let through: the store of a backup that also copies to the bucket, the
store of a recovery or drill that takes its snapshot from the bucket or from a given file.
"""

from __future__ import annotations

import posixpath


def job(extra_vars):
    """The AWX/AAP job this run is, from its extra variables: its id as a string, or '' outside a job."""
    for name in ("awx_job_id", "tower_job_id"):
        value = (extra_vars or {}).get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def private_dir(inventory_dir, start_dir):
    """The job's private data dir ('/runner' in an execution environment, which holds inventory/ and project/): the
    nearest directory above the inventory's, at most two levels up and never '/', that also holds the directory
    the run started in; else the inventory's own directory (the start dir when there is no inventory dir)."""
    inventory = posixpath.normpath(inventory_dir) if inventory_dir else ""
    start = posixpath.normpath(start_dir) if start_dir else ""
    if not inventory:
        return start
    candidate = inventory
    for _level in range(2):
        candidate = posixpath.dirname(candidate)
        if candidate == "/":
            break
        if inside(start, candidate):
            return candidate
    return inventory


def inside(path, directory):
    """Whether `path` is `directory` or lies under it (both normalised; no file system access)."""
    if not path or not directory:
        return False
    path, directory = posixpath.normpath(path), posixpath.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _from_store(source_var):
    """A drill or a recovery reads the store unless it reads another source or names its snapshot file."""
    return lambda s: s.get(source_var, "store") == "store" and not s.get("etcd_snapshot")


# Per operation: the setting that names what it keeps or reads on the controller, when that matters (a test of the
# settings), why (a sentence, with {path}), and the fix (with {private}, the job's private data dir).
OPERATIONS = {
    "backup": (
        "etcd_backup_dir",
        lambda s: not s.get("etcd_s3_bucket"),
        "the snapshot this backup takes would be kept only in etcd_backup_dir ({path}), which is removed with the "
        "job's container when the job ends",
        "Fix: set etcd_backup_dir to a directory on a persistent volume mounted into the job's container (outside "
        "{private}), or set etcd_s3_bucket so that every snapshot is copied to the bucket (docs/awx.md)."),
    "verify_backup": (
        "etcd_backup_dir",
        _from_store("etcd_verify_source"),
        "the drill reads the snapshots of etcd_backup_dir ({path}), which is made anew, empty, in each job's "
        "container",
        "Fix: drill the bucket's copies (etcd_verify_source=s3) or the members' scheduled snapshots "
        "(etcd_verify_source=member), or set etcd_backup_dir to the persistent volume the backup jobs keep their "
        "store on (docs/awx.md)."),
    "disaster_recovery": (
        "etcd_backup_dir",
        _from_store("etcd_recovery_source"),
        "the recovery takes its snapshot from etcd_backup_dir ({path}), which is made anew, empty, in each job's "
        "container: no backup of an earlier job is there",
        "Fix: recover from the bucket (etcd_recovery_source=s3), or set etcd_backup_dir to the persistent volume "
        "the backup jobs keep their store on, or name the snapshot file (etcd_snapshot) (docs/awx.md)."),
    "deploy": (
        "etcd_deploy_pki_dir",
        lambda s: bool(s.get("etcd_deploy_tls")),
        "deploy.yml keeps the cluster's CA key in etcd_deploy_pki_dir ({path}), which is removed with the job's "
        "container: the next job would make another CA, whose certificates the members do not trust",
        "Fix: set etcd_deploy_pki_dir to a directory on a persistent volume mounted into the job's container "
        "(outside {private}), and keep it for every later job (docs/awx.md)."),
}


def refusals(operation, settings, job_id, inventory_dir, start_dir):
    """Why `operation` refuses to run in this AWX/AAP job: a list of one sentence with its fix, or [] (outside a
    job, or when nothing it keeps or reads on the controller is inside the job's private data dir).

    settings: the operation's variables (etcd_backup_dir, etcd_deploy_pki_dir, etcd_s3_bucket,
    etcd_recovery_source, etcd_snapshot, etcd_verify_source, etcd_deploy_tls).
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    place, matters, why, fix = OPERATIONS[operation]
    if not job_id or not matters(settings):
        return []
    private = private_dir(inventory_dir, start_dir)
    path = settings.get(place, "")
    if not inside(path, private):
        return []
    head = (f"This run is AWX/AAP job {job_id}, whose container and private data dir ({private}) are removed when "
            "it ends: ")
    return [head + why.format(path=path) + ". Nothing was changed. " + fix.format(private=private)]
