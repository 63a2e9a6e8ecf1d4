"""SAML: the protocol rules a relying party applies to a Response and its Assertion, every one collected.

ruby-saml's ``collect_errors`` style (saml-validation.md §1.7): each rule is its own check and judges every
Response and Assertion in the evidence, so one run shows all the problems, not just the first a validator hit.
The rules are SAML core §2-§3 and the Web Browser SSO profile (SAML profiles §4.1.4), with the error a real
validator raises named where it helps (python3-saml codes, node-saml messages, Keycloak events; sso-facts §4.2).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from lxml import etree

from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Finding, SamlMessage, Severity, SubjectConfirmation
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.timefmt import as_utc, before_or_after, format_instant, reference_name
from ssodiag.diag.urls import best_match, identifier_hint, quoted
from ssodiag.diag.xmlparse import NS

SAML_VERSION = "2.0"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
STATUS_PREFIX = "urn:oasis:names:tc:SAML:2.0:status:"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
# A Response issued this long before the instant we judge it at was replayed, pasted late, or the IdP clock is off.
STALE_ISSUE_AGE = timedelta(hours=1)

SPEC = "https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf"
PROFILES = "https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf"
BINDINGS = "https://docs.oasis-open.org/security/saml/v2.0/saml-bindings-2.0-os.pdf"
ENTRA_ERRORS = "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"

# SAML core §3.2.2.2: what each status code means to a support engineer, and what to change.
STATUS_MEANINGS: dict[str, tuple[str, str]] = {
    "Requester": ("the IdP rejected the request as wrong on the SP's side (the AuthnRequest, or how the SP is set "
                  "up in the IdP)", "Check the Atlan app's configuration in the IdP (entity ID, ACS URL, NameID "
                  "format) against Atlan's SSO page."),
    "Responder": ("the IdP failed on its own side (a user, policy or IdP configuration problem)",
                  "Look up this login in the IdP's sign-in log; the sub-code and StatusMessage narrow it down."),
    "VersionMismatch": ("the IdP does not accept the SAML version of the request",
                        "Make the SP send SAML 2.0 requests."),
    "AuthnFailed": ("the IdP could not authenticate the user (wrong credentials, failed MFA, or a blocked account)",
                    "Check the IdP sign-in log for this user; retry the login at the IdP directly."),
    "InvalidAttrNameOrValue": ("an attribute name or value in the request was not accepted",
                               "Remove or correct the attributes the SP requests."),
    "InvalidNameIDPolicy": ("the IdP cannot issue a NameID in the format the SP asked for in NameIDPolicy",
                            "Align the NameID format in Atlan's SAML settings with the IdP app's NameID format, "
                            "or ask for `unspecified`."),
    "NoAuthnContext": ("the IdP cannot meet the authentication context the SP requested (RequestedAuthnContext)",
                       "Stop sending RequestedAuthnContext, or request a context the IdP supports."),
    "NoAvailableIDP": ("a proxying IdP found no available IdP for the user",
                       "Check the IdP's federation or discovery settings."),
    "NoPassive": ("the SP asked for passive login (IsPassive) but the user has no IdP session and must interact",
                  "Sign in at the IdP first, or make the SP stop sending IsPassive=\"true\"."),
    "NoSupportedIDP": ("a proxying IdP supports none of the IdPs the request allows",
                       "Check the IdP's federation or discovery settings."),
    "PartialLogout": ("logout did not reach every session participant",
                      "Retry the logout; check single logout endpoints."),
    "ProxyCountExceeded": ("the request may not be proxied any further",
                           "Raise the ProxyCount or authenticate at the first IdP."),
    "RequestDenied": ("the IdP chose not to answer, typically because the user is not assigned to the app or a "
                      "policy blocked the login", "Assign the user (or a group) to the Atlan app in the IdP and check "
                      "its access policies."),
    "RequestUnsupported": ("the IdP does not support this kind of request",
                           "Compare the AuthnRequest with what the IdP app supports."),
    "RequestVersionDeprecated": ("the IdP no longer accepts this protocol version", "Send SAML 2.0 requests."),
    "RequestVersionTooHigh": ("the request's protocol version is newer than the IdP supports",
                              "Send SAML 2.0 requests."),
    "RequestVersionTooLow": ("the request's protocol version is older than the IdP supports",
                             "Send SAML 2.0 requests."),
    "ResourceNotRecognized": ("the IdP does not recognise the resource named in the request",
                              "Check the RelayState / target resource of the login."),
    "TooManyResponses": ("the response would contain more elements than the IdP can return",
                         "Narrow the request."),
    "UnknownAttrProfile": ("the IdP does not support the attribute profile the request uses",
                           "Use the basic or URI attribute name format."),
    "UnknownPrincipal": ("the IdP does not know the user (principal) named in the request",
                         "Check that the user exists in the IdP and is the one the request names."),
    "UnsupportedBinding": ("the IdP cannot answer over the binding the request asks for (ProtocolBinding)",
                           "Make the SP ask for HTTP-POST, which Atlan's Keycloak broker receives."),
}


# --------------------------------------------------------------------------- shared helpers


def response_name(msg: SamlMessage) -> str:
    return f"Response {quoted(msg.id)}" if msg.id else "The Response (no ID)"


def assertion_locator(index: int) -> str:
    return f"Response/Assertion[{index + 1}]"


def unparsed_time(element: etree._Element | None, path: str | None, attribute: str) -> str | None:
    """The raw text of a time attribute that is present but did not parse (the model then holds None)."""
    if element is None:
        return None
    target = element.find(path, NS) if path else element
    return target.get(attribute) if target is not None else None


def short_status(code: str | None) -> str:
    code = code or ""
    return code[len(STATUS_PREFIX):] if code.startswith(STATUS_PREFIX) else code


def sp_entity_note(ctx: DiagContext) -> str:
    """Say so when the SP entity ID is Keycloak's default derived from --atlan (sso-facts §2.1: not documented)."""
    if ctx.expect.sp_entity_id:
        return ""
    return (" (this SP entity ID was derived from --atlan/--alias as Keycloak's default realm URL, which Atlan does "
            "not document; pass --sp-entity-id with the value from Atlan's SSO page if it differs)")


def response_is_signed(msg: SamlMessage) -> bool:
    """A ds:Signature is a direct child of the Response root (SAML core §5.2)."""
    if msg.root is not None:
        return msg.root.find("ds:Signature", NS) is not None
    return any(e.element == "Response" for e in msg.signature.signed_elements)


def each_assertion(ctx: DiagContext, spec: CheckSpec,
                   judge: Callable[[SamlMessage, Assertion, str], Iterator[Finding]]) -> Iterator[Finding]:
    """Run ``judge`` on every readable assertion; a Response without one gets a ``skip`` saying why."""
    for msg in ctx.responses:
        if not msg.assertions:
            yield spec.skip(f"{response_name(msg)} was not judged: {no_assertion_reason(msg)}.", source=msg.source,
                            locator="Response")
            continue
        for index, assertion in enumerate(msg.assertions):
            yield from judge(msg, assertion, assertion_locator(index))


def no_assertion_reason(msg: SamlMessage) -> str:
    if msg.status is not None and not msg.status.is_success:
        return f"its status is {quoted(short_status(msg.status.code))}, so it carries no assertion"
    if any(p.element == "EncryptedAssertion" and not p.decrypted for p in msg.encrypted_parts):
        return "its assertion is encrypted and was not decrypted (pass --sp-key with Atlan's SP private key)"
    return "it carries no assertion (see SAML005)"


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


def skew_of(ctx: DiagContext) -> timedelta:
    return timedelta(seconds=ctx.expect.clock_skew)


# --------------------------------------------------------------------------- status, structure


def acs_url_finding(spec: CheckSpec, label: str, url: str, acs_urls: tuple[str, ...], **where) -> Finding:
    """Judge one URL that must be an SP ACS URL: pass; warn when it is one written differently (case, default
    port); fail naming the closest expected URL and the part that differs (diag.urls hints)."""
    match = best_match(url, acs_urls)
    if match.exact:
        return spec.passed(f"{label} {quoted(url)} is an expected ACS URL.", seen=url, **where)
    if match.equivalent:
        return spec.warn(f"{label} {quoted(url)} is {quoted(match.expected)} written differently: {match.hint}.",
                         seen=url, **where)
    return spec.fail(f"{label} {quoted(url)} is not an expected ACS URL; closest is {quoted(match.expected)}: "
                     f"{match.hint}.", seen=url, **where)


@check(id="SAML001", title="Response status is not Success", severity=Severity.CRITICAL,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Read the status meaning: the IdP refused the login before issuing an assertion, so the fix is "
                   "on the IdP side (see the sub-code) or in the request the SP sent.")
def status_is_success(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The IdP's verdict comes first: a non-Success StatusCode (SAML core §3.2.2.2) means no assertion was issued.

    The top-level code says who is at fault (Requester: the SP's request, Responder: the IdP, VersionMismatch);
    the second-level code says why (AuthnFailed, RequestDenied, InvalidNameIDPolicy, NoPassive, NoAuthnContext,
    UnknownPrincipal, UnsupportedBinding, ...). A missing Status is python3-saml MISSING_STATUS (code 3).
    Keycloak shows only a generic page for these (keycloak#20670), so the code is the diagnosis.
    """
    for msg in ctx.responses:
        where = dict(source=msg.source, locator="Response/Status/StatusCode")
        status = msg.status
        if status is None or not status.code:
            yield spec.fail(f"{response_name(msg)} has no Status/StatusCode, which SAML core §3.2.2 requires.",
                            expected="StatusCode Success", seen="(none)", **where)
            continue
        if status.is_success:
            yield spec.passed(f"{response_name(msg)} has status `Success`.", expected="Success", seen="Success",
                              **where)
            continue
        top, sub = short_status(status.code), short_status(status.sub_code)
        vendor = ("an IdP-specific status code", "Look the code up in the IdP's documentation and sign-in log.")
        meaning, fix = STATUS_MEANINGS.get(sub) or STATUS_MEANINGS.get(top) or vendor
        if sub and sub not in STATUS_MEANINGS:
            meaning += f"; the second-level code is {vendor[0]} (see the IdP's documentation)"
        seen = f"{top} / {sub}" if sub else top
        text = f"The IdP answered with status {quoted(seen)}: {meaning}."
        if status.message:
            text += f" Its StatusMessage says {quoted(status.message)}."
        yield spec.fail(text, expected="Success", seen=seen, remediation=fix, **where)


@check(id="SAML002", title="SAML version is not 2.0", severity=Severity.HIGH, requires={Need.RESPONSE}, docs=SPEC,
       remediation="Configure the IdP to issue SAML 2.0 Responses and Assertions (Version=\"2.0\").")
def version_is_2_0(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Response and Assertion must carry Version="2.0" (SAML core §3.2.2, §2.3.3); python3-saml code 0."""
    for msg in ctx.responses:
        parts = [("Response", response_name(msg), msg.version)]
        parts += [(assertion_locator(i), f"Assertion {quoted(a.id)}", a.version) for i, a in enumerate(msg.assertions)]
        for locator, name, version in parts:
            where = dict(source=msg.source, locator=f"{locator}/@Version", expected=SAML_VERSION, seen=version)
            if version == SAML_VERSION:
                yield spec.passed(f"{name} has Version `2.0`.", **where)
            else:
                shown = quoted(version) if version is not None else "no Version"
                yield spec.fail(f"{name} has {shown}; SAML 2.0 requires `2.0`.", **where)


@check(id="SAML003", title="Response or Assertion has no ID", severity=Severity.MEDIUM, requires={Need.RESPONSE},
       docs=SPEC, remediation="The IdP must give the Response and every Assertion an ID attribute; a message without "
                              "one was altered or built by hand.")
def ids_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """ID is required on the Response (SAML core §3.2.2) and the Assertion (§2.3.3); a signature references it.

    python3-saml MISSING_ID (code 1); without an ID no XML signature can point at the element.
    """
    for msg in ctx.responses:
        parts = [("Response", "The Response", msg.id)]
        parts += [(assertion_locator(i), f"Assertion {i + 1}", a.id) for i, a in enumerate(msg.assertions)]
        for locator, name, value in parts:
            where = dict(source=msg.source, locator=f"{locator}/@ID")
            if value:
                yield spec.passed(f"{name} has ID {quoted(value)}.", seen=value, **where)
            else:
                yield spec.fail(f"{name} has no ID attribute.", expected="an ID", seen="(none)", **where)


@check(id="SAML004", title="IssueInstant is missing, in the future, or long past", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Sync the IdP server clock with NTP; if the message was saved long after the login, pass --at "
                   "with the time of the failed login.")
def issue_instant_sane(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """IssueInstant is required (SAML core §3.2.2, §2.3.3). One issued after the evaluation instant (beyond the
    clock skew) means the IdP clock runs ahead; one issued more than an hour before means a replayed or very late
    message, or an IdP clock far behind. Unparsable values are skipped, not guessed.
    """
    for msg in ctx.responses:
        parts = [("Response", response_name(msg), msg.issue_instant, msg.root)]
        parts += [(assertion_locator(i), f"Assertion {quoted(a.id)}", a.issue_instant, a.element)
                  for i, a in enumerate(msg.assertions)]
        for locator, name, instant, element in parts:
            yield issue_instant_finding(ctx, spec, msg, name, instant, element, f"{locator}/@IssueInstant")


def issue_instant_finding(ctx: DiagContext, spec: CheckSpec, msg: SamlMessage, name: str, instant: datetime | None,
                          element: etree._Element | None, locator: str) -> Finding:
    """Judge one IssueInstant (SAML core §1.3.3) against the evaluation instant, the clock skew and staleness."""
    at, ref = ctx.instant_for(msg), reference_name(ctx, msg)
    where = dict(source=msg.source, locator=locator)
    if instant is None:
        raw = unparsed_time(element, None, "IssueInstant")
        if raw is not None:
            return spec.skip(f"{name} has an IssueInstant {quoted(raw)} that is not an xs:dateTime.", seen=raw, **where)
        return spec.fail(f"{name} has no IssueInstant, which SAML core requires.", seen="(none)", **where)
    seen = format_instant(instant)
    if as_utc(instant) > as_utc(at) + skew_of(ctx):
        return spec.fail(f"{name} was issued {before_or_after(instant, at)} {ref}, beyond the "
                         f"{ctx.expect.clock_skew} s clock skew: the issuer's clock runs ahead.", seen=seen, **where)
    if as_utc(at) - as_utc(instant) > STALE_ISSUE_AGE:
        return spec.warn(f"{name} was issued {before_or_after(instant, at)} {ref}: a replayed or late message, or "
                         f"an issuer clock far behind.", seen=seen, **where)
    return spec.passed(f"{name} was issued at `{seen}`, {before_or_after(instant, at)} {ref}.", seen=seen, **where)


@check(id="SAML005", title="Response does not carry exactly one assertion", severity=Severity.CRITICAL,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Configure the IdP to send exactly one Assertion per Response (SAML profiles §4.1.4.2).")
def one_assertion(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A successful Response carries exactly one assertion, plain or encrypted (python3-saml code 2,
    WRONG_NUMBER_OF_ASSERTIONS). Several assertions are also the shape of signature-wrapping attacks (XSW3-XSW5).
    A non-Success Response is skipped: it rightly has none (see SAML001).
    """
    for msg in ctx.responses:
        where = dict(source=msg.source, locator="Response/Assertion")
        if msg.status is not None and msg.status.code and not msg.status.is_success:
            yield spec.skip(f"{response_name(msg)} was not judged: {no_assertion_reason(msg)}.", **where)
            continue
        encrypted = sum(1 for p in msg.encrypted_parts if p.element == "EncryptedAssertion")
        count = len(msg.assertions) + encrypted
        detail = f"{len(msg.assertions)} plain, {encrypted} encrypted"
        if count == 1:
            yield spec.passed(f"{response_name(msg)} carries one assertion ({detail}).", seen=str(count), **where)
        elif count == 0:
            yield spec.fail(f"{response_name(msg)} has status Success but carries no assertion.", expected="1",
                            seen="0", **where)
        else:
            yield spec.fail(f"{response_name(msg)} carries `{count}` assertions ({detail}); a relying party "
                            f"rejects this, and it is the shape of a signature-wrapping attack.", expected="1",
                            seen=str(count), severity=Severity.HIGH, **where)


# --------------------------------------------------------------------------- conditions and time


@check(id="SAML006", title="Assertion has no Conditions", severity=Severity.MEDIUM, requires={Need.RESPONSE},
       docs=SPEC, remediation="Configure the IdP to include Conditions with NotBefore/NotOnOrAfter and an "
                              "AudienceRestriction naming Atlan's SP entity ID.")
def conditions_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """python3-saml MISSING_CONDITIONS (code 18). Without Conditions there is no validity window and no audience,
    so the assertion could be replayed anywhere (SAML core §2.5; profiles §4.1.4.2 require an AudienceRestriction).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Conditions")
        if assertion.conditions is None:
            yield spec.fail(f"Assertion {quoted(assertion.id)} has no Conditions element.", seen="(none)", **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} has Conditions.", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML007", title="Assertion is outside its NotBefore / NotOnOrAfter window", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=SPEC,
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
        for attribute, value in (("NotBefore", cond.not_before), ("NotOnOrAfter", cond.not_on_or_after)):
            raw = unparsed_time(assertion.element, "saml:Conditions", attribute)
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
                            f"`{window}`, clock skew {ctx.expect.clock_skew} s).", expected=window,
                            seen=format_instant(at), **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} is valid at {reference_name(ctx, msg)}: window "
                              f"`{window}`.", expected=window, seen=format_instant(at), **where)

    yield from each_assertion(ctx, spec, judge)


# --------------------------------------------------------------------------- subject confirmation


def bearer_confirmations(assertion: Assertion) -> list[tuple[int, SubjectConfirmation]]:
    return [(i, sc) for i, sc in enumerate(assertion.subject_confirmations) if sc.method == BEARER]


def sc_locator(locator: str, index: int) -> str:
    return f"{locator}/Subject/SubjectConfirmation[{index + 1}]/SubjectConfirmationData"


@check(id="SAML008", title="Assertion has no bearer SubjectConfirmation", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=PROFILES,
       remediation="Configure the IdP to confirm the subject with the bearer method "
                   "(`urn:oasis:names:tc:SAML:2.0:cm:bearer`), as every web SSO IdP does by default.")
def bearer_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Web Browser SSO profile requires at least one SubjectConfirmation with Method bearer
    (SAML profiles §4.1.4.2); python3-saml WRONG_SUBJECTCONFIRMATION (code 31).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Subject/SubjectConfirmation", expected=BEARER)
        methods = [sc.method for sc in assertion.subject_confirmations]
        if bearer_confirmations(assertion):
            yield spec.passed(f"Assertion {quoted(assertion.id)} has a bearer SubjectConfirmation.", seen=BEARER,
                              **where)
        else:
            seen = ", ".join(methods) or "(no SubjectConfirmation)"
            yield spec.fail(f"Assertion {quoted(assertion.id)} has no bearer SubjectConfirmation (methods seen: "
                            f"{quoted(seen)}).", seen=seen, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML009", title="SubjectConfirmationData NotOnOrAfter is missing or passed", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=PROFILES,
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
            raw = None
            if assertion.element is not None:
                confirmations = assertion.element.findall("saml:Subject/saml:SubjectConfirmation", NS)
                raw = unparsed_time(confirmations[index], "saml:SubjectConfirmationData", "NotOnOrAfter")
            if sc.not_on_or_after is None:
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


# --------------------------------------------------------------------------- audience, destination, issuer


@check(id="SAML012", title="Assertion audience does not match the SP entity ID", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.SP_ENTITY_ID}, docs=SPEC,
       remediation="Set the IdP app's Audience / SP Entity ID / Identifier to the exact 'Audience URI (SP Entity "
                   "ID)' from Atlan's SSO page (case-sensitive).")
def audience_matches_sp(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """SAML core §2.5.1.4: the SP must find its own entity ID among the Audiences of every AudienceRestriction
    (python3-saml WRONG_AUDIENCE code 26, node-saml "SAML assertion audience mismatch" / "has no
    AudienceRestriction"; Keycloak ConditionsValidator). Compared as exact strings.
    """
    sp = ctx.sp_entity_id or ""
    note = sp_entity_note(ctx)

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/Conditions/AudienceRestriction", expected=sp)
        cond = assertion.conditions
        if cond is None or not cond.audiences:
            yield spec.fail(f"Assertion {quoted(assertion.id)} has no AudienceRestriction, so nothing limits it to "
                            f"this SP{note}.", seen="(none)", **where)
            return
        seen = ", ".join(cond.audiences)
        if sp in cond.audiences:
            yield spec.passed(f"Assertion {quoted(assertion.id)} is addressed to the SP {quoted(sp)}.", seen=seen,
                              **where)
            return
        hint = identifier_hint(cond.audiences[0], sp) if len(cond.audiences) == 1 else "none of them is it"
        yield spec.fail(f"Assertion {quoted(assertion.id)} is addressed to {quoted(seen)}, not the SP entity ID "
                        f"{quoted(sp)}: {hint}{note}.", seen=seen, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML013", title="Response Destination is not an SP ACS URL", severity=Severity.HIGH,
       requires={Need.RESPONSE, Need.ACS_URL}, docs=BINDINGS,
       remediation="Set the IdP app's ACS / Single sign-on / Reply URL to the exact URL from Atlan's SSO page; "
                   "behind a TLS-terminating proxy, make Keycloak see the public https URL.")
def destination_matches_acs(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Destination must be the URL the Response was delivered to (SAML bindings §3.5.5.2; python3-saml
    WRONG_DESTINATION code 24, "The response was received at X instead of Y"; Keycloak `invalid_destination`).
    The hint names the differing part: http vs https is the classic TLS-terminating proxy case (keycloak#32622).
    Atlan accepts both its SP-initiated ACS and the IdP-initiated `/clients/atlan-saml` one (sso-facts §2.1).
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
    otherwise with `missing_required_destination` and the user sees "Invalid Request" (sso-facts §4.2).
    """
    for msg in ctx.responses:
        where = dict(source=msg.source, locator="Response/@Destination", seen=msg.destination or "(none)")
        signed = response_is_signed(msg)
        if msg.destination:
            yield spec.passed(f"{response_name(msg)} has Destination {quoted(msg.destination)}.", **where)
        elif signed:
            yield spec.fail(f"{response_name(msg)} is signed but has no Destination; Keycloak rejects it with "
                            f"`missing_required_destination`.", expected="the ACS URL", **where)
        else:
            yield spec.passed(f"{response_name(msg)} has no Destination, which is allowed because the Response "
                              f"itself is not signed.", **where)


@check(id="SAML015", title="Issuer is missing, or Response and Assertion issuers differ", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Configure the IdP to put its entity ID in the Issuer of both the Response and the Assertion.")
def issuers_consistent(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Assertion must have an Issuer (SAML core §2.3.3); the Response must have one when it is signed or its
    assertion is encrypted (SAML profiles §4.1.4.2); when both exist they must be the same entity (python3-saml
    ISSUER_MULTIPLE_IN_RESPONSE / ISSUER_NOT_FOUND_IN_ASSERTION, codes 27/28). Keycloak checks both
    (sso-facts §4.2).
    """
    for msg in ctx.responses:
        needs_issuer = response_is_signed(msg) or any(p.element == "EncryptedAssertion" for p in msg.encrypted_parts)
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
    Entity ID" and answers `Invalid requester` when they differ (keycloak PR 11084, sso-facts §4.2); python3-saml
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


# --------------------------------------------------------------------------- subject, session, statements


@check(id="SAML017", title="NameID is missing or empty", severity=Severity.HIGH, requires={Need.RESPONSE},
       docs=ENTRA_ERRORS,
       remediation="Configure the IdP to send a NameID (Entra: set 'Unique User Identifier (Name ID)', AADSTS501241). "
                   "Atlan does not document a required NameID format, so any stable identifier such as the email "
                   "works.")
def name_id_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Subject should carry a non-empty NameID (python3-saml NO_NAMEID / EMPTY_NAMEID, codes 38/39; node-saml
    "Missing SAML NameID"); Keycloak uses it as the federated identity. The format is reported, never failed:
    Atlan's required NameID format is undocumented (sso-facts §2.1).
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


@check(id="SAML019", title="AuthnStatement SessionNotOnOrAfter has passed", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=SPEC,
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


@check(id="SAML020", title="Assertion does not carry exactly one AuthnStatement", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=PROFILES,
       remediation="Configure the IdP to include one AuthnStatement (how and when the user signed in).")
def one_authn_statement(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The SSO profile's assertion carries an AuthnStatement (SAML profiles §4.1.4.2); python3-saml and ruby-saml
    require exactly one (WRONG_NUMBER_OF_AUTHSTATEMENTS, code 21).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        count = len(assertion.authn_statements)
        where = dict(source=msg.source, locator=f"{locator}/AuthnStatement", expected="1", seen=str(count))
        if count == 1:
            yield spec.passed(f"Assertion {quoted(assertion.id)} has one AuthnStatement.", **where)
        else:
            yield spec.fail(f"Assertion {quoted(assertion.id)} has `{count}` AuthnStatements.", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="SAML021", title="Attribute name appears more than once", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=SPEC,
       remediation="Remove the duplicate attribute mapping in the IdP app, or put all values in one attribute.")
def no_duplicate_attributes(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Repeating an Attribute Name splits its values across elements; python3-saml and ruby-saml reject it
    (DUPLICATED_ATTRIBUTE_NAME_FOUND, code 41), and mappers that read the first one lose values.
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement")
        counts = Counter(a.name for a in assertion.attributes)
        duplicated = sorted(name for name, n in counts.items() if n > 1)
        if duplicated:
            names = ", ".join(f"{quoted(n)} ({counts[n]} times)" for n in duplicated)
            yield spec.fail(f"Assertion {quoted(assertion.id)} repeats attribute {names}.",
                            seen=", ".join(duplicated), **where)
        else:
            yield spec.passed(f"Assertion {quoted(assertion.id)} names each of its {len(counts)} attributes once.",
                              **where)

    yield from each_assertion(ctx, spec, judge)
