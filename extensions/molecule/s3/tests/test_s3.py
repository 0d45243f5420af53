"""backup.yml to an S3 bucket and disaster_recovery.yml from it, as a user runs them (README commands, over
SSH+sudo), against a real S3 server on the controller's loopback (SeaweedFS): what lands in the bucket, retention
there, the refusals (each compared with every node's state before), check mode, and a cluster that lost quorum
rebuilt from the bucket after the controller's store was wiped."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab
import s3lab

KEYS = 30
DATA = "/data/etcd.data"
BUCKET = "etcd-backups"
PREFIX = "lab/etcd/"
NAME = re.compile(r"^etcd-cluster-\d{8}T\d{6}Z-r\d+\.db$")
ENCODED = re.compile(r"(?<=\.db)(\.zst)?(\.age)?$")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """The S3 server; the credentials are in the environment (AWS_*), where boto3 finds them, as a user's would be."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID=s3lab.ACCESS_KEY, AWS_SECRET_ACCESS_KEY=s3lab.SECRET_KEY)
    try:
        with s3lab.server(tmp_path_factory.mktemp("seaweedfs")) as client:
            yield client
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


S3_VARS = ("-e", f"etcd_s3_bucket={BUCKET}", "-e", f"etcd_s3_prefix={PREFIX}",
           "-e", f"etcd_s3_endpoint={s3lab.ENDPOINT}", "-e", f"etcd_s3_region={s3lab.REGION}")


def backup(store, *args):
    return lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", *S3_VARS, *args)


def recover(store, *args):
    return lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}",
                        "-e", "etcd_recovery_source=s3", *S3_VARS, *args)


def objects(s3):
    """Every key in the bucket (the prefix included)."""
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def snapshots_in_bucket(s3):
    """The snapshot names under the prefix, oldest first (an encoded object NAME.db.zst.age counts as NAME.db)."""
    names = {ENCODED.sub("", k[len(PREFIX):]) for k in objects(s3) if k.startswith(PREFIX)}
    return sorted(n for n in names if NAME.match(n))


def body(s3, key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def fingerprints():
    return {n: lab.fingerprint(n) for n in lab.NODES}


def refused(proc, before, playbook, *messages):
    assert proc.returncode != 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    for message in messages:
        assert message in out, out[-3000:]
    assert fingerprints() == before, out[-3000:]
    lab.record_refusal(playbook, proc)
    return out


def store_listing(store):
    return sorted(p.name for p in store.iterdir()) if store.exists() else []


# -- backup.yml to the bucket --------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def keys():
    """KEYS keys in the cluster before the first test (a set-up step, not a test)."""
    lab.node("node1").check_output(
        f"for i in $(seq {KEYS}); do etcdctl put /s3-test/k$i v$i >/dev/null; done")


def test_backup_uploads_the_snapshot_and_its_sidecars(s3, store):
    proc = backup(store)
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = [p for p in store.iterdir() if NAME.match(p.name)]
    assert objects(s3) == [f"{PREFIX}{snap.name}{ext}" for ext in ("", ".config.json", ".json", ".sha256")]
    # the recovery bundle goes with the snapshot (issue #26)
    assert body(s3, f"{PREFIX}{snap.name}.config.json") == Path(f"{snap}.config.json").read_bytes()
    local = snap.read_bytes()
    digest = hashlib.sha256(local).hexdigest()
    assert body(s3, f"{PREFIX}{snap.name}") == local
    assert body(s3, f"{PREFIX}{snap.name}.sha256").decode() == f"{digest}  {snap.name}\n"
    assert json.loads(body(s3, f"{PREFIX}{snap.name}.json"))["sha256"] == digest
    head = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}{snap.name}")
    assert head["Metadata"]["sha256"] == digest
    out = lab.flat(proc.stdout)
    assert f"bucket: s3://{BUCKET}/{PREFIX}{snap.name}" in out
    assert "with its sidecars, the ETag of each read back and matched;" in out
    assert "1 snapshot(s) kept there (etcd_backup_s3_keep 14)" in out


def test_a_multipart_upload_is_checked_too(s3, store, tmp_path):
    """A database over boto3's multipart threshold (8 MiB): the ETag is then one of parts, which the check
    computes from the object's own part sizes. The report says the bucket's copy was verified."""
    lab.node("node1").check_output(  # 12 values of 1 MB (etcd takes requests up to 1.5 MiB)
        "for i in $(seq 12); do head -c 750000 /dev/urandom | base64 -w0 | etcdctl put /s3-big/$i >/dev/null; done")
    report = tmp_path / "backup.json"
    proc = backup(store, "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = json.loads(report.read_text())
    key = data["s3"]["key"]
    assert data["s3"] == {"bucket": BUCKET, "endpoint": s3lab.ENDPOINT, "key": key, "verified": True, "kept": 2,
                          "compression": "none", "encryption": "none", "sha256": data["sha256"]}
    assert "-" in s3.head_object(Bucket=BUCKET, Key=key)["ETag"]  # a multipart upload
    assert hashlib.sha256(body(s3, key)).hexdigest() == data["sha256"]
    lab.node("node1").check_output("etcdctl del --prefix /s3-big/ >/dev/null")


def test_retention_in_the_bucket_keeps_the_newest_and_nothing_else(s3, store):
    """Credentials as vaulted variables this time (etcd_s3_access_key/etcd_s3_secret_key), none in the environment."""
    foreign = [f"{PREFIX}notes.txt", f"{PREFIX}other-20200101T000000Z-r1.db",
               "elsewhere/etcd-cluster-20200101T000000Z-r1.db"]
    for key in foreign:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"not ours")
    before = snapshots_in_bucket(s3)
    local_before = store_listing(store)
    env = {k: os.environ.pop(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    try:
        proc = backup(store, "-e", "etcd_backup_s3_keep=2", "-e", f"etcd_s3_access_key={s3lab.ACCESS_KEY}",
                      "-e", f"etcd_s3_secret_key={s3lab.SECRET_KEY}")
    finally:
        os.environ.update(env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    kept = snapshots_in_bucket(s3)
    assert len(kept) == 2 and kept[0] == before[-1] and kept[1] not in before
    for name in before[:-1]:
        assert not any(f"{PREFIX}{name}{ext}" in objects(s3) for ext in ("", ".sha256", ".json", ".config.json"))
    assert all(key in objects(s3) for key in foreign)
    ours = [n for n in store_listing(store) if NAME.match(n)]
    assert len(ours) == len([n for n in local_before if NAME.match(n)]) + 1
    assert "2 snapshot(s) kept there (etcd_backup_s3_keep 2)" in lab.flat(proc.stdout)
    assert s3lab.SECRET_KEY not in proc.stdout


def test_check_mode_uploads_nothing(s3, store):
    listing, local = objects(s3), store_listing(store)
    proc = backup(store, "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert f"and would upload it to s3://{BUCKET}/{PREFIX} (2 snapshot(s) of the cluster there now)" in out
    assert objects(s3) == listing and store_listing(store) == local


@pytest.mark.parametrize("case, args, env, message", [
    ("no such bucket", ("-e", "etcd_s3_bucket=no-such-bucket"), {},
     "Fix: create the bucket, or correct etcd_s3_bucket (and etcd_s3_endpoint)"),
    ("wrong secret key", (), {"AWS_SECRET_ACCESS_KEY": "not-the-secret"},
     "Fix: check etcd_s3_endpoint, etcd_s3_region and the credentials"),
    ("nothing listens at the endpoint", ("-e", "etcd_s3_endpoint=http://127.0.0.1:9"), {},
     "Fix: check etcd_s3_endpoint, etcd_s3_region and the credentials"),
])
def test_a_bucket_that_cannot_be_reached_is_refused_before_the_snapshot(s3, store, case, args, env, message):
    before, listing, local = fingerprints(), objects(s3), store_listing(store)
    saved = {k: os.environ[k] for k in env}
    os.environ.update(env)
    try:
        proc = backup(store, *args)
    finally:
        os.environ.update(saved)
    out = refused(proc, before, "backup.yml", "Cannot list s3://", "Nothing was changed on any member.",
                  message, "or leave etcd_s3_bucket empty")
    assert "not-the-secret" not in out
    assert objects(s3) == listing and store_listing(store) == local
    assert lab.node("node1").run("ls -A /var/lib/etcd-ops/backup").stdout.strip() == ""


# -- disaster_recovery.yml from the bucket ---------------------------------------------------------------------
def newest(s3):
    return snapshots_in_bucket(s3)[-1]


OTHER = ("etcd-cluster-20200101T000000Z-r7.db", "etcd-cluster-20991231T000000Z-r7.db")  # an older and a newer one


def test_another_cluster_s_snapshots_in_the_bucket_are_neither_pruned_nor_chosen(s3, store):
    """Issue #21 (1): another cluster with the same token (etcd-cluster, deploy's default) backs up into the same
    bucket and prefix. Its snapshots, one older and one newer than ours, are real snapshots with sidecars whose
    metadata names other members. This cluster's retention (keep 2) counts and prunes only its own; recovery's
    default choice from the bucket is the newest of its own, not the other's newer one (here it then stops at
    "the cluster has quorum")."""
    ours = newest(s3)
    snapshot = body(s3, f"{PREFIX}{ours}")
    meta = json.loads(body(s3, f"{PREFIX}{ours}.json"))
    meta.update(cluster_id="c0ffee", members=["y1", "y2", "y3"],
                member_peer_urls={f"y{i}": [f"http://10.99.0.{i}:2380"] for i in (1, 2, 3)})
    for name in OTHER:
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}", Body=snapshot)
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}.json", Body=json.dumps(meta).encode())
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}.sha256", Body=f"{sha256(snapshot)}  {name}\n".encode())
    try:
        before = [n for n in snapshots_in_bucket(s3) if n not in OTHER]
        proc = backup(store, "-e", "etcd_backup_s3_keep=2")
        assert proc.returncode == 0, proc.stdout[-3000:]
        after = snapshots_in_bucket(s3)
        assert all(f"{PREFIX}{name}{ext}" in objects(s3) for name in OTHER for ext in ("", ".json", ".sha256"))
        mine = [n for n in after if n not in OTHER]
        assert len(mine) == 2 and mine[0] == before[-1] and mine[1] not in before
        assert "2 snapshot(s) kept there (etcd_backup_s3_keep 2)" in lab.flat(proc.stdout)

        empty = store.parent / "empty-store"  # the store is lost: every snapshot's metadata comes from the bucket
        fps = fingerprints()
        out = refused(recover(empty), fps, "disaster_recovery.yml", "The cluster has quorum")
        assert "is a snapshot of another cluster" not in out  # the other's newer one was not chosen (and refused)
        assert store_listing(empty) == [mine[1], f"{mine[1]}.config.json", f"{mine[1]}.json", f"{mine[1]}.sha256"]
        lab.record_edge(1, "backup.yml, disaster_recovery.yml", "another cluster's snapshots in the bucket, one older"
                        " and one newer (same token); etcd_backup_s3_keep=2, then recovery with the store lost",
                        "pruned only this cluster's; recovery chose this cluster's newest",
                        detail="the other cluster's 6 objects kept; recovery fetched this cluster's newest and "
                        "then stopped at 'The cluster has quorum' (nothing changed)")
        shutil.rmtree(empty)
    finally:
        for name in OTHER:
            for ext in ("", ".json", ".sha256"):
                s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}{name}{ext}")


# The set-up steps of the tests below are fixtures, each made once (module scope) by the first test that asks for
# it, in file order: the controller's store lost, then quorum lost, then both lost again after the rebuild.
@pytest.fixture(scope="module")
def store_lost(store):
    shutil.rmtree(store)


def lose_quorum():
    for name in ("node2", "node3"):
        lab.etcd(name, "stop")
        lab.node(name).check_output(f"rm -rf {DATA}")


@pytest.fixture(scope="module")
def disaster(store_lost):
    lose_quorum()


@pytest.fixture(scope="module")
def disaster_again(store):
    lose_quorum()
    shutil.rmtree(store)


def test_a_healthy_cluster_is_refused_after_the_bucket_check(s3, store, store_lost):
    before = fingerprints()
    refused(recover(store), before, "disaster_recovery.yml", "The cluster has quorum")
    assert store_listing(store) == [newest(s3), f"{newest(s3)}.config.json", f"{newest(s3)}.json",
                                    f"{newest(s3)}.sha256"]
    shutil.rmtree(store)


def test_a_changed_object_is_refused_before_any_member_changes(s3, store, disaster):
    key = f"{PREFIX}{newest(s3)}"
    good = body(s3, key)
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(bad))
    before = fingerprints()
    try:
        proc = recover(store)
        refused(proc, before, "disaster_recovery.yml", f"s3://{BUCKET}/{key} failed its check on the controller",
                "The downloaded copy was removed; the bucket was not changed.", "does not match its sidecar",
                "The next newest snapshot in the bucket is")
        assert store_listing(store) == []  # neither the copy nor its sidecars stay, under any name
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=good)


def test_a_snapshot_the_bucket_lacks_is_refused(s3, store, disaster):
    before = fingerprints()
    refused(recover(store, "-e", "etcd_snapshot=etcd-cluster-20200101T000000Z-r1.db"), before, "disaster_recovery.yml",
            f"s3://{BUCKET}/{PREFIX}etcd-cluster-20200101T000000Z-r1.db does not exist.",
            f"name one of the bucket's snapshots, newest first: {newest(s3)}")


def test_a_recovery_from_the_bucket_needs_the_bucket(store, disaster):
    before = fingerprints()
    proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}",
                        "-e", "etcd_recovery_source=s3")
    refused(proc, before, "disaster_recovery.yml", "etcd_recovery_source=s3 but etcd_s3_bucket is empty")


def test_check_mode_downloads_checks_and_keeps_nothing(s3, store, disaster):
    before = fingerprints()
    proc = recover(store, "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert f"bucket: s3://{BUCKET}/{PREFIX}{newest(s3)}, downloaded, checked, not kept (check mode)" in out
    assert fingerprints() == before and store_listing(store) == []


def test_the_cluster_is_rebuilt_from_the_bucket(s3, store, tmp_path, disaster):
    name = newest(s3)
    report = tmp_path / "report.json"
    proc = recover(store, "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    out = lab.flat(proc.stdout)
    assert f"etcd cluster rebuilt from {store.resolve()}/{name}" in out
    assert f"bucket: s3://{BUCKET}/{PREFIX}{name}, downloaded, checked" in out
    assert json.loads(report.read_text())["snapshot"]["source"] == f"s3://{BUCKET}/{PREFIX}{name}"
    # the store holds the bucket's copy now, under its name, 0600, with its sidecars and its recovery bundle
    assert store_listing(store) == [name, f"{name}.config.json", f"{name}.json", f"{name}.sha256"]
    for file in store.iterdir():
        assert oct(file.stat().st_mode & 0o777) == "0o600", file
    assert (store / name).read_bytes() == body(s3, f"{PREFIX}{name}")
    lab.wait_healthy()
    for node in lab.NODES:
        kvs = json.loads(lab.node(node).check_output("etcdctl get /s3-test/ --prefix -w json --consistency=s"))["kvs"]
        got = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}
        assert got == {f"/s3-test/k{i}": f"v{i}" for i in range(1, KEYS + 1)}, node


def test_a_second_run_uses_the_store_s_copy(s3, store):
    proc = recover(store)
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    assert "already rebuilt" in out
    assert f"bucket: s3://{BUCKET}/{PREFIX}{newest(s3)}, the store had it with the same sha256: not downloaded" in out


# -- the bucket's copy compressed and encrypted -------------------------------------------------------------------
def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def age_keys(tmp_path_factory):
    """Two age identities on the controller: (identity file, public key) each."""
    keys = {}
    for who in ("ours", "other"):
        path = tmp_path_factory.mktemp("age") / "identity.txt"
        subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
        public = subprocess.run(["age-keygen", "-y", str(path)], check=True, capture_output=True, text=True)
        keys[who] = (path, public.stdout.strip())
    return keys


def test_a_compressed_and_encrypted_copy_goes_to_the_bucket(s3, store, age_keys):
    lab.wait_healthy()
    identity, public = age_keys["ours"]
    proc = backup(store, "-e", "etcd_backup_s3_compression=zstd",
                  "-e", json.dumps({"etcd_backup_s3_age_recipients": [public]}))
    assert proc.returncode == 0, proc.stdout[-3000:]
    name = newest(s3)
    key = f"{PREFIX}{name}.zst.age"
    assert key in objects(s3) and f"{PREFIX}{name}" not in objects(s3)
    encoded, plain = body(s3, key), (store / name).read_bytes()
    assert plain[:4096] not in encoded
    decoded = subprocess.run(f"age -d -i {identity} | zstd -q -d -c", shell=True, input=encoded, capture_output=True,
                             check=True).stdout
    assert decoded == plain
    meta = json.loads(body(s3, f"{PREFIX}{name}.json"))
    assert meta["object"] == {"file": f"{name}.zst.age", "sha256": sha256(encoded), "size": len(encoded),
                              "compression": "zstd", "encryption": "age", "recipients": [public]}
    assert meta["sha256"] == sha256(plain)
    assert body(s3, f"{PREFIX}{name}.sha256").decode() == f"{sha256(plain)}  {name}\n"
    head = s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]
    assert head["sha256"] == sha256(encoded) and head["snapshot-sha256"] == sha256(plain)
    out = lab.flat(proc.stdout)
    assert f"bucket: s3://{BUCKET}/{PREFIX}{name}.zst.age" in out
    assert f"{len(encoded)} bytes, zstd, age-encrypted to 1 key(s), sha256 {sha256(encoded)}" in out
    assert not [p for p in store.iterdir() if p.name.startswith(".")]  # the encoded copy is not kept


def test_a_private_key_given_as_recipient_is_refused(store, age_keys):
    identity, _public = age_keys["ours"]
    secret = next(line for line in identity.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))
    before = fingerprints()
    proc = backup(store, "-e", json.dumps({"etcd_backup_s3_age_recipients": [secret]}))
    refused(proc, before, "backup.yml", "which is not an age public key", "never the private key")
    assert secret[15:] not in proc.stdout


def test_an_encrypted_copy_needs_the_identity(s3, store, disaster_again):
    before = fingerprints()
    refused(recover(store), before, "disaster_recovery.yml", "is compressed with zstd and encrypted with age.",
            "Fix: set etcd_recovery_age_identity_file")
    assert store_listing(store) == []


def test_another_identity_is_refused(s3, store, age_keys, disaster_again):
    before = fingerprints()
    other, _public = age_keys["other"]
    refused(recover(store, "-e", f"etcd_recovery_age_identity_file={other}"), before, "disaster_recovery.yml",
            "could not be decoded on the controller", "age: error: no identity matched any of the recipients.",
            f"The copy is not encrypted to the identity in {other}.", "The downloaded copy was removed")
    assert store_listing(store) == []


@pytest.mark.parametrize("how, message", [
    ("object changed", "changed or damaged after the upload, or in transit. Nothing was decoded."),
    ("object and its recorded sha256 changed", "The encrypted copy was changed or damaged: nothing was decoded"),
])
def test_an_encrypted_object_changed_in_the_bucket_is_refused(s3, store, age_keys, how, message, disaster_again):
    name = newest(s3)
    key, meta_key = f"{PREFIX}{name}.zst.age", f"{PREFIX}{name}.json"
    good, good_meta = body(s3, key), body(s3, meta_key)
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(bad))
    if how != "object changed":
        meta = json.loads(good_meta)
        meta["object"]["sha256"] = sha256(bytes(bad))
        s3.put_object(Bucket=BUCKET, Key=meta_key, Body=json.dumps(meta).encode())
    before = fingerprints()
    try:
        identity, _public = age_keys["ours"]
        refused(recover(store, "-e", f"etcd_recovery_age_identity_file={identity}"), before, "disaster_recovery.yml",
                "could not be decoded on the controller", message, "The downloaded copy was removed")
        assert store_listing(store) == []
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=good)
        s3.put_object(Bucket=BUCKET, Key=meta_key, Body=good_meta)


def test_the_cluster_is_rebuilt_from_the_encrypted_copy(s3, store, age_keys, tmp_path, disaster_again):
    """The identity as a (vaultable) variable this time, from a vars file: it appears in no output, and its
    temporary file is gone afterwards."""
    name = newest(s3)
    identity, _public = age_keys["ours"]
    secret = next(line for line in identity.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))
    varsfile = tmp_path / "secret.yml"
    varsfile.write_text(json.dumps({"etcd_recovery_age_identity": secret}))
    leftovers = set(Path("/tmp").glob("*.age-identity"))
    proc = recover(store, "-e", f"@{varsfile}", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert secret not in proc.stdout and secret[15:] not in proc.stdout
    lab.record_edge(3, "disaster_recovery.yml", "disaster_recovery.yml --diff with etcd_recovery_age_identity",
                    "no age identity in the output", proc, detail="rc 0; searched for the AGE-SECRET-KEY line",
                    issue=24)
    assert set(Path("/tmp").glob("*.age-identity")) == leftovers
    out = lab.flat(proc.stdout)
    assert f"bucket: s3://{BUCKET}/{PREFIX}{name}.zst.age, downloaded, decrypted, decompressed, checked" in out
    assert store_listing(store) == [name, f"{name}.config.json", f"{name}.json", f"{name}.sha256"]
    assert f"{sha256((store / name).read_bytes())}  {name}\n" == (store / f"{name}.sha256").read_text()
    lab.wait_healthy()
    for node in lab.NODES:
        kvs = json.loads(lab.node(node).check_output("etcdctl get /s3-test/ --prefix -w json --consistency=s"))["kvs"]
        assert len(kvs) == KEYS, node
