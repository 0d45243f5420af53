"""The fault suite runs as the verify step of the molecule scenario `faults` (extensions/molecule/faults) on a
deployed three-member lab; its rows go to tests/output/reliability/, and tests/fault/report.py writes them into
docs/reliability.md."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lab" / "pylib"))
sys.path.insert(0, str(HERE))

import faults  # noqa: E402
import lab  # noqa: E402

KEYS = 40
PREFIX = "/fault/"


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "etcd-backups"


@pytest.fixture(scope="session")
def snapshot_keys(store):
    """KEYS keys written, then a snapshot of them in the store (backup.yml); the keys and values."""
    keys = faults.write_keys(PREFIX, KEYS)
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return keys
