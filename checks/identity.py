"""SAML: who sent the Response and whom it names: the request it answers (InResponseTo), the Issuer of the Response
and the Assertion, the NameID and its SPNameQualifier.
"""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.checks.common import (
    ENTRA_ERRORS, NAMEID_UNSPECIFIED, SPEC, assertion_locator, bearer_confirmations, each_assertion,
    response_name, sc_locator, sp_entity_note,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted
from ssodiag.diag.urls import identifier_hint


@check(id="SAML011", title="InResponseTo does not match the AuthnRequest", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.REQUEST_ID}, docs=SPEC,
       remediation="Start the login again from Atlan in one browser tab (a stale tab or a second login attempt "
                   "answers an old request); for IdP-initiated logins use the `/endpoint/clients/atlan-saml` ACS.")
def in_response_to_matches(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Response/@InResponseTo and the bearer SubjectConfirmationData/@InResponseTo must equal the ID of the
    AuthnRequest the SP sent (SAML core §3.2.2, profiles §4.1.4.2; python3-saml WRONG_INRESPONSETO, code 15).
    An unsolicited (IdP-initiated) Response has none, which is only worth a warning when the capture shows that
    the SP did send a request. With ``--request-id`` only that ID counts; otherwise any AuthnRequest in the capture.
    """
    known = ({ctx.expect.request_id} if ctx.expect.request_id
             else {m.id for m in ctx.authn_requests if m.id})
    expected = ", ".join(sorted(known))

    def judge_value(msg: SamlMessage, value: str | None, what: str, locator: str) -> Finding:
        where = dict(source=msg.source, locator=locator, expected=expected, seen=value or "(none)")
        if value is None:
            return spec.warn(f"{what} has no InResponseTo (an unsolicited, IdP-initiated answer) although the SP "
                             f"sent AuthnRequest {quoted(expected)}.", **where)
        if value in known:
            return spec.passed(f"{what} answers AuthnRequest {quoted(value)}.", **where)
        return spec.fail(f"{what} answers request {quoted(value)}, not the SP's AuthnRequest {quoted(expected)}.",
                         **where)

    for msg in ctx.responses:
        yield judge_value(msg, msg.in_response_to, response_name(msg), "Response/@InResponseTo")
        for a_index, assertion in enumerate(msg.assertions):
            for index, sc in bearer_confirmations(assertion):
                what = f"The bearer confirmation of assertion {quoted(assertion.id)}"
                yield judge_value(msg, sc.in_response_to, what,
                                  sc_locator(assertion_locator(a_index), index) + "/@InResponseTo")


@check(id="SAML015", title="Issuer is missing, or Response and Assertion issuers differ", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Configure the IdP to put its entity ID in the Issuer of both the Response and the Assertion.")
def issuers_consistent(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Assertion must have an Issuer (SAML core §2.3.3); the Response must have one when it is signed or its
    assertion is encrypted (SAML profiles §4.1.4.2); when both exist they must be the same entity (python3-saml
    ISSUER_MULTIPLE_IN_RESPONSE / ISSUER_NOT_FOUND_IN_ASSERTION, codes 27/28). Keycloak checks both
    (SAMLEndpoint.java 449-458, 489-498 in atlanhq/keycloak-identity 20.0.2).
    """
    for msg in ctx.responses:
        needs_issuer = msg.has_signature or any(p.element == "EncryptedAssertion" for p in msg.encrypted_parts)
        where = dict(source=msg.source, locator="Response/Issuer", seen=msg.issuer or "(none)")
        if msg.issuer:
            yield spec.passed(f"{response_name(msg)} has Issuer {quoted(msg.issuer)}.", **where)
        elif needs_issuer:
            yield spec.fail(f"{response_name(msg)} is signed or encrypted but has no Issuer.", **where)
        else:
            yield spec.passed(f"{response_name(msg)} has no Issuer, which is allowed for an unsigned Response with a "
                              f"plain assertion.", **where)
        for index, assertion in enumerate(msg.assertions):
            where = dict(source=msg.source, locator=f"{assertion_locator(index)}/Issuer",
                         seen=assertion.issuer or "(none)", expected=msg.issuer)
            if not assertion.issuer:
                yield spec.fail(f"Assertion {quoted(assertion.id)} has no Issuer.", **where)
            elif msg.issuer and assertion.issuer != msg.issuer:
                yield spec.fail(f"Assertion {quoted(assertion.id)} is issued by {quoted(assertion.issuer)} but the "
                                f"Response by {quoted(msg.issuer)}: {identifier_hint(assertion.issuer, msg.issuer)}.",
                                **where)
            else:
                yield spec.passed(f"Assertion {quoted(assertion.id)} is issued by {quoted(assertion.issuer)}.",
                                  **where)


@check(id="SAML016", title="Issuer is not the expected IdP entity ID", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.IDP_ENTITY_ID}, docs="https://github.com/keycloak/keycloak/pull/11084",
       remediation="Make the 'Identity Provider Entity ID' in Atlan's SSO settings equal the IdP's entity ID (upload "
                   "the current IdP metadata), or fix the IdP's issuer; Keycloak shows `Invalid requester`.")
def issuer_is_idp(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak checks the Issuer of the Response and of the Assertion against the configured "Identity Provider
    Entity ID" and answers `Invalid requester` when they differ (keycloak PR 11084); python3-saml
    WRONG_ISSUER (code 29), node-saml "Unknown SAML issuer". Exact, case-sensitive comparison.
    """
    idp = ctx.idp_entity_id or ""
    for msg in ctx.responses:
        parts = [("Response/Issuer", response_name(msg), msg.issuer)] if msg.issuer else []
        parts += [(f"{assertion_locator(i)}/Issuer", f"Assertion {quoted(a.id)}", a.issuer)
                  for i, a in enumerate(msg.assertions) if a.issuer]
        if not parts:
            yield spec.skip(f"{response_name(msg)} names no Issuer to compare (see SAML015).", source=msg.source,
                            locator="Response/Issuer")
        for locator, name, issuer in parts:
            where = dict(source=msg.source, locator=locator, expected=idp, seen=issuer)
            if issuer == idp:
                yield spec.passed(f"{name} is issued by the expected IdP {quoted(idp)}.", **where)
            else:
                yield spec.fail(f"{name} is issued by {quoted(issuer)}, not the expected IdP {quoted(idp)}: "
                                f"{identifier_hint(issuer, idp)}.", **where)


@check(id="SAML017", title="NameID is missing or empty", severity=Severity.HIGH, requires={Need.RESPONSE},
       docs=ENTRA_ERRORS,
       remediation="Configure the IdP to send a NameID (Entra: set 'Unique User Identifier (Name ID)', AADSTS501241). "
                   "Atlan does not document a required NameID format, so any stable identifier such as the email "
                   "works.")
def name_id_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Subject should carry a non-empty NameID (python3-saml NO_NAMEID / EMPTY_NAMEID, codes 38/39; node-saml
    "Missing SAML NameID"); Keycloak uses it as the federated identity. The format is reported, never failed:
    Atlan documents no required NameID format.
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Subject/NameID")
        name_id = assertion.name_id
        if name_id is None:
            if any(p.element == "EncryptedID" and not p.decrypted for p in assertion.encrypted_parts):
                yield spec.skip(f"Assertion {quoted(assertion.id)} has an EncryptedID that was not decrypted (pass "
                                f"--sp-key).", **where)
            else:
                yield spec.fail(f"Assertion {quoted(assertion.id)} has no NameID.", seen="(none)", **where)
            return
        fmt = name_id.format or NAMEID_UNSPECIFIED
        if not name_id.value.strip():
            yield spec.fail(f"Assertion {quoted(assertion.id)} has an empty NameID (format {quoted(fmt)}).",
                            seen="(empty)", **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} names the user {quoted(name_id.value)} with NameID "
                              f"format {quoted(fmt)}.", seen=name_id.value, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML018", title="NameID SPNameQualifier is not the SP entity ID", severity=Severity.MEDIUM,
       requires={Need.RESPONSE, Need.SP_ENTITY_ID}, docs=SPEC,
       remediation="Set the IdP's SP name qualifier to Atlan's SP entity ID, or stop sending SPNameQualifier.")
def sp_name_qualifier_matches(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """When present, NameID/@SPNameQualifier names the SP the identifier is for (SAML core §2.2.2); it must be
    this SP (python3-saml SP_NAME_QUALIFIER_NAME_MISMATCH, code 40).
    """
    sp = ctx.sp_entity_id or ""

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Subject/NameID/@SPNameQualifier", expected=sp)
        qualifier = assertion.name_id.sp_name_qualifier if assertion.name_id else None
        if qualifier is None:
            yield spec.passed(f"Assertion {quoted(assertion.id)} has no SPNameQualifier to contradict the SP.",
                              seen="(none)", **where)
        elif qualifier == sp:
            yield spec.passed(f"SPNameQualifier {quoted(qualifier)} is the SP entity ID.", seen=qualifier, **where)
        else:
            yield spec.fail(f"SPNameQualifier {quoted(qualifier)} is not the SP entity ID {quoted(sp)}: "
                            f"{identifier_hint(qualifier, sp)}{sp_entity_note(ctx)}.", seen=qualifier, **where)

    yield from each_assertion(ctx, spec, judge)
