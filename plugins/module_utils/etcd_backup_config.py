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
env files name are listed by path only.
"""

from __future__ import annotations

import hashlib
import json

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


def bundle(nodes, cluster, snapshot, env_file=""):
    """The bundle of one backup. nodes: {host: etcd_node_info's result} for the play's hosts, in inventory order
    (an unreachable or failed read too). Returns the bundle: format, cluster, snapshot, members (name: the part),
    missing (name or host: why it is not there), problems (name: what of it could not be read), keys_saved (false:
    no private key is ever in it)."""
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
    return dict(format=FORMAT, cluster=cluster, snapshot=snapshot, members=members, missing=missing,
                problems=problems, keys_saved=False)


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
                keys_saved=False)


def summary(rec):
    """One line for the backup's summary, from the metadata's record (or '' without one)."""
    if not rec:
        return ""
    members = rec.get("members") or []
    out = "%s: env file and unit of %s" % (rec.get("file", ""), ", ".join(members) or "no member")
    if rec.get("certificates"):
        out += "; %d certificates (CA: %s)" % (rec["certificates"], ", ".join(rec.get("ca_certificates") or [])
                                               or "none")
        out += "; no private key (their paths only)"
    missing = rec.get("missing") or {}
    if missing:
        out += "; missing %s" % "; ".join("%s (%s)" % (name, why) for name, why in missing.items())
    problems = rec.get("problems") or {}
    if problems:
        out += "; not read: %s" % "; ".join("%s: %s" % (name, ", ".join(p)) for name, p in problems.items())
    return out
