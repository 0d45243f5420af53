import json
import socket

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import (
    EtcdClient,
    EtcdError,
    etcd_argument_spec,
    fix_hint,
    health_alarms,
    id_hex,
    normalize_health,
    normalize_member,
    normalize_status,
)


class Module:
    """The part of AnsibleModule the client uses."""

    def __init__(self, params, fake):
        spec = etcd_argument_spec()
        self.params = {k: v.get("default") for k, v in spec.items()}
        self.params.update(params)
        self.fake = fake

    def run_command(self, args, environ_update=None, **kwargs):
        return self.fake.run_command(args, environ_update=environ_update)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return f"/usr/bin/{name}" if name in self.fake.tools else None


@pytest.fixture
def client(fake_etcd_class):
    def make(params=None, tools=("etcdctl",)):
        fake = fake_etcd_class(tools)
        return EtcdClient(Module(params or {}, fake)), fake
    return make


@pytest.fixture
def tls_files(tmp_path):
    """ca.pem, c.pem and c-key.pem in a temporary dir: {option: path}."""
    files = {}
    for option, name in (("ca_cert", "ca.pem"), ("client_cert", "c.pem"), ("client_key", "c-key.pem")):
        (tmp_path / name).write_text("pem")
        files[option] = str(tmp_path / name)
    return files


def test_secrets_and_endpoints_travel_in_the_environment(client, tls_files):
    c, fake = client({"endpoints": ["https://10.0.0.1:2379", "https://10.0.0.2:2379"], "user": "root",
                      "password": "S3cret!", "command_timeout": 7, **tls_files})
    fake.on("member list -w json", '{"header":{"cluster_id":1},"members":[]}')
    c.member_list()
    argv, env = fake.calls[0]
    assert argv == ["/usr/bin/etcdctl", "member", "list", "-w", "json"]
    assert env == {
        "ETCDCTL_ENDPOINTS": "https://10.0.0.1:2379,https://10.0.0.2:2379",
        "ETCDCTL_USER": "root", "ETCDCTL_PASSWORD": "S3cret!",
        "ETCDCTL_CACERT": tls_files["ca_cert"], "ETCDCTL_CERT": tls_files["client_cert"],
        "ETCDCTL_KEY": tls_files["client_key"],
        "ETCDCTL_DIAL_TIMEOUT": "2s", "ETCDCTL_COMMAND_TIMEOUT": "7s",
    }
    assert c.commands == ["/usr/bin/etcdctl member list -w json"]
    assert "S3cret!" not in " ".join(c.commands)


@pytest.mark.parametrize("option", ["ca_cert", "client_cert", "client_key"])
def test_a_missing_tls_file_is_named_before_etcdctl_runs(client, tls_files, option):
    missing = tls_files[option] + ".gone"
    c, fake = client({"endpoints": ["https://10.0.0.1:2379"], **dict(tls_files, **{option: missing})})
    with pytest.raises(EtcdError) as err:
        c.member_list()
    assert fake.calls == []
    assert f"{option} {missing} does not exist on this host" in err.value.result()["msg"]
    assert f"etcd_{option}" in err.value.result()["msg"]


def test_one_endpoint_for_a_snapshot_and_its_own_timeout(client):
    c, fake = client({"endpoints": ["http://a:2379", "http://b:2379"]})
    fake.on("snapshot save /tmp/s.db", "Snapshot saved at /tmp/s.db\n")
    c.snapshot_save("/tmp/s.db", "http://b:2379", 600)
    argv, env = fake.calls[0]
    assert "--endpoints" not in " ".join(argv)  # a flag and its variable together are fatal to etcdctl
    assert env["ETCDCTL_ENDPOINTS"] == "http://b:2379" and env["ETCDCTL_COMMAND_TIMEOUT"] == "600s"


def test_failure_carries_command_rc_and_stderr(client):
    c, fake = client()
    fake.on("member remove 8d0e4785301878f0", rc=1,
            stderr="Error: etcdserver: unhealthy cluster\n")
    with pytest.raises(EtcdError) as err:
        c.member_remove(10164140046384920816)
    result = err.value.result()
    assert result["rc"] == 1 and result["cmd"] == "/usr/bin/etcdctl member remove 8d0e4785301878f0"
    assert "etcdserver: unhealthy cluster" in result["msg"] and result["stderr"].startswith("Error:")


def test_missing_tool_names_the_package(client):
    c, fake = client(tools=())
    with pytest.raises(EtcdError) as err:
        c.member_list()
    msg = err.value.result()["msg"]
    assert msg == "etcdctl is not installed on this host. Install etcd-client or set etcdctl_path."


def test_not_json_is_an_error_with_the_output(client):
    c, fake = client()
    fake.on("member list -w json", "Error: something\n")
    with pytest.raises(EtcdError, match="not JSON"):
        c.member_list()


def test_versions_are_asked_once_and_pick_the_snapshot_tool(client):
    c, fake = client(tools=("etcdctl", "etcdutl"))
    fake.on("version", "etcdctl version: 3.5.16\nAPI version: 3.5\n")
    fake.on("snapshot status /s.db -w json", '{"hash":1,"revision":2,"totalKey":3,"totalSize":4}')
    assert c.snapshot_tool() == "etcdutl"
    assert c.snapshot_status("/s.db") == dict(hash=1, revision=2, total_keys=3, total_size=4, storage_version="")
    assert c.snapshot_tool() == "etcdutl"
    versions = [argv for argv in fake.argvs() if argv[1:] == ["version"]]
    assert versions == [["/usr/bin/etcdutl", "version"], ["/usr/bin/etcdctl", "version"]]
    assert fake.calls[-1][1] == {}  # etcdutl gets no ETCDCTL_* environment


def test_restore_refuses_bump_revision_where_the_tool_lacks_it(client):
    c, fake = client()
    fake.on("version", "etcdctl version: 3.4.23\nAPI version: 3.4\n")
    with pytest.raises(EtcdError) as err:
        c.snapshot_restore("/s.db", "/data/x", "n1", "n1=http://a:2380", ["http://a:2380"], "t", bump_revision=1000)
    assert "etcdctl 3.4.23 cannot bump the revision" in err.value.result()["msg"]
    assert not [argv for argv in fake.argvs() if "restore" in argv]


def test_member_ids_decimal_to_hex():
    assert id_hex(10164140046384920816) == "8d0e4785301878f0"
    m = normalize_member({"ID": 2152387393761349991, "peerURLs": ["http://a:2380"]})
    assert m == dict(id=2152387393761349991, id_hex="1dded0ee482c9167", name="", peer_urls=["http://a:2380"],
                     client_urls=[], is_learner=False, started=False)


def test_status_without_leader():
    header = {"cluster_id": 5, "member_id": 7, "revision": 9, "raft_term": 3}
    status = {"header": header, "version": "3.4.23", "dbSize": 20480, "raftIndex": 14, "raftTerm": 3,
              "errors": ["etcdserver: no leader"]}
    raw = {"Endpoint": "http://a:2379", "Status": status}
    s = normalize_status(raw)
    assert s["leader"] == 0 and not s["is_leader"] and s["errors"] == ["etcdserver: no leader"]
    assert s["revision"] == 9 and s["db_size"] == 20480 and s["version"] == "3.4.23"


def test_etcd_36_texts(client):
    """3.6 (from its source; no Debian suite ships it): etcdutl only for snapshots, `version` in snapshot
    status, and a nil status slice printed as `null` when no endpoint answers."""
    c, fake = client(tools=("etcdctl", "etcdutl"))
    fake.on("version", "etcdctl version: 3.6.5\nAPI version: 3.6\n")
    status = '{"hash":7,"revision":12,"totalKey":3,"totalSize":24576,"version":"3.6.0"}'
    fake.on("snapshot status /s.db -w json", status)
    assert c.snapshot_tool() == "etcdutl"
    assert c.snapshot_status("/s.db")["storage_version"] == "3.6.0"
    assert c.restore_supports_bump_revision() is True
    fake.on("endpoint status -w json", "null\n", rc=1, stderr="Failed to get the status of endpoint http://a:2379\n")
    assert c.endpoint_status(["http://a:2379"])[0] == []


def test_etcd_36_without_etcdutl_says_what_to_install(client):
    c, fake = client(tools=("etcdctl",))
    fake.on("version", "etcdctl version: 3.6.5\nAPI version: 3.6\n")
    with pytest.raises(EtcdError, match=r"install etcdutl \(Debian: package etcd-server\)"):
        c.snapshot_status("/s.db")


def test_key_count_at_a_revision_and_an_empty_count(client, recorded, version):
    c, fake = client()
    fake.on("get", recorded(version, "get_count.json"))
    assert c.key_count(["http://a:2379"], 41) == 40
    argv, env = fake.calls[0]
    assert argv == ["/usr/bin/etcdctl", "get", "", "--from-key", "--keys-only", "--limit=1", "--consistency=s",
                    "--rev=41", "-w", "json"]
    assert env["ETCDCTL_ENDPOINTS"] == "http://a:2379"
    fake.on("get", '{"header":{"cluster_id":1,"member_id":2,"revision":1,"raft_term":2}}')  # no keys: no count
    assert c.key_count() == 0
    # the current revision: no --rev
    assert fake.calls[-1][0][1:8] == ["get", "", "--from-key", "--keys-only", "--limit=1", "--consistency=s", "-w"]


def test_key_count_of_a_compacted_revision_fails_with_etcds_words(client, recorded, version):
    c, fake = client()
    fake.on("get", "", rc=1, stderr=recorded(version, "get_count_compacted.err"))
    with pytest.raises(EtcdError, match="required revision has been compacted"):
        c.key_count(revision=3)


WARN_35 = ('{"level":"warn","ts":"2026-11-29T21:47:06.690571Z","logger":"client","caller":"v3/retry_interceptor.go:63",'
           '"msg":"retrying of unary invoker failed","target":"etcd-endpoints://0xc0002452c0/172.29.90.11:2379",'
           '"attempt":0,"error":"rpc error: code = DeadlineExceeded desc = latest balancer error: '
           'last connection error: connection error: desc = \\"transport: authentication handshake failed: '
           'tls: failed to verify certificate: x509: certificate signed by unknown authority\\""}')
WARN_34 = ('{"level":"warn","ts":"2026-11-29T21:50:01.1Z","caller":"clientv3/retry_interceptor.go:62",'
           '"msg":"retrying of unary invoker failed","target":"endpoint://client-4c1e/172.29.90.12:2379","attempt":0,'
           '"error":"rpc error: code = DeadlineExceeded desc = latest balancer error: all SubConns are in '
           'TransientFailure, latest connection error: connection error: desc = \\"transport: authentication '
           'handshake failed: x509: certificate signed by unknown authority\\""}')


def test_a_timed_out_health_check_names_the_dial_error(client):
    c, fake = client({"endpoints": ["https://172.29.90.11:2379", "https://172.29.90.12:2379"]})
    fake.on("endpoint health -w json",
            '[{"endpoint":"https://172.29.90.11:2379","health":false,"took":"5s","error":"context deadline exceeded"},'
            '{"endpoint":"https://172.29.90.12:2379","health":false,"took":"5s","error":"context deadline exceeded"}]',
            rc=1, stderr=WARN_35 + "\n" + WARN_34 + "\nError: unhealthy cluster\n")
    one, two = c.endpoint_health(["https://172.29.90.11:2379", "https://172.29.90.12:2379"])
    assert one["error"] == ("context deadline exceeded (transport: authentication handshake failed: tls: failed to "
                            "verify certificate: x509: certificate signed by unknown authority)")
    assert two["error"] == ("context deadline exceeded (transport: authentication handshake failed: x509: "
                            "certificate signed by unknown authority)")


def test_a_health_error_without_a_logged_cause_is_kept(client):
    c, fake = client({"endpoints": ["http://a:2379"]})
    fake.on("endpoint health -w json",
            '[{"endpoint":"http://a:2379","health":false,"took":"1s","error":"context deadline exceeded"}]',
            rc=1, stderr="Error: unhealthy cluster\n")
    assert c.endpoint_health(["http://a:2379"])[0]["error"] == "context deadline exceeded"


# etcdctl 3.4.23's words with auth on, recorded on the lab (health without credentials / with a wrong password,
# a snapshot and a member add by a user without the root role)
AUTH_34 = {
    "empty": '[{"endpoint":"http://a:2379","health":false,"took":"2ms","error":"etcdserver: user name is empty"}]',
    "wrong": ('[{"endpoint":"http://a:2379","health":false,"took":"",'
              '"error":"etcdserver: authentication failed, invalid user ID or password"}]'),
}


@pytest.mark.parametrize("case, words", [("empty", "set etcd_user and etcd_password"),
                                         ("wrong", "etcd refused etcd_user/etcd_password")])
def test_an_auth_health_error_carries_its_fix(client, case, words):
    c, fake = client({"endpoints": ["http://a:2379"]})
    fake.on("endpoint health -w json", AUTH_34[case], rc=1, stderr="Error: unhealthy cluster\n")
    [health] = c.endpoint_health(["http://a:2379"])
    assert not health["health"] and words in health["hint"]


def test_a_healthy_endpoint_has_no_hint(client):
    c, fake = client({"endpoints": ["http://a:2379"]})
    fake.on("endpoint health -w json", '[{"endpoint":"http://a:2379","health":true,"took":"2ms"}]')
    assert c.endpoint_health(["http://a:2379"])[0]["hint"] == ""


@pytest.mark.parametrize("stderr", ["Error: rpc error: code = Unknown desc = auth: permission denied\n",
                                    "Error: etcdserver: permission denied\n"])
def test_a_user_without_the_root_role_is_told_so(client, stderr):
    c, fake = client({"user": "bob", "password": "pw"})
    fake.on("snapshot save /tmp/s.db", rc=5, stderr=stderr)
    with pytest.raises(EtcdError) as err:
        c.snapshot_save("/tmp/s.db", "http://a:2379", 60)
    msg = err.value.result()["msg"]
    assert "permission denied" in msg and "Fix: etcd_user lacks the root role" in msg
    assert "pw" not in err.value.result()["cmd"]


def test_other_errors_get_no_auth_or_tls_fix():
    assert fix_hint("etcdserver: unhealthy cluster") == ""
    assert fix_hint("") == "" and fix_hint(None) == ""
    assert "TLS files do not match" in fix_hint("x509: certificate signed by unknown authority")


def test_a_certificate_cn_that_is_no_etcd_user_is_told_so():
    # etcdctl 3.4.23 with client certificate auth, auth on and no password (the lab's TLS cluster)
    assert "common name (CN)" in fix_hint("Error: rpc error: code = Unknown desc = auth: user not found")


def test_a_user_list_refused_to_a_certificate_cn_means_auth_is_on(client):
    # etcdctl 3.4.23 on the lab's TLS cluster with auth on: the member certificate's CN is no etcd user
    c, fake = client({"user": "root", "password": "pw"})
    fake.on("user list -w json", rc=1, stderr="Error: etcdserver: user name not found\n")
    assert c.auth_enabled() == (True, [])
    [(argv, env)] = fake.calls
    assert "ETCDCTL_USER" not in env and "ETCDCTL_PASSWORD" not in env


# -- the TCP probe before etcdctl: a refused endpoint costs no etcdctl timeout -------------------------------------
@pytest.fixture
def closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def open_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_refused_endpoints_names_only_the_ones_nothing_listens_on(client, real_tcp_probe, open_port, closed_port):
    c = client()[0]
    listening, closed = f"http://127.0.0.1:{open_port}", f"https://127.0.0.1:{closed_port}"
    refused = c.refused_endpoints([listening, closed, "unix:///run/etcd.sock"])
    assert refused == {closed: f"dial tcp 127.0.0.1:{closed_port}: connect: connection refused"}


def test_a_refused_endpoint_is_unhealthy_without_asking_etcdctl(client, real_tcp_probe, open_port, closed_port):
    c, fake = client()
    listening, closed = f"http://127.0.0.1:{open_port}", f"http://127.0.0.1:{closed_port}"
    fake.on("endpoint health -w json", stdout=json.dumps([{"endpoint": listening, "health": True, "took": "2ms"}]))
    healths = c.endpoint_health([closed, listening])
    assert [(h["endpoint"], h["health"]) for h in healths] == [(closed, False), (listening, True)]
    assert healths[0]["error"] == f"dial tcp 127.0.0.1:{closed_port}: connect: connection refused"
    assert [env["ETCDCTL_ENDPOINTS"] for argv, env in fake.calls] == [listening]


def test_status_asks_etcdctl_nothing_when_every_endpoint_is_refused(client, real_tcp_probe, closed_port):
    c, fake = client()
    statuses, err = c.endpoint_status([f"http://127.0.0.1:{closed_port}"])
    assert statuses == [] and "connection refused" in err
    assert fake.argvs() == []


def test_member_list_is_not_asked_of_endpoints_that_all_refuse(client, real_tcp_probe, closed_port):
    c, fake = client()
    with pytest.raises(EtcdError, match=r"no endpoint accepts a connection .*connection refused"):
        c.member_list([f"http://127.0.0.1:{closed_port}"])
    assert fake.argvs() == []


# A cluster whose quota is full (NOSPACE) has quorum and a leader: etcdctl calls its members unhealthy, and a
# recovery once took that for a lost cluster and rebuilt it from an older snapshot.
@pytest.mark.parametrize("raw, health, alarms, quorate", [
    ({"endpoint": "e", "health": True, "took": "1ms"}, True, [], True),
    ({"endpoint": "e", "health": False, "error": "Active Alarm(s): NOSPACE "}, False, ["NOSPACE"], True),
    ({"endpoint": "e", "health": False, "error": "Active Alarm(s): NOSPACE CORRUPT "}, False, ["CORRUPT", "NOSPACE"],
     True),
    ({"endpoint": "e", "health": False, "error": "context deadline exceeded"}, False, [], False),
    ({"endpoint": "e", "health": False, "error": "etcdserver: user name is empty"}, False, [], False),
    ({"endpoint": "e", "health": False, "error": "failed: Active Alarm(s): NOSPACE"}, False, [], False),
])
def test_health_alarms_and_quorate(raw, health, alarms, quorate):
    h = normalize_health(raw)
    assert (h["health"], h["alarms"], h["quorate"]) == (health, alarms, quorate)
    assert health_alarms(raw.get("error", "")) == alarms


@pytest.mark.parametrize("leader, errors, alarms, has_leader", [
    (7, [], [], True),
    (7, ["memberID:8211f1d0f64f3269 alarm:NOSPACE "], ["NOSPACE"], True),
    (7, ["memberID:1 alarm:NOSPACE ", "memberID:2 alarm:NOSPACE "], ["NOSPACE"], True),
    (0, ["etcdserver: no leader"], [], False),
    (0, ["etcdserver: no leader", "memberID:1 alarm:NOSPACE "], ["NOSPACE"], False),
    (7, ["etcdserver: some other error"], [], False),
])
def test_status_alarms_and_leader(leader, errors, alarms, has_leader):
    status = {"header": {"cluster_id": 5, "member_id": 7, "revision": 9}, "leader": leader, "errors": errors}
    s = normalize_status({"Endpoint": "http://a:2379", "Status": status})
    assert s["alarms"] == alarms and s["has_leader"] is has_leader
