"""X.509 certificates: read them in every shape a support engineer pastes, and describe them.

All parsing is done by ``cryptography``; this module only finds the DER bytes (PEM blocks, bare or wrapped
base64, raw DER, PKCS#7 bundles) and never interprets ASN.1 itself.
"""
from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import re
import warnings
from functools import lru_cache
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning

from ssodiag.diag.errors import InputError
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.text import error_text
from ssodiag.diag.limits import MAX_BASE64_CHARS, MAX_FILE_BYTES
from ssodiag.diag.model import Certificate

# RFC 7468 §2: the label may be preceded by explanatory text ("Bag Attributes", "subject=..."), so search, not match.
# "X509 CERTIFICATE" is the legacy label RFC 7468 §5.3 says parsers should accept.
_PEM_CERT = re.compile(
    rb"-----BEGIN (X509 )?CERTIFICATE-----(?P<body>[^-]*)-----END (X509 )?CERTIFICATE-----"
)
_PEM_ANY_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_PEM_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE"}
# ADFS and Windows certificate export offer PKCS#7 (.p7b) beside .cer (RFC 2315 certs-only SignedData)
_PEM_PKCS7_LABELS = {"PKCS7", "CMS"}
_BASE64_BODY = re.compile(rb"[A-Za-z0-9+/=\s]+")
# JSON and YAML configs (Okta / Entra API exports) carry certificates with literal "\n" escapes in them.
_ESCAPED_NEWLINE = re.compile(rb"\\[rn]")
_UTF8_BOM = b"\xef\xbb\xbf"
# what cryptography raises for DER it cannot read: ValueError, or InvalidVersion (an Exception) for a bad version
_DER_ERRORS = (ValueError, x509.InvalidVersion)

_FINGERPRINT_PREFIX = LazyRegex(r"^(?P<alg>sha-?(?:1|256))\s*(?:fingerprint)?\s*[:=]\s*", re.IGNORECASE)
_FINGERPRINT_SEPARATORS = LazyRegex(r"[:\s]")
_HEX = LazyRegex(r"[0-9A-F]+")
_FINGERPRINT_LENGTHS = {"SHA1": 40, "SHA256": 64}


def load_certificates(data: bytes, source: str) -> tuple[Certificate, ...]:
    """Every certificate in a PEM file or bundle, a DER file, a PKCS#7 (.p7b) bundle, or bare base64 of DER."""
    with warnings.catch_warnings():
        # cryptography warns (to stderr) about legal-but-odd input such as a negative serial or BER PKCS#7;
        # the certificate is still read and described, and the warning would only garble the CLI output
        warnings.simplefilter("ignore")
        return _load_certificates(data, source)


def _load_certificates(data: bytes, source: str) -> tuple[Certificate, ...]:
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"not an X.509 certificate: {len(data)} bytes is over the {MAX_FILE_BYTES}-byte limit",
                         source)
    text = _ESCAPED_NEWLINE.sub(b"\n", data.removeprefix(_UTF8_BOM)).strip()
    if not text:
        raise InputError("not an X.509 certificate: the input is empty", source)

    blocks = [m.group("body") for m in _PEM_CERT.finditer(text)]
    if blocks:
        return _describe_all([_load_der(_decode_base64(body, source), source) for body in blocks], source)
    other_label = _PEM_ANY_LABEL.search(text)
    if other_label:
        label = other_label.group(1).decode("ascii")
        if label in _PEM_PKCS7_LABELS:
            return _describe_all(_load_pem_pkcs7(text, source), source)
        if label in _PEM_CERT_LABELS:
            raise InputError(f"not an X.509 certificate: the PEM {label} block has no END line (truncated?)", source)
        raise InputError(f"not an X.509 certificate: found a PEM '{label}' block, not a CERTIFICATE", source)
    if text[:1] == b"\x30":  # an ASN.1 SEQUENCE: DER of a certificate or of a PKCS#7 bundle
        return _describe_all(_load_der_or_pkcs7(data, source), source)
    if _BASE64_BODY.fullmatch(text):
        return _describe_all(_load_der_or_pkcs7(_decode_base64(text, source), source), source)
    raise InputError("not an X.509 certificate: neither PEM, DER nor base64", source)


def certificate_from_base64(text: str, source: str) -> Certificate:
    """A certificate from the base64 text of ds:X509Certificate or a metadata file (whitespace anywhere)."""
    if len(text) > MAX_BASE64_CHARS:
        raise InputError(f"not an X.509 certificate: {len(text)} characters of base64 is over the limit", source)
    certs = load_certificates(text.encode("utf-8", "replace"), source)
    if len(certs) != 1:
        raise InputError(f"not an X.509 certificate: expected one certificate, found {len(certs)}", source)
    return certs[0]


def x509_certificate(cert: Certificate) -> x509.Certificate:
    """The cryptography object of a described certificate, loaded once, without the warning cryptography prints for
    a serial number that is not positive (RFC 5280 §4.1.2.2): that is reported as a finding, never on stderr."""
    return _x509_from_der(cert.der)


@lru_cache(maxsize=64)
def _x509_from_der(der: bytes) -> x509.Certificate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


def serial_is_positive(cert: Certificate) -> bool:
    """RFC 5280 §4.1.2.2: the serial number MUST be a positive integer (``serial`` is its hex form)."""
    return not cert.serial.startswith("-") and cert.serial.strip("0") != ""


def describe(cert: x509.Certificate, source: str) -> Certificate:
    """The fields a support engineer compares: names, validity, key, algorithm, fingerprints."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in load_certificates: serial_number warns when it is not positive
        return _describe(cert, source)


def _describe(cert: x509.Certificate, source: str) -> Certificate:
    try:
        der = cert.public_bytes(Encoding.DER)
        key_type, key_bits = _key_summary(cert)
        return Certificate(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "X"),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            key_type=key_type,
            key_bits=key_bits,
            signature_algorithm=_oid_name(cert.signature_algorithm_oid),
            sha1=hashlib.sha1(der).hexdigest().upper(),
            sha256=hashlib.sha256(der).hexdigest().upper(),
            source=source,
            der=der,
        )
    # cryptography decodes fields lazily, and hostile DER fails here with assorted types (ValueError, and KeyError
    # from rfc4514_string on an unknown string tag, found by the fuzz test): any of them means an unreadable cert
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"not an X.509 certificate: {type(exc).__name__} {error_text(exc)}", source) from None


def normalise_fingerprint(text: str) -> str:
    """``AB:CD:..``, ``ab cd ..``, ``abcd..``, with an optional ``SHA1:`` / ``sha256=`` prefix -> upper-case hex.

    Accepts what ``openssl x509 -fingerprint`` prints (``sha256 Fingerprint=AB:..``) and what IdP consoles show.
    """
    value = text.strip()
    declared = None
    prefix = _FINGERPRINT_PREFIX.match(value)
    if prefix:
        declared = prefix.group("alg").upper().replace("-", "")
        value = value[prefix.end():]
    hex_digits = _FINGERPRINT_SEPARATORS.sub("", value).upper()
    shown = text.strip()[:80]
    if not _HEX.fullmatch(hex_digits):
        raise InputError(f"fingerprint {shown!r} is not hexadecimal")
    if declared and len(hex_digits) != _FINGERPRINT_LENGTHS[declared]:
        raise InputError(f"fingerprint {shown!r} has {len(hex_digits)} hex digits, "
                         f"a {declared} fingerprint has {_FINGERPRINT_LENGTHS[declared]}")
    if len(hex_digits) not in _FINGERPRINT_LENGTHS.values():
        raise InputError(f"fingerprint {shown!r} has {len(hex_digits)} hex digits, "
                         "expected 40 (SHA-1) or 64 (SHA-256)")
    return hex_digits


def matches_fingerprint(cert: Certificate, fingerprint: str) -> bool:
    """Whether ``fingerprint`` (any form :func:`normalise_fingerprint` accepts) is this cert's SHA-1 or SHA-256.

    A malformed fingerprint raises :class:`InputError` rather than quietly not matching.
    """
    wanted = normalise_fingerprint(fingerprint)
    return wanted == (cert.sha1 if len(wanted) == 40 else cert.sha256)


def is_certificate_bytes(data: bytes) -> bool:
    """Cheap sniff for evidence auto-detection: a PEM certificate, DER, or base64 of DER ("MII..." for RSA certs)."""
    head = data[:4096].removeprefix(_UTF8_BOM).lstrip()
    if any(f"-----BEGIN {label}-----".encode() in head for label in _PEM_CERT_LABELS | _PEM_PKCS7_LABELS):
        return True
    # DER SEQUENCE with a long-form length, or its base64 ("MI"): anything else is not worth a full parse
    if not (head[:2] in (b"\x30\x82", b"\x30\x81") or head[:2] == b"MI"):
        return False
    try:
        load_certificates(data, "sniff")
    except InputError:
        return False
    return True


# --------------------------------------------------------------------------- helpers


def _decode_base64(body: bytes, source: str) -> bytes:
    compact = re.sub(rb"\s+", b"", body)
    if len(compact) > MAX_BASE64_CHARS:
        raise InputError("not an X.509 certificate: base64 body is over the size limit", source)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"not an X.509 certificate: bad base64 ({error_text(exc)})", source) from None


def _load_der(der: bytes, source: str) -> x509.Certificate:  # one PEM block: a certificate or an error
    try:
        return x509.load_der_x509_certificate(der)
    except _DER_ERRORS as exc:
        raise InputError(f"not an X.509 certificate: DER does not parse ({error_text(exc)})", source) from None


def _load_der_or_pkcs7(der: bytes, source: str) -> list[x509.Certificate]:
    try:
        return [x509.load_der_x509_certificate(der)]
    except _DER_ERRORS as exc:
        cert_error = exc
    from cryptography.hazmat.primitives.serialization import pkcs7  # see _load_pem_pkcs7

    try:
        found = pkcs7.load_der_pkcs7_certificates(der)
    except (*_DER_ERRORS, UnsupportedAlgorithm):
        found = []
    if found:
        return found
    # report the certificate's parse error: a certificate is what a .cer / DER file is meant to be
    raise InputError(f"not an X.509 certificate: DER does not parse ({error_text(cert_error)})", source)


def _load_pem_pkcs7(data: bytes, source: str) -> list[x509.Certificate]:
    # Imported for a bundle only: cryptography's pkcs7 module loads the email package (about 5 ms of every start).
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        found = pkcs7.load_pem_pkcs7_certificates(data)
    except (*_DER_ERRORS, UnsupportedAlgorithm) as exc:
        raise InputError(f"not an X.509 certificate: PKCS#7 does not parse ({error_text(exc)})", source) from None
    if not found:
        raise InputError("not an X.509 certificate: the PKCS#7 bundle holds no certificate", source)
    return found


def _describe_all(found: list[x509.Certificate], source: str) -> tuple[Certificate, ...]:
    return tuple(_describe(cert, _nth(source, i, len(found))) for i, cert in enumerate(found))


def _key_summary(cert: x509.Certificate) -> tuple[str, int | None]:
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):  # e.g. GOST keys: name the algorithm, the cert is still shown
        return _oid_name(cert.public_key_algorithm_oid), None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, None


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", "")
    return name if name and name != "Unknown OID" else oid.dotted_string


def _nth(source: str, index: int, total: int) -> str:
    return source if total == 1 else f"{source} #{index + 1}"


# --------------------------------------------------------------------------- judgements shared by checks

EXPIRY_WARNING = timedelta(days=30)  # rotate before this: Atlan needs the new certificate uploaded in time
MIN_KEY_BITS = 2048  # NIST SP 800-131A: RSA and DSA below 2048 bits are disallowed for signatures


class Validity(str, enum.Enum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid, but within EXPIRY_WARNING of notAfter
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"


def validity_at(cert: Certificate, instant: datetime) -> Validity:
    """The certificate's state at ``instant`` (RFC 5280 §4.1.2.5 notBefore/notAfter)."""
    if instant >= cert.not_after:
        return Validity.EXPIRED
    if instant < cert.not_before:
        return Validity.NOT_YET_VALID
    if cert.not_after - instant < EXPIRY_WARNING:
        return Validity.EXPIRING
    return Validity.VALID


def key_too_short(cert: Certificate) -> bool:
    return cert.key_type in ("RSA", "DSA") and cert.key_bits is not None and cert.key_bits < MIN_KEY_BITS
