"""The trust engine: verify every XML signature of a SAML message, defend against wrapping, judge trust.

Rules (saml-validation.md §3; python3-saml validation codes 6-13, 42; node-saml xml.ts):
- Crypto is signxml on the original bytes (the message root) or on the signed element itself, one ds:Signature at
  a time: signxml verifies only the first ds:Signature it finds, so the Response and the Assertion signatures are
  verified separately, each with ``location="./"`` on its own parent.
- Trust comes only from the configured certificates or fingerprints. A KeyInfo certificate is *described* and used
  to tell "intact but signed by an unknown key" (rotation) from "broken", never trusted on its own.
- Structure is checked independently of crypto: a signature that verifies inside a wrapped document is ``wrapping``.
- "What was consumed is what was signed": ``covers_consumed_data`` compares the canonical form of the assertion a
  relying party reads (the Response's direct child, SAML core §3.3.3) with the data signxml returns as signed.

Nothing here raises on hostile input: every failure becomes a verdict with a one-line reason.
"""
from __future__ import annotations

import base64
import binascii
import copy
import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidSignature, SignXMLException

from ssodiag.diag.certs import describe, matches_fingerprint
from ssodiag.diag.errors import InputError
from ssodiag.diag.limits import MAX_TEXT_EXCERPT
from ssodiag.diag.model import (
    Certificate, MessageKind, RedirectSignature, SamlMessage, SignatureReport, SignatureVerdict, SignedElement,
)
from ssodiag.diag.xmlparse import NS, local_name, parse_xml

DS_SIGNATURE = f"{{{NS['ds']}}}Signature"
SAML_ASSERTION = f"{{{NS['saml']}}}Assertion"
SAML_ENCRYPTED_ASSERTION = f"{{{NS['saml']}}}EncryptedAssertion"
MESSAGE_ROOTS = frozenset(f"{{{NS['samlp']}}}{kind.value}" for kind in MessageKind)

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# SAML core §5.4.3-§5.4.4: enveloped-signature plus (exclusive) canonicalisation is all a SAML signature may use.
ALLOWED_TRANSFORMS = frozenset({ENVELOPED} | {c.value for c in CanonicalizationMethod})
MAX_TRANSFORMS = 2  # node-saml: "Invalid signature, too many transforms"
SHA1_URIS = frozenset({SignatureMethod.RSA_SHA1.value, SignatureMethod.DSA_SHA1.value,
                       SignatureMethod.ECDSA_SHA1.value, DigestAlgorithm.SHA1.value})

# HMAC needs a shared secret no IdP publishes: for SAML trust it is as good as unsupported.
_SIGNATURE_METHODS = frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC"))
_SIGNATURE_URIS = frozenset(m.value for m in _SIGNATURE_METHODS)
_DIGEST_URIS = frozenset(d.value for d in DigestAlgorithm)
_C14N_URIS = frozenset(c.value for c in CanonicalizationMethod)
_ID_ATTRIBUTES = ("ID", "Id")  # what signxml resolves a "#..." Reference against

# Bounds on hostile documents: each signature costs one verification per candidate certificate.
MAX_SIGNATURES = 8
MAX_TRUSTED_CERTIFICATES = 16
MAX_EMBEDDED_CERTIFICATES = 4
MAX_REDIRECT_SIGNATURE_CHARS = 4096  # base64 of a 16384-bit RSA signature is ~2.7k


class Outcome(str, enum.Enum):
    VERIFIED = "verified"  # verified with a trusted key
    INTACT_UNTRUSTED = "intact-untrusted"  # verifies, but only with a key nothing configured vouches for
    BROKEN = "broken"  # does not verify with any key we have
    UNSUPPORTED = "unsupported"  # an algorithm we cannot evaluate
    UNVERIFIABLE = "unverifiable"  # no key at all to try (no trust configured and none embedded)


@dataclass
class _Result:
    """One signature's evaluation, before it is folded into the report."""

    element: str
    element_id: str | None
    reference_uri: str | None
    algorithm: str | None
    digest_algorithm: str | None
    outcome: Outcome
    detail: str
    signer: Certificate | None = None
    signed_xml: etree._Element | None = None
    covers: bool = False

    def as_signed_element(self) -> SignedElement:
        return SignedElement(element=self.element, element_id=self.element_id, reference_uri=self.reference_uri,
                             algorithm=self.algorithm, digest_algorithm=self.digest_algorithm,
                             verified=self.outcome is Outcome.VERIFIED, covers_consumed_data=self.covers)


# Who signs, and the options that configure trust in them (named in an `untrusted` reason).
TRUST_OPTIONS = {"IdP": "--idp-cert, --idp-fingerprint or --idp-metadata", "SP": "--sp-cert or the SP metadata"}


def verify_message(message: SamlMessage, trusted: Sequence[Certificate],
                   fingerprints: Sequence[str], *, signer: str = "IdP") -> SignatureReport:
    """Verify ``message``'s XML signatures (and its HTTP-Redirect query signature) against the configured trust
    in ``signer`` ("IdP" for Responses, "SP" for AuthnRequests)."""
    try:
        return _verify(message, tuple(trusted)[:MAX_TRUSTED_CERTIFICATES], tuple(fingerprints), signer)
    except Exception as exc:  # the engine must never take the run down; the verdict says what happened
        return SignatureReport(verdict=SignatureVerdict.INVALID,
                               reason=_bounded(f"signature verification failed unexpectedly: {_one_line(exc)}"))


def is_sha1(uri: str | None) -> bool:
    """Whether an XML-DSig/redirect algorithm URI is SHA-1 based (python3-saml DEPRECATED_ALGORITHMS)."""
    return uri in SHA1_URIS


def unsupported_algorithms(signed: SignedElement) -> list[str]:
    """The signature/digest algorithm URIs of ``signed`` that this engine (signxml) cannot evaluate."""
    found = [signed.algorithm] if signed.algorithm and signed.algorithm not in _SIGNATURE_URIS else []
    return found + ([signed.digest_algorithm] if signed.digest_algorithm and signed.digest_algorithm
                    not in _DIGEST_URIS else [])


# --------------------------------------------------------------------------- orchestration


def _verify(message: SamlMessage, trusted: tuple[Certificate, ...], fingerprints: tuple[str, ...],
            signer: str) -> SignatureReport:
    try:
        root = message.root if message.root is not None else parse_xml(message.raw_xml, message.source)
    except InputError as exc:
        return SignatureReport(verdict=SignatureVerdict.INVALID, reason=_bounded(f"the message is not XML: {exc}"))

    signatures = list(root.iter(DS_SIGNATURE))
    rules = _structure_rules(root, signatures)
    consumed = root.find("saml:Assertion", NS)
    results: list[_Result] = []
    embedded: list[Certificate] = []
    checked_parents: set[etree._Element] = set()  # elements, not id(): lxml proxies are recycled
    for signature in signatures[:MAX_SIGNATURES]:
        parent = signature.getparent()
        certs = _embedded_certificates(signature, parent)
        embedded += [c for c in certs if c.sha256 not in {e.sha256 for e in embedded}]
        if parent in checked_parents:
            continue  # signxml only reaches the first signature of an element; the rule above already names it
        checked_parents.add(parent)
        result = _verify_signature(signature, root, message.raw_xml, trusted, fingerprints, certs)
        result.covers = result.outcome is Outcome.VERIFIED and _covers(result.signed_xml, consumed)
        results.append(result)
    if message.redirect_signature is not None:
        results.append(_verify_redirect(message, message.redirect_signature, trusted))
    decrypted = bool(message.assertions) and message.assertions[0].decrypted_from is not None
    verified = [r for r in results if r.outcome is Outcome.VERIFIED]
    # See what is signed (xmldsig-bestpractices §2.1): a verified signature over something other than the assertion
    # a relying party reads is wrapping. A Response signature over an EncryptedAssertion covers the ciphertext.
    if consumed is not None and verified and not decrypted and not any(r.covers for r in verified):
        rules.append(f"signed-is-read: the assertion a relying party reads ({_quote(consumed.get('ID'))}) is not "
                     "the data the verified signature covers")
    if not results and root.find("saml:EncryptedAssertion", NS) is not None:
        # sign-then-encrypt (SAML core §6.2): the assertion's signature, if any, is inside the ciphertext
        return SignatureReport(verdict=SignatureVerdict.NOT_CHECKED, rules_broken=tuple(rules),
                               reason="the assertion is encrypted and the Response itself is unsigned: its signature "
                                      "cannot be seen without the SP private key (pass --sp-key)")
    if not results:
        return SignatureReport(verdict=SignatureVerdict.ABSENT, rules_broken=tuple(rules),
                               reason=f"the {message.kind.value} carries no signature (no ds:Signature, no SigAlg)")
    return _report(results, rules, embedded, trusted, fingerprints, signer)


def _report(results: list[_Result], rules: list[str], embedded: list[Certificate],
            trusted: tuple[Certificate, ...], fingerprints: tuple[str, ...], signer: str) -> SignatureReport:
    outcomes = {r.outcome for r in results}
    intact = outcomes & {Outcome.VERIFIED, Outcome.INTACT_UNTRUSTED}
    details = "; ".join(f"{r.element} {r.element_id or ''}: {r.detail}".replace("  ", " ") for r in results)
    if rules and intact:
        verdict = SignatureVerdict.WRAPPING
        reason = ("the signature verifies but the document is built like a signature-wrapping attack: "
                  + "; ".join(rules))
    elif rules or Outcome.BROKEN in outcomes:
        verdict = SignatureVerdict.INVALID
        reason = details + ("; structure: " + "; ".join(rules) if rules else "")
    elif outcomes & {Outcome.INTACT_UNTRUSTED, Outcome.UNVERIFIABLE}:
        verdict = SignatureVerdict.UNTRUSTED
        reason = details + "; " + _trust_summary(embedded, trusted, fingerprints, signer)
    elif Outcome.UNSUPPORTED in outcomes:
        verdict = SignatureVerdict.UNSUPPORTED
        reason = details
    else:
        verdict = SignatureVerdict.VALID
        reason = details
    main = next((r for r in results if r.covers), results[0])
    signer = next((r.signer for r in results if r.outcome is Outcome.VERIFIED and r.signer), None)
    return SignatureReport(
        verdict=verdict, signed_elements=tuple(r.as_signed_element() for r in results), algorithm=main.algorithm,
        digest_algorithm=main.digest_algorithm, reason=_bounded(reason), rules_broken=tuple(rules),
        embedded_certificates=tuple(embedded), signing_certificate=signer,
    )


def _trust_summary(embedded: list[Certificate], trusted: tuple[Certificate, ...], fingerprints: tuple[str, ...],
                   signer: str) -> str:
    if not trusted and not fingerprints:
        return (f"no {signer} certificate or fingerprint is configured, so nothing establishes trust "
                f"(pass {TRUST_OPTIONS[signer]})")
    seen = ", ".join(f"SHA-256 {c.sha256} subject `{c.subject}` valid {c.not_before:%Y-%m-%d} to "
                     f"{c.not_after:%Y-%m-%d}" for c in embedded) or "none"
    configured = [f"SHA-256 {c.sha256} subject `{c.subject}`" for c in trusted] + [f"fingerprint {f}"
                                                                                   for f in fingerprints]
    return (f"the embedded certificate ({seen}) matches none of the configured ones ({', '.join(configured)}): "
            f"the {signer} probably rotated its signing certificate")


# --------------------------------------------------------------------------- structure (wrapping defence)


def _structure_rules(root: etree._Element, signatures: list[etree._Element]) -> list[str]:
    """Every wrapping-defence rule the document breaks, each as ``rule-name: what was seen``."""
    rules: list[str] = []
    if root.getparent() is not None or any(isinstance(s.tag, str) for s in root.itersiblings()):
        rules.append("single-root: the message is not the only root element of its document (node-saml #195)")
    if len(signatures) > MAX_SIGNATURES:
        rules.append(f"signature-count: {len(signatures)} ds:Signature elements, at most {MAX_SIGNATURES} are read")
    assertions = sum(1 for _ in root.iter(SAML_ASSERTION, SAML_ENCRYPTED_ASSERTION))
    if assertions > 1:
        # python3-saml WRONG_NUMBER_OF_ASSERTIONS: extra copies (in Extensions, Advice, ds:Object) are how XSW works
        rules.append(f"single-assertion: {assertions} assertions in the document (counted everywhere, "
                     "including Extensions, Advice and ds:Object); a Response must carry exactly one")
    duplicates = sorted(v for v, n in Counter(_all_ids(root)).items() if n > 1)
    if duplicates:
        rules.append(f"unique-ids: ID {_quote(duplicates[0])} appears more than once "
                     "(a Reference must resolve to exactly one element)")
    per_parent = Counter(s.getparent() for s in signatures)
    for signature in signatures[:MAX_SIGNATURES]:
        rules += _signature_rules(signature, root, per_parent[signature.getparent()])
    return list(dict.fromkeys(rules))  # same rule from several signatures: say it once


def _signature_rules(signature: etree._Element, root: etree._Element, siblings: int) -> list[str]:
    rules: list[str] = []
    parent = signature.getparent()
    where = f"<{local_name(parent)}>"
    allowed = (parent is root and parent.tag in MESSAGE_ROOTS) or (
        parent.tag == SAML_ASSERTION and parent.getparent() is root and root.tag in MESSAGE_ROOTS)
    if not allowed:
        rules.append(f"signature-parent: a ds:Signature sits in {where}; only the message root or an Assertion "
                     "directly inside the Response may be signed (python3-saml WRONG_SIGNED_ELEMENT)")
    if siblings > 1:
        rules.append(f"one-signature-per-element: {where} has {siblings} ds:Signature children "
                     "(python3-saml WRONG_NUMBER_OF_SIGNATURES)")
    references = signature.findall("ds:SignedInfo/ds:Reference", NS)
    if len(references) != 1:
        rules.append(f"one-reference: the signature in {where} has {len(references)} References, "
                     "a SAML signature has exactly one (node-saml)")
    for reference in references[:2]:
        uri = reference.get("URI")
        parent_id = parent.get("ID")
        if uri is not None and ('"' in uri or "'" in uri):
            rules.append(f"reference-uri-quote: Reference URI {_quote(uri)} contains a quote character (node-saml)")
        if parent_id is None or uri != f"#{parent_id}":
            rules.append(f"reference-is-parent: Reference URI {_quote(uri)} does not point at its parent {where} "
                         f"(ID {_quote(parent_id)}) (SAML core §5.4.2; python3-saml INVALID_SIGNED_ELEMENT)")
        transforms = [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", NS)]
        odd = [t for t in transforms if t not in ALLOWED_TRANSFORMS]
        if odd or len(transforms) > MAX_TRANSFORMS:
            rules.append(f"transforms: {len(transforms)} transforms {', '.join(_quote(t) for t in (odd or transforms))}"
                         "; only enveloped-signature and canonicalisation, at most 2 (SAML core §5.4.4)")
    return rules


def _all_ids(root: etree._Element) -> list[str]:
    return [v for el in root.iter() if isinstance(el.tag, str) for a in _ID_ATTRIBUTES if (v := el.get(a))]


# --------------------------------------------------------------------------- one XML signature


def _verify_signature(signature: etree._Element, root: etree._Element, raw_xml: bytes,
                      trusted: tuple[Certificate, ...], fingerprints: tuple[str, ...],
                      embedded: list[Certificate]) -> _Result:
    parent = signature.getparent()
    references = signature.findall("ds:SignedInfo/ds:Reference", NS)
    method = signature.find("ds:SignedInfo/ds:SignatureMethod", NS)
    c14n = signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS)
    digests = [d.get("Algorithm") for d in signature.findall("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS)]
    result = _Result(element=local_name(parent), element_id=parent.get("ID"),
                     reference_uri=references[0].get("URI") if references else None,
                     algorithm=method.get("Algorithm") if method is not None else None,
                     digest_algorithm=digests[0] if digests else None, outcome=Outcome.BROKEN, detail="")
    c14n_uri = c14n.get("Algorithm") if c14n is not None else None
    unsupported = [u for u in (result.algorithm,) if u is not None and u not in _SIGNATURE_URIS]
    unsupported += [u for u in digests if u is not None and u not in _DIGEST_URIS]
    unsupported += [u for u in (c14n_uri,) if u is not None and u not in _C14N_URIS]
    if unsupported:
        result.outcome = Outcome.UNSUPPORTED
        result.detail = f"unsupported algorithm {_quote(unsupported[0])} (cannot be verified here, nor by Keycloak)"
        return result
    if len(references) != 1:
        result.detail = f"{len(references)} References; not verified"
        return result

    # The message root is verified from the original bytes; a nested element from its own subtree, so that its
    # Reference cannot resolve to anything outside it.
    data = raw_xml if parent is root and root.getparent() is None else etree.tostring(parent, with_tail=False)
    candidates = [(c, "the configured certificate") for c in trusted]
    candidates += [(c, "the embedded certificate matching a configured fingerprint") for c in embedded
                   if any(_fingerprint_matches(c, f) for f in fingerprints)]
    failures: list[str] = []
    for cert, why in candidates:
        outcome, detail, signed = _try_certificate(data, cert)
        if outcome == "ok":
            result.outcome, result.signer, result.signed_xml = Outcome.VERIFIED, cert, signed
            result.detail = f"verified with {why} SHA-256 {cert.sha256}"
            return result
        if outcome == "digest":  # the key matched: the signed content was changed afterwards
            result.detail = f"signed by {why} SHA-256 {cert.sha256}, but {detail}"
            return result
        failures.append(detail)
    tried = {c.sha256 for c, _why in candidates}
    for cert in (c for c in embedded if c.sha256 not in tried):
        outcome, detail, _signed = _try_certificate(data, cert)
        if outcome == "ok":
            result.outcome = Outcome.INTACT_UNTRUSTED
            result.detail = (f"cryptographically intact with the embedded (KeyInfo) certificate SHA-256 {cert.sha256}, "
                             "which is not trusted")
            return result
        if outcome == "digest":
            result.detail = f"signed with the embedded certificate, but {detail}"
            return result
        failures.append(detail)
    if not candidates and not embedded:
        result.outcome = Outcome.UNVERIFIABLE
        result.detail = "no configured certificate and no embedded certificate to verify with"
        return result
    result.detail = "does not verify with " + ("any configured or embedded certificate" if candidates
                                               else "the embedded certificate") + f" ({failures[0]})"
    return result


def _try_certificate(data: bytes, cert: Certificate) -> tuple[str, str, etree._Element | None]:
    """("ok", "", signed_xml) | ("digest", why, None) | ("bad", why, None) for one candidate certificate."""
    try:
        x509_cert = x509.load_der_x509_certificate(cert.der)
    except ValueError as exc:
        return "bad", f"certificate unreadable: {_one_line(exc)}", None
    config = SignatureConfiguration(
        location="./", expect_references=1, signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=frozenset(DigestAlgorithm), ignore_ambiguous_key_info=True,
        # certificate validity is judged by the checks at the capture time, not by signxml at "now"
        verification_time=x509_cert.not_valid_before_utc + timedelta(seconds=1),
    )
    try:
        verified = XMLVerifier().verify(data, x509_cert=x509_cert, expect_config=config)
    except InvalidDigest:
        return "digest", "the digest does not match: the signed content was changed after signing", None
    except InvalidSignature as exc:
        return "bad", _one_line(exc), None
    except (SignXMLException, etree.LxmlError, ValueError, TypeError) as exc:
        return "bad", f"signature cannot be processed: {_one_line(exc)}", None
    return "ok", "", verified.signed_xml


def _embedded_certificates(signature: etree._Element, parent: etree._Element) -> list[Certificate]:
    found = signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)[:MAX_EMBEDDED_CERTIFICATES]
    certs = []
    for element in found:
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            certs.append(describe(x509.load_der_x509_certificate(der),
                                  f"KeyInfo of {local_name(parent)} {parent.get('ID') or ''}".strip()))
        except (binascii.Error, ValueError, InputError):
            continue  # an unreadable KeyInfo certificate is simply not a candidate
    return certs


def _fingerprint_matches(cert: Certificate, fingerprint: str) -> bool:
    try:
        return matches_fingerprint(cert, fingerprint)
    except InputError:
        return False


def _covers(signed_xml: etree._Element | None, consumed: etree._Element | None) -> bool:
    """Whether the consumed assertion, as canonicalised, is exactly what the verified signature returned.

    Both sides go through exclusive C14N without comments (what signxml returns), so a comment spliced into the
    NameID after signing (CVE-2017-11427) compares equal, and the parser reads it whole (``text_of``).
    """
    if signed_xml is None or consumed is None:
        return False
    if signed_xml.tag == SAML_ASSERTION:
        unsigned = copy.deepcopy(consumed)
        for own in unsigned.findall("ds:Signature", NS):
            unsigned.remove(own)
        return _c14n(signed_xml) == _c14n(unsigned)
    matching = [a for a in signed_xml.findall("saml:Assertion", NS) if a.get("ID") == consumed.get("ID")]
    return len(matching) == 1 and _c14n(matching[0]) == _c14n(consumed)


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


# --------------------------------------------------------------------------- HTTP-Redirect query signature

_REDIRECT_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    SignatureMethod.RSA_SHA1.value: hashes.SHA1, SignatureMethod.RSA_SHA256.value: hashes.SHA256,
    SignatureMethod.RSA_SHA384.value: hashes.SHA384, SignatureMethod.RSA_SHA512.value: hashes.SHA512,
    SignatureMethod.ECDSA_SHA1.value: hashes.SHA1, SignatureMethod.ECDSA_SHA256.value: hashes.SHA256,
    SignatureMethod.ECDSA_SHA384.value: hashes.SHA384, SignatureMethod.ECDSA_SHA512.value: hashes.SHA512,
}


def _verify_redirect(message: SamlMessage, sig: RedirectSignature, trusted: tuple[Certificate, ...]) -> _Result:
    """SAML bindings §3.4.4.1: Signature is over the query octets ``SAMLRequest=..&RelayState=..&SigAlg=..``."""
    result = _Result(element=message.kind.value, element_id=message.id, reference_uri=None, algorithm=sig.sig_alg,
                     digest_algorithm=None, outcome=Outcome.BROKEN, detail="")
    hash_cls = _REDIRECT_HASHES.get(sig.sig_alg)
    if hash_cls is None:
        result.outcome = Outcome.UNSUPPORTED
        result.detail = f"HTTP-Redirect SigAlg {_quote(sig.sig_alg)} is not supported"
        return result
    try:
        if len(sig.signature) > MAX_REDIRECT_SIGNATURE_CHARS:
            raise ValueError("too long")
        raw = base64.b64decode("".join(sig.signature.split()), validate=True)
    except (binascii.Error, ValueError):
        result.detail = "the HTTP-Redirect Signature parameter is not valid base64"
        return result
    if not trusted:
        result.outcome = Outcome.UNVERIFIABLE
        result.detail = "HTTP-Redirect signature present, but no certificate is configured to verify it"
        return result
    signed = sig.signed_query.encode("utf-8")
    for cert in trusted:
        if _redirect_verifies(cert, raw, signed, hash_cls()):
            result.outcome, result.signer = Outcome.VERIFIED, cert
            result.detail = f"HTTP-Redirect signature verified with the configured certificate SHA-256 {cert.sha256}"
            return result
    result.detail = "the HTTP-Redirect signature does not verify with any configured certificate"
    return result


def _redirect_verifies(cert: Certificate, raw: bytes, signed: bytes, algorithm: hashes.HashAlgorithm) -> bool:
    try:
        key = x509.load_der_x509_certificate(cert.der).public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, signed, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            half = len(raw) // 2  # XML-DSig ECDSA encoding: r || s (RFC 4050 §3.3)
            der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
            key.verify(der, signed, ec.ECDSA(algorithm))
        else:
            return False
    except (CryptoInvalidSignature, ValueError, TypeError):
        return False
    return True


# --------------------------------------------------------------------------- text helpers


def _quote(value: str | None) -> str:
    if value is None:
        return "(none)"
    return "`" + (value if len(value) <= 120 else value[:120] + "...") + "`"


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0][:200].rstrip(": ") if lines else "") or type(exc).__name__


def _bounded(text: str) -> str:
    limit = 4 * MAX_TEXT_EXCERPT  # several certificates' fingerprints fit; a hostile document's text does not run on
    return text if len(text) <= limit else text[:limit] + "..."
