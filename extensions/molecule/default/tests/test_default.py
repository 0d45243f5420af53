"""A cluster deployed by playbooks/deploy.yml: the runbook's layout, three healthy members, one leader,
a write on one member readable on every other."""

import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import ansible_collections
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lab" / "pylib"))
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "package"))
import artifacts
import lab

MEMBERS = {"node1": lab.address(11), "node2": lab.address(12), "node3": lab.address(13)}


ALL = ",".join(f"http://{a}:2379" for a in MEMBERS.values())


def etcdctl(host, args, endpoints="http://127.0.0.1:2379"):
    """Run etcdctl on the node (as the runbook does); on failure show the member's journal."""
    cmd = host.run(f"etcdctl --endpoints={endpoints} {args}")
    if cmd.rc != 0:
        with host.sudo():
            journal = host.run("journalctl -u etcd.service -n 30 --no-pager -o cat").stdout
        pytest.fail(f"etcdctl {args} failed on {host.backend.hostname}: {cmd.stderr}\n{journal}")
    return cmd.stdout


def test_runbook_layout(host):
    name = host.backend.hostname
    env = host.file("/data/etcd.env")
    assert env.is_file and env.mode == 0o644
    content = env.content_string
    assert f"ETCD_NAME={name}\n" in content
    assert "ETCD_DATA_DIR=/data/etcd.data\n" in content
    assert f"ETCD_INITIAL_ADVERTISE_PEER_URLS=http://{MEMBERS[name]}:2380\n" in content
    assert f"ETCD_LISTEN_CLIENT_URLS=http://{MEMBERS[name]}:2379,http://127.0.0.1:2379\n" in content
    assert "ETCD_INITIAL_CLUSTER=" + ",".join(f"{n}=http://{a}:2380" for n, a in MEMBERS.items()) + "\n" in content
    # bootstrapped with "new", then marked existing once up: emptied later, a member fails to start instead of
    # founding a new, empty cluster (issue #21, 6); the idempotence run wrote the same
    assert "ETCD_INITIAL_CLUSTER_STATE=existing\n" in content
    assert "ETCD_INITIAL_CLUSTER_TOKEN=etcd-cluster\n" in content

    unit = host.file("/data/etcd.service").content_string
    assert "Type=notify\n" in unit and "User=etcd\n" in unit and "EnvironmentFile=/data/etcd.env\n" in unit
    link = host.file("/etc/systemd/system/etcd.service")
    assert link.is_symlink and link.linked_to == "/data/etcd.service"

    data = host.file("/data/etcd.data")
    assert data.user == "etcd" and data.mode == 0o700
    with host.sudo():
        assert host.file("/data/etcd.data/member").is_directory


def test_etcd_installed_from_debian_packages(host):
    assert host.package("etcd-server").is_installed
    assert host.package("etcd-client").is_installed


def test_service_is_ours_and_debian_unit_does_not_fight(host):
    with host.sudo():
        fragment = host.check_output("systemctl show etcd.service -p FragmentPath --value")
        assert fragment == "/etc/systemd/system/etcd.service"
        assert host.check_output("systemctl is-active etcd.service") == "active"
        assert host.check_output("systemctl is-enabled etcd.service") == "enabled"
        # Debian's alias of its own unit is gone, and no throwaway member runs.
        assert not host.file("/etc/systemd/system/etcd2.service").exists
        pids = host.check_output("pgrep -x etcd").split()
        assert len(pids) == 1
        assert host.check_output(f"ps -o user= -p {pids[0]}") == "etcd"


def test_cluster_members_and_health(host):
    members = json.loads(etcdctl(host, "member list -w json"))["members"]
    assert sorted(m["name"] for m in members) == sorted(MEMBERS)
    for m in members:
        assert m["peerURLs"] == [f"http://{MEMBERS[m['name']]}:2380"]
        assert m["clientURLs"] == [f"http://{MEMBERS[m['name']]}:2379"]
        assert not m.get("isLearner", False)
    health = json.loads(etcdctl(host, "endpoint health -w json", ALL))
    assert len(health) == 3 and all(h["health"] for h in health)


def test_one_leader(host):
    status = json.loads(etcdctl(host, "endpoint status -w json", ALL))
    leaders = {s["Status"]["leader"] for s in status}
    assert len(status) == 3 and len(leaders) == 1 and 0 not in leaders


def test_a_write_replicates_to_every_member(host):
    if host.backend.hostname != "node1":
        pytest.skip("written once, from node1")
    key, value = f"/etcd-ops-test/{uuid.uuid4()}", str(uuid.uuid4())
    etcdctl(host, f"put {key} {value}")
    for address in MEMBERS.values():
        got = etcdctl(host, f"get {key} --print-value-only", f"http://{address}:2379").strip()
        assert got == value, f"{address} does not have the write"


# Run once (no `host` fixture): the playbook as users run it, from outside molecule.
@lab.once("bookworm")
def test_readme_command_again_changes_nothing_and_reports_it(tmp_path):
    """`ansible-playbook -i inventory playbooks/deploy.yml` from the repository root, a third time (molecule's
    idempotence step ran it through its own inventory), with a report file."""
    report = tmp_path / "deploy.json"
    proc = lab.playbook("deploy", lab.INVENTORY, "-e", f"etcd_report_file={report}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    counts = lab.recap(proc.stdout)
    assert sorted(counts) == sorted(MEMBERS)
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in counts.values()), counts
    assert "etcd cluster (token etcd-cluster): 3 of 3 members healthy" in proc.stdout
    data = json.loads(report.read_text())
    assert data["operation"] == "deploy" and data["check_mode"] is False
    assert [m["name"] for m in data["members"]] == list(MEMBERS)
    assert all(m["healthy"] and m["actions"] == [] and m["version"].startswith("3.") for m in data["members"])


@pytest.mark.skipif(os.environ.get("ETCD_LAB_SUITE", "bookworm") != "bookworm",
                    reason="the tarball and the controller are the same for both suites: the 3.4 run builds, installs "
                           "and runs it")
def test_installed_collection_runs_by_fqcn(tmp_path):
    """The tarball builds, installs with ansible-galaxy, and its playbook runs by FQCN from elsewhere."""
    env = lab.user_env()
    build = subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path)],
                           cwd=lab.TOP, env=env, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr
    tarball = next(tmp_path.glob("etcd_ops-etcd-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        declared = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]["dependencies"]
    assert "playbooks/deploy.yml" in names and "roles/deploy/tasks/main.yml" in names
    assert not [n for n in names if n.startswith(("tests/", "extensions/", ".collections"))]

    # the dependencies its metadata declares, offline, from the `ansible` package's collections (no Galaxy server)
    deps = artifacts.dependencies(Path(next(iter(ansible_collections.__path__))).parent, sorted(declared),
                                  tmp_path / "deps")
    installed = tmp_path / "collections"
    inst = subprocess.run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(installed), str(tarball),
                           *map(str, deps)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert inst.returncode == 0, inst.stderr
    env["ANSIBLE_COLLECTIONS_PATH"] = str(installed)
    env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
    proc = subprocess.run(["ansible-playbook", "-i", str(lab.INVENTORY), "etcd_ops.etcd.deploy"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert str(installed) in subprocess.run(
        ["ansible-galaxy", "collection", "list", "etcd_ops.etcd"], cwd=tmp_path, env=env,
        capture_output=True, text=True, check=False).stdout
    assert all(c["changed"] == 0 for c in lab.recap(proc.stdout).values())
    for module in ("etcd_member", "etcd_member_info", "etcd_restore", "etcd_snapshot", "etcd_snapshot_info"):
        doc = subprocess.run(["ansible-doc", f"etcd_ops.etcd.{module}"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=False)
        assert doc.returncode == 0 and str(installed) in doc.stdout and "RETURN VALUES" in doc.stdout, doc.stderr


def active_since(name):
    with lab.node(name).sudo():
        return int(lab.node(name).check_output("systemctl show etcd.service -p ActiveEnterTimestampMonotonic --value"))


@lab.once("bookworm")
def test_changed_setting_restarts_members_one_at_a_time():
    """A changed etcd_extra_env reaches every member through a rolling restart; data stays."""
    node1 = lab.node("node1")
    key, value = f"/etcd-ops-test/{uuid.uuid4()}", str(uuid.uuid4())
    node1.check_output(f"etcdctl put {key} {value}")
    before = {name: active_since(name) for name in MEMBERS}
    try:
        proc = lab.playbook("deploy", lab.INVENTORY, "-e", '{"etcd_extra_env": {"ETCD_HEARTBEAT_INTERVAL": "200"}}')
        assert proc.returncode == 0, proc.stdout[-3000:]
        for name in MEMBERS:
            assert "wrote env file, restarted" in proc.stdout.split(f"- {name} ")[1].split("\n")[0]
            assert "ETCD_HEARTBEAT_INTERVAL=200\n" in lab.node(name).file("/data/etcd.env").content_string
        after = [active_since(name) for name in MEMBERS]
        # restarted in inventory order, each after the previous one was back
        assert all(after[i] > before[name] for i, name in enumerate(MEMBERS))
        assert after == sorted(after) and len(set(after)) == 3
        for address in MEMBERS.values():
            got = node1.check_output(f"etcdctl --endpoints=http://{address}:2379 get {key} --print-value-only")
            assert got == value
    finally:
        back = lab.playbook("deploy")
    assert back.returncode == 0, back.stdout[-3000:]
    assert "3 of 3 members healthy" in back.stdout


@lab.once("bookworm")
def test_a_setting_etcd_cannot_start_with_stops_the_rolling_restart_at_the_first_member():
    """Issue #21 (6): each member of a rolling restart must be back, healthy and with its data, before the next
    restarts. The restart was one task with throttle 1: when node1 failed to start, Ansible went on to restart
    node2 and node3 with the same setting, and the whole cluster went down. Now the roll stops at node1, says
    why (etcd's own words, from the journal), and node2 and node3 keep serving; deploy.yml with the setting
    corrected brings node1 back."""
    node2 = lab.node("node2")
    before = {name: active_since(name) for name in MEMBERS}
    try:
        proc = lab.playbook("deploy", lab.INVENTORY, "-e", '{"etcd_extra_env": {"ETCD_HEARTBEAT_INTERVAL": "often"}}')
        assert proc.returncode != 0, proc.stdout[-3000:]
        out = lab.flat(proc.stdout)
        assert "node1: etcd did not start again with its new settings" in out, out[-3000:]
        assert "The rolling restart stopped here: not restarted, still serving with their data: node2, node3." in out
        assert "Last journal lines of node1:" in out and "often" in out.split("Last journal lines of node1:")[1]
        assert [active_since(name) for name in ("node2", "node3")] == [before["node2"], before["node3"]]
        # node2 and node3 are two of three: the cluster still takes writes
        node2.check_output(f"etcdctl --endpoints=http://{MEMBERS['node2']}:2379 put /roll/k v")
        lab.record_edge(6, "deploy.yml", "a setting etcd cannot start with (ETCD_HEARTBEAT_INTERVAL=often)",
                        "the rolling restart stopped at node1; node2 and node3 kept serving", proc)
    finally:
        back = lab.playbook("deploy")
    assert back.returncode == 0, back.stdout[-3000:]
    assert "3 of 3 members healthy" in back.stdout
    assert lab.node("node1").check_output("etcdctl get /roll/k --print-value-only") == "v"


@lab.once("bookworm")
def test_a_running_cluster_whose_env_names_another_data_dir_keeps_its_data():
    """The env files name /srv/etcd-data, not the default. deploy.yml with no variable once rewrote them with
    /data/etcd.data and ETCD_INITIAL_CLUSTER_STATE=new: the members came back as a new, empty cluster. Now the env
    file's data dir is kept, and an inventory that names another one is refused."""
    node1 = lab.node("node1")
    node1.check_output("for i in $(seq 51); do etcdctl put /srv-test/k$i v$i >/dev/null; done")
    cluster_id = json.loads(node1.check_output("etcdctl endpoint status -w json"))[0]["Status"]["header"]["cluster_id"]
    for name in MEMBERS:
        lab.etcd(name, "stop")
    for name in MEMBERS:
        lab.node(name).check_output(
            "mkdir -p /srv && mv /data/etcd.data /srv/etcd-data"
            " && sed -i 's|^ETCD_DATA_DIR=.*|ETCD_DATA_DIR=/srv/etcd-data|' /data/etcd.env"
            " && systemctl start --no-block etcd.service")
    lab.wait_healthy()
    try:
        proc = lab.playbook("deploy")
        out = lab.flat(proc.stdout)
        assert proc.returncode == 0, out[-3000:]
        assert "3 of 3 members healthy" in out
        for name in MEMBERS:
            node = lab.node(name)
            assert "ETCD_DATA_DIR=/srv/etcd-data\n" in node.file("/data/etcd.env").content_string
            assert node.run("test -e /data/etcd.data/member").rc != 0, name
            got = node.check_output("etcdctl get /srv-test/ --prefix --keys-only --consistency=s -w json")
            assert json.loads(got)["count"] == 51, name
            status = json.loads(node.check_output("etcdctl endpoint status -w json"))[0]["Status"]
            assert status["header"]["cluster_id"] == cluster_id, name
        lab.record_edge(6, "deploy.yml", "no variable; the env files name ETCD_DATA_DIR=/srv/etcd-data, 51 keys",
                        "kept the env file's data dir; same cluster, its data there",
                        detail="exit 0; 3 of 3 members healthy, 51 keys on each, cluster ID unchanged, "
                        "no /data/etcd.data made")
        before = {n: lab.fingerprint(n) for n in MEMBERS}
        proc = lab.playbook("deploy", lab.INVENTORY, "-e", "etcd_data_dir=/data/etcd.data")
        out = lab.flat(proc.stdout)
        assert proc.returncode != 0, out[-3000:]
        assert "node1 runs etcd with ETCD_DATA_DIR=/srv/etcd-data in /data/etcd.env, but etcd_data_dir is" \
               " /data/etcd.data." in out, out[-3000:]
        assert "Deploy does not move a member's data" in out and "Nothing was changed on any member." in out
        assert {n: lab.fingerprint(n) for n in MEMBERS} == before
        lab.record_refusal("deploy.yml", proc, "a running member whose env file names another data dir than -e")
        lab.record_edge(6, "deploy.yml", "-e etcd_data_dir=/data/etcd.data on that cluster",
                        "refused before any change", proc)
    finally:
        for name in MEMBERS:
            lab.etcd(name, "stop")
        for name in MEMBERS:
            lab.node(name).run("mv /srv/etcd-data /data/etcd.data"
                               " && sed -i 's|^ETCD_DATA_DIR=.*|ETCD_DATA_DIR=/data/etcd.data|' /data/etcd.env"
                               " && systemctl start --no-block etcd.service")
        lab.wait_healthy()


def _etcd_env_module():
    """plugins/module_utils/etcd_env.py, loaded from its file (it imports nothing of the collection)."""
    import importlib.util
    path = Path(__file__).resolve().parents[4] / "plugins" / "module_utils" / "etcd_env.py"
    spec = importlib.util.spec_from_file_location("etcd_env", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_files_are_read_as_this_systemd_reads_them(tmp_path):
    """Issue #24, edge 7. The unit tests' env file of quotes, continuations, comments, `export` lines and bad
    names, given to a transient unit on this suite's systemd: the environment it starts with is what
    parse_env_file reads. Then an `export` line in a member's env file: an operation's output warns of it."""
    env = _etcd_env_module()
    text = (Path(__file__).resolve().parents[4] / "tests" / "unit" / "fixtures" / "systemd-env-file.env").read_text()
    node = lab.node("node1")
    node.check_output(f"cat > /root/systemd-env-file.env <<'EOF_ENV'\n{text}EOF_ENV")
    version = int(node.check_output("systemctl --version").split()[1])
    # env -0: values with newlines stay whole
    out = node.check_output("systemd-run --wait --pipe --quiet -p EnvironmentFile=/root/systemd-env-file.env "
                            "/usr/bin/env -0")
    started = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    ours = env.parse_env_file(text, version)
    assert {k: v for k, v in started.items() if k in ours or len(k) == 1} == ours, (version, started)
    warnings = env.env_file_warnings(text, version)
    assert any("systemd ignores 'export C=...'" in w for w in warnings)
    original = node.file("/data/etcd.env").content_string
    try:
        node.check_output("printf 'export ETCD_LOG_LEVEL=debug\\n' >> /data/etcd.env")
        proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={tmp_path / 'store'}")
        assert proc.returncode == 0, proc.stdout[-3000:]
        out = lab.flat(proc.stdout + proc.stderr)  # ansible writes warnings to stderr
        line = len(original.splitlines()) + 1
        warning = (f"/data/etcd.env line {line}: systemd ignores 'export ETCD_LOG_LEVEL=...': 'export' is a shell "
                   "word, and systemd reads the name as 'export ETCD_LOG_LEVEL', which is no variable name, so "
                   "ETCD_LOG_LEVEL is not set for etcd. Fix: remove 'export ' from the line.")
        assert warning in out, out[-3000:]
        lab.record_edge(7, "backup.yml", f"a member's env file with `export ETCD_LOG_LEVEL=debug` (systemd {version})",
                        "read as systemd reads it (not set), and warned of", detail=f"exit 0; [WARNING]: {warning}",
                        issue=24)
    finally:
        node.check_output(f"cat > /data/etcd.env <<'EOF_ENV'\n{original}EOF_ENV")
