"""etcd_backup_config: the recovery bundle of a backup from what etcd_node_info read, its record in the metadata
and its line in the summary; written by the store beside the snapshot and pruned with it."""

import hashlib
import json

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
                       ca_certificates=["/etc/etcd/ca.pem"], certificates=4, keys_saved=False)
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
