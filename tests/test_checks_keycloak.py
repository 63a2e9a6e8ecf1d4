"""KC001: Keycloak's verbatim theme sentences (messages_en.properties) are recognised, and only those."""
from __future__ import annotations

import pytest

from ssodiag.checks.keycloak import TABLE, classify
from ssodiag.diag.model import ErrorPage, Evidence, Expectations, Status
from ssodiag.diag.runner import analyze


# Every page of Atlan's broker, as the user sees it (placeholders filled in), with its theme key.
PAGES = [
    ("<p>Invalid requester</p>", "invalidRequesterMessage"),
    ("Invalid signature in response from identity provider.", "identityProviderInvalidSignatureMessage"),
    ("Invalid response from identity provider.", "identityProviderInvalidResponseMessage"),
    ("We are sorry... Invalid Request", "invalidRequestMessage"),
    ("Login timeout. Please sign in again.", "expiredCodeMessage"),
    ("Unexpected error when authenticating with identity provider", "identityProviderUnexpectedErrorMessage"),
    ("Client not found.", "clientNotFoundMessage"),
    ("Invalid redirect uri", "invalidRedirectUriMessage"),
    ("Cookie not found. Please make sure cookies are enabled in your browser.", "cookieNotFoundMessage"),
    ("Your login attempt timed out. Login will start from the beginning.", "loginTimeout"),
    ("Page has expired", "pageExpiredTitle"),
    ("You are already logged in.", "alreadyLoggedIn"),
    ("An error occurred, please login again through your application.", "invalidCodeMessage"),
    ("We are sorry... An internal server error has occurred", "internalServerError"),
    ("Page not found", "pageNotFound"),
    ("Account is disabled, contact your administrator.", "accountDisabledMessage"),
    ("Update Account Information", "loginIdpReviewProfileTitle"),
    ("Please specify email.", "missingEmailMessage"),
    ("Please specify first name.", "missingFirstNameMessage"),
    ("Please specify last name.", "missingLastNameMessage"),
    ("Account already exists User with email jane@acme.example already exists. How do you want to continue? "
     "Review profile Add to existing account", "federatedIdentityConfirmLinkMessage"),
    ("Account already exists", "confirmLinkIdpTitle"),
    ("User with email jane@acme.example already exists. Please login to account management to link the account.",
     "federatedIdentityExistsMessage"),
    ("Federated identity returned by okta is already linked to another user.", "identityProviderAlreadyLinkedMessage"),
    ("Username already exists.", "usernameExistsMessage"),
    ("Email already exists.", "emailExistsMessage"),
    ("Unexpected error when handling authentication request to identity provider.",
     "unexpectedErrorHandlingRequestMessage"),
    ("Authenticate to link your account with okta", "identityProviderLinkTitle"),
    ("You are already authenticated as different user 'jane' in this session.", "differentUserAuthenticated"),
]


@pytest.mark.parametrize("page, key", PAGES, ids=[key for _, key in PAGES])
def test_each_sentence_maps_to_its_key(page, key):
    assert [row.key for row in classify(page)] == [key]


def test_every_row_is_tested():
    assert {row.key for row in TABLE} == {key for _, key in PAGES}


@pytest.mark.parametrize("page", ["No relay state in response from identity provider.",
                                  "Missing state parameter in response from identity provider."])
def test_sentences_the_saml_broker_never_shows_are_not_explained_as_its_pages(page):
    """The first is unused by the broker, the second is OIDC's: neither explains a SAML login."""
    assert classify(page) == []


def test_invalid_response_is_only_an_unreadable_response():
    [row] = classify("Invalid response from identity provider.")
    assert "step 4" in row.where and all("Destination" not in c and "status" not in c for c in row.causes)


def test_invalid_requester_names_every_cause_not_only_the_issuer():
    [row] = classify("Invalid requester")
    text = " ".join(row.causes)
    for cause in ("encrypted", "Issuer", "InResponseTo", "unsigned", "NameID"):
        assert cause in text


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
    assert "Invalid requester" in finding.message and "Issuer" in finding.message and "InResponseTo" in finding.message
    assert "Issuer" in finding.remediation and finding.source == "login.har entry 7"


def test_no_page_means_skip_not_pass():
    [finding] = _kc(())
    assert finding.status is Status.SKIP and "HAR" in finding.message
    [finding] = _kc((ErrorPage(source="x", text="Some other error"),))
    assert finding.status is Status.SKIP
