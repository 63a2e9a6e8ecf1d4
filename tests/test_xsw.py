"""XML Signature Wrapping: XSW1-XSW8 built from a genuinely signed Response must never come out ``valid``."""
from __future__ import annotations

import pytest

from ssodiag.diag.certs import load_certificates
from ssodiag.diag.model import Evidence, Expectations, SignatureVerdict, Status
from ssodiag.diag.runner import analyze
from ssodiag.diag.saml import parse_message
from ssodiag.diag.signature import verify_message
from tests.idp import TestIdP
from tests.xsw import EVIL_NAME_ID, SIGNED_WHAT, VARIANTS

IDP = TestIdP()
TRUSTED = load_certificates(IDP.cert_pem.encode(), "idp.pem")


def wrapped(name: str) -> bytes:
    return VARIANTS[name](IDP.signed_response(what=SIGNED_WHAT[name]))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_genuine_document_is_valid(name):
    # the control: what each variant starts from verifies, so a non-valid verdict below is the wrapping's doing
    msg = parse_message(IDP.signed_response(what=SIGNED_WHAT[name]), source=name)
    assert verify_message(msg, TRUSTED, ()).verdict is SignatureVerdict.VALID


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_xsw_variant_is_never_valid_and_names_the_rules(name):
    msg = parse_message(wrapped(name), source=name)
    report = verify_message(msg, TRUSTED, ())
    assert report.verdict in (SignatureVerdict.WRAPPING, SignatureVerdict.INVALID)
    assert report.rules_broken, "a wrapped document must name the wrapping rules it breaks"
    # every variant smuggles a second assertion somewhere: counted wherever it hides
    assert any(rule.startswith("single-assertion:") for rule in report.rules_broken)


@pytest.mark.parametrize("name", ["XSW2", "XSW3", "XSW4", "XSW7"])
def test_variants_whose_signature_still_verifies_are_reported_as_wrapping_not_as_forged(name):
    # these keep the signed element intact, so crypto alone would accept them: only the structure rules catch them.
    # The moved signature sits where no relying party reads one, so it is not verified at all, never called broken.
    report = verify_message(parse_message(wrapped(name), source=name), TRUSTED, ())
    assert report.verdict is SignatureVerdict.WRAPPING
    assert not any(e.outcome == "broken" for e in report.signed_elements)
    assert "changed after signing" not in report.reason


@pytest.mark.parametrize("name", ["XSW1", "XSW2", "XSW3", "XSW4", "XSW5", "XSW6"])
def test_where_the_attacker_data_is_read_the_verified_signature_does_not_cover_it(name):
    msg = parse_message(wrapped(name), source=name)
    assert msg.assertions[0].name_id.value == EVIL_NAME_ID  # what a naive relying party would log in as
    report = verify_message(msg, TRUSTED, ())
    assert not any(e.covers_consumed_data for e in report.signed_elements)


def test_xsw3_is_caught_by_the_signed_is_read_rule_too():
    report = verify_message(parse_message(wrapped("XSW3"), source="XSW3"), TRUSTED, ())
    assert any(rule.startswith("signed-is-read:") for rule in report.rules_broken)


def test_xsw4_names_the_nested_signature_parent():
    report = verify_message(parse_message(wrapped("XSW4"), source="XSW4"), TRUSTED, ())
    assert any(rule.startswith("signature-parent:") for rule in report.rules_broken)


@pytest.mark.parametrize("name", ["XSW1", "XSW5", "XSW6"])
def test_reference_not_pointing_at_its_parent_is_named(name):
    report = verify_message(parse_message(wrapped(name), source=name), TRUSTED, ())
    assert any(rule.startswith("reference-is-parent:") for rule in report.rules_broken)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_sig003_fails_for_every_variant_and_passes_the_genuine_response(name):
    msg = parse_message(wrapped(name), source=name)
    result = analyze(Evidence(messages=(msg,)), Expectations(idp_certificates=TRUSTED))
    [finding] = [f for f in result.findings if f.check_id == "SIG003"]
    assert finding.status is Status.FAIL
    assert finding.seen in {rule.split(":", 1)[0] for rule in
                            verify_message(msg, TRUSTED, ()).rules_broken}
    genuine = parse_message(IDP.signed_response(what=SIGNED_WHAT[name]), source="genuine")
    result = analyze(Evidence(messages=(genuine,)), Expectations(idp_certificates=TRUSTED))
    assert [f.status for f in result.findings if f.check_id == "SIG003"] == [Status.PASS]
