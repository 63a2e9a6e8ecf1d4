"""KC001: Keycloak's verbatim theme sentences (messages_en.properties) are recognised, and only those."""
from __future__ import annotations

import pytest

from ssodiag.checks.keycloak import TABLE, classify
from ssodiag.diag.model import ErrorPage, Evidence, Expectations, Status
from ssodiag.diag.runner import analyze


@pytest.mark.parametrize("page, key", [
    ("<p>Invalid requester</p>", "invalidRequesterMessage"),
    ("Invalid signature in response from identity provider.", "identityProviderInvalidSignatureMessage"),
    ("We are sorry... Invalid Request", "invalidRequestMessage"),
    ("Login timeout. Please sign in again.", "expiredCodeMessage"),
    ("Cookie not found. Please make sure cookies are enabled in your browser.", "cookieNotFoundMessage"),
    ("No relay state in response from identity provider.", "noRelayStateInResponseMessage"),
    ("User with email jane@acme.example already exists. Please login to account management to link the account.",
     "federatedIdentityExistsMessage"),
    ("Federated identity returned by okta is already linked to another user.", "identityProviderAlreadyLinkedMessage"),
    ("Unexpected error when authenticating with identity provider", "identityProviderUnexpectedErrorMessage"),
])
def test_each_sentence_maps_to_its_key(page, key):
    assert [row.key for row in classify(page)] == [key]


def test_invalid_requester_is_not_also_invalid_request():
    assert [r.key for r in classify("Invalid requester")] == ["invalidRequesterMessage"]


def test_unrelated_text_is_not_classified():
    assert classify("Welcome to Atlan. Your request was received.") == []


def test_every_row_has_a_meaning_and_a_next_step():
    assert all(row.meaning and row.look_at for row in TABLE)


def _kc(pages) -> list:
    result = analyze(Evidence(error_pages=pages), Expectations())
    return [f for f in result.findings if f.check_id == "KC001"]


def test_page_in_evidence_gives_failure_with_cause_and_fix():
    [finding] = _kc((ErrorPage(source="login.har entry 7", text="Sign in to Atlan Invalid requester", status=400),))
    assert finding.status is Status.FAIL
    assert "Invalid requester" in finding.message and "Issuer" in finding.message
    assert "metadata" in finding.remediation and finding.source == "login.har entry 7"


def test_no_page_means_skip_not_pass():
    [finding] = _kc(())
    assert finding.status is Status.SKIP and "HAR" in finding.message
    [finding] = _kc((ErrorPage(source="x", text="Some other error"),))
    assert finding.status is Status.SKIP
