"""diag.certs: certificates in every pasted shape, described field by field.

Keys and certificates are generated here at test time; expected fingerprints are computed independently with
hashlib on the DER that ``cryptography`` serialises.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from ssodiag.diag import certs
from ssodiag.diag.certs import (
    certificate_from_base64, describe, is_certificate_bytes, load_certificates, matches_fingerprint,
    normalise_fingerprint,
)
from ssodiag.diag.errors import InputError

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def make_cert(common_name: str = "idp.example.com", *, key=None, hash_alg=hashes.SHA256(), serial: int = 0x1F2E3D,
              not_before: datetime | None = None, days: int = 365) -> x509.Certificate:
    """A self-signed certificate; RSA-2048 unless ``key`` is given."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc.")])
    start = not_before or NOW - timedelta(days=1)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial).not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .sign(key, hash_alg))


def der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def rsa_cert() -> x509.Certificate:
    return make_cert()


@pytest.fixture(scope="module")
def other_cert() -> x509.Certificate:
    return make_cert("other.example.com", serial=7)


# --------------------------------------------------------------------------- describe


def test_describe_rsa_2048_fields(rsa_cert):
    # given a generated RSA-2048 / SHA-256 certificate
    der = der_of(rsa_cert)
    # when
    cert = load_certificates(pem_of(rsa_cert), "idp.pem")[0]
    # then every field matches what was put in, fingerprints computed independently
    assert cert.subject == "O=Example\\, Inc.,CN=idp.example.com"  # RFC 4514 order and escaping
    assert cert.issuer == cert.subject
    assert cert.serial == "1F2E3D"
    assert cert.not_before == NOW - timedelta(days=1)
    assert cert.not_after == NOW + timedelta(days=364)
    assert cert.not_before.utcoffset() == timedelta(0)
    assert (cert.key_type, cert.key_bits) == ("RSA", 2048)
    assert cert.signature_algorithm == "sha256WithRSAEncryption"
    assert cert.sha1 == hashlib.sha1(der).hexdigest().upper()
    assert cert.sha256 == hashlib.sha256(der).hexdigest().upper()
    assert cert.der == der
    assert cert.source == "idp.pem"


def test_rsa_1024_key_size_and_sha512():
    # given a weak key (what old ADFS / Shibboleth setups still ship); this OpenSSL refuses to sign with SHA-1
    weak = make_cert(key=rsa.generate_private_key(public_exponent=65537, key_size=1024), hash_alg=hashes.SHA512())
    # when
    cert = describe(weak, "weak")
    # then
    assert (cert.key_type, cert.key_bits) == ("RSA", 1024)
    assert cert.signature_algorithm == "sha512WithRSAEncryption"


def test_ec_certificate():
    cert = describe(make_cert(key=ec.generate_private_key(ec.SECP384R1()), hash_alg=hashes.SHA384()), "ec")
    assert (cert.key_type, cert.key_bits) == ("EC", 384)
    assert cert.signature_algorithm == "ecdsa-with-SHA384"


def test_ed25519_certificate():
    cert = describe(make_cert(key=ed25519.Ed25519PrivateKey.generate(), hash_alg=None), "ed")
    assert (cert.key_type, cert.key_bits) == ("Ed25519", 256)
    assert cert.signature_algorithm == "ed25519"


def test_expired_certificate_keeps_its_dates():
    expired = make_cert(not_before=NOW - timedelta(days=400), days=30)
    cert = describe(expired, "old")
    assert cert.not_after == NOW - timedelta(days=370)
    assert cert.not_after < datetime.now(timezone.utc)


def test_unknown_signature_oid_falls_back_to_dotted_string(rsa_cert, monkeypatch):
    # given cryptography has no name for the algorithm OID (a private-enterprise arc)
    unknown = x509.ObjectIdentifier("1.3.6.1.4.1.99999.1.2")
    monkeypatch.setattr(type(rsa_cert), "signature_algorithm_oid", property(lambda self: unknown), raising=False)
    # then the dotted OID is shown rather than "Unknown OID"
    assert describe(rsa_cert, "x").signature_algorithm == "1.3.6.1.4.1.99999.1.2"


def test_unsupported_public_key_names_the_algorithm(rsa_cert, monkeypatch):
    # given a key type cryptography cannot load (GOST, SM2 in the wild)
    def refuse(self):
        raise UnsupportedAlgorithm("unknown key")
    monkeypatch.setattr(type(rsa_cert), "public_key", refuse)
    # then the certificate is still described, with the key algorithm's name and no size
    cert = describe(rsa_cert, "x")
    assert (cert.key_type, cert.key_bits) == ("rsaEncryption", None)
    assert cert.sha256 == hashlib.sha256(der_of(rsa_cert)).hexdigest().upper()


# --------------------------------------------------------------------------- input shapes


def test_pem_bundle_with_crlf_and_leading_junk(rsa_cert, other_cert):
    # given what `openssl pkcs12 -nokeys` writes: "Bag Attributes" lines, CRLF line ends, two certificates
    bundle = (b"\xef\xbb\xbfBag Attributes\r\n    friendlyName: idp\r\nsubject=/CN=idp.example.com\r\n"
              + pem_of(rsa_cert).replace(b"\n", b"\r\n") + b"\r\n\r\n" + pem_of(other_cert).replace(b"\n", b"\r\n"))
    # when
    loaded = load_certificates(bundle, "bundle.pem")
    # then both, in file order, each with a source that tells them apart
    assert [c.sha256 for c in loaded] == [hashlib.sha256(der_of(c)).hexdigest().upper() for c in (rsa_cert, other_cert)]
    assert [c.source for c in loaded] == ["bundle.pem #1", "bundle.pem #2"]


def test_legacy_x509_certificate_label(rsa_cert):
    pem = pem_of(rsa_cert).replace(b"BEGIN CERTIFICATE", b"BEGIN X509 CERTIFICATE").replace(
        b"END CERTIFICATE", b"END X509 CERTIFICATE")
    assert load_certificates(pem, "x")[0].der == der_of(rsa_cert)


def test_der(rsa_cert):
    assert load_certificates(der_of(rsa_cert), "idp.cer")[0].der == der_of(rsa_cert)


@pytest.mark.parametrize("encoding", [serialization.Encoding.PEM, serialization.Encoding.DER])
def test_pkcs7_bundle(rsa_cert, other_cert, encoding):
    # the .p7b that ADFS / Windows certificate export offers
    p7b = pkcs7.serialize_certificates([rsa_cert, other_cert], encoding)
    loaded = load_certificates(p7b, "idp.p7b")
    assert {c.der for c in loaded} == {der_of(rsa_cert), der_of(other_cert)}
    assert is_certificate_bytes(p7b)


@pytest.mark.parametrize("shape", ["one-line", "wrapped-64", "wrapped-76-crlf", "json-escaped", "indented"])
def test_bare_base64_shapes(rsa_cert, shape):
    body = base64.b64encode(der_of(rsa_cert)).decode()
    text = {
        "one-line": body,
        "wrapped-64": "\n".join(body[i:i + 64] for i in range(0, len(body), 64)),
        "wrapped-76-crlf": "\r\n".join(body[i:i + 76] for i in range(0, len(body), 76)),
        "json-escaped": "\\n".join(body[i:i + 64] for i in range(0, len(body), 64)),  # "MIIC...\nAbc..." in JSON
        "indented": "\n\t  " + "\n\t  ".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n",
    }[shape]
    assert load_certificates(text.encode(), "pasted")[0].der == der_of(rsa_cert)
    assert certificate_from_base64(text, "X509Certificate").der == der_of(rsa_cert)


def test_certificate_from_base64_accepts_pem_headers(rsa_cert):
    # some IdP consoles paste the PEM headers into the metadata element too
    assert certificate_from_base64(pem_of(rsa_cert).decode(), "md").der == der_of(rsa_cert)


def test_certificate_from_base64_refuses_a_bundle(rsa_cert, other_cert):
    with pytest.raises(InputError, match="expected one certificate, found 2"):
        certificate_from_base64((pem_of(rsa_cert) + pem_of(other_cert)).decode(), "md")


# --------------------------------------------------------------------------- bad input


def _key_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.mark.parametrize("data, reason", [
    (b"", "the input is empty"),
    (b"   \r\n\t", "the input is empty"),
    (b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>", "neither PEM, DER nor base64"),
    (b"\x00\xff\xfe junk \x01", "neither PEM, DER nor base64"),
    (b"\x30\x82\x01\x00" + b"\x00" * 20, "DER does not parse"),
    (base64.b64encode(b"<samlp:Response/>"), "DER does not parse"),
    (b"-----BEGIN CERTIFICATE-----\nM@@@\n-----END CERTIFICATE-----\n", "bad base64"),
    (b"-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n", "DER does not parse"),
])
def test_not_a_certificate_is_a_one_line_input_error(data, reason):
    with pytest.raises(InputError) as info:
        load_certificates(data, "evidence.txt")
    message = str(info.value)
    assert message.startswith("evidence.txt: not an X.509 certificate: ")
    assert reason in message
    assert "\n" not in message


def test_private_key_pem_is_named():
    with pytest.raises(InputError, match="found a PEM 'PRIVATE KEY' block, not a CERTIFICATE"):
        load_certificates(_key_pem(), "sp.key")


def test_truncated_pem_says_so(rsa_cert):
    truncated = pem_of(rsa_cert)[:300]
    with pytest.raises(InputError, match="the PEM CERTIFICATE block has no END line"):
        load_certificates(truncated, "cut.pem")


def test_oversized_input_is_refused_before_parsing(monkeypatch, rsa_cert):
    monkeypatch.setattr(certs, "MAX_FILE_BYTES", 100)
    with pytest.raises(InputError, match="over the 100-byte limit"):
        load_certificates(pem_of(rsa_cert), "big.pem")


# --------------------------------------------------------------------------- fingerprints


@pytest.fixture(scope="module")
def described(rsa_cert):
    return describe(rsa_cert, "idp.pem")


def _colons(hex_text: str) -> str:
    return ":".join(hex_text[i:i + 2] for i in range(0, len(hex_text), 2))


@pytest.mark.parametrize("alg", ["sha1", "sha256"])
@pytest.mark.parametrize("form", ["plain", "lower-colons", "spaces", "prefix-colon", "prefix-equals", "openssl"])
def test_normalise_fingerprint_forms(described, alg, form):
    expected = getattr(described, alg)
    label = "SHA1" if alg == "sha1" else "SHA256"
    text = {
        "plain": expected,
        "lower-colons": _colons(expected).lower(),
        "spaces": " ".join(expected[i:i + 2] for i in range(0, len(expected), 2)).lower(),
        "prefix-colon": f"{label}:{_colons(expected)}",
        "prefix-equals": f"{alg}={expected.lower()}",
        "openssl": f"{alg} Fingerprint={_colons(expected)}",  # `openssl x509 -noout -fingerprint -sha256`
    }[form]
    assert normalise_fingerprint(text) == expected
    assert matches_fingerprint(described, text)


@pytest.mark.parametrize("text, reason", [
    ("AB:CD", "has 4 hex digits, expected 40 (SHA-1) or 64 (SHA-256)"),
    ("ZZ" * 20, "is not hexadecimal"),
    ("", "is not hexadecimal"),
    ("sha256=" + "AB" * 20, "has 40 hex digits, a SHA256 fingerprint has 64"),
    ("SHA1:" + "AB" * 32, "has 64 hex digits, a SHA1 fingerprint has 40"),
])
def test_bad_fingerprint_is_input_error(text, reason):
    with pytest.raises(InputError) as info:
        normalise_fingerprint(text)
    assert reason in str(info.value)


def test_fingerprint_of_another_certificate_does_not_match(described, other_cert):
    other = describe(other_cert, "other")
    assert not matches_fingerprint(described, other.sha1)
    assert not matches_fingerprint(described, other.sha256)
    # a SHA-1 value that happens to equal the first 40 digits of the SHA-256 must not match either
    assert not matches_fingerprint(described, described.sha256[:40])


# --------------------------------------------------------------------------- sniffing


def test_is_certificate_bytes(rsa_cert):
    body = base64.b64encode(der_of(rsa_cert))
    assert is_certificate_bytes(pem_of(rsa_cert))
    assert is_certificate_bytes(b"subject=CN=x\n" + pem_of(rsa_cert))
    assert is_certificate_bytes(der_of(rsa_cert))
    assert is_certificate_bytes(body)
    assert not is_certificate_bytes(base64.b64encode(b'<samlp:Response xmlns:samlp="x"/>'))
    assert not is_certificate_bytes(b"<?xml version='1.0'?><md:EntityDescriptor/>")
    assert not is_certificate_bytes(b"\x30\x82\x05\x00garbage")
    assert not is_certificate_bytes(b"MI" + b"A" * 50)  # looks like base64 DER, is not a certificate
    assert not is_certificate_bytes(_key_pem())


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_corrupted_certificate_gives_certificates_or_an_input_error(rsa_cert, data):
    # a damaged paste (bytes overwritten in DER, PEM or base64) never produces a traceback
    shape = data.draw(st.sampled_from([der_of(rsa_cert), pem_of(rsa_cert), base64.b64encode(der_of(rsa_cert))]))
    raw = bytearray(shape)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        raw[data.draw(st.integers(min_value=0, max_value=len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        loaded = load_certificates(bytes(raw), "damaged")
    except InputError as exc:
        assert str(exc).startswith("damaged: not an X.509 certificate: ") and "\n" not in str(exc)
    else:
        assert all(len(c.sha256) == 64 for c in loaded)
    assert is_certificate_bytes(bytes(raw)) in (True, False)
