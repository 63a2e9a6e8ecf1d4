"""KC010-KC013: where Atlan's Keycloak broker stops this login, what else would stop it, what cannot be decided,
and whether the captured page agrees.

The prediction itself is ``diag.broker`` (computed once by the runner into ``ctx.predictions``); these checks turn
it into findings. KC010 is the headline of every Atlan report: "Atlan stops at step N: <page>, because …".
"""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.diag.broker import BROKER_STOP_CHECK, PAGE_STEPS, Outcome, Prediction, StepResult, pages_in, source_url
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Finding, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.urls import quoted

BROKER_SOURCE = source_url("SAMLEndpoint.java:400-574")
NOT_ATLAN = ("Not an Atlan login (no --atlan, --keycloak-idp or Keycloak broker URL in the evidence), so Atlan's "
             "broker was not simulated.")


def shown_page(step: StepResult) -> str:
    page = step.page
    if page is None:
        return "(no page)"
    return f"{quoted(page.text, 300)} (HTTP {page.http})"


def step_sentence(step: StepResult) -> str:
    """"step 7 (Document signature): `…` (HTTP 400; Keycloak logs `invalid_signature`), because …"."""
    event = f"; Keycloak logs `{step.event}`" if step.event else ""
    because = step.because[:1].lower() + step.because[1:] if step.because[1:2].islower() else step.because
    return f"step {step.number} ({step.name}): {shown_page(step)[:-1]}{event}), because {because}"


def _where(prediction: Prediction, step: StepResult | None = None) -> dict:
    return dict(source=prediction.source, locator=f"Atlan broker step {step.number}" if step else "Atlan broker")


def _assumed(prediction: Prediction) -> str:
    config = prediction.config
    if not config.assumptions:
        return f" Settings: {config.origin}."
    return f" Settings assumed (give --keycloak-idp for the tenant's own): {'; '.join(config.assumptions)}."


@check(id=BROKER_STOP_CHECK, title="Where Atlan's broker stops the login", severity=Severity.CRITICAL,
       requires={Need.RESPONSE}, headline=True, docs=BROKER_SOURCE,
       remediation="Apply the fix of the step where Atlan's broker stops; later steps are listed after it.")
def broker_stop(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Replays Keycloak 20.0.2's SAML broker (Atlan's fork, SAMLEndpoint.handleSamlResponse) on each Response, in
    its order: HTTPS, parsing, Destination, document signature, login session (RelayState), status, assertion,
    encryption, issuers, InResponseTo, assertion signature, principal, Conditions, first-login profile. The first
    failing step is where the login stops, with the page the user sees and the event Keycloak logs. Steps the
    evidence cannot decide are named, never passed.
    """
    if not ctx.predictions:
        yield spec.skip(NOT_ATLAN)
        return
    for prediction in ctx.predictions:
        stop = prediction.stop
        earlier = prediction.undecided_before_stop
        doubt = ""
        if earlier:
            doubt = (" It may stop earlier: " + "; ".join(f"step {s.number} ({s.name}) cannot be decided: {s.because}"
                                                          for s in earlier))
        if stop is not None:
            yield spec.fail(f"Atlan stops at {step_sentence(stop)}{doubt}", remediation=stop.fix or spec.remediation,
                            expected="every broker step passes", seen=stop.page.text if stop.page else None,
                            docs=source_url(stop.cite), **_where(prediction, stop))
        elif earlier:
            conditional = [s for s in earlier if s.page is not None]
            finding = spec.warn if conditional else spec.skip
            yield finding(f"Atlan's broker fails no step the evidence decides, but not every step can be decided: "
                          + "; ".join(f"step {s.number} ({s.name}): {s.because}" for s in earlier)
                          + _assumed(prediction), **_where(prediction))
        else:
            yield spec.passed(f"Atlan's broker accepts this Response at every step it runs (HTTPS to the first-login "
                              f"profile).{_assumed(prediction)}", **_where(prediction))


@check(id="KC011", title="A later broker step would stop the login too", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=BROKER_SOURCE,
       remediation="Fix these as well: once the first stop is fixed, the login stops at the next one.")
def broker_later_failures(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Every broker step after the first failing one is judged too (assuming the earlier steps pass), so one report
    lists everything that would still stop the login after the first fix."""
    if not ctx.predictions:
        yield spec.skip(NOT_ATLAN)
        return
    for prediction in ctx.predictions:
        later = prediction.later_failures
        for step in later:
            yield spec.fail(f"Once the earlier stop is fixed, Atlan stops at {step_sentence(step)}",
                            remediation=step.fix or spec.remediation, docs=source_url(step.cite),
                            seen=step.page.text if step.page else None, **_where(prediction, step))
        if not later:
            yield spec.passed("No broker step after the first stop fails." if prediction.stop else
                              "No broker step fails.", **_where(prediction))


@check(id="KC012", title="A broker step cannot be decided from the evidence", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=BROKER_SOURCE,
       remediation="Give what the step names (a HAR of the whole login, --keycloak-idp, --idp-metadata, --sp-key or "
                   "--at) to decide it.")
def broker_undecided(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A step whose outcome depends on something the evidence does not show (a tenant setting, the login time, a
    trusted certificate, the Java runtime) is reported here: a warning when it would stop the login if it went the
    wrong way, a skip otherwise. It never counts as a pass."""
    if not ctx.predictions:
        yield spec.skip(NOT_ATLAN)
        return
    for prediction in ctx.predictions:
        undecided = [s for s in prediction.steps if s.outcome is Outcome.UNDECIDED]
        for step in (s for s in undecided if s.page is not None):
            yield spec.warn(f"Step {step.number} ({step.name}) may stop the login with {shown_page(step)}: "
                            f"{step.because}", remediation=step.fix or spec.remediation,
                            docs=source_url(step.cite), **_where(prediction, step))
        unknown = [s for s in undecided if s.page is None]
        if unknown:  # one finding per Response: a capture of hundreds of logins must not bury the report
            yield spec.skip("Not decided from the evidence: " + "; ".join(
                f"step {s.number} ({s.name}): {s.because}" for s in unknown), **_where(prediction))


@check(id="KC013", title="The captured page is not the page the broker would show", severity=Severity.MEDIUM,
       requires={Need.RESPONSE, Need.ERROR_PAGE}, docs=BROKER_SOURCE,
       remediation="Give the tenant's identity-provider settings (--keycloak-idp) so the prediction uses them, or "
                   "capture the failing login again in one HAR (the page and the Response of the same attempt).")
def broker_page_consistent(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """When the capture holds Atlan's error page, the page the broker model predicts must be that page. If it is
    not, either a tenant setting differs from what the model used (signature validation off, another certificate,
    a non-zero clock skew, an entity ID) or the page and the Response come from different attempts."""
    if not ctx.predictions:
        yield spec.skip(NOT_ATLAN)
        return
    captured = [(page, found) for page in ctx.evidence.error_pages if (found := pages_in(page.text))]
    if not captured:
        yield spec.skip("No page of Atlan's broker is recognised in the captured pages.")
        return
    for prediction in ctx.predictions:
        stop = prediction.stop
        for page, found in captured:
            where = dict(source=page.source, locator="error page", seen=page.text[:200])
            shown = ", ".join(quoted(p.text) for p in found)
            if stop is not None and stop.page in found:
                yield spec.passed(f"The captured page says {quoted(stop.page.text)}, as predicted at step "
                                  f"{stop.number} ({stop.name}).", expected=stop.page.text, **where)
                continue
            steps = sorted({n for p in found for n in PAGE_STEPS[p]})
            yield spec.warn(_disagreement(prediction, stop, shown, steps),
                            expected=stop.page.text if stop and stop.page else "no error page", **where)


def _disagreement(prediction: Prediction, stop: StepResult | None, shown: str, steps: list[int]) -> str:
    if stop is None:
        return (f"The capture shows {shown} (broker step {', '.join(map(str, steps))}), but the model predicts no "
                f"stop: a tenant setting is stricter than the model assumed (e.g. a required signed or encrypted "
                f"assertion, an Identity Provider Entity ID), or the page comes from another attempt."
                + _assumed(prediction))
    if steps and min(steps) > stop.number:
        why = (f"the real broker got past step {stop.number} ({stop.name}), so a tenant setting differs from the "
               f"model's: e.g. signature validation off or another signing certificate (step 7), an allowed clock "
               f"skew above 0 (step 19), no Identity Provider Entity ID (steps 13, 17)")
    else:
        why = ("the page comes from an earlier step than predicted: the page and the Response come from different "
               "attempts, or a tenant setting differs (e.g. required encryption, step 11)")
    return (f"The capture shows {shown} (broker step {', '.join(map(str, steps))}), but the model predicts a stop "
            f"at step {stop.number} ({stop.name}) with {shown_page(stop)}: {why}." + _assumed(prediction))
