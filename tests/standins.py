"""Scripted stand-ins for the hosts of a login that cannot run here: Atlan's Keycloak broker and the vendors' pages.

One local HTTPS server answers for all these hosts (Chromium resolves every name to it), so the HAR holds the
exact https URLs a user's browser would show (``https://tenant.atlan.com/auth/realms/default/broker/okta/endpoint``,
``https://acme.okta.com/app/…/sso/saml``, ``https://tenant.atlan.com.mcas.ms/``); the real IdP behind each vendor
front runs on loopback.

Nothing here judges a SAML message: each answer is scripted by the scenario (tests.scenarios). The Atlan side
issues a real AuthnRequest and answers the ACS POST with the page the scenario names; a vendor front either
forwards to the real IdP or shows the vendor's page. Page texts are the vendors' own, verbatim:
- Keycloak base login theme, messages_en.properties (keycloak/keycloak, themes/src/main/resources/theme/base/
  login/messages/messages_en.properties) and the broker's flow in Atlan's Keycloak 20.0.2 fork
  (services/src/main/java/org/keycloak/broker/saml/SAMLEndpoint.java);
- Okta: https://support.okta.com/help/s/article/App-Sign-on-Error-403-User-attempted-unauthorized-access-to-app
- Google: https://support.google.com/a/answer/6301076
- Microsoft Entra: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
- PingFederate: https://docs.pingidentity.com/pingfederate/latest/administrators_reference_guide/pf_resolving_url_rel_errors.html
"""
from __future__ import annotations

import html
import secrets
import ssl
import tempfile
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Mapping

from msgspec import Struct

from tests.idp import TestIdP
from tests.realidp import redirect_binding_url

REALM_PATH = "/auth/realms/default"
ATLAN_CLIENT = "atlan-frontend"  # the Keycloak client Atlan's web app logs in with
MAX_REQUEST_BYTES = 1024 * 1024  # a SAMLResponse POST is a few KB


class Page(Struct, frozen=True):
    """One scripted HTTP answer."""

    status: int
    body: str = ""
    location: str | None = None  # a redirect target (status 302/303)

    @staticmethod
    def redirect(url: str) -> Page:
        return Page(302, "", url)


def _html(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>{body}</body></html>")


# --------------------------------------------------------------------------- Keycloak's pages (Atlan side)


def keycloak_error(status: int, message: str) -> Page:
    """Keycloak's error.ftl: "We are sorry..." and the message (messages_en.properties)."""
    return Page(status, _html(
        "Sign in to Atlan",
        '<div id="kc-content"><div id="kc-content-wrapper">'
        '<h1 id="kc-page-title">We are sorry...</h1>'
        f'<div class="alert alert-error"><span class="kc-feedback-text">{html.escape(message)}</span></div>'
        f'<p id="instruction1" class="instruction">{html.escape(message)}</p>'
        "</div></div>",
    ))


def keycloak_confirm_link(email: str) -> Page:
    """First broker login, idp-confirm-link: confirmLinkIdpTitle and federatedIdentityConfirmLinkMessage."""
    return Page(200, _html(
        "Sign in to Atlan",
        '<h1 id="kc-page-title">Account already exists</h1>'
        f'<div class="alert alert-warning"><span class="kc-feedback-text">User with email {html.escape(email)}'
        " already exists. How do you want to continue?</span></div>"
        '<form id="kc-register-form" method="post">'
        '<button type="submit" name="submitAction" id="updateProfile" value="updateProfile">Review profile</button>'
        '<button type="submit" name="submitAction" id="linkAccount" value="linkAccount">Add to existing account'
        "</button></form>",
    ))


def keycloak_review_profile(email: str) -> Page:
    """First broker login, idp-review-profile: updateProfileTitle with the fields the assertion left empty."""
    return Page(200, _html(
        "Sign in to Atlan",
        '<h1 id="kc-page-title">Update Account Information</h1>'
        '<form id="kc-idp-review-profile-form" method="post">'
        f'<label for="email">Email</label><input id="email" name="email" value="{html.escape(email)}">'
        '<label for="firstName">First name</label><input id="firstName" name="firstName" value="">'
        '<label for="lastName">Last name</label><input id="lastName" name="lastName" value="">'
        '<input type="submit" value="Submit"></form>',
    ))


ATLAN_HOME = Page(200, _html("Atlan", "<h1>Welcome to Atlan</h1>"))
KEYCLOAK_NOT_FOUND = keycloak_error(404, "Page not found")


class AcsAnswer(Struct, frozen=True):
    """How the stand-in broker answers the SAMLResponse POST, as the scenario scripts it.

    ``page`` is shown at the ACS itself (Keycloak's error pages), or, when ``first_broker_login`` is set, after a
    302 to ``…/login-actions/first-broker-login`` (where Keycloak runs the first-broker-login flow). ``page`` None
    means the login succeeded: a 302 to Atlan's home page.
    """

    page: Page | None = None
    first_broker_login: bool = False


LOGGED_IN = AcsAnswer()


class AtlanBroker:
    """Atlan's Keycloak broker for one IdP alias: login start, both ACS paths, first-broker-login, home page.

    ``hosts`` are the origins it answers on (Atlan's public URL, and a Defender proxy host when the scenario
    goes through one); ``public_url`` is the one Keycloak is configured with. The AuthnRequest names
    ``request_acs_url`` as its ACS (Keycloak builds it from its own base URL: the proxy host when proxied).
    """

    def __init__(self, *, public_url: str, alias: str, idp_sso_url: str, acs_answer: AcsAnswer,
                 request_acs_url: str | None = None, home_url: str | None = None) -> None:
        self.public_url = public_url
        self.alias = alias
        self.idp_sso_url = idp_sso_url
        self.acs_answer = acs_answer
        self.entity_id = f"{public_url}{REALM_PATH}"
        self.acs_url = f"{self.entity_id}/broker/{alias}/endpoint"
        self.idp_initiated_acs_url = f"{self.acs_url}/clients/atlan-saml"
        self.request_acs_url = request_acs_url or self.acs_url
        self.home_url = home_url or f"{public_url}/"
        self.request_ids: list[str] = []  # every AuthnRequest ID issued, in order

    def login_url(self, host: str | None = None) -> str:
        """Where Atlan's login page sends the browser to start a login with this IdP (SP-initiated)."""
        tab_id = secrets.token_urlsafe(8)
        return (f"{host or self.public_url}{REALM_PATH}/broker/{self.alias}/login"
                f"?client_id={ATLAN_CLIENT}&tab_id={tab_id}&session_code={secrets.token_urlsafe(16)}")

    def answer(self, method: str, url: str) -> Page:
        parts = urllib.parse.urlsplit(url)
        path = parts.path
        broker = f"{REALM_PATH}/broker/{self.alias}"
        if path == f"{broker}/login" and method == "GET":
            return Page.redirect(self._authn_request_redirect(urllib.parse.parse_qs(parts.query)))
        if path in (f"{broker}/endpoint", f"{broker}/endpoint/clients/atlan-saml") and method == "POST":
            return self._acs_answer()
        if path == f"{REALM_PATH}/login-actions/first-broker-login" and self.acs_answer.first_broker_login:
            return self.acs_answer.page or KEYCLOAK_NOT_FOUND
        if path == urllib.parse.urlsplit(self.home_url).path and method == "GET":
            return ATLAN_HOME
        return KEYCLOAK_NOT_FOUND

    def _authn_request_redirect(self, query: Mapping[str, list[str]]) -> str:
        """Keycloak's AuthnRequest (SAMLIdentityProvider.performLogin): ID_<uuid>, unsigned, HTTP-Redirect,
        RelayState ``<code>.<tabId>.<clientId>`` (IdentityBrokerState)."""
        request_id = f"ID_{uuid.uuid4()}"
        self.request_ids.append(request_id)
        request = TestIdP().authn_request(id=request_id, issuer=self.entity_id, acs_url=self.request_acs_url,
                                          destination=self.idp_sso_url, force_authn=False)
        tab_id = query.get("tab_id", ["tab"])[0]
        relay_state = f"{secrets.token_urlsafe(24)}.{tab_id}.{ATLAN_CLIENT}"
        return redirect_binding_url(self.idp_sso_url, request, relay_state)

    def _acs_answer(self) -> Page:
        if self.acs_answer.page is None:
            return Page.redirect(self.home_url)
        if self.acs_answer.first_broker_login:
            code = secrets.token_urlsafe(16)
            return Page.redirect(f"{self.public_url}{REALM_PATH}/login-actions/first-broker-login"
                                 f"?client_id={ATLAN_CLIENT}&tab_id={secrets.token_urlsafe(8)}&code={code}")
        return self.acs_answer.page


# --------------------------------------------------------------------------- the vendors' pages


def okta_app_not_assigned(app_name: str = "Atlan") -> Page:
    return Page(403, _html(
        "Okta",
        '<div class="error-code">403</div><h1>App Not Assigned</h1>'
        f"<p>Sorry, you cannot access {html.escape(app_name)} because you are not assigned this app in Okta. "
        "If you're wondering why this is happening, please contact your administrator.</p>",
    ))


def google_error(code: str) -> Page:
    return Page(403, _html(
        "Error 403 (Forbidden)",
        "<p><b>403.</b> <ins>That's an error.</ins></p>"
        f"<p>Error: {html.escape(code)}</p>",
    ))


ENTRA_MESSAGES = {
    "50105": "Error AADSTS50105: The signed in user '{user}' is not assigned to a role for the application.",
    "50011": ("Error AADSTS50011 - The reply URL does not match the reply URLs configured for the application "
              "{app_id}. Make sure the reply URL sent in the request matches one added to your application in "
              "the Azure portal."),
}


def entra_error(code: str, *, tenant: str, app_id: str, user: str = "", reply_url: str = "") -> Page:
    """login.microsoftonline.com's sign-in error page: the AADSTS message and the troubleshooting details."""
    message = ENTRA_MESSAGES[code].format(user=user, app_id=app_id)
    details = (f"<div>Request Id: {uuid.uuid4()}</div><div>Correlation Id: {uuid.uuid4()}</div>"
               f"<div>Tenant: {html.escape(tenant)}</div>"
               + (f"<div>Reply URL: {html.escape(reply_url)}</div>" if reply_url else ""))
    return Page(200, _html(
        "Sign in to your account",
        "<div id=\"login_workload_logo_text\">Sign in</div>"
        "<div role=\"heading\">Sorry, but we're having trouble signing you in.</div>"
        f'<div id="debugging-details">{html.escape(message)}{details}</div>',
    ))


PINGFEDERATE_NOT_FOUND = Page(404, _html("404 Not Found", "<h1>404 Not Found</h1>"))
PINGFEDERATE_SYSTEM_ERROR = Page(200, _html("System Error", "<h1>System Error</h1>"))


class VendorFront(Struct, frozen=True):
    """The vendor's public IdP URLs, forwarding to the real IdP on loopback unless the scenario scripts a page.

    ``sso_url`` receives Atlan's AuthnRequest; ``launch_url`` is the IdP-initiated start (an Okta tile, Google's
    app launcher, My Apps, PingFederate's ``startSSO.ping``). ``page`` replaces both answers with a vendor page.
    """

    sso_url: str
    launch_url: str
    page: Page | None = None

    def answer(self, url: str, real_sso_url: str, real_launch_url: str) -> Page | None:
        """The answer for ``url``, or None when ``url`` is not one of this front's."""
        parts = urllib.parse.urlsplit(url)
        sso = urllib.parse.urlsplit(self.sso_url)
        if (parts.netloc, parts.path) == (sso.netloc, sso.path):
            if self.page is not None:
                return self.page
            query = parts.query
            return Page.redirect(f"{real_sso_url}{'&' if '?' in real_sso_url else '?'}{query}")
        if self._is_launch(parts):
            if self.page is not None:
                return self.page
            return self._launch(parts, real_launch_url)
        return None

    def _is_launch(self, parts: urllib.parse.SplitResult) -> bool:
        launch = urllib.parse.urlsplit(self.launch_url)
        return parts.netloc == launch.netloc and parts.path.startswith(launch.path.split("&")[0])

    def _launch(self, parts: urllib.parse.SplitResult, real_launch_url: str) -> Page:
        if "startSSO.ping" in parts.path:
            # PingFederate: "&" after the path makes another path (404); a second "?" is a System Error
            # (Resolving URL-related errors, PingFederate administrator's reference).
            if parts.path != "/idp/startSSO.ping":
                return PINGFEDERATE_NOT_FOUND
            if "?" in parts.query:
                return PINGFEDERATE_SYSTEM_ERROR
        return Page.redirect(real_launch_url)


# --------------------------------------------------------------------------- one server for all hosts


class StandIns(Struct):
    """Every scripted host of one recording: the Atlan broker on its hosts and the vendor front."""

    broker: AtlanBroker
    atlan_hosts: tuple[str, ...]
    front: VendorFront | None = None  # None: the IdP is reached at its loopback URL
    real_sso_url: str = ""
    real_launch_url: str = ""

    def answer(self, method: str, url: str) -> Page:
        if _origin(url) in self.atlan_hosts:
            return self.broker.answer(method, url)
        page = self.front.answer(url, self.real_sso_url, self.real_launch_url) if self.front else None
        return page or Page(404, _html("Not Found", "<h1>Not Found</h1>"))


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class StandInServer:
    """One HTTPS server on loopback for every scripted host; Chromium's ``--host-resolver-rules`` sends all names
    but 127.0.0.1 here (``resolver_rules``), so the HAR holds the real https URLs with real network timings.

    ``script`` is the current recording's StandIns (recordings run one after another). Its certificate is
    self-signed (the browser context ignores certificate errors); nothing else is served.
    """

    def __init__(self) -> None:
        self.script: StandIns | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def resolver_rules(self) -> str:
        return f"MAP * 127.0.0.1:{self._httpd.server_port}, EXCLUDE 127.0.0.1"

    def __enter__(self) -> StandInServer:
        self._dir = tempfile.TemporaryDirectory(prefix="ssodiag-standins-")
        cert_file, key_file = self._write_certificate(Path(self._dir.name))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self._answer()

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(min(int(self.headers.get("Content-Length") or 0), MAX_REQUEST_BYTES))
                self._answer()

            def _answer(self) -> None:
                url = f"https://{self.headers.get('Host', '')}{self.path}"
                page = server.script.answer(self.command, url) if server.script else Page(503, "no scenario")
                body = page.body.encode()
                self.send_response(page.status)
                if page.location:
                    self.send_header("Location", page.location)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert_file, key_file)
        self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="stand-ins", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    @staticmethod
    def _write_certificate(folder: Path) -> tuple[str, str]:
        stand_in = TestIdP(key_name="stand-in-tls", common_name="stand-ins.test")
        (folder / "cert.pem").write_text(stand_in.cert_pem)
        (folder / "key.pem").write_bytes(stand_in.key_pem)
        return str(folder / "cert.pem"), str(folder / "key.pem")
