# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The members' scheduled job's code as one zip file (the backup role's etcd_backup_schedule).

The job (etcd-ops-backup.py) imports this collection's module_utils by their full names. They go to each member as
one zip file on the job's sys.path, which Python imports from as it is (zipimport): one file to compare and copy per
member instead of one per module, and the same bytes for the same code on every run, so that a second run finds
nothing to change. Pure functions of their input: the action plugin etcd_job_code reads the files.
"""

from __future__ import annotations

import io
import re
import zipfile

# where the modules sit inside the zip: their import path
PACKAGE = "ansible_collections/etcd_ops/etcd/plugins/module_utils"
# a fixed time for every entry (the zip format's earliest), so that the bytes depend on the code alone
EPOCH = (1980, 1, 1, 0, 0, 0)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


def bundle(modules):
    """The zip's bytes: each of `modules` ({file name: its bytes}, e.g. {"etcd_client.py": b"..."}) under PACKAGE,
    and an empty __init__.py in each package dir (zipimport does not import namespace packages). Entries are sorted,
    each with the same time and mode 0644. Raises ValueError for a name that is not a module's file name."""
    bad = sorted(name for name in modules if not NAME.match(name) or name == "__init__.py")
    if bad:
        raise ValueError("not a module's file name: %s" % ", ".join(bad))
    if not modules:
        raise ValueError("no module to put in the job's code")
    parts = PACKAGE.split("/")
    entries = {"/".join(parts[:i]) + "/__init__.py": b"" for i in range(1, len(parts) + 1)}
    entries.update(("%s/%s" % (PACKAGE, name), data) for name, data in modules.items())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(entries):
            info = zipfile.ZipInfo(path, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, entries[path])
    return out.getvalue()
