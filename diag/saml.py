"""SAML protocol messages (Response, AuthnRequest, LogoutRequest, LogoutResponse) -> :class:`SamlMessage`.

Parsing only reads; it judges nothing and trusts nothing. Every text value goes through ``text_of`` so that a
comment inside a value (``alice@corp.com<!---->.evil.com``) is read whole, as canonicalisation sees it.
Which assertion the signature covers is the signature engine's business: here we read the assertions that a
relying party consumes, the direct children of the Response (SAML core §3.3.3).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from lxml import etree

from ssodiag.diag.errors import InputError
from ssodiag.diag.text import clip
from ssodiag.diag.model import (
    Assertion, Attribute, AudienceRestriction, AuthnStatement, Conditions, EncryptedPart, MessageKind, NameID, RedirectSignature,
    SamlMessage, StatusInfo, SubjectConfirmation,
)
from ssodiag.diag.xmlparse import NS, ChildPath, local_name, parse_xml, text_of

SAMLP = NS["samlp"]
SAML = NS["saml"]
MD = NS["md"]
_MESSAGE_KINDS = {kind.value: kind for kind in MessageKind}
# Bounds on repeated elements. The Web Browser SSO profile sends one assertion with one bearer confirmation and
# one AuthnStatement (SAML profiles §4.1.4.2); the checks report any count above one, so a few are enough to show
# the problem, and thousands (each judged and reported) are a denial of service, not evidence.
MAX_ASSERTIONS = 20  # Assertion + EncryptedAssertion children of one Response
MAX_SUBJECT_CONFIRMATIONS = 20
MAX_AUTHN_STATEMENTS = 20
# the children read, each path compiled once (see ChildPath)
_KEY_INFO_ENCRYPTED_KEY = ChildPath("ds:KeyInfo/xenc:EncryptedKey")
_SIGNATURE = ChildPath("ds:Signature")
_ASSERTION = ChildPath("saml:Assertion")
_ATTRIBUTE = ChildPath("saml:Attribute")
_ATTRIBUTE_STATEMENT = ChildPath("saml:AttributeStatement")
_ATTRIBUTE_VALUE = ChildPath("saml:AttributeValue")
_AUDIENCE = ChildPath("saml:Audience")
_AUDIENCE_RESTRICTION = ChildPath("saml:AudienceRestriction")
_AUTHN_CONTEXT_CLASS_REF = ChildPath("saml:AuthnContext/saml:AuthnContextClassRef")
_AUTHN_STATEMENT = ChildPath("saml:AuthnStatement")
_CONDITIONS = ChildPath("saml:Conditions")
_ENCRYPTED_ASSERTION = ChildPath("saml:EncryptedAssertion")
_ENCRYPTED_ATTRIBUTE = ChildPath("saml:EncryptedAttribute")
_ENCRYPTED_ID = ChildPath("saml:EncryptedID")
_ISSUER = ChildPath("saml:Issuer")
_NAME_ID = ChildPath("saml:NameID")
_SUBJECT = ChildPath("saml:Subject")
_SUBJECT_CONFIRMATION = ChildPath("saml:SubjectConfirmation")
_SUBJECT_CONFIRMATION_DATA = ChildPath("saml:SubjectConfirmationData")
_NAME_ID_POLICY = ChildPath("samlp:NameIDPolicy")
_REQUESTED_AUTHN_CONTEXT = ChildPath("samlp:RequestedAuthnContext")
_STATUS = ChildPath("samlp:Status")
_STATUS_CODE = ChildPath("samlp:StatusCode")
_STATUS_MESSAGE = ChildPath("samlp:StatusMessage")
_ENCRYPTED_DATA = ChildPath("xenc:EncryptedData")
_ENCRYPTED_KEY = ChildPath("xenc:EncryptedKey")
_ENCRYPTION_METHOD = ChildPath("xenc:EncryptionMethod")
_METADATA_ROOTS = ("EntityDescriptor", "EntitiesDescriptor")
# The comment `ssodiag sanitize` writes before the root element of every message it re-encodes. It travels inside
# the message through every binding and encoding (a HAR, a SAML-tracer export, a pasted base64 value, a Redirect
# URL), outside the signed element, so a message copied out of a sanitized file still says it was sanitized.
SANITIZED_MARK = "ssodiag-sanitized"
SANITIZED_COMMENT = (f" {SANITIZED_MARK}: personal values replaced by tokens after the issuer signed; "
                     "the signature no longer verifies ")

# xs:dateTime (XML Schema part 2 §3.2.7): SAML core §1.3.3 requires UTC; we accept "Z", an offset or none (as UTC).
_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})"
    r"(?:\.(?P<fraction>\d+))?(?P<tz>Z|[+-]\d{2}:\d{2})?",
    re.ASCII,  # xs:dateTime digits are ASCII; Python's \d would also take "１２３４"
)


def classify_xml(root: etree._Element) -> str | None:
    """"message" for a SAML protocol message, "metadata" for SAML metadata, else None."""
    if not isinstance(root.tag, str):
        return None
    qname = etree.QName(root)
    if qname.namespace == SAMLP and qname.localname in _MESSAGE_KINDS:
        return "message"
    if qname.namespace == MD and qname.localname in _METADATA_ROOTS:
        return "metadata"
    return None


def parse_message(raw_xml: bytes, *, source: str, binding: str = "raw", encoding_layers: tuple[str, ...] = (),
                  relay_state: str | None = None, redirect_signature: RedirectSignature | None = None,
                  captured_at: datetime | None = None, root: etree._Element | None = None) -> SamlMessage:
    """Parse a decoded SAML protocol message. ``root``, when given, must be the parse of ``raw_xml``."""
    if root is None:
        root = parse_xml(raw_xml, source)
    if classify_xml(root) != "message":
        raise InputError("expected a SAML protocol message (Response, AuthnRequest, LogoutRequest, "
                         f"LogoutResponse), found <{shown_tag(root)}>", source)
    kind = _MESSAGE_KINDS[local_name(root)]
    common = dict(
        kind=kind, source=source, binding=binding, encoding_layers=encoding_layers, raw_xml=raw_xml,
        # RequestAbstractType / StatusResponseType attributes (SAML core §3.2.1, §3.2.2)
        id=root.get("ID"), issuer=text_of(_ISSUER.first(root)), destination=root.get("Destination"),
        issue_instant=parse_instant(root.get("IssueInstant")), issue_instant_text=root.get("IssueInstant"),
        version=root.get("Version"), has_signature=_SIGNATURE.first(root) is not None,
        relay_state=relay_state, redirect_signature=redirect_signature, captured_at=captured_at, root=root,
        sanitized=is_sanitized(root),
    )
    if kind in (MessageKind.RESPONSE, MessageKind.LOGOUT_RESPONSE):
        common.update(in_response_to=root.get("InResponseTo"), status=_status(root))
    if kind is MessageKind.RESPONSE:
        plain, encrypted = _ASSERTION.all(root), _ENCRYPTED_ASSERTION.all(root)
        _at_most(plain + encrypted, MAX_ASSERTIONS, "assertions in the Response", source)
        common.update(
            assertions=tuple(parse_assertion(a, source) for a in plain),
            encrypted_parts=tuple(encrypted_part(e) for e in encrypted),
        )
    if kind is MessageKind.AUTHN_REQUEST:
        common.update(_authn_request_fields(root))
    return SamlMessage(**common)


def is_sanitized(root: etree._Element) -> bool:
    """Whether the document carries the comment `ssodiag sanitize` writes before its root element."""
    return any(node.tag is etree.Comment and (node.text or "").strip().startswith(SANITIZED_MARK)
               for node in root.itersiblings(preceding=True))


def parse_assertion(element: etree._Element, source: str) -> Assertion:
    """One saml:Assertion element (SAML core §2.3.3); reused on assertions that came out of decryption."""
    if not isinstance(element.tag, str) or etree.QName(element).text != f"{{{SAML}}}Assertion":
        raise InputError(f"expected <{{{SAML}}}Assertion>, found <{shown_tag(element)}>", source)
    subject = _SUBJECT.first(element)
    encrypted: list[EncryptedPart] = []
    name_id = None
    confirmations: tuple[SubjectConfirmation, ...] = ()
    if subject is not None:
        name_id = _name_id(_NAME_ID.first(subject))
        encrypted += [encrypted_part(e) for e in _ENCRYPTED_ID.all(subject)]
        confirmations = tuple(_subject_confirmation(c) for c in _at_most(
            _SUBJECT_CONFIRMATION.all(subject), MAX_SUBJECT_CONFIRMATIONS,
            "SubjectConfirmations in an assertion", source))
    attributes: list[Attribute] = []
    for statement in _ATTRIBUTE_STATEMENT.all(element):
        attributes += [_attribute(a) for a in _ATTRIBUTE.all(statement)]
        encrypted += [encrypted_part(e) for e in _ENCRYPTED_ATTRIBUTE.all(statement)]
    return Assertion(
        id=element.get("ID"),
        issuer=text_of(_ISSUER.first(element)),
        issue_instant=parse_instant(element.get("IssueInstant")),
        issue_instant_text=element.get("IssueInstant"),
        version=element.get("Version"),
        name_id=name_id,
        subject_confirmations=confirmations,
        conditions=_conditions(_CONDITIONS.first(element)),
        authn_statements=tuple(_authn_statement(s) for s in _at_most(
            _AUTHN_STATEMENT.all(element), MAX_AUTHN_STATEMENTS, "AuthnStatements in an assertion",
            source)),
        attributes=tuple(attributes),
        encrypted_parts=tuple(encrypted),
        has_signature=_SIGNATURE.first(element) is not None,
        element=element,
    )


def _at_most(elements: list[etree._Element], limit: int, what: str, source: str) -> list[etree._Element]:
    if len(elements) > limit:
        raise InputError(f"{len(elements)} {what}, over the limit of {limit}", source)
    return elements


def parse_instant(text: str | None) -> datetime | None:
    """An xs:dateTime (SAML core §1.3.3) as tz-aware UTC; None when absent or unparsable.

    Fractional seconds of any length are cut to microseconds; an offset is converted to UTC; a value without a
    time zone is read as UTC, which is what SAML core §1.3.3 says it must be.
    """
    if text is None:
        return None
    # no length cap needed: the pattern has no nested repetition, so matching is linear in the (size-capped) input
    match = _DATETIME.fullmatch(text.strip())
    if not match:
        return None
    # groups(), not groupdict(): a HAR has an instant per entry, and building the dict cost more than the match
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    try:
        instant = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                           int((fraction or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc)
    except ValueError:  # month 13, second 60, ...
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 14 or minutes > 59:  # xs:dateTime offsets are at most ±14:00
            return None
        try:
            instant -= sign * timedelta(hours=hours, minutes=minutes)
        except OverflowError:  # "0001-01-01T00:00:00+01:00" is before datetime.min
            return None
    return instant


def parse_boolean(text: str | None) -> bool | None:
    """xs:boolean ("true", "false", "1", "0", surrounding whitespace allowed); None when absent or invalid."""
    if text is None:
        return None
    return {"true": True, "1": True, "false": False, "0": False}.get(text.strip())


# --------------------------------------------------------------------------- message parts


def _status(root: etree._Element) -> StatusInfo | None:
    status = _STATUS.first(root)
    if status is None:
        return None
    code = _STATUS_CODE.first(status)
    # second-level status code (SAML core §3.2.2.2): a StatusCode nested in the top-level one
    sub = _STATUS_CODE.first(code) if code is not None else None
    return StatusInfo(
        code=code.get("Value") if code is not None else None,
        sub_code=sub.get("Value") if sub is not None else None,
        message=text_of(_STATUS_MESSAGE.first(status)),
    )


def _authn_request_fields(root: etree._Element) -> dict:
    """AuthnRequest attributes and children (SAML core §3.4.1)."""
    policy = _NAME_ID_POLICY.first(root)
    requested = _REQUESTED_AUTHN_CONTEXT.first(root)
    refs: tuple[str, ...] = ()
    if requested is not None:
        refs = tuple(text_of(r) or "" for r in requested
                     if isinstance(r.tag, str) and etree.QName(r).namespace == SAML
                     and etree.QName(r).localname in ("AuthnContextClassRef", "AuthnContextDeclRef"))
    return dict(
        acs_url=root.get("AssertionConsumerServiceURL"),
        protocol_binding=root.get("ProtocolBinding"),
        name_id_policy_format=policy.get("Format") if policy is not None else None,
        requested_authn_context=refs,
        force_authn=parse_boolean(root.get("ForceAuthn")),
        is_passive=parse_boolean(root.get("IsPassive")),
        subject=_request_subject(_SUBJECT.first(root)),
    )


# --------------------------------------------------------------------------- assertion parts


def _name_id(element: etree._Element | None) -> NameID | None:
    if element is None:
        return None
    return NameID(value=text_of(element) or "", format=element.get("Format"),
                  sp_name_qualifier=element.get("SPNameQualifier"), name_qualifier=element.get("NameQualifier"))


def _request_subject(subject: etree._Element | None) -> NameID | None:
    """An AuthnRequest's Subject (SAML core §3.4.1): its NameID, or an empty one when it names none."""
    if subject is None:
        return None
    return _name_id(_NAME_ID.first(subject)) or NameID(value="")


def _subject_confirmation(element: etree._Element) -> SubjectConfirmation:
    """SAML core §2.4.1.1 / §2.4.1.2: the bearer rules (Recipient, NotOnOrAfter, InResponseTo) live in the data."""
    data = _SUBJECT_CONFIRMATION_DATA.first(element)
    get = data.get if data is not None else (lambda _name: None)
    return SubjectConfirmation(
        method=element.get("Method") or "",
        not_before=parse_instant(get("NotBefore")),
        not_on_or_after=parse_instant(get("NotOnOrAfter")),
        recipient=get("Recipient"),
        in_response_to=get("InResponseTo"),
        address=get("Address"),
        not_on_or_after_text=get("NotOnOrAfter"),
    )


def _conditions(element: etree._Element | None) -> Conditions | None:
    """SAML core §2.5.1: every AudienceRestriction must hold on its own, so each is kept apart."""
    if element is None:
        return None
    restrictions = tuple(AudienceRestriction(tuple(text_of(a) or "" for a in _AUDIENCE.all(r)))
                         for r in _AUDIENCE_RESTRICTION.all(element))
    return Conditions(not_before=parse_instant(element.get("NotBefore")),
                      not_on_or_after=parse_instant(element.get("NotOnOrAfter")), audience_restrictions=restrictions,
                      not_before_text=element.get("NotBefore"), not_on_or_after_text=element.get("NotOnOrAfter"))


def _authn_statement(element: etree._Element) -> AuthnStatement:
    """SAML core §2.7.2."""
    return AuthnStatement(
        authn_instant=parse_instant(element.get("AuthnInstant")),
        session_index=element.get("SessionIndex"),
        session_not_on_or_after=parse_instant(element.get("SessionNotOnOrAfter")),
        authn_context_class_ref=text_of(_AUTHN_CONTEXT_CLASS_REF.first(element)),
        session_not_on_or_after_text=element.get("SessionNotOnOrAfter"),
    )


def _attribute(element: etree._Element) -> Attribute:
    """SAML core §2.7.3.1."""
    return Attribute(
        name=element.get("Name") or "",
        name_format=element.get("NameFormat"),
        friendly_name=element.get("FriendlyName"),
        values=tuple(text_of(v) or "" for v in _ATTRIBUTE_VALUE.all(element)),
    )


def encrypted_part(element: etree._Element) -> EncryptedPart:
    """An EncryptedElementType (SAML core §2.2.4): xenc:EncryptedData plus its key, inside KeyInfo or beside it."""
    data = _ENCRYPTED_DATA.first(element)
    key = _KEY_INFO_ENCRYPTED_KEY.first(data) if data is not None else None
    if key is None:
        key = _ENCRYPTED_KEY.first(element)
    return EncryptedPart(
        element=local_name(element),
        data_algorithm=_encryption_method(data),
        key_algorithm=_encryption_method(key),
        error=None if data is not None else f"{local_name(element)} has no xenc:EncryptedData",
    )


def _encryption_method(element: etree._Element | None) -> str | None:
    method = _ENCRYPTION_METHOD.first(element) if element is not None else None
    return method.get("Algorithm") if method is not None else None


def shown_tag(element: etree._Element) -> str:
    """``{namespace}local`` of an element, bounded: it is echoed in one-line errors (here and in diag.metadata)."""
    tag = element.tag if isinstance(element.tag, str) else repr(element.tag)
    return clip(tag, 200)
