"""ATTR: the attributes Atlan's Keycloak broker maps into the user profile and groups (Atlan's per-IdP SSO guides
and "Troubleshooting IdP group sync"; docs/atlan-sso.md lists them).

Atlan's mappers read `email`, `firstName`, `lastName` and `memberOf`; Keycloak's SAML mappers match an attribute whose
Name or FriendlyName equals the configured name, exactly and case-sensitively (UserAttributeMapper.java:178-184 in
atlanhq/keycloak-identity 20.0.2), and take the email from an emailAddress-format NameID too. The common
failure is not a missing value but a near miss: an IdP default such as Entra's
`http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress`, Google/OIDC-style `given_name`, or `FirstName`.
Each near miss is reported as "rename X to Y", with the attribute-mapping row of the detected IdP's Atlan guide.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from ssodiag.checks.common import each_assertion
from ssodiag.diag.broker import NAMEID_EMAIL
from ssodiag.diag.context import DiagContext
from ssodiag.diag.connectors import ATLAN_SAML_GUIDE, active
from ssodiag.diag.model import Assertion, Attribute, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import clip, quoted

REQUIRED = ("email", "firstName", "lastName")  # every IdP guide of Atlan's asks for these three
GROUPS = "memberOf"  # the claim Atlan's group mappings read (saml-group-idp-mapper attribute.name)
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

# Atlan's custom SAML 2.0 guide; each connector's declaration holds the row of its own guide (diag.connectors).
GENERIC_MAPPING_ROW = ("SAML 2.0 (Atlan's custom SAML guide): attributes `firstName`, `lastName`, `email`, and "
                       "`memberOf` listing the user's group memberships.")


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
        return None  # Keycloak's mappers match the FriendlyName too: `FriendlyName="firstName"` is firstName
    return LOOKALIKES.get(canonical_name(attribute.name))


def provided(assertion: Assertion) -> set[str]:
    """The required names Keycloak finds: an attribute's Name or FriendlyName (exact), and `email` from an
    emailAddress-format NameID (SAMLEndpoint.java:519-521)."""
    names = {n for a in assertion.attributes for n in (a.name, a.friendly_name) if n in REQUIRED}
    if assertion.name_id and assertion.name_id.format == NAMEID_EMAIL and assertion.name_id.value.strip():
        names.add("email")
    return names


def renames_for(assertion: Assertion, target: str) -> list[str]:
    return [f"rename {quoted(a.name)} to `{target}`" for a in assertion.attributes if lookalike_target(a) == target]


def mapping_row(ctx: DiagContext) -> str:
    """The Atlan guide's mapping row for the IdP in use (forced with --connector, else detected), else generic."""
    in_play = active(ctx)
    return in_play[0].mapping_row if in_play else GENERIC_MAPPING_ROW


def group_values(assertion: Assertion) -> list[str]:
    return [v for a in assertion.attributes if a.name == GROUPS for v in a.values]


@check(id="ATTR001", title="Required attribute email / firstName / lastName is missing or misnamed",
       severity=Severity.HIGH, requires={Need.RESPONSE}, docs=ATLAN_SAML_GUIDE,
       remediation="Map the IdP's user fields to attributes named exactly `email`, `firstName` and `lastName` "
                   "(case-sensitive).")
def required_attributes(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Atlan's guides require attributes named exactly `email`, `firstName`, `lastName`; SAML attribute names are
    case-sensitive (SAML core §2.7.3.1). A near miss such as `FirstName`, `given_name`, `mail` or an Entra claim
    URI is named with the rename that fixes it. Without them Keycloak's first login cannot fill the profile
    (`Please specify email.`).
    """
    remediation = f"{spec.remediation} {mapping_row(ctx)}"

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement", expected=", ".join(REQUIRED),
                     remediation=remediation)
        present = {a.name for a in assertion.attributes}
        found = provided(assertion)
        missing = [name for name in REQUIRED if name not in found]
        if not missing:
            friendly = {a.friendly_name for a in assertion.attributes}
            how = [f"`{n}` as FriendlyName" if n in friendly else f"`{n}` from the emailAddress NameID"
                   for n in REQUIRED if n not in present]
            yield spec.passed(f"Assertion {quoted(assertion.id)} gives Keycloak `email`, `firstName` and `lastName`"
                              + (f" ({', '.join(how)})" if how else "") + ".", seen=", ".join(REQUIRED), **where)
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
        judged = [a for a in assertion.attributes if a.name in REQUIRED or a.friendly_name in REQUIRED]
        if not judged:
            yield spec.skip(f"Assertion {quoted(assertion.id)} carries none of the required attributes (see "
                            f"ATTR001).", source=msg.source, locator=f"{locator}/AttributeStatement")
            return
        for attribute in judged:
            # judged by its FriendlyName, the Name is any text the IdP sent: bounded like every untrusted value
            where = dict(source=msg.source,
                         locator=f"{locator}/AttributeStatement/Attribute[@Name='{clip(attribute.name)}']")
            if any(v.strip() for v in attribute.values):
                yield spec.passed(f"Attribute {quoted(attribute.name)} has a value.", seen=str(len(attribute.values)),
                                  **where)
            else:
                yield spec.fail(f"Attribute {quoted(attribute.name)} of assertion {quoted(assertion.id)} is empty "
                                f"({len(attribute.values)} values, all blank).", seen="(empty)", **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ATTR003", title="Group attribute memberOf is missing", severity=Severity.MEDIUM,
       requires={Need.RESPONSE}, docs=ATLAN_GROUP_SYNC,
       remediation="Send the user's groups in an attribute named exactly `memberOf`, then sign out and in: group "
                   "sync runs only at login.")
def group_attribute_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Atlan's group sync reads `memberOf` at each login (Atlan, "Troubleshooting IdP group sync": "Groups not
    syncing at all").
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
