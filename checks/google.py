"""GWS: Google Workspace as Atlan's IdP: Google's SAML app error codes, dashboard (app launcher) logins and the
attribute mapping of Atlan's Google guide.

The declaration below is everything ssodiag knows about Google Workspace.
"""
from __future__ import annotations

import re
from types import MappingProxyType

from ssodiag.checks.common import page_checks
from ssodiag.diag.connectors import ConnectorDeclaration, Signal, SignalKind, VendorError, declare, phrase
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Connector, Severity

GOOGLE_ERRORS = "https://support.google.com/a/answer/6301076"
GOOGLE_CUSTOM_APP = "https://support.google.com/a/answer/6087519"
ATLAN_GOOGLE_GUIDE = "https://ask.atlan.com/hc/en-us/articles/4420405190545-How-to-enable-Google-for-SSO"

APP = "Google Admin console → Apps → Web and mobile apps → the Atlan app"
SP_DETAILS = f"{APP} → Service provider details"

_MAPPING = ("Google Workspace (Atlan's Google guide), in " + APP + " → SAML attribute mapping: Primary email → "
            "`email`, First name → `firstName`, Last name → `lastName`; Group membership → app attribute `memberOf` "
            "(choose the groups to send).")

GOOGLE = declare(ConnectorDeclaration(
    connector=Connector.GOOGLE,
    title="Google Workspace",
    docs=ATLAN_GOOGLE_GUIDE,
    signals=(
        # Google's IdP entity ID and SSO URL are both https://accounts.google.com/o/saml2?idpid=<id>
        Signal(SignalKind.ENTITY, "a Google Workspace SAML entity ID or URL",
               re.compile(r"^https://accounts\.google\.com/o/saml2", re.I), 3),
    ),
    errors=(
        VendorError(
            "403 app_not_configured_for_user", phrase("app_not_configured_for_user"),
            "Google found no SAML app for this user matching the request: the Issuer of Atlan's AuthnRequest is not "
            "the app's Entity ID (compared case-sensitively), or the browser is signed in to another Google account.",
            ("the app's Entity ID differs from Atlan's SP entity ID (case, trailing slash, an old value)",
             "several Google accounts (or a personal one) are signed in, and Google picked another"),
            SP_DETAILS + " → Entity ID = `{sp_entity_id}` exactly (case-sensitive). If it already is, sign out of the "
            "other Google accounts (or use a private window) and test from https://myapps.google.com.",
            "GWS001", GOOGLE_ERRORS),
        VendorError(
            "403 app_not_configured", phrase(raw=r"\bapp_not_configured(?!_for_user)\b"),
            "Google has no SAML app with the entity ID Atlan's request names (or an IdP-initiated URL names an app "
            "that does not exist).",
            ("no custom SAML app for Atlan exists in this Google Workspace",
             "the app's Entity ID is not Atlan's SP entity ID", "the launch URL's app ID was edited"),
            "Create the custom SAML app (" + "Google Admin console → Apps → Web and mobile apps → Add app → Add custom "
            "SAML app) or fix " + SP_DETAILS + " → Entity ID = `{sp_entity_id}`.",
            "GWS002", GOOGLE_ERRORS),
        VendorError(
            "403 app_not_enabled_for_user", phrase("app_not_enabled_for_user"),
            "The Atlan app exists but is turned off for this user's organizational unit or group.",
            ("User access is OFF for the user's OU or group",),
            APP + " → User access → Service status: ON for everyone (or ON for the user's organizational unit or "
            "group) → Save.",
            "GWS003", GOOGLE_ERRORS),
        VendorError(
            "400 duplicate entity id", phrase("duplicate entity id", "duplicate_entity_id"),
            "Google refused to save the SAML app: another app already uses this Entity ID.",
            ("Atlan was added twice", "an old Atlan app still holds the Entity ID"),
            "Google Admin console → Apps → Web and mobile apps: delete or fix the other app with Entity ID "
            "`{sp_entity_id}`, then save this one.",
            "GWS004", GOOGLE_ERRORS),
    ),
    mapping_row=_MAPPING,
    login_paths=LazyRegex(r"/o/saml2\b", re.I),
    console=MappingProxyType({
        "app": APP,
        "sp_details": SP_DETAILS,
        "acs": "ACS URL",
        "entity_id": "Entity ID",
        "start_url": "Start URL",
        "user_access": "User access → Service status",
        "mapping": "SAML attribute mapping",
    }),
    fixes=MappingProxyType({
        # Google has one ACS URL field; a dashboard launch posts there, with the Start URL as RelayState
        "KC002": SP_DETAILS + " → ACS URL = `{acs_idp}` and Start URL empty: a launch from the Google dashboard or app "
                 "launcher is IdP-initiated, and Google has a single ACS URL field. Verify with one user that logins "
                 "started from Atlan's page still work.",
        "SAML013": SP_DETAILS + " → ACS URL = `{acs_idp}` (Google has one ACS URL field).",
        "SAML010": SP_DETAILS + " → ACS URL = `{acs_idp}` (Google has one ACS URL field).",
        "SAML012": SP_DETAILS + " → Entity ID = `{sp_entity_id}`.",
        "REQ002": SP_DETAILS + " → Entity ID = `{sp_entity_id}` (Google answers `403 app_not_configured_for_user`).",
        "ATTR002": "Fill the user's Primary email, First name and Last name in Google Admin console → Directory → "
                   "Users.",
    }),
))

page_checks(Connector.GOOGLE, (
    ("GWS001", "Google: no app for this user matches Atlan's request (403 app_not_configured_for_user)",
     Severity.HIGH),
    ("GWS002", "Google: no SAML app with Atlan's entity ID (403 app_not_configured)", Severity.HIGH),
    ("GWS003", "Google: the Atlan app is off for the user (403 app_not_enabled_for_user)", Severity.HIGH),
    ("GWS004", "Google: another app already has this entity ID (400 duplicate entity id)", Severity.MEDIUM),
))
