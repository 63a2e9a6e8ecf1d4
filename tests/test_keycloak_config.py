"""--keycloak-idp: the tenant's identity provider read from Keycloak's admin API JSON or a realm export, its
settings driving the broker model, and the checks on the settings themselves (KC020-KC025)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.errors import InputError
from ssodiag.diag.keycloak_config import read_keycloak_idp
from tests.harbuild import HarBuilder, post_body
from tests.idp import TestIdP, utc_now

ATLAN = "https://acme.atlan.com"
SP = f"{ATLAN}/auth/realms/default"
ACS = f"{SP}/broker/okta/endpoint"
OKTA = "http://www.okta.com/exk123"
runner = CliRunner()


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP(entity_id=OKTA)


def provider(idp: TestIdP, alias: str = "okta", **settings) -> dict:
    """What GET /admin/realms/default/identity-provider/instances/okta returns (values are strings)."""
    config = {"singleSignOnServiceUrl": "https://acme.okta.com/app/x/sso/saml", "validateSignature": "true",
              "signingCertificate": idp.cert_b64, "idpEntityId": OKTA, "postBindingResponse": "true",
              "principalType": "SUBJECT", **settings}
    return {"alias": alias, "providerId": "saml", "enabled": True, "config": config}


def importer(name: str, attribute: str, target: str, alias: str = "okta") -> dict:
    return {"name": name, "identityProviderAlias": alias, "identityProviderMapper": "saml-user-attribute-idp-mapper",
            "config": {"syncMode": "INHERIT", "attribute.name": attribute, "user.attribute": target}}


def test_admin_api_json_is_read_with_keycloak_defaults(idp):
    document = provider(idp, allowedClockSkew="30")
    document["mappers"] = [importer("first", "firstName", "firstName")]
    config = read_keycloak_idp(json.dumps(document).encode(), "okta.json", None)
    assert (config.alias, config.validate_signature, config.idp_entity_id, config.allowed_clock_skew) == \
        ("okta", True, OKTA, 30)
    assert [c.sha256 for c in config.signing_certificates] == [
        read_keycloak_idp(json.dumps(provider(idp)).encode(), "x", None).signing_certificates[0].sha256]
    assert [(m.attribute, m.user_attribute) for m in config.mappers] == [("firstName", "firstName")]
    bare = read_keycloak_idp(json.dumps({"alias": "okta", "config": {}}).encode(), "bare.json", None)
    assert (bare.validate_signature, bare.idp_entity_id, bare.allowed_clock_skew, bare.want_assertions_signed) == \
        (False, "", 0, False)  # absent keys take Keycloak's defaults: no validation, no Issuer check, skew 0


def test_realm_export_needs_the_alias_when_several_idps(idp):
    export = {"realm": "default", "identityProviders": [provider(idp, "okta"), provider(idp, "azure"),
                                                         {"alias": "google-oidc", "providerId": "oidc", "config": {}}],
              "identityProviderMappers": [importer("mail", "email", "email", "azure"),
                                          importer("first", "firstName", "firstName", "okta")]}
    data = json.dumps(export).encode()
    with pytest.raises(InputError, match="2 SAML identity providers .*--alias"):
        read_keycloak_idp(data, "realm.json", None)
    with pytest.raises(InputError, match="no SAML identity provider with alias `ping`.*`okta`, `azure`"):
        read_keycloak_idp(data, "realm.json", "ping")
    azure = read_keycloak_idp(data, "realm.json", "azure")
    assert azure.alias == "azure" and [m.name for m in azure.mappers] == ["mail"]


def test_certificate_with_glued_pem_armour_and_unreadable_ones(idp):
    """The fork strips `-----BEGINCERTIFICATE-----` (no space) as well as the spaced form."""
    glued = f"-----BEGINCERTIFICATE-----{idp.cert_b64}-----ENDCERTIFICATE-----"
    config = read_keycloak_idp(json.dumps(provider(idp, signingCertificate=f"{glued},not-a-cert")).encode(), "x",
                               None)
    assert len(config.signing_certificates) == 1 and config.unreadable_certificates == ("not-a-cert",)


@pytest.mark.parametrize("document, message", [
    (b"[1, 2]", "identityProviders"), (b'{"realm": "x"}', "not a Keycloak identity provider"),
    (b'{"alias": "okta", "config": {"principalType": "EMAIL"}}', "principalType"),
])
def test_bad_configuration_is_one_line_error(tmp_path, idp, document, message):
    (tmp_path / "idp.json").write_bytes(document)
    (tmp_path / "r.xml").write_bytes(response(idp))
    result = runner.invoke(app, ["analyze", str(tmp_path / "r.xml"), "--keycloak-idp", str(tmp_path / "idp.json")])
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def analyze(tmp_path, idp: TestIdP, xml: bytes, document: dict, *extra: str) -> dict:
    (tmp_path / "idp.json").write_text(json.dumps(document))
    capture = HarBuilder(start=utc_now())
    capture.add("POST", ACS + "/clients/atlan-saml", body=post_body("SAMLResponse", xml), status=302, location=ATLAN)
    (tmp_path / "login.har").write_bytes(capture.bytes())
    result = runner.invoke(app, ["analyze", str(tmp_path / "login.har"), "--keycloak-idp", str(tmp_path / "idp.json"),
                                 "--atlan", ATLAN, *extra, "--format", "json", "--fail-on", "never"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def statuses(doc: dict, check_id: str) -> list[str]:
    return [f["status"] for f in doc["findings"] if f["check_id"] == check_id]


def response(idp: TestIdP, **fields) -> bytes:
    target = ACS + "/clients/atlan-saml"
    return idp.signed_response(**{"destination": target, "recipient": target, "audiences": [SP],
                                  "in_response_to": None, **fields})


def test_tenant_settings_drive_the_broker_and_trust(tmp_path, idp):
    """No --idp-metadata: the configured certificate is the trust, the tenant's skew is used."""
    now = utc_now()
    early = response(idp, issue_instant=now + dt.timedelta(seconds=20), not_before=now + dt.timedelta(seconds=20))
    doc = analyze(tmp_path, idp, early, provider(idp, allowedClockSkew="60"))
    assert doc["broker"][0]["stop_step"] is None and doc["broker"][0]["settings"]["assumptions"] == []
    assert doc["expectations"]["clock_skew"] == 60
    assert doc["messages"][0]["signature"]["verdict"] == "valid"
    assert statuses(doc, "KC024") == ["warn"] and statuses(doc, "KC020") == ["pass"]
    strict_default = analyze(tmp_path, idp, early, provider(idp))
    assert strict_default["broker"][0]["stop_step"] == 19


def test_expired_configured_certificate_fails_every_login(tmp_path):
    old = TestIdP(entity_id=OKTA, key_name="old", cert_valid_from=utc_now() - dt.timedelta(days=800),
                  cert_valid_to=utc_now() - dt.timedelta(days=2))
    doc = analyze(tmp_path, old, response(old), provider(old))
    assert statuses(doc, "KC020") == ["fail"]
    assert doc["verdict"]["summary"].startswith("Atlan stops at step 7 (Document signature)")
    assert "expired or not yet valid" in doc["verdict"]["summary"]


def test_settings_checks(tmp_path, idp):
    other = TestIdP(entity_id=OKTA, key_name="rotated")
    (tmp_path / "md.xml").write_bytes(other.metadata())
    document = provider(idp, validateSignature="false", idpEntityId="")
    document["mappers"] = [importer("first", "firstname", "firstName"), importer("mail", "email", "email")]
    doc = analyze(tmp_path, idp, response(idp), document, "--idp-metadata", str(tmp_path / "md.xml"))
    assert statuses(doc, "KC021") == ["fail"] and statuses(doc, "KC022") == ["warn"]
    assert statuses(doc, "KC023") == ["fail"] and statuses(doc, "KC020") == ["skip"]
    by_mapper = {f["evidence"]["locator"]: f for f in doc["findings"] if f["check_id"] == "KC025"}
    assert by_mapper["mapper mail"]["status"] == "pass"
    assert by_mapper["mapper first"]["status"] == "warn" and "`firstName`" in by_mapper["mapper first"]["message"]
