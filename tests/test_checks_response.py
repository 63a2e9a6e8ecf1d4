"""SAML0xx: every Response / Assertion rule, a passing and a failing Response built by the test IdP for each.

Each case asserts the status the check gives AND that its message names the observed value, so a check that
stopped looking at its element, or that reported a canned sentence, fails here.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import ssodiag.checks.audience_destination  # noqa: F401  (importing registers the SAML checks)
import ssodiag.checks.identity  # noqa: F401
import ssodiag.checks.status  # noqa: F401
import ssodiag.checks.structure  # noqa: F401
import ssodiag.checks.timing  # noqa: F401
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Evidence, Expectations, Finding, MessageKind, SamlMessage, Severity, Status
from ssodiag.diag.registry import REGISTRY
from ssodiag.diag.saml import parse_message
from ssodiag.diag.timefmt import before_or_after, format_duration
from tests.idp import ACS_URL, IDP_ENTITY_ID, NAMEID_EMAIL, SP_ENTITY_ID, TestIdP, sp_keypair

T = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)  # the instant every case is judged at (--at)
REQUEST_ID = "_request-1"  # TestIdP's default InResponseTo
SECOND_EMAIL_STATEMENT = ('<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>b@example.test'
                          '</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>')


def window(**fields):
    """Response fields whose time conditions are centred on T, so T-relative cases stay deterministic."""
    base = dict(issue_instant=T - timedelta(seconds=30), not_before=T - timedelta(minutes=5),
                not_on_or_after=T + timedelta(minutes=5), sc_not_on_or_after=T + timedelta(minutes=5))
    base.update(fields)
    return base


def message(xml: bytes, source: str = "t") -> SamlMessage:
    return parse_message(xml, source=source)


def context(*messages: SamlMessage, metadata=(), **expect) -> DiagContext:
    """A context holding everything a generic check may need; keywords override the expectations."""
    values = dict(sp_entity_id=SP_ENTITY_ID, acs_urls=(ACS_URL,), idp_entity_id=IDP_ENTITY_ID,
                  request_id=REQUEST_ID, at=T)
    values.update(expect)
    return DiagContext(evidence=Evidence(messages=messages, metadata=tuple(metadata)), expect=Expectations(**values))


def run(check_id: str, ctx: DiagContext) -> list[Finding]:
    """Run one check as the runner would once its inputs are present (they must be, in these tests)."""
    spec = REGISTRY[check_id]
    assert all(ctx.has(need) for need in spec.requires), f"test context lacks an input {check_id} requires"
    findings = list(spec.func(ctx, spec))
    assert findings, f"{check_id} judged nothing"
    assert all(f.check_id == check_id for f in findings)
    return findings


def only(findings: list[Finding], status: Status) -> list[Finding]:
    return [f for f in findings if f.status is status]


def response_findings(check_id: str, **fields) -> list[Finding]:
    ctx_keys = {k: fields.pop(k) for k in list(fields) if k.startswith("ctx_")}
    ctx = context(message(TestIdP().response(**window(**fields))), **{k[4:]: v for k, v in ctx_keys.items()})
    return run(check_id, ctx)


SAML_IDS = sorted(cid for cid in REGISTRY if cid.startswith("SAML"))


@pytest.mark.parametrize("check_id", SAML_IDS)
def test_a_valid_response_passes_every_check(check_id):
    findings = response_findings(check_id)
    assert [f.status for f in findings] == [Status.PASS] * len(findings), [f.message for f in findings]


# (check id, Response fields, status expected, text the message must contain: the observed value)
CASES = [
    # SAML001 status
    ("SAML001", {}, Status.PASS, "`Success`"),
    ("SAML001", dict(status_code="Responder", sub_code="RequestDenied", status_message="User not assigned",
                     assertions=0), Status.FAIL, "`Responder / RequestDenied`"),
    ("SAML001", dict(status_code="Responder", sub_code="AuthnFailed", assertions=0), Status.FAIL,
     "could not authenticate the user"),
    ("SAML001", dict(status_code="Requester", sub_code="InvalidNameIDPolicy", assertions=0), Status.FAIL,
     "NameIDPolicy"),
    ("SAML001", dict(status_code="Responder", sub_code="NoPassive", assertions=0), Status.FAIL, "IsPassive"),
    ("SAML001", dict(status_code="Requester", sub_code="NoAuthnContext", assertions=0), Status.FAIL,
     "RequestedAuthnContext"),
    ("SAML001", dict(status_code="Responder", sub_code="UnknownPrincipal", assertions=0), Status.FAIL,
     "does not know the user"),
    ("SAML001", dict(status_code="Requester", sub_code="UnsupportedBinding", assertions=0), Status.FAIL,
     "binding"),
    ("SAML001", dict(status_code="VersionMismatch", assertions=0), Status.FAIL, "`VersionMismatch`"),
    ("SAML001", dict(status_code="Responder", sub_code="urn:example:CustomCode", assertions=0), Status.FAIL,
     "IdP-specific"),
    ("SAML001", dict(status_code=None), Status.FAIL, "no Status"),
    # SAML002 version
    ("SAML002", dict(version="1.1"), Status.FAIL, "`1.1`"),
    ("SAML002", dict(version=None), Status.FAIL, "no Version"),
    # SAML003 IDs
    ("SAML003", {}, Status.PASS, "has ID `_"),
    ("SAML003", dict(response_id=None), Status.FAIL, "The Response has no ID"),
    ("SAML003", dict(assertion_id=None), Status.FAIL, "Assertion 1 has no ID"),
    # SAML004 IssueInstant
    ("SAML004", dict(issue_instant=T + timedelta(minutes=10)), Status.FAIL, "10 min after the --at time"),
    ("SAML004", dict(issue_instant=T - timedelta(hours=3)), Status.WARN, "3 h before the --at time"),
    ("SAML004", dict(issue_instant="yesterday"), Status.SKIP, "`yesterday`"),
    ("SAML004", dict(issue_instant=None), Status.FAIL, "no IssueInstant"),
    # SAML005 assertion count
    ("SAML005", dict(assertions=0), Status.FAIL, "carries no assertion"),
    ("SAML005", dict(assertions=2), Status.FAIL, "`2` assertions"),
    ("SAML005", dict(status_code="Responder", assertions=0), Status.SKIP, "`Responder`"),
    # SAML006 Conditions
    ("SAML006", dict(include_conditions=False), Status.FAIL, "no Conditions"),
    # SAML007 validity window
    ("SAML007", {}, Status.PASS, "2026-03-01T12:05:00Z"),
    ("SAML007", dict(not_on_or_after=T - timedelta(hours=3, minutes=12)), Status.FAIL,
     "expired 3 h 12 min before the --at time"),
    ("SAML007", dict(not_before=T + timedelta(minutes=10)), Status.FAIL, "not valid until 10 min after"),
    ("SAML007", dict(not_on_or_after=T - timedelta(seconds=60)), Status.PASS, "2026-03-01T11:59:00Z"),  # in skew
    ("SAML007", dict(not_on_or_after="soon"), Status.SKIP, "`soon`"),
    ("SAML007", dict(include_conditions=False), Status.SKIP, "no Conditions"),
    # SAML008 bearer
    ("SAML008", dict(sc_method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"), Status.FAIL, "holder-of-key"),
    ("SAML008", dict(sc_method=None), Status.FAIL, "(no SubjectConfirmation)"),
    # SAML009 bearer NotOnOrAfter
    ("SAML009", dict(sc_not_on_or_after=T - timedelta(hours=1)), Status.FAIL, "expired 1 h before"),
    ("SAML009", dict(sc_not_on_or_after=None), Status.FAIL, "no NotOnOrAfter"),
    ("SAML009", dict(sc_not_on_or_after="later"), Status.SKIP, "`later`"),
    ("SAML009", {}, Status.PASS, "`2026-03-01T12:05:00Z`"),
    # SAML010 Recipient
    ("SAML010", {}, Status.PASS, f"`{ACS_URL}`"),
    ("SAML010", dict(recipient="http://sp.example.test/acs"), Status.FAIL, "the scheme is `http`, expected `https`"),
    ("SAML010", dict(recipient=None), Status.FAIL, "no Recipient"),
    ("SAML010", dict(recipient="https://SP.example.test:443/acs"), Status.WARN, "written differently"),
    # SAML011 InResponseTo
    ("SAML011", {}, Status.PASS, f"`{REQUEST_ID}`"),
    ("SAML011", dict(in_response_to="_stale-request"), Status.FAIL, "`_stale-request`"),
    ("SAML011", dict(in_response_to=None), Status.WARN, "unsolicited"),
    ("SAML011", dict(sc_in_response_to="_other"), Status.FAIL, "bearer confirmation"),
    # SAML012 Audience
    ("SAML012", {}, Status.PASS, f"`{SP_ENTITY_ID}`"),
    ("SAML012", dict(audiences=["https://SP.example.test/metadata"]), Status.FAIL, "letter case"),
    ("SAML012", dict(audiences=["https://sp.example.test/metadata/"]), Status.FAIL, "trailing slash"),
    ("SAML012", dict(audiences=["urn:other-app"]), Status.FAIL, "`urn:other-app`"),
    ("SAML012", dict(audiences=[]), Status.FAIL, "no AudienceRestriction"),
    ("SAML012", dict(include_conditions=False), Status.FAIL, "no AudienceRestriction"),
    ("SAML012", dict(audiences=["urn:other", SP_ENTITY_ID]), Status.PASS, f"`{SP_ENTITY_ID}`"),
    # every AudienceRestriction must hold on its own (SAML core §2.5.1.4): a second one naming only another SP fails
    ("SAML012", dict(audience_restrictions=[[SP_ENTITY_ID], ["urn:other-sp"]]), Status.FAIL,
     "AudienceRestriction 2 of 2 of assertion"),
    ("SAML012", dict(audience_restrictions=[[SP_ENTITY_ID], ["urn:other-sp", SP_ENTITY_ID]]), Status.PASS,
     f"`{SP_ENTITY_ID}`"),
    ("SAML012", dict(audience_restrictions=[[SP_ENTITY_ID], []]), Status.FAIL, "names no Audience"),
    # SAML013 Destination
    ("SAML013", {}, Status.PASS, f"`{ACS_URL}`"),
    ("SAML013", dict(destination="http://sp.example.test/acs"), Status.FAIL, "TLS-terminating proxy"),
    ("SAML013", dict(destination="https://sp.example.test/acs/"), Status.FAIL, "trailing slash"),
    ("SAML013", dict(destination="https://sp.example.test.mcas.ms/acs"), Status.FAIL, "Defender for Cloud Apps"),
    ("SAML013", dict(destination="https://sp.example.test:99999/acs"), Status.FAIL, "not an absolute URL"),
    ("SAML013", dict(destination="HTTPS://sp.example.test/acs"), Status.WARN, "written differently"),
    ("SAML013", dict(destination=None), Status.SKIP, "no Destination"),
    # SAML014 unsigned Response without Destination is allowed
    ("SAML014", dict(destination=None), Status.PASS, "not signed"),
    # SAML015 issuers
    ("SAML015", dict(assertion_issuer="https://other-idp.test"), Status.FAIL, "`https://other-idp.test`"),
    ("SAML015", dict(assertion_issuer=None), Status.FAIL, "has no Issuer"),
    ("SAML015", dict(issuer=None, assertion_issuer=IDP_ENTITY_ID), Status.PASS, "allowed for an unsigned Response"),
    # SAML016 issuer vs expected IdP
    ("SAML016", {}, Status.PASS, f"`{IDP_ENTITY_ID}`"),
    ("SAML016", dict(issuer="https://IDP.example.test/metadata"), Status.FAIL, "letter case"),
    ("SAML016", dict(issuer="http://www.okta.com/exk123"), Status.FAIL, "`http://www.okta.com/exk123`"),
    # SAML017 NameID
    ("SAML017", {}, Status.PASS, f"`{NAMEID_EMAIL}`"),
    ("SAML017", dict(name_id_format=None), Status.PASS, "nameid-format:unspecified"),
    ("SAML017", dict(name_id=None), Status.FAIL, "no NameID"),
    ("SAML017", dict(name_id=""), Status.FAIL, "empty NameID"),
    # SAML018 SPNameQualifier
    ("SAML018", dict(sp_name_qualifier=SP_ENTITY_ID), Status.PASS, f"`{SP_ENTITY_ID}`"),
    ("SAML018", dict(sp_name_qualifier="https://other-sp.test"), Status.FAIL, "`https://other-sp.test`"),
    # SAML019 SessionNotOnOrAfter
    ("SAML019", dict(session_not_on_or_after=T + timedelta(hours=8)), Status.PASS, "`2026-03-01T20:00:00Z`"),
    ("SAML019", dict(session_not_on_or_after=T - timedelta(hours=2)), Status.FAIL, "expired 2 h before"),
    ("SAML019", dict(authn_statements=0), Status.SKIP, "no AuthnStatement"),
    ("SAML019", dict(session_not_on_or_after="tomorrow"), Status.SKIP, "`tomorrow`"),
    # SAML020 AuthnStatement count
    ("SAML020", dict(authn_statements=0), Status.FAIL, "`0` AuthnStatements"),
    ("SAML020", dict(authn_statements=2), Status.FAIL, "`2` AuthnStatements"),
    # SAML021 duplicate attribute names
    ("SAML021", dict(extra_assertion_xml=SECOND_EMAIL_STATEMENT), Status.FAIL, "`email` (2 times)"),
]


@pytest.mark.parametrize(("check_id", "fields", "status", "text"), CASES,
                         ids=[f"{c[0]}-{c[2].value}-{i}" for i, c in enumerate(CASES)])
def test_check_judges_the_observed_value(check_id, fields, status, text):
    findings = response_findings(check_id, **fields)
    matching = only(findings, status)
    assert matching, [(f.status.value, f.message) for f in findings]
    assert any(text in f.message for f in matching), [f.message for f in matching]
    if status is Status.PASS:  # a pass case passes everywhere it looked
        assert only(findings, Status.FAIL) == [] and only(findings, Status.WARN) == []


def test_status_failure_carries_the_sub_code_remediation_and_status_message():
    findings = response_findings("SAML001", status_code="Responder", sub_code="RequestDenied",
                                 status_message="User not assigned", assertions=0)
    (finding,) = findings
    assert finding.severity is Severity.CRITICAL
    assert "Assign the user" in finding.remediation
    assert "`User not assigned`" in finding.message
    assert finding.seen == "Responder / RequestDenied"


def test_several_assertions_is_high_and_none_is_critical():
    (many,) = response_findings("SAML005", assertions=2)
    (none,) = response_findings("SAML005", assertions=0)
    assert (many.severity, none.severity) == (Severity.HIGH, Severity.CRITICAL)


def test_an_encrypted_assertion_counts_as_the_one_assertion():
    _key, sp_cert = sp_keypair()
    idp = TestIdP()
    xml = idp.encrypt_assertion(idp.response(**window()), sp_cert)
    (finding,) = run("SAML005", context(message(xml)))
    assert finding.status is Status.PASS and "1 encrypted" in finding.message


def test_encrypted_assertion_is_skipped_by_assertion_checks_with_the_reason():
    _key, sp_cert = sp_keypair()
    idp = TestIdP()
    xml = idp.encrypt_assertion(idp.response(**window()), sp_cert)
    (finding,) = run("SAML012", context(message(xml)))
    assert finding.status is Status.SKIP and "--sp-key" in finding.message


@pytest.mark.parametrize(("what", "destination", "status"), [
    ("response", None, Status.FAIL), ("response", ACS_URL, Status.PASS), ("assertion", None, Status.PASS)])
def test_signed_response_must_carry_destination(what, destination, status):
    xml = TestIdP().signed_response(what=what, **window(destination=destination))
    (finding,) = run("SAML014", context(message(xml)))
    assert finding.status is status
    if status is Status.FAIL:
        assert "missing_required_destination" in finding.message and finding.seen == "(none)"


def test_signed_response_without_issuer_fails_the_issuer_check():
    xml = TestIdP().signed_response(what="response", **window(issuer=None, assertion_issuer=IDP_ENTITY_ID))
    findings = run("SAML015", context(message(xml)))
    assert any(f.status is Status.FAIL and "signed or encrypted but has no Issuer" in f.message for f in findings)


def test_destination_may_be_atlans_idp_initiated_endpoint():
    acs = "https://tenant.atlan.com/auth/realms/default/broker/okta/endpoint/clients/atlan-saml"
    xml = TestIdP().response(**window(destination=acs))
    (finding,) = run("SAML013", context(message(xml), acs_urls=(), atlan_url="tenant.atlan.com", atlan_alias="okta"))
    assert finding.status is Status.PASS and acs in finding.message


def test_destination_missing_the_idp_initiated_suffix_is_named():
    xml = TestIdP().response(**window(destination="https://sp.example.test/acs"))
    (finding,) = run("SAML013", context(message(xml), acs_urls=("https://sp.example.test/acs/clients/atlan-saml",)))
    assert finding.status is Status.FAIL and "lacks the suffix `/clients/atlan-saml`" in finding.message


def test_derived_sp_entity_id_is_called_derived_in_audience_failures():
    xml = TestIdP().response(**window(audiences=["urn:wrong"]))
    ctx = context(message(xml), sp_entity_id=None, atlan_url="https://tenant.atlan.com", atlan_alias="okta")
    (finding,) = run("SAML012", ctx)
    assert finding.status is Status.FAIL
    assert "`https://tenant.atlan.com/auth/realms/default`" in finding.message and "derived" in finding.message


def test_in_response_to_accepts_any_request_in_the_capture_when_none_is_forced():
    idp = TestIdP()
    request = message(idp.authn_request(id="_from-har"), source="har entry 3")
    response = message(idp.response(**window(in_response_to="_from-har")))
    findings = run("SAML011", context(response, request, request_id=None))
    assert {f.status for f in findings} == {Status.PASS}
    assert all("`_from-har`" in f.message for f in findings)


def test_time_is_judged_at_the_capture_time_when_no_at_is_given():
    captured = T + timedelta(hours=2)
    xml = TestIdP().response(**window())
    msg = parse_message(xml, source="har", captured_at=captured)
    (finding,) = run("SAML007", context(msg, at=None))
    assert finding.status is Status.FAIL
    assert "expired 1 h 55 min before the capture (2026-03-01T14:00:00Z)" in finding.message


def test_clock_skew_option_widens_the_window():
    fields = dict(not_on_or_after=T - timedelta(minutes=10))
    (strict,) = response_findings("SAML007", **fields)
    (lenient,) = response_findings("SAML007", ctx_clock_skew=900, **fields)
    assert (strict.status, lenient.status) == (Status.FAIL, Status.PASS)


def test_hostile_long_values_are_bounded_in_messages():
    huge = "x" * 200_000
    findings = response_findings("SAML016", issuer=huge)  # Response and Assertion issuer
    assert [f.status for f in findings] == [Status.FAIL, Status.FAIL]
    assert all(len(f.message) < 1000 and "`xxx" in f.message and "…`" in f.message for f in findings)


def test_responses_without_assertions_are_skipped_with_the_reason():
    xml = TestIdP().response(**window(status_code="Responder", sub_code="RequestDenied", assertions=0))
    (finding,) = run("SAML012", context(message(xml)))
    assert finding.status is Status.SKIP and "`Responder`" in finding.message


def test_only_responses_are_judged():
    idp = TestIdP()
    ctx = context(message(idp.response(**window(version="1.1"))), message(idp.authn_request()))
    findings = run("SAML002", ctx)
    assert {f.source for f in findings} == {"t"}
    assert ctx.evidence.messages[1].kind is MessageKind.AUTHN_REQUEST


# --------------------------------------------------------------------------- time wording (diag/timefmt.py)


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(0), "0 s"), (timedelta(seconds=45), "45 s"), (timedelta(hours=3, minutes=12, seconds=9), "3 h 12 min"),
    (timedelta(days=2, seconds=5), "2 d"), (timedelta(days=2, hours=4), "2 d 4 h"),
    (timedelta(minutes=-90), "1 h 30 min"),
])
def test_durations_read_in_their_two_largest_adjacent_units(delta, text):
    assert format_duration(delta) == text


def test_before_or_after_names_the_direction():
    assert before_or_after(T - timedelta(minutes=5), T) == "5 min before"
    assert before_or_after(T + timedelta(minutes=5), T) == "5 min after"
