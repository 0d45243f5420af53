import hashlib

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_snapshot_file as sf


def snapshot_bytes(pages=9):
    """A file shaped like `etcdctl snapshot save` output: whole 512-byte pages + sha256 trailer."""
    body = bytes(range(256)) * 2 * pages
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize("chunk", [1, 7, 32, 33, 511, 1 << 20])
def test_good_snapshot_at_any_chunk_size(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(sf, "CHUNK", chunk)
    data = snapshot_bytes()
    path = tmp_path / "s.db"
    path.write_bytes(data)
    d = sf.digests(str(path))
    assert d == dict(size=len(data), sha256=hashlib.sha256(data).hexdigest(), has_trailer=True, trailer_ok=True)


def test_flipped_byte_and_truncation_are_caught(tmp_path):
    data = bytearray(snapshot_bytes())
    data[1000] ^= 0x01
    (tmp_path / "flip.db").write_bytes(bytes(data))
    assert sf.digests(str(tmp_path / "flip.db"))["trailer_ok"] is False
    (tmp_path / "cut.db").write_bytes(snapshot_bytes()[:-100])
    cut = sf.digests(str(tmp_path / "cut.db"))
    assert cut["has_trailer"] is False and cut["trailer_ok"] is False


def test_db_copy_without_trailer(tmp_path):
    (tmp_path / "db").write_bytes(b"\0" * 4096)
    assert sf.digests(str(tmp_path / "db"))["has_trailer"] is False


def test_empty_file(tmp_path):
    (tmp_path / "e.db").write_bytes(b"")
    assert sf.digests(str(tmp_path / "e.db")) == dict(
        size=0, sha256=hashlib.sha256(b"").hexdigest(), has_trailer=False, trailer_ok=False)


def test_sidecar_round_trip(tmp_path):
    path = str(tmp_path / "s.db")
    digest = "ab" * 32
    assert sf.read_sidecar(path) is None
    (tmp_path / "s.db.sha256").write_text(sf.sidecar_text(path, digest))
    assert (tmp_path / "s.db.sha256").read_text() == f"{digest}  s.db\n"
    assert sf.read_sidecar(path) == digest


def test_bad_sidecar(tmp_path):
    (tmp_path / "s.db.sha256").write_text("not a checksum\n")
    with pytest.raises(ValueError, match="sha256sum format"):
        sf.read_sidecar(str(tmp_path / "s.db"))


def test_inspect_returns_the_metadata_backup_wrote(tmp_path):
    path = tmp_path / "etcd-cluster-20261204T000000Z-r5.db"
    path.write_bytes(snapshot_bytes())
    assert sf.inspect(None, str(path), read_status=False)["meta"] == {}  # none
    (tmp_path / (path.name + ".json")).write_text('{"cluster_id": "ab", "revision": 5}')
    assert sf.inspect(None, str(path), read_status=False)["meta"] == {"cluster_id": "ab", "revision": 5}
    (tmp_path / (path.name + ".json")).write_text("[not an object")
    assert sf.inspect(None, str(path), read_status=False)["meta"] == {}
