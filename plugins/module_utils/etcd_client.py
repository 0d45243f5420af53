# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The one place that knows etcdctl and etcdutl command lines.

Argv is always a list; endpoints, TLS files, credentials and timeouts travel in ETCDCTL_* environment
variables (never as flags: setting an option by both is fatal to etcdctl), so no command this client
records or reports holds a secret. JSON output (-w json) is parsed here and only here.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_version import (
    parse_tool_version,
    snapshot_tool,
    supports_bump_revision,
    version_str,
)

# module option -> etcdctl environment variable
ENV = (
    ("endpoints", "ETCDCTL_ENDPOINTS"),
    ("ca_cert", "ETCDCTL_CACERT"),
    ("client_cert", "ETCDCTL_CERT"),
    ("client_key", "ETCDCTL_KEY"),
    ("user", "ETCDCTL_USER"),
    ("password", "ETCDCTL_PASSWORD"),
    ("dial_timeout", "ETCDCTL_DIAL_TIMEOUT"),
    ("command_timeout", "ETCDCTL_COMMAND_TIMEOUT"),
)
# the options that name a file, checked before etcdctl runs (its own error for a missing one is an opaque
# `open ...: no such file or directory` after the dial timeout)
TLS_FILES = (("ca_cert", "ETCDCTL_CACERT"), ("client_cert", "ETCDCTL_CERT"), ("client_key", "ETCDCTL_KEY"))


def etcd_argument_spec(**options):
    """The connection and tool options every module takes (twin of the connection and tools doc fragments)."""
    spec = dict(
        endpoints=dict(type="list", elements="str", default=["http://127.0.0.1:2379"]),
        ca_cert=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        user=dict(type="str"),
        password=dict(type="str", no_log=True),
        dial_timeout=dict(type="int", default=2),
        command_timeout=dict(type="int", default=5),
        etcdctl_path=dict(type="path"),
        etcdutl_path=dict(type="path"),
    )
    spec.update(options)
    return spec


class EtcdError(Exception):
    """A failed etcdctl/etcdutl call, or a state the caller cannot act on. `hint` says what to do."""

    def __init__(self, msg, cmd=None, rc=None, stdout="", stderr="", hint=""):
        super().__init__(msg)
        self.msg, self.cmd, self.rc, self.stdout, self.stderr, self.hint = msg, cmd, rc, stdout, stderr, hint

    def result(self):
        """Keyword arguments for fail_json."""
        msg = self.msg + (" " + self.hint if self.hint else "")
        out = dict(msg=msg)
        if self.cmd is not None:
            out.update(cmd=self.cmd, rc=self.rc, stdout=self.stdout, stderr=self.stderr)
        return out


def id_hex(member_id):
    """etcd prints member IDs as decimal uint64 in JSON; member remove/promote want hex."""
    return format(int(member_id), "x")


def normalize_member(raw):
    """One member of `member list -w json`; absent fields (omitempty) become empty/false."""
    return dict(
        id=int(raw["ID"]),
        id_hex=id_hex(raw["ID"]),
        name=raw.get("name", ""),
        peer_urls=list(raw.get("peerURLs") or []),
        client_urls=list(raw.get("clientURLs") or []),
        is_learner=bool(raw.get("isLearner", False)),
        started=bool(raw.get("name")),
    )


def normalize_status(raw):
    """One entry of `endpoint status -w json`."""
    status = raw.get("Status") or {}
    header = status.get("header") or {}
    return dict(
        endpoint=raw.get("Endpoint", ""),
        member_id=int(header.get("member_id", 0)),
        member_id_hex=id_hex(header.get("member_id", 0)),
        cluster_id=int(header.get("cluster_id", 0)),
        revision=int(header.get("revision", 0)),
        raft_term=int(status.get("raftTerm", header.get("raft_term", 0))),
        raft_index=int(status.get("raftIndex", 0)),
        raft_applied_index=int(status.get("raftAppliedIndex", 0)),
        leader=int(status.get("leader", 0)),
        leader_hex=id_hex(status.get("leader", 0)),
        is_leader=bool(status.get("leader")) and status.get("leader") == header.get("member_id"),
        is_learner=bool(status.get("isLearner", False)),
        version=status.get("version", ""),
        db_size=int(status.get("dbSize", 0)),
        db_size_in_use=int(status.get("dbSizeInUse", 0)),
        errors=list(status.get("errors") or []),
        alarms=status_alarms(status.get("errors")),
        # a leader, and no error but alarms (a member without quorum says "etcdserver: no leader")
        has_leader=bool(status.get("leader")) and all(_STATUS_ALARM.search(e) for e in status.get("errors") or ()),
    )


# the cause of a failed dial in the client's JSON log on stderr: 3.5 "last connection error: ...",
# 3.4 "latest connection error: ..." (a TLS handshake failure, a refused connection)
_DIAL_ERROR = re.compile(r'(?:last|latest) connection error: (?:connection error: desc = )?"?([^"]+)"?')


def dial_errors(stderr):
    """{host:port: why the last dial failed} from etcdctl's warnings (a timeout's only trace of its cause)."""
    causes = {}
    for line in (stderr or "").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        match = _DIAL_ERROR.search(str(entry.get("error", "")))
        if match and entry.get("target"):
            causes[str(entry["target"]).rsplit("/", 1)[-1]] = match.group(1).strip()
    return causes


def with_dial_error(error, endpoint, causes):
    """`error`, followed by the dial's cause when etcdctl reported one for this endpoint."""
    cause = causes.get(endpoint.split("://", 1)[-1].rstrip("/"))
    return "%s (%s)" % (error, cause) if cause and cause not in error else error


# What to do about an error etcd or the TLS layer gave: the one place that holds these fixes (the modules add them
# to their failures, the roles' refusals through the etcd_ops.etcd.fix_hints filter). Order matters: the first
# match wins. With etcd auth on, 3.4 and 3.5 answer "user name is empty" without credentials, "authentication
# failed, invalid user ID or password" for wrong ones, and "permission denied" to a user without the role a
# request needs (snapshots and membership changes need the root role). With client certificate auth and no
# password, the user is the certificate's CN: "auth: user not found" (snapshot) or "etcdserver: user name not
# found" (other requests) when etcd has no such user.
FIX_HINTS = (
    (re.compile(r"x509|certificate|tls:|TLS handshake"),
     "the client's TLS files do not match the cluster's: point etcd_ca_cert (and etcd_client_cert, "
     "etcd_client_key) at the CA that signed the members' certificates and a certificate it signed, or leave "
     "them empty to use the env file's ETCD_TRUSTED_CA_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE."),
    (re.compile(r"user name is empty"),
     "etcd authentication is on: set etcd_user and etcd_password (vault the password) to a user with the root "
     "role."),
    # with client certificate auth and no password, etcd takes the user name from the certificate's CN
    (re.compile(r"user (?:name )?not found"),
     "etcd authentication is on and took the user from the client certificate's common name (CN), which is no "
     "etcd user: set etcd_user and etcd_password (vault the password) to a user with the root role, or add a "
     "user named as the certificate's CN and grant it the root role."),
    (re.compile(r"authentication failed|invalid user ID or password"),
     "etcd refused etcd_user/etcd_password: check them (users live in etcd's data, so a cluster restored from "
     "a snapshot has the snapshot's users and passwords)."),
    (re.compile(r"(?:etcdserver|auth): permission denied"),
     "etcd_user lacks the root role, which snapshots and membership changes need: use root, or grant it with "
     "`etcdctl user grant-role USER root`."),
)


def fix_hint(error):
    """The fix for a TLS or etcd auth error (empty for any other)."""
    for pattern, hint in FIX_HINTS:
        if pattern.search(error or ""):
            return hint
    return ""


def fix_hints(errors):
    """The fixes for several errors (a text or a list of texts), each once, in order (empty for none)."""
    if isinstance(errors, str):
        errors = [errors]
    hints = []
    for error in errors or []:
        hint = fix_hint(error if isinstance(error, str) else "")
        if hint and hint not in hints:
            hints.append(hint)
    return hints


def fix_text(error):
    """fix_hint as the hint of an EtcdError: "Fix: ..." for a TLS or etcd auth error, else empty."""
    hint = fix_hint(error)
    return "Fix: " + hint if hint else ""


# etcdctl's `endpoint health` reads a key first (a linearizable read: it needs quorum) and lists the cluster's
# alarms only when that read succeeded; with an alarm raised it calls the endpoint unhealthy, with this error.
HEALTH_ALARMS = "Active Alarm(s):"
_STATUS_ALARM = re.compile(r"\balarm:([A-Z_]+)")


def health_alarms(error):
    """The alarms named in an endpoint health error ("Active Alarm(s): NOSPACE "), sorted; [] for any other."""
    if not (error or "").startswith(HEALTH_ALARMS):
        return []
    return sorted(set(error[len(HEALTH_ALARMS):].split()))


def status_alarms(errors):
    """The alarms among `endpoint status` errors ("memberID:123 alarm:NOSPACE "), sorted."""
    return sorted({m.group(1) for e in errors or () for m in _STATUS_ALARM.finditer(e)})


def unhealthy(endpoint, error, hint=""):
    """The health entry of an endpoint that did not answer the health read."""
    return dict(endpoint=endpoint, health=False, took="", error=error, hint=hint, alarms=[], quorate=False)


def normalize_health(raw):
    """One entry of `endpoint health -w json`, plus `alarms` and `quorate`.

    `quorate`: the member served a linearizable read, so it is part of a cluster that has quorum and a leader,
    whatever alarms are raised (a NOSPACE cluster is not a lost one: etcd still serves reads, snapshots,
    compaction, defrag and `alarm disarm` there).
    """
    error = raw.get("error", "")
    alarms = health_alarms(error)
    health = bool(raw.get("health"))
    return dict(endpoint=raw.get("endpoint", ""), health=health, took=raw.get("took", ""),
                error=error, hint="", alarms=alarms, quorate=health or bool(alarms))


def normalize_snapshot_status(raw):
    """`snapshot status -w json`: 3.4/3.5 {hash, revision, totalKey, totalSize}; 3.6 adds version."""
    return dict(hash=int(raw.get("hash", 0)), revision=int(raw.get("revision", 0)),
                total_keys=int(raw.get("totalKey", 0)), total_size=int(raw.get("totalSize", 0)),
                storage_version=raw.get("version", ""))


def parse_json(text, what):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EtcdError("%s: the output is not JSON (%s)" % (what, exc), stdout=text) from exc


class EtcdClient:
    """etcdctl/etcdutl for one module run. `commands` lists every command run, free of secrets."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.commands = []
        self.env = {}
        for option, variable in ENV:
            value = params.get(option)
            if value in (None, "", []):
                continue
            if option == "endpoints":
                value = ",".join(value)
            elif option.endswith("_timeout"):
                value = "%ss" % value
            self.env[variable] = str(value)
        self._paths = {"etcdctl": params.get("etcdctl_path"), "etcdutl": params.get("etcdutl_path")}
        self._versions = {}

    # -- running -------------------------------------------------------------------------------
    def binary(self, tool, required=True):
        path = self._paths.get(tool)
        if not path:
            path = self.module.get_bin_path(tool, required=False)
            self._paths[tool] = path
        if not path and required:
            package = "etcd-client" if tool == "etcdctl" else "etcd-server (Debian ships etcdutl there)"
            raise EtcdError("%s is not installed on this host." % tool,
                            hint="Install %s or set %s_path." % (package, tool))
        return path

    def run(self, tool, args, endpoints=None, command_timeout=None, check=True, data=None, anonymous=False):
        """Run a tool; returns (rc, stdout, stderr). With check, a non-zero rc raises EtcdError. `data` goes to
        its stdin (a password for `--interactive=false`); `anonymous` leaves out the etcd user and password."""
        argv = [self.binary(tool)] + list(args)
        env = {}
        if tool == "etcdctl":  # etcdutl reads no environment variables
            self.check_tls_files()
            env = dict(self.env)
            if anonymous:
                env.pop("ETCDCTL_USER", None)
                env.pop("ETCDCTL_PASSWORD", None)
            if endpoints is not None:
                env["ETCDCTL_ENDPOINTS"] = ",".join(endpoints) if isinstance(endpoints, list) else endpoints
            if command_timeout is not None:
                env["ETCDCTL_COMMAND_TIMEOUT"] = "%ss" % command_timeout
        cmd = shlex.join(argv)
        self.commands.append(cmd)
        if data is None:
            rc, out, err = self.module.run_command(argv, environ_update=env)
        else:
            rc, out, err = self.module.run_command(argv, environ_update=env, data=data)
        if rc != 0 and check:
            raise EtcdError("%s failed (rc=%s): %s" % (cmd, rc, (err or out).strip()), cmd=cmd, rc=rc,
                            stdout=out, stderr=err, hint=fix_text(err))
        return rc, out, err

    def check_tls_files(self):
        """A TLS file that is missing or unreadable is named, with the fix, before etcdctl runs."""
        for option, variable in TLS_FILES:
            path = self.env.get(variable)
            if path and not os.access(path, os.R_OK):
                cause = "does not exist" if not os.path.exists(path) else "cannot be read by this user"
                raise EtcdError("%s %s %s on this host." % (option, path, cause),
                                hint="Fix: give the path of the file on the member (the roles read etcd_%s from the "
                                     "inventory, else the env file's %s)." % (
                                         option, {"ca_cert": "ETCD_TRUSTED_CA_FILE", "client_cert": "ETCD_CERT_FILE",
                                                  "client_key": "ETCD_KEY_FILE"}[option]))

    def run_json(self, tool, args, **kwargs):
        rc, out, err = self.run(tool, list(args) + ["-w", "json"], **kwargs)
        return parse_json(out, shlex.join([tool] + list(args)))

    # -- versions ------------------------------------------------------------------------------
    def tool_version(self, tool):
        """(major, minor, patch) of an installed tool, asked once; None when it is not installed."""
        if tool not in self._versions:
            version = None
            if self.binary(tool, required=False):
                rc, out, err = self.run(tool, ["version"], check=False)
                version = parse_tool_version(out) if rc == 0 else None
            self._versions[tool] = version
        return self._versions[tool]

    def snapshot_tool(self):
        """'etcdctl' or 'etcdutl': the tool that reads and restores snapshot files on this host."""
        have_etcdutl = self.tool_version("etcdutl") is not None
        ctl = self.tool_version("etcdctl")
        try:
            return snapshot_tool(ctl, have_etcdutl)
        except ValueError as exc:
            raise EtcdError(str(exc)) from exc

    def restore_supports_bump_revision(self):
        return supports_bump_revision(self.tool_version(self.snapshot_tool()))

    def versions(self):
        return {tool: version_str(self.tool_version(tool)) if self.tool_version(tool) else None
                for tool in ("etcdctl", "etcdutl")}

    # -- cluster -------------------------------------------------------------------------------
    def member_list(self, endpoints=None):
        refused = self.refused_endpoints(endpoints) if endpoints else {}
        if endpoints and len(refused) == len(endpoints):
            raise EtcdError("etcdctl member list not run: no endpoint accepts a connection (%s)" % "; ".join(
                "%s: %s" % item for item in refused.items()), stderr="\n".join(refused.values()))
        data = self.run_json("etcdctl", ["member", "list"], endpoints=endpoints)
        header = data.get("header") or {}
        return dict(cluster_id=int(header.get("cluster_id", 0)),
                    members=[normalize_member(m) for m in data.get("members") or []])

    def refused_endpoints(self, endpoints, timeout=0.5):
        """{endpoint: why} for the endpoints whose TCP connection fails at once: nothing listens on the port
        (connection refused) or the host is gone (no route). etcdctl would wait out its whole timeout on each
        (one after another for `endpoint status`); a member that is down must not cost every probe seconds.
        Endpoints that accept the connection, or do not answer within `timeout`, are left to etcdctl."""
        def probe(endpoint):
            url = urlsplit(endpoint)
            if url.scheme not in ("http", "https") or not url.hostname:
                return endpoint, None
            port = url.port or 2379
            try:
                socket.create_connection((url.hostname, port), timeout=timeout).close()
            except OSError as exc:
                if exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
                    return endpoint, "dial tcp %s:%s: connect: %s" % (url.hostname, port,
                                                                      os.strerror(exc.errno).lower())
            return endpoint, None

        with ThreadPoolExecutor(max_workers=max(1, min(len(endpoints), 8))) as pool:
            return {endpoint: why for endpoint, why in pool.map(probe, endpoints) if why}

    def endpoint_status(self, endpoints):
        """Status of each endpoint; an endpoint that does not answer is left out (etcdctl exits 1)."""
        refused = self.refused_endpoints(endpoints)
        ask = [e for e in endpoints if e not in refused]
        notes = ["%s: %s" % item for item in refused.items()]
        if not ask:
            return [], "\n".join(notes)
        rc, out, err = self.run("etcdctl", ["endpoint", "status", "-w", "json"], endpoints=ask, check=False)
        data = parse_json(out, "etcdctl endpoint status") if out.strip() else []
        return [normalize_status(s) for s in data or []], "\n".join(notes + [err.strip()]).strip()

    def endpoint_health(self, endpoints):
        """Health of each endpoint, answering or not (etcdctl exits 1 when one is unhealthy), in their order."""
        refused = self.refused_endpoints(endpoints)
        ask = [e for e in endpoints if e not in refused]
        healths = {e: unhealthy(e, why) for e, why in refused.items()}
        if ask:
            for health in self._endpoint_health(ask):
                healths[health["endpoint"]] = health
        return [healths.pop(e) for e in endpoints if e in healths] + list(healths.values())

    def _endpoint_health(self, endpoints):
        rc, out, err = self.run("etcdctl", ["endpoint", "health", "-w", "json"], endpoints=endpoints, check=False)
        if not out.strip():
            return [unhealthy(e, err.strip(), fix_hint(err)) for e in endpoints]
        causes = dial_errors(err)
        healths = [normalize_health(h) for h in parse_json(out, "etcdctl endpoint health")]
        for health in healths:
            if health["error"]:
                health["error"] = with_dial_error(health["error"], health["endpoint"], causes)
                if health["error"] == "context deadline exceeded":  # etcdctl 3.4 logs no cause
                    health["error"] = with_dial_error(health["error"], health["endpoint"],
                                                      self.tls_handshake_errors([health["endpoint"]]))
            health["hint"] = fix_hint(health["error"])
        return healths

    def tls_handshake_errors(self, endpoints, timeout=1.0):
        """{host:port: why a TLS handshake with these CA and client files fails} for https endpoints that refuse
        it; endpoints that complete it, or do not answer at all, are left out."""
        causes = {}
        for endpoint in endpoints:
            url = urlsplit(endpoint)
            if url.scheme != "https" or not url.hostname:
                continue
            try:
                context = ssl.create_default_context(cafile=self.env.get("ETCDCTL_CACERT") or None)
                # accept what etcd (Go) accepts: Python 3.13 turns on strict X.509 checks by default, which refuse
                # a CA without keyUsage or a certificate without key identifiers (openssl req -x509 makes both)
                context.verify_flags &= ~ssl.VERIFY_X509_STRICT
                if self.env.get("ETCDCTL_CERT"):
                    context.load_cert_chain(self.env["ETCDCTL_CERT"], self.env.get("ETCDCTL_KEY") or None)
                with socket.create_connection((url.hostname, url.port or 2379), timeout=timeout) as sock:
                    with context.wrap_socket(sock, server_hostname=url.hostname) as tls:
                        tls.settimeout(0.5)
                        try:
                            tls.recv(1)  # a server that rejects the client certificate says so after the handshake
                        except socket.timeout:  # noqa: UP041 (TimeoutError only from Python 3.10 on)
                            pass
            except ssl.SSLCertVerificationError as exc:
                causes[url.netloc] = "TLS handshake failed: %s" % (exc.verify_message or exc.reason)
            except ssl.SSLError as exc:
                causes[url.netloc] = "TLS handshake failed: %s" % (exc.reason or exc)
            except (OSError, ValueError):
                continue
        return causes

    def key_count(self, endpoints=None, revision=0):
        """How many keys the cluster holds (at `revision`; 0 is the current one).

        A range reply's `count` is every key in the range whatever its limit, so one key comes back, not all of
        them (etcdctl 3.4 has no --count-only). The read is serializable: the member answers from its own state,
        which at a revision it has applied is every member's, and it needs no quorum.
        """
        args = ["get", "", "--from-key", "--keys-only", "--limit=1", "--consistency=s"]
        if revision:
            args.append("--rev=%d" % revision)
        data = self.run_json("etcdctl", args, endpoints=endpoints)
        # omitempty: a count of 0 is absent
        return int(data.get("count", 0))

    def hash_kv(self, endpoints, revision=0):
        """etcd's own hash of its keys and their history (HashKV) at `revision` (0: the current one), from the first
        endpoint: dict(hash, compact_revision, revision). Two members, or a member and a restore of its snapshot,
        that hold the same history up to `revision` and compacted at the same revision give the same hash. With
        etcd auth on it needs the root role."""
        data = self.run_json("etcdctl", ["endpoint", "hashkv"] + (["--rev=%d" % revision] if revision else []),
                             endpoints=endpoints)
        answer = (data or [{}])[0].get("HashKV") or {}
        # omitempty: a hash or compact revision of 0 is absent
        return dict(hash=int(answer.get("hash", 0)), compact_revision=int(answer.get("compact_revision", 0)),
                    revision=int((answer.get("header") or {}).get("revision", 0)))

    def compact(self, revision, endpoints=None):
        """Compact the history up to `revision` and wait until the member has removed it (--physical)."""
        self.run("etcdctl", ["compact", str(int(revision)), "--physical"], endpoints=endpoints)

    def member_add(self, name, peer_urls, learner=False):
        args = ["member", "add", name, "--peer-urls=" + ",".join(peer_urls)]
        if learner:
            args.append("--learner")
        data = self.run_json("etcdctl", args)
        return normalize_member(data["member"]), [normalize_member(m) for m in data.get("members") or []]

    def member_remove(self, member_id):
        self.run("etcdctl", ["member", "remove", id_hex(member_id)])

    def member_promote(self, member_id, check=True, endpoints=None):
        return self.run("etcdctl", ["member", "promote", id_hex(member_id)], endpoints=endpoints, check=check)

    # -- etcd authentication ---------------------------------------------------------------------
    def auth_enabled(self):
        """Whether etcd auth is on: a user list without credentials works only while it is off (with it on:
        "user name is empty", or, with client certificate auth, "user name not found" for a certificate CN that
        is no etcd user, or "permission denied"). Returns (enabled, users); users only while auth is off."""
        rc, out, err = self.run("etcdctl", ["user", "list", "-w", "json"], check=False, anonymous=True)
        if rc == 0:
            return False, list(parse_json(out, "etcdctl user list").get("users") or [])
        if re.search(r"user name is empty|user (?:name )?not found|permission denied", err):
            return True, []
        raise EtcdError("etcdctl user list failed (rc=%s): %s" % (rc, err.strip()), cmd=self.commands[-1], rc=rc,
                        stdout=out, stderr=err, hint=fix_text(err))

    def user_set_password(self, name, password, create=False):
        """Create the user (create) or set its password, as no one (auth is off): the password goes to etcdctl's
        stdin (`--interactive=false` reads it there), never its argv."""
        self.run("etcdctl", ["user", "add" if create else "passwd", name, "--interactive=false"], data=password,
                 anonymous=True)

    def user_grant_role(self, name, role):
        self.run("etcdctl", ["user", "grant-role", name, role], anonymous=True)

    def auth_enable(self):
        self.run("etcdctl", ["auth", "enable"], anonymous=True)

    def auth_disable(self):
        """As the configured user: with auth on, only root may turn it off."""
        self.run("etcdctl", ["auth", "disable"])

    def user_roles(self, name, anonymous=False):
        """The roles of an etcd user."""
        data = self.run_json("etcdctl", ["user", "get", name], anonymous=anonymous)
        return list(data.get("roles") or [])

    def leader_endpoint(self):
        """The leader's first client URL, as the configured endpoints see it; None when it is not known (the
        caller then uses the configured endpoints)."""
        statuses, _err = self.endpoint_status(self.env.get("ETCDCTL_ENDPOINTS", "").split(","))
        leader = next((s["leader"] for s in statuses if s["leader"]), 0)
        if not leader:
            return None
        try:
            members = self.member_list()["members"]
        except EtcdError:
            return None
        urls = next((m["client_urls"] for m in members if m["id"] == leader), [])
        return urls[0] if urls else None

    # -- snapshots -----------------------------------------------------------------------------
    def snapshot_save(self, path, endpoint, timeout):
        """Save a snapshot from exactly one endpoint (etcd refuses several)."""
        self.run("etcdctl", ["snapshot", "save", path], endpoints=[endpoint], command_timeout=timeout)

    def snapshot_status(self, path):
        tool = self.snapshot_tool()
        return normalize_snapshot_status(self.run_json(tool, ["snapshot", "status", path]))

    def snapshot_restore(self, path, data_dir, name, initial_cluster, peer_urls, token,
                         wal_dir=None, skip_hash_check=False, bump_revision=0):
        tool = self.snapshot_tool()
        args = ["snapshot", "restore", path, "--data-dir=" + data_dir, "--name=" + name,
                "--initial-cluster=" + initial_cluster,
                "--initial-advertise-peer-urls=" + ",".join(peer_urls),
                "--initial-cluster-token=" + token]
        if wal_dir:
            args.append("--wal-dir=" + wal_dir)
        if skip_hash_check:
            args.append("--skip-hash-check")
        if bump_revision:
            if not supports_bump_revision(self.tool_version(tool)):
                raise EtcdError(
                    "%s %s cannot bump the revision on restore." % (tool, version_str(self.tool_version(tool))),
                    hint="--bump-revision/--mark-compacted need etcd 3.4.27+, 3.5.10+ or 3.6; "
                         "restore without bump_revision.")
            args += ["--bump-revision=%d" % bump_revision, "--mark-compacted"]
        return self.run(tool, args)
