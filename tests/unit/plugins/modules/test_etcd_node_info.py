"""etcd_node_info on a member laid out in a temporary dir, with etcdctl answering from recorded output."""

from __future__ import annotations

import json
import os

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_node_info

UNIT = "LoadState=loaded\nActiveState=active\nUser=etcd\n"


def member(tmp_path, env=True, tls=False):
    data = tmp_path / "etcd.data"
    (data / "member").mkdir(parents=True)
    if env:
        lines = ["ETCD_NAME=node1", f"ETCD_DATA_DIR={data}/", "ETCD_ADVERTISE_CLIENT_URLS=http://172.29.90.11:2379",
                 'ETCD_INITIAL_CLUSTER_TOKEN="etcd-cluster"']
        if tls:
            lines += ["ETCD_TRUSTED_CA_FILE=/etc/etcd/ca.pem", "ETCD_CERT_FILE=/etc/etcd/node1.pem",
                      "ETCD_KEY_FILE=/etc/etcd/node1-key.pem"]
        (tmp_path / "etcd.env").write_text("\n".join(lines) + "\n")
    return data


def answer(fake, recorded, version, prefix=""):
    fake.on("version", recorded(version, "version.txt"))
    fake.on("endpoint status -w json", recorded(version, prefix + "endpoint_status.json"))
    fake.on("endpoint health -w json", recorded(version, prefix + "endpoint_health.json"))
    fake.on("show", UNIT)  # systemctl show
    return fake


def test_a_healthy_member_with_marks_and_kept_dirs(tmp_path, fake_etcd, run_module, recorded, version):
    data = member(tmp_path)
    mark = dict(snapshot_sha256="a" * 64, initial_cluster="node1=http://172.29.90.11:2380")
    (data / "member" / ".etcd-ops-restore.done.json").write_text(json.dumps(mark))
    staging = tmp_path / "etcd.data.etcd-ops-staging" / "member"
    staging.mkdir(parents=True)
    (staging / ".etcd-ops-restore.json").write_text("{not json")
    (tmp_path / "etcd.data.20261201T000000Z").mkdir()
    (tmp_path / "etcd.env").chmod(0o640)
    fake = answer(fake_etcd(), recorded, version)
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "command_timeout": 2,
                                         "space_paths": [str(tmp_path / "no" / "such")]})
    assert not result["changed"] and result["env_exists"]
    assert result["env"]["ETCD_INITIAL_CLUSTER_TOKEN"] == "etcd-cluster"
    assert result["env_text"] == (tmp_path / "etcd.env").read_text() and result["env_mode"] == "0640"
    assert result["data_dir"] == str(data) and result["endpoint"] == "http://172.29.90.11:2379"
    assert result["unit"] == dict(load_state="loaded", active_state="active", user="etcd", fragment_path="",
                                  drop_in_paths="")
    assert "config" not in result
    assert result["probe"]["ran"] and result["probe"]["healthy"] and result["probe"]["quorate"]
    assert result["probe"]["status"]["has_leader"]
    owner, group = etcd_node_info.owner_of(str(data))  # whoever runs the tests owns the temporary dir
    assert owner and result["data"] == dict(exists=True, initialised=True, mountpoint=False, owner=owner, group=group)
    assert result["conn"] == dict(ca_cert="", client_cert="", client_key="")
    assert [s["path"] for s in result["space"]] == [str(tmp_path), str(tmp_path / "no" / "such")]
    assert all(s["free"] > 0 and s["mount"].startswith("/") for s in result["space"])
    assert result["marks"] == dict(data=None, staging=None, done=mark, wal=None, wal_staging=None)  # unreadable: none
    assert result["kept"] == [str(tmp_path / "etcd.data.20261201T000000Z")]
    assert result["versions"]["etcdctl"] == version
    # the probe asked the env file's URL, without credentials, with a short timeout
    health = next(env for argv, env in fake.calls if argv[1:3] == ["endpoint", "health"])
    assert health["ETCDCTL_ENDPOINTS"] == "http://172.29.90.11:2379" and health["ETCDCTL_COMMAND_TIMEOUT"] == "2s"
    assert "ETCDCTL_USER" not in health and "ETCDCTL_PASSWORD" not in health


def test_credentials_are_used_only_when_asked(tmp_path, fake_etcd, run_module, recorded, version):
    member(tmp_path)
    for asked in (False, True):
        fake = answer(fake_etcd(), recorded, version)
        run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "user": "root", "password": "s3cret",
                                    "credentials": asked})
        [health] = [env for argv, env in fake.calls if argv[1:3] == ["endpoint", "health"]]
        assert (health.get("ETCDCTL_USER") == "root" and health.get("ETCDCTL_PASSWORD") == "s3cret") is asked


def test_a_member_without_quorum_is_not_healthy(tmp_path, fake_etcd, run_module, recorded, version):
    """No leader in its status, its health read timed out: not a member of a cluster with quorum."""
    member(tmp_path)
    fake = fake_etcd().on("version", recorded(version, "version.txt")).on("show", UNIT)
    fake.on("endpoint status -w json", "", rc=1, stderr="context deadline exceeded")
    fake.on("endpoint health -w json", json.dumps([dict(endpoint="http://172.29.90.11:2379", health=False,
                                                        took="2s", error="context deadline exceeded")]), rc=1)
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "command_timeout": 2})
    assert result["probe"]["ran"] and not result["probe"]["healthy"] and not result["probe"]["quorate"]
    assert result["probe"]["status"] == {} and result["probe"]["error"] == "context deadline exceeded"


def test_a_member_that_still_calls_itself_leader_counts_as_healthy(
        tmp_path, fake_etcd, run_module, recorded, version):
    """A member that just lost its peers names itself leader until its election timeout: careful on purpose, the
    recovery takes that for a cluster that may have quorum (and refuses; a second run after the timeout goes on)."""
    member(tmp_path)
    fake = fake_etcd().on("version", recorded(version, "version.txt")).on("show", UNIT)
    fake.on("endpoint status -w json", recorded(version, "no_quorum_endpoint_status.json"), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_status.err"))
    fake.on("endpoint health -w json", recorded(version, "no_quorum_endpoint_health.json"), rc=1,
            stderr=recorded(version, "no_quorum_endpoint_health.err"))
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "command_timeout": 2})
    assert not result["probe"]["quorate"]
    assert result["probe"]["healthy"] == result["probe"]["status"]["has_leader"]


def test_nospace_is_quorate(tmp_path, fake_etcd, run_module, recorded, version):
    member(tmp_path)
    fake = answer(fake_etcd(), recorded, version, prefix="nospace_")
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env")})
    assert result["probe"]["healthy"] and result["probe"]["quorate"] and result["probe"]["alarms"] == ["NOSPACE"]
    assert fake.argvs()


def test_without_etcdctl_the_probe_says_why(tmp_path, fake_etcd, run_module):
    member(tmp_path)
    fake_etcd(tools=()).on("show", UNIT)
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env")})
    assert not result.get("failed") and not result["probe"]["ran"] and not result["probe"]["healthy"]
    assert result["probe"]["error"].startswith("etcdctl is not installed on this host. Install etcd-client")
    assert result["versions"] == {"etcdctl": None, "etcdutl": None}


def test_no_env_file_falls_back_to_the_given_data_dir(tmp_path, fake_etcd, run_module):
    data = member(tmp_path, env=False)
    fake = fake_etcd(tools=()).on("show", "LoadState=not-found\nActiveState=inactive\nUser=\n")
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "data_dir": f"{data}/",
                                         "probe": False})
    assert not result["env_exists"] and result["env"] == {} and result["data_dir"] == str(data)
    assert result["env_text"] == ""
    assert result["endpoint"] == "http://127.0.0.1:2379" and not result["probe"]["ran"]
    assert result["data"]["owner"] == etcd_node_info.owner_of(str(data))[0]
    assert etcd_node_info.owner_of(str(tmp_path / "no-such-dir")) == ("", "")
    assert result["unit"]["load_state"] == "not-found"
    assert not any(argv[0].endswith("etcdctl") for argv in fake.argvs())


def test_the_env_file_s_tls_files_are_used_unless_given(tmp_path, fake_etcd, run_module, recorded, version):
    member(tmp_path, tls=True)
    fake = answer(fake_etcd(), recorded, version)
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "ca_cert": str(ca)})
    assert result["conn"] == dict(ca_cert=str(ca), client_cert="/etc/etcd/node1.pem",
                                  client_key="/etc/etcd/node1-key.pem")
    # the env file's client cert does not exist here: the probe says so instead of failing
    assert not result["probe"]["ran"] and "/etc/etcd/node1.pem does not exist" in result["probe"]["error"]
    assert not fake.argvs()[1:] or all("endpoint" not in argv for argv in fake.argvs())


def test_an_env_file_that_cannot_be_read_fails_with_its_path(tmp_path, fake_etcd, run_module):
    member(tmp_path, env=False)
    (tmp_path / "etcd.env").mkdir()  # a directory where the file should be: open() fails as root too
    fake_etcd(tools=())
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env")})
    assert result["failed"] and result["msg"].startswith(f"Could not read this member's env file {tmp_path}/etcd.env")


SS = """LISTEN 0 4096 172.29.90.11:2379 0.0.0.0:* users:(("etcd",pid=812,fd=7))
LISTEN 0 4096 0.0.0.0:2380 0.0.0.0:* users:(("nc",pid=90,fd=3))
LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))
"""


def test_deploy_s_questions_sockets_paths_and_certificates(tmp_path, fake_etcd, run_module):
    member(tmp_path)
    fake = fake_etcd(tools=()).on("show", UNIT).on("-Htlnp", SS)
    unit = tmp_path / "etcd.service"
    unit.write_text("[Unit]\n")
    link = tmp_path / "link.service"
    link.symlink_to(unit)
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key = tmp_path / "member.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
    result = run_module(etcd_node_info, {
        "env_file": str(tmp_path / "etcd.env"), "probe": False, "ports": [2379, 2380],
        "paths": [str(link), str(unit), str(tmp_path / "none"), str(tmp_path)],
        "certificates": [str(ca), str(key), str(tmp_path / "none.crt")]})
    assert result["listeners"] == [dict(address="172.29.90.11", port=2379, process="etcd", pid=812),
                                   dict(address="0.0.0.0", port=2380, process="nc", pid=90)]
    assert ["ss", "-Htlnp"] in fake.argvs()
    assert result["paths"] == {
        str(link): dict(exists=True, isdir=False, islnk=True, target=str(unit), resolved=os.path.realpath(unit)),
        str(unit): dict(exists=True, isdir=False, islnk=False, target="", resolved=""),
        str(tmp_path / "none"): dict(exists=False, isdir=False, islnk=False, target="", resolved=""),
        str(tmp_path): dict(exists=True, isdir=True, islnk=False, target="", resolved="")}
    certs = result["certificates"]
    assert certs[str(ca)] == dict(path=str(ca), pem=ca.read_text(), error="")
    # a private key never leaves the member, not even in an error
    assert certs[str(key)]["pem"] == "" and "secret" not in json.dumps(result)
    assert "private key" in certs[str(key)]["error"]
    missing = certs[str(tmp_path / "none.crt")]
    assert missing["pem"] == "" and "No such file" in missing["error"]


def test_without_ports_ss_is_not_run(tmp_path, fake_etcd, run_module):
    member(tmp_path)
    fake = fake_etcd(tools=()).on("show", UNIT)
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "probe": False})
    assert result["listeners"] == [] and result["paths"] == {} and result["certificates"] == {}
    assert not any(argv[0] == "ss" for argv in fake.argvs())


def test_the_login_user_seen_through_become(monkeypatch):
    for variable in ("SUDO_USER", "DOAS_USER", "LOGNAME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(etcd_node_info.os, "getuid", lambda: 0)
    assert etcd_node_info.login_user() == ""
    monkeypatch.setenv("LOGNAME", "root")
    assert etcd_node_info.login_user() == ""
    monkeypatch.setenv("LOGNAME", "ops")  # su to root keeps it
    assert etcd_node_info.login_user() == "ops"
    monkeypatch.setenv("SUDO_USER", "admin")
    assert etcd_node_info.login_user() == "admin"
    monkeypatch.delenv("SUDO_USER")
    monkeypatch.setattr(etcd_node_info.os, "getuid", lambda: 1000)  # not root (no become): who it runs as
    monkeypatch.setattr(etcd_node_info.pwd, "getpwuid", lambda uid: type("pw", (), {"pw_name": "u%d" % uid}))
    assert etcd_node_info.login_user() == "u1000"


def test_an_exported_data_dir_is_not_taken_and_is_warned_of(tmp_path, fake_etcd, run_module, monkeypatch):
    """systemd ignores `export KEY=...` (issue #24): etcd never sees that data dir, so neither does the module, and
    the run says why."""
    warned = []
    monkeypatch.setattr(etcd_node_info.AnsibleModule, "warn", lambda self, text: warned.append(text))
    data = member(tmp_path, env=False)
    (tmp_path / "etcd.env").write_text(f"ETCD_NAME=node1\nexport ETCD_DATA_DIR={data}\n")
    fake = fake_etcd(tools=()).on("show", UNIT)
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "data_dir": "/var/lib/etcd",
                                         "probe": False})
    assert result["env"] == {"ETCD_NAME": "node1"} and result["data_dir"] == "/var/lib/etcd"
    [warning] = result["env_warnings"]
    assert warning.startswith(f"{tmp_path}/etcd.env line 2: systemd ignores 'export ETCD_DATA_DIR=...'")
    assert warned == [warning]
    assert ["systemctl", "--version"] not in [argv[:2] for argv in fake.argvs()]  # no comment asks for it


def test_a_comment_ending_in_a_backslash_is_read_as_the_members_systemd_reads_it(tmp_path, fake_etcd, run_module):
    (tmp_path / "etcd.env").write_text("ETCD_NAME=node1\n# old data dir: \\\nETCD_DATA_DIR=/data/etcd.data\n")
    fake = fake_etcd(tools=()).on("show", UNIT).on("--version", "systemd 252 (252.39-1~deb12u2)\n+PAM +AUDIT\n")
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "probe": False})
    assert "ETCD_DATA_DIR" not in result["env"] and result["data_dir"] == "/var/lib/etcd"
    assert "systemd 252 does not set ETCD_DATA_DIR: the comment on line 2 ends in a backslash" in \
        result["env_warnings"][0]
    assert any(argv[-1] == "--version" for argv in fake.argvs())
    fake.on("--version", "systemd 257 (257.13-1~deb13u1)\n")
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "probe": False})
    assert result["env"]["ETCD_DATA_DIR"] == "/data/etcd.data" and result["env_warnings"] == []


def test_a_separate_wal_dir_its_marks_its_kept_dirs_and_who_may_write_beside_it(
        tmp_path, fake_etcd, run_module, recorded, version):
    """Issue #24, edge 2: the WAL dir is read as the data dir is, and whether the unit's user (nobody here) may write
    its parent, where etcd makes a new member's WAL dir."""
    member(tmp_path)
    parent = tmp_path / "wal-disk"
    (parent / "wal").mkdir(parents=True)
    (parent / "wal" / "0000000000000000-0000000000000000.wal").write_text("wal")
    mark = dict(snapshot_sha256="a" * 64, initial_cluster="node1=http://172.29.90.11:2380")
    (parent / "wal" / ".etcd-ops-restore.json").write_text(json.dumps(mark))
    (parent / "wal.20261201T000000Z").mkdir()
    with open(tmp_path / "etcd.env", "a") as handle:
        handle.write(f"ETCD_WAL_DIR={parent}/wal/\n")
    parent.chmod(0o755)
    seen = {}
    for owner in (0, 65534):  # root's, then nobody's
        os.chown(parent, owner, 0)
        fake = answer(fake_etcd(), recorded, version)
        fake.on("show", "LoadState=loaded\nActiveState=active\nUser=nobody\n")
        seen[owner] = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "command_timeout": 2})
    result = seen[0]
    assert result["wal_dir"] == str(parent / "wal")
    wal = dict(result["wal"], space={})
    assert wal == dict(dir=str(parent / "wal"), exists=True, holds_wal=True, mountpoint=False, owner="root",
                       group="root", parent_writable=False, parent="root:root 0755", space={})
    assert result["wal"]["space"]["path"] == str(parent) and result["wal"]["space"]["free"] > 0
    assert seen[65534]["wal"]["parent_writable"] and seen[65534]["wal"]["parent"] == "nobody:root 0755"
    assert result["marks"]["wal"] == mark and result["marks"]["wal_staging"] is None
    assert result["kept"] == [str(parent / "wal.20261201T000000Z")]
    missing = etcd_node_info.wal_state(str(tmp_path / "no" / "wal"), {"load_state": "loaded", "user": "nobody"}, set())
    assert missing["parent"] == "missing" and not missing["parent_writable"] and not missing["exists"]


def test_no_wal_dir(tmp_path, fake_etcd, run_module, recorded, version):
    member(tmp_path)
    answer(fake_etcd(), recorded, version)
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "command_timeout": 2})
    assert result["wal"] == dict(dir="", exists=False, holds_wal=False, mountpoint=False, owner="", group="",
                                 parent_writable=False, parent="", space={})
    assert result["marks"]["wal"] is None and result["marks"]["wal_staging"] is None


def test_mount_points_come_from_the_mount_table_bind_mounts_too(tmp_path):
    """A bind mount of a dir onto itself is on the same device as its parent: os.path.ismount misses it, the mount
    table does not (the lab's stand-in for a WAL disk, and a real layout too)."""
    table = tmp_path / "mountinfo"
    table.write_text(
        "22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw\n"
        f"35 22 0:21 /data/etcd-wal/wal {tmp_path}/wal rw,relatime shared:1 - overlay overlay rw\n"
        "36 22 8:1 / /mnt/wal\\040disk rw,noatime - ext4 /dev/sdb1 rw\n")
    (tmp_path / "wal").mkdir()
    (tmp_path / "data").mkdir()
    points = etcd_node_info.mount_points(str(table))
    assert points == {"/", f"{tmp_path}/wal", "/mnt/wal disk"}
    assert etcd_node_info.is_mount(str(tmp_path / "wal"), points)
    assert not etcd_node_info.is_mount(str(tmp_path / "data"), points)
    assert etcd_node_info.mount_points(str(tmp_path / "no-such-table")) == set()


def test_config_reads_the_unit_its_drop_ins_and_the_certificates_never_a_key(tmp_path, fake_etcd, run_module):
    """The backup's recovery bundle (issue #26): what a rebuild needs beside the env file."""
    member(tmp_path)
    pki = tmp_path / "pki"
    pki.mkdir()
    (pki / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
    (pki / "node1.pem").write_text("-----BEGIN CERTIFICATE-----\nN1\n-----END CERTIFICATE-----\n")
    (pki / "peer.pem").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
    unit = tmp_path / "etcd.service"
    unit.write_text("[Service]\nExecStart=/usr/bin/etcd\n")
    link = tmp_path / "etcd.service.link"
    link.symlink_to(unit)
    (tmp_path / "10-limits.conf").write_text("[Service]\nLimitNOFILE=65536\n")
    with open(tmp_path / "etcd.env", "a") as env:
        env.write(f"ETCD_TRUSTED_CA_FILE={pki}/ca.pem\nETCD_CERT_FILE={pki}/node1.pem\nETCD_KEY_FILE={pki}/node1-key.pem\n"
                  f"ETCD_PEER_CERT_FILE={pki}/peer.pem\nETCD_PEER_TRUSTED_CA_FILE={pki}/gone.pem\n")
    fake = fake_etcd()
    fake.on("version", "etcdctl version: 3.5.16\nAPI version: 3.5\n")
    fake.on("show", UNIT + f"FragmentPath={link}\nDropInPaths={tmp_path}/10-limits.conf {tmp_path}/missing.conf\n")
    result = run_module(etcd_node_info, {"env_file": str(tmp_path / "etcd.env"), "probe": False, "config": True})
    config = result["config"]
    assert [(u["path"], u["resolved"], u["text"]) for u in config["unit_files"][:2]] == [
        (str(link), str(unit), "[Service]\nExecStart=/usr/bin/etcd\n"),
        (f"{tmp_path}/10-limits.conf", f"{tmp_path}/10-limits.conf", "[Service]\nLimitNOFILE=65536\n")]
    assert config["unit_files"][2]["text"] == "" and "No such file" in config["unit_files"][2]["error"]
    certs = config["certificates"]
    assert certs["ETCD_TRUSTED_CA_FILE"]["pem"].startswith("-----BEGIN CERTIFICATE-----\nCA")
    assert certs["ETCD_CERT_FILE"]["pem"].endswith("N1\n-----END CERTIFICATE-----\n")
    assert certs["ETCD_PEER_CERT_FILE"] == dict(path=f"{pki}/peer.pem", pem="",
                                                error="it holds a private key, which is not returned")
    assert "No such file" in certs["ETCD_PEER_TRUSTED_CA_FILE"]["error"]
    assert config["keys"] == {"ETCD_KEY_FILE": f"{pki}/node1-key.pem"}
    assert "secret" not in json.dumps(result)
