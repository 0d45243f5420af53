import pytest

from ansible_collections.etcd_ops.etcd.plugins.filter.env_file import parse_env_file
from ansible_collections.etcd_ops.etcd.plugins.filter.env_file_set import env_file_set

RUNBOOK = (
    "# etcd member settings\n"
    "ETCD_NAME=node1\n"
    'ETCD_INITIAL_CLUSTER_STATE="new"\n'
    "\n"
    "export ETCD_INITIAL_CLUSTER_TOKEN=tok-1\n"
    "ETCD_INITIAL_CLUSTER=node1=http://10.0.0.1:2380\n"
)


def test_replaces_in_place_and_keeps_every_other_line():
    out = env_file_set(RUNBOOK, {"ETCD_INITIAL_CLUSTER_STATE": "existing", "ETCD_INITIAL_CLUSTER_TOKEN": "tok-2"})
    assert out == (
        "# etcd member settings\n"
        "ETCD_NAME=node1\n"
        "ETCD_INITIAL_CLUSTER_STATE=existing\n"
        "\n"
        "ETCD_INITIAL_CLUSTER_TOKEN=tok-2\n"
        "ETCD_INITIAL_CLUSTER=node1=http://10.0.0.1:2380\n"
    )


def test_appends_missing_keys_in_order_and_ends_with_a_newline():
    out = env_file_set("ETCD_NAME=node1", {"B": "2", "A": "1"})
    assert out == "ETCD_NAME=node1\nB=2\nA=1\n"


def test_every_assignment_of_a_key_changes_so_the_last_one_still_wins():
    out = env_file_set("A=1\nA=2\n", {"A": "3"})
    assert out == "A=3\nA=3\n" and parse_env_file(out) == {"A": "3"}


def test_setting_what_is_there_changes_nothing():
    text = "ETCD_NAME=node1\nETCD_INITIAL_CLUSTER_STATE=existing\n"
    assert env_file_set(text, {"ETCD_INITIAL_CLUSTER_STATE": "existing"}) == text


def test_a_value_with_equals_signs_round_trips():
    value = "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380"
    assert parse_env_file(env_file_set("", {"ETCD_INITIAL_CLUSTER": value}))["ETCD_INITIAL_CLUSTER"] == value


def test_text_is_required():
    with pytest.raises(TypeError):
        env_file_set(None, {"A": "1"})
