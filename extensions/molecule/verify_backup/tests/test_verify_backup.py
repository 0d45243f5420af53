"""verify_backup.yml (the restore drill) as a user runs it (README command, over SSH+sudo), on real etcd under real
systemd: what it proves, what it records in the store, what it refuses, and that no member changes."""

import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
import lab

DRILL_DIR = "/var/lib/etcd-ops/drill"


def drill(store, *args):
    return lab.playbook("verify_backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", *args)


def snapshots(store):
    return sorted(p for p in store.iterdir() if p.suffix == ".db")


def meta_of(snap):
    return json.loads(Path(f"{snap}.json").read_text())


def members_now():
    """Every member's fingerprint (files, processes, units, listening ports), the cluster's KV hash, and what a drill
    could leave behind (its scratch dir, its units): equal before and after means the drill changed nothing."""
    state = {name: lab.fingerprint(name) for name in lab.NODES}
    node1 = lab.node("node1")
    state["kv hash"] = json.loads(node1.check_output("etcdctl endpoint hashkv -w json"))[0]["HashKV"]["hash"]
    for name in lab.NODES:
        host = lab.node(name)
        state[f"{name} drill"] = host.run(
            f"ls -A {DRILL_DIR} 2>/dev/null; systemctl list-units --all --plain --no-legend 'etcd-ops-drill-*'").stdout
    return state


def assert_nothing_left(before):
    after = members_now()
    assert after == before
    for name in lab.NODES:
        assert after[f"{name} drill"].strip() == "", after[f"{name} drill"]


@pytest.fixture(scope="module")
def taken(tmp_path_factory):
    """A set-up step, not a test: keys with a history (overwritten, deleted) and one backup of them in a store."""
    node1 = lab.node("node1")
    node1.check_output("for i in $(seq 40); do etcdctl put /drill/k$i drill-value-$i >/dev/null; done; "
                       "for i in $(seq 10); do etcdctl put /drill/k$i drill-value-$i-v2 >/dev/null; "
                       "etcdctl put /drill/k$i drill-value-$i-v3 >/dev/null; done; "
                       "for i in $(seq 31 35); do etcdctl del /drill/k$i >/dev/null; done")
    store = tmp_path_factory.mktemp("taken") / "etcd-backups"
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = snapshots(store)
    assert meta_of(snap)["kv_hash"] and meta_of(snap)["keys"] >= 35
    return store


@pytest.fixture
def store(taken, tmp_path):
    """A copy of the store for one test."""
    copy = tmp_path / "etcd-backups"
    shutil.copytree(taken, copy)
    return copy


def test_a_good_snapshot_passes_and_the_drill_is_recorded(store, tmp_path):
    [snap] = snapshots(store)
    before, meta, digest = members_now(), meta_of(snap), hashlib.sha256(snap.read_bytes()).hexdigest()
    report = tmp_path / "drill.json"
    proc = drill(store, "-e", f"etcd_report_file={report}")
    out = lab.flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"etcd restore drill of {snap.name}: PASSED" in out
    assert (f"checked: revision {meta['revision']}, {meta['keys']} keys, KV hash {meta['kv_hash']}") in out
    assert "drilled: on node1 as etcd, etcd 3." in out and "stopped and removed with its dir" in out
    after = meta_of(snap)
    assert after["drill_result"] == "passed" and after["verified_at"] == after["drilled_at"]
    assert after["drill"]["member"] == "node1" and after["drill"]["differences"] == []
    assert after["drill"]["restore_seconds"] > 0 and after["drill"]["serve_seconds"] > 0
    assert {k: after[k] for k in meta} == meta  # the backup's fields as they were
    assert hashlib.sha256(snap.read_bytes()).hexdigest() == digest
    assert f"recorded: verified_at {after['verified_at']} in {snap.name}.json in the store" in out
    data = json.loads(report.read_text())
    assert data["status"] == "changed" and data["result"] == "passed" and data["member"] == "node1"
    assert data["snapshot"] == str(snap) and float(data["seconds"]) > 0 and data["recorded"]
    lab.record("drill", "verify_backup.yml", "a good snapshot", "passed, recorded in its metadata",
               re.search(r"checked: ([^']*)'", lab.flat(proc.stdout)).group(1), proc.seconds)
    assert_nothing_left(before)


@lab.once("trixie")
def test_a_snapshot_whose_metadata_disagrees_fails_and_is_kept(store):
    [snap] = snapshots(store)
    meta = meta_of(snap)
    Path(f"{snap}.json").write_text(json.dumps(dict(meta, keys=meta["keys"] + 1)))
    before, digest = members_now(), hashlib.sha256(snap.read_bytes()).hexdigest()
    proc = drill(store)
    out = lab.flat(proc.stdout)
    assert proc.returncode != 0
    message = lab.failure_message(proc.stdout)
    assert message.startswith(f"The restore drill of {snap} failed: keys at revision {meta['revision']}: the "
                              f"metadata says {meta['keys'] + 1}, the restored etcd has {meta['keys']}."), message
    assert "It restores and serves, but not what was recorded when it was taken" in message
    lab.record("drill", "verify_backup.yml", "metadata that disagrees (keys raised by one)", "failed, kept",
               message, proc.seconds)
    assert f"etcd restore drill of {snap.name}: FAILED" in out and "DIFFERS: keys at revision" in out
    after = meta_of(snap)
    assert after["drill_result"] == "failed" and "verified_at" not in after
    assert hashlib.sha256(snap.read_bytes()).hexdigest() == digest and Path(f"{snap}.sha256").exists()
    assert_nothing_left(before)


@lab.once("trixie")
def test_a_snapshot_damaged_on_disk_fails_on_the_controller(store):
    [snap] = snapshots(store)
    data = bytearray(snap.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snap.write_bytes(bytes(data))
    before = members_now()
    proc = drill(store)
    assert proc.returncode != 0
    message = lab.failure_message(proc.stdout)
    assert message.startswith(f"The restore drill of {snap} failed: it does not pass its checks on the controller: "
                              f"The snapshot {snap} does not match its sidecar"), message
    lab.record("drill", "verify_backup.yml", "one bit changed on disk after the backup",
               "failed on the controller, copied nowhere, kept", message, proc.seconds)
    assert "drilled: no - it failed its check on the controller and was copied nowhere" in lab.flat(proc.stdout)
    assert meta_of(snap)["drill_result"] == "failed" and snap.read_bytes() == bytes(data)
    assert_nothing_left(before)


def test_a_snapshot_damaged_with_every_checksum_made_to_match_fails_on_its_kv_hash(store):
    """A key's value changed inside the file, then etcd's sha256 trailer and the sidecar written again to match (as
    damage before the checksums were taken would leave it): sha256, trailer and `snapshot status` pass, it restores
    and serves; etcd's own hash of the keys tells."""
    [snap] = snapshots(store)
    data = snap.read_bytes()
    assert data.count(b"drill-value-20") >= 1
    # every copy of the value: bbolt writes pages anew, and a free page may hold an older one
    body = data[:-32].replace(b"drill-value-20", b"drill-VALUE-20")
    snap.write_bytes(body + hashlib.sha256(body).digest())
    digest = hashlib.sha256(snap.read_bytes()).hexdigest()
    Path(f"{snap}.sha256").write_text(f"{digest}  {snap.name}\n")
    before, meta = members_now(), meta_of(snap)
    proc = drill(store)
    assert proc.returncode != 0
    message = lab.failure_message(proc.stdout)
    assert message.startswith(f"The restore drill of {snap} failed: KV hash at revision {meta['revision']}: the "
                              f"metadata says {meta['kv_hash']}"), message
    lab.record("drill", "verify_backup.yml", "a value changed, etcd's trailer and the sidecar written to match",
               "failed on the KV hash, kept", message, proc.seconds)
    assert f"checked: revision {meta['revision']}, {meta['keys']} keys" in lab.flat(proc.stdout)
    assert meta_of(snap)["drill_result"] == "failed"
    assert_nothing_left(before)


def test_a_compaction_between_the_snapshot_and_its_hash_is_followed(store):
    """The member compacted its history between the snapshot and its HashKV (a kube-apiserver compacts every 5
    minutes): the recorded hash covers less history than the snapshot holds. The drill compacts the scratch etcd to
    the recorded revision first. Here the cluster is compacted at the snapshot's revision after the backup, and the
    metadata given the hash it answers then (at the revision before the snapshot's: a member cannot hash the revision
    it compacted at). Also: the drill on the member asked for (node3)."""
    [snap] = snapshots(store)
    meta = meta_of(snap)
    node1 = lab.node("node1")
    node1.check_output(f"etcdctl compact {meta['revision'] - 1} --physical")
    hashed = json.loads(node1.check_output(f"etcdctl endpoint hashkv --rev={meta['revision']} -w json"))[0]["HashKV"]
    assert hashed["compact_revision"] == meta["revision"] - 1 and hashed["hash"] != meta["kv_hash"]
    Path(f"{snap}.json").write_text(json.dumps(dict(meta, kv_hash=hashed["hash"],
                                                    kv_hash_compact_revision=hashed["compact_revision"])))
    before = members_now()
    proc = drill(store, "-e", "etcd_verify_member=node3")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"checked: revision {meta['revision']}, {meta['keys']} keys, KV hash {hashed['hash']}" in lab.flat(
        proc.stdout)
    after = meta_of(snap)
    assert after["drill_result"] == "passed" and after["drill"]["member"] == "node3"
    lab.record("drill", "verify_backup.yml", "the member compacted between the snapshot and its HashKV",
               "passed, the scratch etcd compacted to the same revision first", "on node3", proc.seconds)
    assert_nothing_left(before)


@lab.once("trixie")
def test_a_killed_drill_s_leftovers_are_removed_by_the_next(store):
    node1 = lab.node("node1")
    node1.check_output(f"mkdir -p {DRILL_DIR}/scratch-left/data && systemd-run --quiet --collect "
                       "--unit=etcd-ops-drill-999 -p User=etcd sleep 600")
    assert node1.run("systemctl is-active etcd-ops-drill-999").stdout.strip() == "active"
    proc = drill(store)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert node1.run("systemctl is-active etcd-ops-drill-999").stdout.strip() != "active"
    assert node1.check_output(f"ls -A {DRILL_DIR}").strip() == ""


@lab.once("trixie")
def test_check_mode_copies_and_starts_nothing(store):
    """Also: a relative etcd_report_file is written relative to where ansible-playbook runs (it was written beside
    the playbook, inside the collection)."""
    [snap] = snapshots(store)
    before, meta = members_now(), Path(f"{snap}.json").read_text()
    relative = Path("tests/output") / f"verify-check-{lab.NET}.json"
    (lab.TOP / relative).parent.mkdir(parents=True, exist_ok=True)
    (lab.TOP / relative).unlink(missing_ok=True)
    proc = drill(store, "--check", "-e", f"etcd_report_file={relative}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"check mode: would copy {snap} to node1 and drill it there" in lab.flat(proc.stdout)
    assert Path(f"{snap}.json").read_text() == meta
    report = json.loads((lab.TOP / relative).read_text())
    assert report["check_mode"] and report["result"] == "not run" and report["snapshot"] == str(snap)
    assert not (lab.TOP / "playbooks" / relative).exists()
    (lab.TOP / relative).unlink()
    assert_nothing_left(before)


@lab.once("trixie")
@pytest.mark.parametrize("case", ["no such file", "a member not in group etcd", "a store without this cluster's"])
def test_bad_input_is_refused(store, tmp_path, case):
    args = {"no such file": ["-e", f"etcd_snapshot={tmp_path}/nope.db"],
            "a member not in group etcd": ["-e", "etcd_verify_member=node9"],
            "a store without this cluster's": ["-e", f"etcd_backup_dir={tmp_path / 'empty'}"]}[case]
    (tmp_path / "empty").mkdir()
    before = members_now()
    proc = drill(store, *args)
    message = lab.failure_message(proc.stdout)
    assert proc.returncode != 0
    assert {"no such file": f"etcd_snapshot {tmp_path}/nope.db is not a file on the controller. Nothing was changed.",
            "a member not in group etcd": "etcd_verify_member node9 is not a member of the play that could be read",
            "a store without this cluster's": f"The store {tmp_path / 'empty'} holds no snapshot of this cluster",
            }[case] in message, message
    assert "Fix: " in message
    assert_nothing_left(before)
    lab.record_refusal("verify_backup.yml", proc, f"{case} ({' '.join(args[1::2])})")


# -- drills of new snapshots: from backup.yml, and from the members' timer, with its metrics and failure notice ----
def controller_prom(directory):
    """The controller's metrics (etcd_controller_metrics_dir), as Prometheus' own parser reads them: {name: value}."""
    from prometheus_client.parser import text_string_to_metric_families

    text = (directory / "etcd_ops_store_etcd-cluster.prom").read_text()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.labels == {"cluster": "etcd-cluster", "member": "controller"}}


@lab.once("trixie")
def test_backup_with_verify_drills_the_snapshot_it_took(tmp_path):
    """Also: the run's metrics on the controller (etcd_controller_metrics_dir), and a failed run's after it."""
    store, report, textfile = tmp_path / "etcd-backups", tmp_path / "backup.json", tmp_path / "textfile"
    textfile.mkdir()
    before = members_now()
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_verify=true",
                        "-e", f"etcd_report_file={report}", "-e", f"etcd_controller_metrics_dir={textfile}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    seen = controller_prom(textfile)
    assert seen["etcd_backup_last_run_success"] == 1 and seen["etcd_backup_drill_last_success"] == 1
    assert seen["etcd_backup_snapshots"] == 1 and seen["etcd_backup_drill_last_restore_seconds"] > 0
    # a run that stops (refused: a member to snapshot that is not one): it says so, and keeps the last good time
    failed = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_member=node9",
                          "-e", f"etcd_controller_metrics_dir={textfile}")
    assert failed.returncode != 0
    after = controller_prom(textfile)
    assert after["etcd_backup_last_run_success"] == 0
    last = "etcd_backup_last_success_timestamp_seconds"
    assert after[last] == seen[last] and after["etcd_backup_last_run_timestamp_seconds"] >= seen[last]
    [snap] = snapshots(store)
    meta = meta_of(snap)
    assert meta["drill_result"] == "passed" and meta["verified_at"] and meta["drill"]["member"] == "node1"
    out = lab.flat(proc.stdout)
    assert (f"drill: PASSED on node1: revision {meta['revision']}, {meta['keys']} keys, KV hash {meta['kv_hash']}; "
            "restore ") in out
    data = json.loads(report.read_text())
    assert data["drill"]["result"] == "passed" and "drill recorded in the snapshot's metadata" in data["changes"]
    lab.record("drill", "backup.yml", "-e etcd_backup_verify=true", "the new snapshot drilled, passed, recorded",
               "", proc.seconds)
    assert_nothing_left(before)


def prom(host):
    """The job's metrics on a member, as Prometheus' own parser reads them: {name: value}."""
    from prometheus_client.parser import text_string_to_metric_families

    text = host.check_output(f"cat {TEXTFILE}/etcd_ops_backup.prom")
    families = list(text_string_to_metric_families(text))
    assert all(f.type == "gauge" for f in families)
    return {s.name: s.value for f in families for s in f.samples if s.labels["member"] == "node1"}


TEXTFILE = "/var/lib/prometheus/node-exporter"
HOOK = ("import http.server\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_POST(self):\n"
        "        body = self.rfile.read(int(self.headers['Content-Length']))\n"
        "        open('/root/hook.json', 'wb').write(body)\n"
        "        self.send_response(204)\n"
        "        self.end_headers()\n"
        "http.server.HTTPServer(('127.0.0.1', 18080), H).serve_forever()\n")


@lab.once("bookworm")
def test_the_timer_drills_each_snapshot_writes_its_metrics_and_tells_of_a_failure(tmp_path):
    node1 = lab.node("node1")
    node1.check_output(f"mkdir -p {TEXTFILE} && rm -f /root/backup-failed.txt /root/hook.json")
    node1.check_output("cat > /root/hook.py <<'EOF'\n" + HOOK + "EOF\n"
                       "systemd-run --quiet --collect --unit=etcd-ops-test-hook python3 /root/hook.py")
    store = tmp_path / "etcd-backups"
    try:
        proc = lab.playbook(
            "backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_now=false",
            "-e", "etcd_backup_schedule=daily", "-e", "etcd_backup_schedule_verify=true",
            # a command line with spaces: as JSON (-e key=value splits a value at its spaces)
            "-e", json.dumps(dict(
                etcd_backup_on_failure_command='echo "$ETCD_OPS_MEMBER: $ETCD_OPS_MESSAGE" > /root/backup-failed.txt',
                etcd_backup_on_failure_url="http://127.0.0.1:18080/hook")))
        assert proc.returncode == 0, proc.stdout[-3000:]
        before = members_now()
        node1.check_output("systemctl start etcd-ops-backup.service")
        journal = node1.check_output("journalctl -u etcd-ops-backup.service --no-pager -o cat | tail -n 4")
        assert "The restore drill of /var/backups/etcd-ops/etcd-cluster-" in journal and " passed: revision " in journal
        newest = node1.check_output("ls /var/backups/etcd-ops/*.db | tail -n 1").strip()
        meta = json.loads(node1.check_output(f"cat {newest}.json"))
        assert meta["drill_result"] == "passed" and meta["drill"]["member"] == "node1" and meta["kv_hash"]
        seen = prom(node1)
        assert seen["etcd_backup_last_run_success"] == 1 and seen["etcd_backup_drill_last_success"] == 1
        assert seen["etcd_backup_schedule_interval_seconds"] == 86400 and seen["etcd_backup_snapshots"] >= 1
        assert seen["etcd_backup_last_size_bytes"] == int(node1.check_output(f"stat -c %s {newest}"))
        assert seen["etcd_backup_drill_last_serve_seconds"] > 0
        after = members_now()  # the drill left nothing: no scratch dir, no unit
        assert after["node1 drill"].strip() == "" and after["kv hash"] == before["kv hash"]

        # a run that fails (etcd stopped on node1): the unit fails, the notice goes out, the metrics say so
        lab.etcd("node1", "stop")
        try:
            assert node1.run("systemctl start etcd-ops-backup.service").rc != 0
            deadline = time.monotonic() + 10  # the OnFailure= unit runs after the failed one
            while node1.run("test -s /root/backup-failed.txt && test -s /root/hook.json").rc != 0:
                assert time.monotonic() < deadline, "no failure notice within 10 s"
                time.sleep(0.2)
            told = node1.check_output("cat /root/backup-failed.txt")
            assert told.startswith("node1: The member at http://") and "is not healthy" in told
            hook = json.loads(node1.check_output("cat /root/hook.json"))
            assert hook["member"] == "node1" and hook["cluster"] == "etcd-cluster"
            assert "is not healthy" in hook["message"]
            failed = prom(node1)
            assert failed["etcd_backup_last_run_success"] == 0
            last = "etcd_backup_last_success_timestamp_seconds"
            assert failed[last] == seen[last]
            lab.record("drill", "etcd-ops-backup.service", "the timer's snapshot drilled; then a run with etcd down",
                       "passed and recorded; the failed run told by command and webhook, metrics parsed", told.strip())
        finally:
            node1.run("systemctl reset-failed etcd-ops-backup.service")
            lab.etcd("node1", "start")
            lab.wait_healthy()
    finally:
        lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_now=false",
                     "-e", "etcd_backup_schedule=absent")
        node1.run("systemctl stop etcd-ops-test-hook; rm -rf /root/hook.py /root/hook.json /root/backup-failed.txt "
                  f"/var/backups/etcd-ops {TEXTFILE}")


# -- what can be restored (list_backups.yml), and drills of the members' scheduled snapshots ------------------------
# One set-up for the tests below (a fixture, made once): a real S3 server on the controller's loopback, backup.yml
# with a drill and an upload to it, the members' timer installed and run once on node1 and node2.
SCHEDULED = "/var/backups/etcd-ops"
BUCKET, PREFIX = "etcd-backups", "lab/etcd/"


@pytest.fixture(scope="module")
def places(tmp_path_factory, taken):
    import os

    import s3lab

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID=s3lab.ACCESS_KEY, AWS_SECRET_ACCESS_KEY=s3lab.SECRET_KEY)
    s3_vars = ("-e", f"etcd_s3_bucket={BUCKET}", "-e", f"etcd_s3_prefix={PREFIX}",
               "-e", f"etcd_s3_endpoint={s3lab.ENDPOINT}", "-e", f"etcd_s3_region={s3lab.REGION}")
    store = tmp_path_factory.mktemp("places") / "etcd-backups"
    shutil.copytree(taken, store)  # one snapshot, never drilled, in the store only
    try:
        with s3lab.server(tmp_path_factory.mktemp("seaweedfs")) as client:
            proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}",
                                "-e", "etcd_backup_verify=true", "-e", "etcd_backup_schedule=daily", *s3_vars)
            assert proc.returncode == 0, proc.stdout[-3000:]
            for name in ("node1", "node2"):
                time.sleep(1.1)  # names hold the second: two members' snapshots of one second would share one
                lab.node(name).check_output("systemctl start etcd-ops-backup.service")
            yield dict(store=store, s3=client, s3_vars=s3_vars)
    finally:
        lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", "-e", "etcd_backup_now=false",
                     "-e", "etcd_backup_schedule=absent")
        for name in lab.NODES:
            lab.node(name).run(f"rm -rf {SCHEDULED}")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scheduled(name):
    """A member's scheduled snapshots: {file: (size, sha256)} of every file there (the .json files too)."""
    out = lab.node(name).run(f"cd {SCHEDULED} 2>/dev/null && sha256sum -- * | sort").stdout
    return {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()}


@lab.once("bookworm")
def test_list_backups_shows_the_store_the_bucket_and_the_members(places, tmp_path):
    store, report = places["store"], tmp_path / "list.json"
    before = members_now()
    held = {name: scheduled(name) for name in lab.NODES}
    proc = lab.playbook("list_backups", lab.INVENTORY, "-e", f"etcd_backup_dir={store}", *places["s3_vars"],
                        "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = json.loads(report.read_text())
    assert data["status"] == "ok" and data["operation"] == "list_backups"
    assert [(p["kind"], p["host"], p["snapshots"], p["read"]) for p in data["places"]] == [
        ("store", "", 2, True), ("s3", "", 1, True), ("member", "node1", 1, True), ("member", "node2", 1, True),
        ("member", "node3", 0, True)]
    rows = {r["name"]: r for r in data["rows"]}
    drilled = next(r for r in rows.values() if r["where"] == ["store", "s3"])
    assert drilled["drill"] == "passed" and drilled["cluster"] == "this" and drilled["keys"] >= 35
    [old] = [p.name for p in snapshots(store) if p.name != drilled["name"]]
    assert rows[old]["where"] == ["store"] and rows[old]["drill"] == "never"
    on_members = [r for r in data["rows"] if r["where"] in (["node1"], ["node2"])]
    assert len(on_members) == 2 and all(r["cluster"] == "this" and r["drill"] == "never" for r in on_members)
    assert [r["time"] for r in data["rows"]] == sorted((r["time"] for r in data["rows"]), reverse=True)
    out = lab.flat(proc.stdout)
    assert f"bucket s3://{BUCKET}/{PREFIX}: 1 snapshot(s)" in out
    assert "4 snapshot(s), 4 of this cluster, 1 whose last drill passed" in out
    assert "TIME REVISION KEYS SIZE LAST DRILL CLUSTER WHERE NAME" in out
    assert f"passed {drilled['drilled_at']} this store,s3 {drilled['name']}" in out
    # it reads only
    assert_nothing_left(before)
    assert {name: scheduled(name) for name in lab.NODES} == held
    lab.record("drill", "list_backups.yml", "the store, the bucket and three members",
               f"{len(data['rows'])} snapshots in one table, each place read", "", proc.seconds)


@lab.once("bookworm")
def test_list_backups_names_each_place_it_could_not_read_and_fails_after_the_table(places, tmp_path):
    store = places["store"]
    inv = lab.inventory(tmp_path, lambda d: d["all"]["children"]["etcd"]["hosts"]["node3"].update(ansible_port=2))
    before = members_now()
    proc = lab.playbook("list_backups", inv, "-e", f"etcd_backup_dir={store}", *places["s3_vars"],
                        "-e", "etcd_s3_bucket=no-such-bucket", "-e", f"etcd_report_file={tmp_path / 'r.json'}")
    assert proc.returncode != 0
    out = lab.flat(proc.stdout)
    assert "bucket s3://no-such-bucket/lab/etcd/: NOT READ - Cannot list s3://no-such-bucket/lab/etcd/" in out
    assert "Fix: create the bucket, or correct etcd_s3_bucket" in out
    assert "member node3:/var/backups/etcd-ops: NOT READ - unreachable (" in out
    assert "check SSH and sudo to node3" in out
    assert "4 snapshot(s), 4 of this cluster" in out  # the rest is listed
    message = lab.failure_message(proc.stdout)
    assert message.startswith("Not every place could be read, so the table above may miss snapshots: "
                              "s3://no-such-bucket/lab/etcd/, node3:/var/backups/etcd-ops. Nothing was changed.")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "refused" and [p["kind"] for p in report["places"] if not p["read"]] == ["s3", "member"]
    assert_nothing_left(before)
    lab.record_refusal("list_backups.yml", proc, "a bucket that does not exist and an unreachable member")


@lab.once("bookworm")
def test_the_members_scheduled_snapshots_are_drilled_where_they_are_kept(places, tmp_path):
    """Every one not yet drilled, on the member that keeps it: one damaged there fails and is recorded failed, the
    other still passes; nothing is copied, the snapshots and their sidecars stay as they were."""
    node2 = lab.node("node2")
    [damaged] = [f for f in scheduled("node2") if f.endswith(".db")]
    size = int(node2.check_output(f"stat -c %s {SCHEDULED}/{damaged}"))
    node2.check_output(f"printf 'XXXX' | dd of={SCHEDULED}/{damaged} bs=1 seek={size // 2} conv=notrunc 2>/dev/null")
    before, held = members_now(), {name: scheduled(name) for name in lab.NODES}
    report = tmp_path / "drills.json"
    proc = drill(places["store"], "-e", "etcd_verify_source=member", "-e", "etcd_verify_undrilled=true",
                 "-e", f"etcd_report_file={report}")
    assert proc.returncode != 0
    data = json.loads(report.read_text())
    assert [(d["member"], d["where"], d["result"]) for d in data["drills"]] == [
        ("node1", "member", "passed"), ("node2", "member", "failed")]
    assert data["result"] == "failed" and len(data["changes"]) == 2
    out = lab.flat(proc.stdout)
    assert f"snapshot: node2:{SCHEDULED}/{damaged}" in out and "drills: 2: 1 passed, 1 failed" in out
    assert f"The restore drill of node2:{SCHEDULED}/{damaged} failed" in lab.failure_message(proc.stdout)
    for name in ("node1", "node2"):
        [snap] = [f for f in held[name] if f.endswith(".db")]
        meta = json.loads(lab.node(name).check_output(f"cat {SCHEDULED}/{snap}.json"))
        assert meta["drill_result"] == ("passed" if name == "node1" else "failed") and meta["drill"]["member"] == name
        after = scheduled(name)  # only the .json changed
        assert {f: h for f, h in after.items() if not f.endswith(".json")} == {
            f: h for f, h in held[name].items() if not f.endswith(".json")}
    assert_nothing_left(before)
    # a second run: nothing left to drill, and that is no failure
    again = drill(places["store"], "-e", "etcd_verify_source=member", "-e", "etcd_verify_undrilled=true")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "nothing to drill: every snapshot of this cluster in /var/backups/etcd-ops on the members" in lab.flat(
        again.stdout)
    lab.record("drill", "verify_backup.yml", "-e etcd_verify_source=member -e etcd_verify_undrilled=true",
               "each drilled where it is kept: node1's passed, node2's (damaged there) failed; both recorded there",
               lab.failure_message(proc.stdout), proc.seconds)


@lab.once("bookworm")
def test_a_bucket_s_compressed_snapshot_is_drilled_and_the_drill_recorded_in_the_bucket(places, tmp_path):
    """The bucket's newest snapshot, a zstd copy the store lacks: fetched and decoded on the controller, drilled,
    recorded in the bucket's .json (its own fields kept); the download is removed and the store left as it was."""
    s3, s3_vars = places["s3"], places["s3_vars"]
    origin, store = tmp_path / "origin", tmp_path / "etcd-backups"
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={origin}", "-e", "etcd_backup_now=true",
                        "-e", "etcd_backup_s3_compression=zstd", *s3_vars)
    assert proc.returncode == 0, proc.stdout[-3000:]
    [snap] = snapshots(origin)
    key = f"{PREFIX}{snap.name}"
    assert s3.get_object(Bucket=BUCKET, Key=key + ".zst")["Body"].read(4) == b"\x28\xb5\x2f\xfd"  # zstd's magic
    before_meta = json.loads(s3.get_object(Bucket=BUCKET, Key=key + ".json")["Body"].read())
    assert "drill_result" not in before_meta and before_meta["object"]["compression"] == "zstd"
    store.mkdir()
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    before = members_now()
    report = tmp_path / "s3.json"
    proc = drill(store, "-e", "etcd_verify_source=s3", *s3_vars, "-e", f"etcd_report_file={report}",
                 "-e", f"etcd_controller_metrics_dir={textfile}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    after_meta = json.loads(s3.get_object(Bucket=BUCKET, Key=key + ".json")["Body"].read())
    assert after_meta["drill_result"] == "passed" and after_meta["verified_at"]
    assert {k: v for k, v in after_meta.items() if k in before_meta} == before_meta  # the bucket's own fields kept
    out = lab.flat(proc.stdout)
    assert f"snapshot: s3://{BUCKET}/{key}.zst" in out
    assert f"in s3://{BUCKET}/{key}.json" in out
    data = json.loads(report.read_text())
    assert data["where"] == "s3" and data["result"] == "passed" and data["recorded"] is True
    assert list(store.iterdir()) == []  # the download was removed; nothing else was written there
    # the drill's metrics on the controller
    seen = controller_prom(textfile)
    assert seen["etcd_backup_drill_last_success"] == 1 and "etcd_backup_last_run_success" not in seen
    assert_nothing_left(before)
    lab.record("drill", "verify_backup.yml", "-e etcd_verify_source=s3, a zstd copy the store lacks",
               "fetched, decoded, drilled, passed; recorded in the bucket's .json", "", proc.seconds)


@lab.once("bookworm")
def test_a_bucket_source_without_a_bucket_is_refused(places, tmp_path):
    before = members_now()
    proc = drill(places["store"], "-e", "etcd_verify_source=s3")
    assert proc.returncode != 0
    assert lab.failure_message(proc.stdout).startswith(
        "etcd_verify_source=s3 but etcd_s3_bucket is empty: there is no bucket to take the snapshot from. Nothing "
        "was changed. Fix: set etcd_s3_bucket")
    assert_nothing_left(before)
    lab.record_refusal("verify_backup.yml", proc, "etcd_verify_source=s3 without etcd_s3_bucket")
