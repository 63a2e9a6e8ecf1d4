"""The runner: missing inputs -> skip with the enabling option; a crashing check -> error finding; connector
selection; findings ordered worst first."""
from __future__ import annotations

from ssodiag.diag import runner
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Connector, Detection, Evidence, Expectations, Severity, Status
from ssodiag.diag.registry import CheckSpec, Need, REGISTRY, load_builtin_checks, validate_registry
from ssodiag.diag.saml import parse_message
from tests.idp import TestIdP


def _spec(func, *, id="TST001", requires=(), connector=Connector.GENERIC, severity=Severity.HIGH) -> CheckSpec:
    return CheckSpec(id, "a test check", severity, connector, frozenset(requires), "do the thing", None, func)


def _evidence() -> Evidence:
    msg = parse_message(TestIdP().response(), source="r.xml")
    return Evidence(messages=(msg,))


def test_missing_input_becomes_skip_naming_the_option():
    # given a check that needs trust material, and no --idp-cert / --idp-metadata
    spec = _spec(lambda ctx, spec: [spec.passed("never reached")], requires={Need.RESPONSE, Need.IDP_TRUST})
    ctx = DiagContext(evidence=_evidence(), expect=Expectations())
    # when
    [finding] = runner.run_check(spec, ctx)
    # then it is a skip (never a pass) and says which option enables it
    assert finding.status is Status.SKIP
    assert "--idp-cert" in finding.message and "idp-trust" in finding.message


def test_crashing_check_becomes_error_and_run_continues():
    def boom(ctx, spec):
        raise KeyError("surprise")
    ctx = DiagContext(evidence=_evidence(), expect=Expectations())
    [finding] = runner.run_check(_spec(boom), ctx)
    assert finding.status is Status.ERROR
    assert "KeyError" in finding.message


def test_connector_checks_run_only_when_detected_or_forced(monkeypatch):
    calls = []
    specs = {
        "GEN001": _spec(lambda c, s: calls.append("generic") or [s.passed("ok")], id="GEN001"),
        "OKTA001": _spec(lambda c, s: calls.append("okta") or [s.passed("ok")], id="OKTA001", connector=Connector.OKTA),
    }
    monkeypatch.setattr(runner, "load_builtin_checks", lambda: specs)
    runner.analyze(_evidence(), Expectations())
    assert calls == ["generic"]
    calls.clear()
    result = runner.analyze(_evidence(), Expectations(connector=Connector.OKTA))
    assert calls == ["generic", "okta"]
    assert result.detections[0] == Detection(Connector.OKTA, "forced with --connector")


def test_findings_sorted_fail_first_then_severity(monkeypatch):
    def several(ctx, spec):
        yield spec.passed("fine")
        yield spec.warn("hmm", severity=Severity.LOW)
        yield spec.fail("bad low", severity=Severity.LOW)
        yield spec.fail("bad critical", severity=Severity.CRITICAL)
    monkeypatch.setattr(runner, "load_builtin_checks", lambda: {"TST001": _spec(several)})
    result = runner.analyze(_evidence(), Expectations())
    assert [f.message for f in result.findings] == ["bad critical", "bad low", "hmm", "fine"]


def test_every_message_gets_a_signature_verdict():
    result = runner.analyze(_evidence(), Expectations())
    # an unsigned response, no trust configured: the trust engine ran and said so
    assert result.evidence.messages[0].signature.verdict.value == "absent"


def test_builtin_catalogue_is_valid_and_non_trivial():
    specs = load_builtin_checks()
    validate_registry()
    # exact: a check added or removed changes this number and needs its row in tests/test_check_examples.py
    assert len(specs) == 107
    assert all(s.remediation and s.description for s in specs.values())
    assert REGISTRY is specs
