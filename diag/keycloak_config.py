"""``--keycloak-idp FILE``: the tenant's SAML identity provider as Keycloak holds it, read into a BrokerConfig.

Accepted shapes, as support engineers get them from Keycloak:
- the admin API's identity provider (``GET /admin/realms/REALM/identity-provider/instances/ALIAS``): one object with
  ``alias``, ``providerId``, ``enabled`` and ``config``; a list of them (``…/instances``);
- a realm export: ``identityProviders`` (several, picked with ``--alias``) and ``identityProviderMappers``.
An object may also carry the IdP's mappers under ``mappers`` (``…/instances/ALIAS/mappers`` pasted in).

Keycloak stores every setting as a string; a key that is absent takes Keycloak's default
(SAMLIdentityProviderConfig.java). Configuration may carry trust: the signing certificates here are what Keycloak
verifies with (evidence never is).
"""
from __future__ import annotations

import re
from typing import Any

from ssodiag.diag.broker import AttributeMapper, BrokerConfig
from ssodiag.diag.certs import certificate_from_base64
from ssodiag.diag.errors import InputError
from ssodiag.diag.har import load_json
from ssodiag.diag.model import Certificate

ATTRIBUTE_IMPORTER = "saml-user-attribute-idp-mapper"  # UserAttributeMapper.java
PRINCIPAL_TYPES = ("SUBJECT", "ATTRIBUTE", "FRIENDLY_ATTRIBUTE")  # SAMLIdentityProviderConfig.java:292-305
MAX_MAPPERS = 500
# The fork's key locator accepts a PEM header glued or spaced (XMLSignatureUtil.java:563-586).
_PEM_ARMOUR = re.compile(r"-----(BEGIN|END) ?CERTIFICATE-----")


def read_keycloak_idp(data: bytes, source: str, alias: str | None) -> BrokerConfig:
    """The identity provider ``alias`` (or the only SAML one) of an admin-API or realm-export JSON document."""
    document = load_json(data, source)
    providers, mappers = _providers_and_mappers(document, source)
    provider = _pick(providers, alias, source)
    own = [m for m in mappers if m.get("identityProviderAlias") in (None, provider.get("alias"))]
    return config_of(provider, own, source)


def _providers_and_mappers(document: Any, source: str) -> tuple[list[dict], list[dict]]:
    if isinstance(document, dict) and "identityProviders" in document:  # realm export
        providers, mappers = document.get("identityProviders"), document.get("identityProviderMappers") or []
    elif isinstance(document, dict) and "config" in document:  # one identity provider
        providers, mappers = [document], document.get("mappers") or []
    elif isinstance(document, list):  # the admin API's list of identity providers
        providers, mappers = document, []
    else:
        raise InputError("not a Keycloak identity provider (admin API JSON with `alias` and `config`) nor a realm "
                         "export with `identityProviders`", source)
    if not isinstance(providers, list) or not all(isinstance(p, dict) for p in providers):
        raise InputError("`identityProviders` must be a list of objects", source)
    if not isinstance(mappers, list) or not all(isinstance(m, dict) for m in mappers):
        raise InputError("the identity provider mappers must be a list of objects", source)
    if len(mappers) > MAX_MAPPERS:
        raise InputError(f"{len(mappers)} identity provider mappers, over the limit of {MAX_MAPPERS}", source)
    return providers, mappers


def _pick(providers: list[dict], alias: str | None, source: str) -> dict:
    saml = [p for p in providers if p.get("providerId", "saml") == "saml"]
    aliases = ", ".join(f"`{str(p.get('alias'))[:60]}`" for p in saml[:20]) or "none"
    if alias is not None:
        found = [p for p in saml if p.get("alias") == alias]
        if not found:
            raise InputError(f"no SAML identity provider with alias `{alias[:60]}` (SAML aliases: {aliases})", source)
        return found[0]
    if len(saml) != 1:
        raise InputError(f"{len(saml)} SAML identity providers ({aliases}): pick one with --alias", source)
    return saml[0]


def config_of(provider: dict, mappers: list[dict], source: str) -> BrokerConfig:
    settings = provider.get("config") or {}
    if not isinstance(settings, dict):
        raise InputError("the identity provider's `config` must be an object", source)
    text = lambda key: str(settings[key]).strip() if settings.get(key) is not None else None  # noqa: E731
    flag = lambda key: (text(key) or "").lower() == "true"  # noqa: E731 - Boolean.parseBoolean
    alias = str(provider.get("alias") or "") or None
    certificates, unreadable = _certificates(text("signingCertificate"), source)
    principal_type = (text("principalType") or "SUBJECT").upper()
    if principal_type not in PRINCIPAL_TYPES:
        raise InputError(f"principalType `{principal_type[:40]}` is not one of {', '.join(PRINCIPAL_TYPES)}", source)
    attribute_mappers, others = _mappers(mappers)
    return BrokerConfig(
        origin=f"--keycloak-idp {source}" + (f" (alias `{alias}`)" if alias else ""),
        alias=alias,
        enabled=provider.get("enabled", True) is not False,
        validate_signature=flag("validateSignature"),
        signing_certificates=certificates,
        unreadable_certificates=unreadable,
        idp_entity_id=text("idpEntityId") or "",  # absent or empty: Keycloak checks no Issuer
        allowed_clock_skew=_skew(text("allowedClockSkew")),
        want_assertions_signed=flag("wantAssertionsSigned"),
        want_assertions_encrypted=flag("wantAssertionsEncrypted"),
        principal_type=principal_type,
        principal_attribute=text("principalAttribute"),
        post_binding_response=flag("postBindingResponse"),
        sso_url=text("singleSignOnServiceUrl"),
        sp_entity_id=text("entityId"),
        mappers=attribute_mappers,
        other_mappers=others,
        from_tenant=True,
    )


def _skew(value: str | None) -> int:
    """allowedClockSkew in seconds; negative or non-numeric values become 0 (SAMLIdentityProviderConfig.java:
    268-282)."""
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        return 0


def _certificates(value: str | None, source: str) -> tuple[tuple[Certificate, ...], tuple[str, ...]]:
    """signingCertificate: comma-separated base64 DER, PEM armour allowed (SAMLIdentityProviderConfig.java:149-157)."""
    certificates: list[Certificate] = []
    unreadable: list[str] = []
    for index, part in enumerate(p for p in (value or "").split(",") if p.strip()):
        body = "".join(_PEM_ARMOUR.sub("", part).split())
        try:
            certificates.append(certificate_from_base64(body, f"{source} signingCertificate {index + 1}"))
        except InputError:
            unreadable.append(part.strip()[:60])
    return tuple(certificates), tuple(unreadable)


def _mappers(mappers: list[dict]) -> tuple[tuple[AttributeMapper, ...], tuple[str, ...]]:
    """Attribute importers by the attribute they read (attribute.name, else attribute.friendly.name,
    UserAttributeMapper.java:158-164); the names and SAML attributes of every other mapper."""
    importers: list[AttributeMapper] = []
    others: list[str] = []
    for mapper in mappers:
        kind = str(mapper.get("identityProviderMapper") or "")
        settings = mapper.get("config") if isinstance(mapper.get("config"), dict) else {}
        name = str(mapper.get("name") or kind)[:120]
        attribute = str(settings.get("attribute.name") or settings.get("attribute.friendly.name") or "")
        if kind == ATTRIBUTE_IMPORTER and attribute:
            importers.append(AttributeMapper(name, attribute, str(settings.get("user.attribute") or ""), kind))
        elif attribute:
            importers.append(AttributeMapper(name, attribute, "", kind))  # reads a SAML attribute all the same
        else:
            others.append(f"{name} ({kind})")
    return tuple(importers), tuple(others)
