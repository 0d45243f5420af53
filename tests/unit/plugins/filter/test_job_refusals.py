"""The job_refusals filter (module_utils/etcd_job.py): the job told from the extra variables as the roles pass
them (empty strings outside a job)."""

from ansible_collections.etcd_ops.etcd.plugins.filter.job_refusals import FilterModule, job_refusals

SETTINGS = {"etcd_backup_dir": "/runner/inventory/etcd-backups", "etcd_s3_bucket": ""}


def test_the_filter_is_registered():
    assert FilterModule().filters()["job_refusals"] is job_refusals


def test_outside_a_job_as_the_roles_pass_it():
    assert job_refusals("backup", SETTINGS, {"awx_job_id": "", "tower_job_id": ""}, "/runner/inventory",
                        "/runner/project") == []


def test_in_a_job_as_the_roles_pass_it():
    got = job_refusals("backup", SETTINGS, {"awx_job_id": 12, "tower_job_id": 12}, "/runner/inventory",
                       "/runner/project")
    assert len(got) == 1 and "AWX/AAP job 12" in got[0]


def test_no_inventory_dir():
    """An inventory given as a host list has no inventory_dir: the dir the run started in stands in."""
    got = job_refusals("backup", {"etcd_backup_dir": "/runner/project/etcd-backups", "etcd_s3_bucket": ""},
                       {"awx_job_id": 3, "tower_job_id": ""}, None, "/runner/project")
    assert got and "(/runner/project)" in got[0]


def test_the_start_dir_is_the_controller_s_working_directory(tmp_path, monkeypatch):
    """Not the PWD variable: a process started in the project's dir may have inherited another one."""
    (tmp_path / "inventory").mkdir()
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setenv("PWD", "/somewhere/else")
    settings = {"etcd_backup_dir": str(tmp_path / "inventory" / "etcd-backups"), "etcd_s3_bucket": ""}
    got = job_refusals("backup", settings, {"awx_job_id": 8, "tower_job_id": ""}, str(tmp_path / "inventory"))
    assert got and f"private data dir ({tmp_path})" in got[0]
