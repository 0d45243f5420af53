# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""disaster_recovery onto new machines: what the recovery bundle writes on each new host, and the play's members
as they will be."""

from __future__ import annotations

import base64

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_new_hosts import (
    ca_key,
    overlay,
    plan,
    read_bundle,
    report,
    summary,
)

DOCUMENTATION = r"""
name: recovery_new_hosts
short_description: What the recovery bundle writes on each new host of a recovery, and the members as they will be
version_added: 0.5.0
description:
  - With C(etcd_recovery_new_hosts), the members of the play that have no env file are new machines. Each takes
    the part of the bundle's member of its name (C(etcd_name), else its inventory name), else of a member of the
    bundle the play no longer holds, else of the first member. That member's env file is written with C(ETCD_NAME)
    and the URLs at its old address rewritten to the new host's (C(etcd_address), else C(ansible_host)), with its
    unit file and drop-ins and, on a TLS cluster, the CA certificates.
  - The bundle is checked against the sha256 the snapshot's metadata recorded for it.
  - With O(reads) (a second read of each new host at the planned data dir), also the play's members as the
    preflight goes on with them, and the refusals of TLS files (a member's own certificate and key) not there.
options:
  _input:
    description: The play's members as read, each a dict of C(host), C(node), C(name), C(peer_url).
    type: list
    elements: dict
    required: true
  text:
    description:
      - The bundle file as M(ansible.builtin.slurp) read it (its result; a failed or skipped read, or none, when it
        could not be read), or the file's text.
      - Pass the slurp's result, not its content decoded in a template - ansible-core before 2.19 turns a JSON text
        that reads as a Python dict into one, and the sha256 check needs the file's bytes.
    type: raw
    required: true
  record:
    description: The bundle's record in the snapshot's metadata (its C(config) field).
    type: dict
    required: true
  settings:
    description:
      - C(hosts) (each new host's C(name) and C(address)), C(env_file), C(data_dir) (C(etcd_data_dir)), C(snapshot)
        (its path, for the messages), C(pki_dir) (C(etcd_deploy_pki_dir)), C(sans) (C(etcd_deploy_tls_sans)).
    type: dict
    required: true
  reads:
    description: The second read of each new host (M(etcd_ops.etcd.etcd_node_info)'s result), by host.
    type: dict
  ca_keys:
    description:
      - On a TLS cluster, what can issue a new host's certificate. C(controller) and C(bundle) are what
        C(community.crypto.openssl_privatekey_info) read (its public key only) of deploy.yml's CA key on the
        controller (C(ca_key_path) of the first call's result) and of the CA key in the bundle's age-encrypted keys
        file; C(keys) says whether that file was saved and decrypted (C(saved), C(identity), C(decrypted),
        C(error)).
      - A new host with none of its own TLS files gets them issued by a key that is the bundle's CA certificate's,
        the controller's first (the bundle's only when the controller has none).
    type: dict
"""

EXAMPLES = r"""
- name: Work out the new hosts
  ansible.builtin.set_fact:
    new: "{{ seen | etcd_ops.etcd.recovery_new_hosts(bundle_read, meta.config, settings) }}"
"""

RETURN = r"""
_value:
  description:
    - C(hosts) (by host, what is written there), C(lines) (one sentence per host), C(report) (each host for the
      run's report), C(refusals), C(tls) and C(ca_key_path) (where deploy.yml's CA key would be); with O(reads),
      C(issue) (the hosts whose certificate and key are issued), C(ca_source) (C(controller), or C(bundle) when
      the CA key is written from the bundle's keys into the PKI dir first), C(ca_cert) (the CA certificate it is
      the key of),
      C(seen) (the members with each new host as it will be).
  type: dict
"""


def _bundle_data(text):
    """The bundle file's bytes (or text), from slurp's result or the text itself; None when it was not read."""
    if isinstance(text, dict):
        return base64.b64decode(text["content"]) if text.get("content") and not text.get("failed") else None
    return text or None


def recovery_new_hosts(seen, text, record, settings, reads=None, ca_keys=None):
    settings = dict(settings or {})
    seen = list(seen or [])
    bundle, refusal = read_bundle(_bundle_data(text), dict(record or {}), settings.get("snapshot") or "the snapshot")
    if refusal:
        return dict(hosts={}, lines=[], report=[], refusals=[refusal], seen=seen)
    planned = plan(seen, bundle, settings)
    out = dict(hosts=planned["hosts"], lines=summary(planned), report=report(planned),
               refusals=list(planned["refusals"]), seen=seen)
    out.update(tls=planned["tls"], ca_key_path=planned["ca_key_path"], issue=[])
    if reads is not None and not out["refusals"]:
        ca = ca_key(ca_keys, planned["ca_key_path"], bundle) if planned["tls"] else None
        laid = overlay(seen, planned, dict(reads), ca)
        issue = [host for host, p in planned["hosts"].items() if p["issue"]]
        out.update(seen=laid["seen"], refusals=laid["refusals"], lines=summary(planned), report=report(planned),
                   issue=issue, ca_source=(ca or {}).get("source", "") if issue else "",
                   ca_cert=(ca or {}).get("cert", "") if issue else "")
    return out


class FilterModule:
    def filters(self):
        return {"recovery_new_hosts": recovery_new_hosts}
