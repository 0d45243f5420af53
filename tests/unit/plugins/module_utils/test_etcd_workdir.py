"""The members' work dirs (issue #24, edge 6): a path another user could have made or changed is refused, a
missing dir is made by root and never through a link. Real files in a temporary dir; the cases that need another
owner chown to uid 4242 (the unit tests run as root, as in CI)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils import etcd_workdir as workdir

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="another owner needs chown: run as root (CI does)")
OTHER = 4242


@pytest.fixture
def top(tmp_path):
    os.chmod(tmp_path, 0o755)
    return tmp_path


def refused(path):
    with pytest.raises(workdir.WorkDirError) as caught:
        workdir.check_path(str(path))
    return str(caught.value)


def test_a_missing_dir_is_made_root_s_with_its_mode_and_its_parents_0755(top):
    path = top / "etcd-ops" / "recovery"
    assert workdir.ensure(str(path), 0o700)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o700 and os.lstat(path).st_uid == 0
    assert stat.S_IMODE(os.lstat(path.parent).st_mode) == 0o755
    assert not workdir.ensure(str(path), 0o700)
    assert workdir.ensure(str(path), 0o711) and stat.S_IMODE(os.lstat(path).st_mode) == 0o711


def test_check_mode_makes_nothing(top):
    assert workdir.ensure(str(top / "new"), 0o700, check_mode=True) and not (top / "new").exists()


@pytest.mark.parametrize("case,make,why", [
    ("a dir another user made", lambda d: (d.mkdir(), os.chown(d, OTHER, OTHER)), "belongs to uid 4242, not root"),
    ("a symbolic link another user made", lambda d: (os.symlink("/etc", d), os.lchown(d, OTHER, OTHER)),
     "belongs to uid 4242"),
    ("root's own symbolic link", lambda d: os.symlink("/etc", d), "is a symbolic link"),
    ("a dir the group can write", lambda d: (d.mkdir(), os.chmod(d, 0o770)), "can be written by others than root "
     "(mode 0770)"),
    ("a dir all can write, even sticky", lambda d: (d.mkdir(), os.chmod(d, 0o1777)), "(mode 1777)"),
    ("a file", lambda d: d.write_text(""), "is not a directory"),
])
def test_the_work_dir_itself_is_refused(top, case, make, why):
    work = top / "work"
    make(work)
    assert why in refused(work), case
    with pytest.raises(workdir.WorkDirError):
        workdir.ensure(str(work), 0o700)


@pytest.mark.parametrize("case,make,why", [
    ("a parent another user owns", lambda p: os.chown(p, OTHER, OTHER), "belongs to uid 4242"),
    ("a parent all can write, not sticky", lambda p: os.chmod(p, 0o777), "(mode 0777)"),
])
def test_a_dir_on_the_way_is_refused(top, case, make, why):
    parent = top / "parent"
    (parent / "work").mkdir(parents=True)
    make(parent)
    assert why in refused(parent / "work"), case
    assert why in refused(parent / "missing" / "work"), case  # also before anything is made under it


def test_a_sticky_dir_all_can_write_is_passed_when_the_next_name_is_root_s(top):
    tmp = top / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o1777)  # as /tmp and /var/tmp
    workdir.ensure(str(tmp / "etcd-ops"), 0o700)
    other = tmp / "theirs"
    other.mkdir()
    os.chown(other, OTHER, OTHER)
    assert "belongs to uid 4242" in refused(other / "work")  # a name another user made there first


def test_root_s_links_on_the_way_are_followed_and_checked_where_they_point(top):
    real = top / "real"
    real.mkdir()
    os.symlink(real, top / "link")
    workdir.check_path(str(top / "link" / "work"))
    os.chmod(real, 0o777)
    assert "real can be written by others" in refused(top / "link" / "work")


def test_a_link_that_appears_where_the_dir_is_made_is_not_followed(top, monkeypatch):
    """The check found nothing; another user's link appears before the mkdir: mkdir fails, nothing is written."""
    path = top / "race"
    real_mkdir = os.mkdir

    def mkdir(target, mode=0o777):
        if str(target) == str(path):
            os.symlink("/etc", path)
        return real_mkdir(target, mode)

    monkeypatch.setattr(workdir.os, "mkdir", mkdir)
    with pytest.raises(FileExistsError):
        workdir.ensure(str(path), 0o700)
    assert os.path.islink(path)


def test_the_refusal_names_the_fix():
    text = workdir.refusal("/var/tmp/etcd-ops-backup", "/var/tmp/etcd-ops-backup belongs to uid 1000, not root")
    assert text.startswith("The work dir /var/tmp/etcd-ops-backup is not safe to hold a snapshot: "
                           "/var/tmp/etcd-ops-backup belongs to uid 1000, not root.")
    assert "Nothing was written there. Fix:" in text and "/var/lib/etcd-ops" in text
