import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_version import (
    parse_tool_version,
    parse_version,
    restore_needs_absent_dir,
    snapshot_tool,
    supports_bump_revision,
    version_str,
)


@pytest.mark.parametrize(("text", "want"), [
    ("etcdctl version: 3.4.23\nAPI version: 3.4\n", (3, 4, 23)),
    ("etcdctl version: 3.5.16\nAPI version: 3.5\n", (3, 5, 16)),
    ("etcdutl version: 3.5.16\nAPI version: 3.5\n", (3, 5, 16)),
    ("etcdctl version: 3.6.5\nAPI version: 3.6\n", (3, 6, 5)),
    ("something else", None),
    ("", None),
])
def test_parse_tool_version(text, want):
    assert parse_tool_version(text) == want


def test_parse_version():
    assert parse_version("3.5.16") == (3, 5, 16)
    assert parse_version("v3.6.0-rc.1") == (3, 6, 0)
    assert parse_version("latest") is None
    assert version_str((3, 4, 23)) == "3.4.23"
    assert version_str(None) == "unknown"


@pytest.mark.parametrize(("ctl", "utl", "tool"), [
    ((3, 4, 23), False, "etcdctl"),     # bookworm: no etcdutl in 3.4
    ((3, 5, 16), True, "etcdutl"),      # trixie: etcdutl ships in etcd-server
    ((3, 5, 16), False, "etcdctl"),     # 3.5 etcdctl still restores (deprecated)
    ((3, 6, 0), True, "etcdutl"),
    (None, True, "etcdutl"),
])
def test_snapshot_tool(ctl, utl, tool):
    assert snapshot_tool(ctl, utl) == tool


def test_snapshot_tool_on_36_needs_etcdutl():
    with pytest.raises(ValueError, match=r"install etcdutl \(Debian: package etcd-server\)"):
        snapshot_tool((3, 6, 2), False)


@pytest.mark.parametrize(("tool_version", "want"), [
    ((3, 4, 23), False), ((3, 4, 26), False), ((3, 4, 27), True),
    ((3, 5, 9), False), ((3, 5, 10), True), ((3, 5, 16), True),
    ((3, 6, 0), True), (None, False),
])
def test_supports_bump_revision(tool_version, want):
    assert supports_bump_revision(tool_version) is want


def test_restore_needs_absent_dir():
    assert restore_needs_absent_dir((3, 4, 23)) is True
    assert restore_needs_absent_dir((3, 5, 16)) is False
