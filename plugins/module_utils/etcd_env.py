# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""A member's env file (such as /data/etcd.env), read as systemd's EnvironmentFile= reads it."""

from __future__ import annotations


def parse_env_file(text):
    """KEY=value lines into a dict: blank lines and lines starting with # or ; skipped, a leading `export` ignored,
    a value in matching single or double quotes unquoted, the last assignment of a key wins."""
    if not isinstance(text, str):
        raise TypeError(f"env_file expects the file's text as a string, got {type(text).__name__}")
    result = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result[key] = value
    return result
