"""A TLS cluster as a user has one: deploy.yml with etcd_deploy_tls (https client and peer URLs, client
certificates required), then backup.yml, replace_member.yml and disaster_recovery.yml with the README's commands
and no TLS variable (they read the env files). Wrong TLS files are refused with every node unchanged."""

import base64
import datetime
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

KEYS = 30
DATA = "/data/etcd.data"
PKI = "/data/pki"
# etcdctl as an operator on a member runs it against the TLS loopback listener
ETCDCTL = (f"ETCDCTL_CACERT={PKI}/ca.crt ETCDCTL_CERT={PKI}/member.crt ETCDCTL_KEY={PKI}/member.key "
           "ETCDCTL_ENDPOINTS=https://127.0.0.1:2379 etcdctl")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return tmp_path_factory.mktemp("pki")


def deploy(pki, *args):
    return lab.playbook("deploy", lab.INVENTORY, "-e", "etcd_deploy_tls=true", "-e", f"etcd_deploy_pki_dir={pki}",
                        *args)


def fingerprints():
    return {n: lab.fingerprint(n) for n in lab.NODES}


def refused(playbook, proc, before, *messages, case=""):
    assert proc.returncode != 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    for message in messages:
        assert message in out, out[-3000:]
    assert fingerprints() == before, out[-3000:]
    for name in lab.NODES:  # no copy of a snapshot left on a node
        assert lab.node(name).run("ls -A /var/lib/etcd-ops/recovery 2>/dev/null").stdout.strip() == ""
    lab.record_refusal(playbook, proc, case)


def members():
    return json.loads(lab.node("node1").check_output(f"{ETCDCTL} member list -w json"))["members"]


def keys_on(name):
    out = lab.node(name).check_output(f"{ETCDCTL} get /tls/ --prefix -w json --consistency=s")
    kvs = json.loads(out).get("kvs", [])
    return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}


def assert_whole_cluster():
    lab.wait_healthy(etcdctl=ETCDCTL)
    listed = members()
    assert sorted(m.get("name", "") for m in listed) == ["node1", "node2", "node3"]
    assert not any(m.get("isLearner") for m in listed)
    assert all(url.startswith("https://") for m in listed for url in m["peerURLs"] + m.get("clientURLs", []))
    for name in lab.NODES:
        assert keys_on(name) == {f"/tls/k{i}": f"v{i}" for i in range(1, KEYS + 1)}, name


def key_free(proc, *dirs, playbook="deploy.yml", case=""):
    """Issue #24, edge 3: no private key in a run's output (--diff, -vvv): no PEM key header, and not the first
    line of the body of any key file under `dirs` (the controller's PKI dir, the user's own files), which holds
    the private number. (An EC key's last line is its public key, which community.crypto's diff shows.)"""
    out = proc.stdout
    assert "PRIVATE KEY" not in out, "a private key is in the output"
    for path in (p for d in dirs for p in Path(d).rglob("*.key")):
        first = path.read_text().splitlines()[1]
        assert first not in out, f"the private part of {path} is in the output"
    if case:
        lab.record_edge(3, playbook, case, "no private key and no password in the output", proc,
                        detail=f"rc {proc.returncode}; searched for PEM key headers, the body of every key file "
                        "and the etcd password", issue=24)
    return proc


def test_deploy_makes_a_tls_cluster_and_a_second_run_changes_nothing(pki):
    proc = key_free(deploy(pki, "--diff"), pki, case="deploy.yml -e etcd_deploy_tls=true --diff (made keys)")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "TLS | Copy the member's key (no diff)" in proc.stdout
    again = deploy(pki)
    assert again.returncode == 0, again.stdout[-4000:]
    assert all(counts["changed"] == 0 for counts in lab.recap(again.stdout).values()), again.stdout[-4000:]
    lab.wait_healthy(etcdctl=ETCDCTL)
    for name in lab.NODES:
        node = lab.node(name)
        key = node.file(f"{PKI}/member.key")
        assert (key.mode, key.user) == (0o600, "etcd")
        env = node.file("/data/etcd.env").content_string
        assert "ETCD_CLIENT_CERT_AUTH=true" in env and "ETCD_PEER_CLIENT_CERT_AUTH=true" in env
        # no certificate: refused; plain http: nothing answers
        assert node.run(f"ETCDCTL_CACERT={PKI}/ca.crt etcdctl --endpoints=https://127.0.0.1:2379 put /x y").rc != 0
        assert node.run("etcdctl --endpoints=http://127.0.0.1:2379 --dial-timeout=2s endpoint health").rc != 0
    assert all(url.startswith("https://") for m in members() for url in m["peerURLs"])
    lab.node("node1").check_output(
        f"for i in $(seq 1 {KEYS}); do {ETCDCTL} put /tls/k$i v$i >/dev/null || exit 1; done")


def test_switching_the_running_cluster_to_http_is_refused(pki):
    before = fingerprints()
    proc = lab.playbook("deploy", lab.INVENTORY)
    refused("deploy.yml", proc, before, "already runs a member with https peer URLs",
            "Nothing was changed on any member", "Fix: deploy with etcd_deploy_tls=True")


def test_deploy_with_another_pki_dir_is_refused(tmp_path):
    # the controller's PKI dir lost (or another named): a new CA would cut every member off from the others
    before = fingerprints()
    proc = deploy(tmp_path / "etcd-pki")
    refused("deploy.yml", proc, before, "node1 trusts the CA at /data/pki/ca.crt, but the controller's",
            "ca.crt does not exist", "Nothing was changed on any member", "Fix: set etcd_deploy_pki_dir")
    assert not (tmp_path / "etcd-pki").exists()


# --- the user's own certificates (etcd_deploy_tls_ca_src, _cert_src, _key_src) ------------------------------------
ADDRESSES = {"node1": lab.address(11), "node2": lab.address(12), "node3": lab.address(13)}
SERVER_AND_CLIENT = x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                           x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue(ca_cert, ca_key, cn, names, usage=SERVER_AND_CLIENT):
    """A key and a certificate for `cn`, signed by the CA, naming `names` (IP addresses and DNS names)."""
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.SubjectAlternativeName(sans), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if usage is not None:
        builder = builder.add_extension(usage, critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(scope="module")
def own_certs(pki, tmp_path_factory):
    """The user's own files, as a PKI outside the collection makes them: the cluster's CA (the one deploy made, so
    the running members trust it) signed a new certificate for each member. Also a CA of its own, for a refusal."""
    [ca_key_path] = pki.glob("*/ca.key")
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((ca_key_path.parent / "ca.crt").read_bytes())
    out = tmp_path_factory.mktemp("own-certs")
    (out / "ca.crt").write_bytes(pem(ca_cert))
    for name, address in ADDRESSES.items():
        key, cert = issue(ca_cert, ca_key, name, [address, "127.0.0.1", "localhost", name])
        (out / f"{name}.crt").write_bytes(pem(cert))
        (out / f"{name}.key").write_bytes(pem(key))
        (out / f"{name}.key").chmod(0o600)
    return out


def deploy_own(pki, files, *extra, ca="ca.crt", cert="{{ inventory_hostname }}.crt",
               key="{{ inventory_hostname }}.key"):
    args = list(extra)
    for var, value in (("ca", ca), ("cert", cert), ("key", key)):
        if value:
            args += ["-e", f"etcd_deploy_tls_{var}_src={files / value}"]
    return deploy(pki, *args)


def test_deploy_with_the_users_own_certificates(pki, own_certs):
    proc = key_free(deploy_own(pki, own_certs, "--diff"), own_certs,
                    case="deploy.yml --diff with the user's own certificates and keys")
    assert proc.returncode == 0, proc.stdout[-4000:]
    for name in lab.NODES:
        assert lab.node(name).file(f"{PKI}/member.crt").content == (own_certs / f"{name}.crt").read_bytes()
        key = lab.node(name).file(f"{PKI}/member.key")
        assert (key.mode, key.user) == (0o600, "etcd")
    lab.wait_healthy(etcdctl=ETCDCTL)  # the members talk to each other and to etcdctl with the new certificates
    assert sorted(m.get("name", "") for m in members()) == ["node1", "node2", "node3"]
    again = deploy_own(pki, own_certs)
    assert again.returncode == 0, again.stdout[-4000:]
    assert all(counts["changed"] == 0 for counts in lab.recap(again.stdout).values()), again.stdout[-4000:]


def test_own_certificates_that_do_not_fit_are_refused(pki, own_certs, tmp_path):
    [ca_key_path] = pki.glob("*/ca.key")
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((ca_key_path.parent / "ca.crt").read_bytes())
    for name in lab.NODES:
        for ext in ("crt", "key"):
            (tmp_path / f"{name}.{ext}").write_bytes((own_certs / f"{name}.{ext}").read_bytes())
    (tmp_path / "ca.crt").write_bytes((own_certs / "ca.crt").read_bytes())
    # node2: a certificate that names only the loopback address; node3: node1's key
    key, cert = issue(ca_cert, ca_key, "node2", ["127.0.0.1", "localhost"])
    (tmp_path / "node2.crt").write_bytes(pem(cert))
    (tmp_path / "node2.key").write_bytes(pem(key))
    (tmp_path / "node3.key").write_bytes((own_certs / "node1.key").read_bytes())
    # a server-only certificate (no clientAuth) for node1
    key, cert = issue(ca_cert, ca_key, "node1", [ADDRESSES["node1"], "127.0.0.1"],
                      usage=x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]))
    (tmp_path / "node1.crt").write_bytes(pem(cert))
    (tmp_path / "node1.key").write_bytes(pem(key))
    before = fingerprints()
    proc = deploy_own(pki, tmp_path)
    refused("deploy.yml", proc, before,
            f"node2: the certificate {tmp_path}/node2.crt does not name IP:{lab.address(12)}",
            f"the key {tmp_path}/node3.key is not the key of the certificate {tmp_path}/node3.crt",
            f"the certificate {tmp_path}/node1.crt does not allow both serverAuth and clientAuth",
            "Nothing was changed on any member",
            case="the user's own certificates: one without the member's address, one with another member's key, "
                 "one without clientAuth")
    # another CA than the one the members trust
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    other = (x509.CertificateBuilder().subject_name(other_name).issuer_name(other_name)
             .public_key(other_key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(now)
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .sign(other_key, hashes.SHA256()))
    (tmp_path / "other-ca.crt").write_bytes(pem(other))
    proc = deploy_own(pki, tmp_path, ca="other-ca.crt")
    refused("deploy.yml", proc, before, "was not issued by the CA", "Nothing was changed on any member",
            case="the user's own certificates with a CA that did not issue them")
    # only some of the three
    proc = deploy_own(pki, own_certs, ca="", key="")
    refused("deploy.yml", proc, before, "etcd_deploy_tls_ca_src, etcd_deploy_tls_cert_src and etcd_deploy_tls_key_src "
            "go together (given: cert_src)", case="the user's own certificate without its key and CA")


def test_backup_reads_the_tls_files_from_the_env_file(store):
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    [meta] = sorted(store.glob("*.db.json"))
    assert json.loads(meta.read_text())["keys"] >= KEYS
    # the recovery bundle (issue #26): the CA certificate and each member's certificates as the members hold them;
    # their keys by path only, never their contents
    [config] = sorted(store.glob("*.db.config.json"))
    text = config.read_text()
    assert "PRIVATE KEY" not in text
    bundle = json.loads(text)
    record = json.loads(meta.read_text())["config"]
    assert record["keys_saved"] is False and record["ca_certificates"] and record["certificates"] == 12
    for name in lab.NODES:
        node, part = lab.node(name), bundle["members"][name]
        env = dict(line.split("=", 1) for line in part["env"].splitlines() if "=" in line and not line.startswith("#"))
        ca = env["ETCD_TRUSTED_CA_FILE"]
        assert part["certificates"]["ETCD_TRUSTED_CA_FILE"] == {"path": ca, "pem": node.file(ca).content_string}
        peer = env["ETCD_PEER_CERT_FILE"]
        assert part["certificates"]["ETCD_PEER_CERT_FILE"]["pem"] == node.file(peer).content_string
        assert part["keys"] == {"ETCD_KEY_FILE": env["ETCD_KEY_FILE"], "ETCD_PEER_KEY_FILE": env["ETCD_PEER_KEY_FILE"]}
        assert "PRIVATE KEY" in node.file(env["ETCD_KEY_FILE"]).content_string  # the key is there, and not saved
    assert "no private key (their paths only)" in lab.flat(proc.stdout)


def test_the_keys_go_only_age_encrypted_to_the_given_recipient(pki, tmp_path):
    """Issue #26: etcd_backup_config_keys puts each member's keys and deploy's CA key into NAME.db.keys.age,
    encrypted to the recipient: its identity decrypts them; no key is in plain in the store, nor in the -vvv --diff
    output. Asked without a recipient, the backup is refused before it writes anything."""
    identity = tmp_path / "age.key"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True,
                               text=True).stdout.strip()
    store = tmp_path / "etcd-backups"
    args = ("-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_config_keys=true", "-e", f"etcd_deploy_pki_dir={pki}")
    proc = lab.playbook("backup", lab.INVENTORY, *args)
    assert proc.returncode != 0 and not list(store.glob("*.db")), proc.stdout[-3000:]
    assert ("etcd_backup_config_age_recipients is empty: the private keys are saved only encrypted, never in plain"
            in lab.flat(proc.stdout))
    proc = key_free(lab.playbook("backup", lab.INVENTORY, *args, "-vvv", "--diff",
                                 "-e", json.dumps({"etcd_backup_config_age_recipients": [recipient]})), pki)
    assert proc.returncode == 0, proc.stdout[-4000:]
    [snap] = store.glob("*.db")
    encrypted = Path(f"{snap}.keys.age")
    keys = json.loads(subprocess.run(["age", "-d", "-i", str(identity), str(encrypted)], check=True,
                                     capture_output=True).stdout)
    bundle = json.loads(Path(f"{snap}.config.json").read_text())
    for name in lab.NODES:
        for var, path in bundle["members"][name]["keys"].items():
            assert keys["members"][name][var] == {"path": path, "pem": lab.node(name).file(path).content_string}
    [ca_key] = pki.glob("*/ca.key")
    assert keys["ca_key"] == {"path": str(ca_key), "pem": ca_key.read_text()}
    record = json.loads(Path(f"{snap}.json").read_text())["config"]
    assert record["keys_saved"] and record["keys"]["recipients"] == [recipient]
    assert record["keys"]["sha256"] == hashlib.sha256(encrypted.read_bytes()).hexdigest()
    assert oct(encrypted.stat().st_mode & 0o777) == "0o600"
    assert not [f for f in store.iterdir() if b"PRIVATE KEY" in f.read_bytes()]
    assert (f"the private keys of node1, node2, node3 and the CA in {snap.name}.keys.age, age-encrypted to 1 key(s)"
            in lab.flat(proc.stdout))


@lab.full_only("the job with auth, below, snapshots over TLS too, from the same settings")
def test_the_scheduled_job_snapshots_over_tls(store):
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_now=false",
                        "-e", 'etcd_backup_schedule="2099-01-01 03:00:00"')
    assert proc.returncode == 0, proc.stdout[-4000:]
    node2 = lab.node("node2")
    settings = json.loads(node2.file("/etc/etcd-ops/backup.json").content_string)
    assert (settings["endpoint"], settings["ca_cert"], settings["client_key"]) == (
        f"https://{lab.address(12)}:2379", f"{PKI}/ca.crt", f"{PKI}/member.key")
    node2.check_output("systemctl start etcd-ops-backup.service")
    [snap] = [n for n in node2.check_output("ls -A /var/backups/etcd-ops").split() if n.endswith(".db")]
    assert json.loads(node2.file(f"/var/backups/etcd-ops/{snap}.json").content_string)["keys"] >= KEYS
    removed = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_now=false",
                           "-e", "etcd_backup_schedule=absent")
    assert removed.returncode == 0, removed.stdout[-4000:]


@pytest.fixture(scope="module")
def other_ca():
    """/root/other-ca.crt on every node: a CA that signed none of the cluster's certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    for name in lab.NODES:
        lab.node(name).check_output(f"printf '%s' '{pem}' > /root/other-ca.crt")
    return "/root/other-ca.crt"


@pytest.mark.parametrize("playbook,case,ca,messages", [
    ("backup", "a CA file that is not there", "/data/pki/no-such-ca.crt",
     ["ca_cert /data/pki/no-such-ca.crt does not exist on this host"]),
    ("backup", "a wrong TLS file: another CA than the one that signed the members' certificates", "other",
     # the cause: etcdctl 3.5's "certificate signed by unknown authority", the client's own handshake on 3.4
     ["No member of group etcd answers healthy", "certificate", "TLS files do not match the cluster"]),
    ("replace_member", "a wrong TLS file (another CA), node=node3", "other",
     ["No member of group etcd other than node3 answers healthy", "certificate",
      "TLS files do not match the cluster"]),
    ("disaster_recovery", "a wrong TLS file (another CA) on a healthy cluster", "other",
     ["etcd runs on node1 (systemd: active) but does not answer", "certificate", "Nothing was changed.",
      "TLS files do not match the cluster"]),
])
def test_wrong_tls_files_are_refused(store, other_ca, playbook, case, ca, messages):
    before = fingerprints()
    ca = other_ca if ca == "other" else ca
    extra = ["-e", "node=node3"] if playbook == "replace_member" else ["-e", f"etcd_backup_dir={store}"]
    proc = lab.playbook(playbook, lab.INVENTORY, *extra, "-e", f"etcd_ca_cert={ca}")
    refused(f"{playbook}.yml", proc, before, *messages, case=case)


def test_a_peer_certificate_that_does_not_name_its_member_is_refused(store):
    # node2's certificate swapped for node3's (same CA, names node3's address and node3)
    node2 = lab.node("node2")
    node3_cert = lab.node("node3").file(f"{PKI}/member.crt").content_string
    node2.check_output(f"cp -p {PKI}/member.crt /root/member.crt.saved && "
                       f"printf '%s' '{node3_cert}' > {PKI}/member.crt")
    try:
        before = fingerprints()
        proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
        refused("disaster_recovery.yml", proc, before,
                f"node2: the peer URLs are https (https://{lab.address(12)}:2380), "
                f"but its peer certificate {PKI}/member.crt does not name {lab.address(12)}",
                "Nothing was changed.", case="a peer certificate that does not name its member's address")
    finally:
        node2.check_output(f"cp -p /root/member.crt.saved {PKI}/member.crt")


def test_replace_member_on_tls():
    node3 = lab.node("node3")
    lab.etcd("node3", "stop")
    node3.check_output(f"rm -rf {DATA}")  # the disaster: the member lost its data
    proc = lab.playbook("replace_member", lab.INVENTORY, "-e", "node=node3")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert_whole_cluster()


def test_disaster_recovery_on_tls(store):
    for name in ("node2", "node3"):  # quorum lost for good
        lab.etcd(name, "stop")
        lab.node(name).check_output(f"rm -rf {DATA}")
    proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert_whole_cluster()


# --- etcd authentication on the TLS cluster (a root user with the root role, and bob without it) ---------------
# The password is unusual enough that finding it anywhere means it leaked. On the nodes the tests' own commands
# read it from a root-only file, so that their command lines (in the process lists watched below) never hold it.
PASSWORD = "Zq7-root-s3cret-4f1e"
AUTH = f"ETCDCTL_USER=root ETCDCTL_PASSWORD=$(cat /root/etcd-root-pw) {ETCDCTL}"


@pytest.fixture(scope="module")
def auth(tmp_path_factory):
    """The vars files (-e @FILE) for root, for bob (no root role) and a wrong password. A process list of every
    node is sampled every 0.2 s from then on into /root/ps.log."""
    for name in lab.NODES:
        node = lab.node(name)
        node.check_output(f"umask 077 && printf '%s' '{PASSWORD}' > /root/etcd-root-pw && printf bob-pw > /root/bob-pw")
        node.check_output("rm -f /root/ps.log; setsid nohup sh -c 'echo $$ > /root/ps.pid; while :; do "
                          "ps -eo args >> /root/ps.log; sleep 0.2; done' >/dev/null 2>&1 < /dev/null &")
    files = tmp_path_factory.mktemp("auth")
    (files / "root.yml").write_text(f"etcd_user: root\netcd_password: {PASSWORD}\n")
    (files / "bob.yml").write_text("etcd_user: bob\netcd_password: bob-pw\n")
    (files / "wrong.yml").write_text("etcd_user: root\netcd_password: not-the-password\n")
    yield {name: f"@{files / name}.yml" for name in ("root", "bob", "wrong")}
    for name in [n for n in lab.NODES if lab.running(n)]:  # the last test replaces the machines
        lab.node(name).run("kill $(cat /root/ps.pid)")


def secret_free(proc, playbook="", case=""):
    """No etcd password (and no private key) in a run's output (-vvv --diff)."""
    assert PASSWORD not in proc.stdout, "the password is in the -vvv --diff output"
    return key_free(proc, playbook=playbook, case=case)


def assert_whole_auth_cluster():
    lab.wait_healthy(etcdctl=AUTH)
    out = lab.node("node1").check_output(f"{AUTH} get /tls/ --prefix --keys-only -w json")
    assert len(json.loads(out).get("kvs", [])) == KEYS
    # auth still on: the member certificate's CN (node1) is no etcd user with a role
    assert "permission denied" in lab.node("node1").run(f"{ETCDCTL} get /tls/k1").stderr
    assert sorted(m.get("name", "") for m in members()) == ["node1", "node2", "node3"]


def test_deploy_turns_etcd_auth_on(pki, auth):
    proc = secret_free(deploy(pki, "-vvv", "--diff", "-e", "etcd_deploy_auth=true", "-e", auth["root"]),
                       "deploy.yml", "deploy.yml -e etcd_deploy_auth=true -vvv --diff (the root password)")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "auth: created user root, granted role root to root, enabled auth" in lab.flat(proc.stdout)
    again = deploy(pki, "-e", "etcd_deploy_auth=true", "-e", auth["root"])
    assert again.returncode == 0, again.stdout[-4000:]
    assert "auth: on (root logs in)" in lab.flat(again.stdout)
    assert all(counts["changed"] == 0 for counts in lab.recap(again.stdout).values()), again.stdout[-4000:]
    node1 = lab.node("node1")
    assert "permission denied" in node1.run(f"{ETCDCTL} get /tls/k1").stderr  # the certificate's CN is no user
    node1.check_output(f"{AUTH} user add bob --interactive=false < /root/bob-pw")


@pytest.mark.parametrize("who,case,messages", [
    # without a password, etcd takes the user from the client certificate's CN (here the member's name)
    ("nobody", "etcd auth on, no etcd_user/etcd_password: the user is the client certificate's CN",
     ["auth: user not found", "Fix: etcd authentication is on and took the user from the client certificate's "
      "common name (CN)"]),
    ("wrong", "etcd auth on, a wrong etcd_password",
     ["node1: unhealthy: etcdserver: authentication failed, invalid user ID or password", "Nothing was changed.",
      "Fix: etcd refused etcd_user/etcd_password"]),
    ("bob", "etcd auth on, etcd_user without the root role",
     ["auth: permission denied", "Fix: etcd_user lacks the root role"]),
])
def test_backup_without_root_credentials_is_refused(store, auth, who, case, messages):
    before = fingerprints()
    snapshots = sorted(store.glob("*.db"))
    creds = ["-e", auth[who]] if who in auth else []
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", *creds)
    refused("backup.yml", proc, before, *messages, case=case)
    assert sorted(store.glob("*.db")) == snapshots


def test_backup_and_its_job_with_auth_keep_the_password_secret(store, auth, tmp_path):
    report = tmp_path / "report.json"
    proc = secret_free(lab.playbook("backup", lab.INVENTORY, "-vvv", "--diff", "-e", auth["root"],
                                    "-e", f"etcd_backup_dir={store}", "-e", f"etcd_report_file={report}",
                                    "-e", 'etcd_backup_schedule="2099-01-01 03:00:00"'),
                       "backup.yml", "backup.yml with auth and the timer job (its settings hold the password) "
                       "-vvv --diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    newest = sorted(store.glob("*.db"))[-1]
    assert json.loads(Path(f"{newest}.json").read_text())["keys"] >= KEYS
    for text in [report.read_text()] + [p.read_text() for p in store.glob("*.json")]:
        assert PASSWORD not in text
    node2 = lab.node("node2")
    settings = node2.file("/etc/etcd-ops/backup.json")
    assert (settings.mode, settings.user) == (0o600, "root")
    conf = json.loads(settings.content_string)
    assert conf["user"] == "root"
    assert (conf["endpoint"], conf["ca_cert"], conf["client_key"]) == (
        f"https://{lab.address(12)}:2379", f"{PKI}/ca.crt", f"{PKI}/member.key")
    node2.check_output("systemctl start etcd-ops-backup.service")
    assert "saved /var/backups/etcd-ops/" in node2.check_output("journalctl -u etcd-ops-backup.service -n 5 -o cat")
    removed = lab.playbook("backup", lab.INVENTORY, "-e", auth["root"], "-e", f"etcd_backup_dir={store}",
                           "-e", "etcd_backup_now=false", "-e", "etcd_backup_schedule=absent")
    assert removed.returncode == 0, removed.stdout[-4000:]


def test_replace_member_with_auth(auth):
    lab.etcd("node3", "stop")
    lab.node("node3").check_output(f"rm -rf {DATA}")
    proc = secret_free(lab.playbook("replace_member", lab.INVENTORY, "-vvv", "--diff", "-e", auth["root"],
                                    "-e", "node=node3"),
                       "replace_member.yml", "replace_member.yml with auth -vvv --diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert_whole_auth_cluster()


def test_disaster_recovery_with_auth(store, auth):
    # a healthy cluster without credentials: the status still shows a leader, so it is no disaster
    before = fingerprints()
    proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    refused("disaster_recovery.yml", proc, before, "The cluster has quorum", "nothing was changed",
            case="etcd auth on, no etcd_user/etcd_password, healthy cluster")
    for name in ("node2", "node3"):
        lab.etcd(name, "stop")
        lab.node(name).check_output(f"rm -rf {DATA}")
    proc = secret_free(lab.playbook("disaster_recovery", lab.INVENTORY, "-vvv", "--diff", "-e", auth["root"],
                                    "-e", f"etcd_backup_dir={store}"),
                       "disaster_recovery.yml", "disaster_recovery.yml with auth -vvv --diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert_whole_auth_cluster()  # users, roles and the enabled flag come back with the snapshot


def test_no_password_in_the_nodes_process_lists(auth):
    for name in lab.NODES:
        listed = lab.node(name).check_output("cat /root/ps.log")
        assert "etcdctl" in listed, name  # the sampler saw the modules' etcdctl runs
        assert PASSWORD not in listed, name


# --- onto new machines (issue #26): last, since it replaces the scenario's machines --------------------------------
@pytest.fixture
def machines(tmp_path_factory):
    """A real S3 bucket on the controller's loopback (SeaweedFS) and the -e arguments that reach it; the new machines
    the test makes are removed after it."""
    import os

    import s3lab

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID=s3lab.ACCESS_KEY, AWS_SECRET_ACCESS_KEY=s3lab.SECRET_KEY)
    try:
        with s3lab.server(tmp_path_factory.mktemp("seaweedfs")):
            yield ("-e", "etcd_s3_bucket=etcd-backups", "-e", "etcd_s3_prefix=tls/",
                   "-e", f"etcd_s3_endpoint={s3lab.ENDPOINT}", "-e", f"etcd_s3_region={s3lab.REGION}")
    finally:
        for name in ("tls1", "tls2", "tls3"):
            lab.remove_machine(name)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_new_machines_get_their_certificates_from_the_cluster_s_ca(auth, pki, tmp_path, machines):
    """All three machines gone, and the controller's store and deploy.yml's PKI dir with them: new empty machines at
    new addresses, recovered from the bucket alone (the snapshot and its recovery bundle: the CA certificate, the
    env files and units; the CA key in the age-encrypted keys file). Without the age identity it is refused, nothing
    installed; with it, the CA is put back in an empty PKI dir and issues each new member's key and certificate for
    its new address."""
    identity = tmp_path / "age.key"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True,
                               text=True).stdout.strip()
    taken = tmp_path / "taken"
    proc = lab.playbook("backup", lab.INVENTORY, "-e", auth["root"], "-e", f"etcd_backup_dir={taken}",
                        "-e", "etcd_backup_config_keys=true", "-e", f"etcd_deploy_pki_dir={pki}",
                        "-e", json.dumps({"etcd_backup_config_age_recipients": [recipient]}), *machines)
    assert proc.returncode == 0, proc.stdout[-3000:]
    [meta] = [json.loads(p.read_text()) for p in sorted(taken.glob("*.db.json"))]
    shutil.rmtree(taken)  # the controller's store is lost too
    assert meta["config"]["ca_certificates"] == [f"{PKI}/ca.crt"] and meta["config"]["keys"]["ca_key"]
    numbers = {"node1": 51, "node2": 52, "node3": 53}
    for i, name in enumerate(lab.NODES, start=1):
        subprocess.run(["docker", "stop", lab.container(name)], capture_output=True, check=True)
        lab.new_machine(f"tls{i}", numbers[name])

    def change(data):
        for name, number in numbers.items():
            lab.hostvars(data, name)["ansible_host"] = lab.address(number)
    inv = lab.inventory(tmp_path, change)
    for name in lab.NODES:  # the tests' etcdctl reads the root password from a root-only file (AUTH)
        lab.node(name, inv).check_output(f"umask 077 && printf '%s' '{PASSWORD}' > /root/etcd-root-pw")
    lost = tmp_path / "pki-lost-too"  # the controller's PKI dir is gone as well
    args = ("-e", auth["root"], "-e", f"etcd_backup_dir={taken}", "-e", "etcd_recovery_new_hosts=true",
            "-e", "etcd_recovery_source=s3", *machines,
            "-e", f"etcd_recovery_snapshot_cluster={meta['cluster_id']}", "-e", f"etcd_deploy_pki_dir={lost}")
    proc = lab.playbook("disaster_recovery", inv, *args)
    assert proc.returncode != 0
    out = lab.flat(proc.stdout)
    assert (f"names TLS files that are not there: {PKI}/member.crt, {PKI}/member.key. The bundle holds the CA "
            f"certificate, never a member's key in plain, and the controller has no CA key at {lost}/") in out, (
        out[-3000:])
    assert ("and the bundle's keys file (age-encrypted) was not decrypted: etcd_recovery_age_identity_file is not "
            "set") in out
    for name in lab.NODES:
        assert "etcd-server install ok installed" not in lab.fingerprint(name, inv)["packages"]
    assert not lost.exists()
    lab.record_refusal("disaster_recovery.yml", proc, "new machines on TLS, the CA key only in the bundle's keys, "
                       "no age identity")

    proc = key_free(lab.playbook("disaster_recovery", inv, *args, "--diff", "-e",
                                 f"etcd_recovery_age_identity_file={identity}"), pki, lost)
    assert proc.returncode == 0, proc.stdout[-4000:]
    out = lab.flat(proc.stdout)
    [ca_key] = pki.glob("*/ca.key")
    assert (lost / ca_key.parent.name / "ca.key").read_text() == ca_key.read_text()  # put back
    assert oct((lost / ca_key.parent.name / "ca.key").stat().st_mode & 0o777) == "0o600"
    hosts = [lab.node(n, inv) for n in lab.NODES]
    lab.wait_healthy(hosts, etcdctl=AUTH)
    listed = json.loads(hosts[0].check_output(f"{AUTH} member list -w json"))["members"]
    assert sorted((m["name"], m["peerURLs"][0]) for m in listed) == [
        (n, f"https://{lab.address(numbers[n])}:2380") for n in lab.NODES]
    for name, host in zip(lab.NODES, hosts, strict=True):
        assert len(json.loads(host.check_output(f"{AUTH} get /tls/ --prefix --keys-only -w json"))["kvs"]) == KEYS
        cert = x509.load_pem_x509_certificate(host.check_output(f"cat {PKI}/member.crt").encode())
        ips = [str(ip) for ip in cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)]
        assert lab.address(numbers[name]) in ips
        assert host.file(f"{PKI}/member.key").mode == 0o600 and host.file(f"{PKI}/member.key").user == "etcd"
        assert (f"new host {name}: etcd installed, env file and unit written from the recovery bundle (member {name}, "
                f"its own), member {name} at {lab.address(numbers[name])}; CA certificate {PKI}/ca.crt; its "
                f"certificate and key issued by the cluster's CA for IP:{lab.address(numbers[name])}") in out
