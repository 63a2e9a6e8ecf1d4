"""ATTR: the attributes Atlan's Keycloak broker maps into the user profile and groups (sso-facts §2.2, §1.7).

Atlan's mappers read `email`, `firstName`, `lastName` and `memberOf` by exact, case-sensitive Name. The common
failure is not a missing value but a near miss: an IdP default such as Entra's
`http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress`, Google/OIDC-style `given_name`, or `FirstName`.
Each near miss is reported as "rename X to Y", with the attribute-mapping row of the detected IdP's Atlan guide.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from ssodiag.checks.common import each_assertion
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Assertion, Attribute, Connector, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.urls import quoted

REQUIRED = ("email", "firstName", "lastName")  # sso-facts §2.2, every IdP row
GROUPS = "memberOf"  # sso-facts §1.7, §2.3: the claim Atlan's group mappings read
ENTRA_GROUPS_LINK = "http://schemas.microsoft.com/claims/groups.link"  # sent instead of groups past the limit
ENTRA_GROUPS_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
ENTRA_GROUP_LIMIT = 150  # SAML tokens carry at most 150 groups (sso-facts §3.4)
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ATLAN_SAML_GUIDE = "https://ask.atlan.com/hc/en-us/articles/6751945317777-How-to-enable-SAML-2-0-for-SSO"
ATLAN_GROUP_SYNC = ("https://docs.atlan.com/product/capabilities/governance/access-control/troubleshooting/"
                    "troubleshooting-group-sync")

# Names IdPs send by default for the same data, keyed by a canonical form (see canonical_name).
LOOKALIKES = {
    "email": "email", "mail": "email", "emailaddress": "email", "useremail": "email", "emailid": "email",
    "firstname": "firstName", "givenname": "firstName", "userfirstname": "firstName", "fname": "firstName",
    "lastname": "lastName", "surname": "lastName", "sn": "lastName", "familyname": "lastName",
    "userlastname": "lastName", "lname": "lastName",
    "memberof": GROUPS, "ismemberof": GROUPS, "groups": GROUPS, "group": GROUPS, "usergroups": GROUPS,
}
# LDAP / eduPerson OIDs (urn:oid names, SAML V2.0 X.500/LDAP attribute profile) for the same data.
OID_LOOKALIKES = {
    "urn:oid:0.9.2342.19200300.100.1.3": "email",  # mail
    "urn:oid:2.5.4.42": "firstName",  # givenName
    "urn:oid:2.5.4.4": "lastName",  # sn
    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1": GROUPS,  # isMemberOf
}

# sso-facts §2.2: the per-IdP attribute-mapping row of Atlan's setup guide, printed in the remediation.
MAPPING_ROWS = {
    Connector.OKTA: "Okta (Atlan's Okta guide): Attribute Statements `firstName` (Basic) -> `user.firstName`, "
                    "`lastName` (Basic) -> `user.lastName`, `email` (Basic) -> `user.email`, `group` (Basic) -> "
                    "`user.group`; Group Attribute Statement `memberOf` (Unspecified) -> Matches regex `[\\s\\S]+`.",
    Connector.GOOGLE: "Google Workspace (Atlan's Google guide): Attribute mapping Primary email -> `email`, First "
                      "name -> `firstName`, Last name -> `lastName`; Group membership attribute `memberOf`.",
    Connector.ENTRA: "Entra ID (Atlan's Azure AD guide names only the groups claim): Group claims with custom name "
                     "`memberOf`; add claims named exactly `email`, `firstName`, `lastName` with an empty namespace "
                     "(Entra's defaults are http://schemas.xmlsoap.org/... claim URIs).",
    Connector.PINGFEDERATE: "PingFederate (Atlan's guide states no mapping): fulfil `email`, `firstName`, "
                            "`lastName` and `memberOf` in the SP connection's attribute contract.",
    Connector.GENERIC: "SAML 2.0 (Atlan's custom SAML guide): attributes `firstName`, `lastName`, `email`, and "
                       "`memberOf` listing the user's group memberships.",
}


def canonical_name(name: str) -> str:
    """Lower-case letters and digits of the name's last segment: claim URIs and `user.x` prefixes drop away."""
    tail = re.split(r"[/#:]", name.rstrip("/#:"))[-1]
    return re.sub(r"[^a-z0-9]", "", tail.lower())


def lookalike_target(attribute: Attribute) -> str | None:
    """The Atlan attribute this one was probably meant to be, or None. Exact names are not look-alikes."""
    if attribute.name in REQUIRED or attribute.name == GROUPS:
        return None
    if attribute.name in OID_LOOKALIKES:
        return OID_LOOKALIKES[attribute.name]
    if attribute.friendly_name in REQUIRED or attribute.friendly_name == GROUPS:
        return attribute.friendly_name
    return LOOKALIKES.get(canonical_name(attribute.name))


def renames_for(assertion: Assertion, target: str) -> list[str]:
    return [f"rename {quoted(a.name)} to `{target}`" for a in assertion.attributes if lookalike_target(a) == target]


def mapping_row(ctx: DiagContext) -> str:
    """The Atlan guide's mapping row for the IdP in use (forced with --connector, else detected), else generic."""
    chosen = [ctx.expect.connector] if ctx.expect.connector else [d.connector for d in ctx.detections]
    connector = next((c for c in chosen if c in MAPPING_ROWS), Connector.GENERIC)
    return MAPPING_ROWS[connector]


def group_values(assertion: Assertion) -> list[str]:
    return [v for a in assertion.attributes if a.name == GROUPS for v in a.values]


@check(id="ATTR001", title="Required attribute email / firstName / lastName is missing or misnamed",
       severity=Severity.HIGH, requires={Need.RESPONSE}, docs=ATLAN_SAML_GUIDE,
       remediation="Map the IdP's user fields to attributes named exactly `email`, `firstName` and `lastName` "
                   "(case-sensitive).")
def required_attributes(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Atlan's guides require attributes named exactly `email`, `firstName`, `lastName` (sso-facts §2.2, §5 check
    13); SAML attribute names are case-sensitive (SAML core §2.7.3.1). A near miss such as `FirstName`,
    `given_name`, `mail` or an Entra claim URI is named with the rename that fixes it. Without them Keycloak's
    first login cannot fill the profile (`Please specify email.`).
    """
    remediation = f"{spec.remediation} {mapping_row(ctx)}"

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement", expected=", ".join(REQUIRED),
                     remediation=remediation)
        present = {a.name for a in assertion.attributes}
        missing = [name for name in REQUIRED if name not in present]
        if not missing:
            yield spec.passed(f"Assertion {quoted(assertion.id)} carries `email`, `firstName` and `lastName`.",
                              seen=", ".join(REQUIRED), **where)
            return
        renames = [r for name in missing for r in renames_for(assertion, name)]
        text = f"Assertion {quoted(assertion.id)} lacks {', '.join(f'`{n}`' for n in missing)}"
        text += f"; wrong attribute name: {'; '.join(renames)}." if renames else "."
        seen = ", ".join(sorted(present)) or "(no attributes)"
        yield spec.fail(text, seen=seen, **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ATTR002", title="Required attribute has no value", severity=Severity.HIGH, requires={Need.RESPONSE},
       docs=ATLAN_SAML_GUIDE,
       remediation="Fill the user's email, first name and last name in the IdP directory, or map the attributes to "
                   "fields that are set for every user.")
def required_attributes_filled(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """An attribute sent with no AttributeValue, or only blank ones, gives Keycloak an empty profile field: the
    user's directory entry lacks the field or the mapping points at an unset one.
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        judged = [a for a in assertion.attributes if a.name in REQUIRED]
        if not judged:
            yield spec.skip(f"Assertion {quoted(assertion.id)} carries none of the required attributes (see "
                            f"ATTR001).", source=msg.source, locator=f"{locator}/AttributeStatement")
            return
        for attribute in judged:
            where = dict(source=msg.source, locator=f"{locator}/AttributeStatement/Attribute[@Name='{attribute.name}']")
            if any(v.strip() for v in attribute.values):
                yield spec.passed(f"Attribute `{attribute.name}` has a value.", seen=str(len(attribute.values)),
                                  **where)
            else:
                yield spec.fail(f"Attribute `{attribute.name}` of assertion {quoted(assertion.id)} is empty "
                                f"({len(attribute.values)} values, all blank).", seen="(empty)", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ATTR003", title="Group attribute memberOf is missing", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=ATLAN_GROUP_SYNC,
       remediation="Send the user's groups in an attribute named exactly `memberOf` (Okta Group Attribute Statement "
                   "regex `[\\s\\S]+`; Entra group claim custom name `memberOf`; Google Group membership `memberOf`), "
                   "then sign out and in: group sync runs only at login.")
def group_attribute_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Atlan's group sync reads `memberOf` at each login (sso-facts §1.7 "Groups not syncing at all", §5 check 14).
    Without it no mapped group changes: a warning, and a failure when group mappings are given.
    """
    remediation = f"{spec.remediation} {mapping_row(ctx)}"
    mapped = ctx.has(Need.GROUP_MAPPINGS)

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement", expected=GROUPS,
                     remediation=remediation)
        if assertion.attribute(GROUPS) is not None:
            count = len(group_values(assertion))
            yield spec.passed(f"Assertion {quoted(assertion.id)} carries `memberOf` with {count} value(s).",
                              seen=GROUPS, **where)
            return
        renames = renames_for(assertion, GROUPS)
        text = f"Assertion {quoted(assertion.id)} has no `memberOf` attribute, so Atlan syncs no groups"
        text += f"; wrong attribute name: {'; '.join(renames)}." if renames else "."
        if mapped:
            yield spec.fail(f"{text} Group mappings are configured, so they cannot apply.", seen="(none)", **where)
        else:
            yield spec.warn(text, seen="(none)", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ATTR004", title="Entra group overage: groups replaced by a groups.link, or over 150 groups",
       severity=Severity.HIGH, requires={Need.RESPONSE},
       docs="https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-fed-group-claims",
       remediation="In the Entra app's group claim, emit only 'Groups assigned to the application' so each user has "
                   "at most 150 groups in the token.")
def entra_group_overage(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Entra puts at most 150 groups in a SAML token; past that it sends a
    `http://schemas.microsoft.com/claims/groups.link` Graph URL instead of the groups, which no SAML SP follows,
    so group sync silently drops everything (sso-facts §3.4, §5 check 16; argo-cd#8754, teleport#21795).
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement")
        if assertion.attribute(ENTRA_GROUPS_LINK) is not None:
            yield spec.fail(f"Assertion {quoted(assertion.id)} carries `{ENTRA_GROUPS_LINK}` instead of the groups: "
                            f"the user is in more groups than Entra puts in a token.", seen=ENTRA_GROUPS_LINK, **where)
            return
        counts = {a.name: len(a.values) for a in assertion.attributes if a.name in (GROUPS, ENTRA_GROUPS_CLAIM)}
        over = {name: n for name, n in counts.items() if n > ENTRA_GROUP_LIMIT}
        if over:
            name, n = next(iter(over.items()))
            yield spec.fail(f"Assertion {quoted(assertion.id)} lists `{n}` groups in {quoted(name)}, over Entra's "
                            f"{ENTRA_GROUP_LIMIT}-group token limit: the list is likely truncated.", seen=str(n),
                            expected=f"at most {ENTRA_GROUP_LIMIT}", **where)
        else:
            total = sum(counts.values())
            yield spec.passed(f"Assertion {quoted(assertion.id)} lists {total} group value(s) and no groups.link.",
                              seen=str(total), **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ATTR005", title="memberOf values are GUIDs (Entra object IDs)", severity=Severity.INFO,
       requires={Need.RESPONSE}, docs=ATLAN_GROUP_SYNC,
       remediation="Atlan's group mappings must use the exact `memberOf` values: map the object IDs, or configure "
                   "the Entra group claim to emit group names (cloud-only group display names / sAMAccountName).")
def group_values_are_guids(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Entra's group claim sends object IDs (GUIDs) by default, while admins usually type display names into
    Atlan's "SSO Groups" mapping; the mapping then never matches (sso-facts §2.3, §5 check 15). Informational:
    GUID mappings are valid when they are what was configured.
    """

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement/Attribute[@Name='memberOf']")
        values = group_values(assertion)
        if assertion.attribute(GROUPS) is None:
            yield spec.skip(f"Assertion {quoted(assertion.id)} has no `memberOf` (see ATTR003).", **where)
            return
        guids = [v for v in values if GUID.fullmatch(v.strip())]
        if guids:
            yield spec.warn(f"{len(guids)} of {len(values)} `memberOf` values of assertion {quoted(assertion.id)} are "
                            f"GUIDs, e.g. {quoted(guids[0])}: Atlan group mappings must name these IDs, not display "
                            f"names.", seen=guids[0], **where)
        else:
            yield spec.passed(f"The `memberOf` values of assertion {quoted(assertion.id)} are names, not GUIDs.",
                              seen=", ".join(values[:3]), **where)

    yield from each_assertion(ctx, spec, judge)
