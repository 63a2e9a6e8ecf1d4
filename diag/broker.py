"""Atlan's login as its Keycloak SAML broker handles it: the ordered steps, each with pass / fail / undecided.

Atlan's login is Keycloak 20.0.2 (public fork ``atlanhq/keycloak-identity``, branch 20.0.2). Its SAML broker
(``SAMLEndpoint``) checks a Response in a fixed order and stops at the first failure, showing one page of the base
login theme and logging one event. This module replays that order on the evidence: which step stops the login, the
page the user sees there, the event Keycloak logs, why, and the fix; and which later steps would fail too.

A step that the evidence cannot decide (no trusted certificate, no login time, an unknown tenant setting) says so
and never passes. Tenant settings come from ``--keycloak-idp`` (:mod:`ssodiag.diag.keycloak_config`); without it
Keycloak's defaults apply, plus the assumptions listed in :func:`assumed_config`, which the report names.

Sources are cited as ``FILE:LINES`` of the fork at commit 3df81692 (:func:`source_url` turns them into links).
"""
from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from msgspec import Struct, field
from msgspec.structs import replace

from ssodiag.diag.certs import Validity, validity_at
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import (
    Assertion, Certificate, Evidence, MessageKind, SamlMessage, SignatureVerdict,
)
from ssodiag.diag.signature import is_sha1, keyinfo_trusted
from ssodiag.diag.timefmt import as_utc, format_instant
from ssodiag.diag.urls import quoted
from ssodiag.diag.xmlparse import NS

BROKER_STOP_CHECK = "KC010"  # the check that reports the stop (checks.broker); the verdict quotes it in full
FORK = "https://github.com/atlanhq/keycloak-identity/blob/3df81692/"
_PATHS = {
    "SAMLEndpoint.java": "services/src/main/java/org/keycloak/broker/saml/SAMLEndpoint.java",
    "SAMLIdentityProviderConfig.java": "services/src/main/java/org/keycloak/broker/saml/SAMLIdentityProviderConfig.java",
    "SAMLIdentityProvider.java": "services/src/main/java/org/keycloak/broker/saml/SAMLIdentityProvider.java",
    "IdentityBrokerService.java": "services/src/main/java/org/keycloak/services/resources/IdentityBrokerService.java",
    "SessionCodeChecks.java": "services/src/main/java/org/keycloak/services/resources/SessionCodeChecks.java",
    "SamlService.java": "services/src/main/java/org/keycloak/protocol/saml/SamlService.java",
    "ConditionsValidator.java": "saml-core/src/main/java/org/keycloak/saml/validators/ConditionsValidator.java",
    "DestinationValidator.java": "saml-core/src/main/java/org/keycloak/saml/validators/DestinationValidator.java",
    "XMLSignatureUtil.java": "saml-core/src/main/java/org/keycloak/saml/processing/core/util/XMLSignatureUtil.java",
    "AssertionUtil.java": "saml-core/src/main/java/org/keycloak/saml/processing/core/saml/v2/util/AssertionUtil.java",
    "SAMLResponseParser.java": "saml-core/src/main/java/org/keycloak/saml/processing/core/parsers/saml/protocol/"
                               "SAMLResponseParser.java",
    "SAMLAssertionParser.java": "saml-core/src/main/java/org/keycloak/saml/processing/core/parsers/saml/assertion/"
                                "SAMLAssertionParser.java",
    "SAMLAudienceRestrictionParser.java": "saml-core/src/main/java/org/keycloak/saml/processing/core/parsers/saml/"
                                          "assertion/SAMLAudienceRestrictionParser.java",
    "IdentityBrokerState.java": "server-spi-private/src/main/java/org/keycloak/broker/provider/util/"
                                "IdentityBrokerState.java",
    "UserAttributeMapper.java": "services/src/main/java/org/keycloak/broker/saml/mappers/UserAttributeMapper.java",
    "IdpReviewProfileAuthenticator.java": "services/src/main/java/org/keycloak/authentication/authenticators/broker/"
                                          "IdpReviewProfileAuthenticator.java",
    "IdpCreateUserIfUniqueAuthenticator.java": "services/src/main/java/org/keycloak/authentication/authenticators/"
                                               "broker/IdpCreateUserIfUniqueAuthenticator.java",
    "messages_en.properties": "themes/src/main/resources/theme/base/login/messages/messages_en.properties",
    "KeycloakErrorHandler.java": "services/src/main/java/org/keycloak/services/error/KeycloakErrorHandler.java",
}


@lru_cache(maxsize=256)
def source_url(cite: str) -> str:
    """``SAMLEndpoint.java:633-639`` -> a link to those lines of the fork (first file of a ``;`` list, first range
    of a ``,`` list: an anchor holds one range)."""
    first = cite.split(";")[0].strip()
    name, _, lines = first.partition(":")
    lines = lines.split(",")[0].strip()
    path = _PATHS.get(name, name)
    start, _, end = lines.partition("-")
    anchor = f"#L{start}" + (f"-L{end}" if end else "") if start else ""
    return FORK + path + anchor


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNDECIDED = "undecided"  # the evidence cannot tell; never counted as a pass
    NOT_APPLICABLE = "n/a"  # the step does not run for this login (e.g. InResponseTo for an IdP-initiated one)


class Page(Struct, frozen=True):
    """What the browser shows when the broker stops: a base-theme message (messages_en.properties)."""

    key: str
    text: str
    http: int
    form: str = "error.ftl"


def _page(key: str, text: str, http: int = 400, form: str = "error.ftl") -> Page:
    return Page(key, text, http, form)


@lru_cache(maxsize=256)
def sentence_pattern(text: str) -> re.Pattern[str]:
    """Match a theme sentence in page text, its {0} placeholders as wildcards, ignoring case and spacing."""
    parts = [re.escape(p) for p in re.split(r"\{\d\}", text)]
    body = r"\s+".join(".{1,200}?".join(parts).split(r"\ "))
    return re.compile(body + (r"(?!\w)" if text[-1].isalnum() else ""), re.I)  # "Invalid request" ≠ "…requester"


def pages_in(text: str) -> list[Page]:
    """The broker pages whose sentence appears in a captured page's text."""
    return [page for page in PAGE_STEPS if sentence_pattern(page.text).search(text)]


# The broker's pages (messages_en.properties line in the comment); KC001 recognises these and more.
HTTPS_REQUIRED = _page("httpsRequiredMessage", "HTTPS required")  # 306
INVALID_REQUEST = _page("invalidRequestMessage", "Invalid Request")  # 308
INVALID_RESPONSE = _page("identityProviderInvalidResponseMessage", "Invalid response from identity provider.")  # 339
INVALID_SIGNATURE = _page("identityProviderInvalidSignatureMessage",
                          "Invalid signature in response from identity provider.")  # 340
INVALID_REQUESTER = _page("invalidRequesterMessage", "Invalid requester")  # 318
LOGIN_TIMEOUT = _page("expiredCodeMessage", "Login timeout. Please sign in again.")  # 217
CLIENT_NOT_FOUND = _page("clientNotFoundMessage", "Client not found.")
INTERNAL_ERROR = _page("internalServerError", "An internal server error has occurred", 500)  # 402
UNEXPECTED_IDP_ERROR = _page("identityProviderUnexpectedErrorMessage",
                             "Unexpected error when authenticating with identity provider", 200, "login.ftl")  # 337
UPDATE_PROFILE = _page("loginIdpReviewProfileTitle", "Update Account Information", 200, "login-update-profile.ftl")
ACCOUNT_EXISTS = _page("confirmLinkIdpTitle", "Account already exists", 200, "login-idp-link-confirm.ftl")
SESSION_PAGES = _page("(session check)", "Page has expired / Your login attempt timed out. Login will start from the "
                      "beginning. / Cookie not found. Please make sure cookies are enabled in your browser.")

# Which steps can show each page: a captured page is compared with the predicted one through this.
PAGE_STEPS: dict[Page, tuple[int, ...]] = {
    HTTPS_REQUIRED: (1,), INVALID_RESPONSE: (4,), INVALID_REQUEST: (5, 6, 8), INVALID_SIGNATURE: (7,),
    CLIENT_NOT_FOUND: (8,), INVALID_REQUESTER: (11, 13, 14, 15, 17, 18), LOGIN_TIMEOUT: (19,),
    INTERNAL_ERROR: (7, 8, 12, 16, 18), UNEXPECTED_IDP_ERROR: (9, 10), UPDATE_PROFILE: (21,),
    ACCOUNT_EXISTS: (22,),
}

# Atlan's IdP-initiated client: its "IdP-initiated SSO URL name" is `atlan-saml` (Atlan's SSO guides give
# `…/broker/ALIAS/endpoint/clients/atlan-saml` as the IdP-initiated ACS URL).
ATLAN_IDP_INITIATED_CLIENT = "atlan-saml"
REALM = "default"
_BROKER_PATH = re.compile(r"/realms/(?P<realm>[^/]+)/broker/(?P<alias>[^/]+)/endpoint(?:/clients/(?P<client>[^/?#]+))?"
                          r"/?$")
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
# Where the broker takes the email from, besides an emailAddress NameID (SAMLEndpoint.java:554-558):
EMAIL_ATTRIBUTE_NAME = "urn:oid:1.2.840.113549.1.9.1"
EMAIL_FRIENDLY_NAME = "email"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
_SAML = NS["saml"]


# --------------------------------------------------------------------------- configuration


class AttributeMapper(Struct, frozen=True):
    """A SAML Attribute Importer (``saml-user-attribute-idp-mapper``): SAML attribute -> user property."""

    name: str  # the mapper's name in the admin console
    attribute: str  # attribute.name, else attribute.friendly.name (UserAttributeMapper.java:158-164)
    user_attribute: str  # email, firstName, lastName or a custom attribute
    kind: str = "saml-user-attribute-idp-mapper"


class BrokerConfig(Struct, frozen=True):
    """The identity provider's settings as the broker reads them; ``None`` where the setting is not known."""

    origin: str  # where the settings come from, said in the report
    alias: str | None = None
    enabled: bool = True
    validate_signature: bool = True
    signing_certificates: tuple[Certificate, ...] | None = None  # None: not given; the user's trust stands in
    unreadable_certificates: tuple[str, ...] = ()  # configured values that are no certificate (500 at step 7)
    idp_entity_id: str | None = None  # None: not known; "": not set, so no Issuer check
    allowed_clock_skew: int = 0
    want_assertions_signed: bool = False
    want_assertions_encrypted: bool = False
    principal_type: str = "SUBJECT"  # SUBJECT, ATTRIBUTE or FRIENDLY_ATTRIBUTE
    principal_attribute: str | None = None
    post_binding_response: bool = False
    sso_url: str | None = None
    sp_entity_id: str | None = None  # the SP entityId setting; None: Keycloak's default, the realm URL
    mappers: tuple[AttributeMapper, ...] | None = None  # None: not known
    other_mappers: tuple[str, ...] = ()  # names of mappers of other kinds (roles, username template, ...)
    assumptions: tuple[str, ...] = ()  # settings taken as assumed rather than read, each as a sentence
    from_tenant: bool = False


def assumed_config(idp_entity_id: str | None, alias: str | None) -> BrokerConfig:
    """Keycloak 20.0.2's defaults (SAMLIdentityProviderConfig.java), plus what Atlan's setup changes."""
    assumptions = [
        "signature validation is on (Keycloak's default is off, SAMLIdentityProviderConfig.java:106-108, but "
        "Atlan's SSO guides name the \"Invalid signature\" error, which only validation produces)",
        "the signing certificates are the IdP certificates you gave (--idp-metadata, --idp-cert)",
        "allowed clock skew 0 s, assertions neither required signed nor encrypted, principal = the NameID "
        "(Keycloak's defaults)",
        "Atlan's attribute importers read `email`, `firstName` and `lastName` (the names Atlan's SSO guides require)",
    ]
    if idp_entity_id:
        assumptions.append(f"the Identity Provider Entity ID is {quoted(idp_entity_id)}, the IdP's entity ID you "
                           "gave (importing IdP metadata sets it)")
    mappers = tuple(AttributeMapper(f"{a} importer (assumed)", a, a) for a in ("email", "firstName", "lastName"))
    return BrokerConfig(origin="Keycloak 20.0.2 defaults and Atlan's documented setup (no --keycloak-idp given)",
                        alias=alias, idp_entity_id=idp_entity_id, mappers=mappers, assumptions=tuple(assumptions))


# --------------------------------------------------------------------------- what one login looks like


class Login(Struct, frozen=True):
    """One Response as the broker receives it, with what the rest of the evidence says about its delivery."""

    message: SamlMessage
    posted_to: str | None  # the URL it was delivered to (HAR), else None
    at: datetime | None  # when it arrived (--at, else the capture time); None: unknown
    request_id: str | None  # the AuthnRequest ID the auth session holds (last one sent), None: not known
    request_relay_state: str | None  # the RelayState Keycloak sent with that AuthnRequest, when captured
    sp_entity_id: str | None  # the SP entity ID the broker accepts as Audience
    acs_urls: tuple[str, ...] = ()  # Atlan's ACS URLs, when known (to judge a Destination without a HAR)
    trusted: tuple[Certificate, ...] = ()  # the certificates the user gave (stand in for the tenant's)

    @property
    def endpoint(self) -> str | None:
        """Where the broker is reached: the delivery URL, else the Destination (where the IdP posts it)."""
        return self.posted_to or self.message.destination

    @property
    def idp_initiated_client(self) -> str | None:
        match = _broker_match(self.endpoint)
        return match.group("client") if match else None

    @property
    def relay_state_known(self) -> bool:
        """The RelayState that came with the Response is known from a capture of its delivery, or when given with
        it; a message pasted alone (its XML, or the SAMLResponse value copied from the browser) says nothing of it."""
        return self.message.binding in ("post", "redirect") and (self.posted_to is not None
                                                                 or self.message.relay_state is not None)


def _broker_match(url: str | None) -> re.Match[str] | None:
    if not url:
        return None
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    return _BROKER_PATH.search(path)


# Keycloak's pages of the first broker login and of post-login flows: the browser reaches them only after the broker
# endpoint accepted a Response (IdentityBrokerService.authenticated redirects there).
_AFTER_ACCEPTED_RESPONSE = LazyRegex(r"/realms/[^/]+/login-actions/(?:first-broker-login|post-broker-login|"
                                     r"after-first-broker-login)/?$")


def after_accepted_response(url: str | None) -> bool:
    """Whether ``url`` is a Keycloak page reached only after its broker accepted an IdP's Response."""
    try:
        return bool(url and _AFTER_ACCEPTED_RESPONSE.search(urlsplit(url.strip()).path))
    except ValueError:
        return False


def is_broker_url(url: str | None) -> bool:
    """A Keycloak SAML broker endpoint: ``…/realms/REALM/broker/ALIAS/endpoint[/clients/NAME]``."""
    return _broker_match(url) is not None


def delivery_url(evidence: Evidence, index: int) -> str | None:
    """The request URL (without query) that delivered message ``index`` in a capture, if a flow shows it: the
    last request carrying it. The page that handed it on (an IdP's auto-submitting form) did not deliver it: when
    the capture lost the POST that did, where it was posted is not known."""
    hops = [hop for flow in evidence.flows for hop in flow.hops if hop.message_index == index and not hop.hands_on]
    return hops[-1].url.split("?", 1)[0].split("#", 1)[0] if hops else None


# --------------------------------------------------------------------------- results


class StepResult(Struct, frozen=True):
    """What one step of the broker does with this login (its Outcome), why, and the fix when the step stops it."""

    number: int
    name: str
    outcome: Outcome
    because: str  # a full sentence
    page: Page | None = None  # what the user sees when this step stops the login
    event: str | None = None  # Keycloak's event error / reason, e.g. "invalid_signature"
    fix: str = ""
    cite: str = ""
    aspects: frozenset[str] = field(default_factory=frozenset)  # which of the step's rules failed, when it has several ("time", ...)


class Prediction(Struct, frozen=True, dict=True):  # dict: room for its cached_property values
    """The broker's steps for one Response, in order."""

    source: str  # the Response's source, as findings name it
    steps: tuple[StepResult, ...]
    config: BrokerConfig

    @property
    def stop(self) -> StepResult | None:
        return next((s for s in self.steps if s.outcome is Outcome.FAIL), None)

    @property
    def undecided_before_stop(self) -> tuple[StepResult, ...]:
        stop = self.stop
        limit = stop.number if stop else 10 ** 6
        return tuple(s for s in self.steps if s.outcome is Outcome.UNDECIDED and s.number < limit)

    @property
    def later_failures(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if s.outcome is Outcome.FAIL)[1:]

    def step(self, number: int) -> StepResult | None:
        return self._by_number.get(number)

    @cached_property
    def _by_number(self) -> dict[int, StepResult]:
        return {s.number: s for s in self.steps}


# --------------------------------------------------------------------------- steps


class _Step(Struct, frozen=True):
    """One step of the broker's handling of a Response, and the function that judges it."""

    number: int
    name: str
    cite: str
    judge: Callable[[Login, BrokerConfig], StepResult]


def _result(step: _Step, outcome: Outcome, because: str, page: Page | None = None, event: str | None = None,
            fix: str = "") -> StepResult:
    return StepResult(step.number, step.name, outcome, because, page if outcome is not Outcome.PASS else None,
                      event if outcome is not Outcome.PASS else None, fix, step.cite)


STEPS: list[_Step] = []


def _step(number: int, name: str, cite: str):
    def register(func: Callable[[_Step, Login, BrokerConfig], StepResult]):
        holder: dict[str, _Step] = {}
        spec = _Step(number, name, cite, lambda login, config: func(holder["step"], login, config))
        holder["step"] = spec
        STEPS.append(spec)
        return func
    return register


def _has_any_signature(msg: SamlMessage) -> bool:
    """"The message carries a signature": POST, any ds:Signature anywhere; Redirect, SigAlg and Signature
    (SAMLEndpoint.java:700-703, 737-742)."""
    if msg.binding == "redirect":
        return msg.redirect_signature is not None
    root = msg.root
    return root is not None and root.find(".//ds:Signature", NS) is not None


def _first_assertion(msg: SamlMessage) -> Assertion | None:
    """Only the first assertion counts (SAMLEndpoint.java:487)."""
    return msg.assertions[0] if msg.assertions else None


def _encrypted_assertions(msg: SamlMessage) -> int:
    return sum(1 for p in msg.encrypted_parts if p.element == "EncryptedAssertion")


@_step(1, "HTTPS", "SAMLEndpoint.java:213-226")
def _https(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    url = login.posted_to
    if not url:
        return _result(step, Outcome.UNDECIDED, "The capture does not show the URL the Response was posted to.")
    parts = urlsplit(url)
    if parts.scheme.lower() == "https":
        return _result(step, Outcome.PASS, f"The Response was posted over https ({quoted(url)}).")
    host = parts.hostname or ""
    try:
        private = host == "localhost" or ipaddress.ip_address(host).is_private
    except ValueError:
        private = False
    if private:
        return _result(step, Outcome.UNDECIDED, f"The Response was posted over http to the private address "
                       f"{quoted(host)}; the realm's default SSL setting (external requests) allows that.")
    return _result(step, Outcome.FAIL, f"The Response was posted over plain http ({quoted(url)}).", HTTPS_REQUIRED,
                   "ssl_required", "Register Atlan's https ACS URL in the IdP; behind a proxy, make Keycloak see the "
                   "public https URL (X-Forwarded-Proto).")


_URI_ILLEGAL = LazyRegex(r"[\s<>\"{}|\\^`]|%(?![0-9A-Fa-f]{2})")


@_step(4, "Parse the SAMLResponse", "SAMLEndpoint.java:624-630; SAMLResponseParser.java:53-54; "
                                    "SAMLAssertionParser.java:51-52; SAMLAudienceRestrictionParser.java:52-54")
def _parse(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    missing = [f"the Response's {name}" for name, value in (("ID", msg.id), ("IssueInstant", _raw(msg.root, "IssueInstant")))
               if not value]
    for index, assertion in enumerate(msg.assertions):
        missing += [f"assertion {index + 1}'s {name}" for name, value in
                    (("ID", assertion.id), ("IssueInstant", _raw(assertion.element, "IssueInstant"))) if not value]
    bad_audiences = [a for a in _audience_restrictions(msg) for a in a if _URI_ILLEGAL.search(a)]
    problems = [f"no {m}" for m in missing] + [f"Audience {quoted(a)} is not a URI" for a in bad_audiences]
    if problems:
        return _result(step, Outcome.FAIL, f"Keycloak's SAML parser refuses the document: {'; '.join(problems)}.",
                       INVALID_RESPONSE, "invalid_saml_response / invalid_saml_document",
                       "Have the IdP send a standard SAML 2.0 Response (ID and IssueInstant on the Response and the "
                       "Assertion, URIs as Audience values).")
    return _result(step, Outcome.PASS, "The Response decodes and parses: IDs, IssueInstants and Audience URIs are "
                   "present and well formed.")


def _raw(element, attribute: str) -> str | None:
    return element.get(attribute) if element is not None else None


def _audience_restrictions(msg: SamlMessage) -> list[list[str]]:
    """The Audience values of each AudienceRestriction of the first assertion, kept apart (ConditionsValidator
    judges each restriction on its own, ConditionsValidator.java:191-204)."""
    assertion = _first_assertion(msg)
    if assertion is None or assertion.element is None:
        return []
    return [[(a.text or "").strip() for a in r.findall("saml:Audience", NS)]
            for r in assertion.element.findall("saml:Conditions/saml:AudienceRestriction", NS)]


@_step(5, "Destination present on a signed message", "SAMLEndpoint.java:633-639")
def _destination_present(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    if msg.destination:
        return _result(step, Outcome.PASS, f"The Response names Destination {quoted(msg.destination)}.")
    if not _has_any_signature(msg):
        return _result(step, Outcome.PASS, "The Response has no Destination, which Keycloak allows because the "
                       "message carries no signature at all.")
    where = "in the query string (SigAlg, Signature)" if msg.binding == "redirect" else \
        "in the document (a ds:Signature, on the Response or inside the Assertion)"
    return _result(step, Outcome.FAIL, f"The Response has no Destination but carries a signature {where}; Keycloak "
                   "requires a Destination on any signed message.", INVALID_REQUEST,
                   "invalid_logout_response / missing_required_destination",
                   "Configure the IdP to put Atlan's ACS URL in the Response's Destination attribute (Okta: \"Use "
                   "this for Recipient URL and Destination URL\").")


def _java_uri_equal(a: str, b: str) -> bool:
    """java.net.URI equality after DestinationValidator's default-port normalisation (DestinationValidator.java:
    90-134): scheme and host ignore case; path, query and fragment are exact."""
    try:
        x, y = urlsplit(a.strip()), urlsplit(b.strip())
        ports = {"http": 80, "https": 443}
        xp = x.port or ports.get(x.scheme.lower())
        yp = y.port or ports.get(y.scheme.lower())
    except ValueError:
        return a == b
    return (x.scheme.lower(), (x.hostname or ""), xp, x.path, x.query, x.fragment) == \
        (y.scheme.lower(), (y.hostname or ""), yp, y.path, y.query, y.fragment)


# Microsoft Defender for Cloud Apps session proxy: the browser posts to `<host>.mcas.ms`, and the proxy forwards the
# request to `<host>`, which is the URL Keycloak computes (https://learn.microsoft.com/defender-cloud-apps/
# proxy-intro-aad).
_MCAS_HOST = LazyRegex(r"^(?P<host>[^/:]+?)(?:\.mcas\.ms)+(?::\d+)?$", re.I)


def keycloak_view(url: str) -> str:
    """The URL Keycloak sees for a request the browser sent to ``url``: the proxy suffix removed (twice when a
    proxied URL was registered and proxied again)."""
    parts = urlsplit(url)
    match = _MCAS_HOST.match(parts.netloc)
    return parts._replace(netloc=match.group("host")).geturl() if match else url


def expected_destination(login: Login) -> tuple[str | None, str]:
    """(the URL Keycloak expects as Destination, how we know it): the delivery URL's path for both endpoints
    (SAMLEndpoint.java:690-695; Urls.java:73-77), else Atlan's ACS URL of the same kind."""
    if login.posted_to:
        seen = keycloak_view(login.posted_to)
        return seen, "the URL it was posted to" if seen == login.posted_to else \
            "the URL it was posted to, as Keycloak sees it behind the Defender for Cloud Apps proxy"
    dest = login.message.destination or ""
    idp_initiated = _broker_match(dest) is not None and _broker_match(dest).group("client") is not None
    for url in login.acs_urls:
        match = _broker_match(url)
        if match is not None and (match.group("client") is not None) == idp_initiated:
            return url, "Atlan's ACS URL"
    return None, ""


@_step(6, "Destination is the ACS URL", "SAMLEndpoint.java:640-645; DestinationValidator.java:34, 90-134")
def _destination_matches(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    dest = login.message.destination
    if not dest:
        return _result(step, Outcome.PASS, "No Destination to compare (allowed for an unsigned message).")
    expected, how = expected_destination(login)
    if expected is None:
        return _result(step, Outcome.UNDECIDED, f"Destination {quoted(dest)} cannot be compared: neither the URL it "
                       "was posted to (a HAR) nor Atlan's ACS URL (--atlan/--alias or --keycloak-idp) is known.")
    if _java_uri_equal(dest, expected):
        return _result(step, Outcome.PASS, f"Destination {quoted(dest)} equals {how}.")
    return _result(step, Outcome.FAIL, f"Destination {quoted(dest)} is not {how} {quoted(expected)}; Keycloak "
                   "compares them as URIs (a trailing slash, path case or query string makes them differ).",
                   INVALID_REQUEST, "invalid_saml_response / invalid_destination",
                   f"Set the IdP app's ACS / Destination URL to exactly {quoted(expected)}; behind a proxy, make "
                   "Keycloak see the public https host (X-Forwarded-Proto / Host).")


def keycloak_keys(login: Login, config: BrokerConfig) -> tuple[tuple[Certificate, ...], tuple[Certificate, ...], str]:
    """(certificates Keycloak uses, certificates it drops as expired / not yet valid, where they come from)
    (SAMLEndpoint.java:252-269: each configured certificate must pass checkValidity(), others are ignored)."""
    if config.signing_certificates is not None:
        certs, origin = config.signing_certificates, "the tenant's configured signing certificates"
    else:
        certs, origin = login.trusted, "the IdP certificates you gave (standing in for the tenant's)"
    if login.at is None:
        return certs, (), origin
    usable = tuple(c for c in certs if validity_at(c, login.at) in (Validity.VALID, Validity.EXPIRING))
    return usable, tuple(c for c in certs if c not in usable), origin


@_step(7, "Document signature", "SAMLEndpoint.java:646-655, 252-269, 706-715; XMLSignatureUtil.java:426-469")
def _document_signature(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    fail = lambda because, fix: _result(step, Outcome.FAIL, because, INVALID_SIGNATURE, "invalid_signature", fix)
    if not config.validate_signature:
        return _result(step, Outcome.PASS, "Signature validation is off in the tenant's settings, so Keycloak "
                       "verifies no signature (see the configuration findings).")
    if config.unreadable_certificates:
        return _result(step, Outcome.FAIL, "A configured signing certificate cannot be read, so building the key "
                       "list throws.", INTERNAL_ERROR, "(exception)", "Paste the IdP's signing certificate again "
                       "(base64 DER or PEM) in Atlan's SSO settings.")
    if msg.binding == "redirect":
        return _redirect_signature(step, login, config)
    has_assertion = bool(msg.assertions) or _encrypted_assertions(msg) > 0
    if not _has_any_signature(msg) and has_assertion:
        return _result(step, Outcome.PASS, "The document carries no signature and holds an assertion, so Keycloak "
                       "leaves the signature to the assertion step (15).")
    if not _has_any_signature(msg):
        return fail("The Response carries no signature and no assertion (an error Response): with validation on "
                    "Keycloak refuses it here, and the IdP's StatusMessage is never shown.",
                    "Read the IdP's own log or the Response's StatusCode for the real error; have the IdP sign error "
                    "Responses too.")
    keys, dropped, origin = keycloak_keys(login, config)
    report = msg.signature
    weak = sorted({u for e in report.signed_elements for u in (e.algorithm, e.digest_algorithm) if is_sha1(u)})
    if not keys and dropped:
        shown = "; ".join(f"{quoted(c.subject)} valid {format_instant(c.not_before)} to "
                          f"{format_instant(c.not_after)}" for c in dropped)
        return fail(f"Every one of {origin} is expired or not yet valid at the login ({shown}); Keycloak drops such "
                    "certificates without a word, so no signature can verify.",
                    "Upload the IdP's current signing certificate (or metadata) in Atlan's SSO settings.")
    if not keys:
        return _result(step, Outcome.UNDECIDED, "No certificate is known to verify the signature with: give "
                       "--keycloak-idp (the tenant's settings) or --idp-metadata / --idp-cert.")
    verdict = report.verdict
    sha1 = lambda lead: _result(
        step, Outcome.UNDECIDED, f"{lead} SHA-1 ({', '.join(weak)}): rejected if "
        "Atlan's Keycloak runs on Java 17 or later (its secure-validation policy forbids SHA-1), accepted on Java 11; "
        "the runtime is not public.", INVALID_SIGNATURE, "invalid_signature",
        "Switch the IdP's signature and digest algorithms to SHA-256.")
    if msg.sanitized and keyinfo_trusted(report, keys) is False:  # whether it verifies is unknown, KeyInfo is read
        shown = "; ".join(quoted(c.subject) for c in report.embedded_certificates)
        if keyinfo_trusted(report, dropped):  # configured, but dropped as the original's verifying signer would be
            return fail(f"The message's KeyInfo carries {shown}, one of {origin} that Keycloak does not use at the "
                        "login instant (expired or not yet valid; the signature itself is not checked: a sanitized "
                        "capture).", "Upload the IdP's current signing certificate in Atlan's SSO settings.")
        return fail(f"The message's KeyInfo carries {shown}, which is none of {origin} (the signature itself is not "
                    "checked: a sanitized capture): the IdP signs with another certificate (a rotation).",
                    "Upload the IdP's current signing certificate (or metadata) in Atlan's SSO settings; during a "
                    "rollover keep both.")
    if msg.sanitized and weak:  # whether it verifies is unknown, the algorithm is still read
        return sha1("The signature (not checked: a sanitized capture) is made with")
    if verdict is SignatureVerdict.VALID:
        signer = report.signing_certificate
        if signer is not None and signer.sha256 not in {c.sha256 for c in keys}:
            return fail(f"The signature verifies only with {quoted(signer.subject)}, which Keycloak does not use at "
                        f"the login instant (expired, not yet valid, or not among {origin}).",
                        "Upload the IdP's current signing certificate in Atlan's SSO settings.")
        if weak:
            return sha1("The signature verifies, but with")
        return _result(step, Outcome.PASS, f"Every signature in the document verifies with {origin}.")
    if verdict is SignatureVerdict.UNTRUSTED:
        return fail(f"The signature is made with a key that none of {origin} holds: the IdP signs with another "
                    "certificate (a rotation).", "Upload the IdP's current signing certificate (or metadata) in "
                    "Atlan's SSO settings; during a rollover keep both.")
    if verdict is SignatureVerdict.INVALID:
        return fail(f"A signature in the document does not verify ({report.reason}); Keycloak verifies every "
                    "signature in the document.", "Capture the Response unmodified; if it still fails, the IdP "
                    "signed with another key or a proxy rewrote the message.")
    if verdict is SignatureVerdict.UNSUPPORTED:
        return fail("The signature uses an algorithm Keycloak's XML signature provider cannot evaluate.",
                    "Set the IdP's signature algorithm to RSA-SHA256.")
    if verdict is SignatureVerdict.WRAPPING:
        return _result(step, Outcome.UNDECIDED, "The document is built like a signature-wrapping attack; Keycloak "
                       "20.0.2 judges what a signature covers by its position (CVE-2024-8698), so whether it "
                       "accepts this shape is not predicted. Treat the message as hostile.")
    return _result(step, Outcome.UNDECIDED, f"The signature could not be judged: {report.reason}.")


def _redirect_signature(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    """HTTP-Redirect: a query signature over SAMLResponse, RelayState, SigAlg is mandatory (SamlProtocolUtils.java:
    150-191), and two or more configured certificates always fail (getKey returns null)."""
    keys, _dropped, _origin = keycloak_keys(login, config)
    if login.message.redirect_signature is None:
        return _result(step, Outcome.FAIL, "The Response came by HTTP-Redirect without SigAlg and Signature; Keycloak "
                       "requires the query signature.", INVALID_SIGNATURE, "invalid_signature",
                       "Have the IdP post the Response (HTTP-POST binding) or sign the redirect.")
    if len(keys) >= 2:
        return _result(step, Outcome.FAIL, "The Response came by HTTP-Redirect and the tenant holds several signing "
                       "certificates; Keycloak then finds no single key and the signature always fails.",
                       INVALID_SIGNATURE, "invalid_signature", "Use the HTTP-POST binding, or keep one certificate.")
    verdict = login.message.signature.verdict
    if verdict is SignatureVerdict.VALID:
        return _result(step, Outcome.PASS, "The redirect signature verifies.")
    if verdict in (SignatureVerdict.INVALID, SignatureVerdict.UNTRUSTED):
        return _result(step, Outcome.FAIL, f"The redirect signature does not verify with a configured key "
                       f"({login.message.signature.reason}).", INVALID_SIGNATURE, "invalid_signature",
                       "Upload the IdP's current signing certificate in Atlan's SSO settings.")
    return _result(step, Outcome.UNDECIDED, f"The redirect signature could not be judged: "
                   f"{login.message.signature.reason}.")


STATE_PART = LazyRegex(r"[A-Za-z0-9_-]+")  # a session code and a tab ID are URL-safe base64 / UUID text


@_step(8, "Login session (RelayState / IdP-initiated client)",
       "SAMLEndpoint.java:413-418, 587-611; IdentityBrokerState.java:65-92; IdentityBrokerService.java:1061-1087")
def _session(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    client = login.idp_initiated_client
    if client is not None:
        if client == ATLAN_IDP_INITIATED_CLIENT:
            return _result(step, Outcome.PASS, f"IdP-initiated login to client `{client}`: Keycloak starts a fresh "
                           "session and ignores the IdP's RelayState.")
        return _result(step, Outcome.FAIL, f"IdP-initiated login to client {quoted(client)}; Atlan's IdP-initiated "
                       f"client is `{ATLAN_IDP_INITIATED_CLIENT}`, so no client has that URL name.", CLIENT_NOT_FOUND,
                       "client_not_found", f"Use `…/endpoint/clients/{ATLAN_IDP_INITIATED_CLIENT}` as the IdP's "
                       "IdP-initiated ACS URL.")
    if login.endpoint is None or not is_broker_url(login.endpoint):
        return _result(step, Outcome.UNDECIDED, "Which broker endpoint received the Response is not known (no "
                       "capture and no Destination naming Atlan's endpoint).")
    if not login.relay_state_known:
        return _result(step, Outcome.UNDECIDED, "The Response was given without the RelayState that came with it "
                       "(give the HAR of the login).")
    relay = login.message.relay_state
    idp_initiated_fix = ("Register `…/endpoint/clients/atlan-saml` as the IdP-initiated ACS URL in the IdP app, or "
                         "start the login from Atlan's login page.")
    if relay is None:
        return _result(step, Outcome.FAIL, "The Response reached the SP-initiated endpoint without a RelayState "
                       "(an IdP-initiated login?). Keycloak splits the missing RelayState and fails with an "
                       "exception (inference from IdentityBrokerState.java:65-92).", INTERNAL_ERROR,
                       "(exception, no event)", idp_initiated_fix)
    if len(relay.split(".")) < 3:
        return _result(step, Outcome.FAIL, f"The RelayState {quoted(relay)} is not Keycloak's own "
                       "`code.tabId.clientId`; an IdP-initiated login posted to the SP-initiated endpoint carries the "
                       "IdP's RelayState.", INVALID_REQUEST, "IDENTITY_PROVIDER_LOGIN_ERROR / invalidRequestMessage",
                       idp_initiated_fix)
    code, tab = relay.split(".")[:2]
    if not (STATE_PART.fullmatch(code) and STATE_PART.fullmatch(tab)):
        return _result(step, Outcome.FAIL, f"The RelayState {quoted(relay)} splits into three parts but is not "
                       "Keycloak's `code.tabId.clientId` (an IdP's own RelayState); the session checks find no "
                       "login for it.", SESSION_PAGES, "(session code check)", idp_initiated_fix)
    if login.request_relay_state is not None:
        if relay == login.request_relay_state:
            return _result(step, Outcome.PASS, "The RelayState is the one Keycloak sent with the AuthnRequest.")
        return _result(step, Outcome.FAIL, f"The RelayState {quoted(relay)} is not the one Keycloak sent with the "
                       f"AuthnRequest ({quoted(login.request_relay_state)}): an old tab or another login attempt; the "
                       "session checks refuse it.", SESSION_PAGES, "(session code check)",
                       "Start the login again from Atlan in one tab.")
    return _result(step, Outcome.UNDECIDED, "The RelayState has Keycloak's shape, but the capture holds no "
                   "AuthnRequest to compare it with; the session checks (cookie, timeout) cannot be judged.")


@_step(9, "Status is Success", "SAMLEndpoint.java:421-424, 614-620; IdentityBrokerService.java:875-889")
def _status(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    status = login.message.status
    if status is not None and status.code == STATUS_SUCCESS:
        return _result(step, Outcome.PASS, "The IdP answered Success.")
    code = (status.code if status else None) or "(none)"
    text = status.message if status and status.message else UNEXPECTED_IDP_ERROR.text
    page = _page("(StatusMessage)" if status and status.message else UNEXPECTED_IDP_ERROR.key, text, 200, "login.ftl")
    return _result(step, Outcome.FAIL, f"The IdP answered {quoted(code.rsplit(':', 1)[-1])}: Keycloak restarts the "
                   "login and shows the StatusMessage on the login page.", page, "(no error event)",
                   "Fix what the IdP refused (its sign-in log names it); see the status finding.")


@_step(10, "An assertion is present", "SAMLEndpoint.java:425-427")
def _assertion_present(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    if login.message.assertions or _encrypted_assertions(login.message):
        return _result(step, Outcome.PASS, "The Response carries an assertion.")
    return _result(step, Outcome.FAIL, "The Response carries no assertion.", UNEXPECTED_IDP_ERROR, "(no error event)",
                   "Configure the IdP to send an assertion with its Success Response.")


@_step(11, "Encrypted assertion when required", "SAMLEndpoint.java:429-436")
def _encryption_required(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    if not config.want_assertions_encrypted:
        return _result(step, Outcome.PASS, "The tenant does not require encrypted assertions.")
    if _encrypted_assertions(login.message) or any(a.decrypted_from for a in login.message.assertions):
        return _result(step, Outcome.PASS, "The assertion is encrypted, as the tenant requires.")
    return _result(step, Outcome.FAIL, "The tenant requires encrypted assertions (Want Assertions encrypted) but "
                   "this one is plain.", INVALID_REQUESTER, "invalid_saml_response",
                   "Enable assertion encryption in the IdP app with Atlan's encryption certificate, or turn off "
                   "\"Want Assertions encrypted\".")


@_step(12, "Decrypt the assertion", "SAMLEndpoint.java:420, 440-442; AssertionUtil.java:591-614")
def _decrypt(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    if not _encrypted_assertions(msg) and not any(a.decrypted_from for a in msg.assertions):
        return _result(step, Outcome.NOT_APPLICABLE, "The assertion is not encrypted.")
    if msg.assertions and msg.assertions[0].decrypted_from is not None:
        return _result(step, Outcome.PASS, "The assertion decrypts with the SP key you gave (Keycloak uses the realm's "
                       "active RSA key; the same key is assumed).")
    return _result(step, Outcome.UNDECIDED, "The assertion is encrypted and was not decrypted here (pass --sp-key); "
                   "Keycloak decrypts with the realm's active RSA key only, and a failure is a 500 page.")


def _issuer_step(step: _Step, config: BrokerConfig, issuer: str | None, what: str) -> StepResult:
    expected = config.idp_entity_id
    if expected is None:
        return _result(step, Outcome.UNDECIDED, f"The tenant's Identity Provider Entity ID is not known (give "
                       f"--keycloak-idp, --idp-entity-id or the IdP metadata), so the {what} Issuer "
                       f"{quoted(issuer or '(none)')} cannot be judged.")
    if expected == "":
        return _result(step, Outcome.PASS, f"The tenant sets no Identity Provider Entity ID, so Keycloak does not "
                       f"check the {what} Issuer.")
    if issuer == expected:
        return _result(step, Outcome.PASS, f"The {what} Issuer is the configured IdP entity ID {quoted(expected)}.")
    seen = quoted(issuer) if issuer else "missing"
    return _result(step, Outcome.FAIL, f"The {what} Issuer is {seen}, not the configured Identity Provider Entity ID "
                   f"{quoted(expected)} (log: \"{what} Issuer validation failed\").", INVALID_REQUESTER,
                   "invalid_saml_response",
                   "Make Atlan's \"Identity Provider Entity ID\" the IdP's entity ID (upload the IdP's current "
                   "metadata), or fix the issuer the IdP sends.")


@_step(13, "Response Issuer", "SAMLEndpoint.java:449-458")
def _response_issuer(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    return _issuer_step(step, config, login.message.issuer, "Response")


@_step(14, "InResponseTo (SP-initiated)", "SAMLEndpoint.java:460-468, 828-887; SAMLIdentityProvider.java:195")
def _in_response_to(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    if login.idp_initiated_client is not None:
        return _result(step, Outcome.NOT_APPLICABLE, "IdP-initiated endpoint: a fresh session, InResponseTo is not "
                       "checked.")
    fix = ("Start the login again from Atlan in one browser tab (a stale tab or a second attempt answers an old "
           "request); for IdP-initiated logins use the `/endpoint/clients/atlan-saml` ACS URL.")
    if login.request_id is None:
        return _result(step, Outcome.UNDECIDED, "The AuthnRequest Keycloak sent is not in the evidence (give the HAR "
                       "of the whole login or --request-id), so InResponseTo cannot be compared.")
    problems = []
    if msg.in_response_to != login.request_id:
        problems.append(f"Response InResponseTo is {quoted(msg.in_response_to) if msg.in_response_to else 'missing'}")
    assertion = _first_assertion(msg)
    if assertion and assertion.subject_confirmations:
        sc_irt = assertion.subject_confirmations[0].in_response_to
        if sc_irt is not None and sc_irt != login.request_id:
            problems.append(f"the first SubjectConfirmationData InResponseTo is {quoted(sc_irt)}")
    if problems:
        return _result(step, Outcome.FAIL, f"Keycloak's login session waits for AuthnRequest "
                       f"{quoted(login.request_id)}, but the {'; '.join(problems)}.", INVALID_REQUESTER,
                       "invalid_saml_response", fix)
    return _result(step, Outcome.PASS, f"The Response answers AuthnRequest {quoted(login.request_id)}.")


@_step(15, "Assertion signature", "SAMLEndpoint.java:470-480; AssertionUtil.java:290-318")
def _assertion_signature(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    assertion = _first_assertion(msg)
    if assertion is None:
        return _result(step, Outcome.UNDECIDED, "The assertion is encrypted and was not decrypted here (pass "
                       "--sp-key), so its signature cannot be seen.")
    fail = lambda because, fix: _result(step, Outcome.FAIL, because, INVALID_REQUESTER, "invalid_signature", fix)
    if config.want_assertions_signed and not assertion.has_signature:
        return fail("The tenant requires signed assertions (Want Assertions signed) and the assertion has no "
                    "signature of its own (a Response signature does not count).",
                    "Have the IdP sign the assertion (or sign both), or turn off \"Want Assertions signed\".")
    if not config.validate_signature:
        return _result(step, Outcome.PASS, "Signature validation is off, so only the presence rule applies.")
    if msg.binding != "redirect" and assertion.decrypted_from is None and _has_any_signature(msg):
        return _result(step, Outcome.NOT_APPLICABLE, "Every signature of a plain POST document, the assertion's "
                       "included, is verified at step 7.")
    if not assertion.has_signature:
        if _has_any_signature(msg):
            return _result(step, Outcome.PASS, "The assertion is unsigned, but the Response signature covers it.")
        return fail("Neither the assertion nor the Response is signed, and the tenant validates signatures.",
                    "Enable signing in the IdP app (sign the assertion, or the whole Response) with RSA-SHA256.")
    signed = [e for e in msg.signature.signed_elements if e.element == "Assertion"]
    if any(e.verified for e in signed):
        keys, _dropped, _origin = keycloak_keys(login, config)
        signer = msg.signature.signing_certificate
        if signer is not None and keys and signer.sha256 not in {c.sha256 for c in keys}:
            return fail("The assertion signature verifies only with a certificate Keycloak does not use at the "
                        "login instant.", "Upload the IdP's current signing certificate in Atlan's SSO settings.")
        return _result(step, Outcome.PASS, "The assertion's signature verifies.")
    if msg.signature.verdict in (SignatureVerdict.INVALID, SignatureVerdict.UNTRUSTED):
        return fail(f"The assertion's signature does not verify with the configured certificates "
                    f"({msg.signature.reason}).", "Upload the IdP's current signing certificate in Atlan's SSO "
                    "settings.")
    return _result(step, Outcome.UNDECIDED, f"The assertion's signature could not be judged: {msg.signature.reason}.")


@_step(16, "Decrypt the NameID", "SAMLEndpoint.java:482-485")
def _encrypted_id(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    assertion = _first_assertion(login.message)
    parts = [p for p in (assertion.encrypted_parts if assertion else ()) if p.element == "EncryptedID"]
    if not parts:
        return _result(step, Outcome.NOT_APPLICABLE, "No EncryptedID.")
    if all(p.decrypted for p in parts):
        return _result(step, Outcome.PASS, "The EncryptedID decrypts with the SP key you gave.")
    return _result(step, Outcome.UNDECIDED, "The NameID is encrypted and was not decrypted here (pass --sp-key); a "
                   "decryption failure in Keycloak is a 500 page.")


@_step(17, "Assertion Issuer", "SAMLEndpoint.java:489-498")
def _assertion_issuer(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    assertion = _first_assertion(login.message)
    if assertion is None:
        return _result(step, Outcome.UNDECIDED, "The assertion is encrypted and was not decrypted here (pass --sp-key).")
    return _issuer_step(step, config, assertion.issuer, "Assertion")


@_step(18, "Principal (the user's identity)", "SAMLEndpoint.java:500-516, 781-826")
def _principal(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    assertion = _first_assertion(login.message)
    if assertion is None:
        return _result(step, Outcome.UNDECIDED, "The assertion is encrypted and was not decrypted here (pass --sp-key).")
    if assertion.element is not None and assertion.element.find("saml:Subject", NS) is None:
        return _result(step, Outcome.FAIL, "The assertion has no Subject, so reading the principal throws.",
                       INTERNAL_ERROR, "(exception)", "Configure the IdP to send a Subject with a NameID.")
    value, expected = principal_of(assertion, config)
    fix = ("Configure the IdP to send a NameID (Entra: \"Unique User Identifier (Name ID)\")" if
           config.principal_type == "SUBJECT" else f"Send the attribute {quoted(config.principal_attribute or '')} "
           "(exact, case-sensitive name), or change the tenant's principal settings")
    if value is None:
        if config.principal_type == "SUBJECT" and any(p.element == "EncryptedID" and not p.decrypted
                                                      for p in assertion.encrypted_parts):
            return _result(step, Outcome.UNDECIDED, "The NameID is encrypted and was not decrypted here.")
        return _result(step, Outcome.FAIL, f"No principal in the assertion; Keycloak expects {expected} (log: \"no "
                       f"principal in assertion; expected: {expected}\").", INVALID_REQUESTER,
                       "invalid_saml_response", fix + ".")
    if not value.strip():
        return _result(step, Outcome.UNDECIDED, f"The principal ({expected}) is empty; whether Keycloak reads an "
                       "empty value as no principal is not predicted.", INVALID_REQUESTER, "invalid_saml_response",
                       fix + ".")
    return _result(step, Outcome.PASS, f"The principal is {quoted(value)} ({expected}); Keycloak stores the username "
                   "lower-cased.")


def principal_of(assertion: Assertion, config: BrokerConfig) -> tuple[str | None, str]:
    """(the principal value, what Keycloak looks for) (SAMLEndpoint.java:781-826): the NameID, or the first value
    of the first attribute whose Name (ATTRIBUTE) or FriendlyName (FRIENDLY_ATTRIBUTE) equals principalAttribute."""
    if config.principal_type == "SUBJECT":
        return (assertion.name_id.value if assertion.name_id else None), "SUBJECT"
    wanted = config.principal_attribute or ""
    by_friendly = config.principal_type == "FRIENDLY_ATTRIBUTE"
    attribute = next((a for a in assertion.attributes
                      if (a.friendly_name if by_friendly else a.name) == wanted), None)
    expected = f"{'FRIENDLY_ATTRIBUTE' if by_friendly else 'ATTRIBUTE'}({wanted})"
    return (attribute.values[0] if attribute and attribute.values else None), expected


_KNOWN_CONDITIONS = {"AudienceRestriction", "OneTimeUse", "ProxyRestriction"}


@_step(19, "Conditions: time window and audience", "ConditionsValidator.java:115-234; SAMLEndpoint.java:527-544")
def _conditions(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    msg = login.message
    assertion = _first_assertion(msg)
    if assertion is None:
        return _result(step, Outcome.UNDECIDED, "The assertion is encrypted and was not decrypted here (pass --sp-key).")
    cond = assertion.conditions
    if cond is None:
        return _result(step, Outcome.PASS, "The assertion has no Conditions; Keycloak accepts that (no time window, "
                       "no audience check).")
    problems, undecided = _condition_problems(login, config, assertion)
    if problems:
        failed = _result(step, Outcome.FAIL, f"{'; '.join(text for _, text in problems)} (Keycloak logs \"Assertion "
                         "expired.\" for every Conditions failure).", LOGIN_TIMEOUT, "invalid_saml_response",
                         "Sync the IdP clock with NTP; make the Audience Atlan's SP entity ID; or raise the tenant's "
                         "allowed clock skew.")
        return replace(failed, aspects=frozenset(aspect for aspect, _ in problems))
    if undecided:
        return _result(step, Outcome.UNDECIDED, "; ".join(undecided) + ".")
    return _result(step, Outcome.PASS, f"The assertion is inside its time window at the login (allowed clock skew "
                   f"{config.allowed_clock_skew} s) and names an accepted audience.")


def _condition_problems(login: Login, config: BrokerConfig, assertion: Assertion,
                        ) -> tuple[list[tuple[str, str]], list[str]]:
    """((aspect, problem) for each failed rule, undecided rules): aspects are "time", "audience", "conditions"."""
    cond = assertion.conditions
    problems: list[tuple[str, str]] = []
    undecided: list[str] = []
    nb, noa = cond.not_before, cond.not_on_or_after
    skew = config.allowed_clock_skew
    if nb is not None and noa is not None and as_utc(nb) >= as_utc(noa):
        problems.append(("time", f"NotBefore {format_instant(nb)} is not before NotOnOrAfter {format_instant(noa)}"))
    elif login.at is None:
        undecided.append("the login time is unknown (give a HAR or --at), so the time window cannot be judged")
    else:
        at = as_utc(login.at)
        seconds = lambda instant: (at - as_utc(instant)).total_seconds()
        if nb is not None and -seconds(nb) > skew:
            problems.append(("time", f"the assertion is not valid until {format_instant(nb)}, {-seconds(nb):.0f} s after the "
                            f"login at {format_instant(at)}, beyond the allowed clock skew of {skew} s (the IdP clock "
                            "runs ahead)"))
        if noa is not None and seconds(noa) >= skew:
            problems.append(("time", f"the assertion expired at {format_instant(noa)}, {seconds(noa):.0f} s before the login "
                            f"at {format_instant(at)} (allowed clock skew {skew} s)"))
    allowed = [a for a in (login.sp_entity_id, login.message.destination) if a]
    for index, audiences in enumerate(_audience_restrictions(login.message)):
        if not audiences:
            problems.append(("audience", f"AudienceRestriction {index + 1} is empty"))
        elif not any(_java_uri_equal(a, b) for a in audiences for b in allowed):
            shown = ", ".join(quoted(a) for a in audiences)
            if login.sp_entity_id is None:
                undecided.append(f"AudienceRestriction {index + 1} names {shown}, not the Destination; Atlan's SP "
                                 "entity ID is not known (give --atlan/--alias or --sp-entity-id)")
            else:
                problems.append(("audience", f"AudienceRestriction {index + 1} names {shown}, neither the SP entity "
                                             f"ID {quoted(login.sp_entity_id)} nor the Response Destination"))
    others = [c for c in (assertion.element.find("saml:Conditions", NS) if assertion.element is not None else ())
              if isinstance(c.tag, str)]
    names = [c.tag.split("}")[-1] for c in others]
    unknown = sorted({n for n in names if n not in _KNOWN_CONDITIONS})
    if unknown:
        problems.append(("conditions", f"unknown condition {', '.join(quoted(n) for n in unknown)}"))
    for once in ("OneTimeUse", "ProxyRestriction"):
        if names.count(once) > 1:
            problems.append(("conditions", f"{once} appears {names.count(once)} times"))
    return problems, undecided


@_step(21, "First login: profile complete", "IdpReviewProfileAuthenticator.java:80-105; SAMLEndpoint.java:519-558; "
                                            "UserAttributeMapper.java:146-197")
def _profile(step: _Step, login: Login, config: BrokerConfig) -> StepResult:
    assertion = _first_assertion(login.message)
    if assertion is None:
        return _result(step, Outcome.UNDECIDED, "The assertion is encrypted and was not decrypted here (pass --sp-key).")
    profile = brokered_profile(assertion, config)
    missing = [k for k in ("email", "firstName", "lastName") if not profile.get(k)]
    if config.mappers is None and missing:
        return _result(step, Outcome.UNDECIDED, f"The tenant's attribute mappers are not known, so whether "
                       f"{', '.join(missing)} reach the profile cannot be judged (give --keycloak-idp).")
    if missing:
        return _result(step, Outcome.UNDECIDED, f"At the user's first login Keycloak lacks {', '.join(missing)} and "
                       "shows the \"Update Account Information\" form (a returning user, already linked, is not "
                       "asked).", UPDATE_PROFILE, "(first broker login: review profile)",
                       "Send `email`, `firstName` and `lastName` (Name or FriendlyName, exact case) from the IdP.")
    return _result(step, Outcome.PASS, f"Keycloak gets username {quoted(profile['username'])}, email "
                   f"{quoted(profile['email'])}, first and last name: no profile form at first login.")


def brokered_profile(assertion: Assertion, config: BrokerConfig) -> dict[str, str]:
    """What Keycloak builds for the user: username = principal (lower-cased when stored), email from an
    emailAddress NameID or the email attribute, then the attribute importers (Name or FriendlyName, exact)."""
    principal, _ = principal_of(assertion, config)
    profile: dict[str, str] = {"username": (principal or "").strip().lower()}
    if assertion.name_id and assertion.name_id.format == NAMEID_EMAIL and assertion.name_id.value.strip():
        profile["email"] = assertion.name_id.value.strip()
    for attribute in assertion.attributes:
        if (attribute.name == EMAIL_ATTRIBUTE_NAME or attribute.friendly_name == EMAIL_FRIENDLY_NAME) \
                and attribute.values and attribute.values[0].strip():
            profile["email"] = attribute.values[0].strip()
    for mapper in config.mappers or ():
        target = {"email": "email", "firstname": "firstName", "lastname": "lastName"}.get(mapper.user_attribute.lower())
        if target is None:
            continue
        values = attribute_values(assertion, mapper.attribute)
        if values and values[0].strip():
            profile[target] = values[0].strip()
    return profile


def attribute_values(assertion: Assertion, name: str) -> list[str]:
    """Every value of every attribute whose Name or FriendlyName equals ``name``, exactly and case-sensitively,
    as Keycloak's SAML attribute mappers match (UserAttributeMapper.java:178-197)."""
    return [v for a in assertion.attributes if name in (a.name, a.friendly_name) for v in a.values]


STEPS.sort(key=lambda s: s.number)

# Once the Response is accepted, the first broker login looks up Atlan's users: that step depends on Atlan's user
# store, which no evidence holds, so only the captured page decides it (and a healthy capture never shows it).
EXISTING_USER_STEP = StepResult(
    22, "First login: no existing Atlan user with this email or username", Outcome.FAIL,
    "The Response passed every SAML step of Atlan's broker, but at this identity's first login an Atlan user with the same email or "
    "username already exists and is not linked to it (a user created or invited before SSO, or a NameID that "
    "changed: usernames are permanent).", ACCOUNT_EXISTS, "federated_identity_account_exists",
    "Make the IdP send the existing Atlan user's username as the NameID, or have the old Atlan user removed so the "
    "SSO login creates it again; usernames in Atlan are permanent.",
    "IdpCreateUserIfUniqueAuthenticator.java")


# --------------------------------------------------------------------------- the prediction


def predict(login: Login, config: BrokerConfig, pages: tuple[str, ...] = ()) -> Prediction:
    """Every step, in the broker's order (later steps are judged too: they fail once the earlier one is fixed).

    ``pages`` are the texts of the error pages the capture holds: an undecided step whose page the user did see
    (SHA-1 refused by a Java 17 runtime, say) did happen, so the capture decides it.
    """
    steps = [step.judge(login, config) for step in STEPS]
    seen = {page for text in pages for page in pages_in(text)}
    for index, result in enumerate(steps):
        if result.outcome is Outcome.FAIL:
            break
        if result.outcome is Outcome.UNDECIDED and result.page in seen:
            steps[index] = replace(result, outcome=Outcome.FAIL,
                                   because=f"{result.because} The captured page shows it happened.")
            break
    else:
        if EXISTING_USER_STEP.page in seen:
            steps.append(EXISTING_USER_STEP)
    return Prediction(login.message.source, tuple(steps), config)


def logins(evidence: Evidence, at_of: Callable[[SamlMessage], datetime | None], request_id: str | None,
           sp_entity_id: str | None, acs_urls: tuple[str, ...], trusted: tuple[Certificate, ...]) -> Iterator[Login]:
    """Each Response of the evidence as the broker receives it. The auth session holds the last AuthnRequest sent
    before the Response (SAMLIdentityProvider.java:195: the next request overwrites it)."""
    last_request: SamlMessage | None = None
    for index, msg in enumerate(evidence.messages):
        if msg.kind is MessageKind.AUTHN_REQUEST:
            last_request = msg
            continue
        if msg.kind is not MessageKind.RESPONSE:
            continue
        sent_id = request_id or (last_request.id if last_request else None)
        posted_to = delivery_url(evidence, index)
        yield Login(message=msg, posted_to=posted_to, at=at_of(msg), request_id=sent_id,
                    request_relay_state=last_request.relay_state if last_request else None,
                    sp_entity_id=sp_entity_id or realm_url(posted_to or msg.destination), acs_urls=acs_urls,
                    trusted=trusted)


def realm_url(url: str | None) -> str | None:
    """Keycloak's default SP entity ID, the realm URL (SAMLIdentityProvider.java:207-214), from a broker URL."""
    match = _broker_match(url)
    if match is None:
        return None
    parts = urlsplit(url.strip())
    path = parts.path[:match.start()] + f"/realms/{match.group('realm')}"
    return f"{parts.scheme}://{parts.netloc}{path}"
