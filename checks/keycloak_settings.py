"""KC020-KC025: the tenant's identity-provider settings in Atlan's Keycloak (``--keycloak-idp``), judged on their own.

A setting can stop every login before any Response is wrong: Keycloak silently drops a signing certificate that is
expired or not yet valid, so each login then fails "Invalid signature in response from identity provider.".
"""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.diag.broker import BrokerConfig, source_url
from ssodiag.diag.certs import Validity, validity_at
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Finding, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.timefmt import format_instant
from ssodiag.diag.urls import quoted

CONFIG_SOURCE = source_url("SAMLIdentityProviderConfig.java:82-305")


def _tenant(ctx: DiagContext) -> BrokerConfig:
    """The settings; every check here requires Need.KEYCLOAK_IDP, so they are there."""
    return ctx.expect.keycloak_idp


def _where(config: BrokerConfig, setting: str) -> dict:
    return dict(source=config.origin.removeprefix("--keycloak-idp "), locator=f"config.{setting}")


@check(id="KC020", title="Keycloak's signing certificate is unusable (expired, not yet valid, unreadable or none)",
       severity=Severity.CRITICAL, timed=True, requires={Need.KEYCLOAK_IDP},
       docs=source_url("SAMLEndpoint.java:252-269"),
       remediation="Paste the IdP's current signing certificate (or re-import its metadata) in Atlan's SSO settings; "
                   "during a rollover keep the old and the new one.")
def signing_certificate_usable(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak verifies signatures only with the configured ``signingCertificate`` list, and drops every certificate
    that fails ``checkValidity()`` at the login (only a WARN "Ignoring invalid certificate" in its log): with none
    left, every login fails at the document signature. An unreadable certificate makes the key list throw (500).
    Judged at the login instant (``--at``, else the capture time, else now)."""
    config = _tenant(ctx)
    where = _where(config, "signingCertificate")
    if not config.validate_signature:
        yield spec.skip("Signature validation is off, so Keycloak uses no signing certificate (see KC021).", **where)
        return
    if config.unreadable_certificates:
        yield spec.fail(f"The configured signingCertificate {quoted(config.unreadable_certificates[0])} is not a "
                        "certificate: Keycloak fails every login with \"An internal server error has occurred\".",
                        seen=config.unreadable_certificates[0], **where)
        return
    certificates = config.signing_certificates or ()
    if not certificates:
        yield spec.fail("Signature validation is on but no signing certificate is configured: every signature "
                        "fails (\"Invalid signature in response from identity provider.\").", seen="(none)", **where)
        return
    at = ctx.instant_for(ctx.responses[0] if ctx.responses else None)
    state = {c.sha256: validity_at(c, at) for c in certificates}
    dropped = [c for c in certificates if state[c.sha256] in (Validity.EXPIRED, Validity.NOT_YET_VALID)]
    shown = "; ".join(f"{quoted(c.subject)} ({state[c.sha256].value}, valid {format_instant(c.not_before)} to "
                      f"{format_instant(c.not_after)})" for c in dropped)
    if len(dropped) == len(certificates):
        yield spec.fail(f"Every configured signing certificate is unusable at {format_instant(at)}: {shown}. "
                        "Keycloak drops them without a word, so every login fails \"Invalid signature in response "
                        "from identity provider.\".", seen=shown, **where)
    elif dropped:
        yield spec.warn(f"Keycloak ignores {shown} at {format_instant(at)}; the other configured certificate(s) "
                        "still verify signatures made with their key.", severity=Severity.MEDIUM, seen=shown,
                        **where)
    else:
        yield spec.passed(f"All {len(certificates)} configured signing certificate(s) are valid at "
                          f"{format_instant(at)}.", **where)


@check(id="KC021", title="Keycloak does not validate the IdP's signatures", severity=Severity.HIGH,
       requires={Need.KEYCLOAK_IDP}, docs=CONFIG_SOURCE,
       remediation="Turn on \"Validate Signatures\" in the identity provider's settings and paste the IdP's signing "
                   "certificate (importing metadata copies the IdP's WantAuthnRequestsSigned into it, which is often "
                   "false).")
def signature_validation_on(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """``validateSignature`` defaults to false (SAMLIdentityProviderConfig.java:106-108), and importing IdP metadata
    sets it from the IdP's WantAuthnRequestsSigned (SAMLIdentityProviderFactory.java:131): with it off, Keycloak
    accepts a Response anyone forged."""
    config = _tenant(ctx)
    where = _where(config, "validateSignature")
    if config.validate_signature:
        yield spec.passed("Keycloak validates the IdP's signatures.", **where)
    else:
        yield spec.fail("Signature validation is off: Keycloak accepts any Response, signed or not, so anyone who can "
                        "post to Atlan's ACS URL can sign in as any user.", seen="false", expected="true", **where)


@check(id="KC022", title="The Identity Provider Entity ID is empty", severity=Severity.MEDIUM,
       requires={Need.KEYCLOAK_IDP}, docs=source_url("SAMLEndpoint.java:449-458"),
       remediation="Set \"Identity Provider Entity ID\" to the IdP's entity ID (the entityID of its metadata).")
def idp_entity_id_set(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak compares the Response and Assertion Issuer with ``idpEntityId`` only when it is set (steps 13 and
    17 of the broker): empty, any issuer is accepted."""
    config = _tenant(ctx)
    where = _where(config, "idpEntityId")
    if config.idp_entity_id:
        yield spec.passed(f"Keycloak checks the Issuer against {quoted(config.idp_entity_id)}.", **where)
    else:
        yield spec.warn("No Identity Provider Entity ID is set, so Keycloak accepts any Issuer.", seen="(empty)",
                        **where)


@check(id="KC023", title="Keycloak's signing certificate is not the one in the IdP's metadata", severity=Severity.HIGH,
       requires={Need.KEYCLOAK_IDP, Need.IDP_METADATA}, docs=source_url("SAMLEndpoint.java:252-269"),
       remediation="Paste the signing certificate of the IdP's current metadata in Atlan's SSO settings (Keycloak "
                   "20 never refreshes keys from a metadata URL).")
def certificate_matches_metadata(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The IdP signs with a key its metadata publishes; Keycloak 20.0.2 holds only the pasted ``signingCertificate``
    list and has no metadata-URL key refresh. None of the metadata's signing certificates among Keycloak's means the
    IdP rotated (or the metadata is another IdP's)."""
    config = _tenant(ctx)
    where = _where(config, "signingCertificate")
    held = {c.sha256 for c in config.signing_certificates or ()}
    published = [c for e in ctx.idp_entities for c in e.role("idp").signing_certificates]
    if not held:
        yield spec.skip("No signing certificate is configured (see KC020).", **where)
    elif not published:
        yield spec.skip("The IdP metadata publishes no signing certificate.", **where)
    elif held & {c.sha256 for c in published}:
        yield spec.passed("Keycloak holds a signing certificate the IdP's metadata publishes.", **where)
    else:
        shown = "; ".join(f"{quoted(c.subject)} SHA-256 `{c.sha256[:16]}…`" for c in published[:3])
        yield spec.fail(f"None of Keycloak's {len(held)} signing certificate(s) is in the IdP's metadata ({shown}): "
                        "signatures made with the metadata's key fail.", seen=", ".join(sorted(held))[:200],
                        expected=shown, **where)


@check(id="KC024", title="Keycloak allows a clock skew", severity=Severity.INFO, requires={Need.KEYCLOAK_IDP},
       docs=source_url("SAMLIdentityProviderConfig.java:268-282"),
       remediation="Nothing to do unless assertions arrive early or late; fix clocks with NTP rather than widening "
                   "the skew.")
def clock_skew_setting(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """``allowedClockSkew`` (seconds, default 0) widens the Conditions window on both sides; the broker model and
    the time checks use the tenant's value."""
    config = _tenant(ctx)
    where = _where(config, "allowedClockSkew")
    if config.allowed_clock_skew:
        yield spec.warn(f"The tenant allows {config.allowed_clock_skew} s of clock skew (Keycloak's default is 0); "
                        "the time checks use it.", seen=str(config.allowed_clock_skew), **where)
    else:
        yield spec.passed("No clock skew is allowed (Keycloak's default, 0 s): an IdP clock a second ahead fails "
                          "the login.", seen="0", **where)


@check(id="KC025", title="A mapper reads an attribute no Response carries", severity=Severity.MEDIUM,
       requires={Need.KEYCLOAK_IDP, Need.RESPONSE}, docs=source_url("UserAttributeMapper.java:158-197"),
       remediation="Make the mapper's attribute name equal the Name or FriendlyName the IdP sends (exact, "
                   "case-sensitive), or add the attribute to the IdP app.")
def mapper_attributes_sent(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak's SAML mappers match an attribute whose Name or FriendlyName equals the configured name, exactly and
    case-sensitively; a mapper whose attribute no Response carries never fires (an importer leaves the field empty,
    a role or group mapper removes what it grants)."""
    config = _tenant(ctx)
    assertions = [a for m in ctx.responses for a in m.assertions]
    if not assertions:
        yield spec.skip("No readable assertion to compare the mappers with.", **_where(config, "mappers"))
        return
    if not config.mappers:
        yield spec.skip("The identity provider has no mapper reading a SAML attribute.", **_where(config, "mappers"))
        return
    sent = sorted({n for a in assertions for attr in a.attributes for n in (attr.name, attr.friendly_name) if n})
    for mapper in config.mappers:
        where = dict(_where(config, "mappers"), locator=f"mapper {mapper.name}")
        if any(_named(a, mapper.attribute) for a in assertions):
            yield spec.passed(f"Mapper {quoted(mapper.name)} reads {quoted(mapper.attribute)}, which the IdP sends.",
                              **where)
            continue
        near = [n for n in sent if n.lower() == mapper.attribute.lower()]
        hint = f"; the IdP sends {quoted(near[0])}, which differs only in letter case" if near else ""
        yield spec.warn(f"Mapper {quoted(mapper.name)} reads attribute {quoted(mapper.attribute)}, which no Response "
                        f"carries{hint}.", expected=mapper.attribute, seen=", ".join(sent)[:200] or "(none)",
                        **where)


def _named(assertion: Assertion, name: str) -> bool:
    """An attribute with that Name or FriendlyName is present (exact, as the mappers match), even with no value."""
    return any(name in (a.name, a.friendly_name) for a in assertion.attributes)
