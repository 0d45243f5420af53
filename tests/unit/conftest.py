"""A fake etcdctl/etcdutl for module tests: AnsibleModule.run_command answers from recorded output
(tests/unit/fixtures/<etcd version>/...) and records every (argv, env) it was given, and in `stdin` every
(argv, data) (data is None when nothing went to the command's standard input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient

FIXTURES = Path(__file__).parent / "fixtures"
# the client's TCP probe (etcd_client.refused_endpoints), kept for the tests of the probe itself
REAL_REFUSED_ENDPOINTS = EtcdClient.refused_endpoints
VERSIONS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def pytest_generate_tests(metafunc):
    """A test that takes `version` runs once per recorded etcd version."""
    if "version" in metafunc.fixturenames:
        metafunc.parametrize("version", VERSIONS)


@pytest.fixture(autouse=True)
def no_tcp_probe(monkeypatch):
    """The recorded answers stand for every endpoint: the client's TCP probe finds none refused (the lab's
    addresses may or may not answer on the machine that runs the unit tests)."""
    monkeypatch.setattr(EtcdClient, "refused_endpoints", lambda self, endpoints, timeout=0.5: {})


@pytest.fixture
def real_tcp_probe(monkeypatch, no_tcp_probe):
    """The client's own TCP probe, for the tests of the probe itself."""
    monkeypatch.setattr(EtcdClient, "refused_endpoints", REAL_REFUSED_ENDPOINTS)


@pytest.fixture
def recorded():
    """recorded(version, name): the text of tests/unit/fixtures/<version>/<name>."""
    return lambda version, name: (FIXTURES / version / name).read_text()


class FakeEtcd:
    """Answers keyed by the command line without the binary, e.g. 'member list -w json'."""

    def __init__(self, tools=("etcdctl",)):
        self.tools = set(tools)
        self.answers = {}
        self.calls = []
        self.stdin = []

    def on(self, args, stdout="", rc=0, stderr="", do=None):
        """Answer `args` (a command line without the binary, or its prefix); `do(argv, env)` may act first."""
        self.answers[args] = [(rc, stdout, stderr, do)]
        return self

    def in_turn(self, args, *answers):
        """Answer `args` with each (rc, stdout, stderr) in turn; the last one repeats."""
        self.answers[args] = [(rc, out, err, None) for rc, out, err in answers]
        return self

    def run_command(self, args, environ_update=None, data=None, **kwargs):
        argv = list(args)
        self.calls.append((argv, dict(environ_update or {})))
        self.stdin.append((argv, data))
        key = " ".join(argv[1:])
        for prefix in sorted(self.answers, key=len, reverse=True):
            if key == prefix or key.startswith(prefix + " "):
                queue = self.answers[prefix]
                rc, out, err, do = queue.pop(0) if len(queue) > 1 else queue[0]
                if do:
                    do(argv, dict(environ_update or {}))
                return rc, out, err
        raise AssertionError(f"unexpected command: {argv}")

    def argvs(self):
        return [argv for argv, env in self.calls]


@pytest.fixture
def fake_etcd_class():
    return FakeEtcd


@pytest.fixture
def fake_etcd(monkeypatch):
    def install(tools=("etcdctl",)):
        fake = FakeEtcd(tools)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", fake.run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                            lambda self, name, required=False, opt_dirs=None:
                            f"/usr/bin/{name}" if name in fake.tools else None)
        return fake
    return install


@pytest.fixture
def run_module(capsys):
    """Run a module's main() with these args; returns its JSON result (failed or not)."""
    def run(module, args, check_mode=False):
        if check_mode:
            args = dict(args, _ansible_check_mode=True)
        with patch_module_args(args), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)
    return run


def _ca_pair():
    """A CA's key and self-signed certificate (ECC P-256, as deploy.yml makes them), as PEM texts."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "etcd-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
            cert.public_bytes(serialization.Encoding.PEM).decode())


@pytest.fixture
def ca_pair():
    """Makes a new CA each call: (key PEM, certificate PEM)."""
    return _ca_pair
