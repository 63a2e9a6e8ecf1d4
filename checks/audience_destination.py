"""SAML: where a Response is addressed: the Audience (the SP entity ID), the Destination and the bearer
Recipient (an SP ACS URL), and the Destination a signed Response must carry.
"""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.checks.common import (
    BINDINGS, PROFILES, SPEC, acs_url_finding, bearer_confirmations, each_assertion, response_name, sc_locator,
    sp_entity_note,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted
from ssodiag.diag.urls import identifier_hint


@check(id="SAML010", title="SubjectConfirmationData Recipient is not an SP ACS URL", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.ACS_URL}, docs=PROFILES,
       remediation="Set the IdP app's Recipient / ACS URL to the exact URL from Atlan's SSO page (Okta: "
                   "'Use this for Recipient URL and Destination URL').")
def recipient_matches_acs(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The bearer SubjectConfirmationData must name the ACS URL the assertion is delivered to in Recipient
    (SAML profiles §4.1.4.2). Differences in scheme, host, port, case or a trailing slash are named.
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        bearers = bearer_confirmations(assertion)
        if not bearers:
            yield spec.skip(f"Assertion {quoted(assertion.id)} has no bearer SubjectConfirmation (see SAML008).",
                            source=msg.source, locator=f"{locator}/Subject")
            return
        expected = ", ".join(ctx.acs_urls)
        for index, sc in bearers:
            where = dict(source=msg.source, locator=sc_locator(locator, index) + "/@Recipient", expected=expected)
            if not sc.recipient:
                yield spec.fail(f"The bearer confirmation of assertion {quoted(assertion.id)} has no Recipient; the "
                                f"SSO profile requires the ACS URL there.", seen="(none)", **where)
                continue
            yield acs_url_finding(spec, "Recipient", sc.recipient, ctx.acs_urls, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML012", title="Assertion audience does not match the SP entity ID", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.SP_ENTITY_ID}, docs=SPEC,
       remediation="Set the IdP app's Audience / SP Entity ID / Identifier to the exact 'Audience URI (SP Entity "
                   "ID)' from Atlan's SSO page (case-sensitive).")
def audience_matches_sp(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """SAML core §2.5.1.4: every AudienceRestriction must be satisfied on its own, so the SP must find its own
    entity ID among the Audiences of each one; a second restriction naming only another SP makes the assertion
    invalid here (python3-saml WRONG_AUDIENCE code 26, node-saml "SAML assertion audience mismatch" / "has no
    AudienceRestriction"; Keycloak ConditionsValidator). Compared as exact strings.
    """
    sp = ctx.sp_entity_id or ""
    note = sp_entity_note(ctx)

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Conditions/AudienceRestriction", expected=sp)
        restrictions = assertion.conditions.audience_restrictions if assertion.conditions else ()
        if not restrictions:
            yield spec.fail(f"Assertion {quoted(assertion.id)} has no AudienceRestriction, so nothing limits it to "
                            f"this SP{note}.", seen="(none)", **where)
            return
        for number, restriction in enumerate(restrictions, 1):
            if sp in restriction.audiences:
                continue
            which = f"AudienceRestriction {number} of {len(restrictions)}" if len(restrictions) > 1 else \
                "AudienceRestriction"
            where.update(locator=f"{locator}/Conditions/AudienceRestriction[{number}]")
            if not restriction.audiences:
                yield spec.fail(f"The {which} of assertion {quoted(assertion.id)} names no Audience, so it cannot "
                                f"be satisfied.", seen="(none)", **where)
                return
            seen = ", ".join(restriction.audiences)
            hint = identifier_hint(seen, sp) if len(restriction.audiences) == 1 else "none of them is it"
            yield spec.fail(f"The {which} of assertion {quoted(assertion.id)} names {quoted(seen)}, not the SP "
                            f"entity ID {quoted(sp)}: {hint}; every AudienceRestriction must name the SP{note}.",
                            seen=seen, **where)
            return
        seen = "; ".join(", ".join(r.audiences) for r in restrictions)
        yield spec.passed(f"Assertion {quoted(assertion.id)} is addressed to the SP {quoted(sp)}.", seen=seen,
                          **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML013", title="Response Destination is not an SP ACS URL", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.ACS_URL}, docs=BINDINGS,
       remediation="Set the IdP app's ACS / Single sign-on / Reply URL to the exact URL from Atlan's SSO page; "
                   "behind a TLS-terminating proxy, make Keycloak see the public https URL.")
def destination_matches_acs(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Destination must be the URL the Response was delivered to (SAML bindings §3.5.5.2; python3-saml
    WRONG_DESTINATION code 24, "The response was received at X instead of Y"; Keycloak `invalid_destination`).
    The hint names the differing part: http vs https is the classic TLS-terminating proxy case (keycloak#32622).
    Atlan accepts both its SP-initiated ACS and the IdP-initiated `/clients/atlan-saml` one (Atlan's PingFederate
    guide: "To use both IdP- and SP-initiated SSO, add both the URLs provided").
    """
    expected = ", ".join(ctx.acs_urls)
    for msg in ctx.responses:
        where = dict(source=msg.source, locator="Response/@Destination", expected=expected)
        if not msg.destination:
            yield spec.skip(f"{response_name(msg)} has no Destination to compare (SAML014 judges whether it needs "
                            f"one).", seen="(none)", **where)
            continue
        yield acs_url_finding(spec, "Destination", msg.destination, ctx.acs_urls, **where)


@check(id="SAML014", title="Signed Response has no Destination", severity=Severity.HIGH, requires={Need.RESPONSE},
       docs="https://github.com/keycloak/keycloak/issues/11178",
       remediation="Configure the IdP to put the ACS URL in the Response's Destination attribute (Okta: 'Use this "
                   "for Recipient URL and Destination URL').")
def signed_response_has_destination(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A signed Response sent over HTTP-POST must carry Destination (SAML bindings §3.5.5.2). Keycloak rejects it
    otherwise with `missing_required_destination` and the user sees "Invalid Request" (SAMLEndpoint.java 633-639 in
    atlanhq/keycloak-identity 20.0.2).
    """
    for msg in ctx.responses:
        where = dict(source=msg.source, locator="Response/@Destination", seen=msg.destination or "(none)")
        signed = msg.has_signature
        if msg.destination:
            yield spec.passed(f"{response_name(msg)} has Destination {quoted(msg.destination)}.", **where)
        elif signed:
            yield spec.fail(f"{response_name(msg)} is signed but has no Destination; Keycloak rejects it with "
                            f"`missing_required_destination`.", expected="the ACS URL", **where)
        else:
            yield spec.passed(f"{response_name(msg)} has no Destination, which is allowed because the Response "
                              f"itself is not signed.", **where)
