import pytest

from ansible_collections.etcd_ops.etcd.plugins.filter.env_file import parse_env_file


def test_runbook_env_file_with_quotes_and_comments():
    text = (
        "# etcd member settings\n"
        "ETCD_NAME=node1\n"
        'ETCD_INITIAL_CLUSTER_STATE="existing"\n'
        "ETCD_INITIAL_CLUSTER_TOKEN='tok-1'\n"
        "\n"
        "; another comment\n"
        "export ETCD_DATA_DIR=/data/etcd.data\n"
        "ETCD_INITIAL_CLUSTER=node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380\n"
    )
    # systemd ignores `export KEY=...` (the name would be "export KEY"): so does the filter (issue #24)
    assert parse_env_file(text) == {
        "ETCD_NAME": "node1",
        "ETCD_INITIAL_CLUSTER_STATE": "existing",
        "ETCD_INITIAL_CLUSTER_TOKEN": "tok-1",
        "ETCD_INITIAL_CLUSTER": "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380",
    }


def test_last_assignment_wins_and_junk_lines_are_skipped():
    assert parse_env_file("A=1\nnot a setting\n=x\nA = 2 \n") == {"A": "2"}


def test_a_quote_runs_on_to_its_closing_one_as_in_systemd():
    assert parse_env_file("A=\"x'\nB=\"\n") == {"A": "x'\nB="}


def test_empty_file():
    assert parse_env_file("") == {}


def test_non_string_input_is_refused():
    with pytest.raises(TypeError, match="expects the file's text"):
        parse_env_file(None)
