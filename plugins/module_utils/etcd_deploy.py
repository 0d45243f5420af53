# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""deploy.yml's decisions, from one read of each member (etcd_node_info) and the play's settings. Pure: the filter
deploy_plan reads the controller's TLS files and passes their text in; nothing here does I/O."""

from __future__ import annotations

import re

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import cluster_name, deploy_identity
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_tls_files import tls_file_problems

UNCHANGED = "Nothing was changed on any member."
ENV_VARIABLE = dict(name="ETCD_NAME", data_dir="ETCD_DATA_DIR", token="ETCD_INITIAL_CLUSTER_TOKEN",
                    wal_dir="ETCD_WAL_DIR")
_ENV_NAME = re.compile(r"^ETCD_[A-Z0-9_]+$")
# Ansible's prefix on a task's failure message (2.19), which the refusals leave out
_TASK_FAILED = re.compile(r"^Task failed: ")


def _msg(result):
    return _TASK_FAILED.sub("", str((result or {}).get("msg") or "")).strip()


def settings_refusals(settings):
    """What the play's settings alone refuse: etcd auth without a usable root password, and etcd_extra_env that
    names a setting deploy writes itself or no ETCD_* name. settings: auth dict(enabled, user, password),
    extra_env_keys, managed_env."""
    refusals = []
    auth = settings.get("auth") or {}
    if auth.get("enabled"):
        user, password = auth.get("user") or "", auth.get("password") or ""
        why = ""
        if user not in ("", "root"):
            why = "etcd_user is %s, not root" % user
        elif not password:
            why = "etcd_password is empty"
        elif re.search(r"\s", password):
            why = "etcd_password holds a blank, and etcdctl reads a password up to the first blank"
        if why:
            refusals.append(
                "etcd_deploy_auth=true turns etcd authentication on with the user root, which needs a password: %s. "
                "%s Fix: set etcd_password (no blanks) in a vaulted vars file, and etcd_user to root or leave it "
                "empty." % (why, UNCHANGED))
    keys = list(settings.get("extra_env_keys") or [])
    managed = list(settings.get("managed_env") or [])
    if any(not _ENV_NAME.match(k) or k in managed for k in keys):
        refusals.append("etcd_extra_env may only add ETCD_* settings that deploy does not write itself; got %s. Fix: "
                        "use the role variables for %s and ETCD_UPPER_CASE names for the rest."
                        % (", ".join(keys), ", ".join(managed)))
    return refusals


def reach_refusals(seen):
    """Members that could not be read: unreachable over SSH (one refusal naming all), then members where become
    failed or the read itself failed (one refusal each). seen: as for deploy_plan."""
    unreachable = [m for m in seen if (m.get("node") or {}).get("unreachable")]
    if unreachable:
        lines = ["%s (%s) is unreachable: %s" % (m["host"], m.get("ansible_host") or m["host"], _msg(m["node"]))
                 for m in unreachable]
        return ["\n".join(lines)
                + "\n%s Fix: check the host's address (ansible_host), the SSH user (ansible_user) and key, and that "
                  "sshd runs there; a member lost for good is replaced with replace_member.yml." % UNCHANGED]
    refusals = []
    for m in seen:
        node = m.get("node") or {}
        if not node.get("failed"):
            continue
        user = m.get("user") or ""
        # a module that ran and failed (or crashed) reports its arguments or its output; a failed become does not
        if "invocation" in node or "module_stderr" in node or "module_stdout" in node:
            refusals.append("%s: the member could not be read: %s. %s Fix: the cause above, then run deploy again."
                            % (m["host"], _msg(node) or "failed", UNCHANGED))
        else:
            refusals.append("%s: %s cannot become root with %s: %s. %s Fix: give %s sudo rights on the host "
                            "(passwordless, or run ansible-playbook with --ask-become-pass)."
                            % (m["host"], user or "the SSH user", m.get("become_method") or "sudo", _msg(node),
                               UNCHANGED, user or "that user"))
    return refusals


def _host_refusals(m, facts):
    """The operating system and the address: whether deploy can run on this host at all."""
    out = []
    host = m["host"]
    if facts.get("os_family") != "Debian" or facts.get("service_mgr") != "systemd":
        out.append("%s runs %s with %s; deploy supports Debian-family hosts under systemd. Fix: deploy etcd there by "
                   "other means and use the collection's other operations."
                   % (host, facts.get("distribution") or "an unknown OS",
                      facts.get("service_mgr") or "an unknown service manager"))
    addresses = list(facts.get("addresses") or [])
    address = m.get("address") or ""
    if not address or address not in addresses:
        out.append("%s: etcd_address '%s' is not an address of this host (it has %s). %s Fix: set etcd_address for %s "
                   "in the inventory to the address the other members reach it by."
                   % (host, address, ", ".join(addresses), UNCHANGED, host))
    return out


def _identity_refusal(m, identity, active, env_file):
    refusals = identity["refusals"]
    if not refusals:
        return ""
    said = "; ".join("%s=%s in %s, but %s is %s" % (ENV_VARIABLE[r[0]], r[3], env_file, r[1], r[2]) for r in refusals)
    return ("%s %s with %s. Deploy does not move a member's data, rename it or change its token: with the new value "
            "etcd would start an empty cluster, or ignore it. %s Fix: leave %s unset for %s (the env file's values "
            "are kept), or set %s to the env file's."
            % (m["host"], "runs etcd" if active else "holds etcd data", said, UNCHANGED,
               ", ".join(r[1] for r in refusals), m["host"], "it" if len(refusals) == 1 else "them"))


def _squatters(m, node, ports, active):
    # ss names the process only where root may look into other users' processes (CAP_SYS_PTRACE); where it
    # cannot, a socket of unknown owner on an etcd port counts as etcd's while etcd.service is active.
    ours = ("etcd", "") if active else ("etcd",)
    taken = [s for s in node.get("listeners") or [] if s.get("port") in ports and s.get("process") not in ours]
    if not taken:
        return ""
    return ("%s: %s. %s Fix: stop that program, or move etcd to free ports with etcd_client_port / etcd_peer_port."
            % (m["host"], "; ".join("port %s on %s is taken by %s" % (
                s["port"], s["address"], "%s (pid %s)" % (s["process"], s["pid"]) if s["process"]
                else "a process ss cannot name") for s in taken), UNCHANGED))


def _unit_refusal(m, node, link):
    state = (node.get("paths") or {}).get(link) or {}
    if not state.get("exists") or (state.get("islnk") and state.get("resolved") == m.get("unit_file")):
        return ""
    return ("%s: %s exists and is not a link to %s, so another etcd.service is installed there. %s Fix: if that is "
            "the unit of this member, set etcd_unit_file to the file it points to; otherwise move it away and run "
            "deploy again." % (m["host"], link, m.get("unit_file"), UNCHANGED))


def _scheme_refusal(m, env, initialized, tls):
    urls = env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS", "")
    old = urls.split("://")[0] if "://" in urls else ""
    scheme = "https" if tls else "http"
    if not initialized or old in ("", scheme):
        return ""
    return ("%s already runs a member with %s peer URLs (%s); etcd_deploy_tls=%s would make them %s. The membership "
            "keeps the old URLs, so the members would stop reaching each other. %s Fix: deploy with "
            "etcd_deploy_tls=%s; moving a running cluster to TLS takes a `member update` of every member's peer URLs "
            "with a restart of each, which deploy does not do." % (m["host"], old, urls, tls, scheme, UNCHANGED,
                                                                   old == "https"))


def tls_need(address):
    """The names a member's certificate must carry: its address (IP: or DNS:) and 127.0.0.1."""
    ip = bool(re.match(r"^[0-9.]+$", address)) or ":" in address
    need = [("IP:" if ip else "DNS:") + address, "IP:127.0.0.1"]
    return sorted(set(need), key=need.index)


def _given_tls_refusals(m, tls, now, read):
    """The user's own TLS files (etcd_deploy_tls_*_src): given without etcd_deploy_tls, only some of them, or ones
    that do not fit the member (read on the controller)."""
    given = m.get("tls") or {}
    raw = given.get("raw") or {}
    if not any(raw.get(k) for k in ("ca_src", "cert_src", "key_src")):
        return []
    host = m["host"]
    if not tls:
        return ["%s: etcd_deploy_tls_ca_src, etcd_deploy_tls_cert_src or etcd_deploy_tls_key_src is set, but "
                "etcd_deploy_tls is false, so they would not be used. %s Fix: add -e etcd_deploy_tls=true, or drop "
                "the TLS files." % (host, UNCHANGED)]
    if not all(raw.get(k) for k in ("ca_src", "cert_src", "key_src")):
        return ["%s: etcd_deploy_tls_ca_src, etcd_deploy_tls_cert_src and etcd_deploy_tls_key_src go together (given: "
                "%s). %s Fix: give all three (the CA certificate, and this member's certificate and key, on the "
                "controller), or none to have deploy make them."
                % (host, ", ".join(k for k in ("ca_src", "cert_src", "key_src") if raw.get(k)), UNCHANGED)]
    src = given.get("src") or {}
    need = tls_need(m.get("address") or "")
    problems = tls_file_problems(read(src.get("ca") or ""), read(src.get("cert") or ""), read(src.get("key") or ""),
                                 need, now)
    if not problems:
        return []
    return ["%s: %s. %s Fix: give this member a key and a certificate of the cluster's CA that names %s and allows "
            "serverAuth and clientAuth (etcd_deploy_tls_cert_src, etcd_deploy_tls_key_src, etcd_deploy_tls_ca_src), "
            "or none of the three to have deploy make them." % (host, "; ".join(problems), UNCHANGED,
                                                                " and ".join(need))]


def _ca_refusal(m, node, ca_src, controller, pki_name):
    """A member trusts one CA: the CA file it has must be the controller's (the PKI dir lost, or another named)."""
    given = m.get("tls") or {}
    member_ca = given.get("member_ca") or ""
    have = ((node.get("certificates") or {}).get(member_ca) or {}).get("pem") or ""
    exists = not controller.get("error")
    text = controller.get("text") or ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not have or (exists and have.strip() == text.strip()):
        return ""
    if any((given.get("raw") or {}).values()):
        fix = ("give etcd_deploy_tls_ca_src the CA this cluster's members trust (the file %s on the members), and "
               "certificates it issued." % member_ca)
    else:
        fix = ("set etcd_deploy_pki_dir to the controller's dir that made this cluster's certificates (deploy keeps "
               "them under <dir>/%s)." % pki_name)
    return ("%s trusts the CA at %s, but the controller's %s %s. A certificate of another CA would cut the member off "
            "from the others. %s Fix: %s" % (m["host"], member_ca, ca_src,
                                             "is another CA" if exists else "does not exist", UNCHANGED, fix))


def _no_file(path):
    return dict(path=path, text="", error="not read")


def deploy_plan(seen, settings, read=None):
    """What deploy does on each member, and every refusal, from one read of each.

    seen: the play's members of group etcd in inventory order, each a dict: host, ansible_host, user, become_method;
      node (what etcd_node_info registered there, an unreachable or failed result too); facts (os_family,
      service_mgr, distribution, addresses: the gathered facts, {} where none were gathered); address, peer_url,
      client_url (as the role renders them for that host); unit_file; given (name, data_dir, token, wal_dir: what
      the inventory or -e set, None where left to the role) and defaults (name, data_dir, token); tls: raw (ca_src,
      cert_src, key_src as given), src (ca, cert, key: those paths resolved on the controller), member_ca (the CA
      file's path on the member).
    settings: env_file, tls (etcd_deploy_tls), ports (client and peer), unit_link, pki_dir (the controller's dir of
      the clusters' CAs: <pki_dir>/<cluster name>/ca.crt where no CA is given), auth, extra_env_keys, managed_env
      (settings_refusals), now (an aware datetime to judge certificates by; default: now).
    read: the controller's files, read(path) -> dict(path, text, error); the filter passes one that opens them.
    Returns dict(refusals, hosts, initial_cluster, held, running_elsewhere). hosts[h]: name, data_dir, token, wal_dir,
    keep (the env file's identity is kept), initialized (the member holds data, or keeps its env file's identity),
    same_bootstrap (its env file bootstrapped this initial cluster with this token), active (etcd.service runs),
    unit_linked (the unit name exists: our link), ca_src and controller_ca (the controller's CA file, and whether
    it exists: with etcd_deploy_tls). held: the members without data beside members that run a cluster
    bootstrapped differently (they are installed, not started); running_elsewhere: those members.
    """
    settings = dict(settings or {})
    read = read or _no_file
    refusals = settings_refusals(settings)
    reach = reach_refusals(seen)
    if reach:
        return dict(refusals=refusals + reach, hosts={}, initial_cluster="", held=[], running_elsewhere=[])
    env_file = settings.get("env_file") or "the env file"
    tls = bool(settings.get("tls"))
    ports = [int(p) for p in settings.get("ports") or []]
    link = settings.get("unit_link") or ""
    hosts, late = {}, []
    for m in seen:
        node = m.get("node") or {}
        env = node.get("env") or {}
        active = (node.get("unit") or {}).get("active_state") == "active"
        refusals += _host_refusals(m, m.get("facts") or {})
        holds_data = bool((node.get("data") or {}).get("initialised"))
        identity = deploy_identity(env, holds_data, active and bool(node.get("env_exists")), m.get("given") or {},
                                   m.get("defaults") or {})
        refusal = _identity_refusal(m, identity, active, env_file)
        if refusal:
            refusals.append(refusal)
        hosts[m["host"]] = dict(
            name=identity["name"], data_dir=identity["data_dir"], token=identity["token"],
            wal_dir=identity["wal_dir"], keep=identity["keep"], active=active,
            initialized=holds_data or identity["keep"],
            unit_linked=bool(((node.get("paths") or {}).get(link) or {}).get("exists")))
        late += [r for r in (_squatters(m, node, ports, active), _unit_refusal(m, node, link)) if r]
    names = [hosts[m["host"]]["name"] for m in seen]
    addresses = [m.get("address") or "" for m in seen]
    if len(set(names)) != len(names) or len(set(addresses)) != len(addresses):
        refusals.append("Two members share a name or an address (names: %s; addresses: %s). %s Fix: give each host "
                        "of group etcd its own etcd_name and etcd_address."
                        % (", ".join(names), ", ".join(addresses), UNCHANGED))
    refusals += late
    initial_cluster = ",".join("%s=%s" % (hosts[m["host"]]["name"], m.get("peer_url") or "") for m in seen)
    for m in seen:
        env = (m.get("node") or {}).get("env") or {}
        me = hosts[m["host"]]
        me["same_bootstrap"] = (env.get("ETCD_INITIAL_CLUSTER") == initial_cluster
                                and env.get("ETCD_INITIAL_CLUSTER_TOKEN") == me["token"]
                                and env.get("ETCD_INITIAL_CLUSTER_STATE", "new") == "new")
        refusal = _scheme_refusal(m, env, me["initialized"], tls)
        if refusal:
            refusals.append(refusal)
    # A member without data beside members that run a cluster bootstrapped differently, or whose bootstrap is
    # over, must not start: it is installed and configured, and held back for replace_member.yml.
    foreign = [m["host"] for m in seen if hosts[m["host"]]["initialized"] and not hosts[m["host"]]["same_bootstrap"]]
    held = [m["host"] for m in seen if not hosts[m["host"]]["initialized"]] if foreign else []
    now = settings.get("now")
    for m in seen:
        refusals += _given_tls_refusals(m, tls, now, read)
    cas = [((m.get("tls") or {}).get("raw") or {}).get("ca_src") or "" for m in seen]
    if tls and any(cas) and len(set(cas)) != 1:
        refusals.append("etcd_deploy_tls_ca_src differs between the members (%s): the members of one cluster trust "
                        "one CA. %s Fix: give every member the same etcd_deploy_tls_ca_src (e.g. in group_vars)."
                        % (", ".join(ca or "unset" for ca in sorted(set(cas), key=cas.index)), UNCHANGED))
    for m in seen:
        me = hosts[m["host"]]
        given = (m.get("tls") or {}).get("raw") or {}
        pki_name = cluster_name(me["token"])
        me["ca_src"] = (((m.get("tls") or {}).get("src") or {}).get("ca") if any(given.values())
                        else "%s/%s/ca.crt" % ((settings.get("pki_dir") or "").rstrip("/"), pki_name))
        controller = read(me["ca_src"]) if tls else _no_file(me["ca_src"])
        me["controller_ca"] = tls and not controller.get("error")
        if tls:
            refusal = _ca_refusal(m, m.get("node") or {}, me["ca_src"], controller, pki_name)
            if refusal:
                refusals.append(refusal)
    return dict(refusals=refusals, hosts=hosts, initial_cluster=initial_cluster, held=held, running_elsewhere=foreign)
