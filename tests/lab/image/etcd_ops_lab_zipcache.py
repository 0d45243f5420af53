"""The lab members' cache of the code Python compiles from an Ansible module's payload (lab image only).

Python keeps no bytecode for what it imports from a zip, so each module run of ansible-core compiles
ansible.module_utils.basic and its imports from the AnsiballZ payload's zip again: about 250 ms of a lab member's
CPU per module run, a quarter to a third of the members' CPU in a playbook run. This cache keeps the code object of
each source compiled from a payload (``.../ansible_NAME_payload.zip/...``), keyed by the source's SHA-256 and the
interpreter, so that each source is compiled once per container. What runs is what compile() makes of the same
bytes; the file names in the code are set to the zip the module imports from, as a compile would set them. Any other
zip (the members' backup job, etcd-ops-job.zip) is compiled as on any host.

It is on only where /var/cache/etcd-ops-lab-pyc exists (the image makes it, mode 1777); each user keeps its own 0700
dir in it, and a dir that is not the user's alone turns the cache off. bench/run.py removes the dir: the benchmark
times what users' hosts do. Loaded at start-up by etcd_ops_lab_zipcache.pth (tests/lab/build-image.sh).
"""

import hashlib
import marshal
import os
import stat
import sys
import zipimport

TOP = "/var/cache/etcd-ops-lab-pyc"
PAYLOAD = "_payload.zip" + os.sep
_TAG = sys.implementation.cache_tag
_compile = zipimport._compile_source
_dir = None


def _renamed(code, name):
    """CODE with NAME as its file name, and so every code object in it."""
    consts = tuple(_renamed(c, name) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=name, co_consts=consts)


def compile_source(pathname, source):
    """zipimport's compile step, through the cache for a payload's sources."""
    if _dir is None or PAYLOAD not in pathname:
        return _compile(pathname, source)
    path = os.path.join(_dir, "%s-%s" % (hashlib.sha256(source).hexdigest(), _TAG))
    try:
        with open(path, "rb") as handle:
            return _renamed(marshal.load(handle), pathname)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = _compile(pathname, source)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "wb") as handle:
            marshal.dump(code, handle)
        os.replace(tmp, path)  # whole or absent, for another process reading it at once
    except OSError:
        try:
            os.unlink(tmp)  # a full disk: no half-written entry is left
        except OSError:
            pass
    return code


def own_dir(top=TOP):
    """This user's dir in TOP, made 0700 where missing; None unless it is a dir of this user's alone."""
    if not os.path.isdir(top):
        return None
    path = os.path.join(top, str(os.geteuid()))
    try:
        os.mkdir(path, 0o700)
    except OSError:
        pass
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077:
        return path
    return None


def install(top=TOP):
    """Turn the cache on when TOP is there; True when it is on."""
    global _dir
    _dir = own_dir(top)
    if _dir is not None:
        zipimport._compile_source = compile_source
    return _dir is not None
