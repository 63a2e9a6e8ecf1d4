"""The trust engine (diag.signature) and the SIG checks, on fixtures the test IdP signs at test time."""
from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ssodiag.diag.certs import load_certificates, x509_certificate
from ssodiag.diag.metadata import parse_metadata
from ssodiag.diag.model import (
    Certificate, Evidence, Expectations, Finding, RedirectSignature, SamlMessage, SignatureVerdict, Status,
)
from ssodiag.diag.runner import analyze
from ssodiag.diag.saml import parse_message
from ssodiag.diag.signature import is_sha1, verify_message
from ssodiag.diag.xmldsig import verify_with_libxmlsec
from ssodiag.diag.xmlparse import NS
from tests.idp import TestIdP, sp_keypair, utc_now

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"

IDP = TestIdP()
ATTACKER = TestIdP(key_name="attacker", common_name="attacker.example.test")


def cert_of(idp: TestIdP) -> Certificate:
    return load_certificates(idp.cert_pem.encode(), "idp.pem")[0]


def message(xml: bytes, **kw) -> SamlMessage:
    return parse_message(xml, source="test.xml", **kw)


def verify(xml: bytes, trusted: tuple[Certificate, ...] = (), fingerprints: tuple[str, ...] = (), **kw):
    return verify_message(message(xml, **kw), trusted, fingerprints)


def run(xml: bytes | SamlMessage, check_id: str, **expect) -> list[Finding]:
    """The real pipeline (runner.prepare verifies/decrypts, then the check runs); the findings of one check."""
    msg = xml if isinstance(xml, SamlMessage) else message(xml)
    result = analyze(Evidence(messages=(msg,)), Expectations(**expect))
    return [f for f in result.findings if f.check_id == check_id]


def trusting(*idps: TestIdP) -> dict:
    return {"idp_certificates": tuple(cert_of(i) for i in idps)}


def statuses(findings: list[Finding]) -> list[Status]:
    return [f.status for f in findings]


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize("what,elements", [("assertion", ["Assertion"]), ("response", ["Response"]),
                                           ("both", ["Response", "Assertion"])])
def test_signed_response_verifies_and_covers_the_consumed_assertion(what, elements):
    report = verify(IDP.signed_response(what=what), (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.VALID
    assert [e.element for e in report.signed_elements] == elements
    assert all(e.verified for e in report.signed_elements)
    assert any(e.covers_consumed_data for e in report.signed_elements)
    assert report.algorithm == RSA_SHA256
    assert report.signing_certificate.sha256 == cert_of(IDP).sha256
    assert report.rules_broken == ()


def test_unsigned_response_is_absent():
    report = verify(IDP.response(), (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.ABSENT
    assert report.signed_elements == ()


def test_content_changed_after_signing_is_invalid():
    signed = IDP.signed_response(name_id="alice@example.test")
    tampered = signed.replace(b">alice@example.test</saml:NameID>", b">mallory@example.test</saml:NameID>")
    assert tampered != signed
    report = verify(tampered, (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.INVALID
    assert "digest" in report.reason
    assert not any(e.verified for e in report.signed_elements)


def test_signature_stripping_leaves_nothing_signed():
    signed = IDP.signed_response()
    start, end = signed.index(b"<ds:Signature"), signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    stripped = signed[:start] + signed[end:]
    assert verify(stripped, (cert_of(IDP),)).verdict is SignatureVerdict.ABSENT
    [finding] = run(stripped, "SIG001", **trusting(IDP))
    assert finding.status is Status.FAIL and finding.seen == "no signature"


def test_certificate_faking_with_attacker_keyinfo_is_untrusted_naming_the_embedded_cert():
    # the attacker re-signs with its own key and ships its own certificate in KeyInfo
    report = verify(ATTACKER.signed_response(), (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.UNTRUSTED
    assert [c.sha256 for c in report.embedded_certificates] == [cert_of(ATTACKER).sha256]
    assert cert_of(ATTACKER).sha256 in report.reason and "rotated" in report.reason
    assert report.signing_certificate is None
    assert not any(e.verified for e in report.signed_elements)


def test_attacker_signature_with_the_genuine_cert_in_keyinfo_is_invalid():
    # the attacker signs with its own key but ships the genuine IdP certificate in KeyInfo
    signed = ATTACKER.signed_response()
    start = signed.index(b"<ds:X509Certificate>") + len(b"<ds:X509Certificate>")
    end = signed.index(b"</ds:X509Certificate>")
    faked = signed[:start] + IDP.cert_b64.encode() + signed[end:]
    report = verify(faked, (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.INVALID
    assert report.signing_certificate is None


def test_without_trust_an_intact_signature_is_untrusted_and_a_broken_one_invalid():
    report = verify(IDP.signed_response())
    assert report.verdict is SignatureVerdict.UNTRUSTED
    assert "no IdP certificate" in report.reason and "--idp-cert" in report.reason
    assert "intact" in report.reason
    broken = IDP.signed_response().replace(b"Liddell", b"Lyddell")
    assert verify(broken).verdict is SignatureVerdict.INVALID


@pytest.mark.parametrize("which", ["sha256", "sha1"])
def test_fingerprint_trust_accepts_the_matching_keyinfo_cert_only(which):
    fingerprint = getattr(cert_of(IDP), which)
    assert verify(IDP.signed_response(), (), (fingerprint,)).verdict is SignatureVerdict.VALID
    assert verify(ATTACKER.signed_response(), (), (fingerprint,)).verdict is SignatureVerdict.UNTRUSTED


def test_rollover_any_trusted_certificate_verifying_is_enough():
    old, new = TestIdP(key_name="old"), TestIdP(key_name="new")
    report = verify(new.signed_response(), (cert_of(old), cert_of(new)))
    assert report.verdict is SignatureVerdict.VALID
    assert report.signing_certificate.sha256 == cert_of(new).sha256
    assert verify(new.signed_response(), (cert_of(old),)).verdict is SignatureVerdict.UNTRUSTED


def test_sha1_is_verified_and_reported():
    report = verify(IDP.sign(IDP.response(), algorithm="rsa-sha1", digest="sha1"), (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.VALID
    assert report.algorithm == RSA_SHA1 and report.digest_algorithm == SHA1
    assert is_sha1(report.algorithm) and is_sha1(report.digest_algorithm) and not is_sha1(RSA_SHA256)


@pytest.mark.parametrize("old,new", [
    (b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha1"),
    (b"http://www.w3.org/2001/04/xmlenc#sha256", b"http://www.w3.org/2001/04/xmlenc#sha384"),
])
def test_non_standard_algorithm_uri_is_unsupported_naming_it(old, new):
    report = verify(IDP.signed_response().replace(old, new), (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.UNSUPPORTED
    assert new.decode() in report.reason


def test_comment_injected_name_id_verifies_and_is_read_whole():
    # CVE-2017-11427: the attacker owns alice@example.test.evil.com, and splits it with a comment after signing
    signed = IDP.signed_response(name_id="alice@example.test.evil.com")
    injected = signed.replace(b">alice@example.test.evil.com<", b">alice@example.test<!---->.evil.com<")
    assert injected != signed
    msg = message(injected)
    report = verify_message(msg, (cert_of(IDP),), ())
    assert report.verdict is SignatureVerdict.VALID  # comments are outside C14N: the signature is genuinely intact
    assert report.signed_elements[0].covers_consumed_data
    assert msg.assertions[0].name_id.value == "alice@example.test.evil.com"  # never the truncated alice@example.test


SIGNED_FOR_MUTATION = IDP.signed_response(name_id="alice@example.test")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0, max_value=len("alice@example.test") - 1),
       replacement=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="<>&\"'"))
def test_any_one_character_change_in_the_signed_name_id_is_never_valid(position, replacement):
    value = "alice@example.test"
    if value[position] == replacement:
        return
    changed = value[:position] + replacement + value[position + 1:]
    doc = SIGNED_FOR_MUTATION.replace(f">{value}<".encode(), f">{changed}<".encode())
    assert verify(doc, (cert_of(IDP),)).verdict is SignatureVerdict.INVALID


def test_signed_authn_request_is_verified_like_a_response():
    signed = IDP.sign_request(IDP.authn_request())
    report = verify(signed, (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.VALID and report.signed_elements[0].element == "AuthnRequest"
    tampered = signed.replace(b"https://sp.example.test/acs", b"https://evil.example.test/acs")
    assert verify(tampered, (cert_of(IDP),)).verdict is SignatureVerdict.INVALID


def _redirect(idp: TestIdP, *, alg: str = RSA_SHA256, tamper: bool = False) -> SamlMessage:
    query = f"SAMLRequest={quote('fZBBT8MwDIX')}&RelayState=abc&SigAlg={quote(alg, safe='')}"
    signature = idp.key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
    signed = query.replace("abc", "abd") if tamper else query
    return message(IDP.authn_request(), binding="redirect", redirect_signature=RedirectSignature(
        sig_alg=alg, signature=base64.b64encode(signature).decode(), signed_query=signed))


def test_redirect_binding_query_signature():
    trusted = (cert_of(IDP),)
    assert verify_message(_redirect(IDP), trusted, ()).verdict is SignatureVerdict.VALID
    assert verify_message(_redirect(IDP, tamper=True), trusted, ()).verdict is SignatureVerdict.INVALID
    assert verify_message(_redirect(ATTACKER), trusted, ()).verdict is SignatureVerdict.INVALID
    unsupported = verify_message(_redirect(IDP, alg="urn:example:made-up"), trusted, ())
    assert unsupported.verdict is SignatureVerdict.UNSUPPORTED and "made-up" in unsupported.reason
    assert verify_message(_redirect(IDP), (), ()).verdict is SignatureVerdict.UNTRUSTED


def test_encrypted_assertion_without_key_is_not_checked():
    _key, sp_cert = sp_keypair()
    encrypted = IDP.encrypt_assertion(IDP.signed_response(), sp_cert)
    report = verify(encrypted, (cert_of(IDP),))
    assert report.verdict is SignatureVerdict.NOT_CHECKED and "--sp-key" in report.reason


def _hostile_variants() -> dict[str, bytes]:
    signed = IDP.signed_response()
    value_start = signed.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>")
    many_refs = signed.replace(b"</ds:SignedInfo>", b'<ds:Reference URI="#x"/>' * 200 + b"</ds:SignedInfo>")
    return {
        "signature value not base64": signed[:value_start] + b"%%%" + signed[value_start + 3:],
        "no SignedInfo": signed.replace(b"ds:SignedInfo", b"ds:SignedInfoX"),
        "200 references": many_refs,
        "40 signatures": signed.replace(b"</samlp:Response>",
                                        signed[signed.index(b"<ds:Signature"):signed.index(b"</ds:Signature>")
                                               + 15] * 40 + b"</samlp:Response>"),
        "xpath transform": signed.replace(b'<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
                                          b'<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">'
                                          b'<ds:XPath>1</ds:XPath></ds:Transform>'),
        "quote in reference": signed.replace(b'URI="#', b'URI="#\''),
    }


@pytest.mark.parametrize("name", list(_hostile_variants()))
def test_hostile_signature_never_raises_and_never_validates(name):
    report = verify(_hostile_variants()[name], (cert_of(IDP),))
    assert report.verdict in (SignatureVerdict.INVALID, SignatureVerdict.WRAPPING, SignatureVerdict.UNSUPPORTED)
    assert len(report.reason) < 2000


def test_libxmlsec1_judges_with_the_certificate_key_even_one_cryptography_cannot_read(monkeypatch):
    # given a Response signed by an IdP, a second certificate for the same key, and an attacker's certificate
    signed = message(IDP.signed_response())
    signature = signed.root.find("saml:Assertion/ds:Signature", NS)
    reissued = cert_of(TestIdP(common_name="reissued.example.test"))
    # then libxmlsec1 accepts it with the signer's key, whichever certificate carries it, and refuses another key
    assert verify_with_libxmlsec(signature, cert_of(IDP)).accepted
    assert not verify_with_libxmlsec(signature, cert_of(ATTACKER)).accepted
    # and when cryptography cannot read a certificate's key (GOST, SM2 in the wild), libxmlsec1 is given the
    # certificate itself, and judges it as it would any other
    def refuse(self):
        raise UnsupportedAlgorithm("unknown key")
    monkeypatch.setattr(type(x509_certificate(reissued)), "public_key", refuse)
    assert verify_with_libxmlsec(signature, reissued).accepted


def test_garbled_keyinfo_certificate_is_ignored_not_trusted():
    signed = IDP.signed_response()
    start = signed.index(b"<ds:X509Certificate>") + len(b"<ds:X509Certificate>")
    garbled = signed[:start] + b"AAAA" + signed[signed.index(b"</ds:X509Certificate>"):]
    # the configured certificate is all that counts ...
    assert verify(garbled, (cert_of(IDP),)).verdict is SignatureVerdict.VALID
    # ... and without one there is nothing to verify with: never valid
    report = verify(garbled)
    assert report.verdict is SignatureVerdict.UNTRUSTED and report.embedded_certificates == ()


def test_unparsable_raw_xml_is_invalid_not_a_crash():
    msg = SamlMessage(kind=message(IDP.response()).kind, source="x", binding="raw", encoding_layers=(),
                      raw_xml=b"<samlp:Response", root=None)
    report = verify_message(msg, (), ())
    assert report.verdict is SignatureVerdict.INVALID and "not XML" in report.reason


# --------------------------------------------------------------------------- the SIG checks, pass and fail


def test_sig001_signed_passes_unsigned_fails():
    assert statuses(run(IDP.signed_response(), "SIG001", **trusting(IDP))) == [Status.PASS]
    [fail] = run(IDP.response(), "SIG001", **trusting(IDP))
    assert fail.status is Status.FAIL and fail.seen == "no signature"


def test_sig002_intact_passes_tampered_fails():
    assert statuses(run(IDP.signed_response(), "SIG002", **trusting(IDP))) == [Status.PASS]
    [fail] = run(IDP.signed_response().replace(b"Liddell", b"Lyddell"), "SIG002", **trusting(IDP))
    assert fail.status is Status.FAIL and "digest" in fail.message
    assert statuses(run(IDP.response(), "SIG002", **trusting(IDP))) == [Status.SKIP]


def test_sig002_skips_when_there_is_no_key_to_verify_with():
    # an HTTP-Redirect signature carries no certificate: without the signer's cert nothing can verify it.
    # The message is an AuthnRequest, so the signer is the SP: its cert comes from --sp-cert, not --idp-cert.
    [skip] = run(_redirect(IDP), "SIG002")
    assert skip.status is Status.SKIP and "no certificate is configured" in skip.message
    sp_trust = {"sp_certificates": (cert_of(IDP),)}
    assert statuses(run(_redirect(IDP), "SIG002", **sp_trust)) == [Status.PASS]
    assert statuses(run(_redirect(ATTACKER), "SIG002", **sp_trust)) == [Status.FAIL]
    assert statuses(run(_redirect(IDP), "SIG002", **trusting(IDP))) == [Status.SKIP]  # IdP trust is not SP trust


def test_sig004_rotated_certificate_fails_showing_both_certificates():
    new = TestIdP(key_name="rotated", common_name="new-idp.example.test")
    [fail] = run(new.signed_response(), "SIG004", **trusting(IDP))
    assert fail.status is Status.FAIL
    assert cert_of(new).sha256 in fail.seen and "new-idp.example.test" in fail.message
    assert cert_of(IDP).sha256 in fail.expected
    [ok] = run(IDP.signed_response(), "SIG004", **trusting(IDP))
    assert ok.status is Status.PASS and cert_of(IDP).sha256 in ok.message


def test_sig004_without_trust_is_a_skip_naming_the_options():
    [skip] = run(IDP.signed_response(), "SIG004")
    assert skip.status is Status.SKIP and "--idp-cert" in skip.message


def test_sig005_unsupported_algorithm_fails():
    odd = IDP.signed_response().replace(b"xmlenc#sha256", b"xmlenc#sha384")
    [fail] = run(odd, "SIG005", **trusting(IDP))
    assert fail.status is Status.FAIL and fail.seen == "http://www.w3.org/2001/04/xmlenc#sha384"
    assert statuses(run(IDP.signed_response(), "SIG005", **trusting(IDP))) == [Status.PASS]


def test_sig006_sha1_fails_even_though_the_signature_is_valid():
    sha1 = IDP.sign(IDP.response(), algorithm="rsa-sha1", digest="sha1")
    [fail] = run(sha1, "SIG006", **trusting(IDP))
    assert fail.status is Status.FAIL and "valid" in fail.message and RSA_SHA1 in fail.seen and SHA1 in fail.seen
    assert statuses(run(IDP.signed_response(), "SIG006", **trusting(IDP))) == [Status.PASS]


def test_sig007_1024_bit_key_fails_2048_passes():
    weak = TestIdP(key_bits=1024)
    [fail] = run(weak.signed_response(), "SIG007", **trusting(weak))
    assert fail.status is Status.FAIL and fail.seen == "RSA 1024 bits"
    [ok] = run(IDP.signed_response(), "SIG007", **trusting(IDP))
    assert ok.status is Status.PASS and ok.seen == "RSA 2048 bits"


@pytest.mark.parametrize("valid_from,valid_to,status", [
    (-400, -30, Status.FAIL),  # expired
    (10, 400, Status.FAIL),  # not yet valid
    (-300, 10, Status.WARN),  # expires within 30 days
    (-1, 365, Status.PASS),
])
def test_sig008_certificate_validity_at_the_login_instant(valid_from, valid_to, status):
    now = utc_now()
    idp = TestIdP(cert_valid_from=now + dt.timedelta(days=valid_from), cert_valid_to=now + dt.timedelta(days=valid_to))
    # an expired certificate still verifies: validity is this check's verdict, not the signature's
    assert verify(idp.signed_response(), (cert_of(idp),)).verdict is SignatureVerdict.VALID
    [finding] = run(idp.signed_response(), "SIG008", at=now, **trusting(idp))
    assert finding.status is status


def test_sig009_stale_metadata_certificate_fails():
    old, current = TestIdP(key_name="old"), TestIdP(key_name="current")
    stale = parse_metadata(old.metadata(), "idp-metadata.xml")
    [fail] = run(current.signed_response(), "SIG009", idp_metadata=(stale,), **trusting(current))
    assert fail.status is Status.FAIL and fail.seen == cert_of(current).sha256 and cert_of(old).sha256 in fail.expected
    fresh = parse_metadata(current.metadata(), "idp-metadata.xml")
    assert statuses(run(current.signed_response(), "SIG009", idp_metadata=(fresh,))) == [Status.PASS]


def test_sig010_encrypted_assertion_skip_without_key_fail_with_wrong_key_pass_with_right_key():
    sp_key, sp_cert = sp_keypair()
    wrong_key, _ = sp_keypair("other-sp")
    encrypted = IDP.encrypt_assertion(IDP.signed_response(), sp_cert)
    [skip] = run(encrypted, "SIG010", **trusting(IDP))
    assert skip.status is Status.SKIP and "aes256-cbc" in skip.message and "--sp-key" in skip.message
    assert statuses(run(encrypted, "SIG001", **trusting(IDP))) == [Status.SKIP]  # never "unsigned" by default
    [fail] = run(encrypted, "SIG010", sp_key_pem=wrong_key, **trusting(IDP))
    assert fail.status is Status.FAIL and "wrong SP key" in fail.message
    [ok] = run(encrypted, "SIG010", sp_key_pem=sp_key, **trusting(IDP))
    assert ok.status is Status.PASS
    # once decrypted, the assertion's own signature is verified like a plain one
    assert statuses(run(encrypted, "SIG004", sp_key_pem=sp_key, **trusting(IDP))) == [Status.PASS]


def _with_negative_serial(idp: TestIdP) -> bytes:
    """``idp``'s certificate, DER, with its serial number rewritten to a negative one (as old IdP tooling wrote)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "legacy-idp.example.test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(idp.key.public_key())
            .serial_number(0x4242).not_valid_before(idp.cert.not_valid_before_utc)
            .not_valid_after(idp.cert.not_valid_after_utc).sign(idp.key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return der.replace(b"\x02\x02\x42\x42", b"\x02\x02\xc2\x42", 1)  # INTEGER 0x4242 -> 0xC242 (negative)


def test_sig011_negative_serial_is_an_info_finding_and_stderr_stays_clean(tmp_path):
    import base64
    import json
    import subprocess
    import sys
    der = _with_negative_serial(IDP)
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    signed = IDP.signed_response().replace(IDP.cert_b64.encode(), base64.b64encode(der))  # KeyInfo carries it too
    (tmp_path / "legacy.pem").write_bytes(pem)
    (tmp_path / "response.xml").write_bytes(signed)
    done = subprocess.run([sys.executable, "-W", "default", "-m", "ssodiag", "analyze", str(tmp_path / "response.xml"),
                           "--idp-cert", str(tmp_path / "legacy.pem"), "--format", "json", "--fail-on", "never",
                           "--no-redact"],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()
    findings = {f["check_id"]: f for f in json.loads(done.stdout)["findings"]}
    assert findings["SIG011"]["status"] == "fail" and findings["SIG011"]["severity"] == "info"
    assert "-3DBE" in findings["SIG011"]["message"] and findings["SIG002"]["status"] == "pass"
    assert statuses(run(IDP.signed_response(), "SIG011", **trusting(IDP))) == [Status.PASS]
