"""Record real HARs of SAML logins: Debian's Chromium, driven by Playwright, against a real IdP; and open
ssodiag's HTML reports in the same Chromium (ReportPage) to see what a reader sees.

The hosts that cannot run here (Atlan's Keycloak broker on https://tenant.atlan.com, the vendors' pages) are
played by scripted stand-ins (tests.standins) on one local HTTPS server: Chromium's ``--host-resolver-rules``
sends every host name except 127.0.0.1 (where the real IdPs run) to it. Everything the browser did is in the HAR,
with bodies embedded, exactly as a support engineer would export it.

Chromium comes from Debian (/usr/bin/chromium): ``playwright install`` downloads a browser build and cannot
work on this network.
"""
from __future__ import annotations

import contextlib
import importlib.util
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from tests.realidp import IdpUser
from tests.standins import StandInServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright

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


def chromium_missing() -> str | None:
    """Why a browser recording cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    return None


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


# --------------------------------------------------------------------------- opening reports

ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = ROOT / "tmp" / "artefacts"  # screenshots of the reports (not committed)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def report_browser() -> Iterator[Browser]:
    """Chromium for opening reports (no stand-ins: a report must not request anything at all)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class ReportPage:
    """One report opened in the browser, with what it logged and requested."""

    def __init__(self, browser: Browser, path: Path, viewport: dict) -> None:
        self.context = browser.new_context(viewport=viewport, java_script_enabled=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def others(self) -> list[str]:
        """Requests beyond the report file itself: an image, a font, a beacon would all be leaks."""
        return [u for u in self.requests if u != self.url]

    def in_viewport(self, selector: str) -> bool:
        box = self.page.locator(selector).first.bounding_box()
        viewport = self.page.viewport_size
        return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 60) <= viewport["height"]

    def wrapped_ids(self) -> list[str]:
        """IDs, statuses and check ids (.id, .nowrap, .tag) that the layout broke across two lines."""
        return self.page.evaluate("""() => [...document.querySelectorAll('.id, .nowrap, .tag')].filter(e => {
            const range = document.createRange(); range.selectNodeContents(e);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
        }).map(e => e.textContent)""")

    def screenshot(self, name: str) -> None:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"))

    def close(self) -> None:
        self.context.close()
