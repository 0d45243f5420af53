"""etcd_backup_config: the recovery bundle of a backup from what etcd_node_info read, its record in the metadata
and its line in the summary; written by the store beside the snapshot and pruned with it."""

import base64
import hashlib
import json

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_config as cfg
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_store as store

CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nN1\n-----END CERTIFICATE-----\n"


def node(name, tls=False, **config):
    env = {"ETCD_NAME": name}
    base = dict(unit_files=[dict(path="/etc/systemd/system/etcd.service", resolved="/data/etcd.service",
                                 text="[Service]\n", error="")], certificates={}, keys={})
    if tls:
        base["certificates"] = {"ETCD_TRUSTED_CA_FILE": dict(path="/etc/etcd/ca.pem", pem=CA, error=""),
                                "ETCD_CERT_FILE": dict(path=f"/etc/etcd/{name}.pem", pem=CERT, error="")}
        base["keys"] = {"ETCD_KEY_FILE": f"/etc/etcd/{name}-key.pem"}
    base.update(config)
    return dict(env_exists=True, env=env, env_text=f"ETCD_NAME={name}\n", env_mode="0644", config=base)


def test_a_bundle_of_three_members_one_unreachable():
    nodes = {"node1": node("node1", tls=True), "node2": node("n2", tls=True),
             "node3": dict(unreachable=True, msg="Failed to connect\n to the host")}
    b = cfg.bundle(nodes, "etcd-cluster", "etcd-cluster-20261205T000000Z-r9.db", "/data/etcd.env")
    assert sorted(b["members"]) == ["n2", "node1"]
    assert b["missing"] == {"node3": "unreachable: Failed to connect to the host"}
    one = b["members"]["node1"]
    assert one == dict(host="node1", env_file="/data/etcd.env", env_mode="0644", env="ETCD_NAME=node1\n",
                       unit_files=[dict(path="/etc/systemd/system/etcd.service", resolved="/data/etcd.service",
                                        text="[Service]\n")],
                       certificates={"ETCD_CERT_FILE": dict(path="/etc/etcd/node1.pem", pem=CERT),
                                     "ETCD_TRUSTED_CA_FILE": dict(path="/etc/etcd/ca.pem", pem=CA)},
                       keys={"ETCD_KEY_FILE": "/etc/etcd/node1-key.pem"})
    assert b["members"]["n2"]["host"] == "node2" and b["keys_saved"] is False and b["format"] == 1
    assert "PRIVATE" not in json.dumps(b)
    rec = cfg.record(b, "etcd-cluster-20261205T000000Z-r9.db")
    text = cfg.text(b).encode()
    assert rec == dict(file="etcd-cluster-20261205T000000Z-r9.db.config.json", sha256=hashlib.sha256(text).hexdigest(),
                       size=len(text), members=["n2", "node1"], missing={"node3": b["missing"]["node3"]}, problems={},
                       ca_certificates=["/etc/etcd/ca.pem"], certificates=4, keys_saved=False, keys={})
    assert cfg.summary(rec) == (
        "etcd-cluster-20261205T000000Z-r9.db.config.json: env file and unit of n2, node1; 4 certificates (CA: "
        "/etc/etcd/ca.pem); no private key (their paths only); missing node3 (unreachable: Failed to connect to the "
        "host)")


def test_what_could_not_be_read_is_named():
    bad = node("node1", unit_files=[dict(path="/x.service", resolved="", text="", error="Permission denied")],
               certificates={"ETCD_PEER_CERT_FILE": dict(path="/p.pem", pem="", error="it holds a private key, which "
                                                                                      "is not returned")})
    nodes = {"node1": bad, "node2": dict(env_exists=False, env={}, config={}),
             "node3": dict(failed=True, msg="boom"), "node4": dict(env_exists=True, env={})}
    b = cfg.bundle(nodes, "c", "s.db")
    assert b["problems"] == {"node1": ["/x.service: Permission denied", "no unit file was read",
                                       "ETCD_PEER_CERT_FILE /p.pem: it holds a private key, which is not returned"]}
    assert b["missing"] == {"node2": "no env file", "node3": "its read failed: boom",
                            "node4": "its read did not ask for it"}
    assert b["members"]["node1"]["unit_files"] == [] and b["members"]["node1"]["certificates"] == {}
    line = cfg.summary(cfg.record(b, "s.db"))
    assert line == ("s.db.config.json: env file and unit of node1; missing node2 (no env file); node3 (its read "
                    "failed: boom); node4 (its read did not ask for it); not read: node1: /x.service: Permission "
                    "denied, no unit file was read, ETCD_PEER_CERT_FILE /p.pem: it holds a private key, which is not "
                    "returned")
    assert cfg.summary({}) == ""


def test_the_store_writes_it_records_it_and_prunes_it(tmp_path):
    b = cfg.bundle({"node1": node("node1")}, "c", "c-20261205T000000Z-r1.db")
    olds = []
    for stamp in ("20261201T000000Z", "20261202T000000Z"):
        snap = tmp_path / f"c-{stamp}-r1.db"
        snap.write_bytes(b"x")
        written = store.write_sidecars(str(snap), "a" * 64, {"members": ["node1"]}, config=b)
        assert written == [f"{snap}.config.json", f"{snap}.sha256", f"{snap}.json"]
        olds.append(snap)
    meta = json.loads(olds[0].with_name(olds[0].name + ".json").read_text())
    body = (tmp_path / (olds[0].name + ".config.json")).read_bytes()
    assert meta["config"]["sha256"] == hashlib.sha256(body).hexdigest() and json.loads(body) == b
    assert oct((tmp_path / (olds[0].name + ".config.json")).stat().st_mode & 0o777) == "0o600"
    kept, removed = store.prune(str(tmp_path), "c", 1)
    assert removed == [olds[0].name] and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        olds[1].name + ext for ext in ("", ".sha256", ".json", ".config.json"))
    plain = tmp_path / "c-20261203T000000Z-r1.db"
    plain.write_bytes(b"x")
    assert store.write_sidecars(str(plain), "a" * 64, {}) == [f"{plain}.sha256", f"{plain}.json"]
    assert "config" not in json.loads((tmp_path / (plain.name + ".json")).read_text())


RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


@pytest.mark.parametrize("config, recipients, age, messages", [
    (True, [RECIPIENT], True, []),
    (True, [], True, ["etcd_backup_config_age_recipients is empty: the private keys are saved only encrypted, never "
                      "in plain. Fix: give the age public keys"]),
    (False, [RECIPIENT], True, ["etcd_backup_config is false. Fix: set etcd_backup_config=true"]),
    (True, ["AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQ", RECIPIENT], True,
     ["etcd_backup_config_age_recipients holds AGE-SECRET-KEY-...,"]),
    (True, [RECIPIENT], False, ["The controller has no age, which etcd_backup_config_keys needs"]),
])
def test_keys_refusals(config, recipients, age, messages):
    got = cfg.keys_refusals(config, True, recipients, age)
    assert len(got) == len(messages)
    for line, message in zip(got, messages, strict=True):
        assert message in line and line.endswith("Nothing was changed on any member.")
    assert "QQQQQQQQQQQQQQQQ" not in " ".join(got)  # a private key given by mistake is cut short
    assert cfg.keys_refusals(False, False, [], False) == []


def test_bad_recipients():
    assert cfg.bad_recipients([RECIPIENT, "ssh-ed25519 AAAAC3Nza me@host", "ssh-rsa AAAAB3", "age1short", ""]) == [
        "age1short...", "..."]


def slurped(*pairs):
    return dict(results=[dict(item=path, content=base64.b64encode(text.encode()).decode()) if text is not None
                         else dict(item=path, failed=True, msg="file not found") for path, text in pairs])


def test_the_ca_key_only_when_it_is_the_key_of_the_ca_the_members_trust(ca_pair):
    key, cert = ca_pair()
    other_key, _other_cert = ca_pair()
    trusted = node("node1", tls=True)
    trusted["config"]["certificates"]["ETCD_TRUSTED_CA_FILE"]["pem"] = cert
    nodes = {"node1": trusted}
    assert cfg.ca_key_trusted(dict(path="/pki/ca.key", pem=key), nodes)
    got = cfg.keys_content({}, nodes, dict(path="/pki/ca.key", pem=key))
    assert json.loads(got["content"])["ca_key"] == {"path": "/pki/ca.key", "pem": key}
    assert got["ca_key"] == "/pki/ca.key"
    stale = cfg.keys_content({}, nodes, dict(path="/pki/ca.key", pem=other_key))
    assert json.loads(stale["content"])["ca_key"] is None and stale["ca_key"] == ""
    assert stale["problems"]["CA"] == ["/pki/ca.key is not the key of the CA the members trust: not saved"]
    assert not cfg.ca_key_trusted(dict(path="/x", pem="not a key"), nodes)
    assert not cfg.ca_key_trusted(dict(path="/x", pem=key), {"node1": node("node1")})  # no CA certificate


def test_keys_content_and_its_record(monkeypatch):
    monkeypatch.setattr(cfg, "ca_key_trusted", lambda ca_key, nodes: True)
    reads = {"node1": slurped(("/k/node1.key", "-----BEGIN PRIVATE KEY-----\nA\n")),
             "node2": slurped(("/k/node2.key", None)),
             "node3": dict(results=[dict(item="/k/node3.key", skipped=True)])}
    names = {"node1": node("node1", keys={"ETCD_KEY_FILE": "/k/node1.key", "ETCD_PEER_KEY_FILE": "/k/node1.key"}),
             "node2": node("node2", keys={"ETCD_KEY_FILE": "/k/node2.key"}),
             "node3": node("node3", keys={"ETCD_KEY_FILE": "/k/node3.key"}),
             "node4": dict(unreachable=True)}
    got = cfg.keys_content(reads, names, dict(path="/pki/ca.key", pem="-----BEGIN EC PRIVATE KEY-----\nC\n"))
    content = json.loads(got["content"])
    assert content["members"] == {"node1": {
        "ETCD_KEY_FILE": {"path": "/k/node1.key", "pem": "-----BEGIN PRIVATE KEY-----\nA\n"},
        "ETCD_PEER_KEY_FILE": {"path": "/k/node1.key", "pem": "-----BEGIN PRIVATE KEY-----\nA\n"}}}
    assert content["ca_key"]["path"] == "/pki/ca.key"
    assert got["members"] == {"node1": ["ETCD_KEY_FILE", "ETCD_PEER_KEY_FILE"]} and got["ca_key"] == "/pki/ca.key"
    assert got["problems"] == {"node2": ["/k/node2.key: file not found"], "node3": ["no key read"]}
    keys = dict(file="c.db.keys.age", sha256="f" * 64, size=99, recipients=[RECIPIENT], members=got["members"],
                ca_key=got["ca_key"], problems=got["problems"])
    b = cfg.bundle({"node1": node("node1", tls=True)}, "c", "c.db", keys=keys)
    assert b["keys_saved"] is True and b["keys"]["file"] == "c.db.keys.age"
    assert "PRIVATE" not in cfg.text(b)
    rec = cfg.record(b, "c.db")
    assert rec["keys_saved"] is True and rec["keys"]["sha256"] == "f" * 64
    assert cfg.summary(rec) == (
        "c.db.config.json: env file and unit of node1; 2 certificates (CA: /etc/etcd/ca.pem); the private keys of "
        "node1 and the CA in c.db.keys.age, age-encrypted to 1 key(s); keys not read on node2: /k/node2.key: file "
        "not found; keys not read on node3: no key read")
    assert cfg.bundle_files(rec) == ["c.db.config.json", "c.db.keys.age"] and cfg.bundle_files({}) == []
    assert cfg.keys_content({}, {})["content"] == json.dumps(dict(ca_key=None, format=1, members={}), sort_keys=True)
