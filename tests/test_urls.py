"""diag/urls.py: URL and entity-ID comparison, and the hint that names the part to change."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssodiag.diag.text import quoted
from ssodiag.diag.urls import best_match, compare_urls, identifier_hint

ACS = "https://tenant.atlan.com/auth/realms/default/broker/okta/endpoint"


def test_same_string_is_exact():
    result = compare_urls(ACS, ACS)
    assert (result.exact, result.equivalent, result.differences) == (True, True, ())


@pytest.mark.parametrize("seen", [
    "HTTPS://tenant.atlan.com/auth/realms/default/broker/okta/endpoint",
    "https://Tenant.Atlan.com/auth/realms/default/broker/okta/endpoint",
    "https://tenant.atlan.com:443/auth/realms/default/broker/okta/endpoint",
])
def test_rfc3986_equivalent_spellings_are_equivalent_not_exact(seen):
    result = compare_urls(seen, ACS)
    assert (result.exact, result.equivalent) == (False, True)
    assert "written differently" in result.hint and seen in result.hint


@pytest.mark.parametrize(("seen", "hint"), [
    ("http://tenant.atlan.com/auth/realms/default/broker/okta/endpoint",
     "the scheme is `http`, expected `https`: the IdP is configured with an http URL, or a TLS-terminating proxy"),
    (ACS + "/", "only a trailing slash differs"),
    ("https://tenant.atlan.com/auth/realms/default/broker/OKTA/endpoint", "differs only in letter case"),
    ("https://other.atlan.com/auth/realms/default/broker/okta/endpoint",
     "the host is `other.atlan.com`, expected `tenant.atlan.com`"),
    ("https://tenant.atlan.com:8443/auth/realms/default/broker/okta/endpoint", "the port is `8443`, expected `443`"),
    ("https://tenant.atlan.com.mcas.ms/auth/realms/default/broker/okta/endpoint",
     "behind the Defender for Cloud Apps proxy (`.mcas.ms` suffix)"),
    (ACS + "/clients/atlan-saml", "the path has an extra suffix `/clients/atlan-saml`"),
    ("https://tenant.atlan.com/auth/realms/default/broker/azure/endpoint",
     "the path is `/auth/realms/default/broker/azure/endpoint`"),
    (ACS + "?x=1", "the query string is `x=1`, expected `(none)`"),
    ("https://tenant.atlan.com:99999/x", "is not an absolute URL (scheme and host)"),
    ("not a url", "`not a url` is not an absolute URL (scheme and host)"),
])
def test_different_urls_name_the_part_that_differs(seen, hint):
    result = compare_urls(seen, ACS)
    assert (result.exact, result.equivalent) == (False, False)
    assert hint in result.hint


def test_scheme_change_does_not_also_report_the_default_ports():
    result = compare_urls("http://tenant.atlan.com/auth/realms/default/broker/okta/endpoint", ACS)
    assert len(result.differences) == 1 and "port" not in result.hint


def test_missing_suffix_is_named():
    result = compare_urls(ACS, ACS + "/clients/atlan-saml")
    assert "the path lacks the suffix `/clients/atlan-saml`" in result.hint


def test_best_match_prefers_exact_then_equivalent_then_fewest_differences():
    idp_init = ACS + "/clients/atlan-saml"
    assert best_match(idp_init, [ACS, idp_init]).exact
    assert best_match("https://TENANT.atlan.com/auth/realms/default/broker/okta/endpoint", ["https://x.test/a", ACS]
                      ).expected == ACS
    closest = best_match("http://tenant.atlan.com/auth/realms/default/broker/okta/endpoint",
                         ["https://x.test/other", ACS])
    assert closest.expected == ACS and not closest.equivalent
    with pytest.raises(ValueError):
        best_match(ACS, [])


@pytest.mark.parametrize(("seen", "expected", "hint"), [
    (" https://idp.test/x", "https://idp.test/x", "whitespace"),
    ("https://IDP.test/x", "https://idp.test/x", "letter case"),
    ("https://idp.test/x/", "https://idp.test/x", "trailing slash"),
    ("http://idp.test/x", "https://idp.test/x", "the scheme is `http`"),
    ("urn:a", "urn:b", "`urn:a` is a different identifier from `urn:b`"),
])
def test_identifier_hint_explains_entity_id_differences(seen, expected, hint):
    assert hint in identifier_hint(seen, expected)


def test_quoted_bounds_and_neutralises_untrusted_text():
    assert quoted("a`b\nc") == "`a'b c`"
    long = quoted("y" * 10_000)
    assert len(long) == 162 and long.endswith("…`")


@given(st.text(max_size=300), st.text(max_size=300))
def test_compare_never_raises_on_arbitrary_text(seen, expected):
    result = compare_urls(seen, expected)
    assert result.exact == (seen == expected)
    assert result.exact or result.differences
