"""The typed model every other module shares: evidence in, findings out.

Everything here is a frozen record (``msgspec.Struct``, see below) or a ``str`` Enum (those live in ``diag.enums``,
re-exported here). Parsing code builds these once (``diag.saml``, ``diag.metadata``, ``diag.certs``, ``diag.har``);
checks only read them; the report document (``reports.document``) turns a :class:`RunResult` into the stable JSON shape.

Records are ``class X(Struct, frozen=True)`` across ssodiag, not frozen dataclasses: a dataclass compiles its generated
methods per class at import (about 0.85 ms a class, 50 ms of every start for ssodiag's records), a Struct is built in C
(0.02 ms) and its instances are made faster too. Change one with ``msgspec.structs.replace``. Equality and hashing use
every field (an lxml element by identity).

Every string held here came from untrusted input: renderers escape it, and the parsers bound it.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import astuple

from ssodiag.diag.enums import (  # noqa: F401  (re-exported: the model's vocabulary)
    Connector, InputKind, Initiation, MessageKind, Severity, SignatureVerdict, Status, VerdictStatus,
)

if TYPE_CHECKING:
    from ssodiag.diag.broker import BrokerConfig, Prediction
    from ssodiag.diag.groupsync import AtlanDirectory, MappingSet, SyncPlan


# --------------------------------------------------------------------------- certificates


class Certificate(Struct, frozen=True):
    """An X.509 certificate as a support engineer needs to see it (fingerprints are upper-case hex, no colons)."""

    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    key_type: str  # "RSA", "EC", "DSA", "Ed25519", ...
    key_bits: int | None
    signature_algorithm: str  # e.g. "sha256WithRSAEncryption"
    sha1: str
    sha256: str
    source: str = ""  # where it came from: a file, "metadata <entityID>", "KeyInfo of Response _abc"
    der: bytes = b""


# --------------------------------------------------------------------------- SAML messages


class NameID(Struct, frozen=True):
    """The Subject's ``<NameID>``: the user's identifier, with its Format and qualifiers."""

    value: str
    format: str | None = None
    sp_name_qualifier: str | None = None
    name_qualifier: str | None = None


# Time attributes are read into ``datetime`` (None when absent or not an xs:dateTime); the ``*_text`` field beside
# one keeps the attribute as written, so a check can show a value that did not parse instead of calling it absent.


class SubjectConfirmation(Struct, frozen=True):
    """One ``<SubjectConfirmation>`` with its ``<SubjectConfirmationData>`` (bearer: recipient, time limit, request)."""

    method: str
    not_before: datetime | None = None
    not_on_or_after: datetime | None = None
    recipient: str | None = None
    in_response_to: str | None = None
    address: str | None = None
    not_on_or_after_text: str | None = None


class AudienceRestriction(Struct, frozen=True):
    """One ``<AudienceRestriction>``: the SP must be among its Audiences, and every restriction must hold
    (SAML core §2.5.1.4), so restrictions are kept apart, never merged."""

    audiences: tuple[str, ...] = ()


class Conditions(Struct, frozen=True):
    """An Assertion's ``<Conditions>``: its validity window and audience restrictions."""

    not_before: datetime | None = None
    not_on_or_after: datetime | None = None
    audience_restrictions: tuple[AudienceRestriction, ...] = ()
    not_before_text: str | None = None
    not_on_or_after_text: str | None = None


class Attribute(Struct, frozen=True):
    """One ``<Attribute>`` of the AttributeStatement, with its values as text."""

    name: str
    name_format: str | None = None
    friendly_name: str | None = None
    values: tuple[str, ...] = ()


class AuthnStatement(Struct, frozen=True):
    """One ``<AuthnStatement>``: when the user authenticated and the IdP session."""

    authn_instant: datetime | None = None
    session_index: str | None = None
    session_not_on_or_after: datetime | None = None
    authn_context_class_ref: str | None = None
    session_not_on_or_after_text: str | None = None


class EncryptedPart(Struct, frozen=True):
    """An EncryptedAssertion / EncryptedID / EncryptedAttribute we could not (or did not) decrypt."""

    element: str  # "EncryptedAssertion", "EncryptedID", "EncryptedAttribute"
    data_algorithm: str | None  # xenc:EncryptionMethod/@Algorithm of the EncryptedData
    key_algorithm: str | None  # of the EncryptedKey, when present
    decrypted: bool = False
    error: str | None = None


class Assertion(Struct, frozen=True):
    """An ``<Assertion>`` as read (or decrypted) from a Response."""

    id: str | None
    issuer: str | None
    issue_instant: datetime | None
    version: str | None
    name_id: NameID | None
    issue_instant_text: str | None = None
    subject_confirmations: tuple[SubjectConfirmation, ...] = ()
    conditions: Conditions | None = None  # None: no <Conditions> element at all
    authn_statements: tuple[AuthnStatement, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    encrypted_parts: tuple[EncryptedPart, ...] = ()
    has_signature: bool = False  # a ds:Signature is a direct child
    decrypted_from: EncryptedPart | None = None  # set when this came out of an EncryptedAssertion
    element: Any = None  # the lxml element, for the trust engine only

    def attribute(self, name: str) -> Attribute | None:
        """First attribute with exactly this Name (SAML names are case-sensitive)."""
        return next((a for a in self.attributes if a.name == name), None)


class StatusInfo(Struct, frozen=True):
    """A Response's ``<Status>``: the top-level and second-level status codes and the message."""

    code: str | None
    sub_code: str | None = None
    message: str | None = None

    @property
    def is_success(self) -> bool:
        return self.code == "urn:oasis:names:tc:SAML:2.0:status:Success"


class SignedElement(Struct, frozen=True):
    """One ds:Signature found in the message and what it covered."""

    element: str  # "Response", "Assertion", "AuthnRequest", ... (local name of the signature's parent)
    element_id: str | None
    reference_uri: str | None
    algorithm: str | None
    digest_algorithm: str | None
    verified: bool  # cryptographically verified with a trusted key
    covers_consumed_data: bool = False  # the data the report shows comes from this signed element
    outcome: str = ""  # the engine's word: verified, intact-untrusted, broken, unsupported, verifiers-disagree, ...
    detail: str = ""  # one line: with which key, or why not


class SignatureReport(Struct, frozen=True):
    """What the trust engine concluded about a message's signatures, and why."""

    verdict: SignatureVerdict = SignatureVerdict.NOT_CHECKED
    signed_elements: tuple[SignedElement, ...] = ()
    algorithm: str | None = None
    digest_algorithm: str | None = None
    reason: str = "signature verification has not run"
    rules_broken: tuple[str, ...] = ()  # wrapping-defence rules the document breaks
    embedded_certificates: tuple[Certificate, ...] = ()  # from KeyInfo: shown, never trusted on their own
    signing_certificate: Certificate | None = None  # the configured cert that verified it
    untrusted_signer: Certificate | None = None  # the KeyInfo cert an intact signature verifies with, not trusted


class RedirectSignature(Struct, frozen=True):
    """HTTP-Redirect binding signature (SAML bindings §3.4.4.1): lives in the query string, not the XML."""

    sig_alg: str
    signature: str
    signed_query: str  # the exact octets that were signed, as they appeared in the URL


class SamlMessage(Struct, frozen=True):
    """One SAML message found in the evidence (Response, AuthnRequest, ...), decoded and read."""

    kind: MessageKind
    source: str  # human locator: "login.har entry 14: POST https://x/endpoint" or "response.b64"
    binding: str  # "post", "redirect", "raw"
    encoding_layers: tuple[str, ...]  # e.g. ("url-decode", "base64", "inflate")
    raw_xml: bytes  # the decoded bytes, exactly as signed; never re-serialised
    id: str | None = None
    issuer: str | None = None
    destination: str | None = None
    in_response_to: str | None = None
    issue_instant: datetime | None = None
    issue_instant_text: str | None = None
    version: str | None = None
    has_signature: bool = False  # a ds:Signature is a direct child of the root (the HTTP-Redirect one is apart)
    status: StatusInfo | None = None  # Responses only
    assertions: tuple[Assertion, ...] = ()
    encrypted_parts: tuple[EncryptedPart, ...] = ()  # EncryptedAssertions left encrypted
    relay_state: str | None = None
    redirect_signature: RedirectSignature | None = None
    captured_at: datetime | None = None  # the HAR entry's timestamp, when the message came from a HAR
    sanitized: bool = False  # re-encoded by `ssodiag sanitize` with personal values replaced: signatures cannot hold
    # AuthnRequest fields
    acs_url: str | None = None
    protocol_binding: str | None = None
    name_id_policy_format: str | None = None
    requested_authn_context: tuple[str, ...] = ()
    force_authn: bool | None = None
    is_passive: bool | None = None
    subject: NameID | None = None  # an AuthnRequest's Subject (Keycloak's login hint); value "" when it names no NameID
    signature: SignatureReport = SignatureReport()
    root: Any = None  # parsed lxml root of raw_xml: for the trust engine
    # and display only; checks read the fields above


# --------------------------------------------------------------------------- metadata


class Endpoint(Struct, frozen=True):
    """A metadata service endpoint (SSO, SLO, ACS): binding and location."""

    binding: str
    location: str
    index: int | None = None
    is_default: bool | None = None


class KeyDescriptor(Struct, frozen=True):
    """A ``<KeyDescriptor>`` of metadata and the certificate it holds."""

    use: str | None  # "signing", "encryption" or None (both)
    certificate: Certificate | None
    error: str | None = None  # the KeyDescriptor's certificate could not be read


class RoleDescriptor(Struct, frozen=True):
    """An IdP or SP role of an entity's metadata: its endpoints, keys and signing settings."""

    role: str  # "idp" or "sp"
    sso_services: tuple[Endpoint, ...] = ()
    slo_services: tuple[Endpoint, ...] = ()
    acs_services: tuple[Endpoint, ...] = ()
    keys: tuple[KeyDescriptor, ...] = ()
    name_id_formats: tuple[str, ...] = ()
    want_authn_requests_signed: bool | None = None
    authn_requests_signed: bool | None = None
    want_assertions_signed: bool | None = None

    @property
    def signing_certificates(self) -> tuple[Certificate, ...]:
        return tuple(k.certificate for k in self.keys if k.certificate and k.use in (None, "signing"))


class EntityMetadata(Struct, frozen=True):
    """One ``<EntityDescriptor>``: the entity ID and its roles."""

    entity_id: str
    roles: tuple[RoleDescriptor, ...]
    valid_until: datetime | None = None
    cache_duration: str | None = None  # xs:duration as written

    def role(self, name: str) -> RoleDescriptor | None:
        return next((r for r in self.roles if r.role == name), None)


class Metadata(Struct, frozen=True):
    """A metadata document as loaded: one or more entities (an ``<EntitiesDescriptor>``)."""

    source: str
    entities: tuple[EntityMetadata, ...]
    has_signature: bool = False
    raw_xml: bytes = b""


# --------------------------------------------------------------------------- browser flow


class FlowHop(Struct, frozen=True):
    """One request of the browser's login flow, and the SAML message it carries, if any."""

    index: int  # position in the capture, from 1 (the HAR entry number a browser's network panel shows)
    time: datetime | None
    method: str
    url: str
    status: int | None
    redirect_to: str | None = None
    message_index: int | None = None  # index into Evidence.messages of the SAML message this hop carries
    # the message is in this hop's response (a Location or an auto-submitting form) for the browser's next request:
    # this hop did not deliver it (that request may be missing from the capture, e.g. a POST body the export lost)
    hands_on: bool = False
    relay_state: str | None = None
    page_excerpt: str | None = None  # short visible text of an error page


class Flow(Struct, frozen=True):
    """The login flow of one capture: its hops, how it started, and the requests answered by Responses."""

    source: str
    hops: tuple[FlowHop, ...]
    initiation: Initiation
    pairs: tuple[tuple[str, str], ...] = ()  # (AuthnRequest ID, Response ID) matched by InResponseTo


# --------------------------------------------------------------------------- inputs and expectations


class LoadedInput(Struct, frozen=True):
    """One input the user gave, as recognised (kind) or refused (error)."""

    source: str
    kind: InputKind | None
    detail: str = ""
    error: str | None = None


class ErrorPage(Struct, frozen=True):
    """Visible text of a page the user saw (an error page from a HAR, or a pasted text file)."""

    source: str
    text: str  # bounded excerpt
    url: str | None = None
    status: int | None = None


class Cookie(Struct, frozen=True):
    """A cookie the browser sent or was given, by name and host; the value only where a check needs it (a
    PingFederate tracking ID), bounded."""

    name: str
    host: str
    value: str = ""


class Evidence(Struct, frozen=True):
    """Everything read from the inputs: messages, metadata, certificates, flows, pages, URLs and cookies."""

    inputs: tuple[LoadedInput, ...] = ()
    messages: tuple[SamlMessage, ...] = ()
    metadata: tuple[Metadata, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    flows: tuple[Flow, ...] = ()
    error_pages: tuple[ErrorPage, ...] = ()
    urls: tuple[str, ...] = ()  # every request URL seen (for connector detection and URL checks)
    cookies: tuple[Cookie, ...] = ()  # distinct (name, host) pairs seen in the capture


class Expectations(Struct, frozen=True):
    """What the user told us the configuration should be. Everything is optional."""

    idp_certificates: tuple[Certificate, ...] = ()  # --idp-cert (several, for rollover)
    idp_fingerprints: tuple[str, ...] = ()  # --idp-fingerprint, normalised upper-case hex
    idp_metadata: tuple[Metadata, ...] = ()  # --idp-metadata
    idp_entity_id: str | None = None
    sp_entity_id: str | None = None
    acs_urls: tuple[str, ...] = ()
    sp_key_pem: bytes | None = None
    sp_certificates: tuple[Certificate, ...] = ()  # --sp-cert: the SP's signing cert, to verify AuthnRequests
    sp_metadata: tuple[Metadata, ...] = ()  # --sp-metadata: the SP's metadata, whose signing certs verify AuthnRequests
    request_id: str | None = None
    at: datetime | None = None  # --at; None means "the capture's own time, else now"
    clock_skew: int | None = None  # --clock-skew seconds; None: the judgement's default (DiagContext.clock_skew)
    strict: bool = False  # --strict: judge an Atlan login by the specifications too (diag.judgement)
    keycloak_idp: BrokerConfig | None = None  # --keycloak-idp: the tenant's settings
    connector: Connector | None = None
    atlan_url: str | None = None
    atlan_alias: str | None = None
    group_mappings: MappingSet | None = None  # --mappings: SSO group -> Atlan group
    atlan_users: AtlanDirectory | None = None  # --atlan-users: current memberships

    def __repr__(self) -> str:  # the SP's private key never shows in a traceback, a debugger or a test's failure
        shown = (f"{name}={'<hidden>' if name == 'sp_key_pem' and value else repr(value)}"
                 for name, value in zip(self.__struct_fields__, astuple(self)))
        return f"Expectations({', '.join(shown)})"


class Detection(Struct, frozen=True):
    """An IdP vendor (connector) the evidence points to, and the evidence that says so."""

    connector: Connector
    reason: str


class Finding(Struct, frozen=True):
    """One check's result on one piece of evidence: what was seen, what was expected, and the fix."""

    check_id: str
    title: str
    severity: Severity
    status: Status
    connector: Connector
    message: str  # a full sentence; observed values in backticks
    remediation: str
    docs: str | None = None
    source: str | None = None  # which input or message
    locator: str | None = None  # element path inside it
    expected: str | None = None
    seen: str | None = None


class Verdict(Struct, frozen=True):
    """The one-line answer shown first (computed by ``diag.verdict`` from the findings and the messages)."""

    status: VerdictStatus
    summary: str
    top_check_id: str | None = None  # the finding the summary is about


class FixStep(Struct, frozen=True):
    """One numbered step of the fix: an instruction (values in backticks) and the exact values it needs."""

    text: str
    values: tuple[tuple[str, str], ...] = ()  # (what, exact value), e.g. ("ACS URL", "https://…/endpoint")


class Answer(Struct, frozen=True):
    """What a report says first: the verdict in one sentence, the fix as numbered steps, what to check afterwards.

    Built by ``diag.answer`` from the most likely root cause (today: the first failing finding); a model of the
    SP's login steps can build a more precise one ("Atlan stops at step N because …") and replace it.
    """

    sentence: str
    steps: tuple[FixStep, ...] = ()
    check_after: tuple[str, ...] = ()
    cause_check_id: str | None = None  # the finding the answer rests on
    basis: str = "finding"  # what produced it: "finding" (top failing finding), "verdict" (nothing to fix)


class ResolvedExpectations(Struct, frozen=True):
    """What the checks judged against, once derived: ``--atlan/--alias`` give the SP entity ID and ACS URLs, IdP
    metadata gives the IdP entity ID and the trusted signing certificates."""

    sp_entity_id: str | None = None
    acs_urls: tuple[str, ...] = ()
    idp_entity_id: str | None = None
    trusted_certificates: tuple[Certificate, ...] = ()
    clock_skew: int | None = None  # seconds, as the time checks used it (diag.context.DiagContext.clock_skew)


class Judgement(Struct, frozen=True):
    """Which rules judged the run (diag.judgement): "atlan" (what Atlan's Keycloak broker enforces) or "strict"."""

    mode: str
    reason: str


class RunResult(Struct, frozen=True):
    """Everything one ``analyze`` run produced: the evidence, what it was judged against, and the answer."""

    tool_version: str
    evidence: Evidence
    expectations: Expectations
    resolved: ResolvedExpectations
    detections: tuple[Detection, ...]
    findings: tuple[Finding, ...]  # sorted: failures first, worst severity first, causes before symptoms
    verdict: Verdict
    answer: Answer
    groupsync: SyncPlan | None = None  # the group-sync plan of this login's users (--mappings and --atlan-users)
    judgement: Judgement = Judgement("strict", "not judged")
    broker: tuple[Prediction, ...] = ()  # Atlan logins: the broker's steps for each Response (diag.broker)
    judged_at: datetime | None = None  # the instant time conditions were judged at: --at, the capture, else now
