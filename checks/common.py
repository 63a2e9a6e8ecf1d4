"""Helpers shared by the check modules: naming and locating Response parts, judging an ACS URL or an
IssueInstant, walking every assertion. This module registers no checks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from ssodiag.checks.status_codes import STATUS_PREFIX
from ssodiag.diag.connectors import DECLARATIONS, PLACEHOLDERS, classify_text, tenant
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Connector, Finding, SamlMessage, Severity, SubjectConfirmation
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import clip
from ssodiag.diag.timefmt import as_utc, before_or_after, format_instant, reference_name
from ssodiag.diag.text import quoted
from ssodiag.diag.urls import best_match

BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
# A Response issued this long before the instant we judge it at was replayed, pasted late, or the IdP clock is off.
STALE_ISSUE_AGE = timedelta(hours=1)

SPEC = "https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf"
PROFILES = "https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf"
BINDINGS = "https://docs.oasis-open.org/security/saml/v2.0/saml-bindings-2.0-os.pdf"
ENTRA_ERRORS = "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"


def response_name(msg: SamlMessage) -> str:
    return f"Response {quoted(msg.id)}" if msg.id else "The Response (no ID)"


def assertion_locator(index: int) -> str:
    return f"Response/Assertion[{index + 1}]"


def short_status(code: str | None) -> str:
    code = code or ""
    return code[len(STATUS_PREFIX):] if code.startswith(STATUS_PREFIX) else code


def sp_entity_note(ctx: DiagContext) -> str:
    """Say so when the SP entity ID is Keycloak's default derived from --atlan: Atlan's guides never print it."""
    if ctx.expect.sp_entity_id or ctx.sp_metadata_entity_id:
        return ""
    return (" (this SP entity ID was derived from --atlan/--alias as Keycloak's default realm URL, which Atlan does "
            "not document; pass --sp-entity-id with the value from Atlan's SSO page if it differs)")


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


def skew_of(ctx: DiagContext) -> timedelta:
    return timedelta(seconds=ctx.clock_skew)


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


def issue_instant_finding(ctx: DiagContext, spec: CheckSpec, msg: SamlMessage, name: str, instant: datetime | None,
                          raw: str | None, locator: str, pasted_warning: bool = False) -> Finding:
    """Judge one IssueInstant (SAML core §1.3.3; ``raw`` as written) against the evaluation instant, the clock skew
    and staleness. ``pasted_warning``: this is a Response's own IssueInstant, the instant pasted evidence (no --at,
    no capture time) is judged at, and the place to warn once that the login time is unknown."""
    at, ref = ctx.instant_for(msg), reference_name(ctx, msg)
    where = dict(source=msg.source, locator=locator)
    if instant is None:
        if raw is not None:
            return spec.skip(f"{name} has an IssueInstant {quoted(raw)} that is not an xs:dateTime.", seen=raw, **where)
        return spec.fail(f"{name} has no IssueInstant, which SAML core requires.", seen="(none)", **where)
    seen = format_instant(instant)
    if ctx.login_time_unknown and pasted_warning:
        # pasted evidence: the time checks were judged at this very instant, so only "issued after now" is knowable
        if as_utc(instant) > as_utc(ctx.now) + skew_of(ctx):
            return spec.fail(f"{name} was issued {before_or_after(instant, ctx.now)} now "
                             f"({format_instant(ctx.now)}), beyond the {ctx.clock_skew} s clock skew: the issuer's "
                             f"clock runs ahead.", seen=seen, **where)
        return spec.warn(f"The login time is unknown (no --at, no capture time): the time conditions of {name} were "
                         f"judged at its own IssueInstant `{seen}` ({before_or_after(instant, ctx.now)} now). Pass "
                         f"--at with the time of the failed login to judge them then.", seen=seen,
                         remediation="Pass --at with the time of the failed login (from the ticket, e.g. "
                                     "`--at 2026-11-28T14:05:00Z`), or give the HAR of the login, which carries its "
                                     "time.", **where)
    if as_utc(instant) > as_utc(at) + skew_of(ctx):
        return spec.fail(f"{name} was issued {before_or_after(instant, at)} {ref}, beyond the "
                         f"{ctx.clock_skew} s clock skew: the issuer's clock runs ahead.", seen=seen, **where)
    if as_utc(at) - as_utc(instant) > STALE_ISSUE_AGE:
        return spec.warn(f"{name} was issued {before_or_after(instant, at)} {ref}: a replayed or late message, or "
                         f"an issuer clock far behind.", seen=seen, **where)
    return spec.passed(f"{name} was issued at `{seen}`, {before_or_after(instant, at)} {ref}.", seen=seen, **where)


def bearer_confirmations(assertion: Assertion) -> list[tuple[int, SubjectConfirmation]]:
    return [(i, sc) for i, sc in enumerate(assertion.subject_confirmations) if sc.method == BEARER]


def sc_locator(locator: str, index: int) -> str:
    return f"{locator}/Subject/SubjectConfirmation[{index + 1}]/SubjectConfirmationData"


def vendor_page_findings(ctx: DiagContext, spec: CheckSpec, connector: Connector, more: str = "") -> Iterator[Finding]:
    """One failure per captured page that shows an error the connector's declaration reports under this check:
    what the page says, what it means, the likely causes, ``more`` (what else the capture shows about it), and the
    fix with the tenant's values."""
    values = tenant(ctx)
    found = False
    for page in ctx.evidence.error_pages:
        for match in classify_text(page.text, [connector]):
            if match.error.check_id != spec.id:
                continue
            found = True
            causes = "; ".join(match.error.causes)
            code = "" if match.matched.lower() == match.error.code.lower() else f", `{match.error.code}`"
            yield spec.fail(f"The page shows {quoted(match.matched, 120)} ({match.source}{code}): "
                            f"{match.error.meaning} Likely causes: {causes}.{more and ' ' + more}",
                            remediation=values.fill(match.error.fix), source=page.source, seen=clip(page.text, 200))
    if not found:
        yield spec.skip("None of the captured pages shows this error.")


def page_checks(connector: Connector, rows: Iterable[tuple[str, str, Severity]]) -> None:
    """Register one check per (id, title, severity) row that reports the pages showing the connector's errors
    declared under that id: the vendor's error table generates its checks (the docstring is the errors' meaning)."""
    decl = DECLARATIONS[connector]
    for check_id, title, severity in rows:
        errors = decl.errors_for(check_id)
        if not errors:
            raise ValueError(f"{check_id}: no {decl.title} error is declared under it")

        def run(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
            yield from vendor_page_findings(ctx, spec, connector)

        run.__doc__ = " ".join(f"`{e.code}`: {e.meaning}" for e in errors)
        check(id=check_id, title=title, severity=severity, connector=connector, requires={Need.ERROR_PAGE},
              docs=errors[0].docs, remediation=" / ".join(dict.fromkeys(PLACEHOLDERS.fill(e.fix) for e in errors)))(run)
