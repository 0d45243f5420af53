# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What deploy does on each member, and what it refuses, from one read of each (etcd_node_info)."""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_deploy import deploy_plan

DOCUMENTATION = r"""
name: deploy_plan
short_description: What deploy does on each member, and every refusal, from one read of each member
version_added: 0.1.0
description:
  - Decides, on the controller, from one M(etcd_ops.etcd.etcd_node_info) read of each member and the facts gathered
    there. The rules are in C(plugins/module_utils/etcd_deploy.py), with a table of unit cases.
  - The refusals, each with its cause and its fix. etcd auth without a usable root password; an etcd_extra_env that
    names a setting deploy writes itself. Members unreachable over SSH, then members where become failed (while one
    of these refuses, nothing else is looked at). An operating system deploy does not support; an etcd_address the
    host does not have; an inventory that renames a member that holds data, moves its data or changes its token;
    two members with one name or address; an etcd port another program holds; an etcd.service that is another
    unit; TLS switched on or off under a running member; the user's TLS files given without etcd_deploy_tls, only
    in part, or not fitting the member; members given different CAs; a member that trusts another CA than the
    controller's.
  - Each member's identity (its env file's name, data dir, WAL dir and token where it holds data or runs), whether
    it was bootstrapped with this initial cluster, and the members held back beside a cluster bootstrapped
    differently.
  - Reads on the controller, before it decides, the user's TLS files (where all three are given) and the
    controller's CA file; a private key's text is never returned.
options:
  _input:
    description:
      - The play's members of group etcd in inventory order, each a dict with C(host), C(ansible_host), C(user),
        C(become_method), C(node) (the registered read), C(facts) (C(os_family), C(service_mgr), C(distribution),
        C(addresses)), C(address), C(peer_url), C(client_url), C(unit_file), C(given), C(defaults) and C(tls)
        (C(raw), the three C(etcd_deploy_tls_*_src) as given; C(src), those resolved; C(member_ca)).
    type: list
    elements: dict
    required: true
  settings:
    description: C(env_file), C(tls), C(ports), C(unit_link), C(pki_dir), C(auth) (C(enabled), C(user),
      C(password)), C(extra_env_keys), C(managed_env).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Work out the deploy
  ansible.builtin.set_fact:
    plan: "{{ members | etcd_ops.etcd.deploy_plan({'env_file': '/data/etcd.env', 'tls': false, 'ports': [2379, 2380],
                                                   'unit_link': '/etc/systemd/system/etcd.service'}) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - C(refusals) (messages, each with its fix), C(hosts) (by host; C(name), C(data_dir), C(token), C(wal_dir),
      C(keep), C(initialized), C(same_bootstrap), C(active), C(unit_linked), C(ca_src), C(controller_ca)),
      C(initial_cluster),
      C(held) and C(running_elsewhere).
  type: dict
"""


def _read(path):
    """A controller file's bytes (a certificate may be DER), or why it could not be read."""
    try:
        with open(path, "rb") as handle:
            return dict(path=path, text=handle.read(1 << 20), error="")
    except OSError as exc:
        return dict(path=path, text=b"", error=exc.strerror or str(exc))


def deploy_plan_filter(seen, settings):
    return deploy_plan(list(seen or []), dict(settings or {}), read=_read)


class FilterModule:
    def filters(self):
        return {"deploy_plan": deploy_plan_filter}
