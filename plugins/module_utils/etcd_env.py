# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""A member's env file (such as /data/etcd.env), read as systemd's EnvironmentFile= reads it."""

from __future__ import annotations

import re

_ASSIGNMENT = re.compile(r"^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


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


def set_env_text(text, settings):
    """The env file's text with each variable of `settings` set: every KEY=value line of such a key replaced (so
    the last one still wins as systemd reads it), the keys the text lacks appended in the order given; comments,
    blank lines and every other variable kept. The result ends with a newline."""
    if not isinstance(text, str):
        raise TypeError(f"env_file_set expects the file's text as a string, got {type(text).__name__}")
    lines = text.splitlines()
    seen = set()
    for index, line in enumerate(lines):
        match = _ASSIGNMENT.match(line)
        if match and match.group(2) in settings:
            key = match.group(2)
            lines[index] = "%s=%s" % (key, settings[key])
            seen.add(key)
    lines += ["%s=%s" % (key, value) for key, value in settings.items() if key not in seen]
    return "\n".join(lines) + "\n"
