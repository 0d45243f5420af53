"""Bad input that no other scenario tries: a full disk on a node, a data dir that is a mount point (a small tmpfs),
env files that name a client URL nothing answers on. Each must be refused with a message that names the fix, and
every node compared before and after must be unchanged. (The other rows of docs/reliability.md's matrix come from
the refusal tests of the scenarios deploy_refusals, backup, replace_member and disaster_recovery.)"""

from __future__ import annotations

import faults
import lab
import pytest


def fingerprints():
    return {n: lab.fingerprint(n) for n in lab.NODES}


def refused(playbook, proc, before, case, *messages):
    assert proc.returncode != 0, proc.stdout[-3000:]
    out = lab.flat(proc.stdout)
    for message in messages:
        assert message in out, out[-3000:]
    assert fingerprints() == before, out[-3000:]
    for name in lab.NODES:  # no snapshot copy left on a node
        assert faults.sh(name, f"ls -A {faults.COPY_DIR} 2>/dev/null || true").strip() == ""
    lab.record_refusal(playbook, proc, case)


@pytest.fixture
def wrong_client_urls():
    """Every env file advertises a client URL on a port nothing listens on; etcd keeps serving where it does."""
    for name in lab.NODES:
        faults.sh(name, f"cp -p {faults.ENV} /root/etcd.env.saved && "
                        f"sed -i -E 's#^(ETCD_ADVERTISE_CLIENT_URLS=http://[^:]+):2379#\\1:2999#' {faults.ENV}")
    yield
    for name in lab.NODES:
        faults.sh(name, f"cp -p /root/etcd.env.saved {faults.ENV}")


def test_backup_with_a_wrong_endpoint_in_every_env_file_is_refused(snapshot_keys, store, wrong_client_urls):
    before = fingerprints()
    proc = lab.playbook("backup", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    refused("backup.yml", proc, before, "a wrong client URL in every env file (etcd serves elsewhere)",
            "No member of group etcd answers healthy")


def test_recovery_with_a_wrong_endpoint_in_every_env_file_is_refused(snapshot_keys, store, wrong_client_urls):
    # the cluster is healthy: that no member answers on the URL its env file names must not make it look lost
    before = fingerprints()
    proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
    refused("disaster_recovery.yml", proc, before, "a wrong client URL in every env file (a healthy cluster serves "
            "elsewhere)", f"etcd runs on node1 (systemd: active) but does not answer at http://{lab.address(11)}:2999",
            "Nothing was changed.", "ETCD_ADVERTISE_CLIENT_URLS")


def test_replace_of_a_member_whose_data_dir_is_a_mount_point_is_refused():
    # node3's etcd fails; its data (kept) lives on a disk mounted at the data dir itself
    faults.sh("node3", f"systemctl stop etcd.service && cp -a {faults.DATA} /root/etcd.data.copy && "
                       f"mount -t tmpfs -o size=64m,mode=0700 tmpfs {faults.DATA} && "
                       f"cp -a /root/etcd.data.copy/. {faults.DATA}/")
    try:
        before = fingerprints()
        proc = lab.playbook("replace_member", lab.INVENTORY, "-e", "node=node3")
        refused("replace_member.yml", proc, before, "node3's data dir a tmpfs holding its data (a mount point)",
                f"node3: the data dir {faults.DATA} is a mount point and holds data", "Nothing was changed.",
                f"mv {faults.DATA}/member {faults.DATA}/member.old")
    finally:
        faults.sh("node3", f"umount {faults.DATA}; rm -rf /root/etcd.data.copy; systemctl start etcd.service")
    assert faults.wait_healthy()


@pytest.fixture(scope="module")
def disaster(snapshot_keys):
    """node2 and node3 lose their data: quorum is lost (a set-up step, made once by the first test that asks)."""
    for name in ("node2", "node3"):
        faults.sh(name, f"systemctl stop etcd.service; rm -rf {faults.DATA}")


def test_recovery_onto_a_full_disk_is_refused(store, disaster):
    # the work dirs' parent (the snapshot copy's, and the lock's), root's as etcd_workdir wants it
    faults.sh("node2", "mkdir -p /var/lib/etcd-ops && mount -t tmpfs -o size=16k,mode=0755 tmpfs /var/lib/etcd-ops")
    try:
        before = fingerprints()
        proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
        refused("disaster_recovery.yml", proc, before, "a full disk: node2's /var/lib/etcd-ops (the snapshot copy) a "
                "16 KiB tmpfs", "Not enough space on node2: /var/lib/etcd-ops has", "Nothing was changed.")
    finally:
        faults.sh("node2", "umount /var/lib/etcd-ops")


def test_recovery_into_a_data_dir_that_is_a_mount_point_is_refused(store, disaster):
    faults.sh("node2", f"mkdir -p {faults.DATA} && mount -t tmpfs -o size=1m,mode=0700 tmpfs {faults.DATA}")
    try:
        before = fingerprints()
        proc = lab.playbook("disaster_recovery", lab.INVENTORY, "-e", f"etcd_backup_dir={store}")
        refused("disaster_recovery.yml", proc, before, "node2's data dir a 1 MiB tmpfs (a mount point)",
                f"node2: the data dir {faults.DATA} is a mount point", "Nothing was changed.")
    finally:
        faults.sh("node2", f"umount {faults.DATA}; rmdir {faults.DATA}")
