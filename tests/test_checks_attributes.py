"""ATTR0xx: Atlan's required attributes, their look-alikes and the group attribute; Entra's group overage and object
IDs (ENTRA013, ENTRA014), which judge the same attributes."""
from __future__ import annotations


import pytest
from msgspec.structs import replace

from ssodiag.checks.attributes import GENERIC_MAPPING_ROW, canonical_name  # importing registers the ATTR checks
from ssodiag.diag.connectors import declaration
from ssodiag.diag.groupsync_io import read_mappings
from ssodiag.diag.model import Connector, Detection, Status
from tests.idp import TestIdP
from tests.test_checks_response import context, message, only, run, window

GOOD = {"email": ["alice@example.test"], "firstName": ["Alice"], "lastName": ["Liddell"], "memberOf": ["eng"]}
CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"


def with_attributes(**changes):
    """GOOD with some attributes replaced (a list) or removed (None)."""
    attributes = dict(GOOD)
    for name, values in changes.items():
        if values is None:
            attributes.pop(name, None)
        else:
            attributes[name] = values
    return attributes


def attribute_findings(check_id: str, attributes: dict, name_id_format: str | None = None, **expect):
    """The findings of one check; the NameID format is unspecified unless given (an emailAddress NameID is the
    email for Keycloak)."""
    xml = TestIdP().response(**window(attributes=attributes, name_id_format=name_id_format))
    return run(check_id, context(message(xml), **expect))


ATTR_IDS = ["ATTR001", "ATTR002", "ATTR003", "ENTRA013", "ENTRA014"]


@pytest.mark.parametrize("check_id", ATTR_IDS)
def test_atlan_style_attributes_pass_every_check(check_id):
    findings = attribute_findings(check_id, GOOD)
    assert [f.status for f in findings] == [Status.PASS] * len(findings), [f.message for f in findings]


LOOKALIKES = [
    ({"Email": ["a@x"]}, "email", "rename `Email` to `email`"),
    ({"mail": ["a@x"]}, "email", "rename `mail` to `email`"),
    ({CLAIMS + "emailaddress": ["a@x"]}, "email", f"rename `{CLAIMS}emailaddress` to `email`"),
    ({"urn:oid:0.9.2342.19200300.100.1.3": ["a@x"]}, "email", "rename `urn:oid:0.9.2342.19200300.100.1.3` to `email`"),
    ({"FirstName": ["A"]}, "firstName", "rename `FirstName` to `firstName`"),
    ({"given_name": ["A"]}, "firstName", "rename `given_name` to `firstName`"),
    ({"givenname": ["A"]}, "firstName", "rename `givenname` to `firstName`"),
    ({CLAIMS + "givenname": ["A"]}, "firstName", f"rename `{CLAIMS}givenname` to `firstName`"),
    ({"user.firstName": ["A"]}, "firstName", "rename `user.firstName` to `firstName`"),
    ({CLAIMS + "surname": ["L"]}, "lastName", f"rename `{CLAIMS}surname` to `lastName`"),
    ({"family_name": ["L"]}, "lastName", "rename `family_name` to `lastName`"),
]


@pytest.mark.parametrize(("replacement", "missing", "rename"), LOOKALIKES)
def test_lookalike_names_are_reported_as_renames(replacement, missing, rename):
    attributes = with_attributes(**{missing: None})
    attributes.update(replacement)
    (finding,) = attribute_findings("ATTR001", attributes)
    assert finding.status is Status.FAIL
    assert f"lacks `{missing}`" in finding.message and f"wrong attribute name: {rename}" in finding.message


def test_missing_attributes_without_lookalikes_are_listed():
    (finding,) = attribute_findings("ATTR001", {"memberOf": ["eng"], "department": ["R&D"]})
    assert finding.status is Status.FAIL
    assert "lacks `email`, `firstName`, `lastName`." in finding.message and "rename" not in finding.message
    assert finding.seen == "department, memberOf"


@pytest.mark.parametrize(("connector", "row_text"), [
    (Connector.OKTA, "Group Attribute Statements (under \"Show legacy configuration\" in newer consoles) `memberOf`"),
    (Connector.GOOGLE, "Primary email → `email`"),
    (Connector.ENTRA, "empty Namespace"),
    (None, "Atlan's custom SAML guide"),
])
def test_remediation_prints_the_detected_idps_mapping_row(connector, row_text):
    detections = (Detection(connector, "test"),) if connector else ()
    ctx = context(message(TestIdP().response(**window(attributes=with_attributes(email=None)))))
    (finding,) = run("ATTR001", replace(ctx, detections=detections))
    assert row_text in finding.remediation
    row = declaration(connector).mapping_row if connector else GENERIC_MAPPING_ROW
    assert row in finding.remediation


def test_forced_connector_wins_over_detection():
    ctx = context(message(TestIdP().response(**window(attributes=with_attributes(email=None)))),
                  connector=Connector.GOOGLE)
    (finding,) = run("ATTR001", replace(ctx, detections=(Detection(Connector.OKTA, "issuer"),)))
    assert declaration(Connector.GOOGLE).mapping_row in finding.remediation
    assert declaration(Connector.OKTA).mapping_row not in finding.remediation


@pytest.mark.parametrize(("attributes", "status", "text"), [
    (with_attributes(lastName=[" "]), Status.FAIL, "`lastName`"),
    (with_attributes(email=[]), Status.FAIL, "`email`"),
    ({"memberOf": ["eng"]}, Status.SKIP, "none of the required attributes"),
])
def test_empty_required_values_fail(attributes, status, text):
    findings = attribute_findings("ATTR002", attributes)
    matching = only(findings, status)
    assert matching and any(text in f.message for f in matching)


@pytest.mark.parametrize(("attributes", "text"), [
    (with_attributes(memberOf=None), "no `memberOf` attribute"),
    (dict(with_attributes(memberOf=None), groups=["eng"]), "rename `groups` to `memberOf`"),
    (dict(with_attributes(memberOf=None), **{"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": ["g"]}),
     "rename `http://schemas.microsoft.com/ws/2008/06/identity/claims/groups` to `memberOf`"),
])
def test_missing_member_of_warns_and_names_lookalikes(attributes, text):
    (finding,) = attribute_findings("ATTR003", attributes)
    assert finding.status is Status.WARN and text in finding.message


def test_missing_member_of_fails_when_group_mappings_are_given(tmp_path):
    mappings = tmp_path / "mappings.csv"
    mappings.write_text("sso_group,atlan_group\nengineering,Engineering\n")
    ctx = context(message(TestIdP().response(**window(attributes=with_attributes(memberOf=None)))),
                  group_mappings=read_mappings(mappings))
    (finding,) = run("ATTR003", ctx)
    assert finding.status is Status.FAIL and "Group mappings are configured" in finding.message


@pytest.mark.parametrize(("attributes", "status", "text"), [
    (dict(GOOD, **{"http://schemas.microsoft.com/claims/groups.link": ["https://graph.windows.net/x/users/y"]}),
     Status.FAIL, "`http://schemas.microsoft.com/claims/groups.link`"),
    (with_attributes(memberOf=[f"group-{i}" for i in range(151)]), Status.FAIL, "`151` groups"),
    (with_attributes(memberOf=[f"group-{i}" for i in range(150)]), Status.PASS, "150 group value(s)"),
])
def test_entra_group_overage(attributes, status, text):
    (finding,) = attribute_findings("ENTRA013", attributes)
    assert finding.status is status and text in finding.message


@pytest.mark.parametrize(("values", "status", "text"), [
    (["6f1c2b9e-3d4a-4c5b-9e8f-0a1b2c3d4e5f", "eng"], Status.WARN, "1 of 2 `memberOf` values"),
    (["engineering", "marketing-team"], Status.PASS, "names, not object IDs"),
])
def test_guid_group_values_are_noted(values, status, text):
    (finding,) = attribute_findings("ENTRA014", with_attributes(memberOf=values))
    assert finding.status is status and text in finding.message


def test_guid_check_skips_without_member_of():
    (finding,) = attribute_findings("ENTRA014", with_attributes(memberOf=None))
    assert finding.status is Status.SKIP


@pytest.mark.parametrize(("name", "canonical"), [
    (CLAIMS + "emailaddress", "emailaddress"), ("user.firstName", "userfirstname"), ("given_name", "givenname"),
    ("urn:mace:dir:attribute-def:mail", "mail"), ("https://x.test/claims/", "claims"),
])
def test_canonical_name_keeps_the_last_segment(name, canonical):
    assert canonical_name(name) == canonical


def test_friendly_name_is_the_name_for_keycloak():
    """Keycloak's mappers match the Name or the FriendlyName: `FriendlyName="email"` is the email attribute."""
    statement = ('<saml:AttributeStatement><saml:Attribute Name="urn:example:attr:7" FriendlyName="email">'
                 '<saml:AttributeValue>a@x</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>')
    xml = TestIdP().response(**window(attributes=with_attributes(email=None), extra_assertion_xml=statement,
                                      name_id_format=None))
    (finding,) = run("ATTR001", context(message(xml)))
    assert finding.status is Status.PASS and "`email` as FriendlyName" in finding.message


def test_an_email_nameid_gives_the_email():
    (finding,) = attribute_findings("ATTR001", with_attributes(email=None),
                                    name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    assert finding.status is Status.PASS and "`email` from the emailAddress NameID" in finding.message


@pytest.mark.parametrize("values", [["alice@example.test"], [" "]])
def test_an_attribute_judged_by_its_friendly_name_shows_its_name_bounded(values):
    """Judged because its FriendlyName is `email`, the attribute's Name is any text the IdP sent: in the finding it
    is quoted (a backtick cannot close the span early) and cut like every untrusted value."""
    name = "`" + "n" * 20_000
    attributes = dict(with_attributes(email=None), placeholder=values)
    xml = TestIdP().response(**window(attributes=attributes)).replace(
        b'Name="placeholder"', f'Name="{name}" FriendlyName="email"'.encode())
    (finding,) = [f for f in run("ATTR002", context(message(xml))) if "n" * 50 in f.message]
    assert finding.status is (Status.PASS if values[0].strip() else Status.FAIL)
    assert len(finding.message) < 400 and len(finding.locator) < 600, (len(finding.message), len(finding.locator))
    assert "`'nnn" in finding.message  # the backtick inside became ', so the span opens once and closes once
