"""The trust engine: verify the XML signatures of a SAML message, defend against wrapping, judge trust.

- Structure first (:mod:`ssodiag.diag.wrapping`): the rules are independent of any verifier, and a signature they
  already condemn (in a place no SAML signature may sit) is not verified at all.
- Crypto twice (:mod:`ssodiag.diag.xmldsig`): each signature in a signable place is verified in the original
  document by signxml and by libxmlsec1, with the one candidate key whose SignatureValue matches. ``valid`` needs
  both; when they disagree the verdict is ``unsupported`` and the reason names which accepted, never a tampering
  claim.
- Trust comes only from the configured certificates or fingerprints. A KeyInfo certificate is *described* and used
  to tell "intact but signed by an unknown key" (rotation) from "broken", never trusted on its own.
- "What was consumed is what was signed": the assertion a relying party reads (the Response's direct child, SAML
  core §3.3.3) must be what the verified signature covers.

Nothing here raises on hostile input: every failure becomes a verdict with a one-line reason.
"""
from __future__ import annotations

import base64
import binascii
import copy
import enum
from collections.abc import Sequence
from functools import lru_cache

from lxml import etree
from msgspec import Struct
from msgspec.structs import replace

from ssodiag.diag.certs import certificate_from_base64, matches_fingerprint
from ssodiag.diag.errors import InputError
from ssodiag.diag.limits import MAX_TEXT_EXCERPT
from ssodiag.diag.text import clip, error_text, quoted
from ssodiag.diag.model import (
    Certificate, RedirectSignature, SamlMessage, SignatureReport, SignatureVerdict, SignedElement,
)
from ssodiag.diag.wrapping import (
    DS_SIGNATURE, MAX_SIGNATURES, REFERENCES, SAML_ASSERTION, QUOTED_ID, in_signable_place, references_whole_document,
    structure_rules,
)
from ssodiag.diag.xmldsig import (
    C14N_METHOD, C14N_URIS, DIGEST_URIS, SIGNATURE_HASHES, SIGNATURE_METHOD, SIGNATURE_URIS, VerifierResult,
    canonical_reference_data, find_signing_key, remove_keeping_text, signature_location, signature_value_verifies,
    verify_with_libxmlsec, verify_with_signxml,
)
from ssodiag.diag.xmlparse import NS, ChildPath, local_name, parse_xml

SHA1_URIS = frozenset({"http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
                       "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1"})
MAX_TRUSTED_CERTIFICATES = 16
MAX_EMBEDDED_CERTIFICATES = 4
MAX_REDIRECT_SIGNATURE_CHARS = 4096  # base64 of a 16384-bit RSA signature is ~2.7k
MAX_REASON = 4 * MAX_TEXT_EXCERPT  # several certificates' fingerprints fit; a hostile document's text does not run on

# Who signs, and the options that configure trust in them (named in an `untrusted` reason).
_DIGEST_METHODS = ChildPath("ds:SignedInfo/ds:Reference/ds:DigestMethod")  # of a ds:Signature
_KEYINFO_CERTIFICATES = ChildPath("ds:KeyInfo/ds:X509Data/ds:X509Certificate")
TRUST_OPTIONS = {"IdP": "--idp-cert, --idp-fingerprint or --idp-metadata", "SP": "--sp-cert or --sp-metadata"}


class Outcome(str, enum.Enum):
    VERIFIED = "verified"  # both verifiers accept it with a trusted key
    INTACT_UNTRUSTED = "intact-untrusted"  # both accept it, but only with a key nothing configured vouches for
    BROKEN = "broken"  # both refuse it
    DISAGREE = "verifiers-disagree"  # one verifier accepts, the other refuses: neither valid nor tampered
    UNSUPPORTED = "unsupported"  # an algorithm we cannot evaluate
    UNVERIFIABLE = "unverifiable"  # no key at all to try (no trust configured and none embedded)


class _Result(Struct):
    """One signature's evaluation, before it is folded into the report."""

    element: str
    element_id: str | None
    reference_uri: str | None
    algorithm: str | None
    digest_algorithm: str | None
    outcome: Outcome
    detail: str
    signer: Certificate | None = None
    covers: bool = False

    def as_signed_element(self) -> SignedElement:
        return SignedElement(element=self.element, element_id=self.element_id, reference_uri=self.reference_uri,
                             algorithm=self.algorithm, digest_algorithm=self.digest_algorithm,
                             verified=self.outcome is Outcome.VERIFIED, covers_consumed_data=self.covers,
                             outcome=self.outcome.value, detail=clip(self.detail, MAX_REASON))


class _Keys(Struct, frozen=True):
    """The candidate keys for one message, in the order they are tried, each with how it came to be trusted."""

    trusted: tuple[Certificate, ...]  # configured certificates
    pinned: tuple[Certificate, ...]  # KeyInfo certificates matching a configured fingerprint
    embedded: tuple[Certificate, ...]  # every readable KeyInfo certificate (described, never trusted)

    def all(self) -> list[Certificate]:
        seen = {c.sha256 for c in self.trusted + self.pinned}
        return list(self.trusted + self.pinned) + [c for c in self.embedded if c.sha256 not in seen]

    def how_trusted(self, cert: Certificate) -> str | None:
        if any(c.sha256 == cert.sha256 for c in self.trusted):
            return "the configured certificate"
        if any(c.sha256 == cert.sha256 for c in self.pinned):
            return "the embedded certificate matching a configured fingerprint"
        return None


def keyinfo_trusted(report: SignatureReport, trusted: Sequence[Certificate],
                    fingerprints: Sequence[str] = ()) -> bool | None:
    """Whether a certificate the message's KeyInfo carries is a trusted one (or matches a fingerprint); None when
    KeyInfo carries none. It proves nothing about the signature: it is what is left to judge trust by when the
    signature cannot be checked (a sanitized capture, whose personal values were replaced after signing)."""
    if not report.embedded_certificates:
        return None
    return bool(configured_keyinfo_certificates(report, trusted, fingerprints))


def configured_keyinfo_certificates(report: SignatureReport, trusted: Sequence[Certificate],
                                    fingerprints: Sequence[str] = ()) -> tuple[Certificate, ...]:
    """The certificates the message's KeyInfo carries that are configured ones (same DER, so same SHA-256) or match
    a configured fingerprint, in document order. Like ``keyinfo_trusted``, it says which certificate the message
    names, never that it signed."""
    known = {c.sha256 for c in trusted}
    return tuple(c for c in report.embedded_certificates
                 if c.sha256 in known or any(_fingerprint_matches(c, f) for f in fingerprints))


def verify_message(message: SamlMessage, trusted: Sequence[Certificate],
                   fingerprints: Sequence[str], *, signer: str = "IdP") -> SignatureReport:
    """Verify ``message``'s XML signatures (and its HTTP-Redirect query signature) against the configured trust
    in ``signer`` ("IdP" for Responses, "SP" for AuthnRequests)."""
    try:
        return _verify(message, tuple(trusted)[:MAX_TRUSTED_CERTIFICATES], tuple(fingerprints), signer)
    except Exception as exc:  # the engine must never take the run down; the verdict says what happened
        return SignatureReport(verdict=SignatureVerdict.INVALID,
                               reason=clip(f"signature verification failed unexpectedly: {error_text(exc)}", MAX_REASON))


def is_sha1(uri: str | None) -> bool:
    """Whether an XML-DSig/redirect algorithm URI is SHA-1 based (python3-saml DEPRECATED_ALGORITHMS)."""
    return uri in SHA1_URIS


def unsupported_algorithms(signed: SignedElement) -> list[str]:
    """The signature/digest algorithm URIs of ``signed`` that this engine cannot evaluate."""
    found = [signed.algorithm] if signed.algorithm and signed.algorithm not in SIGNATURE_URIS else []
    return found + ([signed.digest_algorithm] if signed.digest_algorithm and signed.digest_algorithm
                    not in DIGEST_URIS else [])


# --------------------------------------------------------------------------- orchestration


def _verify(message: SamlMessage, trusted: tuple[Certificate, ...], fingerprints: tuple[str, ...],
            signer: str) -> SignatureReport:
    try:
        document = message.root if message.root is not None else parse_xml(message.raw_xml, message.source)
    except InputError as exc:
        return SignatureReport(verdict=SignatureVerdict.INVALID, reason=clip(f"the message is not XML: {exc}", MAX_REASON))
    signatures = list(document.iter(DS_SIGNATURE))
    rules = structure_rules(document, signatures, C14N_URIS)
    embedded = _embedded_certificates(signatures)
    keys = _Keys(trusted, tuple(c for c in embedded if any(_fingerprint_matches(c, f) for f in fingerprints)),
                 tuple(embedded))
    consumed = next(document.iterchildren(SAML_ASSERTION), None)
    results = [_verify_signature(*_as_signed(message, document, s), keys, consumed)
               for s in _signatures_worth_verifying(document, signatures)]
    if message.redirect_signature is not None:
        results.append(_verify_redirect(message, message.redirect_signature, trusted))
    rules += _signed_is_read_rule(message, results, consumed, signatures[:MAX_SIGNATURES])
    misplaced = [s for s in signatures[:MAX_SIGNATURES] if not in_signable_place(s, document)]
    if not results and document.find("saml:EncryptedAssertion", NS) is not None and not misplaced:
        # sign-then-encrypt (SAML core §6.2): the assertion's signature, if any, is inside the ciphertext
        return SignatureReport(verdict=SignatureVerdict.NOT_CHECKED, rules_broken=tuple(rules),
                               reason="the assertion is encrypted and the Response itself is unsigned: its signature "
                                      "cannot be seen without the SP private key (pass --sp-key)")
    if not results and not signatures:
        return SignatureReport(verdict=SignatureVerdict.ABSENT, rules_broken=tuple(rules),
                               reason=f"the {message.kind.value} carries no signature (no ds:Signature, no SigAlg)")
    return _report(results, rules, embedded, keys, fingerprints, signer)


def _signatures_worth_verifying(document: etree._Element, signatures: list[etree._Element]) -> list[etree._Element]:
    """The first signature of the message root and of its first Assertion: the only ones a relying party reads.

    Every other ds:Signature is already condemned by a wrapping rule; verifying it would only cost time (a document
    of nested signatures is an amplification attack)."""
    worth = []
    for signature in signatures[:MAX_SIGNATURES]:
        parent = signature.getparent()
        if in_signable_place(signature, document) and signature_location(signature, document) \
                and next(parent.iterchildren(DS_SIGNATURE)) is signature:
            worth.append(signature)
    return worth


def _as_signed(message: SamlMessage, document: etree._Element,
               signature: etree._Element) -> tuple[etree._Element, etree._Element]:
    """(signature, its document) as the signer produced them.

    Normally the message as received. After decryption the tree holds the decrypted assertion: its own signature is
    verified there, while the Response's signature was computed over the bytes as received (with the ciphertext).
    """
    if signature.getparent() is document and any(a.decrypted_from for a in message.assertions):
        received = parse_xml(message.raw_xml, message.source)
        return received.find(DS_SIGNATURE), received
    return signature, document


def _signed_is_read_rule(message: SamlMessage, results: list[_Result], consumed: etree._Element | None,
                         signatures: list[etree._Element]) -> list[str]:
    """See what is signed (xmldsig-bestpractices §2.1): a signature over something other than the assertion a
    relying party reads is wrapping, whether or not it verifies. A Response signature over an EncryptedAssertion
    covers the ciphertext."""
    decrypted = any(a.decrypted_from for a in message.assertions)
    verified = [r for r in results if r.outcome is Outcome.VERIFIED]
    if consumed is None or decrypted or any(r.covers for r in verified):
        return []
    signed_elsewhere = [s for s in signatures if s.getparent().tag == SAML_ASSERTION and s.getparent() is not consumed]
    if not verified and not signed_elsewhere:
        return []
    return [f"signed-is-read: the assertion a relying party reads ({quoted(consumed.get('ID'), QUOTED_ID)}) is not the data the "
            "signature covers"]


def _report(results: list[_Result], rules: list[str], embedded: list[Certificate], keys: _Keys,
            fingerprints: tuple[str, ...], signer: str) -> SignatureReport:
    outcomes = {r.outcome for r in results}
    intact = outcomes & {Outcome.VERIFIED, Outcome.INTACT_UNTRUSTED}
    details = "; ".join(f"{r.element} {r.element_id or ''}: {r.detail}".replace("  ", " ") for r in results)
    if rules and Outcome.BROKEN in outcomes and not intact:
        verdict = SignatureVerdict.INVALID
        reason = details + "; structure: " + "; ".join(rules)
    elif rules:
        verdict = SignatureVerdict.WRAPPING
        crypto = (f"; {details}" if results else
                  "; no signature sits where a relying party reads one, so none was verified")
        reason = "the document is built like a signature-wrapping attack: " + "; ".join(rules) + crypto
    elif Outcome.BROKEN in outcomes:
        verdict = SignatureVerdict.INVALID
        reason = details
    elif Outcome.DISAGREE in outcomes or Outcome.UNSUPPORTED in outcomes:
        verdict = SignatureVerdict.UNSUPPORTED
        reason = details
    elif outcomes & {Outcome.INTACT_UNTRUSTED, Outcome.UNVERIFIABLE}:
        verdict = SignatureVerdict.UNTRUSTED
        reason = details + "; " + _trust_summary(embedded, keys.trusted, fingerprints, signer)
    else:
        verdict = SignatureVerdict.VALID
        reason = details
    main = next((r for r in results if r.covers), results[0] if results else None)
    return SignatureReport(
        verdict=verdict, signed_elements=tuple(r.as_signed_element() for r in results),
        algorithm=main.algorithm if main else None, digest_algorithm=main.digest_algorithm if main else None,
        reason=clip(reason, MAX_REASON), rules_broken=tuple(rules), embedded_certificates=tuple(embedded),
        signing_certificate=next((r.signer for r in results if r.outcome is Outcome.VERIFIED and r.signer), None),
        untrusted_signer=next((r.signer for r in results if r.outcome is Outcome.INTACT_UNTRUSTED), None),
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


# --------------------------------------------------------------------------- one XML signature


def _verify_signature(signature: etree._Element, document: etree._Element, keys: _Keys,
                      consumed: etree._Element | None) -> _Result:
    """Both verifiers' judgement of ``signature`` in ``document``, with the key that made its SignatureValue."""
    result = _describe_signature(signature)
    unsupported = _unsupported_algorithm(signature)
    if unsupported:
        result.outcome = Outcome.UNSUPPORTED
        result.detail = f"unsupported algorithm {quoted(unsupported, QUOTED_ID)} (cannot be verified here, nor by Keycloak)"
        return result
    if len(REFERENCES.all(signature)) != 1:
        result.detail = "not a single Reference, so not verified"
        return result
    candidates = keys.all()
    if not candidates:
        result.outcome = Outcome.UNVERIFIABLE
        result.detail = "no configured certificate and no embedded certificate to verify with"
        return result
    # Among several candidates, the key finder picks the one the verifiers run with. With one (the configured
    # certificate, which the IdP also embeds), the verifiers run with it anyway: the finder is needed only to tell
    # why they refuse.
    signing_key = find_signing_key(signature, candidates) if len(candidates) > 1 else None
    judged_with = signing_key or candidates[0]  # with no matching key, the verifiers confirm the refusal once
    judgements = (verify_with_signxml(signature, document, judged_with),
                  verify_with_libxmlsec(signature, judged_with))
    if signing_key is None and any(j.accepted for j in judgements):
        signing_key = judged_with  # one candidate, or a method the key finder does not evaluate (RSA-PSS)
    elif signing_key is None and len(candidates) == 1:
        signing_key = find_signing_key(signature, candidates)
    _judge(result, judgements, signing_key, keys, signature)
    if result.outcome is Outcome.VERIFIED:
        result.covers = _covers(judgements[0], signature, document, consumed)
    return result


def _describe_signature(signature: etree._Element) -> _Result:
    parent = signature.getparent()
    references = REFERENCES.all(signature)
    method = SIGNATURE_METHOD.first(signature)
    digest = _DIGEST_METHODS.first(signature)
    return _Result(element=local_name(parent), element_id=parent.get("ID"),
                   reference_uri=references[0].get("URI") if references else None,
                   algorithm=method.get("Algorithm") if method is not None else None,
                   digest_algorithm=digest.get("Algorithm") if digest is not None else None,
                   outcome=Outcome.BROKEN, detail="")


def _unsupported_algorithm(signature: etree._Element) -> str | None:
    method = SIGNATURE_METHOD.first(signature)
    c14n = C14N_METHOD.first(signature)
    digests = [d.get("Algorithm") for d in _DIGEST_METHODS.all(signature)]
    found = [u for u in (method.get("Algorithm") if method is not None else None,) if u and u not in SIGNATURE_URIS]
    found += [u for u in digests if u is not None and u not in DIGEST_URIS]
    found += [u for u in (c14n.get("Algorithm") if c14n is not None else None,) if u and u not in C14N_URIS]
    return found[0] if found else None


def _judge(result: _Result, judgements: tuple[VerifierResult, VerifierResult], signing_key: Certificate | None,
           keys: _Keys, signature: etree._Element) -> None:
    """Fold the two verifiers' judgements into one outcome and a one-line detail."""
    accepted = [j for j in judgements if j.accepted]
    refused = [j for j in judgements if not j.accepted]
    scope = (" over the whole document (Reference URI=\"\"), the enclosing Response included, not the "
             f"{result.element} alone" if references_whole_document(signature) and result.element == "Assertion"
             else "")
    if accepted and refused:
        result.outcome = Outcome.DISAGREE
        result.signer = signing_key
        result.detail = (f"{accepted[0].verifier} verifies this signature and {refused[0].verifier} refuses it "
                         f"({refused[0].reason}); the two implementations disagree, most likely on "
                         f"{_likely_difference(signature, refused[0])}, so it is neither accepted nor called tampered")
    elif accepted:
        trust = keys.how_trusted(signing_key)
        result.signer = signing_key
        if trust:
            result.outcome = Outcome.VERIFIED
            result.detail = f"verified{scope} by signxml and libxmlsec1 with {trust} SHA-256 {signing_key.sha256}"
        else:
            result.outcome = Outcome.INTACT_UNTRUSTED
            result.detail = (f"cryptographically intact{scope} with the embedded (KeyInfo) certificate SHA-256 "
                             f"{signing_key.sha256}, which is not trusted")
    elif signing_key is None:
        result.detail = ("does not verify: its SignatureValue matches none of the configured or embedded "
                         "certificates' keys (signed with another key, or SignedInfo changed after signing)")
    else:
        who = keys.how_trusted(signing_key) or "the embedded certificate"
        if judgements[0].digest_mismatch:
            result.detail = (f"signed by {who} SHA-256 {signing_key.sha256}, but the digest does not match: "
                             "the signed content was changed after signing (signxml and libxmlsec1 agree)")
        else:
            result.detail = (f"signed by {who} SHA-256 {signing_key.sha256}, but neither verifier accepts it "
                             f"(signxml: {judgements[0].reason}; libxmlsec1: {judgements[1].reason})")


def _likely_difference(signature: etree._Element, refused: VerifierResult) -> str:
    if refused.reason.startswith("cannot process"):
        return f"what {refused.verifier} can process"
    methods = [m.get("Algorithm") for m in signature.iter("{http://www.w3.org/2000/09/xmldsig#}CanonicalizationMethod",
                                                            "{http://www.w3.org/2000/09/xmldsig#}Transform")]
    c14n = sorted({m for m in methods if m in C14N_URIS})
    return f"canonicalisation ({', '.join(quoted(m, QUOTED_ID) for m in c14n)})" if c14n else "canonicalisation"


def _covers(signxml_judgement: VerifierResult, signature: etree._Element, document: etree._Element,
            consumed: etree._Element | None) -> bool:
    """Whether the consumed assertion is exactly what the verified signature covers.

    A signature over the document (the Response's own, or Reference URI="") must contain the consumed assertion,
    unchanged; an Assertion's own signature must cover that assertion, its canonical form (less the enveloped
    ds:Signature element, the text around it kept) equal to the octets signxml digested.
    """
    signed_xml, signed_data = signxml_judgement.signed_xml, signxml_judgement.signed_data
    if consumed is None or signed_xml is None:
        return False
    if signature.getparent() is document or references_whole_document(signature):
        matching = [a for a in signed_xml.iterchildren(SAML_ASSERTION) if a.get("ID") == consumed.get("ID")]
        read = _without(consumed, signature) if signature.getparent() is consumed else consumed
        return len(matching) == 1 and _exclusive_c14n(matching[0]) == _exclusive_c14n(read)
    return signature.getparent() is consumed and canonical_reference_data(consumed, signature) == signed_data


def _without(element: etree._Element, signature: etree._Element) -> etree._Element:
    """A copy of ``element`` less its child ``signature`` (the enveloped-signature transform), text kept."""
    standalone = copy.deepcopy(element)
    remove_keeping_text(standalone[list(element).index(signature)])
    return standalone


def _exclusive_c14n(element: etree._Element) -> bytes:
    """Both sides without comments (what signxml returns), so a comment spliced into the NameID after signing
    (CVE-2017-11427) compares equal, and the parser reads it whole (``text_of``)."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _embedded_certificates(signatures: list[etree._Element]) -> list[Certificate]:
    certs: list[Certificate] = []
    for signature in signatures[:MAX_SIGNATURES]:
        parent = signature.getparent()
        for element in _KEYINFO_CERTIFICATES.all(signature):
            if len(certs) >= MAX_EMBEDDED_CERTIFICATES:
                return certs
            try:
                cert = replace(_keyinfo_certificate(element.text or ""),
                               source=f"KeyInfo of {local_name(parent)} {parent.get('ID') or ''}".strip())
            except InputError:
                continue  # an unreadable KeyInfo certificate is simply not a candidate
            if cert.sha256 not in {c.sha256 for c in certs}:
                certs.append(cert)
    return certs


@lru_cache(maxsize=64)
def _keyinfo_certificate(text: str) -> Certificate:
    """A KeyInfo certificate described once however many messages carry it (an IdP puts the same one in each)."""
    return certificate_from_base64(text, "KeyInfo")


def _fingerprint_matches(cert: Certificate, fingerprint: str) -> bool:
    try:
        return matches_fingerprint(cert, fingerprint)
    except InputError:
        return False


# --------------------------------------------------------------------------- HTTP-Redirect query signature


def _verify_redirect(message: SamlMessage, sig: RedirectSignature, trusted: tuple[Certificate, ...]) -> _Result:
    """SAML bindings §3.4.4.1: Signature is over the query octets ``SAMLRequest=..&RelayState=..&SigAlg=..``.

    It signs the whole deflated message, so a verified one covers the assertion inside it."""
    result = _Result(element=message.kind.value, element_id=message.id, reference_uri=None, algorithm=sig.sig_alg,
                     digest_algorithm=None, outcome=Outcome.BROKEN, detail="")
    if sig.sig_alg not in SIGNATURE_HASHES:
        result.outcome = Outcome.UNSUPPORTED
        result.detail = f"HTTP-Redirect SigAlg {quoted(sig.sig_alg, QUOTED_ID)} is not supported"
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
        if signature_value_verifies(cert, raw, signed, sig.sig_alg):
            result.outcome, result.signer, result.covers = Outcome.VERIFIED, cert, True
            result.detail = f"HTTP-Redirect signature verified with the configured certificate SHA-256 {cert.sha256}"
            return result
    result.detail = "the HTTP-Redirect signature does not verify with any configured certificate"
    return result

