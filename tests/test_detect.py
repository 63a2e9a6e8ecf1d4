"""Connector detection from issuers, hosts, paths and error pages, each with a stated reason."""
from __future__ import annotations

import pytest

from ssodiag.diag.detect import detect_connectors
from ssodiag.diag.model import Connector, ErrorPage, Evidence


@pytest.mark.parametrize("url, connector", [
    ("http://www.okta.com/exk1abcdEFGH", Connector.OKTA),
    ("https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml", Connector.OKTA),
    ("https://accounts.google.com/o/saml2?idpid=C01abc", Connector.GOOGLE),
    ("https://sso.acme.local:9031/idp/startSSO.ping?PartnerSpId=x", Connector.PINGFEDERATE),
    ("https://sso.acme.local/idp/SSO.saml2", Connector.PINGFEDERATE),
    ("https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/", Connector.ENTRA),
    ("https://login.microsoftonline.com/tenant/saml2", Connector.ENTRA),
    ("https://acme.atlan.com.mcas.ms/auth/realms/default", Connector.DEFENDER),
    ("https://acme.atlan.com/?McasTsid=123", Connector.DEFENDER),
])
def test_url_signals(url, connector):
    [d] = detect_connectors(Evidence(urls=(url,)))
    assert d.connector is connector
    assert url[:40] in d.reason


@pytest.mark.parametrize("url", [
    "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint",
    "https://notokta.com.evil.example/",
    "https://accounts.google.com.evil.example/o/saml2",
    "https://example.com/mcas.ms",
])
def test_lookalikes_are_not_detected(url):
    assert detect_connectors(Evidence(urls=(url,))) == ()


def test_error_page_text_names_vendor():
    page = ErrorPage(source="x.har entry 3", text="Sorry, you can't access Atlan because you are not assigned this app in Okta.")
    [d] = detect_connectors(Evidence(error_pages=(page,)))
    assert d.connector is Connector.OKTA and "x.har entry 3" in d.reason


def test_two_connectors_both_reported_in_order():
    found = detect_connectors(Evidence(urls=("https://acme.atlan.com.mcas.ms/", "https://login.microsoftonline.com/t/saml2")))
    assert [d.connector for d in found] == [Connector.DEFENDER, Connector.ENTRA]
