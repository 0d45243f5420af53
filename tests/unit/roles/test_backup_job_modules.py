"""The members' scheduled job runs with only the module_utils files the backup role copies to them
(__etcd_backup_job_modules): with those alone, in a Python that sees nothing else of the collection and no
site-packages (no Ansible on a member), the job and its drill import."""

import subprocess
import sys
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parents[3]


def test_the_job_imports_with_the_files_the_role_copies(tmp_path):
    listed = yaml.safe_load((TOP / "roles" / "backup" / "vars" / "main.yml").read_text())["__etcd_backup_job_modules"]
    code = tmp_path / "ansible_collections" / "etcd_ops" / "etcd" / "plugins" / "module_utils"
    code.mkdir(parents=True)
    for name in listed:
        (code / name).write_text((TOP / "plugins" / "module_utils" / name).read_text())
    script = ("import sys; sys.path.insert(0, %r)\n"
              "from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_backup_store, etcd_drill_run\n"
              "assert etcd_drill_run.__file__.startswith(%r), etcd_drill_run.__file__\n"
              % (str(tmp_path), str(tmp_path)))
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
