"""SAML: the instants a Response is judged by: IssueInstant, the Conditions window, the bearer
SubjectConfirmationData NotOnOrAfter and the AuthnStatement's SessionNotOnOrAfter, at --at (else the HAR time of the
message, else now) with --clock-skew on both sides.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ssodiag.checks.common import (
    PROFILES, SPEC, assertion_locator, bearer_confirmations, each_assertion, issue_instant_finding, response_name,
    sc_locator, skew_of,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.timefmt import as_utc, before_or_after, format_instant, reference_name
from ssodiag.diag.text import quoted


def window_problem(at: datetime, skew: timedelta, not_before: datetime | None,
                   not_on_or_after: datetime | None) -> str | None:
    """"expired ..." / "is not valid until ..." measured from ``at``, or None when ``at`` is inside the window.

    SAML core §2.5.1.2: valid when NotBefore <= t < NotOnOrAfter; validators add a clock-skew allowance on both
    sides (python3-saml 300 s, Keycloak ALLOWED_CLOCK_SKEW).
    """
    # the skew moves ``at``, never the document's instants: those may be 9999-12-31 or 0001-01-01, and adding to
    # them overflows
    if not_on_or_after is not None and as_utc(at) - skew >= as_utc(not_on_or_after):
        return f"expired {before_or_after(not_on_or_after, at)}"
    if not_before is not None and as_utc(at) + skew < as_utc(not_before):
        return f"is not valid until {before_or_after(not_before, at)}"
    return None


@check(id="SAML004", title="IssueInstant is missing, in the future, or long past", severity=Severity.MEDIUM,
       timed=True, requires={Need.RESPONSE}, docs=SPEC,
       remediation="Sync the IdP server clock with NTP; if the message was saved long after the login, pass --at "
                   "with the time of the failed login.")
def issue_instant_sane(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """IssueInstant is required (SAML core §3.2.2, §2.3.3). One issued after the evaluation instant (beyond the
    clock skew) means the IdP clock runs ahead; one issued more than an hour before means a replayed or very late
    message, or an IdP clock far behind. Unparsable values are skipped, not guessed.
    """
    for msg in ctx.responses:
        yield issue_instant_finding(ctx, spec, msg, response_name(msg), msg.issue_instant, msg.issue_instant_text,
                                    "Response/@IssueInstant", pasted_warning=bool(msg.assertions))
        for i, a in enumerate(msg.assertions):
            yield issue_instant_finding(ctx, spec, msg, f"Assertion {quoted(a.id)}", a.issue_instant,
                                        a.issue_instant_text, f"{assertion_locator(i)}/@IssueInstant")


@check(id="SAML007", title="Assertion is outside its NotBefore / NotOnOrAfter window", severity=Severity.HIGH,
       timed=True, requires={Need.RESPONSE}, docs=SPEC,
       remediation="Sync the IdP and SP clocks with NTP and retry the login; if the message was saved later, pass "
                   "--at with the time of the failed login. Keycloak shows `Login timeout. Please sign in again.`")
def conditions_window(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """SAML core §2.5.1.2: the assertion is valid from NotBefore (inclusive) to NotOnOrAfter (exclusive).

    Evaluated at ``--at``, else the HAR time of the message, else now, with ``--clock-skew`` on both sides
    (python3-saml ASSERTION_TOO_EARLY / ASSERTION_EXPIRED, codes 19/20; node-saml "SAML assertion expired").
    """
    skew = skew_of(ctx)

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Conditions")
        cond = assertion.conditions
        if cond is None:
            yield spec.skip(f"Assertion {quoted(assertion.id)} has no Conditions (see SAML006).", **where)
            return
        for attribute, value, raw in (("NotBefore", cond.not_before, cond.not_before_text),
                                      ("NotOnOrAfter", cond.not_on_or_after, cond.not_on_or_after_text)):
            if value is None and raw is not None:
                yield spec.skip(f"Assertion {quoted(assertion.id)} has {attribute} {quoted(raw)}, which is not an "
                                f"xs:dateTime, so its validity window cannot be judged.", seen=raw, **where)
                return
        at = ctx.instant_for(msg)
        window = (f"{format_instant(cond.not_before) if cond.not_before else '(no NotBefore)'} to "
                  f"{format_instant(cond.not_on_or_after) if cond.not_on_or_after else '(no NotOnOrAfter)'}")
        problem = window_problem(at, skew, cond.not_before, cond.not_on_or_after)
        if problem:
            yield spec.fail(f"Assertion {quoted(assertion.id)} {problem} {reference_name(ctx, msg)} (window "
                            f"`{window}`, clock skew {ctx.clock_skew} s).", expected=window,
                            seen=format_instant(at), **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} is valid at {reference_name(ctx, msg)}: window "
                              f"`{window}`.", expected=window, seen=format_instant(at), **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML009", title="SubjectConfirmationData NotOnOrAfter is missing or passed", severity=Severity.HIGH,
       timed=True, requires={Need.RESPONSE}, docs=PROFILES,
       remediation="Sync the IdP and SP clocks with NTP and retry; if the login took longer than the IdP allows, "
                   "raise the IdP's assertion lifetime; if the message was saved later, pass --at with the time of "
                   "the failed login.")
def bearer_not_expired(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The bearer SubjectConfirmationData must carry NotOnOrAfter and it must not have passed
    (SAML profiles §4.1.4.2/§4.1.4.3). Keycloak does not check it (keycloak#45652); stricter SPs do.
    """
    skew = skew_of(ctx)

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        bearers = bearer_confirmations(assertion)
        if not bearers:
            yield spec.skip(f"Assertion {quoted(assertion.id)} has no bearer SubjectConfirmation (see SAML008).",
                            source=msg.source, locator=f"{locator}/Subject")
            return
        for index, sc in bearers:
            where = dict(source=msg.source, locator=sc_locator(locator, index) + "/@NotOnOrAfter")
            if sc.not_on_or_after is None:
                raw = sc.not_on_or_after_text
                if raw is not None:
                    yield spec.skip(f"The bearer NotOnOrAfter {quoted(raw)} is not an xs:dateTime.", seen=raw, **where)
                else:
                    yield spec.fail(f"The bearer SubjectConfirmationData of assertion {quoted(assertion.id)} has no "
                                    f"NotOnOrAfter, which the SSO profile requires.", seen="(none)", **where)
                continue
            at = ctx.instant_for(msg)
            problem = window_problem(at, skew, sc.not_before, sc.not_on_or_after)
            seen = format_instant(sc.not_on_or_after)
            if problem:
                yield spec.fail(f"The bearer confirmation of assertion {quoted(assertion.id)} {problem} "
                                f"{reference_name(ctx, msg)} (NotOnOrAfter `{seen}`).", seen=seen, **where)
            else:
                yield spec.passed(f"The bearer confirmation of assertion {quoted(assertion.id)} is valid until "
                                  f"`{seen}`, {before_or_after(sc.not_on_or_after, at)} {reference_name(ctx, msg)}.",
                                  seen=seen, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML019", title="AuthnStatement SessionNotOnOrAfter has passed", severity=Severity.MEDIUM,
       timed=True, requires={Need.RESPONSE}, docs=SPEC,
       remediation="Raise the IdP's session lifetime for the app, sync clocks, and sign in again (pass --at with the "
                   "time of the failed login if the message was saved later).")
def session_not_expired(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """SessionNotOnOrAfter (SAML core §2.7.2) ends the SP session the assertion may start; a value already passed
    when the assertion arrives is python3-saml SESSION_EXPIRED (code 30).
    """
    skew = skew_of(ctx)

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        if not assertion.authn_statements:
            yield spec.skip(f"Assertion {quoted(assertion.id)} has no AuthnStatement (see SAML020).",
                            source=msg.source, locator=f"{locator}/AuthnStatement")
            return
        at = ctx.instant_for(msg)
        for index, statement in enumerate(assertion.authn_statements):
            where = dict(source=msg.source, locator=f"{locator}/AuthnStatement[{index + 1}]/@SessionNotOnOrAfter")
            limit = statement.session_not_on_or_after
            if limit is None and statement.session_not_on_or_after_text is not None:
                raw = statement.session_not_on_or_after_text
                yield spec.skip(f"Assertion {quoted(assertion.id)} has SessionNotOnOrAfter {quoted(raw)}, which is "
                                f"not an xs:dateTime, so its session lifetime cannot be judged.", seen=raw, **where)
                continue
            if limit is None:
                yield spec.passed(f"Assertion {quoted(assertion.id)} sets no SessionNotOnOrAfter.", seen="(none)",
                                  **where)
                continue
            problem = window_problem(at, skew, None, limit)
            if problem:
                yield spec.fail(f"The session of assertion {quoted(assertion.id)} {problem} "
                                f"{reference_name(ctx, msg)} (SessionNotOnOrAfter `{format_instant(limit)}`).",
                                seen=format_instant(limit), **where)
            else:
                yield spec.passed(f"The session of assertion {quoted(assertion.id)} lasts until "
                                  f"`{format_instant(limit)}`.", seen=format_instant(limit), **where)

    yield from each_assertion(ctx, spec, judge)
