"""Record real HARs of SAML logins: Debian's Chromium, driven by Playwright, against a real IdP.

The Atlan side (Keycloak's SAML broker on https://tenant.atlan.com) is not running here, so
``context.route`` stands in for it: it answers the SP-initiated start URL with a 302 to the IdP carrying a
deflated AuthnRequest, and answers the ACS POST with a page (or with Keycloak's "Invalid requester" error).
Everything the browser did is in the HAR, with bodies embedded, exactly as a support engineer would export it.

Chromium comes from Debian (/usr/bin/chromium): ``playwright install`` downloads a browser build and cannot
work on this network.
"""
from __future__ import annotations

import contextlib
import importlib.util
import shutil
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from tests.idp import TestIdP
from tests.realidp import IdpUser, ServiceProvider, SimpleSamlIdp, redirect_binding_url
from tests.standins import StandInServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright, Request, Route

    from tests.standins import StandIns

CHROMIUM = "/usr/bin/chromium"
# Flags that keep Chromium from calling home (no network here) and let it run as root in a container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STEP_TIMEOUT_MS = 15_000

# What Keycloak's SAML broker shows when the Response's Issuer/Destination does not match a configured
# IdP or client (Keycloak message key invalidRequesterMessage), as a 400 page.
KEYCLOAK_INVALID_REQUESTER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Atlan</title></head>
<body><div id="kc-content"><div id="kc-content-wrapper">
<div class="alert alert-error"><span class="kc-feedback-text">Invalid requester</span></div>
<p id="instruction1" class="instruction">We are sorry... Invalid requester</p>
</div></div></body></html>"""
LOGGED_IN_PAGE = "<!DOCTYPE html><html><head><title>Atlan</title></head><body>Welcome to Atlan</body></html>"
# How the stand-in SP answers the ACS POST: (HTTP status, page).
ACS_ACCEPTS = (200, LOGGED_IN_PAGE)
ACS_INVALID_REQUESTER = (400, KEYCLOAK_INVALID_REQUESTER_PAGE)


def chromium_missing() -> str | None:
    """Why a browser recording cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class HarRecorder:
    """One Chromium for many recordings; use as a context manager (e.g. from a module-scoped fixture)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._stand_ins = StandInServer()

    def __enter__(self) -> HarRecorder:
        from playwright.sync_api import sync_playwright

        self._stand_ins.__enter__()
        self._playwright = sync_playwright().start()
        try:
            # Every host name but 127.0.0.1 (the real IdPs) resolves to the stand-ins' server: no request can
            # leave the machine, and scripted hosts answer at their real https URLs.
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=[*CHROMIUM_ARGS, f"--host-resolver-rules={self._stand_ins.resolver_rules}"],
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        self._stand_ins.__exit__(None, None, None)

    # ---- any scripted login

    def record(self, name: str, start_url: str, stand_ins: StandIns, user: IdpUser | None,
               preserve_log: bool = True) -> Path:
        """Open ``start_url``, log in at the IdP's form when ``user`` is given, and save the HAR as NAME.har.

        Every host of ``stand_ins`` is answered by its script. Without ``preserve_log`` the capture is what
        DevTools keeps when "Preserve log" is off: the login runs unrecorded, and only the last page, reloaded
        in the same browser session (cookies kept), is in the HAR.
        """
        if self._browser is None:
            raise RuntimeError("use HarRecorder as a context manager")
        har_path = self.out_dir / f"{name}.har"
        if preserve_log:
            with self._context(stand_ins, record_har_path=str(har_path), record_har_content="embed") as context:
                self._walk(context, start_url, user)
            return har_path
        with self._context(stand_ins) as context:
            last_url = self._walk(context, start_url, user)
            state = context.storage_state()
        with self._context(stand_ins, record_har_path=str(har_path), record_har_content="embed",
                           storage_state=state) as context:
            self._walk(context, last_url, None)
        return har_path

    @contextlib.contextmanager
    def _context(self, stand_ins: StandIns, **options: object) -> Iterator[BrowserContext]:
        self._stand_ins.script = stand_ins
        # The stand-ins' certificate is self-signed: a real one for tenant.atlan.com cannot exist here.
        context = self._browser.new_context(ignore_https_errors=True, **options)
        try:
            yield context
        finally:
            context.close()  # the HAR is written on close
            self._stand_ins.script = None

    @staticmethod
    def _walk(context: BrowserContext, start_url: str, user: IdpUser | None) -> str:
        """Browse from ``start_url`` (logging in when ``user`` is given) until the network is idle; the last URL."""
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.goto(start_url)
        if user is not None:
            if page.locator('input[name="username"]').count() == 0:
                raise RuntimeError(f"no login form at {page.url}: {page.content()[:1000]}")
            page.fill('input[name="username"]', user.username)
            page.fill('input[name="password"]', user.password)
            # The IdP answers the login with an auto-submitting form that POSTs the SAMLResponse to the ACS.
            with page.expect_request(lambda r: r.method == "POST" and "SAMLResponse=" in (r.post_data or "")):
                page.press('input[name="password"]', "Enter")
        # The HAR recorder fetches bodies asynchronously; closing before the network is idle loses them.
        page.wait_for_load_state("networkidle")
        return page.url

    # ---- the three recordings

    def record_idp_initiated(
        self, idp: SimpleSamlIdp, sp: ServiceProvider, user: IdpUser, name: str = "idp-initiated"
    ) -> Path:
        """User starts at the IdP (an Okta tile); the Response goes to Atlan's ``/clients/`` ACS variant."""
        acs_url = sp.acs_urls[-1]
        return self._record(name, idp.idp_initiated_url(sp.entity_id, acs_url), user, acs_url, ACS_ACCEPTS)

    def record_sp_initiated(
        self, idp: SimpleSamlIdp, sp: ServiceProvider, user: IdpUser, request_id: str, name: str = "sp-initiated"
    ) -> Path:
        """User starts at Atlan, which redirects to the IdP with an AuthnRequest (HTTP-Redirect binding)."""
        return self._sp_initiated(idp, sp, user, request_id, name, ACS_ACCEPTS)

    def record_failed_login(
        self, idp: SimpleSamlIdp, sp: ServiceProvider, user: IdpUser, request_id: str, name: str = "failed-login"
    ) -> Path:
        """SP-initiated login whose ACS POST Atlan's Keycloak refuses with 400 "Invalid requester"."""
        return self._sp_initiated(idp, sp, user, request_id, name, ACS_INVALID_REQUESTER)

    # ---- internals

    def _sp_initiated(
        self,
        idp: SimpleSamlIdp,
        sp: ServiceProvider,
        user: IdpUser,
        request_id: str,
        name: str,
        acs_answer: tuple[int, str],
    ) -> Path:
        acs_url = sp.acs_urls[0]
        # Keycloak's broker starts a login at .../broker/{alias}/login; here it is any SP URL that is not the ACS.
        start_url = acs_url.rsplit("/", 1)[0] + "/login?client_id=atlan-frontend"
        # Only the AuthnRequest builder of TestIdP is used: an unsigned request, as Keycloak sends by default.
        authn_request = TestIdP().authn_request(
            id=request_id, issuer=sp.entity_id, acs_url=acs_url, destination=idp.sso_url
        )
        redirect = redirect_binding_url(idp.sso_url, authn_request, relay_state="kc-relay-state")
        return self._record(name, start_url, user, acs_url, acs_answer, start_redirect=(start_url, redirect))

    def _record(
        self,
        name: str,
        start_url: str,
        user: IdpUser,
        acs_url: str,
        acs_answer: tuple[int, str],
        start_redirect: tuple[str, str] | None = None,
    ) -> Path:
        if self._browser is None:
            raise RuntimeError("use HarRecorder as a context manager")
        har_path = self.out_dir / f"{name}.har"
        context = self._browser.new_context(record_har_path=str(har_path), record_har_content="embed")
        try:
            context.route(f"{_origin(acs_url)}/**", self._sp_handler(acs_url, acs_answer, start_redirect))
            page = context.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(start_url)
            page.fill('input[name="username"]', user.username)
            page.fill('input[name="password"]', user.password)
            # The IdP answers the login with an auto-submitting form that POSTs the SAMLResponse to the ACS.
            with page.expect_response(lambda r: r.url == acs_url and r.request.method == "POST") as acs:
                page.press('input[name="password"]', "Enter")
            acs.value.finished()
            # The HAR recorder fetches bodies asynchronously; closing before the network is idle loses them.
            page.wait_for_load_state("networkidle")
        finally:
            context.close()  # the HAR is written on close
        return har_path

    @staticmethod
    def _sp_handler(
        acs_url: str, acs_answer: tuple[int, str], start_redirect: tuple[str, str] | None
    ) -> Callable[[Route, Request], None]:
        status, body = acs_answer

        def handle(route: Route, request: Request) -> None:
            if start_redirect and request.url == start_redirect[0]:
                route.fulfill(status=302, headers={"Location": start_redirect[1]}, body="")
            elif request.url == acs_url and request.method == "POST":
                route.fulfill(status=status, content_type="text/html; charset=utf-8", body=body)
            else:
                route.fulfill(status=404, content_type="text/plain", body="not found")

        return handle
