import json

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


def test_only_this_clusters_snapshots_are_counted(tmp_path):
    """Two clusters with one token back up into one store: the other's snapshots are not this one's to prune."""
    from ansible_collections.etcd_ops.etcd.plugins.filter.snapshots_of_cluster import snapshots_of_cluster
    from ansible_collections.etcd_ops.etcd.plugins.lookup.snapshot_meta import LookupModule

    other = dict(META, member_peer_urls={"y1": ["http://y:2380"]}, members=["y1"])
    paths = []
    for i, meta in enumerate([META, other, None, "not json", dict(members=["n1"])]):
        path = tmp_path / f"etcd-cluster-2026112{i}T000000Z-r{i}.db"
        if meta is not None:
            (tmp_path / f"{path.name}.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
        paths.append(str(path))
    metas = LookupModule().run([paths])
    assert metas[1]["members"] == ["y1"] and metas[2] == {} and metas[3] == {}
    ours = snapshots_of_cluster(paths, metas, ["n1", "n2"], [["http://a:2380"], ["http://b:2380"]])
    assert ours == [paths[0], paths[4]]  # not the other cluster's, nor those without metadata
    with pytest.raises(AnsibleFilterError, match="5 paths but 4 metadata"):
        snapshots_of_cluster(paths, metas[:4], ["n1"], [["http://a:2380"]])


def test_the_bucket_s_snapshots_of_this_cluster():
    """A bucket shared by two clusters with one token: the store's metadata where it has the snapshot, the bucket's
    .json object (as the s3_object getstr loop registered it) for the others; an unreadable one is nobody's."""
    from ansible_collections.etcd_ops.etcd.plugins.filter.bucket_metas import bucket_metas
    from ansible_collections.etcd_ops.etcd.plugins.filter.snapshots_of_cluster import snapshots_of_cluster

    other = dict(META, member_peer_urls={"y1": ["http://y:2380"]}, members=["y1"])
    names = [f"etcd-cluster-2026112{i}T000000Z-r{i}.db" for i in range(6)]
    local = [META, {}, {}, {}, {}, {}]
    fetched = [
        dict(item=names[1], contents=json.dumps(META), changed=False),
        dict(item=names[2], contents=json.dumps(other), changed=False),
        dict(item=names[3], failed=True, msg="An error occurred (403) when calling the GetObject operation"),
        dict(item=names[4], contents="[1, 2]", changed=False),
    ]  # names[5]: no .json object, not read
    metas = bucket_metas(names, local, fetched)
    assert metas == [META, META, other, {}, {}, {}]
    ours = snapshots_of_cluster(names, metas, ["n1", "n2"], [["http://a:2380"], ["http://b:2380"]])
    assert ours == names[:2]
    # the store's copy wins over the bucket's object of the same name; nothing read means every one from the store
    assert bucket_metas(names[:1], [META], [dict(item=names[0], contents=json.dumps(other))]) == [META]
    assert bucket_metas([], [], None) == []
    with pytest.raises(AnsibleFilterError, match="2 names but 1 local metadata"):
        bucket_metas(names[:2], [META])
