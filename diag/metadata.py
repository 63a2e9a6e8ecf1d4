"""SAML metadata (EntityDescriptor / EntitiesDescriptor, SAML metadata spec §2.3) -> :class:`Metadata`.

Only the IdP and SP SSO roles are read: they are all a SAML login between an IdP and Atlan's Keycloak uses.
A certificate that cannot be read becomes ``KeyDescriptor(error=...)`` so the metadata checks can report it;
the rest of the document is still used.
"""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from ssodiag.diag.certs import certificate_from_base64
from ssodiag.diag.errors import InputError
from ssodiag.diag.model import EntityMetadata, Endpoint, KeyDescriptor, Metadata, RoleDescriptor
from ssodiag.diag.saml import classify_xml, parse_boolean, parse_instant, shown_tag
from ssodiag.diag.xmlparse import NS, local_name, parse_xml, text_of

MD = NS["md"]
_ROLES = {"IDPSSODescriptor": "idp", "SPSSODescriptor": "sp"}


def parse_metadata(raw_xml: bytes, source: str, root: etree._Element | None = None) -> Metadata:
    """Parse a metadata document; ``root``, when given, must be the parse of ``raw_xml``."""
    if root is None:
        root = parse_xml(raw_xml, source)
    if classify_xml(root) != "metadata":
        raise InputError("expected SAML metadata (EntityDescriptor or EntitiesDescriptor), "
                         f"found <{shown_tag(root)}>", source)
    return Metadata(
        source=source,
        entities=tuple(_entities(root, source)),
        has_signature=root.find("ds:Signature", NS) is not None,
        raw_xml=raw_xml,
    )


def _entities(root: etree._Element, source: str) -> list[EntityMetadata]:
    """EntityDescriptors at any depth of nested EntitiesDescriptors (metadata §2.3.1), in document order.

    validUntil of an enclosing EntitiesDescriptor bounds everything inside it, so an entity keeps the earliest
    one on its path; cacheDuration is taken from the nearest element that sets it.
    """
    found: list[EntityMetadata] = []
    # explicit stack, not recursion: libxml2 already bounds depth, this keeps Python's stack out of it
    stack: list[tuple[etree._Element, datetime | None, str | None]] = [(root, None, None)]
    while stack:
        element, outer_until, outer_cache = stack.pop()
        until = _earliest(outer_until, parse_instant(element.get("validUntil")))
        cache = element.get("cacheDuration") or outer_cache
        if local_name(element) == "EntityDescriptor":
            found.append(_entity(element, until, cache, source))
            continue
        children = _md_children(element, ("EntityDescriptor", "EntitiesDescriptor"))
        stack.extend((child, until, cache) for child in reversed(children))
    return found


def _entity(element: etree._Element, valid_until: datetime | None, cache: str | None,
            source: str) -> EntityMetadata:
    entity_id = element.get("entityID") or ""
    roles = tuple(_role(r, _ROLES[local_name(r)], entity_id, source) for r in _md_children(element, _ROLES))
    return EntityMetadata(entity_id=entity_id, roles=roles, valid_until=valid_until, cache_duration=cache)


def _role(element: etree._Element, role: str, entity_id: str, source: str) -> RoleDescriptor:
    """IDPSSODescriptor (metadata §2.4.3) or SPSSODescriptor (§2.4.4)."""
    return RoleDescriptor(
        role=role,
        sso_services=_endpoints(element, "SingleSignOnService"),
        slo_services=_endpoints(element, "SingleLogoutService"),
        acs_services=_endpoints(element, "AssertionConsumerService"),
        keys=tuple(_key(k, role, entity_id, source) for k in element.findall("md:KeyDescriptor", NS)),
        name_id_formats=tuple(text_of(f) or "" for f in element.findall("md:NameIDFormat", NS)),
        want_authn_requests_signed=parse_boolean(element.get("WantAuthnRequestsSigned")),
        authn_requests_signed=parse_boolean(element.get("AuthnRequestsSigned")),
        want_assertions_signed=parse_boolean(element.get("WantAssertionsSigned")),
    )


def _endpoints(role: etree._Element, name: str) -> tuple[Endpoint, ...]:
    """EndpointType / IndexedEndpointType (metadata §2.2.2, §2.2.3)."""
    return tuple(
        Endpoint(binding=e.get("Binding") or "", location=e.get("Location") or "",
                 index=_unsigned_short(e.get("index")), is_default=parse_boolean(e.get("isDefault")))
        for e in role.findall(f"md:{name}", NS)
    )


def _key(element: etree._Element, role: str, entity_id: str, source: str) -> KeyDescriptor:
    """KeyDescriptor (metadata §2.4.1.1): no ``use`` means the key serves both signing and encryption."""
    use = element.get("use")
    cert_el = element.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    if cert_el is None:
        return KeyDescriptor(use=use, certificate=None, error="KeyDescriptor has no ds:X509Certificate")
    where = f"{source}: metadata {entity_id} {role} {use or 'signing+encryption'} key"
    try:
        return KeyDescriptor(use=use, certificate=certificate_from_base64(text_of(cert_el) or "", where))
    except InputError as exc:
        return KeyDescriptor(use=use, certificate=None, error=str(exc))


def _md_children(element: etree._Element, names) -> list[etree._Element]:
    """Direct md: children with one of these local names (comments and other namespaces skipped)."""
    return [c for c in element
            if isinstance(c.tag, str) and etree.QName(c).namespace == MD and etree.QName(c).localname in names]


def _unsigned_short(text: str | None) -> int | None:
    """The endpoint ``index`` is an xs:unsignedShort; anything else is left for the checks to see as None."""
    digits = (text or "").strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 5:
        return None
    value = int(digits)
    return value if value <= 65535 else None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((d for d in (a, b) if d is not None), default=None)
