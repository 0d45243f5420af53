# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Twin of etcd_argument_spec() in plugins/module_utils/etcd_client.py: change both together.
    DOCUMENTATION = r"""
options:
  endpoints:
    description:
      - Client URLs of the members to talk to.
      - Passed to etcdctl in C(ETCDCTL_ENDPOINTS), never on its command line.
    type: list
    elements: str
    default: [http://127.0.0.1:2379]
  ca_cert:
    description: CA certificate that signed the members' client certificates (C(ETCDCTL_CACERT)).
    type: path
  client_cert:
    description: Client certificate for client-certificate authentication (C(ETCDCTL_CERT)).
    type: path
  client_key:
    description: Key of O(client_cert) (C(ETCDCTL_KEY)).
    type: path
  user:
    description:
      - etcd user, when etcd authentication is on (C(ETCDCTL_USER)).
      - Snapshots and status need a user with the root role.
    type: str
  password:
    description: Password of O(user) (C(ETCDCTL_PASSWORD)); it never appears in a command line or a result.
    type: str
  dial_timeout:
    description: Seconds to wait for a connection to an endpoint (C(ETCDCTL_DIAL_TIMEOUT)).
    type: int
    default: 2
  command_timeout:
    description: Seconds one etcdctl request may take (C(ETCDCTL_COMMAND_TIMEOUT)).
    type: int
    default: 5
  etcdctl_path:
    description: Path of etcdctl; by default it is looked up in C(PATH).
    type: path
  etcdutl_path:
    description:
      - Path of etcdutl (etcd 3.5+); by default it is looked up in C(PATH).
      - Snapshot status and restore use etcdutl where it is installed (required from etcd 3.6), etcdctl otherwise.
    type: path
"""
