"""The recorded login scenarios: one table, recorded by a real Chromium against both real IdPs.

Each scenario names the connector (the vendor whose shape the IdP takes: entity ID, public URLs, Atlan alias),
how the IdP is set up, how the login starts, and what the scripted hosts answer (tests.standins). Scenarios whose
login reaches a SAML Response are recorded once per IdP implementation (SimpleSAMLphp and pysaml2); scenarios
that stop at a vendor page before any Response are recorded once.

``record_all`` records every scenario into a folder: ``NAME.IDP.har`` plus ``NAME.IDP.idp-metadata.xml`` (the
IdP metadata Atlan holds). Used by the session fixture of tests/test_e2e_scenarios.py and by
``python -m tests.record_scenarios OUT_DIR``.
"""
from __future__ import annotations

import functools
import urllib.parse
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Sequence

from lxml import etree
from msgspec import Struct, field

from ssodiag.diag.xmlparse import NS, parse_xml
from tests.browser import HarRecorder
from tests.idp import TestIdP
from tests.pysaml2idp import Pysaml2Idp
from tests.realidp import IdpUser, ServiceProvider, SimpleSamlIdp
from tests.standins import (
    LOGGED_IN,
    AcsAnswer,
    AtlanBroker,
    Page,
    StandIns,
    VendorFront,
    entra_error,
    google_error,
    keycloak_confirm_link,
    keycloak_error,
    keycloak_review_profile,
    okta_app_not_assigned,
)

ATLAN = "https://tenant.atlan.com"
DEFENDER_PROXY = "https://tenant.atlan.com.mcas.ms"  # Defender for Cloud Apps session proxy: <host>.mcas.ms
ENTRA_TENANT = "4f6c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
ENTRA_APP_ID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
USER = IdpUser(
    "alice", "correct horse",
    {"email": ["alice@acme.example"], "firstName": ["Alice"], "lastName": ["Liddell"],
     "memberOf": ["atlan-admins", "data-stewards"]},
)
IDP_KINDS: dict[str, type] = {"simplesamlphp": SimpleSamlIdp, "pysaml2": Pysaml2Idp}
NO_IDP = "vendor-page"  # the "IdP" name of a recording that stops at a vendor page


class Connector(Struct, frozen=True):
    """A vendor's shape: the IdP entity ID, its public SSO and launch URLs, and Atlan's alias for it."""

    name: str
    alias: str
    entity_id: str
    sso_url: str
    launch_url: str
    atlan_url: str = ATLAN  # where the user opens Atlan (the Defender proxy host when proxied)


def _pingfederate_launch(base: str, separator: str = "?", second: str = "&") -> str:
    """PingFederate's IdP-initiated start URL; the separators are what a malformed one gets wrong."""
    partner = urllib.parse.quote(f"{ATLAN}/auth/realms/default", safe="")
    target = urllib.parse.quote(f"{ATLAN}/", safe="")
    return f"{base}/idp/startSSO.ping{separator}PartnerSpId={partner}{second}TargetResource={target}"


_ENTRA_SSO = f"https://login.microsoftonline.com/{ENTRA_TENANT}/saml2"
_ENTRA_LAUNCH = f"https://launcher.myapps.microsoft.com/api/signin/{ENTRA_APP_ID}?tenantId={ENTRA_TENANT}"
_PING = "https://sso.acme-ping.example"
CONNECTORS = {
    "okta": Connector("okta", "okta", "http://www.okta.com/exk1abc2defGHIJ3k4",
                      "https://acme.okta.com/app/acme_atlan_1/exk1abc2defGHIJ3k4/sso/saml",
                      "https://acme.okta.com/home/acme_atlan_1/0oa1abc2defGHIJ3k4/aln1abc2defGHIJ3k4"),
    "google": Connector("google", "google", "https://accounts.google.com/o/saml2?idpid=C01abc2de",
                        "https://accounts.google.com/o/saml2/idp?idpid=C01abc2de",
                        "https://accounts.google.com/o/saml2/initsso?idpid=C01abc2de&spid=123456789012"
                        "&forceauthn=false"),
    "entra": Connector("entra", "azure", f"https://sts.windows.net/{ENTRA_TENANT}/", _ENTRA_SSO, _ENTRA_LAUNCH),
    "pingfederate": Connector("pingfederate", "ping", _PING, f"{_PING}/idp/SSO.saml2", _pingfederate_launch(_PING)),
    "defender": Connector("defender", "azure", f"https://sts.windows.net/{ENTRA_TENANT}/", _ENTRA_SSO,
                          _ENTRA_LAUNCH, atlan_url=DEFENDER_PROXY),
}


class IdpSetup(Struct, frozen=True):
    """How the IdP is configured for Atlan in a scenario (the knobs both real IdPs take)."""

    registered_acs: tuple[str, ...] | None = None  # ACS URLs registered for Atlan; None = both of Atlan's
    sp_entity_id: str | None = None  # the entity ID the IdP knows Atlan by; None = Atlan's real one
    released_attributes: tuple[str, ...] | None = None
    signature_algorithm: str = "rsa-sha256"
    signing_key: str = "current"  # the generated key the IdP signs with
    clock_offset_s: int = 0


class Scenario(Struct, frozen=True):
    name: str
    connector: str
    initiation: str  # "sp": the user starts at Atlan; "idp": at the IdP (tile, dashboard, startSSO.ping)
    summary: str
    answer: AcsAnswer = LOGGED_IN  # what Atlan's broker shows after the SAMLResponse POST
    idp: IdpSetup = field(default_factory=IdpSetup)
    vendor_page: Page | None = None  # the vendor shows this instead of the IdP's login (no Response)
    launch_url: str | None = None  # an IdP-initiated start URL other than the connector's
    request_acs_host: str | None = None  # Keycloak's base URL as the proxy shows it, for the AuthnRequest's ACS
    atlan_trusts_key: str = "current"  # the signing key in the IdP metadata Atlan holds
    preserve_log: bool = True  # False: DevTools kept only the last page (no "Preserve log")
    reaches_response: bool = True  # False: the login stops at a vendor page before the IdP answers


def _error(status: int, message: str) -> AcsAnswer:
    return AcsAnswer(keycloak_error(status, message))


_EMAIL = USER.attributes["email"][0]


def atlan_acs(alias: str, host: str = ATLAN) -> tuple[str, str]:
    """Atlan's two ACS URLs for an IdP alias: SP-initiated, then IdP-initiated (``/clients/atlan-saml``)."""
    endpoint = f"{host}/auth/realms/default/broker/{alias}/endpoint"
    return endpoint, f"{endpoint}/clients/atlan-saml"

_INVALID_SIGNATURE = "Invalid signature in response from identity provider."
_LOGIN_TIMEOUT = "Login timeout. Please sign in again."

SCENARIOS: tuple[Scenario, ...] = (
    *(
        Scenario(f"{c}-{i}-healthy", c, i, f"a healthy {'SP' if i == 'sp' else 'IdP'}-initiated {c} login")
        for c in ("okta", "google", "entra", "pingfederate", "defender") for i in ("sp", "idp")
    ),
    Scenario("okta-first-login-conflict", "okta", "sp",
             "first SSO login of a user Atlan already has (invited before SSO): Keycloak's confirm-link page",
             AcsAnswer(keycloak_confirm_link(_EMAIL), first_broker_login=True)),
    Scenario("okta-unassigned", "okta", "sp", "the user is not assigned the Atlan app in Okta",
             vendor_page=okta_app_not_assigned(), reaches_response=False),
    Scenario("google-dashboard-to-sp-acs", "google", "idp",
             "launched from Google's app dashboard while the app's ACS URL is Atlan's SP-initiated endpoint",
             _error(500, "An internal server error has occurred"),
             IdpSetup(registered_acs=atlan_acs("google")[:1])),
    Scenario("google-app-not-configured-for-user", "google", "sp",
             "Google's app Entity ID differs from Atlan's SP entity ID",
             vendor_page=google_error("app_not_configured_for_user"), reaches_response=False),
    Scenario("pingfederate-404", "pingfederate", "idp", "startSSO.ping launched with '&' where '?' belongs",
             launch_url=_pingfederate_launch(_PING, separator="&"), reaches_response=False),
    Scenario("pingfederate-system-error", "pingfederate", "idp", "startSSO.ping launched with a second '?'",
             launch_url=_pingfederate_launch(_PING, second="?"), reaches_response=False),
    Scenario("defender-destination-mismatch", "defender", "sp",
             "the IdP posts to the Defender proxy host's ACS; Keycloak expects its public URL",
             _error(400, "Invalid Request"),
             IdpSetup(registered_acs=(atlan_acs("azure", DEFENDER_PROXY)[0], *atlan_acs("azure"))),
             request_acs_host=DEFENDER_PROXY),
    Scenario("entra-aadsts50011", "entra", "sp", "Atlan's ACS URL is not a Reply URL of the Entra app",
             vendor_page=entra_error("50011", tenant=ENTRA_TENANT, app_id=ENTRA_APP_ID,
                                     reply_url=atlan_acs("azure")[0]), reaches_response=False),
    Scenario("entra-aadsts50105", "entra", "sp", "the user is not assigned to the Entra app",
             vendor_page=entra_error("50105", tenant=ENTRA_TENANT, app_id=ENTRA_APP_ID, user=_EMAIL),
             reaches_response=False),
    Scenario("rotated-certificate", "okta", "sp", "the IdP signs with a new certificate; Atlan holds the old one",
             _error(400, _INVALID_SIGNATURE), IdpSetup(signing_key="rotated"), atlan_trusts_key="current"),
    Scenario("sha1-signature", "pingfederate", "sp", "the IdP signs with rsa-sha1, which Java 17 refuses",
             _error(400, _INVALID_SIGNATURE), IdpSetup(signature_algorithm="rsa-sha1")),
    Scenario("expired-assertion", "okta", "sp", "the IdP's clock is 20 minutes slow: the assertion is expired",
             _error(400, _LOGIN_TIMEOUT), IdpSetup(clock_offset_s=-1200)),
    Scenario("wrong-audience", "okta", "idp", "the IdP knows Atlan by a wrong entity ID (the Audience)",
             _error(400, _LOGIN_TIMEOUT), IdpSetup(sp_entity_id=ATLAN)),
    Scenario("missing-attributes", "okta", "sp", "the IdP releases only email: no firstName/lastName",
             AcsAnswer(keycloak_review_profile(_EMAIL), first_broker_login=True),
             IdpSetup(released_attributes=("email", "memberOf"))),
    Scenario("no-preserve-log", "okta", "sp",
             "the first-login conflict captured without 'Preserve log': only the last page, no SAML POST",
             AcsAnswer(keycloak_confirm_link(_EMAIL), first_broker_login=True), preserve_log=False),
)


def scenario(name: str) -> Scenario:
    (found,) = [s for s in SCENARIOS if s.name == name]
    return found


def idp_kinds(s: Scenario) -> tuple[str, ...]:
    return tuple(IDP_KINDS) if s.reaches_response else (NO_IDP,)


def recordings_planned(scenarios: Sequence[Scenario] = SCENARIOS) -> list[tuple[str, str]]:
    """(scenario name, IdP kind) for every recording ``record_all`` makes."""
    return [(s.name, kind) for s in scenarios for kind in idp_kinds(s)]


# --------------------------------------------------------------------------- recording


class Recording(Struct, frozen=True):
    scenario: Scenario
    idp_kind: str
    har: Path
    idp_metadata: Path | None  # the IdP metadata Atlan holds; None when no IdP took part

    @property
    def atlan_options(self) -> tuple[str, ...]:
        """ssodiag's options for what Atlan is configured with in this scenario."""
        options = ("--atlan", ATLAN, "--alias", CONNECTORS[self.scenario.connector].alias)
        return (*options, "--idp-metadata", str(self.idp_metadata)) if self.idp_metadata else options


def _service_provider(s: Scenario, c: Connector) -> ServiceProvider:
    return ServiceProvider(
        entity_id=s.idp.sp_entity_id or f"{ATLAN}/auth/realms/default",
        acs_urls=s.idp.registered_acs or atlan_acs(c.alias),
        released_attributes=s.idp.released_attributes,
    )


@functools.lru_cache(maxsize=None)  # one certificate per key: the IdP and the metadata Atlan holds must agree
def _signing_key(c: Connector, name: str) -> TestIdP:
    return TestIdP(entity_id=c.entity_id, key_name=f"{c.name}-{name}", common_name=urllib.parse.urlsplit(
        c.sso_url).hostname or c.name)


def _metadata_atlan_holds(idp, c: Connector, trusted: TestIdP) -> bytes:
    """The IdP's own metadata as its public host publishes it, with the certificate Atlan was given."""
    root = parse_xml(idp.metadata_xml().replace(idp.base_url.encode(), urllib.parse.urlsplit(
        c.sso_url)._replace(path="", query="").geturl().encode()))
    for cert in root.iter(f"{{{NS['ds']}}}X509Certificate"):
        cert.text = trusted.cert_b64
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _stand_ins(s: Scenario, c: Connector, idp, sp: ServiceProvider) -> StandIns:
    request_acs = atlan_acs(c.alias, s.request_acs_host)[0] if s.request_acs_host else None
    broker = AtlanBroker(public_url=ATLAN, alias=c.alias, idp_sso_url=c.sso_url, acs_answer=s.answer,
                         request_acs_url=request_acs, home_url=f"{c.atlan_url}/")
    idp_initiated_acs = next((u for u in sp.acs_urls if u.endswith("/clients/atlan-saml")), sp.acs_urls[0])
    return StandIns(
        broker=broker,
        atlan_hosts=tuple(dict.fromkeys((ATLAN, c.atlan_url))),
        front=VendorFront(c.sso_url, s.launch_url or c.launch_url, s.vendor_page),
        real_sso_url=idp.sso_url if idp else "",
        real_launch_url=idp.idp_initiated_url(sp.entity_id, idp_initiated_acs) if idp else "",
    )


def _start_url(s: Scenario, c: Connector, stand_ins: StandIns) -> str:
    if s.initiation == "idp":
        return s.launch_url or c.launch_url
    return stand_ins.broker.login_url(c.atlan_url)


def record_all(out_dir: Path, scenarios: Sequence[Scenario] = SCENARIOS,
               on_recorded: Callable[[Recording], None] = lambda _: None) -> dict[tuple[str, str], Recording]:
    """Record every scenario (each Response scenario with both IdPs) into ``out_dir``; one Chromium for all.

    Recordings that need the same IdP set-up share one IdP server. ``on_recorded`` is called as each HAR is
    saved (the tests start analysing while the browser records the next one).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = [(s, kind) for s in scenarios for kind in idp_kinds(s)]
    first_use = {}
    for s, kind in plan:
        first_use.setdefault(_idp_key(s, kind), len(first_use))
    plan.sort(key=lambda item: first_use[_idp_key(*item)])  # stable: same IdP set-up, one after another
    recordings: dict[tuple[str, str], Recording] = {}
    with HarRecorder(out_dir) as recorder, ExitStack() as idp_stack:
        running_key, idp = None, None
        for s, kind in plan:
            if _idp_key(s, kind) != running_key:
                idp_stack.close()
                running_key = _idp_key(s, kind)
                idp = None if kind == NO_IDP else idp_stack.enter_context(_start_idp(s, kind))
            recording = _record_one(recorder, out_dir, s, kind, idp)
            recordings[(s.name, kind)] = recording
            on_recorded(recording)
    return {(s.name, kind): recordings[(s.name, kind)] for s, kind in sorted(plan, key=lambda i: SCENARIOS.index(i[0]))}


def _idp_key(s: Scenario, kind: str) -> tuple:
    """What the IdP server of a recording depends on: two recordings with the same key can share it."""
    return (kind,) if kind == NO_IDP else (kind, s.connector, s.idp)


def _start_idp(s: Scenario, kind: str):
    c = CONNECTORS[s.connector]
    # pysaml2 checks an AuthnRequest's Destination against its own URLs; SimpleSAMLphp does not.
    published = {"public_sso_urls": (c.sso_url,)} if kind == "pysaml2" else {}
    return IDP_KINDS[kind](
        idp_entity_id=c.entity_id, service_providers=[_service_provider(s, c)], users=[USER],
        signing_key=_signing_key(c, s.idp.signing_key), signature_algorithm=s.idp.signature_algorithm,
        clock_offset_s=s.idp.clock_offset_s, **published,
    )


def _record_one(recorder: HarRecorder, out_dir: Path, s: Scenario, kind: str, idp) -> Recording:
    c = CONNECTORS[s.connector]
    name = f"{s.name}.{kind}"
    metadata_path = None
    if idp is not None:
        metadata_path = out_dir / f"{name}.idp-metadata.xml"
        metadata_path.write_bytes(_metadata_atlan_holds(idp, c, _signing_key(c, s.atlan_trusts_key)))
    stand_ins = _stand_ins(s, c, idp, _service_provider(s, c))
    har = recorder.record(name, _start_url(s, c, stand_ins), stand_ins, USER if idp else None,
                          preserve_log=s.preserve_log)
    return Recording(s, kind, har, metadata_path)
