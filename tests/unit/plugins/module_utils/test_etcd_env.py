"""An env file read as systemd reads it (issue #24, edge 7). The file tests/unit/fixtures/systemd-env-file.env was
given to a transient unit (systemd-run --wait --pipe -p EnvironmentFile=... /usr/bin/env) on the lab's systemd 252
(bookworm) and 257 (trixie): ENV_252 and ENV_257 are what it printed, and the warnings are the lines systemd read
otherwise than they read. The molecule scenario default repeats that comparison on both suites against
parse_env_file itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_env import (
    assignments,
    env_file_warnings,
    parse_env_file,
    quote_env_value,
    set_env_text,
)

FILE = (Path(__file__).resolve().parents[2] / "fixtures" / "systemd-env-file.env").read_text()
ENV_252 = {
    "A": "plain", "B": "spaced", "E": "double quoted", "F": "single quoted", "G": "ab", "H": "ab",
    "I": 'a"b"c', "J": "value # not a comment", "K": "line oneline two", "L": "continued", "M": "multi\nline",
    "N": "back\\slash $x q", "O": 'esc " \\ $ ` \\q', "S": "", "U": "second", "V": "unterminated\nW=w\n",
}
ENV_257 = dict(ENV_252, P="after_comment_with_backslash")


@pytest.mark.parametrize("systemd,expected", [(252, ENV_252), (253, ENV_252), (254, ENV_257), (257, ENV_257),
                                              (None, ENV_257)])
def test_what_systemd_sets(systemd, expected):
    assert parse_env_file(FILE, systemd) == expected
    # one parse, given to both (as etcd_node_info does), reads the same
    read = assignments(FILE, systemd)
    assert parse_env_file(FILE, systemd, read=read) == expected
    assert env_file_warnings(FILE, systemd, read=read) == env_file_warnings(FILE, systemd)


WARNED = [
    (5, "systemd ignores 'export C=...'", "so C is not set for etcd. Fix: remove 'export ' from the line."),
    (6, "systemd ignores 'export D=...'", "Fix: remove 'export '"),
    (9, "systemd sets G to 'ab', not '\"a\"b'", "Fix: write the value plainly, or in one pair of double quotes."),
    (10, "systemd sets H to 'ab'", ""),
    (12, "systemd sets J to 'value # not a comment', not 'value' (systemd has no comments after a value)", ""),
    (13, "systemd sets K to 'line oneline two'", ""),
    (15, "systemd sets L to 'continued'", ""),
    (17, "systemd sets M to 'multi\\nline'", ""),
    (19, "systemd sets N to 'back\\\\slash $x q'", ""),
    (20, "systemd sets O to", ""),
    (21, "the comment ends in a backslash: systemd up to 253 also reads line 22 as part of the comment", ""),
    (23, "systemd ignores 'Q-DASH=...': 'Q-DASH' is no variable name", "Fix: rename or remove the line."),
    (24, "systemd ignores '1R=...'", ""),
    (29, "systemd sets V to 'unterminated\\nW=w\\n', not '\"unterminated'", ""),
    (30, "systemd does not set W: the line is part of the value of V, which starts on line 29",
     "Fix: close the quote, or remove the backslash, on line 29."),
]


def test_every_line_read_otherwise_is_named_once_in_order():
    warnings = env_file_warnings(FILE, None, "/data/etcd.env")
    assert len(warnings) == len(WARNED), "\n".join(warnings)
    for warning, (line, *texts) in zip(warnings, WARNED, strict=True):
        assert warning.startswith("/data/etcd.env line %d: " % line), warning
        for text in texts:
            assert text in warning, (warning, text)


def test_with_the_members_systemd_known_the_comment_is_read_its_way():
    old = env_file_warnings(FILE, 252)
    assert ("the env file line 22: systemd 252 does not set P: the comment on line 21 ends in a backslash, which "
            "this systemd (before 254) continues onto line 22. Fix: remove the backslash at the end of line 21.") in old
    assert not [w for w in env_file_warnings(FILE, 257) if "line 21" in w or "line 22" in w]


@pytest.mark.parametrize("text", [
    "ETCD_NAME=node1\nETCD_DATA_DIR=/data/etcd.data\n",
    "# etcd\n; settings\n\nETCD_NAME=node1\n  ETCD_INITIAL_CLUSTER_STATE = existing  \n",
    'ETCD_INITIAL_CLUSTER_TOKEN="tok 1"\nETCD_NAME=\'node1\'\nETCD_X=a"b"c\nETCD_Y=\n',
    "ETCD_NAME=node1\r\nETCD_DATA_DIR=/data\r\n",
])
def test_a_plain_file_gets_no_warning(text):
    assert env_file_warnings(text) == []


def test_our_own_env_file_reads_as_written():
    text = ("# managed\nETCD_NAME=node1\nETCD_DATA_DIR=/data/etcd.data\nETCD_INITIAL_CLUSTER=node1=http://10.0.0.1:2380,"
            "node2=http://10.0.0.2:2380\nETCD_INITIAL_CLUSTER_STATE=existing\n")
    assert parse_env_file(text)["ETCD_INITIAL_CLUSTER"] == "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380"
    assert env_file_warnings(text) == []


def test_no_final_newline_and_no_value():
    assert parse_env_file("A=1\nB") == {"A": "1"}
    assert parse_env_file("A='x") == {"A": "x"}
    assert parse_env_file("A=  x  ") == {"A": "x"}
    assert parse_env_file("A=x\\ ") == {"A": "x "}


@pytest.mark.parametrize("value,written", [
    ("plain", "plain"), ("", ""), ("a b", "a b"), ("node1=http://10.0.0.1:2380", "node1=http://10.0.0.1:2380"),
    (" lead", '" lead"'), ("back\\slash", '"back\\\\slash"'), ('q"uote', '"q\\"uote"'), ("it's", '"it\'s"'),
    ("two\nlines", '"two\nlines"'), ("$x `y` \\", '"\\$x \\`y\\` \\\\"'),
])
def test_values_are_written_so_systemd_reads_them_back(value, written):
    assert quote_env_value(value) == written
    assert parse_env_file("K=%s\n" % written) == {"K": value}


def test_set_replaces_every_line_of_a_value_and_an_exported_line():
    text = 'A=1\nB="two\nlines"\nexport C=3\n# keep\nD=4\n'
    out = set_env_text(text, {"B": "new", "C": "x y", "E": "e\\"})
    assert out == 'A=1\nB=new\nC=x y\n# keep\nD=4\nE="e\\\\"\n'
    assert parse_env_file(out) == {"A": "1", "B": "new", "C": "x y", "D": "4", "E": "e\\"}


def test_set_keeps_a_value_that_spans_lines_in_place_and_the_last_one_wins():
    out = set_env_text("A=1\nL=cont\\\ninued\nA=2\n", {"A": "3"})
    assert out == "A=3\nL=cont\\\ninued\nA=3\n" and parse_env_file(out) == {"A": "3", "L": "continued"}
