"""The client's own TLS handshake, which names why etcdctl 3.4 timed out (it logs no cause), against a real TLS
server on loopback with certificates made here: another CA, no client certificate, the right files."""

import datetime
import ipaddress
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdClient


def _cert(name, key, issuer=None, issuer_key=None, ca=False, usage=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path, cert=None, key=None):
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, other_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _key in range(4))
    ca = _cert("ca", ca_key, ca=True)
    other = _cert("other", other_key, ca=True)
    server = _cert("server", server_key, ca.subject, ca_key, usage=[ExtendedKeyUsageOID.SERVER_AUTH])
    client = _cert("client", client_key, ca.subject, ca_key, usage=[ExtendedKeyUsageOID.CLIENT_AUTH])
    return dict(ca=_write(d / "ca.crt", ca), other=_write(d / "other.crt", other),
                server=_write(d / "server.crt", server), server_key=_write(d / "server.key", key=server_key),
                client=_write(d / "client.crt", client), client_key=_write(d / "client.key", key=client_key))


@pytest.fixture(scope="module")
def server(pki):
    """https://127.0.0.1:PORT requiring a client certificate of the CA, as etcd with client-cert-auth."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server"], pki["server_key"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(1)
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


class Module:
    def __init__(self, params):
        self.params = dict(endpoints=None, dial_timeout=None, command_timeout=None, **params)


def errors(endpoint, **files):
    return EtcdClient(Module(files)).tls_handshake_errors([endpoint])


def test_the_right_files_complete_the_handshake(pki, server):
    assert errors(server, ca_cert=pki["ca"], client_cert=pki["client"], client_key=pki["client_key"]) == {}


def test_another_ca_is_named(pki, server):
    causes = errors(server, ca_cert=pki["other"], client_cert=pki["client"], client_key=pki["client_key"])
    assert len(causes) == 1
    cause = next(iter(causes.values()))
    assert cause.startswith("TLS handshake failed: ") and "certificate" in cause


def test_a_missing_client_certificate_is_named(pki, server):
    causes = errors(server, ca_cert=pki["ca"])
    assert len(causes) == 1
    cause = next(iter(causes.values()))
    assert cause.startswith("TLS handshake failed: ") and "CERTIFICATE" in cause.upper()


def test_plain_http_and_a_closed_port_are_left_out(pki):
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    assert errors("http://127.0.0.1:%d" % port, ca_cert=pki["ca"]) == {}
    assert errors("https://127.0.0.1:%d" % port, ca_cert=pki["ca"]) == {}


def test_a_ca_without_key_usage_is_accepted_under_python_3_13_defaults(pki, server, monkeypatch):
    """Issue #21 (4): the test CA has no keyUsage extension and the certificates no key identifiers, which etcd
    and etcdctl (Go) accept. Python 3.13's default context sets VERIFY_X509_STRICT, which rejects them ("CA cert
    does not include key usage extension", "Missing Authority Key Identifier"); the handshake check must not name
    that as the cause of a timeout. 3.13's default is simulated here."""
    default = ssl.create_default_context

    def strict(*args, **kwargs):
        context = default(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    monkeypatch.setattr(ssl, "create_default_context", strict)
    strict_context = strict(cafile=pki["ca"])
    with socket.create_connection(("127.0.0.1", int(server.rsplit(":", 1)[1]))) as sock:
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):  # 3.13 unfixed
            strict_context.wrap_socket(sock, server_hostname="127.0.0.1")
    assert errors(server, ca_cert=pki["ca"], client_cert=pki["client"], client_key=pki["client_key"]) == {}
