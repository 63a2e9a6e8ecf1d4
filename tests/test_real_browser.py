"""ssodiag on real HARs: Debian's Chromium logs in at a real IdP (SimpleSAMLphp) and Playwright records the HAR.

One IdP and one browser for the module; three recordings: IdP-initiated, SP-initiated, and a login that
Atlan's Keycloak (a scripted stand-in, tests.standins) refuses with "Invalid requester". The HAR checks first prove the recordings hold what a
support engineer's export would; the product is then run on them, in-process and through the CLI.
"""
from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest
from msgspec import Struct

from ssodiag.diag.xmlparse import parse_xml
from tests.browser import HarRecorder, chromium_missing
from tests.idp import TestIdP
from tests.realidp import (
    SIGNATURE_CHECKS,
    IdpUser,
    SimpleSamlIdp,
    analyze_json,
    atlan_sp,
    findings_matching,
    simplesamlphp_missing,
    skip_or_fail,
)
from tests.standins import LOGGED_IN, AcsAnswer, AtlanBroker, StandIns, keycloak_error

OKTA_ISSUER = "http://www.okta.com/exk9xyz8wvuTSR7q6"
ATLAN = "https://tenant.atlan.com"
SP = atlan_sp(ATLAN, "okta")
BOB = IdpUser(
    "bob", "s3cret!",
    {"email": ["bob@acme.example"], "firstName": ["Bob"], "lastName": ["Builder"],
     "memberOf": ["atlan-viewers", "engineering"]},
)
ATLAN_OPTIONS = ("--atlan", ATLAN, "--alias", "okta")


class Recordings(Struct, frozen=True):
    idp_initiated: Path
    sp_initiated: Path
    failed: Path
    sp_request_id: str
    failed_request_id: str
    idp_metadata: Path
    unrelated_cert: Path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Recordings:
    for missing in (simplesamlphp_missing(), chromium_missing()):
        if missing:
            skip_or_fail(missing)
    out = tmp_path_factory.mktemp("hars")
    with SimpleSamlIdp(idp_entity_id=OKTA_ISSUER, service_providers=[SP], users=[BOB]) as idp, \
            HarRecorder(out) as recorder:
        metadata = out / "idp-metadata.xml"
        metadata.write_bytes(idp.metadata_xml())
        unrelated = out / "unrelated.pem"
        unrelated.write_text(TestIdP(key_name="unrelated-to-simplesamlphp").cert_pem)

        def atlan(answer: AcsAnswer) -> StandIns:
            broker = AtlanBroker(public_url=ATLAN, alias="okta", idp_sso_url=idp.sso_url, acs_answer=answer)
            return StandIns(broker=broker, atlan_hosts=(ATLAN,))

        accepting, refusing = atlan(LOGGED_IN), atlan(AcsAnswer(keycloak_error(400, "Invalid requester")))
        # IdP-initiated: the user starts at the IdP (an Okta tile); the Response goes to the /clients/ ACS
        idp_initiated = recorder.record("idp-initiated", idp.idp_initiated_url(SP.entity_id, SP.acs_urls[1]),
                                        accepting, BOB)
        sp_initiated = recorder.record("sp-initiated", accepting.broker.login_url(), accepting, BOB)
        failed = recorder.record("failed-login", refusing.broker.login_url(), refusing, BOB)
        return Recordings(
            idp_initiated=idp_initiated,
            sp_initiated=sp_initiated,
            failed=failed,
            sp_request_id=accepting.broker.request_ids[-1],
            failed_request_id=refusing.broker.request_ids[-1],
            idp_metadata=metadata,
            unrelated_cert=unrelated,
        )


def _entries(har: Path) -> list[dict]:
    return json.loads(har.read_text())["log"]["entries"]


def _acs_post(har: Path) -> dict:
    """The HAR entry of the SAMLResponse POST to Atlan's broker."""
    (entry,) = [e for e in _entries(har) if e["request"]["method"] == "POST" and e["request"]["url"].startswith(ATLAN)]
    return entry


def _posted_response(entry: dict) -> bytes:
    form = urllib.parse.parse_qs(entry["request"]["postData"]["text"])
    return base64.b64decode(form["SAMLResponse"][0])


def _response_message(evidence):
    (response,) = [m for m in evidence.messages if m.kind.value == "Response"]
    return response


# --------------------------------------------------------------------------- the recordings themselves


def test_idp_initiated_har_holds_the_posted_response(recordings):
    acs = _acs_post(recordings.idp_initiated)
    assert acs["request"]["url"] == SP.acs_urls[1]  # Atlan's /clients/atlan-saml variant
    response = parse_xml(_posted_response(acs))
    assert response.get("Destination") == SP.acs_urls[1]
    assert response.get("InResponseTo") is None  # unsolicited (SAML profiles §4.1.5)


def test_sp_initiated_har_starts_at_atlan_with_a_redirect_authn_request(recordings):
    entries = _entries(recordings.sp_initiated)
    start = entries[0]
    assert start["request"]["url"].startswith(ATLAN) and start["response"]["status"] == 302
    assert "SAMLRequest=" in start["response"]["redirectURL"]
    acs = _acs_post(recordings.sp_initiated)
    # Keycloak answers an accepted login with a redirect into Atlan
    assert acs["request"]["url"] == SP.acs_urls[0] and acs["response"]["status"] == 302
    assert entries[-1]["request"]["url"] == f"{ATLAN}/" and entries[-1]["response"]["status"] == 200
    assert parse_xml(_posted_response(acs)).get("InResponseTo") == recordings.sp_request_id


def test_failed_har_holds_the_keycloak_error_page(recordings):
    acs = _acs_post(recordings.failed)
    assert acs["response"]["status"] == 400
    assert "Invalid requester" in acs["response"]["content"]["text"]


# --------------------------------------------------------------------------- the product on them


def test_evidence_from_idp_initiated_har(recordings):
    from ssodiag.diag.evidence import load_evidence

    evidence = load_evidence([str(recordings.idp_initiated)])
    response = _response_message(evidence)
    assert response.issuer == OKTA_ISSUER
    (assertion,) = response.assertions
    assert assertion.name_id.value == "bob@acme.example"
    assert assertion.attribute("memberOf").values == ("atlan-viewers", "engineering")
    assert not [m for m in evidence.messages if m.kind.value == "AuthnRequest"]
    (flow,) = evidence.flows
    assert flow.initiation == "idp"
    assert flow.pairs == ()


def test_evidence_from_sp_initiated_har_pairs_request_and_response(recordings):
    from ssodiag.diag.evidence import load_evidence

    evidence = load_evidence([str(recordings.sp_initiated)])
    (request,) = [m for m in evidence.messages if m.kind.value == "AuthnRequest"]
    response = _response_message(evidence)
    assert request.id == recordings.sp_request_id
    assert request.binding == "redirect"
    assert response.in_response_to == recordings.sp_request_id
    (flow,) = evidence.flows
    assert flow.initiation == "sp"
    assert (recordings.sp_request_id, response.id) in flow.pairs


def test_evidence_from_failed_har_has_the_error_page(recordings):
    from ssodiag.diag.evidence import load_evidence

    evidence = load_evidence([str(recordings.failed)])
    pages = [p for p in evidence.error_pages if "Invalid requester" in p.text]
    assert pages, evidence.error_pages
    assert pages[0].status == 400
    assert _response_message(evidence).in_response_to == recordings.failed_request_id


def test_cli_on_sp_initiated_har_with_the_real_metadata(recordings):
    report = analyze_json(str(recordings.sp_initiated), "--idp-metadata", str(recordings.idp_metadata),
                          *ATLAN_OPTIONS)
    (response,) = [m for m in report["messages"] if m["kind"] == "Response"]
    assert response["signature"]["verdict"] == "valid", response["signature"]["reason"]
    assert not findings_matching(report, SIGNATURE_CHECKS, ("fail", "warn"))
    assert response["assertions"][0]["subject"]["name_id"] == "bob@acme.example"
    assert response["assertions"][0]["attributes"]["memberOf"] == ["atlan-viewers", "engineering"]
    (flow,) = report["flow"]
    assert flow["initiation"] == "sp"
    assert {"request_id": recordings.sp_request_id, "response_id": response["id"]} in flow["pairs"]


def test_cli_on_idp_initiated_har_with_an_unrelated_cert(recordings):
    report = analyze_json(str(recordings.idp_initiated), "--idp-cert", str(recordings.unrelated_cert),
                          *ATLAN_OPTIONS)
    (response,) = [m for m in report["messages"] if m["kind"] == "Response"]
    assert response["signature"]["verdict"] == "untrusted", response["signature"]["reason"]
    assert report["flow"][0]["initiation"] == "idp"
    assert findings_matching(report, SIGNATURE_CHECKS), report["findings"]


def test_cli_on_failed_har_reports_the_error_page(recordings):
    report = analyze_json(str(recordings.failed), "--idp-metadata", str(recordings.idp_metadata), *ATLAN_OPTIONS)
    pages = [p for p in report["error_pages"] if "Invalid requester" in p["text"]]
    assert pages and pages[0]["status"] == 400
