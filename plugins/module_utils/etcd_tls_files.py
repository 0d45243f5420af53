# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""Whether the TLS files a user gives deploy (etcd_deploy_tls_ca_src, etcd_deploy_tls_cert_src,
etcd_deploy_tls_key_src) fit the member: a pure function, no I/O, unit-tested over a table of cases
(tests/unit/plugins/module_utils/test_etcd_tls_files.py). deploy_plan (etcd_deploy.py) calls it; the filter
deploy_plan reads the files on the controller.

It reads the certificates as community.crypto's x509_certificate_info renders them (the names of subject and issuer
attributes, "DNS:..."/"IP:..." for the subject alternative names, not_after as YYYYMMDDHHMMSSZ), so that the
messages stay those of the Jinja check it replaces. Runs on the controller only: `cryptography` (which
community.crypto needs too) is imported where it is used, never shipped to the members.
"""

from __future__ import annotations

import datetime
import ipaddress

# community.crypto's (long) names of the subject and issuer attributes, where cryptography's differ or may be
# missing in older releases; any other attribute takes cryptography's name, else its dotted OID
_NAMES = {
    "2.5.4.3": "commonName",
    "2.5.4.4": "surname",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.9": "streetAddress",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
    "2.5.4.12": "title",
    "2.5.4.42": "givenName",
    "2.5.4.43": "initials",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "userId",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.2.840.113549.1.9.1": "emailAddress",
}
# its short names, for the attributes of a dirName subject alternative name
_SHORT = {
    "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street",
    "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.42": "GN", "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}
# x509_certificate_info's format of not_before and not_after
_TIMESTAMP = "%Y%m%d%H%M%SZ"
# the extendedKeyUsage a member's certificate needs, if it has one: serverAuth, clientAuth
_SERVER_AUTH, _CLIENT_AUTH = "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"


def _oid_name(oid, short=False):
    dotted = oid.dotted_string
    if short and dotted in _SHORT:
        return _SHORT[dotted]
    name = _NAMES.get(dotted) or getattr(oid, "_name", None)
    return dotted if not name or name == "Unknown OID" else name


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _dn_escape(value):
    """A dirName attribute's value, escaped as community.crypto does (RFC 4514)."""
    value = value.replace("\\", "\\\\")
    for ch in (",", "+", "<", ">", ";", '"'):
        value = value.replace(ch, "\\" + ch)
    value = value.replace("\0", "\\00")
    if value.startswith((" ", "#")):
        value = "\\" + value
    if value.endswith(" "):
        value = value[:-1] + "\\ "
    return value


def _general_name(name):
    """A subject alternative name as x509_certificate_info renders it: DNS:..., IP:... (compressed), ..."""
    from cryptography import x509  # the controller's (community.crypto needs it); not shipped to the members

    if isinstance(name, x509.DNSName):
        return "DNS:%s" % name.value
    if isinstance(name, x509.IPAddress):
        if isinstance(name.value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            return "IP:%s/%s" % (name.value.network_address.compressed, name.value.prefixlen)
        return "IP:%s" % name.value.compressed
    if isinstance(name, x509.RFC822Name):
        return "email:%s" % name.value
    if isinstance(name, x509.UniformResourceIdentifier):
        return "URI:%s" % name.value
    if isinstance(name, x509.DirectoryName):
        return "dirName:" + ",".join("%s=%s" % (_oid_name(a.oid, short=True), _dn_escape(_text(a.value)))
                                     for a in reversed(list(name.value)))
    if isinstance(name, x509.RegisteredID):
        return "RID:%s" % name.value.dotted_string
    if isinstance(name, x509.OtherName):
        return "otherName:%s;%s" % (name.type_id.dotted_string, ":".join("%02x" % b for b in name.value))
    return str(name)


def _is_pem(data):
    """Whether the first PEM block of `data` has a proper BEGIN line (community.crypto's identify_pem_format)."""
    try:
        lines = [line for line in data.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        return False
    for i, line in enumerate(lines):
        if line.startswith("-----BEGIN "):
            ended = any(end.startswith("-----END ") for end in lines[i:])
            return ended and line.endswith("-----") and len(line) > len("-----BEGIN -----")
    return False


def _extension(cert, cls):
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def cert_facts(data):
    """What the checks need of a certificate (PEM, or DER as x509_certificate_info takes a file's).
    Raises an exception whose text says why it cannot be read."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if _is_pem(data):
        cert = x509.load_pem_x509_certificate(data)
    else:
        try:
            cert = x509.load_der_x509_certificate(data)
        except ValueError as exc:
            raise ValueError("Cannot parse DER certificate: %s" % exc) from exc
    constraints = _extension(cert, x509.BasicConstraints)
    usage = _extension(cert, x509.KeyUsage)
    eku = _extension(cert, x509.ExtendedKeyUsage)
    ski = _extension(cert, x509.SubjectKeyIdentifier)
    aki = _extension(cert, x509.AuthorityKeyIdentifier)
    sans = _extension(cert, x509.SubjectAlternativeName)
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return dict(
        # a dict as x509_certificate_info's subject and issuer: a later attribute of the same kind wins
        subject={_oid_name(a.oid): _text(a.value) for a in cert.subject},
        issuer={_oid_name(a.oid): _text(a.value) for a in cert.issuer},
        ca=bool(constraints is not None and constraints.ca),
        key_cert_sign=bool(usage is not None and usage.key_cert_sign),
        ski=ski.digest if ski is not None else None,
        aki=aki.key_identifier if aki is not None else None,
        not_after=not_after,
        names=[_general_name(n) for n in sans] if sans is not None else [],
        eku=None if eku is None else [u.dotted_string for u in eku],
        public_key=cert.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _key_facts(data):
    """The public key of an unencrypted PEM private key. Raises an exception whose text says why it cannot be
    read (never the key's text)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(data, None)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return dict(public_key=public)


def _read(what, given, facts_of, out):
    """The facts of one file, or None after adding why it cannot be read to `out`."""
    text, error = given.get("text"), (given.get("error") or "").strip()
    if not text and error:
        out.append("%s %s cannot be read: %s" % (what, given.get("path") or "", error))
        return None
    try:
        return facts_of(text.encode("utf-8") if isinstance(text, str) else bytes(text or b""))
    except ImportError:  # no cryptography: the files are not to blame
        raise
    except Exception as exc:  # cryptography's ValueError, TypeError (encrypted key), UnsupportedAlgorithm, ...
        why = str(exc).strip() or type(exc).__name__
        out.append("%s %s cannot be read: %s" % (what, given.get("path") or "", why))
        return None


def tls_file_problems(ca, cert, key, need, now=None):
    """Why the CA certificate, the certificate and the key given for a member do not fit it: a list of messages,
    empty when they do.

    ca, cert, key: dict(path, text, error): `text` the file's content (str or bytes; None or empty when it could not
    be read, `error` then says why). need: the names the certificate must carry, e.g. ["IP:10.0.0.1",
    "IP:127.0.0.1"]. now: an aware datetime to judge expiry by (default: the current UTC time).

    In this order: each file that cannot be read or parsed; a CA certificate that is not a CA (else one without
    keyUsage keyCertSign); then, for a certificate read: not issued by the CA (subject/issuer, key identifiers),
    expired, missing names, an extendedKeyUsage without serverAuth or clientAuth, a key that is not its key.
    Raises ImportError without the Python library cryptography.
    """
    out = []
    paths = dict(ca=ca.get("path") or "", cert=cert.get("path") or "", key=key.get("path") or "")
    ca_f = _read("the CA certificate", ca, cert_facts, out)
    cert_f = _read("the certificate", cert, cert_facts, out)
    key_f = _read("the key", key, _key_facts, out)
    if ca_f is not None and not ca_f["ca"]:
        out.append("%s is not a CA certificate (no basicConstraints CA:TRUE)" % paths["ca"])
    elif ca_f is not None and not ca_f["key_cert_sign"]:
        # etcd takes such a CA; Python 3.13's TLS (VERIFY_X509_STRICT: the members' health checks) does not
        out.append("%s has no keyUsage extension with keyCertSign, which strict TLS clients such as Python 3.13 "
                   "(the health checks on the members) require of a CA" % paths["ca"])
    if cert_f is None:
        return out
    if ca_f is not None and (cert_f["issuer"] != ca_f["subject"]
                             or (cert_f["aki"] and ca_f["ski"] and cert_f["aki"] != ca_f["ski"])):
        # the issuer as Jinja's dictsort rendered it: sorted by name, ignoring case
        issuer = ", ".join("%s=%s" % kv for kv in sorted(cert_f["issuer"].items(), key=lambda kv: kv[0].lower()))
        out.append("the certificate %s was not issued by the CA %s (its issuer: %s)"
                   % (paths["cert"], paths["ca"], issuer))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    if cert_f["not_after"] < now:
        ended = cert_f["not_after"].astimezone(datetime.timezone.utc).strftime(_TIMESTAMP)
        out.append("the certificate %s expired at %s" % (paths["cert"], ended))
    missing = [name for name in need or () if name not in cert_f["names"]]
    if missing:
        out.append("the certificate %s does not name %s (its names: %s)" % (
            paths["cert"], " and ".join(missing), ", ".join(cert_f["names"]) or "none"))
    eku = cert_f["eku"]
    if eku is not None and (_SERVER_AUTH not in eku or _CLIENT_AUTH not in eku):
        out.append("the certificate %s does not allow both serverAuth and clientAuth (a member serves clients and "
                   "peers and is a client of its peers)" % paths["cert"])
    if key_f is not None and key_f["public_key"] != cert_f["public_key"]:
        out.append("the key %s is not the key of the certificate %s" % (paths["key"], paths["cert"]))
    return out
