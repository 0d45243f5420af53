"""Which members the env files name but the play leaves out (issue: a recovery of 2 of 5 members split the cluster)."""

import pytest

from ansible_collections.etcd_ops.etcd.plugins.filter.members_outside import members_outside_filter
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import parse_initial_cluster

FIVE = ",".join(f"n{i}=http://10.0.0.{i}:2380" for i in range(1, 6))


def play(*nums, host=None):
    return [dict(name=f"n{i}", peer_urls=[f"http://{host or f'10.0.0.{i}'}:2380"]) for i in nums]


@pytest.mark.parametrize("files, members, outside", [
    ([FIVE, FIVE, FIVE, FIVE, FIVE], play(1, 2, 3, 4, 5), []),                     # the whole cluster
    ([FIVE, FIVE], play(4, 5), ["n1", "n2", "n3"]),                                   # 2 of 5: the case
    ([FIVE, ""], play(4, 5), ["n1", "n2", "n3"]),                                     # an empty file is skipped
    ([FIVE], [dict(name="n1", peer_urls=["http://10.9.9.9:2380"])] + play(2, 3, 4, 5), []),  # n1 rebuilt elsewhere
    ([FIVE], [dict(name="renamed", peer_urls=["http://10.0.0.1:2380"])] + play(2, 3, 4, 5), []),  # same URL
    (["n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380", "n1=http://10.0.0.1:2380,n3=http://10.0.0.3:2380"],
     play(1), ["n2", "n3"]),                                                           # union of every file
    ([], play(1), []),
])
def test_members_outside_table(files, members, outside):
    names, urls = [m["name"] for m in members], [u for m in members for u in m["peer_urls"]]
    assert [m["name"] for m in members_outside_filter(files, names, urls)] == outside


def test_peer_urls_and_a_guessed_client_url():
    [one] = members_outside_filter(["a=https://10.0.0.1:2380,b=https://10.0.0.2:2380,b=https://[fd00::2]:2380"],
                                   ["a"], ["https://10.0.0.1:2380"], "https://10.0.0.1:12379")
    assert one == dict(name="b", peer_urls=["https://10.0.0.2:2380", "https://[fd00::2]:2380"],
                       client_url="https://10.0.0.2:12379")
    assert members_outside_filter(["a=http://x:2380"], [], [], "")[0]["client_url"] == ""


def test_parse_initial_cluster_skips_what_etcd_would_refuse():
    assert parse_initial_cluster(" a=http://x:2380, bad ,=http://y:2380,b= ,c=http://z:2380") == [
        ("a", "http://x:2380"), ("c", "http://z:2380")]
    assert parse_initial_cluster("") == [] and parse_initial_cluster(None) == []
