"""deploy with the user's own TLS files: why the CA certificate, certificate and key given do not fit a member
(the messages are those the Jinja check of roles/deploy/tasks/preflight.yml built from community.crypto's
x509_certificate_info and openssl_privatekey_info; extensions/molecule/tls asserts some of them)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.etcd_ops.etcd.plugins.filter.deploy_plan import _read
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_tls_files import tls_file_problems

UTC = datetime.timezone.utc
NOW = datetime.datetime(2030, 1, 1, tzinfo=UTC)
CA, CERT, KEY = "/pki/ca.crt", "/pki/node1.crt", "/pki/node1.key"
NEED = ["IP:10.0.0.1", "IP:127.0.0.1"]
BOTH = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)
CA_NAME = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "etcd_ops"),
                     x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "lab"),
                     x509.NameAttribute(NameOID.COMMON_NAME, "etcd CA")])
# Jinja's dictsort ignores case: organizationalUnitName before organizationName
CA_ISSUER = "commonName=etcd CA, countryName=DE, organizationalUnitName=lab, organizationName=etcd_ops"
NOT_ISSUED = "the certificate %s was not issued by the CA %s (its issuer: %%s)" % (CERT, CA)
NO_KEY_CERT_SIGN = ("%s has no keyUsage extension with keyCertSign, which strict TLS clients such as Python 3.13 "
                    "(the health checks on the members) require of a CA" % CA)
NOT_A_CA = "%s is not a CA certificate (no basicConstraints CA:TRUE)" % CA
NO_EKU = ("the certificate %s does not allow both serverAuth and clientAuth (a member serves clients and peers and "
          "is a client of its peers)" % CERT)
NOT_ITS_KEY = "the key %s is not the key of the certificate %s" % (KEY, CERT)


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def ip(address):
    return x509.IPAddress(ipaddress.ip_address(address))


def certificate(subject, issuer, key, signer, *, ca=None, usage=None, eku=BOTH, names=(), ski=True, aki_of=None,
                not_after=NOW + datetime.timedelta(days=365)):
    """ca: None (no basicConstraints), True or False; usage: None (no keyUsage) or the names set in it; eku: None
    (no extendedKeyUsage) or its OIDs; aki_of: the issuer's public key, for an authority key identifier."""
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(min(NOW, not_after) - datetime.timedelta(days=400))
         .not_valid_after(not_after))
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if usage is not None:
        flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        b = b.add_extension(x509.KeyUsage(**{**flags, **dict.fromkeys(usage, True)}), critical=True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if aki_of is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_of), critical=False)
    return b.sign(signer, hashes.SHA256())


def ca_cert(key, name=CA_NAME, **kw):
    kw.setdefault("ca", True)
    kw.setdefault("usage", ("key_cert_sign", "crl_sign"))
    return certificate(name, name, key, key, eku=None, **kw)


MEMBER_NAMES = (ip("10.0.0.1"), x509.DNSName("etcd1.example"), ip("127.0.0.1"))


def member(names=MEMBER_NAMES, key=None, signer=None, issuer=CA_NAME, aki=True, **kw):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node1")])
    key, signer = key or MEMBER_KEY, signer or CA_KEY
    return certificate(subject, issuer, key, signer, names=names, aki_of=signer.public_key() if aki else None, **kw)


def failure(call):
    """The text of the exception `call` raises: cryptography's own words, which differ between its releases."""
    try:
        call()
    except Exception as exc:
        return str(exc)
    raise AssertionError("no exception")


CA_KEY, OTHER_CA_KEY = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
MEMBER_KEY, OTHER_KEY = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
GARBAGE_KEY = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGtleSB0ZXh0\n-----END PRIVATE KEY-----\n"
BAD_PEM_CERT = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"

# the files of the cases, by name: dict(text, error) (the path is the case's)
FILES = {
    "ca": ca_cert(CA_KEY),
    "ca without keyUsage": ca_cert(CA_KEY, usage=None),
    "ca with keyUsage but no keyCertSign": ca_cert(CA_KEY, usage=("digital_signature",)),
    "ca:false": ca_cert(CA_KEY, ca=False),
    "no basicConstraints": ca_cert(CA_KEY, ca=None),
    "same subject, other key": ca_cert(OTHER_CA_KEY),
    "other ca": ca_cert(OTHER_CA_KEY, name=OTHER_NAME),
    "member": member(),
    "member without key id": member(aki=False),
    "expired": member(not_after=datetime.datetime(2029, 12, 4, 12, 0, 0, tzinfo=UTC)),
    "expired in 2020": member(not_after=datetime.datetime(2020, 6, 1, tzinfo=UTC)),
    "loopback only": member(names=(ip("127.0.0.1"), x509.DNSName("localhost"))),
    "no names": member(names=()),
    "serverAuth only": member(eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
    "no eku": member(eku=None),
    "ipv6": member(names=(ip("fd00:0:0:0:0:0:0:1"), ip("127.0.0.1"), x509.DNSName("etcd1.example"))),
    "rsa member": member(key=RSA_KEY),
    "of other ca": member(signer=OTHER_CA_KEY, issuer=OTHER_NAME),
    # everything wrong at once but the reading: the order of the messages
    "all wrong": member(names=(ip("127.0.0.1"),), signer=OTHER_CA_KEY, issuer=OTHER_NAME,
                        eku=[ExtendedKeyUsageOID.SERVER_AUTH],
                        not_after=datetime.datetime(2029, 12, 4, 12, 0, 0, tzinfo=UTC)),
    "key": MEMBER_KEY,
    "other key": OTHER_KEY,
    "rsa key": RSA_KEY,
}
FILES = {name: dict(text=pem(obj), error="") for name, obj in FILES.items()}
FILES.update({
    "der member": dict(text=member().public_bytes(serialization.Encoding.DER), error=""),
    "encrypted key": dict(text=MEMBER_KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")).decode(), error=""),
    "garbage key": dict(text=GARBAGE_KEY, error=""),
    "garbage cert": dict(text="not a certificate\n", error=""),
    "bad pem cert": dict(text=BAD_PEM_CERT, error=""),
    "missing": dict(text=None, error="No such file or directory"),
    "unreadable": dict(text="", error="Permission denied"),
})
GARBAGE_KEY_WHY = failure(lambda: serialization.load_pem_private_key(GARBAGE_KEY.encode(), None))
GARBAGE_CERT_WHY = "Cannot parse DER certificate: " + failure(
    lambda: x509.load_der_x509_certificate(b"not a certificate\n"))
BAD_PEM_CERT_WHY = failure(lambda: x509.load_pem_x509_certificate(BAD_PEM_CERT.encode()))


CASES = [
    # id, CA certificate, certificate, key, need, the messages
    ("fits", "ca", "member", "key", NEED, []),
    ("fits, DNS need", "ca", "member", "key", ["DNS:etcd1.example", "IP:127.0.0.1"], []),
    ("fits, IPv6 in compressed form", "ca", "ipv6", "key", ["IP:fd00::1", "IP:127.0.0.1"], []),
    ("fits, no extendedKeyUsage at all", "ca", "no eku", "key", NEED, []),
    ("fits, RSA", "ca", "rsa member", "rsa key", NEED, []),
    ("fits, DER certificate (as x509_certificate_info read it)", "ca", "der member", "key", NEED, []),
    ("no authority key id: the subject decides", "same subject, other key", "member without key id", "key", NEED,
     []),
    ("CA without keyUsage", "ca without keyUsage", "member", "key", NEED, [NO_KEY_CERT_SIGN]),
    ("CA with keyUsage but no keyCertSign", "ca with keyUsage but no keyCertSign", "member", "key", NEED,
     [NO_KEY_CERT_SIGN]),
    ("CA:FALSE", "ca:false", "member", "key", NEED, [NOT_A_CA]),
    ("no basicConstraints", "no basicConstraints", "member", "key", NEED, [NOT_A_CA]),
    ("the member's certificate as the CA", "member", "member", "key", NEED,
     ["/pki/ca.crt is not a CA certificate (no basicConstraints CA:TRUE)", NOT_ISSUED % CA_ISSUER]),
    ("another CA of the same subject", "same subject, other key", "member", "key", NEED, [NOT_ISSUED % CA_ISSUER]),
    ("another CA", "other ca", "member", "key", NEED, [NOT_ISSUED % CA_ISSUER]),
    ("a certificate of another CA", "ca", "of other ca", "key", NEED, [NOT_ISSUED % "commonName=some other CA"]),
    ("expired", "ca", "expired", "key", NEED, ["the certificate /pki/node1.crt expired at 20291204120000Z"]),
    ("a name missing", "ca", "loopback only", "key", NEED,
     ["the certificate /pki/node1.crt does not name IP:10.0.0.1 (its names: IP:127.0.0.1, DNS:localhost)"]),
    ("no names at all", "ca", "no names", "key", NEED,
     ["the certificate /pki/node1.crt does not name IP:10.0.0.1 and IP:127.0.0.1 (its names: none)"]),
    ("DNS name missing", "ca", "member", "key", ["DNS:etcd2.example", "IP:127.0.0.1"],
     ["the certificate /pki/node1.crt does not name DNS:etcd2.example "
      "(its names: IP:10.0.0.1, DNS:etcd1.example, IP:127.0.0.1)"]),
    ("IPv6 missing, names compressed", "ca", "ipv6", "key", ["IP:fd00::2", "IP:127.0.0.1"],
     ["the certificate /pki/node1.crt does not name IP:fd00::2 (its names: IP:fd00::1, IP:127.0.0.1, "
      "DNS:etcd1.example)"]),
    ("serverAuth only", "ca", "serverAuth only", "key", NEED, [NO_EKU]),
    ("another key", "ca", "member", "other key", NEED, [NOT_ITS_KEY]),
    ("an RSA key for an EC certificate", "ca", "member", "rsa key", NEED, [NOT_ITS_KEY]),
    ("everything wrong, in order", "ca without keyUsage", "all wrong", "other key", NEED, [
        NO_KEY_CERT_SIGN,
        NOT_ISSUED % "commonName=some other CA",
        "the certificate /pki/node1.crt expired at 20291204120000Z",
        "the certificate /pki/node1.crt does not name IP:10.0.0.1 (its names: IP:127.0.0.1)",
        NO_EKU,
        NOT_ITS_KEY]),
    ("none can be read", "missing", "unreadable", "missing", NEED, [
        "the CA certificate /pki/ca.crt cannot be read: No such file or directory",
        "the certificate /pki/node1.crt cannot be read: Permission denied",
        "the key /pki/node1.key cannot be read: No such file or directory"]),
    ("CA unreadable: no issuer check, the rest is", "missing", "all wrong", "other key", NEED, [
        "the CA certificate /pki/ca.crt cannot be read: No such file or directory",
        "the certificate /pki/node1.crt expired at 20291204120000Z",
        "the certificate /pki/node1.crt does not name IP:10.0.0.1 (its names: IP:127.0.0.1)",
        NO_EKU,
        NOT_ITS_KEY]),
    ("certificate unreadable: only the CA is checked", "ca without keyUsage", "missing", "other key", NEED, [
        "the certificate /pki/node1.crt cannot be read: No such file or directory",
        NO_KEY_CERT_SIGN]),
    ("key unreadable: the certificate is checked", "ca", "expired", "missing", NEED, [
        "the key /pki/node1.key cannot be read: No such file or directory",
        "the certificate /pki/node1.crt expired at 20291204120000Z"]),
    ("encrypted key", "ca", "member", "encrypted key", NEED,
     ["the key /pki/node1.key cannot be read: Password was not given but private key is encrypted"]),
    ("garbage key", "ca", "member", "garbage key", NEED,
     ["the key /pki/node1.key cannot be read: %s" % GARBAGE_KEY_WHY]),
    ("neither PEM nor DER", "garbage cert", "member", "key", NEED,
     ["the CA certificate /pki/ca.crt cannot be read: %s" % GARBAGE_CERT_WHY]),
    ("PEM that holds no certificate", "ca", "bad pem cert", "key", NEED,
     ["the certificate /pki/node1.crt cannot be read: %s" % BAD_PEM_CERT_WHY]),
    ("a certificate as the key", "ca", "member", "member", NEED,
     ["the key /pki/node1.key cannot be read: %s" % failure(
         lambda: serialization.load_pem_private_key(FILES["member"]["text"].encode(), None))]),
]


@pytest.mark.parametrize("ca, cert, key, need, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tls_file_problems(ca, cert, key, need, expected):
    given = [dict(FILES[name], path=path) for name, path in ((ca, CA), (cert, CERT), (key, KEY))]
    assert tls_file_problems(*given, need, now=NOW) == expected


def test_the_reasons_never_hold_the_key():
    problems = tls_file_problems(dict(FILES["ca"], path=CA), dict(FILES["member"], path=CERT),
                                 dict(FILES["garbage key"], path=KEY), NEED, now=NOW)
    assert len(problems) == 1 and "c2VjcmV0IGtleSB0ZXh0" not in problems[0]
    assert not any("PRIVATE KEY" in p for p in problems)


def test_bytes_and_str_alike():
    as_bytes = [dict(path=p, text=FILES[n]["text"].encode(), error="") for n, p in
                (("ca", CA), ("expired", CERT), ("key", KEY))]
    assert tls_file_problems(*as_bytes, NEED, now=NOW) == ["the certificate /pki/node1.crt expired at 20291204120000Z"]


def test_expiry_is_judged_by_the_current_time_by_default():
    given = [dict(FILES[n], path=p) for n, p in (("ca", CA), ("expired in 2020", CERT), ("key", KEY))]
    assert tls_file_problems(*given, NEED) == ["the certificate /pki/node1.crt expired at 20200601000000Z"]
    # expired means before now, as x509_certificate_info's `expired`
    at_the_end = datetime.datetime(2020, 6, 1, tzinfo=UTC)
    assert tls_file_problems(*given, NEED, now=at_the_end) == []
    assert tls_file_problems(*given, NEED, now=at_the_end.replace(tzinfo=None) + datetime.timedelta(seconds=1)) \
        == ["the certificate /pki/node1.crt expired at 20200601000000Z"]


# the filter: reads the files on the controller


def write(tmp_path, **files):
    for name, key in files.items():
        text = FILES[key]["text"]
        (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())


def paths(tmp_path, ca="ca.crt", cert="node1.crt", key="node1.key"):
    return dict(ca=str(tmp_path / ca), cert=str(tmp_path / cert), key=str(tmp_path / key))


def read_all(given):
    """The three files as the deploy_plan filter reads them on the controller."""
    return [_read(given[k]) for k in ("ca", "cert", "key")]


def test_the_plan_s_reader_and_the_check_on_real_files(tmp_path):
    write(tmp_path, **{"ca.crt": "ca", "node1.crt": "member", "node1.key": "key", "other.key": "other key"})
    assert tls_file_problems(*read_all(paths(tmp_path)), NEED) == []
    assert tls_file_problems(*read_all(paths(tmp_path)), ["IP:10.0.0.2"]) == [
        "the certificate %s/node1.crt does not name IP:10.0.0.2 (its names: IP:10.0.0.1, DNS:etcd1.example, "
        "IP:127.0.0.1)" % tmp_path]
    assert tls_file_problems(*read_all(paths(tmp_path, key="other.key")), NEED) == [
        "the key %s/other.key is not the key of the certificate %s/node1.crt" % (tmp_path, tmp_path)]


def test_a_missing_file_and_a_directory(tmp_path):
    write(tmp_path, **{"ca.crt": "ca", "node1.key": "key"})
    assert tls_file_problems(*read_all(paths(tmp_path)), NEED) == [
        "the certificate %s/node1.crt cannot be read: No such file or directory" % tmp_path]
    (tmp_path / "dir").mkdir()
    assert tls_file_problems(*read_all(paths(tmp_path, ca="dir", cert="dir")), NEED) == [
        "the CA certificate %s/dir cannot be read: Is a directory" % tmp_path,
        "the certificate %s/dir cannot be read: Is a directory" % tmp_path]


def test_the_key_stays_out_of_the_messages(tmp_path):
    write(tmp_path, **{"ca.crt": "ca", "node1.crt": "member", "node1.key": "garbage key"})
    [problem] = tls_file_problems(*read_all(paths(tmp_path)), NEED)
    assert problem.startswith("the key %s/node1.key cannot be read: " % tmp_path)
    assert "c2VjcmV0IGtleSB0ZXh0" not in problem
