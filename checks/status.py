"""SAML: the IdP's verdict, the Response's StatusCode (SAML core §3.2.2.2)."""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.checks.common import SPEC, response_name, short_status
from ssodiag.checks.status_codes import STATUS_MEANINGS
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Finding, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted


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
