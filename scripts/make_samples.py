"""Regenerate the bundled sample evidence in diag/samples/ (run from the repo root: python scripts/make_samples.py).

One folder per sample, shaped as a support ticket (what `ssodiag batch` reads): the browser capture, the IdP metadata
Atlan holds, and an `ssodiag.toml` with the options (`atlan`, `alias`, `idp_metadata`). For each connector one
healthy login and one typical failure, plus the evidence of a group-sync plan. Every certificate is valid for years
around the capture, and every check judges at the capture's own time, so the demo never changes with the date.
Keys are generated on each run; nothing here is a real customer's data.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

from msgspec import Struct, field

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harbuild import HarBuilder, post_body, redirect_query  # noqa: E402  (the suite's own builders)
from tests.idp import TestIdP  # noqa: E402

OUT = ROOT / "diag" / "samples"
ATLAN = "https://acme.atlan.com"
REALM = f"{ATLAN}/auth/realms/default"
CERT_FROM, CERT_TO = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2035, 1, 1, tzinfo=dt.timezone.utc)
JANE = {"email": ["jane.doe@acme.example"], "firstName": ["Jane"], "lastName": ["Doe"],
        "memberOf": ["atlan-admins", "data-stewards"]}
ENTRA_TENANT = "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"
KEYCLOAK_PAGE = ('<html><head><title>Sign in to Atlan</title></head><body><div id="kc-error-message">'
                 '<p class="instruction">{}</p></div></body></html>')


def acs(alias: str) -> str:
    return f"{REALM}/broker/{alias}/endpoint"


class Login(Struct):
    """One login as a browser captured it; the defaults are a healthy SP-initiated login."""

    name: str
    alias: str
    idp: TestIdP
    sso_url: str
    captured: dt.datetime
    initiation: str = "sp"  # "sp", or "idp" from the IdP's dashboard (`launch_url`)
    launch_url: str = ""
    acs_url: str = ""  # where the IdP posts the Response; default: the endpoint for the initiation
    response: dict = field(default_factory=dict)  # TestIdP.response fields overriding the healthy ones
    algorithm: str = "rsa-sha256"
    digest: str = "sha256"
    atlan_host: str = ATLAN  # the host the browser used for Atlan (a session proxy rewrites it)
    page: str | None = None  # Keycloak's error page text; None: the login succeeds
    page_status: int = 400  # the HTTP status of that page
    metadata_idp: TestIdP | None = None  # the IdP whose metadata Atlan holds (default: the signing one)


def build(login: Login) -> tuple[bytes, bytes]:
    """(HAR bytes, metadata bytes) of the login."""
    idp, t0 = login.idp, login.captured - dt.timedelta(seconds=4)
    har = HarBuilder(start=t0)
    endpoint = acs(login.alias) + ("/clients/atlan-saml" if login.initiation == "idp" else "")
    post_to = login.acs_url or endpoint
    browser_post_to = post_to.replace(ATLAN, login.atlan_host, 1)
    request_id, relay_state = None, None
    if login.initiation == "sp":
        request_id = f"ID_{login.name}-0000-4000-8000-000000000001"
        relay_state = f"k8Jq2Ld0.{login.name}-tab.atlan-frontend"  # Keycloak's code.tabId.clientId
        request = idp.authn_request(id=request_id, issuer=REALM, acs_url=acs(login.alias), destination=login.sso_url,
                                    issue_instant=t0, name_id_policy_format=None)
        start = f"{login.atlan_host}/auth/realms/default/broker/{login.alias}/login?client_id=atlan-frontend"
        separator = "&" if "?" in login.sso_url else "?"
        location = f"{login.sso_url}{separator}{redirect_query('SAMLRequest', request, relay_state)}"
        har.add("GET", start, status=302, location=location, seconds=0)
        har.add("GET", location, html="<html><body>Sign in</body></html>", seconds=1)
    else:
        har.add("GET", login.launch_url, html="<html><body>Redirecting</body></html>", seconds=1)
    fields = dict(destination=post_to, recipient=post_to, in_response_to=request_id, audiences=[REALM],
                  issue_instant=login.captured - dt.timedelta(seconds=1),
                  not_before=login.captured - dt.timedelta(minutes=5),
                  not_on_or_after=login.captured + dt.timedelta(minutes=5),
                  sc_not_on_or_after=login.captured + dt.timedelta(minutes=5), name_id="jane.doe@acme.example",
                  attributes=JANE, response_id=f"_{login.name}-response", assertion_id=f"_{login.name}-assertion")
    fields.update(login.response)
    saml = idp.sign(idp.response(**fields), what="assertion", algorithm=login.algorithm, digest=login.digest)
    form = (f'<html><body onload="document.forms[0].submit()"><form method="post" action="{html.escape(browser_post_to)}">'
            f'<input type="hidden" name="SAMLResponse" value="{base64.b64encode(saml).decode()}"/></form></body></html>')
    har.add("POST", login.sso_url, html=form, seconds=3)
    body = post_body("SAMLResponse", saml, relay_state)
    if login.page is None:
        har.add("POST", browser_post_to, body=body, status=302, location=f"{login.atlan_host}/", seconds=4)
    else:
        har.add("POST", browser_post_to, body=body, status=login.page_status,
                html=KEYCLOAK_PAGE.format(login.page), seconds=4)
    holder = login.metadata_idp or idp
    metadata = holder.metadata(sso_post=login.sso_url, sso_redirect=login.sso_url, name_id_formats=[])
    return json.dumps(har.har(), indent=1).encode() + b"\n", metadata


def write(login: Login, *, metadata_name: str) -> None:
    folder = OUT / login.name
    folder.mkdir(parents=True)
    har, metadata = build(login)
    (folder / "login.har").write_bytes(har)
    (folder / metadata_name).write_bytes(metadata)
    (folder / "ssodiag.toml").write_text(
        f'# options for this ticket, as on the command line (paths relative to this folder)\n'
        f'atlan = "{ATLAN}"\nalias = "{login.alias}"\nidp_metadata = ["{metadata_name}"]\n')


def idp(entity_id: str, name: str, host: str) -> TestIdP:
    return TestIdP(entity_id=entity_id, key_name=f"sample-{name}", common_name=host, cert_valid_from=CERT_FROM,
                   cert_valid_to=CERT_TO)


def logins() -> list[tuple[Login, str]]:
    when = dt.datetime(2026, 11, 20, 9, 14, 5, tzinfo=dt.timezone.utc)
    okta = idp("http://www.okta.com/exk1acmeatlan0000000", "okta", "acme.okta.com")
    okta_sso = "https://acme.okta.com/app/acme_atlan_1/exk1acmeatlan0000000/sso/saml"
    # The customer re-created the Atlan app in Okta: Okta signs with the new app's key and issues as the new app,
    # Atlan still holds the old app's metadata, the new app maps `given_name` instead of `firstName`, and its
    # single sign-on URL is the SP-initiated endpoint. Atlan's broker stops at its first failing step, the document
    # signature (the new key), with "Invalid signature in response from identity provider.".
    okta_new = idp("http://www.okta.com/exk9newapp1111111111", "okta-new", "acme.okta.com")
    google = idp("https://accounts.google.com/o/saml2?idpid=C01acme23", "google", "google.com")
    google_sso = "https://accounts.google.com/o/saml2/idp?idpid=C01acme23"
    entra = idp(f"https://sts.windows.net/{ENTRA_TENANT}/", "entra", "Microsoft Azure Federated SSO Certificate")
    entra_sso = f"https://login.microsoftonline.com/{ENTRA_TENANT}/saml2"
    ping = idp("https://sso.acme.example", "ping", "sso.acme.example")
    ping_launch = (f"https://sso.acme.example/idp/startSSO.ping?PartnerSpId={quote(REALM, safe='')}"
                   f"&TargetResource={quote(ATLAN, safe='')}")
    defender_host = "https://acme.atlan.com.mcas.ms"
    return [
        (Login("okta-healthy", "okta", okta, okta_sso, when), "okta-metadata.xml"),
        (Login("okta-failure", "okta", okta_new, okta_sso.replace("exk1acmeatlan0000000", "exk9newapp1111111111"),
               when, initiation="idp", acs_url=acs("okta"), metadata_idp=okta,
               launch_url="https://acme.okta.com/home/acme_atlan_1/0oa9newapp1111111111/aln9newapp1111111111",
               response={"attributes": {("given_name" if k == "firstName" else k): v for k, v in JANE.items()}},
               page="Invalid signature in response from identity provider."), "okta-metadata.xml"),
        (Login("google-healthy", "google", google, google_sso, when), "google-metadata.xml"),
        # Launched from the Google dashboard: Google has one ACS URL field, set to the SP-initiated endpoint. The
        # Response comes without RelayState, which Keycloak's SP-initiated endpoint cannot split: a 500 page.
        (Login("google-failure", "google", google, google_sso, when, initiation="idp", acs_url=acs("google"),
               launch_url="https://accounts.google.com/o/saml2/initsso?idpid=C01acme23&spid=812345&forceauthn=false",
               page="An internal server error has occurred", page_status=500), "google-metadata.xml"),
        (Login("entra-healthy", "azure", entra, entra_sso, when), "entra-metadata.xml"),
        # Group overage: the user is in more than 150 groups, Entra sends a groups.link claim instead of memberOf.
        (Login("entra-failure", "azure", entra, entra_sso, when,
               response={"attributes": {k: v for k, v in JANE.items() if k != "memberOf"} | {
                   "http://schemas.microsoft.com/claims/groups.link": [
                       f"https://graph.windows.net/{ENTRA_TENANT}/users/7c1d0e2f-1a2b-4c3d-9e8f-a0b1c2d3e4f5"
                       "/getMemberObjects"]}}), "entra-metadata.xml"),
        (Login("pingfederate-healthy", "ping", ping, "https://sso.acme.example/idp/SSO.saml2", when,
               initiation="idp", launch_url=ping_launch), "pingfederate-metadata.xml"),
        # The SP connection signs with RSA-SHA1, which Keycloak on Java 17+ refuses.
        (Login("pingfederate-failure", "ping", ping, "https://sso.acme.example/idp/SSO.saml2", when,
               initiation="idp", launch_url=ping_launch, algorithm="rsa-sha1", digest="sha1",
               page="Invalid signature in response from identity provider."), "pingfederate-metadata.xml"),
        # Through the Defender for Cloud Apps session proxy: the browser talks to *.mcas.ms, the Response still
        # names the real Atlan endpoint, the proxy forwards it.
        (Login("defender-healthy", "azure", entra, entra_sso, when, atlan_host=defender_host),
         "entra-metadata.xml"),
        # The Reply URL was registered through the proxy: Destination and Recipient name the proxied host.
        (Login("defender-failure", "azure", entra, entra_sso, when, atlan_host=defender_host,
               acs_url=acs("azure").replace(ATLAN, defender_host), page="Invalid Request"), "entra-metadata.xml"),
    ]


GROUPSYNC = {
    "mappings.csv": "sso_group,atlan_group\natlan-admins,admins\ndata-stewards,stewards\nanalysts ,analysts\n"
                    "finance,finance-readers\n",
    "atlan-users.csv": "username,email,atlan_group\njane.doe@acme.example,jane.doe@acme.example,admins\n"
                       "jane.doe@acme.example,jane.doe@acme.example,finance-readers\n"
                       "amorris,amorris@acme.example,stewards\nbo.chen@acme.example,bo.chen@acme.example,\n"
                       ",,analysts\n",
    "idp-users.csv": "username,email,sso_group\njane.doe@acme.example,jane.doe@acme.example,atlan-admins\n"
                     "jane.doe@acme.example,jane.doe@acme.example,data-stewards\n"
                     "amorris@acme.example,amorris@acme.example,data-stewards\n"
                     "bo.chen@acme.example,bo.chen@acme.example,analysts\n",
}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for login, metadata_name in logins():
        write(login, metadata_name=metadata_name)
    plan = OUT / "groupsync"
    plan.mkdir()
    for name, text in GROUPSYNC.items():
        (plan / name).write_text(text)
    print(f"wrote {', '.join(p.name for p in sorted(OUT.iterdir()))} to {OUT}")


if __name__ == "__main__":
    main()
