# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""A member's env file (such as /data/etcd.env), read as systemd's EnvironmentFile= reads it.

The reading follows systemd's own parser (src/basic/env-file.c, parse_env_file_internal, and the check that
drops invalid names before a unit starts), and was compared on the lab's systemd 252 (bookworm) and 257 (trixie)
with a transient unit that prints its environment (tests/unit/plugins/module_utils/test_etcd_env.py holds those
cases):
- a line whose first non-blank character is `#` or `;` is a comment; there are no comments after a value;
- `KEY=value`: blanks around the key and before the value are skipped, trailing blanks of an unquoted value
  dropped; a backslash escapes the next character, and a backslash at the end of a line joins the next line;
- a value may be made of quoted parts: '...' keeps everything, newlines too; "..." unescapes \\" \\\\ \\` \\$ and
  joins lines at a backslash; a quote that is never closed takes every following line into the value;
- a name must be a shell variable name: `export KEY=value` names the variable "export KEY", which systemd
  ignores (and logs "Ignoring invalid environment assignment"), as it ignores `A-B=...` or `1A=...`;
- the last assignment of a name wins;
- a comment ending in a backslash also takes in the next line up to systemd 253; from 254 on it does not.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WHITESPACE = " \t\n\r"
_NEWLINE = "\n\r"
_ESCAPED_IN_DOUBLE_QUOTES = "\"\\`$"
# systemd 254 stopped continuing a comment that ends in a backslash onto the next line
COMMENT_CONTINUES_BEFORE = 254


def _lines_of(text):
    """The 1-based line number of each character's position."""
    numbers, line = [], 1
    for char in text:
        numbers.append(line)
        if char == "\n":
            line += 1
    return numbers


def _blank_at(char, blank, length):
    """Where the trailing blanks of a key or value begin once `char` is appended at `length` (None: none)."""
    if char not in _WHITESPACE:
        return None
    return length if blank is None else blank


def assignments(text, systemd_version=None):
    """Every assignment systemd's parser finds in the text, in order: dicts of key (as systemd reads it, blanks
    inside kept), value, first and last (1-based line numbers), valid (a variable name systemd accepts). Also
    `continued_comments`: the line numbers of comments that end in a backslash, and `swallowed`: lines a comment
    took in (systemd before 254 only). `systemd_version` None reads as systemd 254 and later."""
    if not isinstance(text, str):
        raise TypeError(f"env_file expects the file's text as a string, got {type(text).__name__}")
    old_comments = systemd_version is not None and int(systemd_version) < COMMENT_CONTINUES_BEFORE
    line_of = _lines_of(text)
    found, continued, swallowed = [], [], []
    state = "pre_key"
    key, value, start = [], None, 0
    key_blank = value_blank = None  # where trailing blanks of the key / the unquoted value begin

    def push(pos, strip_value):
        k = "".join(key[:key_blank] if key_blank is not None else key)
        v = "" if value is None else "".join(value)
        if strip_value and value_blank is not None and value is not None:
            v = "".join(value[:value_blank])
        found.append(dict(key=k, value=v, first=line_of[start], last=line_of[min(pos, len(text) - 1)],
                          valid=bool(_NAME.match(k))))

    for pos, char in enumerate(text):
        if state == "pre_key":
            if char in "#;":
                state = "comment"
            elif char not in _WHITESPACE:
                state, key, value, start, key_blank = "key", [char], None, pos, None
        elif state == "key":
            if char in _NEWLINE:
                state = "pre_key"
            elif char == "=":
                state, value_blank = "pre_value", None
            else:
                key_blank = _blank_at(char, key_blank, len(key))
                key.append(char)
        elif state == "pre_value":
            if char in _NEWLINE:
                push(pos, False)
                state = "pre_key"
            elif char == "'":
                state, value = "single", value if value is not None else []
            elif char == '"':
                state, value = "double", value if value is not None else []
            elif char == "\\":
                state, value = "value_escape", value if value is not None else []
            elif char not in _WHITESPACE:
                state = "value"
                value = (value if value is not None else []) + [char]
        elif state == "value":
            if char in _NEWLINE:
                push(pos, True)
                state = "pre_key"
            elif char == "\\":
                state, value_blank = "value_escape", None
            else:
                value_blank = _blank_at(char, value_blank, len(value))
                value.append(char)
        elif state == "value_escape":
            state = "value"
            if char not in _NEWLINE:
                value.append(char)
        elif state == "single":
            if char == "'":
                state = "pre_value"
            else:
                value.append(char)
        elif state == "double":
            if char == '"':
                state = "pre_value"
            elif char == "\\":
                state = "double_escape"
            else:
                value.append(char)
        elif state == "double_escape":
            state = "double"
            if char in _ESCAPED_IN_DOUBLE_QUOTES:
                value.append(char)
            elif char != "\n":
                value += ["\\", char]
        elif state == "comment":
            if char == "\\":
                state = "comment_escape"
            elif char in _NEWLINE:
                state = "pre_key"
        elif state == "comment_escape":
            if char in _NEWLINE:
                continued.append(line_of[pos])
                if old_comments:
                    state = "comment"
                    if char == "\n" and pos + 1 < len(text):
                        swallowed.append(line_of[pos] + 1)
                else:
                    state = "pre_key"
            else:
                state = "comment"
    if state in ("pre_value", "value", "value_escape", "single", "double", "double_escape"):
        push(len(text), state == "value")
    return dict(assignments=found, continued_comments=continued, swallowed=swallowed)


def parse_env_file(text, systemd_version=None, read=None):
    """The variables systemd sets from an EnvironmentFile's text, by name (see the module's docstring). `read`:
    assignments(text, systemd_version) when the caller has it already."""
    env = {}
    for found in (read or assignments(text, systemd_version))["assignments"]:
        if found["valid"]:
            env[found["key"]] = found["value"]
    return env


def _naive(text):
    """The file as a person (or a shell's `source`) reads it line by line: KEY=value, `export ` dropped, one pair of
    surrounding quotes dropped. Only to find the lines that mean something else to systemd."""
    result = {}
    for number, raw in enumerate(_split(text), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _NAME.match(key):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif value[:1] not in "\"'":
            comment = re.search(r"\s#", value)  # a shell ends an unquoted word at a blank and starts a comment at #
            value = value[:comment.start()].rstrip() if comment else value
        result[key] = (value, number)
    return result


def _split(text):
    """The lines as systemd counts them (at each newline), without the one after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _show(value, limit=60):
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text)


def env_file_warnings(text, systemd_version=None, path="the env file", read=None):
    """The lines of an env file that systemd reads otherwise than they read line by line (see _naive): one
    sentence each, naming the line, what systemd does with it and the fix. Empty when the file means what it
    says. `read`: assignments(text, systemd_version) when the caller has it already."""
    read = read or assignments(text, systemd_version)
    found = read["assignments"]
    warnings = []  # sorted by line at the end
    for item in found:
        if item["valid"]:
            continue
        name = item["key"]
        if name.startswith("export") and _NAME.match(name[len("export"):].strip() or "-"):
            warnings.append(
                "%s line %d: systemd ignores '%s=...': 'export' is a shell word, and systemd reads the name as '%s', "
                "which is no variable name, so %s is not set for etcd. Fix: remove 'export ' from the line."
                % (path, item["first"], name, name, name[len("export"):].strip()))
        else:
            warnings.append("%s line %d: systemd ignores '%s=...': '%s' is no variable name (letters, digits and _, "
                            "not starting with a digit). Fix: rename or remove the line."
                            % (path, item["first"], name, name))
    systemd = {}
    for item in found:
        if item["valid"]:
            systemd[item["key"]] = item
    for key, (value, line) in _naive(text).items():
        item = systemd.get(key)
        if item is None:
            owner = next((f for f in found if f["first"] < line <= f["last"]), None)
            if any(w.startswith("%s line %d:" % (path, line)) for w in warnings):
                continue
            if owner is not None:
                warnings.append(
                    "%s line %d: systemd does not set %s: the line is part of the value of %s, which starts on line "
                    "%d and runs on (a quote not closed, or a backslash at the end of a line). Fix: close the quote, "
                    "or remove the backslash, on line %d." % (path, line, key, owner["key"], owner["first"],
                                                              owner["first"]))
            elif line in read["swallowed"]:
                warnings.append(
                    "%s line %d: systemd %s does not set %s: the comment on line %d ends in a backslash, which this "
                    "systemd (before 254) continues onto line %d. Fix: remove the backslash at the end of line %d."
                    % (path, line, systemd_version, key, line - 1, line, line - 1))
            continue
        if item["value"] != value and item["first"] == line:
            hint = ""
            if "#" in item["value"] and "#" not in value:
                hint = " (systemd has no comments after a value)"
            warnings.append(
                "%s line %d: systemd sets %s to %s, not %s%s. Fix: write the value plainly, or in one pair of double "
                "quotes." % (path, line, key, _show(item["value"]), _show(value), hint))
    if systemd_version is None:
        for line in read["continued_comments"]:
            if line + 1 <= len(_split(text)):
                warnings.append(
                    "%s line %d: the comment ends in a backslash: systemd up to 253 also reads line %d as part of the "
                    "comment, systemd 254 and later does not. Fix: remove the backslash." % (path, line, line + 1))
    return sorted(warnings, key=lambda w: int(re.match(r".* line (\d+):", w).group(1)))


def quote_env_value(value):
    """The value as an env file line must hold it for systemd to read it back unchanged: as it is when that is so,
    else in double quotes, with \\ " ` $ escaped."""
    value = str(value)
    plain = (value == value.strip() and not any(c in value for c in "\\\"'\n\r")) or value == ""
    if plain:
        return value
    return '"%s"' % "".join("\\" + c if c in _ESCAPED_IN_DOUBLE_QUOTES else c for c in value)


def set_env_text(text, settings):
    """The env file's text with each variable of `settings` set: every assignment of such a key replaced, all of
    its lines (so the last one still wins as systemd reads it), the keys the text lacks appended in the order
    given; comments, blank lines and every other variable kept. A value systemd would read otherwise is written in
    double quotes. The result ends with a newline."""
    if not isinstance(text, str):
        raise TypeError(f"env_file_set expects the file's text as a string, got {type(text).__name__}")
    lines = _split(text)
    replace = {}  # first line (0-based) -> (last line, key)
    for item in assignments(text)["assignments"]:
        key = item["key"]
        if key.startswith("export") and key[len("export"):].strip() in settings and key[len("export"):][:1].isspace():
            key = key[len("export"):].strip()  # `export KEY=` is replaced by a line systemd reads
        if key in settings:
            replace[item["first"] - 1] = (item["last"] - 1, key)
    out, seen, index = [], set(), 0
    while index < len(lines):
        if index in replace:
            last, key = replace[index]
            out.append("%s=%s" % (key, quote_env_value(settings[key])))
            seen.add(key)
            index = last + 1
            continue
        out.append(lines[index])
        index += 1
    out += ["%s=%s" % (key, quote_env_value(value)) for key, value in settings.items() if key not in seen]
    return "\n".join(out) + "\n"
