"""module_utils/etcd_job.py: an operation run as an AWX/AAP job refuses to keep, or to read, on the controller,
inside the job's container, what must outlive the job (issue #27)."""

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_job

# an AWX/AAP execution environment: the job's private data dir is /runner, the inventory and project inside it
INV, PLAY = "/runner/inventory", "/runner/project"  # the inventory and the dir the run starts in
STORE, PKI = "/runner/inventory/etcd-backups", "/runner/inventory/etcd-pki"
VOLUME = "/var/lib/etcd-ops-store"


@pytest.mark.parametrize("extra, want", [
    ({"awx_job_id": 42}, "42"),
    ({"tower_job_id": "7"}, "7"),
    ({"awx_job_id": "", "tower_job_id": 9}, "9"),
    ({"awx_job_id": 3, "tower_job_id": 3}, "3"),
    ({}, ""),
    (None, ""),
    ({"awx_job_id": None}, ""),
])
def test_job_is_told_by_the_extra_variables_awx_passes(extra, want):
    assert etcd_job.job(extra) == want


@pytest.mark.parametrize("inventory_dir, start_dir, want", [
    (INV, PLAY, "/runner"),
    ("/runner/inventory/", "/runner/project", "/runner"),
    # a project whose inventory comes from the project itself
    ("/runner/project/inventories/prod", "/runner/project/playbooks", "/runner/project"),
    ("/runner/project", "/runner/project/playbooks", "/runner"),
    # nothing shared near the inventory: the inventory's own dir
    ("/srv/inv", "/opt/playbooks", "/srv/inv"),
    ("/tmp/a/runner/inventory", "/tmp/checkout/playbooks", "/tmp/a/runner/inventory"),
    # one level up is shared, even when it is as broad as /tmp
    ("/tmp/inv", "/tmp/checkout/playbooks", "/tmp"),
    ("/inv", "/playbooks", "/inv"),
    ("", PLAY, PLAY),
    ("", "", ""),
])
def test_private_dir_is_the_nearest_above_the_inventory_that_holds_the_start_dir(inventory_dir, start_dir, want):
    assert etcd_job.private_dir(inventory_dir, start_dir) == want


@pytest.mark.parametrize("path, directory, want", [
    ("/runner/inventory/etcd-backups", "/runner", True),
    ("/runner", "/runner", True),
    ("/runner/", "/runner", True),
    ("/runner2/store", "/runner", False),
    ("/var/lib/store", "/runner", False),
    ("/runner/../var/store", "/runner", False),
    ("", "/runner", False),
    ("/runner/x", "", False),
])
def test_inside(path, directory, want):
    assert etcd_job.inside(path, directory) is want


# (operation, settings, refused, words of the refusal)
CASES = [
    # the defaults beside the inventory
    ("backup", {"etcd_backup_dir": STORE, "etcd_s3_bucket": ""}, True,
     ["etcd_backup_dir (/runner/inventory/etcd-backups)", "etcd_s3_bucket", "persistent volume"]),
    ("verify_backup", {"etcd_backup_dir": STORE, "etcd_verify_source": "store", "etcd_snapshot": ""}, True,
     ["etcd_verify_source=s3", "etcd_verify_source=member"]),
    ("disaster_recovery", {"etcd_backup_dir": STORE, "etcd_recovery_source": "store", "etcd_snapshot": ""}, True,
     ["etcd_recovery_source=s3", "no backup of an earlier job"]),
    ("deploy", {"etcd_deploy_pki_dir": PKI, "etcd_deploy_tls": True}, True,
     ["CA key", "etcd_deploy_pki_dir (/runner/inventory/etcd-pki)", "another CA"]),
    # what outlives the job elsewhere is let through
    ("backup", {"etcd_backup_dir": STORE, "etcd_s3_bucket": "etcd-backups"}, False, []),
    ("verify_backup", {"etcd_backup_dir": STORE, "etcd_verify_source": "s3", "etcd_snapshot": ""}, False, []),
    ("verify_backup", {"etcd_backup_dir": STORE, "etcd_verify_source": "member", "etcd_snapshot": ""}, False, []),
    ("verify_backup", {"etcd_backup_dir": STORE, "etcd_verify_source": "store",
                       "etcd_snapshot": "/runner/project/snap.db"}, False, []),
    ("disaster_recovery", {"etcd_backup_dir": STORE, "etcd_recovery_source": "s3", "etcd_snapshot": ""}, False, []),
    ("disaster_recovery", {"etcd_backup_dir": STORE, "etcd_recovery_source": "store",
                           "etcd_snapshot": "/mnt/nfs/snap.db"}, False, []),
    ("deploy", {"etcd_deploy_pki_dir": PKI, "etcd_deploy_tls": False}, False, []),
    # a persistent volume outside the private data dir
    ("backup", {"etcd_backup_dir": VOLUME, "etcd_s3_bucket": ""}, False, []),
    ("disaster_recovery", {"etcd_backup_dir": VOLUME, "etcd_recovery_source": "store", "etcd_snapshot": ""}, False,
     []),
    ("deploy", {"etcd_deploy_pki_dir": "/var/lib/etcd-pki", "etcd_deploy_tls": True}, False, []),
    # a path set by hand inside the project is inside the private data dir too
    ("backup", {"etcd_backup_dir": "/runner/project/backups", "etcd_s3_bucket": ""}, True, ["/runner/project/backups"]),
]


@pytest.mark.parametrize("operation, settings, refused, words", CASES)
def test_in_a_job(operation, settings, refused, words):
    got = etcd_job.refusals(operation, settings, "42", INV, PLAY)
    assert bool(got) is refused, got
    if refused:
        assert len(got) == 1
        text = got[0]
        assert text.startswith("This run is AWX/AAP job 42, whose container and private data dir (/runner) are "
                               "removed when it ends: ")
        assert "Nothing was changed. Fix: " in text and "docs/awx.md" in text
        for word in words:
            assert word in text, (word, text)


@pytest.mark.parametrize("operation, settings, refused, words", CASES)
def test_outside_a_job_nothing_is_refused(operation, settings, refused, words):
    """On a workstation or a CI runner the store beside the inventory is the documented default."""
    assert etcd_job.refusals(operation, settings, "", INV, PLAY) == []


def test_a_job_run_from_a_directory_the_store_is_not_in():
    """AWX on VMs with an inventory outside the store's dir: the store given on a mounted path passes."""
    assert etcd_job.refusals("backup", {"etcd_backup_dir": "/backups", "etcd_s3_bucket": ""}, "5",
                             "/tmp/awx_5_x/inventory", "/tmp/awx_5_x/project") == []
    got = etcd_job.refusals("backup", {"etcd_backup_dir": "/tmp/awx_5_x/inventory/etcd-backups",
                                       "etcd_s3_bucket": ""}, "5", "/tmp/awx_5_x/inventory", "/tmp/awx_5_x/project")
    assert got and "(/tmp/awx_5_x)" in got[0]


def test_an_unknown_operation_is_a_programming_error():
    with pytest.raises(ValueError):
        etcd_job.refusals("replace_member", {}, "1", INV, PLAY)
