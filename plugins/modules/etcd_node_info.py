#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_node_info
short_description: Everything a recovery's preflight needs to know about one member, in one call
version_added: 0.1.0
description:
  - Reads one member as it is, changing nothing, so that the controller can decide on every member at once
    from one round trip each.
  - The env file (O(env_file)), parsed as systemd's C(EnvironmentFile=) reads it; a line systemd reads otherwise
    than it reads (C(export KEY=value), which systemd ignores, for one) is a warning (RV(env_warnings)).
  - The unit's state and the user it runs etcd as (C(systemctl show)).
  - The member's own health and status through etcdctl, at the first of the env file's
    C(ETCD_ADVERTISE_CLIENT_URLS), with a short timeout, and without O(user) and O(password) unless
    O(credentials) says so. A probe that cannot run (no etcdctl) is reported, not failed.
  - The data dir (the env file's C(ETCD_DATA_DIR), else O(data_dir)), whether it exists, holds an initialised
    member dir, and is a mount point; the free space under it and under each of O(space_paths); the dirs an
    earlier recovery moved aside (C(<data dir>.<UTC time>)).
  - A separate WAL dir (the env file's C(ETCD_WAL_DIR)) as the data dir, and whether the user the unit runs etcd as
    may write its parent (etcd makes a new member's WAL dir beside it, as C(<WAL dir>.tmp), and renames it into
    place).
  - The marks that M(etcd_ops.etcd.etcd_restore) left in what it restored (in place, staged and retired).
  - The peer certificate the env file names, as text, and the certificates of O(certificates).
  - With O(ports), the TCP sockets listening on those ports and the process that holds each (C(ss -Htlnp)).
  - With O(paths), whether each path exists, and what a symbolic link points to.
  - The user Ansible logged in as (RV(login_user)), seen through become.
extends_documentation_fragment:
  - etcd_ops.etcd.connection
  - etcd_ops.etcd.attributes
  - etcd_ops.etcd.attributes.info_module
options:
  env_file:
    description: The member's env file.
    type: path
    required: true
  data_dir:
    description: The data dir when the env file has no C(ETCD_DATA_DIR) (or no env file exists).
    type: path
    default: /var/lib/etcd
  space_paths:
    description:
      - More paths to measure the free space under (a path that does not exist yet is measured at its nearest
        existing parent), beside the data dir's parent.
    type: list
    elements: path
    default: []
  probe:
    description: Ask the member for its health and status. V(false) reads only files and systemd.
    type: bool
    default: true
  unit:
    description: The systemd unit that runs etcd.
    type: str
    default: etcd.service
  credentials:
    description:
      - Probe as O(user) with O(password). A login is a raft request, which a member without quorum never answers,
        so the default asks without them; the status still names a leader then, but with etcd auth on, the health
        read answers C(user name is empty) and O(ignore:probe.quorate) stays V(false). Turn it on where the
        cluster is expected to have quorum and a member must be known to serve reads (replace_member).
    type: bool
    default: false
  ports:
    description: Report the TCP sockets listening on these ports (as RV(listeners)).
    type: list
    elements: int
    default: []
  paths:
    description: Report whether each of these paths exists, is a dir, or is a symbolic link and to what (RV(paths)).
    type: list
    elements: path
    default: []
  work_dirs:
    description:
      - Work dirs to check before a snapshot is written there (as RV(work_dirs)). The dir and every dir on the way to it
        must be root's and writable by no one else, and the dir no symbolic link. A dir not made yet is only checked
        on the way to it.
    type: list
    elements: path
    default: []
  certificates:
    description:
      - Return the text of these certificate files (RV(certificates)), for the controller to compare or parse. A file
        that holds a private key is not returned.
    type: list
    elements: path
    default: []
  config:
    description:
      - Return what a rebuild of this member needs beside its env file, for the backup's recovery bundle (RV(config))
        - the unit's file and drop-ins, the text of the certificates the env file names, and the paths (only) of its
        keys.
    type: bool
    default: false
notes:
  - O(endpoints) is ignored, the probe asks the member at the URL its env file advertises (else
    C(http://127.0.0.1:2379)). O(ca_cert), O(client_cert) and O(client_key) default to the env file's
    C(ETCD_TRUSTED_CA_FILE), C(ETCD_CERT_FILE) and C(ETCD_KEY_FILE).
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Read each member once
  etcd_ops.etcd.etcd_node_info:
    env_file: /data/etcd.env
    space_paths: [/var/tmp/etcd-restore]
    command_timeout: 2
  register: node

- name: Show whether etcd runs and answers there
  ansible.builtin.debug:
    msg: "{{ node.unit.active_state }}, healthy: {{ node.probe.healthy }}"
"""

RETURN = r"""
env_exists:
  description: Whether the env file exists.
  returned: always
  type: bool
env:
  description: The env file's variables ({} without one).
  returned: always
  type: dict
env_warnings:
  description:
    - The env file's lines that systemd reads otherwise than they read line by line, one sentence each with the
      fix (C(export KEY=value), which systemd ignores; a quote not closed; a comment after a value; see
      R(the env_file filter,ansible_collections.etcd_ops.etcd.env_file_filter)). Each is also a warning of the task.
  returned: always
  type: list
  elements: str
work_dirs:
  description: Each of O(work_dirs) and why it is not safe to hold a snapshot, or an empty string when it is.
  returned: always
  type: dict
  sample: {"/var/tmp/etcd-ops-recovery": "/var/tmp/etcd-ops-recovery belongs to uid 1000, not root"}
env_text:
  description: The env file's text, to rewrite it line by line ('' without one).
  returned: always
  type: str
env_mode:
  description: The env file's mode, in octal digits (C(0644) without one).
  returned: always
  type: str
data_dir:
  description: The data dir, without a trailing C(/).
  returned: always
  type: str
  sample: /data/etcd
wal_dir:
  description: The env file's C(ETCD_WAL_DIR), without a trailing C(/); empty when the WAL is in the data dir.
  returned: always
  type: str
endpoint:
  description: The client URL the probe asked.
  returned: always
  type: str
unit:
  description: The unit as systemd sees it (empty strings when systemctl cannot tell).
  returned: always
  type: dict
  contains:
    load_state: {description: "C(loaded), C(not-found), ...", type: str}
    active_state: {description: "C(active), C(inactive), C(failed), ...", type: str}
    user: {description: "The unit's C(User=); empty means root.", type: str}
    fragment_path: {description: "The unit's file, as systemd names it.", type: str}
    drop_in_paths: {description: "Its drop-in files, space-separated.", type: str}
config:
  description: With O(config), what a rebuild needs beside the env file.
  returned: when O(config)
  type: dict
  contains:
    unit_files:
      description: The unit's file and drop-ins, each C(path), C(resolved) (the path it leads to), C(text) and
        C(error) (why it could not be read, or empty).
      type: list
      elements: dict
    certificates:
      description: By env variable (C(ETCD_TRUSTED_CA_FILE), C(ETCD_PEER_TRUSTED_CA_FILE), C(ETCD_CERT_FILE),
        C(ETCD_PEER_CERT_FILE)), each as RV(peer_cert) is; a file that holds a private key is not returned.
      type: dict
    keys:
      description: The key files the env file names (C(ETCD_KEY_FILE), C(ETCD_PEER_KEY_FILE)), paths only.
      type: dict
probe:
  description: The member's answer (with O(probe)).
  returned: always
  type: dict
  contains:
    ran: {description: "Whether the probe could run (V(false): no etcdctl, or O(probe=false)).", type: bool}
    healthy: {description: "The member serves a quorum read, or its status names a leader.", type: bool}
    quorate: {description: "It served a linearizable read (also under an alarm such as NOSPACE).", type: bool}
    alarms: {description: "The alarms it reports.", type: list, elements: str}
    status: {description: "Its status (leader, revision, ...); {} when it did not answer.", type: dict}
    error: {description: "Why it is not healthy, or why the probe could not run.", type: str}
data:
  description: The data dir on disk.
  returned: always
  type: dict
  contains:
    exists: {description: "The data dir exists.", type: bool}
    initialised: {description: "It holds a member dir (C(member/)).", type: bool}
    mountpoint: {description: "It is a mount point (by the kernel's mount table: a bind mount counts).", type: bool}
    owner: {description: "Its owner's user name ('' when it does not exist or the uid has no name).", type: str}
    group: {description: "Its group's name ('' as for owner).", type: str}
wal:
  description: A separate WAL dir on disk (all false and empty when the env file names none).
  returned: always
  type: dict
  contains:
    dir: {description: "The WAL dir ('' for none).", type: str}
    exists: {description: "It exists.", type: bool}
    holds_wal: {description: "It holds WAL files (C(*.wal)).", type: bool}
    mountpoint: {description: "It is a mount point.", type: bool}
    owner: {description: "Its owner's user name.", type: str}
    group: {description: "Its group's name.", type: str}
    parent_writable:
      description: The user of the unit (root when it names none; C(etcd) when no unit is loaded) may write its parent.
      type: bool
    parent: {description: "Its parent, as C(owner:group mode) (e.g. C(root:root 0755)), or C(missing).", type: str}
    space:
      description: The free space beside it (as RV(space)'s items; {} without a WAL dir).
      type: dict
conn:
  description:
    - The TLS files the probe used, and the modules should use on this member, as O(ca_cert), O(client_cert) and
      O(client_key), else the env file's C(ETCD_TRUSTED_CA_FILE), C(ETCD_CERT_FILE) and C(ETCD_KEY_FILE) (the
      member's own certificate, which etcd accepts as a client one when it carries clientAuth); '' for none.
  returned: always
  type: dict
  contains:
    ca_cert: {description: "The CA file.", type: str}
    client_cert: {description: "The client certificate.", type: str}
    client_key: {description: "The client key.", type: str}
space:
  description: The free space under the data dir's parent, then under each of O(space_paths).
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: "The path asked.", type: str}
    mount: {description: "The mount point it is on.", type: str}
    free: {description: "Bytes free for root (as C(df -B1) shows them available).", type: int}
marks:
  description: The marks of an earlier recovery (each null when absent or unreadable).
  returned: always
  type: dict
  contains:
    data: {description: "In the data dir: the restore that was switched into place.", type: dict}
    staging: {description: "In the staging dir: a restore that was staged, not switched.", type: dict}
    done: {description: "The retired mark of a verified recovery.", type: dict}
    wal: {description: "In a separate WAL dir: the restore switched into place (null without one).", type: dict}
    wal_staging: {description: "In the WAL dir's staging dir (null without one).", type: dict}
peer_cert:
  description:
    - The env file's C(ETCD_PEER_CERT_FILE) as read on the member (a certificate is no secret), for the controller to
      check the names and dates in it; all empty when the env file names none.
  returned: always
  type: dict
  contains:
    path: {description: "The file's path ('' when the env file names none).", type: str}
    pem: {description: "Its text ('' when it could not be read).", type: str}
    error: {description: "Why it could not be read ('' when it could).", type: str}
certificates:
  description: The files of O(certificates), by path, each as C(peer_cert) is.
  returned: always
  type: dict
listeners:
  description: The TCP sockets listening on O(ports) ([] without O(ports)).
  returned: always
  type: list
  elements: dict
  contains:
    address: {description: "The local address.", type: str}
    port: {description: "The port.", type: int}
    process: {description: "The name of the process that holds it ('' when ss cannot tell).", type: str}
    pid: {description: "Its pid (0 when ss cannot tell).", type: int}
paths:
  description: The paths of O(paths), by path.
  returned: always
  type: dict
  sample: {"/etc/systemd/system/etcd.service": {"exists": true, "isdir": false, "islnk": true,
           "target": "/data/etcd.service", "resolved": "/data/etcd.service"}}
login_user:
  description:
    - The user Ansible logged in as, seen through become (sudo's C(SUDO_USER), doas's C(DOAS_USER), the user the
      module runs as when it is not root, else su's C(LOGNAME) when it is not root); '' when it cannot tell.
  returned: always
  type: str
kept:
  description: The old data (and WAL) dirs an earlier recovery moved aside (C(<data dir>.2*), C(<WAL dir>.2*)), sorted.
  returned: always
  type: list
  elements: str
versions:
  description: The etcd tools installed (null when one is not).
  returned: always
  type: dict
commands:
  description: The commands run, without secrets.
  returned: always
  type: list
  elements: str
"""

import glob
import grp
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient, EtcdError, etcd_argument_spec
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import cluster_info
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_env import (
    assignments,
    env_file_warnings,
    parse_env_file,
)
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_host import may_write, ss_listeners
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_marks import marks

# the env file's TLS files, for the options left unset
ENV_TLS = (("ca_cert", "ETCD_TRUSTED_CA_FILE"), ("client_cert", "ETCD_CERT_FILE"), ("client_key", "ETCD_KEY_FILE"))
UNIT_PROPERTIES = (("LoadState", "load_state"), ("ActiveState", "active_state"), ("User", "user"),
                   ("FragmentPath", "fragment_path"), ("DropInPaths", "drop_in_paths"))
# what a rebuild needs that the env file names (recovery bundle): the certificates' text; the keys' paths only
CONFIG_CERTS = ("ETCD_TRUSTED_CA_FILE", "ETCD_PEER_TRUSTED_CA_FILE", "ETCD_CERT_FILE", "ETCD_PEER_CERT_FILE")
CONFIG_KEYS = ("ETCD_KEY_FILE", "ETCD_PEER_KEY_FILE")


def _strip(path):
    return path.rstrip("/") or path


def read_env(path):
    """(exists, text, mode): the env file's text and its mode as octal digits ('', '0644' without one)."""
    try:
        with open(path) as handle:
            return True, handle.read(), "%04o" % stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        return False, "", "0644"


def peer_cert(path):
    """A certificate's text (the controller parses it), or why it could not be read; never a private key."""
    if not path:
        return dict(path="", pem="", error="")
    try:
        with open(path) as handle:
            text = handle.read(65536)
    except (OSError, UnicodeDecodeError) as exc:
        return dict(path=path, pem="", error=str(exc))
    if "PRIVATE KEY" in text:
        return dict(path=path, pem="", error="it holds a private key, which is not returned")
    return dict(path=path, pem=text, error="")


def text_file(path):
    """A small text file's text and the path it resolves to, or why it could not be read."""
    try:
        with open(path) as handle:
            return dict(path=path, resolved=os.path.realpath(path), text=handle.read(262144), error="")
    except (OSError, UnicodeDecodeError) as exc:
        return dict(path=path, resolved="", text="", error=str(exc))


def read_config(env, unit):
    """What a rebuild of this member needs beside its env file (the recovery bundle): the unit's file and drop-ins
    (as systemd names them), the certificates the env file names (never a private key: a file that holds one is
    refused with its reason), and the paths of its keys (not their contents)."""
    units = [unit.get("fragment_path") or ""] + (unit.get("drop_in_paths") or "").split()
    return dict(unit_files=[text_file(path) for path in units if path],
                certificates={var: peer_cert(env[var]) for var in CONFIG_CERTS if env.get(var)},
                keys={var: env[var] for var in CONFIG_KEYS if env.get(var)})


def path_state(path):
    """Whether a path exists, is a dir, or is a symbolic link: what it says, and the path it leads to."""
    islnk = os.path.islink(path)
    return dict(exists=os.path.lexists(path), isdir=os.path.isdir(path) and not islnk, islnk=islnk,
                target=os.readlink(path) if islnk else "", resolved=os.path.realpath(path) if islnk else "")


def login_user():
    """The user Ansible logged in as, seen through become; '' when it cannot tell (e.g. logged in as root)."""
    for variable in ("SUDO_USER", "DOAS_USER"):
        if os.environ.get(variable):
            return os.environ[variable]
    if os.getuid() != 0:
        try:
            return pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            return ""
    name = os.environ.get("LOGNAME") or ""  # su keeps it for the target root
    return name if name != "root" else ""


def listeners(module, ports):
    """The TCP sockets listening on `ports`: `ss -Htlnp` (iproute2, in every Debian), parsed."""
    if not ports:
        return []
    argv = ["ss", "-Htlnp"]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg="Could not list the listening sockets: %s" % (err.strip() or "rc %d" % rc),
                         cmd=" ".join(argv), rc=rc, stderr=err)
    return ss_listeners(out, ports)


def unit_state(module, unit):
    argv = ["systemctl", "show"] + ["--property=%s" % prop for prop, key in UNIT_PROPERTIES] + [unit]
    rc, out, err = module.run_command(argv)
    props = dict(line.partition("=")[::2] for line in out.splitlines() if "=" in line) if rc == 0 else {}
    return {key: props.get(prop, "") for prop, key in UNIT_PROPERTIES}


def systemd_version(module):
    """The major version of the member's systemd (None when systemctl does not say)."""
    rc, out, _err = module.run_command(["systemctl", "--version"])
    match = re.match(r"systemd (\d+)", out) if rc == 0 else None
    return int(match.group(1)) if match else None


def read_env_file(module, path, text):
    """The variables systemd sets from the env file, and the lines it reads otherwise than they read (each also a
    warning of the module's). The member's systemd is asked only where its version matters: a comment that ends
    in a backslash."""
    read, version = assignments(text), None
    if read["continued_comments"]:
        version = systemd_version(module)
        read = assignments(text, version)
    warnings = env_file_warnings(text, version, path, read=read)
    for warning in warnings:
        module.warn(warning)
    return parse_env_file(text, version, read=read), warnings


def work_dir_problem(path):
    """Why a work dir is not safe to hold a snapshot (etcd_workdir), or '' (also for one not made yet)."""
    try:
        workdir.check_path(path)
    except workdir.WorkDirError as exc:
        return str(exc)
    return ""


def existing(path):
    """The path, or its nearest parent that exists."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and path != os.path.dirname(path):
        path = os.path.dirname(path)
    return path


def owner_of(path, st=None):
    """(user name, group name) of a path (or of its stat result `st`, when the caller has it); '' for what does not
    exist or has no name."""
    if st is None:
        try:
            st = os.stat(path)
        except OSError:
            return "", ""
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = ""
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = ""
    return user, group


def mount_points(mountinfo="/proc/self/mountinfo"):
    """Every mount point of this host, from the kernel's mount table: a bind mount of a dir of the same filesystem
    is one too, which os.path.ismount (it compares devices) misses. Empty when the table cannot be read."""
    try:
        with open(mountinfo) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return set()
    # the fifth field is the mount point, with space, tab, newline and backslash escaped as octal
    return {re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split(" ")[4])
            for line in lines if len(line.split(" ")) > 4}


def is_mount(path, points):
    """A mount point: by the mount table, or by its device (os.path.ismount)."""
    return os.path.realpath(path) in points or os.path.ismount(path)


def mount_of(path):
    path = os.path.realpath(existing(path))
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def free_space(path):
    where = existing(path)
    fs = os.statvfs(where)
    return dict(path=path, mount=mount_of(where), free=fs.f_bavail * fs.f_frsize)


def unit_user_ids(unit):
    """(uid, gids) of the user the unit runs etcd as: its User= (none: root); `etcd` when no unit is loaded (the
    user deploy makes it run as); None when that user does not exist."""
    name = (unit.get("user") or "root") if unit.get("load_state") == "loaded" else "etcd"
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        return None
    gids = {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
    return user.pw_uid, gids


def wal_state(wal_dir, unit, points):
    """A separate WAL dir on disk, as data is for the data dir, and whether the unit's user may write its parent."""
    if not wal_dir:
        return dict(dir="", exists=False, holds_wal=False, mountpoint=False, owner="", group="",
                    parent_writable=False, parent="", space={})
    owner, group = owner_of(wal_dir)
    parent = os.path.dirname(wal_dir)
    ids = unit_user_ids(unit)
    try:
        st = os.stat(parent)
    except OSError as exc:
        st = None
        described = "missing" if isinstance(exc, FileNotFoundError) else exc.strerror or "unreadable"
    if st is not None:
        p_owner, p_group = owner_of(parent, st)
        described = "%s:%s %04o" % (p_owner or st.st_uid, p_group or st.st_gid, stat.S_IMODE(st.st_mode))
    return dict(dir=wal_dir, exists=os.path.isdir(wal_dir), mountpoint=is_mount(wal_dir, points), owner=owner,
                holds_wal=bool(glob.glob(os.path.join(glob.escape(wal_dir), "*.wal"))), group=group,
                parent_writable=bool(st and ids and may_write(stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, *ids)),
                parent=described, space=free_space(parent))


def probe(client, endpoint):
    """The member's own health and status; a probe that cannot run says why instead of failing."""
    try:
        info = cluster_info(client, [endpoint], expand=False, list_members=False)
    except EtcdError as exc:
        return dict(ran=False, healthy=False, quorate=False, alarms=[], status={},
                    error=" ".join(filter(None, (exc.msg, exc.hint))).strip()), {}
    answer = info["endpoints"][0] if info["endpoints"] else {}
    status = answer.get("status") or {}
    quorate = bool(answer.get("quorate"))
    return dict(ran=True, healthy=quorate or bool(status.get("has_leader")), quorate=quorate,
                alarms=sorted(set(answer.get("alarms") or []) | set(status.get("alarms") or [])),
                status=status, error=(answer.get("error") or "").strip()), info["versions"]


def observe(module, client, p, exists, text, mode, env):
    data_dir = _strip(env.get("ETCD_DATA_DIR") or p["data_dir"])
    endpoint = (env.get("ETCD_ADVERTISE_CLIENT_URLS") or "http://127.0.0.1:2379").split(",")[0].strip()
    result = dict(env_exists=exists, env=env, env_text=text, env_mode=mode, env_warnings=[], data_dir=data_dir,
                  wal_dir=_strip(env.get("ETCD_WAL_DIR", "")),
                  endpoint=endpoint, unit=unit_state(module, p["unit"]))
    owner, group = owner_of(data_dir)
    points = mount_points()
    result["data"] = dict(exists=os.path.isdir(data_dir), initialised=os.path.isdir(os.path.join(data_dir, "member")),
                          mountpoint=is_mount(data_dir, points), owner=owner, group=group)
    result["conn"] = {option: p.get(option) or "" for option, variable in ENV_TLS}
    result["space"] = [free_space(path) for path in [os.path.dirname(data_dir)] + list(p["space_paths"])]
    result["peer_cert"] = peer_cert(env.get("ETCD_PEER_CERT_FILE", ""))
    result["certificates"] = {path: peer_cert(path) for path in p["certificates"]}
    result["paths"] = {path: path_state(path) for path in p["paths"]}
    result["work_dirs"] = {path: work_dir_problem(path) for path in p["work_dirs"]}
    result["listeners"] = listeners(module, p["ports"])
    result["login_user"] = login_user()
    if p["config"]:
        result["config"] = read_config(env, result["unit"])
    result["wal"] = wal_state(result["wal_dir"], result["unit"], points)
    result["marks"] = marks(data_dir, result["wal_dir"])
    result["kept"] = sorted(path for base in filter(None, (data_dir, result["wal_dir"]))
                            for path in glob.glob(glob.escape(base) + ".2*") if os.path.isdir(path))
    if p["probe"]:
        result["probe"], result["versions"] = probe(client, endpoint)
    else:
        result["probe"] = dict(ran=False, healthy=False, quorate=False, alarms=[], status={}, error="")
        result["versions"] = {}
    if not result["versions"]:
        try:
            result["versions"] = client.versions()
        except EtcdError:  # etcdctl refuses to run without its TLS files: the probe said so already
            result["versions"] = dict(etcdctl=None, etcdutl=None)
    return result


def main():
    spec = etcd_argument_spec(env_file=dict(type="path", required=True),
                              data_dir=dict(type="path", default="/var/lib/etcd"),
                              space_paths=dict(type="list", elements="path", default=[]),
                              probe=dict(type="bool", default=True),
                              unit=dict(type="str", default="etcd.service"),
                              credentials=dict(type="bool", default=False),
                              ports=dict(type="list", elements="int", default=[]),
                              paths=dict(type="list", elements="path", default=[]),
                              certificates=dict(type="list", elements="path", default=[]),
                              config=dict(type="bool", default=False),
                              work_dirs=dict(type="list", elements="path", default=[]))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    try:
        exists, text, mode = read_env(p["env_file"])
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg="Could not read this member's env file %s: %s" % (p["env_file"], exc), commands=[])
    env, env_warnings = read_env_file(module, p["env_file"], text)
    for option, variable in ENV_TLS:
        if not p.get(option) and env.get(variable):
            p[option] = env[variable]
    if not p["credentials"]:
        p["user"] = p["password"] = None  # a login needs quorum: the probe asks without credentials
    client = EtcdClient(module)
    try:
        result = observe(module, client, p, exists, text, mode, env)
        result["env_warnings"] = env_warnings
    except (OSError, EtcdError) as exc:
        module.fail_json(msg="Could not read this member: %s" % exc, commands=client.commands)
    module.exit_json(changed=False, commands=client.commands, **result)


if __name__ == "__main__":
    main()
