# Stand-in for the get-pip.py that ansible-test downloads from a host this machine cannot reach
# (ci-files.testing.ansible.com). ansible-test runs it inside each new venv with pip's install arguments;
# this bootstraps the pip bundled with Python (ensurepip), then runs `pip install` with those arguments,
# which fetches the pinned pip from PyPI. tests/run.sh copies it into ansible-test's cache.
import ensurepip
import os
import runpy
import sys

# ensurepip drops the PIP_* variables and sets PIP_CONFIG_FILE=/dev/null in this process; give pip its
# configuration (index, certificates) back for the real install.
environ = dict(os.environ)
ensurepip.bootstrap()
os.environ.clear()
os.environ.update(environ)
# --no-setuptools / --no-wheel are get-pip.py's own options: ensurepip installs neither anyway.
sys.argv = ["pip", "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
