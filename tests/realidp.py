"""A real SAML IdP for tests: SimpleSAMLphp (Debian package 1.19.7) served by ``php -S`` on loopback.

Everything it needs (config, metadata, signing key, sessions, logs) lives in a private temp folder that
``SIMPLESAMLPHP_CONFIG_DIR`` points at, so the system-wide /etc/simplesamlphp is never read or changed.
The signing key and certificate are generated at test time (tests.idp), never committed.

Also here: the HTTP-Redirect encoding an SP uses to send its AuthnRequest (SP-initiated logins), a
pure-HTTP login that walks the IdP's login form the way a browser would, to get the real signed SAMLResponse
without starting Chromium, and the one way the real-component tests run the product (its CLI, as a user would).
"""
from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Mapping, Sequence

import jsonschema
import pytest
from msgspec import Struct

from tests.idp import BINDING_POST, NAMEID_EMAIL, TestIdP

SIMPLESAMLPHP_WWW = Path("/usr/share/simplesamlphp/www")
STARTUP_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 10.0
MAX_PAGE_BYTES = 2 * 1024 * 1024  # an IdP page bigger than this is a broken IdP, not a login page
PORT_ATTEMPTS = 3
MAX_LOGIN_STEPS = 4  # login form -> (maybe a second form) -> auto-POST form; more means a loop

# SimpleSAMLphp's names for XML-DSig signature methods (xmldsig §6.4.2, RFC 6931 §2.3.2).
SIGNATURE_ALGORITHMS = {
    "rsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "rsa-sha1": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
}


# --------------------------------------------------------------------------- availability


def skip_or_fail(reason: str) -> None:
    """A missing real component skips the test locally but FAILS in CI, where the install script must provide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: scripts/install-test-deps.sh should have installed it)")
    pytest.skip(reason)


def simplesamlphp_missing() -> str | None:
    """Why SimpleSAMLphp cannot run here, or None when it can."""
    if shutil.which("php") is None:
        return "php is not installed (apt-get install php-cli)"
    if not (SIMPLESAMLPHP_WWW / "saml2" / "idp" / "SSOService.php").is_file():
        return f"SimpleSAMLphp is not installed at {SIMPLESAMLPHP_WWW} (apt-get install simplesamlphp)"
    modules = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=30).stdout.lower().split()
    for module, package in (("dom", "php-xml"), ("mbstring", "php-mbstring")):
        if module not in modules:
            return f"PHP extension {module} is missing (apt-get install {package})"
    return None


# --------------------------------------------------------------------------- configuration


class IdpUser(Struct, frozen=True):
    username: str
    password: str
    attributes: Mapping[str, Sequence[str]]  # e.g. {"email": ["a@x"], "memberOf": ["g1", "g2"]}


class ServiceProvider(Struct, frozen=True):
    """A remote SP as the IdP knows it. The first ACS URL is the default (used for IdP-initiated logins)."""

    entity_id: str
    acs_urls: tuple[str, ...]
    nameid_attribute: str = "email"  # NameID value = this attribute
    nameid_format: str = NAMEID_EMAIL  # emailAddress, as Atlan's IdP guides set it
    released_attributes: tuple[str, ...] | None = None  # the attributes the IdP sends this SP; None = all the user has


def atlan_sp(tenant: str = "https://tenant.atlan.com", alias: str = "okta") -> ServiceProvider:
    """Atlan's Keycloak broker: realm entity ID, broker endpoint, and its IdP-initiated ``/clients/`` variant."""
    realm = f"{tenant}/auth/realms/default"
    endpoint = f"{realm}/broker/{alias}/endpoint"
    return ServiceProvider(entity_id=realm, acs_urls=(endpoint, f"{endpoint}/clients/atlan-saml"))


def _php(value: object) -> str:
    """A PHP literal for config files; strings are single-quoted, so only \\ and ' need escaping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, Mapping):
        return "[" + ", ".join(f"{_php(k)} => {_php(v)}" for k, v in value.items()) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_php(v) for v in value) + "]"
    raise TypeError(f"no PHP literal for {type(value).__name__}")


def _php_file(name: str, value: object) -> str:
    return f"<?php\n${name} = {_php(value)};\n"


def fetch(url: str) -> bytes:
    """GET a page of a local server, bounded in time and size."""
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as resp:
        return resp.read(MAX_PAGE_BYTES)


LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def clock_offset_env(offset_s: int) -> dict[str, str]:
    """Environment that runs a server with its clock ``offset_s`` seconds off (libfaketime), as an IdP whose
    clock is wrong; empty for a correct clock."""
    if not offset_s:
        return {}
    if not LIBFAKETIME.is_file():
        raise RuntimeError(f"{LIBFAKETIME} is missing (apt-get install libfaketime)")
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": f"{offset_s:+d}", "FAKETIME_DONT_RESET": "1"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- the IdP


class LoopbackIdp:
    """What both real IdPs (SimpleSAMLphp, pysaml2) share: their settings, their loopback URL, and stopping their
    server process. Subclasses start the server in ``__enter__`` and name their endpoints."""

    def __init__(
        self,
        *,
        idp_entity_id: str,
        service_providers: Sequence[ServiceProvider],
        users: Sequence[IdpUser],
        signing_key: TestIdP | None = None,
        signature_algorithm: str = "rsa-sha256",
        sign_response: bool = True,
        sign_assertion: bool = True,
        assertion_lifetime_s: int = 300,
        clock_offset_s: int = 0,
    ) -> None:
        if signature_algorithm not in SIGNATURE_ALGORITHMS:
            raise ValueError(f"signature_algorithm must be one of {sorted(SIGNATURE_ALGORITHMS)}")
        self.idp_entity_id = idp_entity_id
        self.service_providers = tuple(service_providers)
        self.users = tuple(users)
        # tests.idp.TestIdP holds a key generated at test time and its self-signed cert; only those are used.
        self.signing_key = signing_key or TestIdP(entity_id=idp_entity_id, key_name=type(self).__name__)
        self.signature_algorithm = signature_algorithm
        self.sign_response = sign_response
        self.sign_assertion = sign_assertion
        self.assertion_lifetime_s = assertion_lifetime_s
        self.clock_offset_s = clock_offset_s  # the IdP's clock error (libfaketime), e.g. -1200: 20 minutes slow
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        raise NotImplementedError

    def metadata_xml(self) -> bytes:
        return fetch(self.metadata_url)

    def __exit__(self, *exc: object) -> None:
        self._stop_server()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _stop_server(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = None


class SimpleSamlIdp(LoopbackIdp):
    """Configure and serve SimpleSAMLphp as an IdP; use as a context manager (the server stops on exit)."""

    def __init__(self, **settings) -> None:
        """Settings: see LoopbackIdp."""
        if any(":" in u.username for u in settings.get("users", ())):
            raise ValueError("exampleauth:UserPass keys users as 'user:password': a username cannot hold ':'")
        super().__init__(**settings)

    # ---- URLs

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/saml2/idp/SSOService.php"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/saml2/idp/metadata.php"

    def idp_initiated_url(self, sp_entity_id: str, acs_url: str | None = None, relay_state: str | None = None) -> str:
        """Unsolicited login (SAML profiles §4.1.5); ``acs_url`` must be one the SP metadata lists."""
        query = {"spentityid": sp_entity_id}
        if acs_url:
            query["ConsumerURL"] = acs_url
        if relay_state:
            query["RelayState"] = relay_state
        return f"{self.sso_url}?{urllib.parse.urlencode(query)}"

    # ---- life cycle

    def __enter__(self) -> SimpleSamlIdp:
        missing = simplesamlphp_missing()
        if missing:
            raise RuntimeError(missing)
        self._dir = tempfile.TemporaryDirectory(prefix="ssodiag-idp-")
        root = Path(self._dir.name)
        failures = []
        # The free port is found before php binds it, so another process can take it in between: retry.
        for _ in range(PORT_ATTEMPTS):
            self.port = _free_port()
            self._write_config(root)  # baseurlpath names the port
            self._start_server(root)
            failure = self._wait_until_ready(root)
            if failure is None:
                return self
            failures.append(failure)
            self._stop_server()
        self.__exit__(None, None, None)
        raise RuntimeError(f"SimpleSAMLphp did not start: {failures[-1]}")

    def _start_server(self, root: Path) -> None:
        env = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(root / "config"), **clock_offset_env(self.clock_offset_s)}
        with open(root / "php-server.log", "wb") as log:  # a file, not a pipe: a full pipe blocks the server
            self._proc = subprocess.Popen(
                ["php", "-d", f"session.save_path={root / 'sessions'}", "-S", f"127.0.0.1:{self.port}",
                 "-t", str(SIMPLESAMLPHP_WWW)],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root,
            )

    def _wait_until_ready(self, root: Path) -> str | None:
        """None once metadata.php answers, else why not (bounded by STARTUP_TIMEOUT_S)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error = "no answer"
        while time.monotonic() < deadline and self._proc is not None and self._proc.poll() is None:
            try:
                if b"IDPSSODescriptor" in self.metadata_xml():
                    return None
                last_error = "metadata.php answered without an IDPSSODescriptor"
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        log_tail = (root / "php-server.log").read_text(errors="replace")[-2000:]
        return f"port {self.port}: {last_error}\n{log_tail}"

    def _write_config(self, root: Path) -> None:
        for sub in ("config", "metadata", "cert", "log", "data", "tmp", "sessions"):
            (root / sub).mkdir(exist_ok=True)
        (root / "cert" / "idp.key").write_bytes(self.signing_key.key_pem)
        (root / "cert" / "idp.crt").write_text(self.signing_key.cert_pem)
        config = {
            "baseurlpath": f"{self.base_url}/",
            "certdir": f"{root / 'cert'}/",
            "loggingdir": f"{root / 'log'}/",
            "datadir": f"{root / 'data'}/",
            "tempdir": str(root / "tmp"),
            "metadatadir": f"{root / 'metadata'}/",
            "metadata.sources": [{"type": "flatfile", "directory": f"{root / 'metadata'}/"}],
            "secretsalt": secrets.token_hex(16),
            "auth.adminpassword": secrets.token_hex(16),
            "timezone": "UTC",
            "logging.handler": "file",
            "logging.logfile": "simplesamlphp.log",
            "enable.saml20-idp": True,
            "module.enable": {"exampleauth": True, "core": True, "saml": True, "admin": True},
            "store.type": "phpsession",
            "session.cookie.secure": False,
            # Chromium drops SameSite=None cookies that are not Secure, and this IdP is plain http.
            "session.cookie.samesite": "Lax",
            "language.cookie.samesite": "Lax",
        }
        users = {f"{u.username}:{u.password}": {k: list(v) for k, v in u.attributes.items()} for u in self.users}
        idp = {
            self.idp_entity_id: {
                "host": "__DEFAULT__",
                "privatekey": "idp.key",
                "certificate": "idp.crt",
                "auth": "users",
                "signature.algorithm": SIGNATURE_ALGORITHMS[self.signature_algorithm],
                "saml20.sign.response": self.sign_response,
                "saml20.sign.assertion": self.sign_assertion,
                "assertion.lifetime": self.assertion_lifetime_s,
                "NameIDFormat": sorted({sp.nameid_format for sp in self.service_providers}),
            }
        }
        sps = {
            sp.entity_id: {
                "AssertionConsumerService": [
                    {"Binding": BINDING_POST, "Location": url, "index": i, "isDefault": i == 0}
                    for i, url in enumerate(sp.acs_urls)
                ],
                "NameIDFormat": sp.nameid_format,
                "simplesaml.nameidattribute": sp.nameid_attribute,
                # core:AttributeLimit drops every attribute the SP's "attributes" list does not name
                **({"attributes": list(sp.released_attributes), "authproc": {50: {"class": "core:AttributeLimit"}}}
                   if sp.released_attributes is not None else {}),
            }
            for sp in self.service_providers
        }
        (root / "config" / "config.php").write_text(_php_file("config", config))
        (root / "config" / "authsources.php").write_text(
            _php_file("config", {"users": {0: "exampleauth:UserPass", **users}})
        )
        (root / "metadata" / "saml20-idp-hosted.php").write_text(_php_file("metadata", idp))
        (root / "metadata" / "saml20-sp-remote.php").write_text(_php_file("metadata", sps))


# --------------------------------------------------------------------------- SP side (SP-initiated logins)


def redirect_binding_url(endpoint: str, authn_request: bytes, relay_state: str | None = None) -> str:
    """HTTP-Redirect binding (SAML bindings §3.4.4.1): raw DEFLATE, base64, URL-encoded in SAMLRequest."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # wbits -15: raw DEFLATE, no zlib header
    deflated = compressor.compress(authn_request) + compressor.flush()
    query = {"SAMLRequest": base64.b64encode(deflated).decode()}
    if relay_state:
        query["RelayState"] = relay_state
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urllib.parse.urlencode(query)}"  # Google's has ?idpid=


# --------------------------------------------------------------------------- pure-HTTP login


class PostedSamlResponse(Struct, frozen=True):
    """What the IdP's auto-submitting form would POST to the SP (HTTP-POST binding, SAML bindings §3.5)."""

    acs_url: str
    saml_response: str  # base64, exactly as in the form
    relay_state: str | None

    @property
    def xml(self) -> bytes:
        return base64.b64decode(self.saml_response)


class _Form(Struct):
    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    """Collects the forms of a page and their named inputs (values already HTML-unescaped by HTMLParser)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(_Form(a.get("action", ""), a.get("method", "get").lower(), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def http_login(start_url: str, username: str, password: str) -> PostedSamlResponse:
    """Follow the IdP's login form with urllib and return the SAMLResponse it would POST to the ACS.

    ``start_url`` is an IdP-initiated URL or an HTTP-Redirect AuthnRequest URL. Bounded: at most
    MAX_LOGIN_STEPS pages, each at most MAX_PAGE_BYTES, each request at most HTTP_TIMEOUT_S.
    """
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    url, body = start_url, None
    for _ in range(MAX_LOGIN_STEPS):
        with opener.open(urllib.request.Request(url, data=body), timeout=HTTP_TIMEOUT_S) as resp:
            page_url = resp.geturl()
            page = resp.read(MAX_PAGE_BYTES).decode("utf-8", errors="replace")
        parser = _FormParser()
        parser.feed(page)
        for form in parser.forms:
            if "SAMLResponse" in form.fields:
                return PostedSamlResponse(
                    acs_url=urllib.parse.urljoin(page_url, form.action),
                    saml_response=form.fields["SAMLResponse"],
                    relay_state=form.fields.get("RelayState"),
                )
        login = next((f for f in parser.forms if "password" in f.fields or "username" in f.fields), None)
        if login is None:
            raise RuntimeError(f"IdP page at {page_url} has neither a login form nor a SAMLResponse: {page[:500]}")
        if body is not None:  # the form came back after we submitted it: wrong credentials
            raise RuntimeError(f"the IdP refused the login of {username!r} at {page_url}")
        fields = {**login.fields, "username": username, "password": password}
        url, body = urllib.parse.urljoin(page_url, login.action), urllib.parse.urlencode(fields).encode()
    raise RuntimeError(f"no SAMLResponse after {MAX_LOGIN_STEPS} pages (login refused or a redirect loop)")


# --------------------------------------------------------------------------- the product on real artefacts


REPORT_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "reports/schema/report.schema.json").read_text())


def analyze_json(*args: str, timeout_s: float = 120) -> dict:
    """Run ``python -m ssodiag analyze ARGS -f json --fail-on never --no-redact`` as a user would; return the report.

    ``--fail-on never`` makes exit 0 the only success, so a crash or an input error (exit 2) fails loudly.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "ssodiag", "analyze", *args, "--format", "json", "--fail-on", "never", "--no-redact"],
        capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode == 0, f"ssodiag exited {proc.returncode}: {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)  # every real report keeps the stable shape
    return report


SIGNATURE_CHECKS = r"^SIG\d"  # the signature check family (check ids are stable handles)


def findings_matching(report: dict, pattern: str, statuses: tuple[str, ...] = ("fail",)) -> list[dict]:
    """Findings of the JSON report with one of ``statuses`` whose "check_id title message" matches ``pattern``
    (a case-insensitive regex: SIGNATURE_CHECKS for a check family, ``sha-?1`` for what a finding is about)."""
    wanted = re.compile(pattern, re.IGNORECASE)
    return [f for f in report["findings"]
            if f["status"] in statuses and wanted.search(f"{f['check_id']} {f['title']} {f['message']}")]
