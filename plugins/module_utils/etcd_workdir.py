# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The work dirs on a member (a snapshot before it is fetched, a recovery's copy of the snapshot): root's, made by
root, and reached through no path another user could have placed or changed.

A snapshot holds every key of the cluster (Kubernetes' secrets among them) and a recovery restores whatever file
it finds there, so a dir another user owns, or can write, or a symbolic link another user made in /var/tmp, would
let that user read the cluster's data or swap the snapshot between its check and the restore. The rule, as
OpenSSH's safe_path has it for its key files: every dir on the way is root's and writable by no one else (a dir
writable by all, as /tmp and /var/tmp, only with the sticky bit, and then the next name on the way must be
root's); the work dir itself is no symbolic link, is root's and writable by root alone.
"""

from __future__ import annotations

import os
import stat


class WorkDirError(Exception):
    """Why a work dir cannot be used, with the fix."""


def _unsafe(path, st, last):
    """Why `path` (its lstat `st`) is not safe on the way to a work dir, or ''. Root's, or the user's the module
    runs as (root with become; the user's own files are as private as that user)."""
    if st.st_uid not in (0, os.geteuid()):
        return "%s belongs to uid %d, not root" % (path, st.st_uid)
    if stat.S_ISLNK(st.st_mode):
        return "%s is a symbolic link" % path if last else ""
    if not stat.S_ISDIR(st.st_mode):
        return "%s is not a directory" % path
    writable = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable and (last or not st.st_mode & stat.S_ISVTX):
        return "%s can be written by others than root (mode %04o)" % (path, stat.S_IMODE(st.st_mode))
    return ""


def check_path(path):
    """Refuses (WorkDirError) a work dir reached through a path another user could have made or changed. Dirs that
    do not exist yet are left out (they are made by root, then checked). Symbolic links root made on the way (such
    as /var/run) are followed; the work dir itself must be none."""
    path = os.path.abspath(path)
    parts = [p for p in path.split(os.sep) if p]
    current = os.sep
    for index, name in enumerate(parts):
        current = os.path.join(current, name)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return
        last = index == len(parts) - 1
        why = _unsafe(current, st, last)
        if not why and stat.S_ISLNK(st.st_mode):
            # root's link on the way: the rest of the check goes on from where it points
            target = os.path.realpath(current)
            check_path(target)
            current = target
            continue
        if why:
            raise WorkDirError(why)


def ensure(path, mode, check_mode=False):
    """The work dir `path` with `mode`, root's: checked (check_path), made where missing (its missing parents
    0755, each made by root), and checked again. Returns whether anything changed (in check mode: would)."""
    path = os.path.abspath(path)
    check_path(path)
    if os.path.isdir(path):
        if stat.S_IMODE(os.lstat(path).st_mode) == mode:
            return False
        if not check_mode:
            os.chmod(path, mode)
        return True
    if check_mode:
        return True
    missing = []
    walk = path
    while not os.path.lexists(walk):
        missing.append(walk)
        walk = os.path.dirname(walk)
    for made in reversed(missing):
        os.mkdir(made, 0o700)  # fails on anything that appeared there meanwhile (a link too): never followed
        os.chmod(made, mode if made == path else 0o755)
    check_path(path)
    return True


def refusal(path, why, nothing="Nothing was written there."):
    """The message of a refused work dir: what, why, what was left alone (`nothing`), and the fix."""
    return ("The work dir %s is not safe to hold a snapshot: %s. A snapshot holds every key of the cluster, and "
            "a recovery restores the file it finds there: another user must be able neither to read it nor to "
            "swap it. %s Fix: remove or move what is there (it is not root's, or others can change it), or set a "
            "dir under a path only root can write, such as the default under /var/lib/etcd-ops."
            % (path, why, nothing))
