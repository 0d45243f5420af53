"""etcd_job_code's controller side: the zip of the named module_utils handed to ansible.builtin.copy (a stand-in
here), its temp file removed after; names that are not this collection's module_utils refused before any copy."""

import io
import os
import zipfile
from unittest.mock import MagicMock

import pytest
from ansible.parsing.dataloader import DataLoader

from ansible_collections.etcd_ops.etcd.plugins.action import etcd_job_code as action
from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_job_code

DEST = "/usr/local/lib/etcd-ops/etcd-ops-job.zip"


def run(args, check_mode=False, copied=None):
    """The action with a stand-in for ansible.builtin.copy's action: it records its task's args and the bytes of its
    src as they are while it runs, and answers `copied`."""
    task = MagicMock()
    task.args = dict(args)
    task.check_mode = check_mode
    task.async_val = 0
    task.action = "etcd_ops.etcd.etcd_job_code"
    new_task = MagicMock()
    task.copy.return_value = new_task
    seen = {}

    def copy_run(task_vars):
        seen["args"] = dict(new_task.args)
        seen["data"] = open(new_task.args["src"], "rb").read()
        return dict(copied or {"changed": True, "dest": new_task.args["dest"], "checksum": "x"})

    shared = MagicMock()
    shared.action_loader.get.return_value.run.side_effect = copy_run
    plugin = action.ActionModule(task, MagicMock(), MagicMock(), DataLoader(), MagicMock(), shared)
    plugin._shared_loader_obj = shared  # ansible-core 2.19 takes its own plugin loaders, whatever is passed
    return plugin.run(task_vars={}), seen, shared


def test_the_zip_of_the_named_modules_goes_to_copy_then_its_temp_file_goes():
    got, seen, shared = run(dict(dest=DEST, modules=["etcd_version.py", "etcd_client.py"]))
    assert got["changed"] and got["dest"] == DEST and got["modules"] == ["etcd_client.py", "etcd_version.py"]
    assert shared.action_loader.get.call_args.args == ("ansible.legacy.copy",)
    wanted = dict(dest=DEST, owner="root", group="root", mode="0644")
    assert {k: v for k, v in seen["args"].items() if k != "src"} == wanted
    code = {n: open(os.path.join(action.SOURCE, n), "rb").read() for n in ("etcd_client.py", "etcd_version.py")}
    assert seen["data"] == etcd_job_code.bundle(code)
    with zipfile.ZipFile(io.BytesIO(seen["data"])) as archive:
        assert "ansible_collections/etcd_ops/etcd/plugins/module_utils/etcd_client.py" in archive.namelist()
    assert os.path.basename(seen["args"]["src"]) == "etcd-ops-job.zip"
    assert not os.path.exists(os.path.dirname(seen["args"]["src"]))


def test_copy_s_answer_is_the_result():
    got, _seen, _shared = run(dict(dest=DEST, modules=["etcd_client.py"], mode="0600"),
                              copied={"changed": False, "dest": DEST, "checksum": "abc"})
    assert not got["changed"] and got["checksum"] == "abc"


@pytest.mark.parametrize("args, message", [
    (dict(modules=["etcd_client.py"]), "dest (the zip's path on the member) and modules"),
    (dict(dest=DEST), "dest (the zip's path on the member) and modules"),
    (dict(dest=DEST, modules="etcd_client.py"), "dest (the zip's path on the member) and modules"),
    (dict(dest=DEST, modules=["nope.py"]), "Not a module_utils file of this collection"),
    (dict(dest=DEST, modules=["../action/etcd_job_code.py"]), "../action/etcd_job_code.py"),
])
def test_bad_arguments_are_refused_before_any_copy(args, message):
    got, seen, shared = run(args)
    assert got["failed"] and not got["changed"] and message in got["msg"]
    assert seen == {} and not shared.action_loader.get.called
