"""The analysis pipeline: prepare the evidence once, then run every selected check in isolation.

prepare: decrypt (with --sp-key) and verify each message's signatures, so checks only read results.
run:     a check whose inputs are missing -> one ``skip`` finding naming the option that would enable it;
         a check that raises -> one ``error`` finding, and the run goes on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from msgspec.structs import replace

from ssodiag.diag import __version__
from ssodiag.diag.broker import assumed_config, logins, predict
from ssodiag.diag.answer import build_answer
from ssodiag.diag.connectors import diagnosed_connectors, tailor
from ssodiag.diag.context import DiagContext
from ssodiag.diag.decrypt import decrypt_message
from ssodiag.diag.detect import detect_connectors
from ssodiag.diag.judgement import ATLAN, atlan_reason, headline_fix, judgement_mode, regrade
from ssodiag.diag.model import (
    Connector, Detection, Evidence, Expectations, Finding, Judgement, MessageKind, ResolvedExpectations, RunResult,
    Severity, SignatureReport, SignatureVerdict, Status,
)
from ssodiag.diag.registry import CheckSpec, load_builtin_checks
from ssodiag.diag.signature import verify_message
from ssodiag.diag.verdict import judge_run

LOG = logging.getLogger(__name__)
# Signatures one run verifies (a login has one to four; a long session's capture a few hundred): the bound keeps a
# capture of thousands of signed messages from taking minutes. Messages after it are reported as not checked.
MAX_SIGNATURE_VERIFICATIONS = 400


def prepare(evidence: Evidence, expect: Expectations, ctx_for_trust: DiagContext) -> Evidence:
    """Decrypt and verify every message once; the result replaces the messages in the evidence."""
    idp_trust = (ctx_for_trust.trusted_certificates, expect.idp_fingerprints)
    sp_trust = (ctx_for_trust.sp_certificates, ())
    messages = []
    verifications = 0  # signatures verified so far in this run, each by both verifiers
    for message in evidence.messages:
        if expect.sp_key_pem and (message.encrypted_parts or any(a.encrypted_parts for a in message.assertions)):
            message = decrypt_message(message, expect.sp_key_pem)
        if verifications >= MAX_SIGNATURE_VERIFICATIONS:
            messages.append(replace(message, signature=SignatureReport(
                verdict=SignatureVerdict.NOT_CHECKED,
                reason=f"not verified: this run already verified {verifications} signatures, its bound; give this "
                       "message on its own to have it verified")))
            continue
        # AuthnRequests are signed by the SP (Atlan); everything else in a login capture comes from the IdP.
        # Logout messages can come from either side: judged against the IdP, which the reason then names.
        signer = "SP" if message.kind is MessageKind.AUTHN_REQUEST else "IdP"
        certs, fingerprints = sp_trust if signer == "SP" else idp_trust
        report = verify_message(message, certs, fingerprints, signer=signer)
        verifications += len(report.signed_elements)
        if message.sanitized and report.verdict not in KNOWN_DESPITE_SANITIZING:
            report = sanitized_report(report)
        messages.append(replace(message, signature=report))
    return replace(evidence, messages=tuple(messages))


# What a message marked as sanitized still proves: a signature that verifies was not touched, wrapping is read from
# the structure, which sanitizing keeps, and a message with no signature at all had none to break. The mark is text
# anyone can write, so it never hides any of them.
KNOWN_DESPITE_SANITIZING = frozenset({SignatureVerdict.VALID, SignatureVerdict.WRAPPING, SignatureVerdict.ABSENT})


def sanitized_report(report: SignatureReport) -> SignatureReport:
    """A message of a sanitized capture had its personal values replaced after the IdP signed it: what is signed,
    with which algorithms and the wrapping rules its structure breaks stay readable; whether it verifies cannot be
    known."""
    return SignatureReport(verdict=SignatureVerdict.NOT_CHECKED, signed_elements=report.signed_elements,
                           algorithm=report.algorithm, digest_algorithm=report.digest_algorithm,
                           rules_broken=report.rules_broken,
                           embedded_certificates=report.embedded_certificates,
                           reason="not-checked: sanitized (`ssodiag sanitize` replaced personal values after the IdP "
                                  "signed; analyze the original capture to verify the signature)")


def select_connectors(expect: Expectations, detections: tuple[Detection, ...]) -> set[Connector]:
    """Generic checks always run; a connector's checks run when it is forced with --connector, else when it is the
    detected IdP or a proxy in the login (diag.detect.diagnosed_connectors)."""
    chosen = {Connector.GENERIC}
    chosen |= {expect.connector} if expect.connector else set(diagnosed_connectors(detections))
    return chosen


def run_check(spec: CheckSpec, ctx: DiagContext) -> list[Finding]:
    missing = [need for need in sorted(spec.requires, key=lambda n: n.value) if not ctx.has(need)]
    if missing:
        hints = "; ".join(n.hint for n in missing)
        return [spec.skip(f"Not evaluated: missing {', '.join(n.value for n in missing)}; to enable it, {hints}.")]
    try:
        return list(spec.func(ctx, spec))
    except Exception as exc:  # a crashing check is a finding, not an abort (bandit / sslyze BUG_IN_SSLYZE)
        LOG.debug("check %s crashed", spec.id, exc_info=True)
        first_line = (str(exc).splitlines() or [""])[0][:200]
        return [spec.error(f"The check crashed ({type(exc).__name__}: {first_line}); its result is unknown.")]


def analyze(evidence: Evidence, expect: Expectations, *, now: datetime | None = None) -> RunResult:
    registry = load_builtin_checks()
    now = now or datetime.now(timezone.utc)
    base_ctx = DiagContext(evidence=evidence, expect=expect, now=now)
    evidence = prepare(evidence, expect, base_ctx)
    detections = detect_connectors(evidence)
    if expect.connector:
        detections = (Detection(expect.connector, "forced with --connector"),) + tuple(
            d for d in detections if d.connector is not expect.connector)
    ctx = DiagContext(evidence=evidence, expect=expect, detections=detections, now=now)
    mode, why = judgement_mode(expect, evidence)
    ctx = replace(ctx, judgement=mode)
    if atlan_reason(expect, evidence):
        ctx = with_broker(ctx)
    connectors = select_connectors(expect, detections)
    findings: list[Finding] = []
    for spec in registry.values():
        if spec.connector in connectors:
            findings.extend(run_check(spec, ctx))
    findings = tailor(findings, ctx)
    if mode == ATLAN:
        findings = regrade(findings, ctx.predictions)

    findings.sort(key=finding_order(registry))
    if ctx.predictions:
        findings = headline_fix(findings, ctx.predictions)
    resolved = ResolvedExpectations(sp_entity_id=ctx.sp_entity_id, acs_urls=ctx.acs_urls,
                                    idp_entity_id=ctx.idp_entity_id, trusted_certificates=ctx.trusted_certificates,
                                    clock_skew=ctx.clock_skew)
    plan = None
    if expect.group_mappings is not None and expect.atlan_users is not None:
        from ssodiag.diag.groupsync import simulate  # imported where used: most runs have no plan
        from ssodiag.diag.groupsync_io import idp_from_evidence

        # the users of this evidence only: population-wide warnings (a group nobody has) would mislead here
        plan = simulate(expect.group_mappings, expect.atlan_users, idp_from_evidence(evidence), population=False)
    verdict = judge_run(findings, evidence.messages, evidence.inputs, evidence.flows)
    stand_in_time = {cid for cid, spec in registry.items() if spec.timed} if ctx.login_time_unknown else set()
    return RunResult(tool_version=__version__, evidence=evidence, expectations=expect, resolved=resolved,
                     detections=detections, findings=tuple(findings), verdict=verdict,
                     answer=build_answer(findings, verdict, evidence.inputs, stand_in_time), groupsync=plan,
                     judgement=Judgement(mode, why), broker=ctx.predictions, judged_at=ctx.instant_for())


def finding_order(registry: dict[str, CheckSpec]) -> Callable[[Finding], tuple]:
    """The sort key of findings, most likely root cause first: failures, where Atlan's broker stops, the worst,
    causes before symptoms, and a connector's own finding (it names the vendor setting) before a generic one.

    What a check's catalogue entry decides is read once per check, not once per finding (tens per message)."""
    by_check = {cid: (not spec.headline, spec.symptom) for cid, spec in registry.items()}
    unregistered = (True, False)
    worst_first = {severity: -severity.rank for severity in Severity}
    generic = Connector.GENERIC

    def order(f: Finding) -> tuple:
        not_headline, symptom = by_check.get(f.check_id, unregistered)
        return (_STATUS_ORDER[f.status], not_headline, worst_first[f.severity], symptom, f.connector is generic,
                f.check_id)

    return order


def with_broker(ctx: DiagContext) -> DiagContext:
    """The broker's prediction for each Response: the tenant's settings (--keycloak-idp) or the assumed ones;
    an explicit --clock-skew stands in for the tenant's allowed clock skew when no settings were given."""
    expect = ctx.expect
    config = expect.keycloak_idp or assumed_config(ctx.idp_entity_id, expect.atlan_alias)
    if expect.keycloak_idp is None and expect.clock_skew is not None:
        config = replace(config, allowed_clock_skew=expect.clock_skew)
    found = logins(ctx.evidence, lambda m: expect.at or m.captured_at, expect.request_id, ctx.sp_entity_id,
                   ctx.acs_urls, ctx.trusted_certificates)
    pages = tuple(page.text for page in ctx.evidence.error_pages)
    return replace(ctx, broker_config=config, predictions=tuple(predict(login, config, pages) for login in found))


_STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.SKIP: 3, Status.PASS: 4}
