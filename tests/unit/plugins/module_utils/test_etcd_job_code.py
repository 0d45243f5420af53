"""The members' job's code as one zip: the same bytes for the same code, importable as it is, and the backup role's
list of modules is all the job imports (the job's entry point runs from the zip alone, in a Python of its own)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_job_code

TOP = Path(__file__).resolve().parents[4]
MODULE_UTILS = TOP / "plugins" / "module_utils"


def job_modules():
    """The backup role's list of the job's modules (roles/backup/vars/main.yml)."""
    return yaml.safe_load((TOP / "roles" / "backup" / "vars" / "main.yml").read_text())["__etcd_backup_job_modules"]


def python(zip_path, code):
    """Run `code` in a Python of its own (-I: no PYTHONPATH, no site dir of this user) with only the zip added to
    its sys.path, as the job's entry point does."""
    return subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(zip_path)!r}); {code}"],
                          capture_output=True, text=True, check=False)


def test_the_same_code_gives_the_same_bytes_and_other_code_other_bytes():
    code = {"a.py": b"A = 1\n", "b.py": b"B = 2\n"}
    first = etcd_job_code.bundle(code)
    assert etcd_job_code.bundle(dict(reversed(list(code.items())))) == first
    assert etcd_job_code.bundle(dict(code, **{"b.py": b"B = 3\n"})) != first


def test_entries_sit_under_their_import_path_with_a_package_init_each_and_one_time():
    with zipfile.ZipFile(__import__("io").BytesIO(etcd_job_code.bundle({"etcd_x.py": b"X = 1\n"}))) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert names == ["ansible_collections/__init__.py", "ansible_collections/etcd_ops/__init__.py",
                         "ansible_collections/etcd_ops/etcd/__init__.py",
                         "ansible_collections/etcd_ops/etcd/plugins/__init__.py",
                         "ansible_collections/etcd_ops/etcd/plugins/module_utils/__init__.py",
                         "ansible_collections/etcd_ops/etcd/plugins/module_utils/etcd_x.py"]
        assert {info.date_time for info in archive.infolist()} == {etcd_job_code.EPOCH}
        assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}


@pytest.mark.parametrize("modules, message", [
    ({}, "no module"),
    ({"../etcd_client.py": b""}, "not a module's file name: ../etcd_client.py"),
    ({"__init__.py": b""}, "not a module's file name: __init__.py"),
    ({"etcd_client.pyc": b""}, "not a module's file name: etcd_client.pyc"),
])
def test_what_is_not_a_module_file_is_refused(modules, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        etcd_job_code.bundle(modules)


def test_the_job_imports_from_the_zip_alone(tmp_path):
    """Every module the job's main module imports, directly or not, is in the role's list: its entry point's import
    works with nothing of the collection on the path but the zip."""
    names = job_modules()
    path = tmp_path / "etcd-ops-job.zip"
    path.write_bytes(etcd_job_code.bundle({n: (MODULE_UTILS / n).read_bytes() for n in names}))
    got = python(path, "from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import main; "
                       "import ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store as m; "
                       "print(m.__file__)")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip().startswith(str(path))


def test_a_module_left_out_of_the_list_fails_the_import(tmp_path):
    """The check above can fail: without etcd_client.py the job's import breaks."""
    names = [n for n in job_modules() if n != "etcd_client.py"]
    path = tmp_path / "etcd-ops-job.zip"
    path.write_bytes(etcd_job_code.bundle({n: (MODULE_UTILS / n).read_bytes() for n in names}))
    got = python(path, "from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_backup_store import main")
    assert got.returncode != 0 and "etcd_client" in got.stderr
