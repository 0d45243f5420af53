import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.filter.snapshot_cluster import snapshot_cluster_filter

META = dict(cluster_id="aa", members=["n1", "n2"], member_peer_urls={"n1": ["http://a:2380"], "n2": ["http://b:2380"]})


def test_the_play_as_the_role_passes_it():
    assert snapshot_cluster_filter(META, ["n1", "n2"], [["http://a:2380"], ["http://b:2380"]])["match"] == "same"
    assert snapshot_cluster_filter(META, ["m1"], [["http://c:2380"]])["match"] == "other"
    assert snapshot_cluster_filter(None, ["m1"], [["http://c:2380"]])["match"] == "unknown"


def test_names_and_urls_must_pair_up():
    with pytest.raises(AnsibleFilterError, match="2 names but 1 lists"):
        snapshot_cluster_filter(META, ["n1", "n2"], [["http://a:2380"]])
