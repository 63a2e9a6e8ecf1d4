"""MD: health of the IdP metadata uploaded to Atlan (from --idp-metadata and metadata given as evidence).

Atlan's Keycloak broker takes the IdP's entity ID, SSO URL and signing certificate from this file (Atlan's SSO
guides: "upload the IdP metadata XML"), so a stale or wrong file breaks every login: an expired certificate gives
`Invalid signature in response from identity provider.`, a wrong entityID gives `Invalid requester`
(docs/atlan-broker-steps.md). The health rules follow SAML metadata §2 and the checks samlguy and python3-saml's
settings lint run.
"""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.diag.certs import MIN_KEY_BITS, Validity, key_too_short, validity_at
from ssodiag.diag.connectors import ATLAN_PING_GUIDE
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Certificate, EntityMetadata, Finding, Metadata, RoleDescriptor, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.timefmt import as_utc, before_or_after, format_instant, reference_name
from ssodiag.diag.text import quoted

BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
MAX_ENTITY_ID_CHARS = 1024  # SAML metadata §2.3.2: entityID is at most 1024 characters
METADATA_SPEC = "https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf"


def metadata_documents(ctx: DiagContext) -> tuple[Metadata, ...]:
    """--idp-metadata, and the evidence's metadata other than SP metadata (Atlan's own export, given as evidence, is
    read as the SP's configuration: ``DiagContext.sp_entities``)."""
    sp_config = set(map(id, ctx.sp_entities))
    evidence = tuple(d for d in ctx.evidence.metadata
                     if not d.entities or any(id(e) not in sp_config for e in d.entities))
    return ctx.expect.idp_metadata + evidence


def idp_roles(ctx: DiagContext) -> Iterator[tuple[Metadata, EntityMetadata, RoleDescriptor]]:
    """Every IDPSSODescriptor with the document and entity it belongs to (for the finding's source)."""
    for doc in metadata_documents(ctx):
        for entity in doc.entities:
            role = entity.role("idp")
            if role is not None:
                yield doc, entity, role


def entity_name(entity: EntityMetadata) -> str:
    return f"IdP metadata {quoted(entity.entity_id)}" if entity.entity_id else "IdP metadata (no entityID)"


def cert_name(cert: Certificate) -> str:
    return f"signing certificate {quoted(cert.subject)} (SHA-256 {cert.sha256[:16]}…)"


@check(id="MD001", title="Metadata validUntil has passed", severity=Severity.HIGH, timed=True,
       requires={Need.IDP_METADATA}, docs=METADATA_SPEC,
       remediation="Download fresh metadata from the IdP and upload it to Atlan's SSO settings.")
def metadata_valid_until(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """validUntil (SAML metadata §2.3.1/§2.3.2) ends the document's validity: a consumer must not use it after
    that (python3-saml settings lint `expired_xml`). cacheDuration is noted: it tells how often to refresh.
    """
    at = ctx.instant_for(None)
    for doc, entity, _role in idp_roles(ctx):
        cache = f" It asks to be refreshed every {quoted(entity.cache_duration)}." if entity.cache_duration else ""
        where = dict(source=doc.source, locator="EntityDescriptor/@validUntil")
        if entity.valid_until is None:
            yield spec.passed(f"{entity_name(entity)} sets no validUntil.{cache}", seen="(none)", **where)
            continue
        until = format_instant(entity.valid_until)
        if as_utc(entity.valid_until) <= as_utc(at):
            yield spec.fail(f"{entity_name(entity)} expired {before_or_after(entity.valid_until, at)} "
                            f"{reference_name(ctx)} (validUntil `{until}`).{cache}", seen=until, **where)
        else:
            yield spec.passed(f"{entity_name(entity)} is valid until `{until}`.{cache}", seen=until, **where)


@check(id="MD002", title="Metadata has no IdP role (IDPSSODescriptor)", severity=Severity.HIGH, docs=METADATA_SPEC,
       remediation="Upload the IdP's metadata (it holds an IDPSSODescriptor), not the SP metadata Atlan exports.")
def metadata_has_idp_role(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """IdP metadata describes the IdP in an IDPSSODescriptor (SAML metadata §2.4.3). A file with only an
    SPSSODescriptor is the SP's own metadata uploaded by mistake; one with no entity at all is empty
    (python3-saml `noEntityDescriptor_xml`).
    """
    docs = metadata_documents(ctx)
    if not docs:
        yield spec.skip(f"Not evaluated: no metadata was given ({Need.IDP_METADATA.hint}).")
        return
    sp_config = set(map(id, ctx.sp_entities))
    for doc in docs:
        if not doc.entities:
            yield spec.fail("The metadata holds no EntityDescriptor.", source=doc.source, locator="EntityDescriptor",
                            seen="(none)")
        for entity in (e for e in doc.entities if id(e) not in sp_config):
            where = dict(source=doc.source, locator="EntityDescriptor/IDPSSODescriptor")
            roles = ", ".join(r.role for r in entity.roles) or "none"
            if entity.role("idp") is not None:
                yield spec.passed(f"Metadata {quoted(entity.entity_id)} describes an IdP.", seen=roles, **where)
            else:
                what = "an SP (SPSSODescriptor)" if entity.role("sp") else "no SAML 2.0 SSO role"
                yield spec.fail(f"Metadata {quoted(entity.entity_id)} describes {what}, not an IdP.", seen=roles,
                                **where)


@check(id="MD003", title="IdP metadata has no usable signing certificate", severity=Severity.CRITICAL,
       requires={Need.IDP_METADATA}, docs=METADATA_SPEC,
       remediation="Export the IdP metadata again with its signing certificate (a KeyDescriptor use=\"signing\" "
                   "or without use) and upload it to Atlan.")
def metadata_signing_cert_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak verifies Response signatures with the certificate from the IdP's KeyDescriptor (SAML metadata
    §2.4.1.1; a KeyDescriptor without ``use`` serves signing too). Without one every signature check fails with
    `Invalid signature in response from identity provider.`
    """
    for doc, entity, role in idp_roles(ctx):
        where = dict(source=doc.source, locator="IDPSSODescriptor/KeyDescriptor")
        errors = [k.error for k in role.keys if k.use in (None, "signing") and k.error]
        certs = role.signing_certificates
        for error in errors:
            yield spec.fail(f"{entity_name(entity)} has a signing KeyDescriptor whose certificate cannot be read: "
                            f"{quoted(error)}.", seen=error, **where)
        if certs:
            yield spec.passed(f"{entity_name(entity)} has {len(certs)} signing certificate(s).", seen=str(len(certs)),
                              **where)
        elif not errors:
            yield spec.fail(f"{entity_name(entity)} has no signing certificate.", seen="0", **where)


@check(id="MD004", title="IdP signing certificate is expired, not yet valid, or expiring soon",
       severity=Severity.HIGH, timed=True, requires={Need.IDP_METADATA}, docs=METADATA_SPEC,
       remediation="Rotate the IdP signing certificate (or activate the new one), then upload the new metadata to "
                   "Atlan before the old certificate expires.")
def metadata_cert_validity(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A certificate outside its notBefore/notAfter (RFC 5280 §4.1.2.5) is refused by strict SPs and signals a
    missed rotation; one expiring within 30 days is a rotation to plan now (check-saml-certs, samlguy).
    """
    at = ctx.instant_for(None)
    ref = reference_name(ctx)
    for doc, entity, role in idp_roles(ctx):
        for cert in role.signing_certificates:
            where = dict(source=doc.source, locator="IDPSSODescriptor/KeyDescriptor",
                         expected=f"{format_instant(cert.not_before)} to {format_instant(cert.not_after)}",
                         seen=format_instant(at))
            state = validity_at(cert, as_utc(at))
            if state is Validity.EXPIRED:
                yield spec.fail(f"The {cert_name(cert)} of {entity_name(entity)} expired "
                                f"{before_or_after(cert.not_after, at)} {ref}.", **where)
            elif state is Validity.NOT_YET_VALID:
                yield spec.fail(f"The {cert_name(cert)} of {entity_name(entity)} is not valid until "
                                f"{before_or_after(cert.not_before, at)} {ref}.", **where)
            elif state is Validity.EXPIRING:
                yield spec.warn(f"The {cert_name(cert)} of {entity_name(entity)} expires "
                                f"{before_or_after(cert.not_after, at)} {ref}.", **where)
            else:
                yield spec.passed(f"The {cert_name(cert)} of {entity_name(entity)} is valid until "
                                  f"`{format_instant(cert.not_after)}`.", **where)


@check(id="MD005", title="IdP signing certificate is signed with SHA-1", severity=Severity.MEDIUM,
       requires={Need.IDP_METADATA}, docs=ATLAN_PING_GUIDE,
       remediation="Issue the IdP signing certificate with SHA-256 or SHA-512 (Atlan's PingFederate guide: "
                   "`Invalid signature` otherwise) and upload the new metadata.")
def metadata_cert_not_sha1(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Atlan asks for a SHA-256 or SHA-512 certificate in the IdP metadata when it reports `Invalid signature`
    (Atlan's PingFederate guide); SHA-1 is deprecated everywhere (python3-saml DEPRECATED_ALGORITHMS).
    """
    for doc, entity, role in idp_roles(ctx):
        for cert in role.signing_certificates:
            where = dict(source=doc.source, locator="IDPSSODescriptor/KeyDescriptor", seen=cert.signature_algorithm,
                         expected="SHA-256 or SHA-512")
            if "sha1" in cert.signature_algorithm.lower().replace("-", ""):
                yield spec.fail(f"The {cert_name(cert)} of {entity_name(entity)} is signed with "
                                f"{quoted(cert.signature_algorithm)}.", **where)
            else:
                yield spec.passed(f"The {cert_name(cert)} of {entity_name(entity)} is signed with "
                                  f"{quoted(cert.signature_algorithm)}.", **where)


@check(id="MD006", title="IdP signing key is shorter than 2048 bits", severity=Severity.MEDIUM,
       requires={Need.IDP_METADATA}, docs="https://csrc.nist.gov/pubs/sp/800/131/a/r2/final",
       remediation="Generate a new IdP signing key of at least 2048 bits (RSA), rotate, and upload the new metadata.")
def metadata_key_size(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """RSA and DSA keys below 2048 bits are disallowed for signatures (NIST SP 800-131A); current Java and
    OpenSSL security levels refuse them, so Keycloak may fail to verify with them.
    """
    for doc, entity, role in idp_roles(ctx):
        for cert in role.signing_certificates:
            seen = f"{cert.key_type} {cert.key_bits or '?'} bits"
            where = dict(source=doc.source, locator="IDPSSODescriptor/KeyDescriptor", seen=seen)
            if key_too_short(cert):
                yield spec.fail(f"The {cert_name(cert)} of {entity_name(entity)} has a {quoted(seen)} key.",
                                expected=f"at least {MIN_KEY_BITS} bits", **where)
            else:
                yield spec.passed(f"The {cert_name(cert)} of {entity_name(entity)} has a {quoted(seen)} key.", **where)


@check(id="MD007", title="IdP SSO or logout endpoint uses plain http", severity=Severity.MEDIUM,
       requires={Need.IDP_METADATA}, docs=METADATA_SPEC,
       remediation="Publish https endpoints in the IdP metadata; an http SSO URL exposes the login to interception "
                   "and browsers may block the mixed-content POST.")
def metadata_endpoints_https(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """SAML messages carry credentials-equivalent assertions; the SAML bindings §3.4.5 / §3.5.5 security
    considerations require TLS. samlguy flags plaintext endpoints in metadata.
    """
    for doc, entity, role in idp_roles(ctx):
        endpoints = [("SingleSignOnService", e) for e in role.sso_services]
        endpoints += [("SingleLogoutService", e) for e in role.slo_services]
        plain = [(kind, e) for kind, e in endpoints if e.location.lower().startswith("http://")]
        where = dict(source=doc.source, locator="IDPSSODescriptor")
        for kind, endpoint in plain:
            yield spec.fail(f"{entity_name(entity)} publishes {kind} {quoted(endpoint.location)} over plain http.",
                            seen=endpoint.location, locator=f"IDPSSODescriptor/{kind}/@Location", source=doc.source)
        if not plain:
            yield spec.passed(f"{entity_name(entity)} publishes no plain-http endpoint ({len(endpoints)} checked).",
                              **where)


@check(id="MD008", title="IdP entityID is empty, padded, or not a URI", severity=Severity.MEDIUM,
       requires={Need.IDP_METADATA}, docs=METADATA_SPEC,
       remediation="Use the IdP's entity ID exactly as it appears in its Responses' Issuer: an absolute URI with no "
                   "surrounding whitespace.")
def metadata_entity_id_hygiene(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """entityID is a URI of at most 1024 characters (SAML metadata §2.3.2, SAML core §8.3.6). Whitespace around
    it breaks the exact Issuer comparison Keycloak makes (`Invalid requester`); a bare word is not a URI.
    """
    for doc, entity, _role in idp_roles(ctx):
        value = entity.entity_id
        where = dict(source=doc.source, locator="EntityDescriptor/@entityID", seen=value or "(empty)")
        if not value.strip():
            yield spec.fail("The IdP metadata has an empty entityID.", **where)
        elif value != value.strip() or any(ch.isspace() for ch in value):
            yield spec.fail(f"{entity_name(entity)} contains whitespace, which breaks exact Issuer matching.",
                            **where)
        elif len(value) > MAX_ENTITY_ID_CHARS:
            yield spec.fail(f"The IdP entityID is {len(value)} characters long, over the {MAX_ENTITY_ID_CHARS} "
                            f"that SAML metadata allows.", **where)
        elif ":" not in value or not value.split(":", 1)[0].isalpha():
            yield spec.fail(f"{entity_name(entity)} is not a URI (no scheme such as `https:` or `urn:`).", **where)
        else:
            yield spec.passed(f"{entity_name(entity)} is a well-formed URI.", **where)


@check(id="MD009", title="IdP has no SSO endpoint with the HTTP-Redirect or HTTP-POST binding",
       severity=Severity.HIGH, requires={Need.IDP_METADATA}, docs=METADATA_SPEC,
       remediation="Publish a SingleSignOnService with the HTTP-Redirect or HTTP-POST binding in the IdP metadata; "
                   "Atlan's Keycloak broker sends its AuthnRequest over one of them.")
def metadata_sso_bindings(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """An IDPSSODescriptor needs at least one SingleSignOnService (SAML metadata §2.4.3; python3-saml
    `idp_sso_not_found`), and a browser-based SP can only use HTTP-Redirect or HTTP-POST (SAML profiles §4.1.2).
    """
    for doc, entity, role in idp_roles(ctx):
        bindings = [e.binding for e in role.sso_services]
        where = dict(source=doc.source, locator="IDPSSODescriptor/SingleSignOnService",
                     seen=", ".join(bindings) or "(none)", expected=f"{BINDING_REDIRECT} or {BINDING_POST}")
        usable = [e for e in role.sso_services if e.binding in (BINDING_REDIRECT, BINDING_POST) and e.location]
        if usable:
            yield spec.passed(f"{entity_name(entity)} receives AuthnRequests at {quoted(usable[0].location)} "
                              f"({usable[0].binding.rsplit(':', 1)[-1]}).", **where)
        elif not bindings:
            yield spec.fail(f"{entity_name(entity)} publishes no SingleSignOnService.", **where)
        else:
            yield spec.fail(f"{entity_name(entity)} offers SSO only over {quoted(', '.join(bindings))}.", **where)
