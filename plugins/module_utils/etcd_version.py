# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""Versions of etcd's tools, and what each version can do (see etcd-facts.md)."""

from __future__ import annotations

import re

_VERSION = re.compile(r"(?:etcdctl|etcdutl) version:\s*v?(\d+)\.(\d+)\.(\d+)")


def parse_tool_version(text):
    """`etcdctl version` / `etcdutl version` output -> (major, minor, patch), or None."""
    match = _VERSION.search(text or "")
    return tuple(int(part) for part in match.groups()) if match else None


def parse_version(text):
    """'3.5.16' (or 'v3.5.16') -> (3, 5, 16); None when it is not a version."""
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", (text or "").strip())
    return tuple(int(part) for part in match.groups()) if match else None


def version_str(version):
    return ".".join(str(part) for part in version) if version else "unknown"


def snapshot_tool(etcdctl_version, have_etcdutl):
    """Which tool reads and restores snapshot files: 'etcdctl' or 'etcdutl'.

    3.4 has no etcdutl; 3.5 deprecates `etcdctl snapshot status|restore` in favour of etcdutl but keeps
    them; 3.6 removed them from etcdctl. Raises ValueError with the fix when no tool can do it.
    """
    if etcdctl_version is None or etcdctl_version < (3, 5, 0):
        if etcdctl_version is None and have_etcdutl:
            return "etcdutl"
        return "etcdctl"
    if have_etcdutl:
        return "etcdutl"
    if etcdctl_version < (3, 6, 0):
        return "etcdctl"
    raise ValueError(
        "etcd %s has no `etcdctl snapshot status|restore` any more and etcdutl is not installed: "
        "install etcdutl (Debian: package etcd-server) or set etcdutl_path" % version_str(etcdctl_version))


def supports_bump_revision(version):
    """`snapshot restore --bump-revision N --mark-compacted`: etcdctl 3.4.27+, etcdctl/etcdutl 3.5.10+, 3.6."""
    if version is None:
        return False
    if version[:2] == (3, 4):
        return version >= (3, 4, 27)
    if version[:2] == (3, 5):
        return version >= (3, 5, 10)
    return version >= (3, 6, 0)


def restore_needs_absent_dir(version):
    """etcd 3.4 refuses to restore into an existing data dir, even an empty one; 3.5+ accept an empty one."""
    return version is None or version < (3, 5, 0)
