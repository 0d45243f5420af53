"""The recovery_new_hosts filter (module_utils/etcd_new_hosts.py): disaster_recovery onto new machines. What the
recovery bundle writes on each new host (the env file at its new address, the unit, the CA certificates), checked
against the snapshot's record of it; the members read as they will be; and the refusals, each before anything
changes."""

import base64
import hashlib
import json

import pytest

from ansible_collections.etcd_ops.etcd.plugins.filter.recovery_cluster import recovery_cluster
from ansible_collections.etcd_ops.etcd.plugins.filter.recovery_new_hosts import recovery_new_hosts
from ansible_collections.etcd_ops.etcd.plugins.filter.snapshots_of_cluster import snapshots_of_cluster
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_new_hosts as nh
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_config import record, text
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_recovery import recovery_plan

CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
UNIT = "[Unit]\nDescription=etcd\n[Service]\nType=notify\nUser=etcd\nEnvironmentFile=/data/etcd.env\n"


def env_text(name, ip, tls=False):
    scheme = "https" if tls else "http"
    lines = ["# etcd member %s" % name, "ETCD_NAME=%s" % name, "ETCD_DATA_DIR=/data/etcd.data",
             "ETCD_LISTEN_PEER_URLS=%s://%s:2380" % (scheme, ip),
             "ETCD_LISTEN_CLIENT_URLS=%s://%s:2379,%s://127.0.0.1:2379" % (scheme, ip, scheme),
             "ETCD_INITIAL_ADVERTISE_PEER_URLS=%s://%s:2380" % (scheme, ip),
             "ETCD_ADVERTISE_CLIENT_URLS=%s://%s:2379" % (scheme, ip),
             "ETCD_INITIAL_CLUSTER=" + ",".join("node%d=%s://10.0.0.%d:2380" % (i, scheme, i) for i in (1, 2, 3)),
             "ETCD_INITIAL_CLUSTER_STATE=new", "ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster"]
    if tls:
        lines += ["ETCD_TRUSTED_CA_FILE=/data/pki/ca.crt", "ETCD_PEER_TRUSTED_CA_FILE=/data/pki/ca.crt",
                  "ETCD_CERT_FILE=/data/pki/member.crt", "ETCD_KEY_FILE=/data/pki/member.key",
                  "ETCD_PEER_CERT_FILE=/data/pki/member.crt", "ETCD_PEER_KEY_FILE=/data/pki/member.key"]
    return "\n".join(lines) + "\n"


def bundle(names=("node1", "node2", "node3"), tls=False, **changes):
    members = {}
    for name in names:
        ip = "10.0.0.%s" % name[-1]
        part = dict(host=name, env_file="/data/etcd.env", env_mode="0640", env=env_text(name, ip, tls),
                    unit_files=[dict(path="/etc/systemd/system/etcd.service", resolved="/data/etcd.service",
                                     text=UNIT)],
                    certificates={}, keys={})
        if tls:
            part["certificates"] = {"ETCD_TRUSTED_CA_FILE": dict(path="/data/pki/ca.crt", pem=CA),
                                    "ETCD_PEER_TRUSTED_CA_FILE": dict(path="/data/pki/ca.crt", pem=CA)}
        members[name] = part
    out = dict(format=1, cluster="etcd-cluster", snapshot="etcd-cluster-20261205T000000Z-r9.db", members=members,
               missing={}, problems={}, keys_saved=False)
    out.update(changes)
    return out


def saved(b):
    """The bundle as backup.yml writes it, and its record in the snapshot's metadata."""
    return text(b), record(b, b["snapshot"])


def fresh(host, ip):
    """A new machine as the preflight's first read sees it: no env file, etcd not there."""
    return dict(host=host, name=host, peer_url="http://%s:2380" % ip,
                node=dict(env_exists=False, env={}, env_text="", data_dir="/data/etcd.data", wal_dir="",
                          endpoint="http://127.0.0.1:2379", unit=dict(load_state="not-found"), probe=dict(
                              ran=False, error="etcdctl is not installed"), marks={}, data=dict(exists=False),
                          space=[dict(mount="/", free=10**10), dict(mount="/", free=10**10)]))


def old(host, ip):
    """A member of the old cluster that kept its machine: its env file names it."""
    env = dict(ETCD_NAME=host, ETCD_INITIAL_ADVERTISE_PEER_URLS="http://%s:2380" % ip,
               ETCD_ADVERTISE_CLIENT_URLS="http://%s:2379" % ip, ETCD_INITIAL_CLUSTER_TOKEN="etcd-cluster",
               ETCD_INITIAL_CLUSTER=",".join("node%d=http://10.0.0.%d:2380" % (i, i) for i in (1, 2, 3)))
    return dict(host=host, name=host, peer_url="http://%s:2380" % ip,
                node=dict(env_exists=True, env=env, env_text="", data_dir="/data/etcd.data", wal_dir="",
                          endpoint="http://%s:2379" % ip,
                          unit=dict(load_state="loaded", active_state="failed", user="etcd"),
                          probe=dict(ran=True, error="context deadline exceeded"), marks={},
                          data=dict(exists=True, initialised=True),
                          space=[dict(mount="/", free=10**10), dict(mount="/", free=10**10)]))


SETTINGS = dict(env_file="/data/etcd.env", data_dir="/data/etcd.data", snapshot="/store/s.db")


def settings(**hosts):
    return dict(SETTINGS, hosts={h: dict(name=v[0], address=v[1]) for h, v in hosts.items()})


def second_read(certs=(), keys=()):
    return dict(data=dict(exists=False, initialised=False, mountpoint=False, owner="", group=""),
                space=[dict(mount="/", free=10**10), dict(mount="/", free=10**10)],
                certificates={p: dict(path=p, pem=CA, error="") for p in certs},
                paths={p: dict(exists=True) for p in list(certs) + list(keys)})


def test_fresh_hosts_are_those_read_without_an_env_file():
    seen = [fresh("node1", "10.1.0.1"), old("node2", "10.0.0.2"),
            dict(host="node3", node=dict(unreachable=True)), dict(host="node4", node=dict(failed=True))]
    assert nh.fresh_hosts(seen) == ["node1"]


def test_three_new_machines_keep_their_names_and_take_their_new_addresses():
    seen = [fresh("node%d" % i, "10.1.0.%d" % i) for i in (1, 2, 3)]
    txt, rec = saved(bundle())
    out = recovery_new_hosts(seen, txt, rec, settings(node1=("node1", "10.1.0.1"), node2=("node2", "10.1.0.2"),
                                                      node3=("node3", "10.1.0.3")))
    assert out["refusals"] == []
    one = out["hosts"]["node1"]
    assert (one["template"], one["how"], one["old_address"]) == ("node1", "its own", "10.0.0.1")
    assert one["env"]["ETCD_NAME"] == "node1"
    assert one["env"]["ETCD_LISTEN_CLIENT_URLS"] == "http://10.1.0.1:2379,http://127.0.0.1:2379"
    assert one["env"]["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == "http://10.1.0.1:2380"
    assert one["env"]["ETCD_ADVERTISE_CLIENT_URLS"] == "http://10.1.0.1:2379"
    # the comment and every other line kept; ETCD_INITIAL_CLUSTER is the switch's to write
    assert one["env_text"].startswith("# etcd member node1\n")
    assert "ETCD_INITIAL_CLUSTER=node1=http://10.0.0.1:2380" in one["env_text"]
    assert (one["env_mode"], one["user"], one["data_dir"], one["endpoint"]) == (
        "0640", "etcd", "/data/etcd.data", "http://10.1.0.1:2379")
    assert one["unit_files"][0]["resolved"] == "/data/etcd.service" and one["ca_files"] == {}
    assert out["lines"][0] == ("node1: etcd installed, env file and unit written from the recovery bundle (member "
                               "node1, its own), member node1 at 10.1.0.1")
    assert out["report"][0] == dict(host="node1", name="node1", address="10.1.0.1", made_from="node1",
                                    how="its own", ca_certificates=[], issued=[])


def test_a_renamed_host_takes_a_member_the_play_no_longer_holds():
    seen = [old("node1", "10.0.0.1"), old("node2", "10.0.0.2"), fresh("node9", "10.1.0.9")]
    txt, rec = saved(bundle())
    out = recovery_new_hosts(seen, txt, rec, settings(node9=("node9", "10.1.0.9")))
    nine = out["hosts"]["node9"]
    assert (nine["template"], nine["how"], nine["env"]["ETCD_NAME"]) == ("node3", "renamed from node3", "node9")
    assert nine["env"]["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == "http://10.1.0.9:2380"


def test_a_fourth_host_is_made_from_the_first_member():
    seen = [old("node%d" % i, "10.0.0.%d" % i) for i in (1, 2, 3)] + [fresh("node4", "10.1.0.4")]
    txt, rec = saved(bundle())
    nine = recovery_new_hosts(seen, txt, rec, settings(node4=("etcd-4", "10.1.0.4")))["hosts"]["node4"]
    assert (nine["template"], nine["how"], nine["name"]) == ("node1", "made from node1's", "etcd-4")


def test_ipv6_and_names_and_other_hosts_in_the_urls():
    part = dict(env="ETCD_NAME=a\nETCD_INITIAL_ADVERTISE_PEER_URLS=https://etcd-a.example:2380\n"
                    "ETCD_LISTEN_PEER_URLS=https://0.0.0.0:2380\n"
                    "ETCD_ADVERTISE_CLIENT_URLS=https://etcd-a.example:2379,https://lb.example:2379\n")
    out, env, was = nh.member_env(part, "a", "fd00::5")
    assert was == "etcd-a.example"
    assert env["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == "https://[fd00::5]:2380"
    assert env["ETCD_LISTEN_PEER_URLS"] == "https://0.0.0.0:2380"
    assert env["ETCD_ADVERTISE_CLIENT_URLS"] == "https://[fd00::5]:2379,https://lb.example:2379"


@pytest.mark.parametrize("case,message", [
    ("no record", "has no recovery bundle in its metadata"),
    ("not beside", "is not beside it"),
    ("changed", "was changed or damaged since the backup"),
    ("not json", "is no JSON"),
    ("format", "not in a format this collection reads"),
    ("no member", "holds no member (the backup could read none: node1: unreachable)"),
    ("no unit", "has no unit file: it cannot set up a new host"),
    ("env elsewhere", "kept its env file at /etc/etcd.env, and this run reads /data/etcd.env"),
])
def test_a_bundle_that_cannot_set_up_the_new_hosts_is_refused(case, message):
    b = bundle()
    if case == "no member":
        b = bundle(names=(), missing={"node1": "unreachable"})
    if case == "no unit":
        b["members"]["node1"]["unit_files"] = []
    if case == "env elsewhere":
        b["members"]["node1"]["env_file"] = "/etc/etcd.env"
    txt, rec = saved(b)
    if case == "no record":
        rec = {}
    if case == "not beside":
        txt = None
    if case == "changed":
        txt = txt.replace("etcd-cluster", "other-cluster")
    if case in ("not json", "format"):
        txt = "{" if case == "not json" else json.dumps(dict(format=9, members={}))
        rec = dict(rec, sha256=hashlib.sha256(txt.encode()).hexdigest())
    out = recovery_new_hosts([fresh("node1", "10.1.0.1")], txt, rec, settings(node1=("node1", "10.1.0.1")))
    assert len(out["refusals"]) == 1 and message in out["refusals"][0]
    assert "Nothing was changed on any member." in out["refusals"][0] and "Fix:" in out["refusals"][0]
    assert out["seen"][0]["node"]["env_exists"] is False


def test_the_members_are_read_as_the_new_hosts_will_be():
    seen = [old("node1", "10.0.0.1"), fresh("node2", "10.1.0.2")]
    txt, rec = saved(bundle())
    out = recovery_new_hosts(seen, txt, rec, settings(node2=("node2", "10.1.0.2")), {"node2": second_read()})
    assert out["seen"][0] is seen[0]
    two = out["seen"][1]["node"]
    assert two["env_exists"] and two["new_host"] and two["env"]["ETCD_NAME"] == "node2"
    assert two["unit"] == dict(load_state="loaded", active_state="inactive", user="etcd")
    assert two["probe"]["ran"] is False and two["marks"] == {} and two["data"]["exists"] is False
    cluster = recovery_cluster(out["seen"], dict(group=["node1", "node2"], play=["node1", "node2"],
                                                 env_file="/data/etcd.env"))
    assert cluster["refusals"] == [] and cluster["outside"] == [{"name": "node3", "peer_urls": ["http://10.0.0.3:2380"],
                                                                 "client_url": "http://10.0.0.3:2379"}]
    assert cluster["initial_cluster"] == "node1=http://10.0.0.1:2380,node2=http://10.1.0.2:2380"
    # the plan: the new host is lost like any member that does not answer; no "install etcd's tools" refusal
    plan = recovery_plan(cluster["members"], dict(sha256="a" * 64, size=1000, meta=dict(
        cluster_id="c1", member_peer_urls={"node1": ["http://10.0.0.1:2380"], "node2": ["http://10.0.0.2:2380"]})),
        dict(initial_cluster=cluster["initial_cluster"], stamp="20261205T000000Z", new_token=True))
    assert plan["state"] == "recover" and plan["refusals"] == []
    assert plan["members"]["node2"]["owner"] == "etcd"


def test_all_new_at_new_addresses_need_the_snapshot_s_cluster_named():
    seen = [fresh("node%d" % i, "10.1.0.%d" % i) for i in (1, 2)]
    txt, rec = saved(bundle(names=("node1", "node2")))
    out = recovery_new_hosts(seen, txt, rec, settings(node1=("node1", "10.1.0.1"), node2=("node2", "10.1.0.2")),
                             {"node1": second_read(), "node2": second_read()})
    cluster = recovery_cluster(out["seen"], dict(group=["node1", "node2"], play=["node1", "node2"]))
    snap = dict(sha256="a" * 64, size=1000, meta=dict(cluster_id="c1", member_peer_urls={
        "node1": ["http://10.0.0.1:2380"], "node2": ["http://10.0.0.2:2380"]}))
    base = dict(initial_cluster=cluster["initial_cluster"], stamp="20261205T000000Z")
    refused = recovery_plan(cluster["members"], snap, base)["refusals"]
    assert "is a snapshot of another cluster (ID c1" in refused[0]
    assert "-e etcd_recovery_snapshot_cluster=c1." in refused[0]
    assert "if node1, node2 are the cluster's new machines, that is the fix" in refused[0]
    assert recovery_plan(cluster["members"], snap, dict(base, snapshot_cluster="c1"))["refusals"] == []


def test_without_the_flag_a_member_with_no_env_file_is_refused_with_it_named():
    seen = [fresh("node1", "10.1.0.1"), old("node2", "10.0.0.2")]
    off = recovery_cluster(seen, dict(group=["node1", "node2"], play=["node1", "node2"], env_file="/data/etcd.env"))
    assert off["new_hosts"] == []
    assert off["refusals"][0].startswith("node1 has no /data/etcd.env: etcd is not set up there (a new machine?)")
    assert "-e etcd_recovery_new_hosts=true" in off["refusals"][0]
    on = recovery_cluster(seen, dict(group=["node1", "node2"], play=["node1", "node2"], new_hosts=True))
    assert on["new_hosts"] == ["node1"] and on["refusals"] == []


def test_a_tls_host_needs_its_own_certificate_and_key_there():
    seen = [fresh("node1", "10.1.0.1")]
    txt, rec = saved(bundle(names=("node1",), tls=True))
    s = settings(node1=("node1", "10.1.0.1"))
    planned = recovery_new_hosts(seen, txt, rec, s)["hosts"]["node1"]
    assert planned["ca_files"] == {"/data/pki/ca.crt": CA}
    assert (planned["cert_paths"], planned["key_paths"]) == (["/data/pki/member.crt"], ["/data/pki/member.key"])
    lacking = recovery_new_hosts(seen, txt, rec, s, {"node1": second_read()})
    assert len(lacking["refusals"]) == 1
    assert "names TLS files that are not there: /data/pki/member.crt, /data/pki/member.key" in lacking["refusals"][0]
    there = recovery_new_hosts(seen, txt, rec, s, {"node1": second_read(["/data/pki/member.crt"],
                                                                        ["/data/pki/member.key"])})
    assert there["refusals"] == []
    node = there["seen"][0]["node"]
    assert node["conn"] == dict(ca_cert="/data/pki/ca.crt", client_cert="/data/pki/member.crt",
                                client_key="/data/pki/member.key")
    assert node["peer_cert"]["path"] == "/data/pki/member.crt"
    # the peer certificate is judged as every member's: this one holds no certificate
    cluster = recovery_cluster(there["seen"], dict(group=["node1"], play=["node1"]))
    assert "ETCD_PEER_CERT_FILE (/data/pki/member.crt) holds no certificate" in cluster["refusals"][0]


def test_a_separate_wal_dir_gets_its_own_space():
    b = bundle(names=("node1",))
    b["members"]["node1"]["env"] += "ETCD_WAL_DIR=/wal/etcd\n"
    txt, rec = saved(b)
    read = second_read()
    read["space"] = [dict(mount="/", free=1), dict(mount="/wal", free=2), dict(mount="/", free=3)]
    node = recovery_new_hosts([fresh("node1", "10.1.0.1")], txt, rec, settings(node1=("node1", "10.1.0.1")),
                              {"node1": read})["seen"][0]["node"]
    assert node["wal"]["dir"] == "/wal/etcd" and node["wal"]["space"] == dict(mount="/wal", free=2)
    assert node["space"] == [dict(mount="/", free=1), dict(mount="/", free=3)]


def test_the_unit_s_user_is_the_last_user_line_of_its_service_section():
    units = [dict(text="[Service]\nUser=etcd\n"), dict(text="[Unit]\nUser=x\n[Service]\nUser=kube\n")]
    assert nh._user(units) == "kube"
    assert nh._user([dict(text="[Service]\nType=notify\n")]) == ""


def test_the_newest_snapshot_of_a_named_cluster_is_chosen_whatever_its_members():
    metas = [dict(cluster_id="c1"), dict(cluster_id="c2"), dict(cluster_id="c1")]
    assert snapshots_of_cluster(["a", "b", "c"], metas, ["node1"], [["http://10.1.0.1:2380"]], "c1") == ["a", "c"]
    assert snapshots_of_cluster(["a", "b", "c"], metas, ["node1"], [["http://10.1.0.1:2380"]]) == []


def public_of(key_pem):
    """A private key's public half as PEM, as community.crypto.openssl_privatekey_info returns it."""
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def tls_bundle(ca_pem):
    b = bundle(names=("node1",), tls=True)
    for var in ("ETCD_TRUSTED_CA_FILE", "ETCD_PEER_TRUSTED_CA_FILE"):
        b["members"]["node1"]["certificates"][var]["pem"] = ca_pem
    return b


KEYS_SAVED = dict(saved=True, identity="/id/age.key", decrypted=True, error="")


@pytest.mark.parametrize("case,controller,in_bundle,keys,issued_by,why", [
    ("the controller's CA key", "ca", None, {}, "controller", ""),
    ("the bundle's CA key, the controller has none", "none", "ca", KEYS_SAVED, "bundle", ""),
    ("the controller's stale key wins over the bundle's", "other", "ca", KEYS_SAVED, "",
     "the CA key at /inv/etcd-pki/etcd-cluster/ca.key is not the key of the cluster's CA"),
    ("no key anywhere", "none", None, dict(saved=False), "",
     "the controller has no CA key at /inv/etcd-pki/etcd-cluster/ca.key (The file does not exist), and the backup "
     "saved no keys (etcd_backup_config_keys)"),
    ("keys saved, no identity", "none", None, dict(saved=True, identity=""), "",
     "the bundle's keys file (age-encrypted) was not decrypted: etcd_recovery_age_identity_file is not set"),
    ("keys saved, another identity", "none", None,
     dict(saved=True, identity="/id/other.key", decrypted=False, error="age: error: no identity matched any of\n"
          " the recipients"), "",
     "could not be decrypted with /id/other.key (age: error: no identity matched any of the recipients)"),
    ("the bundle's key is another CA's", "none", "other", KEYS_SAVED, "",
     "and the CA key in the bundle's keys file is not the key of the cluster's CA"),
    ("keys without a CA key", "none", None, KEYS_SAVED, "", "and the bundle's keys file holds no CA key"),
    ("some files there", "ca", None, {}, "", "some of them are there (they are not replaced)"),
])
def test_a_tls_host_without_its_files_gets_them_issued_by_the_cluster_s_ca_only(
        case, controller, in_bundle, keys, issued_by, why, ca_pair):
    key_pem, ca_pem = ca_pair()
    public, other = public_of(key_pem), public_of(ca_pair()[0])
    txt, rec = saved(tls_bundle(ca_pem))
    s = dict(settings(node1=("node1", "10.1.0.1")), pki_dir="/inv/etcd-pki", sans=["etcd.example"])
    seen = [fresh("node1", "10.1.0.1")]
    first = recovery_new_hosts(seen, txt, rec, s)
    assert first["tls"] and first["ca_key_path"] == "/inv/etcd-pki/etcd-cluster/ca.key"
    info = {"ca": dict(public_key=public), "other": dict(public_key=other),
            "none": dict(failed=True, msg="The file does not exist"), None: None}
    candidates = dict(controller=info[controller], bundle=info[in_bundle], keys=keys)
    read = second_read(["/data/pki/member.crt"]) if case == "some files there" else second_read()
    out = recovery_new_hosts(seen, txt, rec, s, {"node1": read}, candidates)
    if issued_by:
        assert out["refusals"] == [] and out["issue"] == ["node1"]
        assert out["ca_source"] == issued_by and out["ca_cert"] == ca_pem
        node = out["seen"][0]["node"]
        assert node["tls_issue"] is True
        assert out["hosts"]["node1"]["sans"] == ["IP:10.1.0.1", "IP:127.0.0.1", "DNS:localhost", "DNS:node1",
                                                 "DNS:etcd.example"]
        assert out["lines"][0].endswith("; its certificate and key issued by the cluster's CA for IP:10.1.0.1, "
                                        "IP:127.0.0.1, DNS:localhost, DNS:node1, DNS:etcd.example")
        assert out["report"][0]["issued"][0] == "IP:10.1.0.1"
        # no certificate to judge yet: the peer certificate check leaves the issued one alone
        assert recovery_cluster(out["seen"], dict(group=["node1"], play=["node1"]))["refusals"] == []
        return
    assert out["issue"] == [] and out["ca_source"] == "" and len(out["refusals"]) == 1
    assert why in out["refusals"][0], out["refusals"][0]
    assert "this run issues them" in out["refusals"][0] and "Nothing was changed on any member." in out["refusals"][0]


# The role passes slurp's result of the bundle file: ansible-core before 2.19 would turn its text, decoded in a
# template, into a dict (it reads as a Python literal), and the sha256 check needs the file's bytes.
def test_the_bundle_as_slurp_read_it_is_the_same_as_its_text():
    seen = [fresh("node%d" % i, "10.1.0.%d" % i) for i in (1, 2, 3)]
    txt, rec = saved(bundle())
    hosts = settings(node1=("node1", "10.1.0.1"), node2=("node2", "10.1.0.2"), node3=("node3", "10.1.0.3"))
    slurped = dict(content=base64.b64encode(txt.encode()).decode(), encoding="base64", source="/s/a.db.config.json")
    assert recovery_new_hosts(seen, slurped, rec, hosts) == recovery_new_hosts(seen, txt, rec, hosts)
    assert recovery_new_hosts(seen, slurped, rec, hosts)["refusals"] == []


@pytest.mark.parametrize("read", [
    dict(failed=True, msg="file not found: /s/a.db.config.json"),
    dict(skipped=True, changed=False),
    None,
    "",  # a none a template rendered before ansible-core 2.19
], ids=["failed", "skipped", "none", "empty text"])
def test_a_bundle_slurp_could_not_read_is_not_beside_the_snapshot(read):
    rec = saved(bundle())[1]
    out = recovery_new_hosts([fresh("node1", "10.1.0.1")], read, rec, settings(node1=("node1", "10.1.0.1")))
    assert out["refusals"] and "is not beside it" in out["refusals"][0]
