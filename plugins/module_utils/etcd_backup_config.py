# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The recovery bundle (issue #26): what a rebuild needs beside a snapshot, saved by each backup.

A snapshot holds the keys, not the cluster around them: each member's env file (its name, URLs, data dir, TLS
files, token), the systemd unit that runs it, and on a TLS cluster the certificates. When the machines are gone,
those are gone with them. `backup.yml` reads them on every member it reaches (etcd_node_info with config=true) and
writes them beside the snapshot as NAME.db.config.json, recorded with its sha256 in the snapshot's metadata
(NAME.db.json) and copied wherever the snapshot goes.

No private key is in it: the certificates are read as text only when they hold no private key, and the keys the
env files name are listed by path only. Only when asked (etcd_backup_config_keys), the keys themselves, and the
deploy CA's key when the controller holds it, go into a second file, NAME.db.keys.age, encrypted with age to the
public keys given (etcd_backup_config_age_recipients): never in plain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

FORMAT = 1
SUFFIX = ".config.json"
CA_VARS = ("ETCD_TRUSTED_CA_FILE", "ETCD_PEER_TRUSTED_CA_FILE")


def _why_missing(node):
    if not node:
        return "not read"
    if node.get("unreachable"):
        return "unreachable: %s" % " ".join(str(node.get("msg") or "").split())
    if node.get("failed"):
        return "its read failed: %s" % " ".join(str(node.get("msg") or "").split())
    if "config" not in node:
        return "its read did not ask for it"
    if not node.get("env_exists"):
        return "no env file"
    return ""


def member(host, node):
    """One member's part of the bundle, from etcd_node_info's result (config=true): (name, part, problems)."""
    env = node.get("env") or {}
    config = node.get("config") or {}
    problems = []
    units = []
    for unit in config.get("unit_files") or []:
        if unit.get("error"):
            problems.append("%s: %s" % (unit.get("path"), unit["error"]))
        else:
            units.append(dict(path=unit.get("path", ""), resolved=unit.get("resolved", ""), text=unit.get("text", "")))
    if not units:
        problems.append("no unit file was read")
    certs = {}
    for var, cert in sorted((config.get("certificates") or {}).items()):
        if cert.get("error") or not cert.get("pem"):
            problems.append("%s %s: %s" % (var, cert.get("path"), cert.get("error") or "empty"))
        else:
            certs[var] = dict(path=cert["path"], pem=cert["pem"])
    part = dict(host=host, env_file=node.get("env_file", ""), env_mode=node.get("env_mode", ""),
                env=node.get("env_text", ""), unit_files=units, certificates=certs,
                keys=dict(sorted((config.get("keys") or {}).items())))
    return env.get("ETCD_NAME") or host, part, problems


def bundle(nodes, cluster, snapshot, env_file="", keys=None):
    """The bundle of one backup. nodes: {host: etcd_node_info's result} for the play's hosts, in inventory order
    (an unreachable or failed read too). Returns the bundle: format, cluster, snapshot, members (name: the part),
    missing (name or host: why it is not there), problems (name: what of it could not be read), keys_saved (no
    private key is ever in it; with `keys`, what was encrypted into the keys file: file, sha256, size, recipients,
    members, ca_key, problems)."""
    members, missing, problems = {}, {}, {}
    for host, node in (nodes or {}).items():
        node = dict(node or {}, env_file=(node or {}).get("env_file") or env_file)
        why = _why_missing(node)
        if why:
            missing[((node.get("env") or {}).get("ETCD_NAME")) or host] = why
            continue
        name, part, trouble = member(host, node)
        members[name] = part
        if trouble:
            problems[name] = trouble
    out = dict(format=FORMAT, cluster=cluster, snapshot=snapshot, members=members, missing=missing,
               problems=problems, keys_saved=False)
    if keys:
        out["keys"] = dict(file=keys.get("file", ""), sha256=keys.get("sha256", ""), size=keys.get("size", 0),
                           recipients=list(keys.get("recipients") or []), members=dict(keys.get("members") or {}),
                           ca_key=keys.get("ca_key", ""), problems=dict(keys.get("problems") or {}))
        out["keys_saved"] = True
    return out


def text(config):
    """The bundle as written: JSON, sorted, one trailing newline (its sha256 is of these bytes)."""
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def record(config, name):
    """What the snapshot's metadata says of its bundle (the `config` field): the file, its sha256 and size, the
    members in it, those missing and why, the CA certificates' paths, the keys' paths (not saved)."""
    data = text(config).encode()
    members = config.get("members") or {}
    cas = sorted({c["path"] for part in members.values() for var, c in part.get("certificates", {}).items()
                  if var in CA_VARS})
    return dict(file=name + SUFFIX, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                members=sorted(members), missing=dict(config.get("missing") or {}),
                problems=dict(config.get("problems") or {}), ca_certificates=cas,
                certificates=sum(len(part.get("certificates", {})) for part in members.values()),
                keys_saved=bool(config.get("keys_saved")), keys=dict(config.get("keys") or {}))


def bundle_files(rec):
    """The files of a bundle's record, in the store: the bundle, then the keys' age file when there is one."""
    if not rec:
        return []
    return [rec["file"]] + [f for f in [(rec.get("keys") or {}).get("file")] if f]


def summary(rec):
    """One line for the backup's summary, from the metadata's record (or '' without one)."""
    if not rec:
        return ""
    members = rec.get("members") or []
    out = "%s: env file and unit of %s" % (rec.get("file", ""), ", ".join(members) or "no member")
    if rec.get("certificates"):
        out += "; %d certificates (CA: %s)" % (rec["certificates"], ", ".join(rec.get("ca_certificates") or [])
                                               or "none")
        if not rec.get("keys_saved"):
            out += "; no private key (their paths only)"
    keys = rec.get("keys") or {}
    if keys:
        out += "; the private keys of %s%s in %s, age-encrypted to %d key(s)" % (
            ", ".join(sorted(keys.get("members") or {})) or "no member", " and the CA" if keys.get("ca_key") else "",
            keys.get("file", ""), len(keys.get("recipients") or []))
        for name, trouble in sorted((keys.get("problems") or {}).items()):
            out += "; keys not read on %s: %s" % (name, ", ".join(trouble))
    missing = rec.get("missing") or {}
    if missing:
        out += "; missing %s" % "; ".join("%s (%s)" % (name, why) for name, why in missing.items())
    problems = rec.get("problems") or {}
    if problems:
        out += "; not read: %s" % "; ".join("%s: %s" % (name, ", ".join(p)) for name, p in problems.items())
    return out


KEYS_SUFFIX = ".keys.age"
# an age recipient: an age public key, or an SSH public key (age encrypts to those too)
_RECIPIENT = re.compile(r"^(age1[0-9a-z]{58}|ssh-(ed25519|rsa) [A-Za-z0-9+/=]+)( .*)?$")


def bad_recipients(recipients):
    """The recipients that are no public key, each shown by its first 15 characters only (a private key given by
    mistake must not reach the output)."""
    return [str(r)[:15] + "..." for r in recipients or [] if not _RECIPIENT.match(str(r))]


def keys_refusals(config, keys, recipients, age_found):
    """Why a backup refuses etcd_backup_config_keys, before anything is written: the keys go only into an age file."""
    if not keys:
        return []
    out = []
    if not config:
        out.append("etcd_backup_config_keys saves the keys beside the recovery bundle, and etcd_backup_config is "
                   "false. Fix: set etcd_backup_config=true, or leave etcd_backup_config_keys false.")
    if not recipients:
        out.append("etcd_backup_config_keys is true and etcd_backup_config_age_recipients is empty: the private keys "
                   "are saved only encrypted, never in plain. Fix: give the age public keys (age1... lines, as "
                   "`age-keygen -y KEYFILE` prints them) of whoever may rebuild the cluster.")
    bad = bad_recipients(recipients)
    if bad:
        out.append("etcd_backup_config_age_recipients holds %s, which is not an age public key. Fix: give the age1... "
                   "line `age-keygen -y KEYFILE` prints (or an ssh-ed25519/ssh-rsa public key), never the private key."
                   % ", ".join(bad))
    if not age_found:
        out.append("The controller has no age, which etcd_backup_config_keys needs to encrypt the keys. Fix: install "
                   "age on the controller (Debian and Ubuntu: apt-get install age).")
    return [msg + " Nothing was changed on any member." for msg in out]


def _public_der(pem, private):
    """The DER of a PEM private key's or certificate's public key, or None when it cannot be read."""
    from cryptography import x509  # the controller's (the members' job never gets here)
    from cryptography.hazmat.primitives import serialization
    try:
        data = pem.encode() if isinstance(pem, str) else pem
        key = (serialization.load_pem_private_key(data, None).public_key() if private
               else x509.load_pem_x509_certificate(data).public_key())
    except (ValueError, TypeError):
        return None
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ca_key_trusted(ca_key, nodes):
    """Whether the controller's CA key (dict path, pem) is the key of a CA certificate the members trust (their env
    files' ETCD_TRUSTED_CA_FILE, ETCD_PEER_TRUSTED_CA_FILE): a stale PKI dir's key rebuilds nothing."""
    key = _public_der(ca_key["pem"], True)
    certs = {c.get("pem") for n in (nodes or {}).values() for var, c in
             (((n or {}).get("config") or {}).get("certificates") or {}).items() if var in CA_VARS and c.get("pem")}
    return key is not None and any(_public_der(pem, False) == key for pem in certs)


def keys_content(reads, nodes, ca_key=None):
    """The keys to encrypt, and what the bundle says of them (no key in it).

    reads: host -> the registered loop of ansible.builtin.slurp over that member's key files (results, each with
    `item` the path and `content` base64, or failed). nodes: host -> etcd_node_info's result (config=true): the
    member's name and its key files by env variable. ca_key: dict(path, pem) of the deploy CA's key on the
    controller, or None.
    Returns dict(content: JSON text, members: {name: [variables]}, ca_key: path or '', problems: {name: [...]})."""
    members, saved, problems = {}, {}, {}
    for host, node in (nodes or {}).items():
        if "config" not in (node or {}):
            continue
        name = (node.get("env") or {}).get("ETCD_NAME") or host
        keys = (node.get("config") or {}).get("keys") or {}
        got = {}
        for r in ((reads or {}).get(host) or {}).get("results") or []:
            if r.get("skipped"):
                continue
            path = r.get("item") or r.get("source") or ""
            if r.get("failed") or "content" not in r:
                why = " ".join(str(r.get("msg") or "not read").split())
                problems.setdefault(name, []).append("%s: %s" % (path, why))
                continue
            got[path] = base64.b64decode(r["content"]).decode("utf-8", "replace")
        part = {var: dict(path=path, pem=got[path]) for var, path in sorted((keys or {}).items()) if path in got}
        if part:
            members[name] = part
            saved[name] = sorted(part)
        elif keys and name not in problems:
            problems[name] = ["no key read"]
    if ca_key and not ca_key_trusted(ca_key, nodes):
        problems["CA"] = ["%s is not the key of the CA the members trust: not saved" % ca_key["path"]]
        ca_key = None
    content = dict(format=FORMAT, members=members, ca_key=dict(ca_key) if ca_key else None)
    return dict(content=json.dumps(content, sort_keys=True), members=saved,
                ca_key=(ca_key or {}).get("path", ""), problems=problems)
