# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""disaster_recovery onto new machines (issue #26, etcd_recovery_new_hosts): members of the play with no env file
are set up from the snapshot's recovery bundle (NAME.db.config.json, etcd_backup_config.py) before the restore.

Each new host takes the part of the bundle's member of its name (etcd_name, else its inventory name: a machine
rebuilt under its old name keeps it), else of a member of the bundle the play no longer holds (a renamed member),
else of the first member: that member's env file with ETCD_NAME and the URLs rewritten to the new host's address
(etcd_address, else ansible_host), its unit file and drop-ins as they were, and on a TLS cluster the CA
certificates. A member's own certificate and key are not in the bundle in plain: they must be on the new host at
the paths the env file names, and name its address (checked like every member's peer certificate).

Pure functions, no I/O: `plan` from the bundle's text and its record in the snapshot's metadata, `overlay` from a
second read of the new hosts (etcd_node_info at the planned data dir, with the planned certificates); the play
then goes on as for any member, with the new hosts as their env files will be. Unit tests:
tests/unit/plugins/module_utils/test_etcd_new_hosts.py.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_config import CA_VARS, FORMAT
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_env import parse_env_file, set_env_text

# the env file's URL lists a new address goes into (a URL at the template member's own address is rewritten;
# 127.0.0.1, 0.0.0.0, localhost and other hosts are kept)
URL_VARS = ("ETCD_LISTEN_PEER_URLS", "ETCD_LISTEN_CLIENT_URLS", "ETCD_INITIAL_ADVERTISE_PEER_URLS",
            "ETCD_ADVERTISE_CLIENT_URLS", "ETCD_LISTEN_METRICS_URLS")
# a member's own TLS files: on the new host already (never in the bundle in plain)
OWN_TLS_VARS = ("ETCD_CERT_FILE", "ETCD_KEY_FILE", "ETCD_PEER_CERT_FILE", "ETCD_PEER_KEY_FILE")
# what etcd_node_info reports as `conn` (the TLS files the collection's modules use), from the env file
CONN_VARS = (("ca_cert", "ETCD_TRUSTED_CA_FILE"), ("client_cert", "ETCD_CERT_FILE"), ("client_key", "ETCD_KEY_FILE"))
NOTHING = " Nothing was changed on any member."


def fresh_hosts(seen):
    """The hosts of the play whose read succeeded and found no env file: the candidates for a new machine."""
    return [m["host"] for m in seen
            if not (m.get("node") or {}).get("unreachable") and not (m.get("node") or {}).get("failed")
            and not (m.get("node") or {}).get("env_exists")]


def read_bundle(text, record, snapshot="the snapshot"):
    """The bundle from its file's text, checked against its record in the snapshot's metadata (the `config` field):
    (bundle, refusal). text is None when the file could not be read."""
    fix = ("Fix: name a snapshot that has one with -e etcd_snapshot=PATH (backup.yml writes it beside every "
           "snapshot since etcd_backup_config), or set up the new hosts by hand (etcd installed, env file and unit "
           "written) and run this without etcd_recovery_new_hosts.")
    if not record or not record.get("file"):
        return None, ("%s has no recovery bundle in its metadata (the .json beside it names none): there is nothing to "
                      "set up the new hosts from.%s %s" % (snapshot, NOTHING, fix))
    if text is None:
        return None, ("The recovery bundle %s of %s is not beside it (in the store, or in the bucket).%s %s" % (
            record["file"], snapshot, NOTHING, fix))
    data = text.encode() if isinstance(text, str) else text
    sha = hashlib.sha256(data).hexdigest()
    if record.get("sha256") and sha != record["sha256"]:
        return None, ("The recovery bundle %s has sha256 %s, and the snapshot's metadata recorded %s: it was changed "
                      "or damaged since the backup.%s %s" % (record["file"], sha, record["sha256"], NOTHING, fix))
    try:
        bundle = json.loads(data)
    except ValueError as exc:
        return None, "The recovery bundle %s is no JSON (%s).%s %s" % (record["file"], exc, NOTHING, fix)
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT or not isinstance(bundle.get("members"), dict):
        return None, ("The recovery bundle %s is not in a format this collection reads (format %s, expected %s).%s "
                      "%s" % (record["file"], (bundle or {}).get("format") if isinstance(bundle, dict) else "?",
                              FORMAT, NOTHING, fix))
    if not bundle["members"]:
        return None, ("The recovery bundle %s holds no member (the backup could read none: %s).%s %s" % (
            record["file"], "; ".join("%s: %s" % item for item in sorted((bundle.get("missing") or {}).items()))
            or "none named", NOTHING, fix))
    return bundle, ""


def _swap(url, old, new):
    """The URL with its host `old` made `new` (port and scheme kept); any other URL as it is."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.hostname or parts.hostname != old:
        return url
    host = "[%s]" % new if ":" in new else new
    netloc = host + (":%d" % parts.port if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _user(unit_files):
    """The User= systemd runs the unit as (the last one of the unit and its drop-ins), '' for none (root)."""
    user = ""
    for unit in unit_files:
        section = ""
        for line in (unit.get("text") or "").splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line.startswith("User="):
                user = line[len("User="):].strip()
    return user


def member_env(part, name, address):
    """A bundle member's env file made the new host's: (text, env, old address). ETCD_NAME is `name`; each URL of
    URL_VARS at the member's old address (the host of its first advertised peer URL) is at `address`."""
    env = parse_env_file(part.get("env") or "")
    first = (env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS") or "").split(",")[0].strip()
    old = urlsplit(first).hostname or ""
    settings = {"ETCD_NAME": name}
    for var in URL_VARS:
        if env.get(var) and old:
            settings[var] = ",".join(_swap(url, old, address) for url in env[var].split(",") if url.strip())
    text = set_env_text(part.get("env") or "", settings)
    return text, parse_env_file(text), old


def _template(name, bundle, taken):
    """The bundle member a new host named `name` is made from, and how it was chosen."""
    members = bundle["members"]
    if name in members:
        return name, "its own"
    spare = [m for m in sorted(members) if m not in taken]
    if spare:
        return spare[0], "renamed from %s" % spare[0]
    first = sorted(members)[0]
    return first, "made from %s's" % first


def _public(info):
    """The DER of the public key community.crypto.openssl_privatekey_info read (its `public_key`), or None."""
    from cryptography.hazmat.primitives import serialization  # the controller's (community.crypto's requirement)
    try:
        key = serialization.load_pem_public_key(str(info["public_key"]).encode())
    except (KeyError, TypeError, ValueError):
        return None
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _the_cluster_s(der, bundle):
    """The CA certificate of the bundle (one the members trust) whose public key (DER) this is, or ''."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    for part in bundle["members"].values():
        for var, cert in (part.get("certificates") or {}).items():
            if var not in CA_VARS or not cert.get("pem"):
                continue
            try:
                theirs = x509.load_pem_x509_certificate(cert["pem"].encode()).public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            except ValueError:
                continue
            if theirs == der:
                return cert["pem"]
    return ""


def _read(info):
    return bool(info) and not info.get("failed") and bool(info.get("public_key"))


def ca_key(candidates, path, bundle):
    """Which CA key can issue a new host's certificate: dict(usable, source, path, why, cert: the CA certificate
    it is the key of). source: 'controller'
    (deploy.yml's CA key at `path`, etcd_deploy_pki_dir/<cluster>/ca.key) or 'bundle' (the one the backup saved
    age-encrypted in the bundle's keys file, written to `path` before it issues; only when the controller has none
    there). candidates: dict(controller, bundle: community.crypto.openssl_privatekey_info's result for each, its
    public key only, or None; keys: dict(saved, identity, decrypted, error) of the bundle's keys file). A key is
    usable only when it is that of the bundle's CA certificate: another CA's certificates would not be trusted."""
    candidates = candidates or {}
    here, there, keys = candidates.get("controller"), candidates.get("bundle"), candidates.get("keys") or {}
    if _read(here):
        der = _public(here)
        cert = _the_cluster_s(der, bundle) if der is not None else ""
        if cert:
            return dict(usable=True, source="controller", path=path, why="", cert=cert)
        return dict(usable=False, source="", path=path, why=(
            "the CA key at %s is not the key of the cluster's CA (the bundle's CA certificate): certificates it issued "
            "would not be trusted" % path))
    why = "the controller has no CA key at %s%s" % (path, " (%s)" % " ".join(str(here.get("msg")).split())[:160]
                                                    if here and here.get("msg") else "")
    if _read(there):
        der = _public(there)
        cert = _the_cluster_s(der, bundle) if der is not None else ""
        if cert:
            return dict(usable=True, source="bundle", path=path, why="", cert=cert)
        return dict(usable=False, source="", path=path, why=why + ", and the CA key in the bundle's keys file is not "
                    "the key of the cluster's CA")
    if not keys.get("saved"):
        why += ", and the backup saved no keys (etcd_backup_config_keys)"
    elif not keys.get("identity"):
        why += (", and the bundle's keys file (age-encrypted) was not decrypted: etcd_recovery_age_identity_file "
                "is not set")
    elif not keys.get("decrypted"):
        why += ", and the bundle's keys file could not be decrypted with %s (%s)" % (
            keys["identity"], " ".join(str(keys.get("error") or "failed").split())[:200])
    else:
        why += ", and the bundle's keys file holds no CA key"
    return dict(usable=False, source="", path=path, why=why)


def sans(host, name, address, extra=()):
    """The names a new host's certificate is issued for: its address, 127.0.0.1, localhost, its inventory and member
    names, and etcd_deploy_tls_sans."""
    def one(value):
        value = str(value)
        if value.startswith(("IP:", "DNS:")):
            return value
        try:
            ipaddress.ip_address(value)
            return "IP:" + value
        except ValueError:
            return "DNS:" + value
    out = []
    for value in [address, "127.0.0.1", "localhost", host, name] + list(extra or ()):
        if value and one(value) not in out:
            out.append(one(value))
    return out


def plan(seen, bundle, settings):
    """What is written on each new host. seen: the play's members as read ([{host, node, name, peer_url}]);
    bundle: read_bundle's; settings: hosts ({host: {name, address}} for the new hosts: etcd_name else the host,
    etcd_address else ansible_host), env_file (etcd_env_file), data_dir (etcd_data_dir, for an env file without
    ETCD_DATA_DIR).

    Returns dict(hosts, refusals): hosts by host, each dict(name, address, template, how, old_address, env_text,
    env, env_mode, unit_files [{path, resolved, text}], ca_files {path: pem}, own_tls {VAR: path}, data_dir,
    wal_dir, endpoint, user, cert_paths, key_paths); refusals: a template without an env file or a unit."""
    hosts = dict(settings.get("hosts") or {})
    taken = {m.get("name") for m in seen if m["host"] not in hosts}
    taken |= {v.get("name") for v in hosts.values()}
    out, refusals = {}, []
    for m in seen:
        if m["host"] not in hosts:
            continue
        want = hosts[m["host"]]
        name, address = want.get("name") or m["host"], want.get("address") or m["host"]
        template, how = _template(name, bundle, taken)
        taken.add(template)
        part = bundle["members"][template]
        if not (part.get("env") or "").strip() or not part.get("unit_files"):
            refusals.append("%s: the recovery bundle's member %s has %s: it cannot set up a new host.%s Fix: name a "
                            "snapshot whose bundle holds it (-e etcd_snapshot=PATH)." % (
                                m["host"], template, "no env file" if not (part.get("env") or "").strip()
                                else "no unit file", NOTHING))
            continue
        if settings.get("env_file") and part.get("env_file") and part["env_file"] != settings["env_file"]:
            refusals.append("%s: the recovery bundle's member %s kept its env file at %s, and this run reads %s (its "
                            "unit names that file).%s Fix: run with -e etcd_env_file=%s." % (
                                m["host"], template, part["env_file"], settings["env_file"], NOTHING,
                                part["env_file"]))
            continue
        text, env, old = member_env(part, name, address)
        certs = part.get("certificates") or {}
        ca_files = {c["path"]: c["pem"] for var, c in sorted(certs.items()) if var in CA_VARS and c.get("pem")}
        own = {var: env[var] for var in OWN_TLS_VARS if env.get(var)}
        data_dir = env.get("ETCD_DATA_DIR") or settings.get("data_dir") or "/var/lib/etcd"
        out[m["host"]] = dict(
            name=name, address=address, template=template, how=how, old_address=old, env_text=text, env=env,
            env_mode=part.get("env_mode") or "0644", unit_files=list(part["unit_files"]), ca_files=ca_files,
            own_tls=own, data_dir=data_dir, wal_dir=env.get("ETCD_WAL_DIR", ""),
            endpoint=(env.get("ETCD_ADVERTISE_CLIENT_URLS") or "http://127.0.0.1:2379").split(",")[0].strip(),
            user=_user(part["unit_files"]),
            cert_paths=sorted({path for var, path in own.items() if not var.endswith("KEY_FILE")}),
            key_paths=sorted({path for var, path in own.items() if var.endswith("KEY_FILE")}),
            sans=sans(m["host"], name, address, settings.get("sans")), issue=False)
    tls = any(p["own_tls"] for p in out.values())
    return dict(hosts=out, refusals=refusals, tls=tls,
                ca_key_path="%s/%s/ca.key" % (settings.get("pki_dir") or "", bundle.get("cluster") or "")
                if tls else "")


def overlay(seen, planned, reads, ca=None):
    """The play's members as the preflight goes on with them: each new host's read made what it will be once set
    up (its env file, the data dir and the space where the plan puts them, its unit's user, no probe). reads: the
    second read of each new host ({host: etcd_node_info's result at the planned data dir, with the planned
    certificates and key paths}). ca: ca_key's answer. A TLS host with none of its own files gets them issued by
    that CA when it is usable (its plan's `issue`); one with some but not all, or with none and no usable CA, is
    refused. Returns dict(seen, refusals)."""
    out, refusals = [], []
    ca = ca or dict(usable=False, path="", why="no CA key was looked for")
    for m in seen:
        p = planned["hosts"].get(m["host"])
        if not p:
            out.append(m)
            continue
        read = dict(reads.get(m["host"]) or {})
        certs = read.get("certificates") or {}
        paths = read.get("paths") or {}
        lacking = [path for path in p["cert_paths"] + p["key_paths"] if not (paths.get(path) or {}).get("exists")]
        none_there = len(lacking) == len(p["cert_paths"]) + len(p["key_paths"])
        p["issue"] = bool(lacking) and none_there and ca["usable"]
        if lacking and not p["issue"]:
            refusals.append(
                "%s: the env file the recovery bundle gives it (member %s) names TLS files that are not there: %s. The "
                "bundle holds the CA certificate, never a member's key in plain, and %s.%s Fix: put this member's "
                "certificate (of the cluster's CA, naming %s) and its key at those paths; or, %swith the cluster's "
                "CA key where deploy.yml keeps it (%s), or in the bundle's keys file (etcd_backup_config_keys) and "
                "etcd_recovery_age_identity_file set, this run issues them." % (
                    m["host"], p["template"], ", ".join(lacking),
                    ca["why"] if not ca["usable"] else "some of them are there (they are not replaced)", NOTHING,
                    p["address"], "" if none_there else "with none of them there and ",
                    ca["path"] or "etcd_deploy_pki_dir/<cluster>/ca.key"))
        space = list(read.get("space") or [])
        wal = dict(dir=p["wal_dir"], exists=False, holds_wal=False, mountpoint=False, owner="", group="",
                   parent_writable=True, parent="", space=space[1] if p["wal_dir"] and len(space) > 1 else {})
        node = dict(m.get("node") or {})
        node.update(
            env_exists=True, env=p["env"], env_text=p["env_text"], env_mode=p["env_mode"], data_dir=p["data_dir"],
            wal_dir=p["wal_dir"], endpoint=p["endpoint"], new_host=True,
            conn={option: p["env"].get(var, "") for option, var in CONN_VARS},
            data=read.get("data") or dict(exists=False, initialised=False, mountpoint=False, owner="", group=""),
            space=space[:1] + space[2:] if p["wal_dir"] else space,
            wal=wal, marks={}, kept=[],
            peer_cert=certs.get(p["env"].get("ETCD_PEER_CERT_FILE", ""), {}) or {}, tls_issue=p["issue"],
            unit=dict(load_state="loaded", active_state="inactive", user=p["user"]),
            probe=dict(ran=False, healthy=False, quorate=False, alarms=[], status={}, error=""))
        out.append(dict(m, node=node))
    return dict(seen=out, refusals=refusals)


def summary(planned):
    """One line per new host for the plan and the summary."""
    return ["%s: etcd installed, env file and unit written from the recovery bundle (member %s, %s), member %s at %s"
            "%s%s" % (host, p["template"], p["how"], p["name"], p["address"],
                      "; CA certificate %s" % ", ".join(sorted(p["ca_files"])) if p["ca_files"] else "",
                      "; its certificate and key issued by the cluster's CA for %s" % ", ".join(p["sans"])
                      if p["issue"] else "")
            for host, p in planned["hosts"].items()]


def report(planned):
    """Each new host for the run's report: the bundle's member it was made from, its name and address, the CA
    certificates written."""
    return [dict(host=host, name=p["name"], address=p["address"], made_from=p["template"], how=p["how"],
                 ca_certificates=sorted(p["ca_files"]), issued=p["sans"] if p["issue"] else [])
            for host, p in planned["hosts"].items()]
