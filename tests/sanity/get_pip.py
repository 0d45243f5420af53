# Stand-in for the get-pip.py that ansible-test downloads from a host this machine cannot reach
# (ci-files.testing.ansible.com). ansible-test runs it inside each new venv with pip's install arguments;
# this bootstraps a pip, then runs `pip install` with those arguments, which installs the pinned pip:
#   - on the host, the pip bundled with Python (ensurepip), which fetches the pinned pip from PyPI;
#   - in the controller container (Debian's python3 without ensurepip, no PyPI), pip run from its wheel in the
#     wheelhouse that the container's /etc/pip.conf names (find-links, with no-index), which the host downloaded
#     (tests/lab/cores.sh); ansible-test passes no PIP_* variable to this script.
# tests/run.sh copies it into ansible-test's cache.
import configparser
import glob
import os
import runpy
import sys

try:
    import ensurepip
except ImportError:
    ensurepip = None

if ensurepip is not None:
    # ensurepip drops the PIP_* variables and sets PIP_CONFIG_FILE=/dev/null in this process; give pip its
    # configuration (index, certificates) back for the real install.
    environ = dict(os.environ)
    ensurepip.bootstrap()
    os.environ.clear()
    os.environ.update(environ)
else:
    config = configparser.ConfigParser()
    config.read("/etc/pip.conf")
    links = os.environ.get("PIP_FIND_LINKS") or config.get("global", "find-links", fallback="")
    wheels = sorted(w for d in links.split() for w in glob.glob(f"{d}/pip-*.whl"))
    if not wheels:
        sys.exit("get_pip stand-in: no ensurepip, and no pip wheel in the find-links of /etc/pip.conf")
    sys.path.insert(0, wheels[-1])
# --no-setuptools / --no-wheel are get-pip.py's own options: ensurepip installs neither anyway.
sys.argv = ["pip", "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
