"""HAR and SAML-tracer reading: messages in time order, dedupe, flow hops, correlation, error pages."""
from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ssodiag.diag.errors import InputError
from ssodiag.diag.har import read_har
from ssodiag.diag.limits import MAX_TEXT_EXCERPT
from ssodiag.diag.model import MessageKind
from ssodiag.diag.tracer import read_saml_tracer
from tests.harbuild import START, HarBuilder, auto_submit_page, post_body, redirect_query, tracer_request
from tests.idp import TestIdP, cached_key

ATLAN = "https://acme.atlan.com"
BROKER = f"{ATLAN}/auth/realms/default/broker/okta"
ACS = f"{BROKER}/endpoint"
IDP_SSO = "https://idp.example.test/sso"
RELAY = "kc-relay+state/1=2"
KEYCLOAK_ERROR = """<!DOCTYPE html><html><head><title>Sign in to Atlan</title>
<script>var msg = "Invalid signature in response from identity provider.";</script><style>.x{color:red}</style></head>
<body><div class="alert-error"><span class="kc-feedback-text">Invalid requester</span></div></body></html>"""


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP()


@pytest.fixture(scope="module")
def sp_key():
    return cached_key("rsa", 2048, "sp-redirect-signing")


def sp_initiated_har(idp: TestIdP, sp_key, shape: str, *, acs_status: int = 302, acs_html: str | None = None,
                     idp_form: bool = False, acs_post: bool = True):
    """An SP-initiated login: Atlan -> Keycloak broker -> 302 with a signed Redirect AuthnRequest -> IdP -> POSTed
    Response to the ACS -> what followed; with an image and a script in between that are not hops."""
    request_xml = idp.authn_request(id="_req-42", destination=IDP_SSO, acs_url=ACS)
    response_xml = idp.signed_response(in_response_to="_req-42", response_id="_resp-7", destination=ACS)
    query = redirect_query("SAMLRequest", request_xml, RELAY, key=sp_key)
    har = HarBuilder(shape=shape)
    har.add("GET", f"{ATLAN}/", status=302, location=f"{BROKER}/login" if shape == "chrome"
            else "/auth/realms/default/broker/okta/login")
    har.add("GET", f"{BROKER}/login", status=302, location=f"{IDP_SSO}?{query}")
    har.add("GET", "https://cdn.example.test/logo.png", resource_type="image")
    har.add("GET", f"{IDP_SSO}?{query}", html="<html><body><form>Username Password</form></body></html>")
    har.add("GET", "https://idp.example.test/static/app.js", resource_type="script")
    har.add("POST", "https://idp.example.test/login", body="username=alice&password=secret",
            html=auto_submit_page(ACS, response_xml, RELAY) if idp_form else "<html><body>Signing in</body></html>")
    if not acs_post:
        return har, request_xml, response_xml, query, None
    acs = har.add("POST", ACS, body=post_body("SAMLResponse", response_xml, RELAY), status=acs_status,
                  location=f"{ATLAN}/auth/realms/default/login-actions/first-broker-login" if acs_status == 302 else None,
                  html=acs_html)
    if acs_status == 302:
        har.add("GET", f"{ATLAN}/auth/realms/default/login-actions/first-broker-login", status=302,
                location=f"{ATLAN}/home")
        har.add("GET", f"{ATLAN}/home", html="<html><body>Welcome to Atlan</body></html>")
    return har, request_xml, response_xml, query, acs


@pytest.mark.parametrize("shape", ["chrome", "firefox"])
def test_sp_initiated_flow_messages_in_order_deduped_with_bindings(idp, sp_key, shape):
    # given a Chrome- or Firefox-shaped HAR of an SP-initiated login
    har, request_xml, response_xml, _, _ = sp_initiated_har(idp, sp_key, shape)
    # when
    content = read_har(har.bytes(), "login.har")
    # then the AuthnRequest seen in the Location header and again as the next request's URL is one message
    assert [m.kind for m in content.messages] == [MessageKind.AUTHN_REQUEST, MessageKind.RESPONSE]
    request, response = content.messages
    assert request.raw_xml == request_xml and response.raw_xml == response_xml
    assert request.binding == "redirect" and request.encoding_layers == ("url-decode", "base64", "inflate")
    assert response.binding == "post" and response.encoding_layers[-1] == "base64"
    assert request.relay_state == RELAY and response.relay_state == RELAY
    # described as the request that delivered it, not the redirect that handed it on
    assert request.source == f"login.har entry 4: GET {IDP_SSO}"  # entries numbered from 1, as browsers do
    assert response.source == f"login.har entry 7: POST {ACS}"
    # startedDateTime, whatever its shape (ms + Z, or local offset without ms), is the capture time in UTC
    assert request.captured_at == (START + dt.timedelta(seconds=3)).replace(
        microsecond=START.microsecond if shape == "chrome" else 0)
    assert response.captured_at.utcoffset() == dt.timedelta(0)


def test_redirect_signature_keeps_the_exact_signed_octets(idp, sp_key):
    # given a signed Redirect AuthnRequest (SAML bindings §3.4.4.1)
    har, _, _, query, _ = sp_initiated_har(idp, sp_key, "chrome")
    # when
    request = read_har(har.har(), "login.har").messages[0]
    # then the signed query is byte-for-byte what was signed: the SP's public key verifies it
    sig = request.redirect_signature
    assert sig.sig_alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert sig.signed_query == query.split("&Signature=")[0]
    sp_key.public_key().verify(base64.b64decode(sig.signature), sig.signed_query.encode(),
                               padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("shape", ["chrome", "firefox"])
def test_flow_keeps_saml_hops_and_their_redirect_chain_not_assets(idp, sp_key, shape):
    har, *_ = sp_initiated_har(idp, sp_key, shape)
    flow = read_har(har.bytes(), "login.har").flow
    # entry 1 redirected to the broker that sent the AuthnRequest; 7 is the ACS POST; 8 and 9 followed it.
    # The image (2), the script (4) and the IdP's credential POST (5) are not hops.
    assert [h.index for h in flow.hops] == [1, 2, 4, 7, 8, 9]  # HAR entry numbers, from 1
    by_index = {h.index: h for h in flow.hops}
    assert by_index[2].message_index == by_index[4].message_index == 0
    assert by_index[7].message_index == 1 and by_index[7].relay_state == RELAY
    assert by_index[1].redirect_to == f"{BROKER}/login"  # a relative Location is resolved against the URL
    assert by_index[8].redirect_to == f"{ATLAN}/home" and by_index[9].status == 200
    assert flow.initiation == "sp" and flow.pairs == (("_req-42", "_resp-7"),)


def test_idp_auto_submit_form_and_the_post_it_makes_are_one_message(idp, sp_key):
    har, _, response_xml, _, _ = sp_initiated_har(idp, sp_key, "chrome", idp_form=True)
    content = read_har(har.har(), "login.har")
    assert [m.kind for m in content.messages] == [MessageKind.AUTHN_REQUEST, MessageKind.RESPONSE]
    response = content.messages[1]
    assert response.source == f"login.har entry 7: POST {ACS}"
    assert response.raw_xml == response_xml and response.relay_state == RELAY and response.binding == "post"
    by_index = {h.index: h for h in content.flow.hops}
    assert by_index[6].message_index == by_index[7].message_index == 1


def test_response_found_in_the_idp_page_when_the_acs_post_was_not_captured(idp, sp_key):
    har, _, response_xml, _, _ = sp_initiated_har(idp, sp_key, "firefox", idp_form=True, acs_post=False)
    content = read_har(har.bytes(), "login.har")
    response = content.messages[-1]
    assert response.raw_xml == response_xml and response.binding == "post"
    assert response.source == "login.har entry 6: form in the page of POST https://idp.example.test/login"
    assert content.flow.pairs == (("_req-42", "_resp-7"),)


def test_messages_follow_capture_time_not_file_order(idp, sp_key):
    har, *_ = sp_initiated_har(idp, sp_key, "chrome")
    har.entries.reverse()  # some tools write entries out of order; startedDateTime is the truth
    content = read_har(har.har(), "login.har")
    assert [m.kind for m in content.messages] == [MessageKind.AUTHN_REQUEST, MessageKind.RESPONSE]
    assert [h.time for h in content.flow.hops] == sorted(h.time for h in content.flow.hops)


def test_error_page_after_acs_post_gives_visible_text_only(idp, sp_key):
    # given the ACS answered 400 with Keycloak's "Invalid requester" page
    har, *_ = sp_initiated_har(idp, sp_key, "firefox", acs_status=400, acs_html=KEYCLOAK_ERROR)
    content = read_har(har.bytes(), "login.har")
    # then one error page, with the visible text and not the script's string
    (page,) = content.error_pages
    assert page.status == 400 and page.url == ACS
    assert "Invalid requester" in page.text and "Invalid signature" not in page.text
    assert "color:red" not in page.text and "<" not in page.text
    assert content.flow.hops[-1].page_excerpt == page.text


def test_error_strings_detected_on_200_pages_but_not_inside_scripts():
    har = HarBuilder()
    har.add("GET", "https://login.microsoftonline.com/t/saml2?SAMLRequest=x",
            html="<html><body><p>AADSTS50011: The reply URL does not match</p></body></html>")
    har.add("GET", f"{ATLAN}/app", html="<html><script>'Invalid requester'</script><body>Hello</body></html>")
    har.add("GET", f"{ATLAN}/missing", status=404, html="")
    content = read_har(har.har(), "x.har")
    assert [(p.url, p.status) for p in content.error_pages] == [
        ("https://login.microsoftonline.com/t/saml2?SAMLRequest=x", 200), (f"{ATLAN}/missing", 404)]
    assert content.error_pages[0].text.startswith("AADSTS50011")
    assert content.error_pages[1].text == "HTTP 404 (no page text captured)"
    assert content.problems  # the "x" SAMLRequest is reported as not decodable, not silently dropped


def test_long_error_page_is_bounded_around_the_error():
    filler = "lorem ipsum " * 500
    har = HarBuilder()
    har.add("GET", f"{ATLAN}/err", status=400, html=f"<html><body>{filler}<b>Invalid requester</b>{filler}</body></html>")
    (page,) = read_har(har.har(), "x.har").error_pages
    assert len(page.text) == MAX_TEXT_EXCERPT and "Invalid requester" in page.text
    assert page.text.startswith("…") and page.text.endswith("…")


def test_idp_initiated_pingfederate_start_is_a_hop(idp):
    response_xml = idp.signed_response(in_response_to=None, destination=f"{ACS}/clients/atlan-saml")
    start = "https://sso.corp.test/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com"
    har = HarBuilder()
    har.add("GET", start, html="<html><body>Sign on</body></html>")
    har.add("GET", "https://sso.corp.test/assets/pf.css", resource_type="stylesheet")
    har.add("POST", f"{ACS}/clients/atlan-saml", body=post_body("SAMLResponse", response_xml))
    flow = read_har(har.har(), "ping.har").flow
    assert [h.index for h in flow.hops] == [1, 3]
    assert flow.initiation == "idp" and flow.pairs == ()


def test_response_answering_an_uncaptured_request_is_unknown_initiation(idp):
    har = HarBuilder()
    har.add("POST", ACS, body=post_body("SAMLResponse", idp.signed_response(in_response_to="_not-captured")))
    assert read_har(har.har(), "x.har").flow.initiation == "unknown"


def test_urls_list_every_request_once():
    har = HarBuilder()
    for url in ("https://a.test/1", "https://b.okta.com/app/x/sso/saml", "https://a.test/1"):
        har.add("GET", url, resource_type="xhr")
    assert read_har(har.har(), "x.har").urls == ("https://a.test/1", "https://b.okta.com/app/x/sso/saml")


def test_replayed_post_is_kept_twice(idp):
    # a Response POSTed twice (back button) is evidence of a replay, not a Location/request duplicate
    body = post_body("SAMLResponse", idp.signed_response())
    har = HarBuilder()
    har.add("POST", ACS, body=body)
    har.add("POST", ACS, body=body)
    assert len(read_har(har.har(), "x.har").messages) == 2


@pytest.mark.parametrize("data", [b"{}", b'{"log": {"entries": "no"}}', b"[1, 2]"])
def test_not_a_har(data):
    with pytest.raises(InputError, match="not a HAR"):
        read_har(data, "x.har")


def test_invalid_json_is_a_one_line_input_error():
    with pytest.raises(InputError, match=r"^x\.har: invalid JSON"):
        read_har(b'{"log": ', "x.har")


# --------------------------------------------------------------------------- SAML-tracer


def test_saml_tracer_export_same_semantics_as_har(idp, sp_key):
    request_xml = idp.authn_request(id="_req-9")
    response_xml = idp.signed_response(in_response_to="_req-9", response_id="_resp-9")
    query = redirect_query("SAMLRequest", request_xml, "rs", key=sp_key)
    export = {"requests": [
        tracer_request("GET", f"{BROKER}/login", status=302, location=f"{IDP_SSO}?{query}"),
        tracer_request("GET", f"{IDP_SSO}?{query}", saml=request_xml),
        # the add-on stores decoded form fields; "+" in RelayState must survive (it is not form-encoded here)
        tracer_request("POST", ACS, status=400, post={"SAMLResponse": base64.b64encode(response_xml).decode(),
                                                       "RelayState": "a+b"}, saml=response_xml),
    ], "timestamp": int(START.timestamp() * 1000)}
    content = read_saml_tracer(export, "trace.json")
    assert [m.kind for m in content.messages] == [MessageKind.AUTHN_REQUEST, MessageKind.RESPONSE]
    request, response = content.messages
    assert request.encoding_layers == ("url-decode", "base64", "inflate") and request.redirect_signature
    assert response.raw_xml == response_xml and response.encoding_layers == ("base64",)
    assert response.relay_state == "a+b" and response.captured_at == START.replace(microsecond=250000)
    assert content.flow.pairs == (("_req-9", "_resp-9"),) and content.flow.initiation == "sp"
    assert [p.status for p in content.error_pages] == [400]


def test_saml_tracer_decoded_copy_used_only_when_no_encoded_value(idp):
    response_xml = idp.signed_response(in_response_to=None)
    export = {"requests": [tracer_request("POST", ACS, post=None, saml=response_xml)]}
    (message,) = read_saml_tracer(export, "trace.json").messages
    assert message.raw_xml == response_xml and message.encoding_layers == () and message.binding == "post"


def test_saml_tracer_wrong_shape():
    with pytest.raises(InputError, match="not a SAML-tracer export"):
        read_saml_tracer({"requests": {"a": 1}}, "t.json")
    # items of the wrong type are skipped, not a crash
    assert read_saml_tracer({"requests": [1, "x", {"url": 5}, {"url": "https://a.test/"}]}, "t.json").urls == (
        "https://a.test/",)


def test_query_of_hop_url_is_kept_for_connector_detection():
    har = HarBuilder()
    har.add("GET", "https://accounts.google.com/o/saml2/idp?idpid=C01abc", html="<html><body>ok</body></html>")
    flow = read_har(har.har(), "g.har").flow
    assert parse_qs(urlsplit(flow.hops[0].url).query) == {"idpid": ["C01abc"]}


def test_redirect_whose_request_was_not_captured_keeps_the_location_message(idp):
    har = HarBuilder()
    har.add("GET", f"{BROKER}/login", status=302,
            location=f"{IDP_SSO}?{redirect_query('SAMLRequest', idp.authn_request(id='_lost'))}")
    (message,) = read_har(har.har(), "x.har").messages
    assert message.source == f"x.har entry 1: Location header of GET {BROKER}/login"
    assert message.id == "_lost" and message.binding == "redirect"
