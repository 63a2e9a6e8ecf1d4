"""SIG: signature trust, wrapping defence, algorithms and signing certificates.

The runner has already run the trust engine (``diag.signature.verify_message``, after ``diag.decrypt`` when
``--sp-key`` is given), so every check here reads ``message.signature`` and judges one problem. Keycloak shows all
of these as one page, "Invalid signature in response from identity provider." (its login theme's
``identityProviderInvalidSignatureMessage``, see docs/atlan-broker-steps.md); these checks say which cause it is.
Protocol-level rules live in ``checks.status``, ``checks.structure``, ``checks.timing``,
``checks.audience_destination`` and ``checks.identity``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from msgspec.structs import replace

from ssodiag.diag.certs import MIN_KEY_BITS, Validity, key_too_short, serial_is_positive, validity_at
from ssodiag.diag.connectors import ATLAN_PING_GUIDE
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Certificate, Finding, SamlMessage, Severity, SignatureReport, SignatureVerdict
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.signature import (
    configured_keyinfo_certificates, is_sha1, keyinfo_trusted, unsupported_algorithms,
)
from ssodiag.diag.timefmt import before_or_after, format_instant, reference_name
from ssodiag.diag.text import quoted

DSIG = "https://www.w3.org/TR/xmldsig-core1/"
SAML_CORE = "https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf"

# How a finding about the signing certificate names it: the certificate that verified, or, on a sanitized copy whose
# signature cannot verify, the configured certificate its KeyInfo carries (what the signer would be on the original).
SIGNED_WITH = "is signed with"
NAMED_IN_KEYINFO = "names in its KeyInfo"
NOT_A_PROVEN_SIGNER = (" The signature itself cannot be verified in a sanitized copy (`ssodiag sanitize` replaced "
                       "personal values after the IdP signed): this is the configured certificate the message names, "
                       "not a proven signer; analyze the original capture to verify it.")


# --------------------------------------------------------------------------- helpers


def _name(msg: SamlMessage) -> str:
    return f"{msg.kind.value} {quoted(msg.id)}" if msg.id else f"The {msg.kind.value} (no ID)"


def _where(msg: SamlMessage, locator: str = "Signature") -> dict[str, str]:
    return {"source": msg.source, "locator": f"{msg.kind.value}/{locator}"}


def describe_certificate(cert: Certificate) -> str:
    return (f"SHA-256 `{cert.sha256}` subject {quoted(cert.subject)} valid {format_instant(cert.not_before)} to "
            f"{format_instant(cert.not_after)}")


def signing_certificates(msg: SamlMessage) -> tuple[Certificate, ...]:
    """The certificate(s) whose key actually signed: the configured one that verified, else (when the signature is
    intact but untrusted) what KeyInfo carries. Nothing for a broken or wrapped signature."""
    report = msg.signature
    if report.signing_certificate is not None:
        return (report.signing_certificate,)
    if report.untrusted_signer is not None:
        return (report.untrusted_signer,)
    if report.verdict is SignatureVerdict.UNTRUSTED:
        return report.embedded_certificates
    return ()


def _intact(report: SignatureReport) -> bool:
    """Whether a signature of the message verifies (with a trusted key or only the KeyInfo one)."""
    return any(e.outcome in ("verified", "intact-untrusted") for e in report.signed_elements)


def _each_signer(ctx: DiagContext, spec: CheckSpec,
                 judge: Callable[[SamlMessage, Certificate, str], Finding]) -> Iterator[Finding]:
    """``judge`` of every certificate that signed a Response (``SIGNED_WITH``), or of the configured certificate a
    sanitized Response names (``NAMED_IN_KEYINFO``, the finding saying it is not a proven signer); a skip for a
    Response whose signer is unknown."""
    for msg in ctx.responses:
        certs = signing_certificates(msg)
        if certs:
            yield from (judge(msg, cert, SIGNED_WITH) for cert in certs)
        elif named := _configured_certificate_named(ctx, msg):
            finding = judge(msg, named, NAMED_IN_KEYINFO)
            yield replace(finding, message=finding.message + NOT_A_PROVEN_SIGNER)
        else:
            yield _signer_unknown(spec, msg)


def _configured_certificate_named(ctx: DiagContext, msg: SamlMessage) -> Certificate | None:
    """On a sanitized message, whose signature cannot verify: the first configured certificate (or one matching a
    configured fingerprint) its KeyInfo carries, in document order as the original's verified signer is picked.
    Sanitizing keeps KeyInfo, so on the original this is the certificate that verified, unless the IdP signed with
    another key; None when KeyInfo carries no configured certificate (which certificate signed stays unknown), and
    for a copy built like a wrapping attack (which of its signatures a relying party reads is not known either)."""
    report = msg.signature
    if not msg.sanitized or report.verdict is not SignatureVerdict.NOT_CHECKED or report.rules_broken:
        return None
    named = configured_keyinfo_certificates(report, ctx.trusted_certificates, ctx.expect.idp_fingerprints)
    return named[0] if named else None


def _signer_unknown(spec: CheckSpec, msg: SamlMessage) -> Finding:
    """The skip of a check about the signing certificate when no certificate is known to have signed."""
    return _not_signed_yet(spec, msg) or spec.skip(
        f"{_name(msg)}: the signature is {msg.signature.verdict.value}, so which certificate signed is unknown.",
        **_where(msg))


def _not_signed_yet(spec: CheckSpec, msg: SamlMessage) -> Finding | None:
    """A skip when there is no signature to judge (absent, or hidden in an encrypted assertion)."""
    verdict = msg.signature.verdict
    if verdict is SignatureVerdict.ABSENT:
        return spec.skip(f"{_name(msg)} is not signed, so there is nothing to judge here (see SIG001).", **_where(msg))
    if verdict is SignatureVerdict.NOT_CHECKED:
        return spec.skip(f"{_name(msg)}: {msg.signature.reason}.", **_where(msg))
    return None


def _structure_read(msg: SamlMessage) -> bool:
    """Whether the message is a sanitized one whose signatures were found: whether they verify cannot be known, but
    what is signed, with which algorithms and the wrapping rules broken come from the structure, which sanitizing
    keeps, so they are judged as on the original."""
    return msg.sanitized and bool(msg.signature.signed_elements)


def _not_read_yet(spec: CheckSpec, msg: SamlMessage) -> Finding | None:
    """``_not_signed_yet`` for a check that reads the signatures' structure only, not whether they verify."""
    return None if _structure_read(msg) else _not_signed_yet(spec, msg)


# --------------------------------------------------------------------------- checks


@check(id="SIG001", title="Neither the Response nor the Assertion is signed", severity=Severity.CRITICAL,
       requires={Need.RESPONSE}, docs=SAML_CORE,
       remediation="Enable signing in the IdP's Atlan app: sign the Assertion (JumpCloud: \"Sign Assertion\"; "
                   "Okta/Entra/Google sign it by default) or the whole Response, with RSA-SHA256.")
def response_is_signed(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """SAML profiles §4.1.3.5: an assertion delivered over HTTP-POST must be signed (the Response, the Assertion, or
    both). An unsigned one is python3-saml NO_SIGNATURE_FOUND (code 34) and Keycloak refuses it; a stripped signature
    is also an attack (signature exclusion). An encrypted assertion hides its signature: without --sp-key this
    check skips rather than guessing.
    """
    for msg in ctx.responses:
        report = msg.signature
        if report.verdict is SignatureVerdict.NOT_CHECKED and not _structure_read(msg):
            yield spec.skip(f"{_name(msg)}: {report.reason}.", **_where(msg))
            continue
        code = msg.status.code if msg.status else None
        if not msg.assertions and not msg.encrypted_parts and code and not code.endswith(":Success"):
            # an IdP's error answer carries no assertion: SAML profiles §4.1.3.5 asks for a signed assertion, and
            # there is none; the status says why the login failed (the status checks report it)
            yield spec.skip(f"{_name(msg)} is an error answer (status `{code.rsplit(':', 1)[-1]}`) with no "
                            "assertion: nothing to sign, the status is the finding.", **_where(msg))
            continue
        signed = sorted({e.element for e in report.signed_elements if e.element in ("Response", "Assertion")})
        if signed:
            yield spec.passed(f"{_name(msg)} carries a signature on: {', '.join(signed)}.",
                              expected="a signed Response or Assertion", seen=", ".join(signed), **_where(msg))
        else:
            yield spec.fail(f"{_name(msg)} has no signature on the Response nor on the Assertion; any relying "
                            "party must reject it (Keycloak: \"Invalid signature in response from identity "
                            "provider.\").", expected="a ds:Signature on the Response or the Assertion",
                            seen="no signature", **_where(msg))


@check(id="SIG002", title="The signature does not verify", severity=Severity.CRITICAL, requires={Need.MESSAGE},
       docs=DSIG, remediation="Capture the message again without editing it (pretty-printing, re-encoding or any "
                              "change breaks the digest); if it still fails, the IdP signed with another key than "
                              "the one in its KeyInfo/metadata, or a proxy rewrote the message.")
def signature_verifies(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Every XML signature (and an HTTP-Redirect query signature, SAML bindings §3.4.4.1) must verify
    cryptographically: digest over the referenced element, then the SignatureValue. A digest mismatch means the
    content changed after signing; a SignatureValue mismatch means another key signed it. Without configured trust
    the engine still tells "intact" from "broken" using the KeyInfo certificate (trust is SIG004's business).
    Two implementations judge each signature, signxml and libxmlsec1: when they disagree the signature is neither
    intact nor tampered, and this check skips saying which accepted it.
    """
    for msg in ctx.evidence.messages:
        skipped = _not_signed_yet(spec, msg)
        if skipped:
            yield skipped
            continue
        report = msg.signature
        if report.verdict is SignatureVerdict.INVALID:
            yield spec.fail(f"{_name(msg)}: the signature does not verify: {report.reason}.",
                            expected="a signature that verifies", seen="does not verify", **_where(msg))
        elif disagreement := [e.detail for e in report.signed_elements if e.outcome == "verifiers-disagree"]:
            yield spec.skip(f"{_name(msg)}: cannot be decided: {disagreement[0]}.", **_where(msg))
        elif report.verdict is SignatureVerdict.UNSUPPORTED:
            yield spec.skip(f"{_name(msg)}: the signature uses an algorithm that cannot be evaluated (see SIG005).",
                            **_where(msg))
        elif report.verdict is SignatureVerdict.UNTRUSTED and not report.embedded_certificates:
            yield spec.skip(f"{_name(msg)}: {report.reason}.", **_where(msg))  # no key at all to verify with
        elif report.verdict is SignatureVerdict.WRAPPING and not _intact(report):
            yield spec.skip(f"{_name(msg)}: its signatures sit where the wrapping rules forbid one, so they were not "
                            "verified (see SIG003).", **_where(msg))
        else:
            yield spec.passed(f"{_name(msg)}: the signature is cryptographically intact.",
                              expected="a signature that verifies", seen="verifies", **_where(msg))


@check(id="SIG003", title="The document is built like an XML signature-wrapping attack", severity=Severity.CRITICAL,
       requires={Need.MESSAGE}, docs="https://www.usenix.org/conference/usenixsecurity12/technical-sessions/"
                                     "presentation/somorovsky",
       remediation="Do not accept this message. Get a fresh capture straight from the IdP; if the IdP itself emits "
                   "this shape (several assertions, signatures in unusual places), fix its signing configuration.")
def no_signature_wrapping(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """XSW defence (Somorovsky et al., USENIX Security 2012; python3-saml codes 6-13; node-saml): the signature's
    parent is the Response or its Assertion, its single Reference points at that parent, IDs are unique, there is exactly one
    assertion anywhere in the document, transforms are only enveloped-signature + C14N. A message that breaks any
    of these is refused even when its signature verifies, because the signed element is not the one read.
    """
    for msg in ctx.evidence.messages:
        report = msg.signature
        if report.rules_broken:
            if msg.sanitized and report.verdict is SignatureVerdict.NOT_CHECKED:
                crypto = f"its signature is {report.reason}"
            elif _intact(report):
                crypto = "its signature verifies, so the signed data was moved, not forged"
            elif any(e.outcome == "broken" for e in report.signed_elements):
                crypto = "its signature does not verify either"
            else:
                crypto = "its signatures sit where no relying party reads one, so they were not verified"
            yield spec.fail(f"{_name(msg)} breaks {len(report.rules_broken)} signature-wrapping rule(s); {crypto}: "
                            + "; ".join(report.rules_broken) + ".",
                            expected="one signed Response/Assertion, referenced by its own ID",
                            seen=report.rules_broken[0].split(":", 1)[0], **_where(msg))
            continue
        skipped = _not_read_yet(spec, msg)
        yield skipped or spec.passed(f"{_name(msg)}: the signed element is the element read; no wrapping rule is "
                                     "broken.", **_where(msg))


@check(id="SIG004", title="Signed with a certificate that is not the configured one (rotated certificate)",
       severity=Severity.CRITICAL, requires={Need.RESPONSE, Need.IDP_TRUST}, docs=SAML_CORE,
       remediation="The IdP signs with a new certificate: download the IdP's current metadata (or signing "
                   "certificate) and upload it in Atlan (Admin > SSO > your IdP). During a rollover keep both.")
def signed_by_trusted_certificate(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Trust comes only from --idp-cert, --idp-fingerprint and IdP metadata, never from the certificate the message
    carries in KeyInfo (a re-signed message carries the attacker's certificate there). Several configured
    certificates are a rollover: any one verifying is enough. A signature intact only with an unconfigured KeyInfo
    certificate is the classic "IdP rotated its certificate and Atlan still has the old one".
    """
    configured = [describe_certificate(c) for c in ctx.trusted_certificates]
    configured += [f"fingerprint `{f}`" for f in ctx.expect.idp_fingerprints]
    for msg in ctx.responses:
        skipped = _not_signed_yet(spec, msg)
        report = msg.signature
        if msg.sanitized and keyinfo_trusted(report, ctx.trusted_certificates, ctx.expect.idp_fingerprints) is False:
            embedded = "; ".join(describe_certificate(c) for c in report.embedded_certificates)
            yield spec.fail(f"{_name(msg)} carries in its KeyInfo a certificate none of the configured ones is (the "
                            "signature itself is not checked: the evidence was sanitized). KeyInfo: "
                            f"{embedded}; configured: {'; '.join(configured)}.",
                            expected="; ".join(configured), seen=embedded, **_where(msg))
        elif skipped:
            yield skipped
        elif report.verdict is SignatureVerdict.VALID and report.signing_certificate:
            yield spec.passed(f"{_name(msg)} is signed by the configured certificate "
                              f"{describe_certificate(report.signing_certificate)}.",
                              seen=report.signing_certificate.sha256, **_where(msg))
        elif report.verdict is SignatureVerdict.UNTRUSTED:
            embedded = "; ".join(describe_certificate(c) for c in report.embedded_certificates) or "(none)"
            yield spec.fail(f"{_name(msg)} is signed with a key none of the configured certificates holds. The "
                            f"message's KeyInfo certificate is {embedded}; configured: {'; '.join(configured)}.",
                            expected="; ".join(configured), seen=embedded, **_where(msg))
        else:
            yield spec.skip(f"{_name(msg)}: trust cannot be judged while the signature is {report.verdict.value} "
                            "(see SIG002, SIG003, SIG005).", **_where(msg))


@check(id="SIG005", title="Signature algorithm is not supported", severity=Severity.HIGH, requires={Need.MESSAGE},
       docs=DSIG, remediation="Set the IdP's signature algorithm to RSA-SHA256 (http://www.w3.org/2001/04/"
                              "xmldsig-more#rsa-sha256) and digest SHA-256 (http://www.w3.org/2001/04/xmlenc#sha256).")
def algorithm_supported(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Algorithm URIs must be the XML-DSig ones (xmldsig-core1 §6). Non-standard spellings (ADFS's
    ``xmlenc#sha384``, ``xmldsig-more#rsa-sha1``) and HMAC cannot be verified by Keycloak nor here.
    """
    for msg in ctx.evidence.messages:
        skipped = _not_read_yet(spec, msg)
        if skipped:
            yield skipped
            continue
        odd = [u for e in msg.signature.signed_elements for u in unsupported_algorithms(e)]
        if odd:
            yield spec.fail(f"{_name(msg)} is signed with {quoted(odd[0])}, which is not a supported XML-DSig "
                            "algorithm.", expected="rsa-sha256 / sha256", seen=odd[0], **_where(msg))
        else:
            shown = ", ".join(sorted({e.algorithm or "?" for e in msg.signature.signed_elements}))
            yield spec.passed(f"{_name(msg)} uses supported algorithms ({shown}).", seen=shown, **_where(msg))


@check(id="SIG006", title="Signed with SHA-1", severity=Severity.HIGH, requires={Need.RESPONSE}, docs=ATLAN_PING_GUIDE,
       remediation="Switch the IdP's signing algorithm to SHA-256 (or SHA-512: OneLogin \"SAML Signature Algorithm\" "
                   "SHA-512) for both signature and digest.")
def not_sha1(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Atlan requires SHA-256 or SHA-512 signatures ("If you get an Invalid signature error, check that the
    certificate in the XML metadata file is SHA-256 or SHA-512", Atlan's PingFederate guide). SHA-1 (rsa-sha1,
    dsa-sha1, the sha1 digest) is python3-saml DEPRECATED_SIGNATURE_METHOD / _DIGEST_METHOD (codes 46/47). The
    signature is still verified, so the finding says "valid, but SHA-1".
    """
    for msg in ctx.responses:
        skipped = _not_read_yet(spec, msg)
        if skipped:
            yield skipped
            continue
        weak = sorted({u for e in msg.signature.signed_elements for u in (e.algorithm, e.digest_algorithm)
                       if is_sha1(u)})
        verdict = msg.signature.verdict
        joiner = "but" if verdict is SignatureVerdict.VALID else "and"
        if weak:
            yield spec.fail(f"{_name(msg)} is signed with SHA-1 ({', '.join(quoted(u) for u in weak)}); the "
                            f"signature is {verdict.value}, {joiner} Atlan expects SHA-256 or SHA-512.",
                            expected="SHA-256 or SHA-512", seen=", ".join(weak), **_where(msg))
        else:
            shown = ", ".join(sorted({u for e in msg.signature.signed_elements
                                      for u in (e.algorithm, e.digest_algorithm) if u}))
            yield spec.passed(f"{_name(msg)} uses no SHA-1 ({shown}).", seen=shown, **_where(msg))


@check(id="SIG007", title="Signing key is too short", severity=Severity.HIGH, requires={Need.RESPONSE},
       docs="https://csrc.nist.gov/pubs/sp/800/131/a/r2/final",
       remediation="Generate a new IdP signing certificate with an RSA key of at least 2048 bits, then upload the "
                   "new metadata/certificate in Atlan.")
def key_long_enough(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """RSA keys under 2048 bits are disallowed for signatures (NIST SP 800-131A) and refused by current Java
    (jdk.certpath.disabledAlgorithms, which Keycloak runs on). Judged on the key that actually signed (on a
    sanitized copy, on the configured certificate its KeyInfo names, see ``_each_signer``).
    """
    def judge(msg: SamlMessage, cert: Certificate, signed: str) -> Finding:
        seen = f"{cert.key_type} {cert.key_bits or '?'} bits"
        if key_too_short(cert):
            return spec.fail(f"{_name(msg)} {signed} a {seen} key ({describe_certificate(cert)}).",
                             expected=f"at least {MIN_KEY_BITS} bits", seen=seen, **_where(msg))
        return spec.passed(f"{_name(msg)} {signed} a {seen} key.", seen=seen, **_where(msg))

    return _each_signer(ctx, spec, judge)


@check(id="SIG008", title="Signing certificate is expired, not yet valid, or expiring soon", severity=Severity.HIGH,
       timed=True, requires={Need.RESPONSE}, docs="https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5",
       remediation="Renew the IdP signing certificate (keep the old one active during the rollover), then upload the "
                   "new metadata/certificate in Atlan before the old one expires.")
def certificate_in_validity(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The signing certificate's notBefore/notAfter (RFC 5280 §4.1.2.5), judged at the login's instant (--at, the
    capture time, else now). Many SPs refuse expired IdP certificates; within 30 days is a warning to plan the
    rollover. On a sanitized copy, the configured certificate its KeyInfo names is judged the same way
    (``_each_signer``).
    """
    def judge(msg: SamlMessage, cert: Certificate, signed: str) -> Finding:
        instant, ref = ctx.instant_for(msg), reference_name(ctx, msg)
        window = f"{format_instant(cert.not_before)} to {format_instant(cert.not_after)}"
        kw = dict(expected=f"valid at {format_instant(instant)}", seen=window, **_where(msg))
        state = validity_at(cert, instant)
        if state is Validity.EXPIRED:
            return spec.fail(f"{_name(msg)} {signed} a certificate that expired "
                             f"{before_or_after(cert.not_after, instant)} {ref} ({describe_certificate(cert)}).", **kw)
        if state is Validity.NOT_YET_VALID:
            return spec.fail(f"{_name(msg)} {signed} a certificate that is not valid until "
                             f"{format_instant(cert.not_before)}, {before_or_after(cert.not_before, instant)} "
                             f"{ref}.", **kw)
        if state is Validity.EXPIRING:
            return spec.warn(f"{_name(msg)} {signed} a certificate that expires "
                             f"{format_instant(cert.not_after)}, within 30 days of {ref}.",
                             severity=Severity.MEDIUM, **kw)
        return spec.passed(f"{_name(msg)} {signed} a certificate valid {window}.", **kw)

    return _each_signer(ctx, spec, judge)


@check(id="SIG009", title="IdP metadata certificate is not the one that signed", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.IDP_METADATA}, docs=SAML_CORE,
       remediation="Upload the IdP's current metadata to Atlan: the metadata you have lists a signing certificate "
                   "the IdP no longer uses, so Keycloak will reject the signature. Metadata attached as evidence is "
                   "only compared: if it came from the IdP itself, pass it with --idp-metadata to trust it.")
def metadata_cert_signed(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Each IdP metadata document is compared with the certificate whose key signed (SAML metadata §2.4.1.1
    KeyDescriptor). --idp-metadata is what Atlan holds: when it lists other certificates than the configured one
    that verified, it is stale (when nothing configured verifies, SIG004 reports the rotation). Metadata
    attached as evidence (a file, a pasted document, a value in a capture) is never trusted, because whoever
    produced the evidence could have produced the metadata too; it is described and compared only.
    """
    documents = [(doc, True) for doc in ctx.expect.idp_metadata] + [(doc, False) for doc in ctx.evidence.metadata]
    for msg in ctx.responses:
        report = msg.signature
        signer = report.signing_certificate or report.untrusted_signer
        if report.verdict not in (SignatureVerdict.VALID, SignatureVerdict.UNTRUSTED) or signer is None:
            yield _not_signed_yet(spec, msg) or spec.skip(
                f"{_name(msg)}: the signature is {report.verdict.value}; see SIG002-SIG004.", **_where(msg))
            continue
        for doc, configured in documents:
            listed = {c.sha256: c for e in doc.entities if (role := e.role("idp")) for c in role.signing_certificates}
            if configured and report.signing_certificate is None:
                yield spec.skip(f"{_name(msg)} is signed with a key nothing configured holds: SIG004 reports it.",
                                **_where(msg))
            elif listed:
                yield _compare_metadata(spec, msg, doc.source, listed, signer, configured)


def _compare_metadata(spec: CheckSpec, msg: SamlMessage, source: str, listed: dict[str, Certificate],
                      signer: Certificate, configured: bool) -> Finding:
    names = "; ".join(describe_certificate(c) for c in listed.values())
    trusted = msg.signature.signing_certificate is not None
    where = {**_where(msg), "source": source}
    if configured:
        if signer.sha256 in listed:
            return spec.passed(f"{_name(msg)} is signed by the metadata's certificate {describe_certificate(signer)}.",
                               seen=signer.sha256, **where)
        return spec.fail(f"{_name(msg)} is signed by {describe_certificate(signer)}, which the IdP metadata does "
                         f"not list (it lists {names}).", expected=names, seen=signer.sha256, **where)
    if signer.sha256 not in listed:
        return spec.fail(f"The metadata you attached ({quoted(source)}) names certificate {names}; {_name(msg)} is "
                         f"signed with {describe_certificate(signer)}.", expected=names, seen=signer.sha256, **where)
    if trusted:
        return spec.passed(f"The metadata you attached ({quoted(source)}) names the configured certificate that "
                           f"signed {_name(msg)}: {describe_certificate(signer)}.", seen=signer.sha256, **where)
    return spec.warn(f"The metadata you attached ({quoted(source)}) names the certificate that signed {_name(msg)} "
                     f"({describe_certificate(signer)}), but metadata attached as evidence is not trusted: nothing "
                     "you configured vouches for that key. If the metadata came from the IdP itself (its metadata "
                     "URL or admin console), pass it with --idp-metadata.", seen=signer.sha256, **where)


@check(id="SIG011", title="Signing certificate's serial number is not positive", severity=Severity.INFO,
       requires={Need.RESPONSE}, docs="https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2",
       remediation="At the next certificate rollover, issue the IdP signing certificate with a positive serial number "
                   "(any current CA or `openssl req -x509` does), then upload it to Atlan. Nothing needs to change "
                   "today: Keycloak reads the certificate.")
def serial_is_conformant(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """RFC 5280 §4.1.2.2: the serial number MUST be a positive integer. Old IdP certificates (self-signed by early
    tooling) sometimes carry a negative or zero one; Java reads them, while strict X.509 libraries already warn and
    have announced they will refuse them. Informational: it breaks nothing yet, it is worth fixing at the next
    rollover.
    """
    def judge(msg: SamlMessage, cert: Certificate, signed: str) -> Finding:
        if serial_is_positive(cert):
            return spec.passed(f"{_name(msg)} {signed} a certificate whose serial number `{cert.serial}` is "
                               "positive.", seen=cert.serial, **_where(msg))
        return spec.fail(f"{_name(msg)} {signed} a certificate whose serial number is `{cert.serial}` (hex), "
                         f"not a positive integer as RFC 5280 requires ({describe_certificate(cert)}).",
                         expected="a positive serial number", seen=cert.serial, **_where(msg))

    return _each_signer(ctx, spec, judge)


@check(id="SIG010", title="Encrypted assertion could not be read", severity=Severity.HIGH, requires={Need.RESPONSE},
       docs=SAML_CORE, remediation="Pass --sp-key with the private key of the SP (Atlan) encryption certificate the "
                                   "IdP encrypts to; if decryption fails, the IdP encrypts to an old or wrong SP "
                                   "certificate: update it in the IdP's Atlan app.")
def encrypted_parts_readable(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """EncryptedAssertion / EncryptedID / EncryptedAttribute (SAML core §2.2.4, §2.3.4, §2.7.3.2) hide the data the
    other checks judge, and the assertion's signature with it. Without --sp-key this is a skip naming what is
    encrypted and with which algorithms, never a pass; with a key that does not fit, a failure.
    """
    for msg in ctx.responses:
        parts = list(msg.encrypted_parts) + [p for a in msg.assertions for p in a.encrypted_parts]
        decrypted = [a.decrypted_from for a in msg.assertions if a.decrypted_from]
        for part in parts:
            what = (f"{part.element} (data {quoted(part.data_algorithm or '?')}, key transport "
                    f"{quoted(part.key_algorithm or '?')})")
            where = _where(msg, part.element)
            if part.error:
                yield spec.fail(f"{_name(msg)}: {what} could not be decrypted: {part.error}.",
                                expected="decryptable with the SP key", seen=part.error, **where)
            elif not ctx.expect.sp_key_pem:
                yield spec.skip(f"{_name(msg)} carries an encrypted {what}; its content (and any signature inside) "
                                "is not checked. Pass --sp-key to decrypt it.", seen=what, **where)
            else:  # a key was given but this part was not attempted (e.g. nested deeper than SAML allows)
                yield spec.skip(f"{_name(msg)}: {what} was not decrypted, so its content is not checked.",
                                seen=what, **where)
        for part in decrypted:
            yield spec.passed(f"{_name(msg)}: the {part.element} was decrypted with the SP key.",
                              **_where(msg, part.element))
        if not parts and not decrypted:
            yield spec.passed(f"{_name(msg)} has no encrypted parts.", **_where(msg, "Assertion"))
