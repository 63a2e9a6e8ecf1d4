"""OKTA: Okta as Atlan's IdP: what Okta's pages mean, and what Atlan's first-login pages mean after an Okta login.

The declaration below is everything ssodiag knows about Okta: how to recognise it, its error texts and codes, the
attribute statements of Atlan's Okta guide and the names of the Okta Admin Console fields the fixes quote.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType

from ssodiag.checks.common import page_checks, vendor_page_findings
from ssodiag.diag.connectors import (
    PLACEHOLDERS, ConnectorDeclaration, Signal, SignalKind, VendorError, declare, phrase,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Connector, Finding, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted

ATLAN_OKTA_GUIDE = "https://ask.atlan.com/hc/en-us/articles/4419113593105-How-to-enable-Okta-for-SSO"
OKTA_NOT_ASSIGNED = ("https://support.okta.com/help/s/article/"
                     "App-Sign-on-Error-403-User-attempted-unauthorized-access-to-app")
OKTA_LOGIN_FAILURES = "https://support.okta.com/help/s/article/common-okta-login-failures?language=en_US"
OKTA_GROUP_STATEMENTS = "https://help.okta.com/en-us/content/topics/apps/define-group-attribute-statements.htm"
ATLAN_SSO_FAQ = "https://ask.atlan.com/hc/en-us/articles/7291235543567-Troubleshooting-SSO"
KEYCLOAK_MESSAGES = ("https://github.com/keycloak/keycloak/blob/main/themes/src/main/resources/theme/base/login/"
                     "messages/messages_en.properties")

APP = "Okta Admin Console → Applications → Applications → Atlan"
SAML_SETTINGS = f"{APP} → General → SAML Settings → Edit → Configure SAML"
ATLAN_KEYCLOAK = "Atlan's login (Keycloak), after the Okta login"

_MAPPING = ("Okta (Atlan's Okta guide), in " + SAML_SETTINGS + ": Attribute Statements `firstName` (Basic) → "
            "`user.firstName`, `lastName` (Basic) → `user.lastName`, `email` (Basic) → `user.email`; Group Attribute "
            "Statements (under \"Show legacy configuration\" in newer consoles) `memberOf` (Unspecified), filter "
            "Matches regex `[\\s\\S]+` so every group is sent.")

OKTA = declare(ConnectorDeclaration(
    connector=Connector.OKTA,
    title="Okta",
    docs=ATLAN_OKTA_GUIDE,
    signals=(
        # Okta issuers are http://www.okta.com/<app key>; orgs live on okta.com, oktapreview.com, okta-emea.com.
        Signal(SignalKind.ENTITY, "an Okta issuer", re.compile(r"^https?://www\.okta\.com/\w+", re.I), 3),
        Signal(SignalKind.URL, "an Okta host",
               re.compile(r"^https?://[^/?#]+\.(?:okta|oktapreview|okta-emea)\.com(?::\d+)?(?:[/?#]|$)", re.I), 3),
    ),
    errors=(
        VendorError(
            "403 App Not Assigned",
            phrase("403 App Not Assigned", "not assigned this app in Okta", "not assigned to this app in Okta",
                   "User attempted unauthorized access to app"),
            "Okta refused to start the SAML login: the user is not assigned to the Atlan app in Okta, so Okta sent no "
            "SAML Response to Atlan.",
            ("the user, or a group the user is in, is not assigned to the Atlan app",
             "a group assignment exists but failed (assignment or provisioning errors on the app)"),
            f"{APP} → Assignments → Assign → Assign to People (or Assign to Groups) and add the user or their group; "
            "clear any assignment errors shown there (only assigned users can sign in to Atlan through SSO and be "
            "created in Atlan).",
            "OKTA001", OKTA_NOT_ASSIGNED),
        VendorError(
            "E0000004", phrase(raw=r"\bE0000004\b|\bINVALID_CREDENTIALS\b"),
            "Okta's sign-in failed: INVALID_CREDENTIALS (\"Authentication failed\"), a wrong username or password.",
            ("a mistyped password or username", "the password expired or was reset"),
            "Have the user sign in to Okta again with the right credentials, or reset the password in Okta Admin "
            "Console → Directory → People → the user → Reset Password (Atlan's SSO setup is not involved).",
            "OKTA002", OKTA_LOGIN_FAILURES),
        VendorError(
            "E0000007", phrase(raw=r"\bE0000007\b|\bUNKNOWN_USER\b"),
            "Okta's sign-in failed: UNKNOWN_USER (\"Not found\"), the username is not a user of this Okta org.",
            ("a typo in the username", "the user signs in to the wrong Okta org", "the user was deleted in Okta"),
            "Check the user exists in Okta Admin Console → Directory → People, and that they sign in to the Okta org "
            "the Atlan app is in.",
            "OKTA002", OKTA_LOGIN_FAILURES),
        VendorError(
            "E0000069", phrase(raw=r"\bE0000069\b|\bLOCKED_OUT\b"),
            "Okta's sign-in failed: LOCKED_OUT, the Okta account is locked after too many failed attempts.",
            ("repeated wrong passwords (by the user or a stale saved password)",),
            "Okta Admin Console → Directory → People → the user → Unlock (or wait for the lockout policy to expire).",
            "OKTA002", OKTA_LOGIN_FAILURES),
        VendorError(
            "E0000006", phrase(raw=r"\bE0000006\b|\bGENERAL_NONSUCCESS\b"),
            "Okta's sign-in failed: GENERAL_NONSUCCESS, Okta denied the sign-in (a sign-on policy or an account "
            "state, not the SAML setup).",
            ("an Okta sign-on or authentication policy denied the user", "the account is suspended or deactivated"),
            "Okta Admin Console → Reports → System Log: filter on the user to see which policy or state denied it; "
            f"check {APP} → Sign On → sign-on policy rules.",
            "OKTA002", OKTA_LOGIN_FAILURES),
        VendorError(
            "Account already exists",
            phrase("Account already exists", "User with {} already exists. How do you want to continue?",
                   "User with {} already exists. Please login to account management to link the account.",
                   "Username already exists.", "Email already exists."),
            "This is the first SSO login of this Okta identity (its NameID is new to Atlan), but an Atlan user with "
            "the same e-mail or username already exists: a user created before SSO, an invited user, or the same "
            "person under an earlier NameID (Okta's Application username changed). Usernames in Atlan are permanent, "
            "so Atlan cannot simply rename the existing user.",
            ("the Atlan user was created or invited before SSO was set up",
             "Okta's Application username (the NameID) changed, e.g. from the e-mail to the Okta username"),
            "Either make Okta send the existing Atlan username: " + APP + " → Sign On → Settings → Credentials "
            "Details → Application username format (e.g. Email), so that the NameID equals the existing Atlan user's "
            "username. Or have the old Atlan user removed (Atlan support deletes users permanently), so that the next "
            "SSO login creates the user afresh (\"Add to existing account\" on the page asks for an Atlan password or "
            "an e-mail link, which SSO-only users usually cannot complete).",
            "OKTA003", ATLAN_SSO_FAQ, shown_by=ATLAN_KEYCLOAK),
        VendorError(
            "already linked to another user",
            phrase("Federated identity returned by {} is already linked to another user."),
            "The Okta identity is already linked to a different Atlan user; Keycloak shows this only while linking "
            "an account (from the account console), never on a plain login.",
            ("the same Okta user was linked to another Atlan account earlier",),
            "Sign in as the Atlan user already linked to this Okta identity, or have Atlan support remove the stale "
            "link.",
            "OKTA003", KEYCLOAK_MESSAGES, shown_by=ATLAN_KEYCLOAK),
        VendorError(
            "Update Account Information",
            phrase("Update Account Information", "Please specify email.", "Please specify first name.",
                   "Please specify last name."),
            "Atlan's first login asks the user for profile fields Okta did not send: the assertion lacks `email`, "
            "`firstName` or `lastName` under exactly these names.",
            ("the app's Attribute Statements are missing", "they are named differently (`FirstName`, `given_name`)",
             "the Okta user profile field is empty"),
            "Add the statements in " + SAML_SETTINGS + " → Attribute Statements: `firstName` → `user.firstName`, "
            "`lastName` → `user.lastName`, `email` → `user.email` (Name format Basic, names case-sensitive).",
            "OKTA004", ATLAN_OKTA_GUIDE, shown_by=ATLAN_KEYCLOAK),
    ),
    mapping_row=_MAPPING,
    # first-broker-login (Keycloak's user lookup and review-profile step) is where these pages come from
    broker_steps=MappingProxyType({"OKTA003": 22, "OKTA004": 21}),
    login_paths=LazyRegex(r"/app/[^/]+/[^/]+/sso/saml\b|/sso/saml\b", re.I),
    console=MappingProxyType({
        "app": APP,
        "saml_settings": SAML_SETTINGS,
        "sso_url": "Single sign-on URL",
        "recipient": "Use this for Recipient URL and Destination URL",
        "audience": "Audience URI (SP Entity ID)",
        "relay_state": "Default RelayState",
        "other_sso_urls": "Other Requestable SSO URLs",
        "username": "Application username format",
        "attributes": "Attribute Statements",
        "groups": "Group Attribute Statements",
    }),
    fixes=MappingProxyType({
        # a tile launch is IdP-initiated: Okta posts to its one Single sign-on URL with the Default RelayState
        "KC002": SAML_SETTINGS + " → Single sign-on URL = `{acs_idp}` (keep \"Use this for Recipient URL and "
                 "Destination URL\" checked) and Default RelayState empty. If logins started from Atlan's page then "
                 "fail, also add `{acs_sp}` under \"Other Requestable SSO URLs\"; or hide the tile and add a bookmark "
                 "app to `{atlan}`.",
        "SAML013": SAML_SETTINGS + " → Single sign-on URL = `{acs_sp}` (or `{acs_idp}` for tile launches) with "
                   "\"Use this for Recipient URL and Destination URL\" checked.",
        "SAML010": SAML_SETTINGS + " → check \"Use this for Recipient URL and Destination URL\" so Recipient equals "
                   "the Single sign-on URL `{acs_sp}`.",
        "SAML012": SAML_SETTINGS + " → Audience URI (SP Entity ID) = `{sp_entity_id}`.",
        "REQ002": SAML_SETTINGS + " → Audience URI (SP Entity ID) = `{sp_entity_id}`.",
        "ATTR002": "Fill the Okta user profile fields (Directory → People → the user → Profile) that the Attribute "
                   "Statements read.",
    }),
))


page_checks(Connector.OKTA, (
    # Okta sends no SAML Response to an unassigned user: Atlan never sees the login
    ("OKTA001", "Okta: user is not assigned to the Atlan app (403 App Not Assigned)", Severity.HIGH),
    # Okta's own sign-in failed before any SAML was exchanged
    ("OKTA002", "Okta: the sign-in to Okta itself failed (E0000004 / E0000007 / E0000069 / E0000006)",
     Severity.MEDIUM),
    # Keycloak's review-profile step: the assertion lacked email, first or last name
    ("OKTA004", "Okta: Atlan asks for profile fields Okta did not send (\"Update Account Information\")",
     Severity.HIGH),
))


@check(id="OKTA003", title="Okta: first SSO login met an existing Atlan user (\"Account already exists\")",
       severity=Severity.HIGH, connector=Connector.OKTA, requires={Need.ERROR_PAGE}, docs=ATLAN_SSO_FAQ,
       remediation=PLACEHOLDERS.fill(OKTA.error("Account already exists").fix))
def existing_atlan_user(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak's first-broker-login flow meets an Atlan user with the e-mail or username of an Okta identity it
    has not linked yet ("Account already exists", "User with email … already exists. How do you want to
    continue?"). The Okta identity is the NameID, built from the app's "Application username format"; usernames
    in Atlan are permanent, so either Okta sends the existing username or the old Atlan user goes. The NameID Okta
    sent in this capture is named, since it is the value to compare with the existing user."""
    name_ids = [a.name_id.value for m in ctx.responses for a in m.assertions if a.name_id and a.name_id.value]
    more = (f"Okta sent the NameID {quoted(name_ids[-1])}: the existing Atlan user's username must equal it."
            if name_ids else "")
    yield from vendor_page_findings(ctx, spec, Connector.OKTA, more)
