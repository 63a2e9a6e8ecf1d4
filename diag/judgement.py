"""Two ways to judge the same Response: "for Atlan" (what Atlan's Keycloak broker enforces) or "strictly" (the
SAML specifications, as python3-saml and other strict service providers apply them).

For an Atlan login (``--atlan`` or ``--keycloak-idp`` given, or a Keycloak broker URL in the evidence) the generic
checks are re-graded by effect: a rule the broker enforces fails at the severity of a blocked login, a rule it does
not enforce becomes a warning that says "Keycloak accepts this; other service providers may not". ``--strict``
keeps the generic judgement (and its 300 s clock skew) for an Atlan login too, e.g. before moving the IdP app to
another service provider. Which mode ran is stated in the report.
"""
from __future__ import annotations

import functools
import re

from msgspec.structs import replace

from ssodiag.diag.broker import BROKER_STOP_CHECK, Outcome, Prediction, is_broker_url
from ssodiag.diag.connectors import broker_step_checks
from ssodiag.diag.model import Evidence, Expectations, Finding, Severity, Status

ATLAN = "atlan"
STRICT = "strict"
ACCEPTED = "Keycloak accepts this; other service providers may not."

# Generic rules Keycloak 20.0.2's broker does not enforce at all (no code in SAMLEndpoint / ConditionsValidator),
# with the reason the report gives.
NOT_ENFORCED = {
    "SAML006": "Keycloak accepts an assertion without Conditions (ConditionsValidator.java:115-118).",
    "SAML008": "Keycloak does not check the SubjectConfirmation Method (SAMLEndpoint.java:546-566 reads no "
               "SubjectConfirmation).",
    "SAML009": "Keycloak does not check the SubjectConfirmationData NotOnOrAfter.",
    "SAML010": "Keycloak does not check the SubjectConfirmationData Recipient.",
    "SAML018": "Keycloak does not check the NameID SPNameQualifier.",
    "SAML019": "Keycloak does not check SessionNotOnOrAfter.",
    "SAML020": "Keycloak reads only the first AuthnStatement and requires none (SAMLEndpoint.java:546-566).",
    "SAML021": "Keycloak's attribute mappers merge the values of repeated attributes (UserAttributeMapper.java:"
               "187-197).",
    "MD005": "Keycloak never validates the certificate chain, so the certificate's own signature algorithm does not "
             "matter (SAMLEndpoint.java:258-259).",
}
# Key-size rules: Keycloak has none; the JDK's secure validation refuses RSA keys under 1024 bits only.
KEY_SIZE_CHECKS = {"SIG007", "MD006"}
JDK_MIN_RSA_BITS = 1024
# Generic rules whose Keycloak counterpart is a broker step: the step's outcome for the same Response decides.
BROKER_STEPS: dict[str, tuple[int, ...]] = {
    "SAML001": (9,), "SAML003": (4,), "SAML004": (4,), "SAML005": (10,), "SAML007": (19,), "SAML011": (14,),
    "SAML012": (19,), "SAML013": (6,), "SAML014": (5,), "SAML015": (13, 17), "SAML016": (13, 17), "SAML017": (18,),
    "SIG001": (7, 15), "SIG002": (7,), "SIG004": (7,), "SIG008": (7,),
}
# Checks that explain a broker step in more detail than the step itself (SHA-1, whose fix a connector tailors to its
# console's signing-algorithm field; the attribute to rename; a vendor console's fields, declared by each connector
# module's broker_steps), beside the generic checks of BROKER_STEPS: the headline's fix is taken from the first of
# them that fails.
STEP_DETAIL: dict[int, tuple[str, ...]] = {7: ("SIG006",), 8: ("KC002",), 21: ("ATTR001", "ATTR002")}
# For a step with several rules, the one a generic check corresponds to (broker.StepResult.aspects).
ASPECT = {"SAML007": "time", "SAML012": "audience"}


def atlan_reason(expect: Expectations, evidence: Evidence) -> str | None:
    """Why this is an Atlan login, or None."""
    if expect.atlan_url:
        return "--atlan given"
    if expect.keycloak_idp is not None:
        return "--keycloak-idp given"
    urls = list(evidence.urls) + [m.destination for m in evidence.messages if m.destination]
    found = next((u for u in urls if is_broker_url(u)), None)
    return f"a Keycloak broker endpoint in the evidence (`{found[:120]}`)" if found else None


def judgement_mode(expect: Expectations, evidence: Evidence) -> tuple[str, str]:
    """(mode, why): ``atlan`` for an Atlan login unless ``--strict``, else ``strict``."""
    reason = atlan_reason(expect, evidence)
    if expect.strict:
        return STRICT, "--strict given" + (f" (an Atlan login: {reason})" if reason else "")
    if reason:
        return ATLAN, reason
    return STRICT, "not an Atlan login (no --atlan, no --keycloak-idp, no Keycloak broker URL in the evidence)"


def regrade(findings: list[Finding], predictions: tuple[Prediction, ...]) -> list[Finding]:
    """Atlan mode: each generic failure graded by its effect on Atlan's broker."""
    by_source = {p.source: p for p in predictions}
    return [_regrade(f, by_source.get(f.source or "")) for f in findings]


def _regrade(finding: Finding, prediction: Prediction | None) -> Finding:
    if finding.status is not Status.FAIL:
        return finding
    if finding.check_id in NOT_ENFORCED:
        return _accepted(finding, NOT_ENFORCED[finding.check_id])
    if finding.check_id in KEY_SIZE_CHECKS:
        bits = re.search(r"(\d+) bits", finding.seen or "")
        if bits and int(bits.group(1)) >= JDK_MIN_RSA_BITS:
            return _accepted(finding, "Keycloak has no key-size rule; only keys under 1024 bits are refused, by the "
                                      "Java runtime's secure validation.")
        return finding
    steps = BROKER_STEPS.get(finding.check_id)
    if not steps or prediction is None:
        return finding
    results = [prediction.step(n) for n in steps]
    aspect = ASPECT.get(finding.check_id)
    if any(r is not None and r.outcome is Outcome.FAIL and (aspect is None or aspect in r.aspects) for r in results):
        return finding if finding.severity.rank >= Severity.HIGH.rank else replace(finding, severity=Severity.HIGH)
    if any(r is not None and r.outcome is Outcome.FAIL for r in results):
        shown = "; ".join(f"step {r.number} ({r.name})" for r in results if r)
        return _accepted(finding, f"Atlan's broker accepts this rule at {shown} (that step fails for another "
                                  f"reason, reported separately).")
    if results and all(r is not None and r.outcome in (Outcome.PASS, Outcome.NOT_APPLICABLE) for r in results):
        shown = "; ".join(f"step {r.number} ({r.name}): {r.because}" for r in results)
        return _accepted(finding, f"Atlan's broker passes {shown}")
    return finding


def _accepted(finding: Finding, reason: str) -> Finding:
    return replace(finding, status=Status.WARN, severity=Severity.LOW,
                   message=f"{finding.message} {ACCEPTED} {reason}")


@functools.cache
def step_checks(number: int) -> frozenset[str]:
    """The checks that judge (part of) broker step ``number``."""
    return frozenset({c for c, steps in BROKER_STEPS.items() if number in steps} | set(STEP_DETAIL.get(number, ()))
                     | set(broker_step_checks(number)))


def headline_fix(findings: list[Finding], predictions: tuple[Prediction, ...]) -> list[Finding]:
    """The fix of "Atlan stops at step N", with its expected and seen values, from the most specific failing finding
    about that step: ``findings`` are sorted, so a connector's finding (it names the vendor console's fields and the
    tenant's values) comes first."""
    by_source = {p.source: p for p in predictions}
    first_failing: dict[str, int] = {}  # check id -> position of its first failing finding (one pass, not one per stop)
    for position, f in enumerate(findings):
        if f.status is Status.FAIL:
            first_failing.setdefault(f.check_id, position)
    result = []
    for finding in findings:
        prediction = by_source.get(finding.source or "")
        if finding.check_id == BROKER_STOP_CHECK and finding.status is Status.FAIL and prediction and prediction.stop:
            positions = [first_failing[c] for c in step_checks(prediction.stop.number) if c in first_failing]
            if positions:
                detail = findings[min(positions)]
                # the fix's exact values are the cause's (the certificate to upload, the URL to enter), not the page
                values = dict(expected=detail.expected, seen=detail.seen) if detail.expected or detail.seen else {}
                finding = replace(finding, remediation=f"{detail.remediation} (see {detail.check_id})", **values)
        result.append(finding)
    return result
