"""etcd_snapshot_codec: argument handling, the pipeline it builds, and what it does with the tools' answers
(run_command and get_bin_path faked; the real zstd and age run in the molecule scenario s3)."""

import base64
import hashlib
import os
import shlex

import pytest
from ansible.module_utils import basic

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_snapshot_codec

RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


@pytest.fixture
def tools(monkeypatch):
    """Fake zstd/age: run_command records each shell line; `answer` decides what happens (rc, stderr, bytes to
    write to the line's output file)."""
    calls = []
    state = {"rc": 0, "stderr": "", "write": b"encoded"}

    def run_command(self, args, use_unsafe_shell=False, executable=None, **kwargs):
        calls.append((args, use_unsafe_shell, executable))
        target = shlex.split(args.rsplit(">", 1)[1])[0]
        if state["write"] is not None:
            with open(target, "wb") as handle:
                handle.write(state["write"])
        return state["rc"], "", state["stderr"]

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: f"/usr/bin/{name}")
    return calls, state


def snapshot(tmp_path, data=b"snapshot"):
    path = tmp_path / "s.db"
    path.write_bytes(data)
    return path


def test_nothing_to_encode_is_refused(tools, run_module, tmp_path):
    result = run_module(etcd_snapshot_codec, {"operation": "encode", "src": str(snapshot(tmp_path)),
                                              "dest": str(tmp_path / "o")})
    assert result["failed"] and "Nothing to encode" in result["msg"] and "compression=zstd" in result["msg"]
    assert tools[0] == []


def test_a_zstd_level_out_of_range_is_refused(tools, run_module, tmp_path):
    result = run_module(etcd_snapshot_codec, {"operation": "encode", "src": str(snapshot(tmp_path)),
                                              "dest": str(tmp_path / "o"), "compression": "zstd", "zstd_level": 25})
    assert result["failed"] and "between 1 and 19" in result["msg"]


def test_check_mode_builds_the_pipeline_and_writes_nothing(tools, run_module, tmp_path):
    src = snapshot(tmp_path)
    args = {"operation": "encode", "src": str(src), "dest": str(tmp_path / "o z"), "compression": "zstd",
            "recipients": [RECIPIENT, "ssh-ed25519 AAAAC3 me"]}
    result = run_module(etcd_snapshot_codec, args, check_mode=True)
    assert result["changed"] and result["encryption"] == "age" and result["compression"] == "zstd"
    [line] = result["commands"]
    assert line == (f"set -o pipefail; < {src} /usr/bin/zstd -q -c -T0 -3 | /usr/bin/age --encrypt --recipient "
                    f"{RECIPIENT} --recipient 'ssh-ed25519 AAAAC3 me' > '{tmp_path}/o z'")
    assert tools[0] == [] and sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]


def test_encode_writes_0600_under_a_hidden_name_then_renames(tools, run_module, tmp_path):
    calls, state = tools
    dest = tmp_path / "s.db.zst.age"
    result = run_module(etcd_snapshot_codec, {"operation": "encode", "src": str(snapshot(tmp_path)), "dest": str(dest),
                                              "compression": "zstd", "recipients": [RECIPIENT]})
    [(line, shell, executable)] = calls
    assert shell and executable == "/bin/bash" and line.endswith(f"> {tmp_path}/.tmp-s.db.zst.age")
    assert dest.read_bytes() == b"encoded" and oct(dest.stat().st_mode & 0o777) == "0o600"
    assert result["changed"] and result["sha256"] == hashlib.sha256(b"encoded").hexdigest() and result["size"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db", "s.db.zst.age"]


def test_decode_refuses_a_changed_copy_before_decrypting(tools, run_module, tmp_path):
    src = snapshot(tmp_path, b"changed")
    result = run_module(etcd_snapshot_codec, {"operation": "decode", "src": str(src), "dest": str(tmp_path / "p.db"),
                                              "identity_file": str(src), "expected_sha256": "0" * 64})
    assert result["failed"] and "changed or damaged" in result["msg"] and "Nothing was decoded" in result["msg"]
    assert tools[0] == [] and not (tmp_path / "p.db").exists()


def test_decode_with_the_wrong_identity_names_the_fix_and_leaves_nothing(tools, run_module, tmp_path):
    calls, state = tools
    state.update(rc=1, write=b"", stderr="age: error: no identity matched any of the recipients\n"
                 "age: report unexpected or unhelpful errors at https://filippo.io/age/report\n"
                 "zstd: /*stdin*\\: unexpected end of file\n")
    src = snapshot(tmp_path, b"ciphertext")
    key = tmp_path / "key.txt"
    key.write_text("AGE-SECRET-KEY-1...")
    result = run_module(etcd_snapshot_codec, {"operation": "decode", "src": str(src), "dest": str(tmp_path / "p.db"),
                                              "compression": "zstd", "identity_file": str(key),
                                              "expected_sha256": hashlib.sha256(b"ciphertext").hexdigest()})
    assert result["failed"] and result["rc"] == 1
    assert "age: error: no identity matched any of the recipients." in result["msg"]
    assert "zstd" not in result["msg"].split(" The copy")[0] and "report unexpected" not in result["msg"]
    assert f"not encrypted to the identity in {key}" in result["msg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.txt", "s.db"]
    [(line, _shell, _exe)] = calls
    assert f"/usr/bin/age --decrypt --identity {key} | /usr/bin/zstd -q -d -c" in line


def test_an_unreadable_identity_file_is_refused(tools, run_module, tmp_path):
    result = run_module(etcd_snapshot_codec, {"operation": "decode", "src": str(snapshot(tmp_path)),
                                              "dest": str(tmp_path / "p.db"), "identity_file": str(tmp_path / "none")})
    assert result["failed"] and "cannot be read" in result["msg"] and tools[0] == []
    assert not os.path.exists(tmp_path / "p.db")


SECRET = '{"node1": "-----BEGIN PRIVATE KEY-----"}'


# the roles pass it base64-encoded: ansible-core before 2.19 would hand the JSON text over as a dict
@pytest.mark.parametrize("given", [{"content": SECRET}, {"content_base64": base64.b64encode(SECRET.encode()).decode()}],
                         ids=["content", "content_base64"])
def test_content_goes_to_age_on_its_input_and_never_to_a_file(monkeypatch, run_module, tmp_path, given):
    """The recovery bundle's keys (issue #26): encrypted from the pipeline's input, never written in plain, never
    logged (no_log)."""
    seen = []

    def run_command(self, args, use_unsafe_shell=False, executable=None, data=None, binary_data=False, **kwargs):
        seen.append((args, data, binary_data))
        target = shlex.split(args.rsplit(">", 1)[1])[0]
        with open(target, "wb") as handle:
            handle.write(b"age-encrypted")
        return 0, "", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: f"/usr/bin/{name}")
    dest = tmp_path / "s.db.keys.age"
    result = run_module(etcd_snapshot_codec, dict(given, operation="encode", dest=str(dest), recipients=[RECIPIENT]))
    [(line, data, binary)] = seen
    assert line == f"set -o pipefail; /usr/bin/age --encrypt --recipient {RECIPIENT} > {tmp_path}/.tmp-s.db.keys.age"
    assert data == SECRET and binary
    assert result["changed"] and result["src_size"] == len(SECRET) and dest.read_bytes() == b"age-encrypted"
    assert "PRIVATE" not in str(result) and [p.name for p in tmp_path.iterdir()] == ["s.db.keys.age"]


@pytest.mark.parametrize("args, why", [
    ({"operation": "encode", "recipients": []}, "content is only encrypted, never written in plain"),
    ({"operation": "encode", "recipients": [], "compression": "zstd"}, "never written in plain"),
    ({"operation": "decode", "identity_file": "/x"}, "it needs operation=encode and recipients"),
])
def test_content_without_recipients_is_refused(tools, run_module, tmp_path, args, why):
    result = run_module(etcd_snapshot_codec,
                        dict(args, content="-----BEGIN PRIVATE KEY-----", dest=str(tmp_path / "o")))
    assert result["failed"] and why in result["msg"] and tools[0] == [] and list(tmp_path.iterdir()) == []
    assert "PRIVATE" not in str(result)


def test_content_base64_that_is_not_base64_is_refused(tools, run_module, tmp_path):
    result = run_module(etcd_snapshot_codec, {"operation": "encode", "content_base64": "not base64!", "dest":
                                              str(tmp_path / "o"), "recipients": [RECIPIENT]})
    assert result["failed"] and "content_base64 is not base64" in result["msg"] and list(tmp_path.iterdir()) == []
