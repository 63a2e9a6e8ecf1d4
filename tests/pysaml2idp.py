"""A second real SAML IdP for tests: pysaml2's IdP, signing through Debian's ``xmlsec1`` command.

SimpleSAMLphp (tests.realidp) signs with PHP's xmlseclibs; this one builds its Responses with pysaml2 and signs
them with libxmlsec1's command-line tool, so recorded Responses come from two independent implementations, each
in the layout it really writes. It takes the same settings as ``SimpleSamlIdp`` and serves the same login: an
SSO endpoint for HTTP-Redirect AuthnRequests, an unsolicited (IdP-initiated) endpoint, a login form with
``username``/``password`` fields, and an auto-submitting form that POSTs the SAMLResponse to the ACS.

The server runs in a child process (``python -m tests.pysaml2idp CONFIG``) so that it can run under libfaketime
(an IdP whose clock is wrong) exactly like php does, and so that a hung IdP never hangs the test process.
"""
from __future__ import annotations

import base64
import html
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Sequence
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from msgspec.structs import asdict

from tests.idp import BINDING_POST
from tests.realidp import (
    HTTP_TIMEOUT_S,
    SIGNATURE_ALGORITHMS,
    STARTUP_TIMEOUT_S,
    LoopbackIdp,
    clock_offset_env,
)

# The XML-DSig digest each signature method is paired with (what IdPs configured for that method write).
DIGEST_FOR = {
    "rsa-sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "rsa-sha1": "http://www.w3.org/2000/09/xmldsig#sha1",
}
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRNAME_UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
MAX_FORM_BYTES = 64 * 1024


def pysaml2_missing() -> str | None:
    """Why the pysaml2 IdP cannot run here, or None when it can."""
    if importlib.util.find_spec("saml2") is None:
        return "the pysaml2 Python package is not installed (pip install -e '.[test]')"
    if shutil.which("xmlsec1") is None:
        return "the xmlsec1 command is not installed (apt-get install xmlsec1)"
    return None


# --------------------------------------------------------------------------- the test side


class Pysaml2Idp(LoopbackIdp):
    """Configure and serve pysaml2's IdP; use as a context manager (the child process stops on exit)."""

    def __init__(self, *, public_sso_urls: Sequence[str] = (), **settings) -> None:
        """Settings: see LoopbackIdp. ``public_sso_urls``: where the IdP is published besides loopback (a vendor's
        host in front of it); pysaml2 accepts an AuthnRequest only if its Destination is one of its SSO URLs."""
        super().__init__(**settings)
        self.public_sso_urls = tuple(public_sso_urls)

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/sso/redirect"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    def idp_initiated_url(self, sp_entity_id: str, acs_url: str | None = None, relay_state: str | None = None) -> str:
        query = {"sp": sp_entity_id}
        if acs_url:
            query["acs"] = acs_url
        if relay_state:
            query["RelayState"] = relay_state
        return f"{self.base_url}/sso/unsolicited?{urllib.parse.urlencode(query)}"

    def __enter__(self) -> Pysaml2Idp:
        missing = pysaml2_missing()
        if missing:
            raise RuntimeError(missing)
        self._dir = tempfile.TemporaryDirectory(prefix="ssodiag-pysaml2-")
        root = Path(self._dir.name)
        (root / "idp.key").write_bytes(self.signing_key.key_pem)
        (root / "idp.crt").write_text(self.signing_key.cert_pem)
        settings = {
            "entity_id": self.idp_entity_id,
            "key_file": str(root / "idp.key"),
            "cert_file": str(root / "idp.crt"),
            "signature_algorithm": self.signature_algorithm,
            "sign_response": self.sign_response,
            "sign_assertion": self.sign_assertion,
            "assertion_lifetime_s": self.assertion_lifetime_s,
            "public_sso_urls": list(self.public_sso_urls),
            "service_providers": [asdict(sp) for sp in self.service_providers],
            "users": [{"username": u.username, "password": u.password,
                       "attributes": {k: list(v) for k, v in u.attributes.items()}} for u in self.users],
            "port_file": str(root / "port"),
            "work_dir": str(root),
        }
        (root / "settings.json").write_text(json.dumps(settings))
        env = {**os.environ, **clock_offset_env(self.clock_offset_s)}
        with open(root / "server.log", "wb") as log:  # a file, not a pipe: a full pipe blocks the server
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.pysaml2idp", str(root / "settings.json")],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parent.parent,
            )
        failure = self._wait_until_ready(root)
        if failure:
            self.__exit__(None, None, None)
            raise RuntimeError(f"the pysaml2 IdP did not start: {failure}")
        return self

    def _wait_until_ready(self, root: Path) -> str | None:
        """None once the metadata answers, else why not (bounded by STARTUP_TIMEOUT_S)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error = "no port written"
        while time.monotonic() < deadline and self._proc is not None and self._proc.poll() is None:
            port_text = (root / "port").read_text() if (root / "port").exists() else ""
            if port_text.endswith("\n"):
                self.port = int(port_text)
                try:
                    if b"IDPSSODescriptor" in self.metadata_xml():
                        return None
                    last_error = "metadata answered without an IDPSSODescriptor"
                except OSError as exc:
                    last_error = str(exc)
            time.sleep(0.1)
        return f"{last_error}\n{(root / 'server.log').read_text(errors='replace')[-2000:]}"


# --------------------------------------------------------------------------- the child process


def _sp_metadata(sp: dict) -> str:
    """SP metadata as the IdP holds it: entity ID and the registered ACS URLs (HTTP-POST)."""
    acs = "".join(
        f'<md:AssertionConsumerService Binding="{BINDING_POST}" Location="{html.escape(url)}" index="{i}"'
        f' isDefault="{"true" if i == 0 else "false"}"/>'
        for i, url in enumerate(sp["acs_urls"])
    )
    return (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{html.escape(sp["entity_id"])}">'
        f'<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:NameIDFormat>{html.escape(sp["nameid_format"])}</md:NameIDFormat>{acs}'
        f'</md:SPSSODescriptor></md:EntityDescriptor>'
    )


def _server(settings: dict, base_url: str):
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.server import Server

    config = IdPConfig()
    config.load({
        "entityid": settings["entity_id"],
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [
                (url, BINDING_HTTP_REDIRECT) for url in (f"{base_url}/sso/redirect", *settings["public_sso_urls"])]},
            "policy": {"default": {"lifetime": {"seconds": settings["assertion_lifetime_s"]},
                                   "name_form": ATTRNAME_UNSPECIFIED}},
            "name_id_format": sorted({sp["nameid_format"] for sp in settings["service_providers"]}),
            "want_authn_requests_signed": False,
        }},
        "key_file": settings["key_file"],
        "cert_file": settings["cert_file"],
        "xmlsec_binary": shutil.which("xmlsec1"),
        "metadata": {"inline": [_sp_metadata(sp) for sp in settings["service_providers"]]},
        "signing_algorithm": SIGNATURE_ALGORITHMS[settings["signature_algorithm"]],
        "digest_algorithm": DIGEST_FOR[settings["signature_algorithm"]],
    })
    return Server(config=config)


def _page(start_response, status: str, body: str, content_type: str = "text/html; charset=utf-8") -> list[bytes]:
    data = body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store")])
    return [data]


def _login_form(auth_state: str, error: str = "") -> str:
    return (
        "<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
        f"{f'<p class=error>{html.escape(error)}</p>' if error else ''}"
        '<form method="post" action="/login">'
        '<label>Username <input name="username" autofocus></label>'
        '<label>Password <input type="password" name="password"></label>'
        f'<input type="hidden" name="AuthState" value="{html.escape(auth_state)}">'
        '<button type="submit">Sign in</button></form></body></html>'
    )


def _post_form(acs_url: str, saml_response: str, relay_state: str | None) -> str:
    relay = (f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
             if relay_state is not None else "")
    return (
        "<!DOCTYPE html><html><head><title>Submitting</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(acs_url)}">'
        f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">{relay}'
        '<noscript><button type="submit">Continue</button></noscript></form></body></html>'
    )


class _App:
    """The IdP's HTTP side: metadata, SSO (Redirect binding), unsolicited SSO, login form, Response POST form."""

    def __init__(self, settings: dict, base_url: str) -> None:
        from saml2.metadata import create_metadata_string

        self.settings = settings
        self.server = _server(settings, base_url)
        self.metadata = create_metadata_string(None, config=self.server.config, sign=False)
        self.sps = {sp["entity_id"]: sp for sp in settings["service_providers"]}
        self.users = {u["username"]: u for u in settings["users"]}
        self.pending: dict[str, dict] = {}  # AuthState -> the login waiting for the user's password

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        try:
            if path == "/metadata":
                return _page(start_response, "200 OK", self.metadata.decode(), "application/samlmetadata+xml")
            if path == "/sso/redirect":
                return self._sso(start_response, query)
            if path == "/sso/unsolicited":
                return self._unsolicited(start_response, query)
            if path == "/login" and environ["REQUEST_METHOD"] == "POST":
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_FORM_BYTES)
                form = dict(urllib.parse.parse_qsl(environ["wsgi.input"].read(length).decode()))
                return self._login(start_response, form)
        except ValueError as exc:  # a request this IdP refuses, shown as an IdP error page
            return _page(start_response, "400 Bad Request", f"<h1>Bad request</h1><p>{html.escape(str(exc))}</p>")
        return _page(start_response, "404 Not Found", "<h1>Not found</h1>")

    def _start_login(self, start_response, sp_entity_id: str, acs_url: str, request_id: str | None,
                     relay_state: str | None):
        sp = self.sps.get(sp_entity_id)
        if sp is None:
            raise ValueError(f"unknown service provider {sp_entity_id!r}")
        if acs_url not in sp["acs_urls"]:  # an IdP posts only to a registered ACS (SAML profiles §4.1.4.1)
            raise ValueError(f"ACS URL {acs_url!r} is not registered for {sp_entity_id!r}")
        auth_state = secrets.token_urlsafe(16)
        self.pending[auth_state] = {"sp": sp, "acs": acs_url, "request_id": request_id, "relay_state": relay_state}
        return _page(start_response, "200 OK", _login_form(auth_state))

    def _sso(self, start_response, query: dict):
        from saml2 import BINDING_HTTP_REDIRECT

        if "SAMLRequest" not in query:
            raise ValueError("no SAMLRequest")
        request = self.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT).message
        sp_entity_id = request.issuer.text.strip()
        acs = request.assertion_consumer_service_url or self.sps.get(sp_entity_id, {}).get("acs_urls", [""])[0]
        return self._start_login(start_response, sp_entity_id, acs, request.id, query.get("RelayState"))

    def _unsolicited(self, start_response, query: dict):
        sp_entity_id = query.get("sp", "")
        acs = query.get("acs") or self.sps.get(sp_entity_id, {}).get("acs_urls", [""])[0]
        return self._start_login(start_response, sp_entity_id, acs, None, query.get("RelayState"))

    def _login(self, start_response, form: dict):
        from saml2 import saml

        login = self.pending.get(form.get("AuthState", ""))
        if login is None:
            raise ValueError("unknown or expired AuthState")
        user = self.users.get(form.get("username", ""))
        if user is None or not secrets.compare_digest(user["password"], form.get("password", "")):
            return _page(start_response, "200 OK", _login_form(form["AuthState"], "Incorrect username or password."))
        del self.pending[form["AuthState"]]
        sp = login["sp"]
        released = sp["released_attributes"]
        identity = {k: v for k, v in user["attributes"].items() if released is None or k in released}
        name_id_values = user["attributes"].get(sp["nameid_attribute"]) or [user["username"]]
        response = self.server.create_authn_response(
            identity=identity,
            in_response_to=login["request_id"],
            destination=login["acs"],
            sp_entity_id=sp["entity_id"],
            name_id=saml.NameID(format=sp["nameid_format"], text=name_id_values[0]),
            authn={"class_ref": PASSWORD_PROTECTED},
            sign_response=self.settings["sign_response"],
            sign_assertion=self.settings["sign_assertion"],
            sign_alg=SIGNATURE_ALGORITHMS[self.settings["signature_algorithm"]],
            digest_alg=DIGEST_FOR[self.settings["signature_algorithm"]],
        )
        saml_response = base64.b64encode(str(response).encode()).decode()
        return _page(start_response, "200 OK", _post_form(login["acs"], saml_response, login["relay_state"]))


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        sys.stderr.write("pysaml2-idp: " + format % args + "\n")


def main(settings_path: str) -> None:
    settings = json.loads(Path(settings_path).read_text())
    os.chdir(settings["work_dir"])  # pysaml2 and xmlsec1 write temporary files next to the process
    httpd: WSGIServer = make_server("127.0.0.1", 0, lambda e, s: app(e, s), handler_class=_QuietHandler)
    base_url = f"http://127.0.0.1:{httpd.server_port}"
    app = _App(settings, base_url)
    # The port is written last, with a newline, so the test side never reads a half-written file.
    Path(settings["port_file"]).write_text(f"{httpd.server_port}\n")
    httpd.timeout = HTTP_TIMEOUT_S
    httpd.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
