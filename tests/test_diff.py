"""`ssodiag diff GOOD BAD` on each connector's healthy and failing sample: the fields that differ, the explanation
first, and values redacted in written files."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.demo import SAMPLES

runner = CliRunner()

# connector -> (the fields that differ, the checks failing for BAD only that the first difference explains).
# Where Atlan's broker stops (KC010) comes first when the broker refuses BAD; an Entra group overage does not stop
# the login (the user gets in without groups), so the group claim comes first there.
STOP = "Where Atlan's broker stops"
EXPECTED = {
    "okta": ({STOP, "Response Issuer", "Assertion Issuer", "Attribute firstName", "Attribute given_name",
              "Signature verdict", "Signing certificate", "Initiation", "InResponseTo", "RelayState"}, ["KC010"]),
    "google": ({STOP, "Initiation", "InResponseTo", "RelayState"}, ["KC010"]),
    "entra": ({"Group attribute memberOf", "Attribute http://schemas.microsoft.com/claims/groups.link"}, ["ENTRA013"]),
    "pingfederate": ({STOP, "Signature algorithm", "Digest algorithm"}, ["KC010"]),
    "defender": ({STOP, "Response Destination", "SubjectConfirmation Recipient"}, ["KC010"]),
}


def diff_json(*args: str) -> dict:
    r = runner.invoke(app, ["diff", *args, "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("connector", EXPECTED)
def test_each_connector_pair_shows_what_differs_explanation_first(connector):
    fields, explains = EXPECTED[connector]
    diff = diff_json(str(SAMPLES / f"{connector}-healthy"), str(SAMPLES / f"{connector}-failure"))
    assert {d["field"] for d in diff["differences"]} == fields
    assert diff["differences"][0]["explains"] == explains
    # explained differences come before the others
    flags = [bool(d["explains"]) for d in diff["differences"]]
    assert flags == sorted(flags, reverse=True)
    assert diff["good"]["verdict"]["status"] == "pass" and diff["bad"]["verdict"]["status"] == "fail"
    assert set(explains) <= {f["check_id"] for f in diff["only_bad_fails"]}


def test_okta_values_on_each_side():
    diff = diff_json(str(SAMPLES / "okta-healthy"), str(SAMPLES / "okta-failure"))
    by_field = {d["field"]: d for d in diff["differences"]}
    assert by_field[STOP]["good"] == "no step stops the login"
    assert by_field[STOP]["bad"].startswith("step 7 (Document signature)")
    assert "Invalid signature in response from identity provider." in by_field[STOP]["bad"]
    assert by_field["Response Issuer"]["good"] == "http://www.okta.com/exk1acmeatlan0000000"
    assert by_field["Response Issuer"]["bad"] == "http://www.okta.com/exk9newapp1111111111"
    assert (by_field["Attribute given_name"]["good"], by_field["Attribute given_name"]["bad"]) == ("absent", "present")
    assert by_field["Initiation"]["bad"].startswith("IdP-initiated")
    assert by_field["Signing certificate"]["good"] != by_field["Signing certificate"]["bad"]


def test_same_login_twice_has_no_difference():
    diff = diff_json(str(SAMPLES / "okta-healthy"), str(SAMPLES / "okta-healthy"))
    assert diff["differences"] == [] and diff["only_bad_fails"] == []


def test_a_har_against_a_response(tmp_path):
    """The working login as a bare SAMLResponse value, the failing one as a HAR, sharing one configuration."""
    har = json.loads((SAMPLES / "pingfederate-healthy" / "login.har").read_text())
    body = next(e["request"]["postData"]["text"] for e in har["log"]["entries"]
                if e["request"]["method"] == "POST" and "SAMLResponse=" in e["request"].get("postData", {}).get("text", ""))
    (tmp_path / "good.b64").write_text(re.search(r"SAMLResponse=([^&]+)", body).group(1))
    config = tmp_path / "ssodiag.toml"
    config.write_text(f'atlan = "https://acme.atlan.com"\nalias = "ping"\n'
                      f'idp_metadata = "{SAMPLES / "pingfederate-healthy" / "pingfederate-metadata.xml"}"\n')
    diff = diff_json(str(tmp_path / "good.b64"), str(SAMPLES / "pingfederate-failure" / "login.har"),
                     "--config", str(config))
    fields = [d["field"] for d in diff["differences"]]
    assert fields[:3] == [STOP, "Signature algorithm", "Digest algorithm"]
    assert "Initiation" in fields  # a bare Response has no browser flow; the HAR shows an IdP-initiated login


def test_two_users_nameid_is_redacted_in_files_but_still_compared(tmp_path):
    from tests.idp import TestIdP

    idp = TestIdP()
    for name, user in (("good.xml", "amorris@acme.example"), ("bad.xml", "amorris.new@acme.example")):
        (tmp_path / name).write_bytes(idp.signed_response(name_id=user))
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    config = tmp_path / "c.toml"
    config.write_text('idp_cert = "idp.pem"\n')
    out = tmp_path / "diff.json"
    r = runner.invoke(app, ["diff", str(tmp_path / "good.xml"), str(tmp_path / "bad.xml"), "-c", str(config),
                            "-f", "json", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "amorris" not in text
    diff = json.loads(text)
    [nameid] = [d for d in diff["differences"] if d["field"] == "NameID"]
    assert nameid["good"] != nameid["bad"] and nameid["good"].startswith("<email-")
    for fmt in ("md", "html", "terminal"):
        rendered = runner.invoke(app, ["diff", str(tmp_path / "good.xml"), str(tmp_path / "bad.xml"), "-c",
                                       str(config), "-f", fmt, "--redact"], catch_exceptions=False).stdout
        assert "NameID" in rendered and "amorris" not in rendered
        # the receipt ends the output, as in every redacted report
        last = [line for line in rendered.splitlines() if line.strip() and line not in ("</html>",)][-1]
        assert "Redaction: replaced 2 e-mail addresses" in last, last


def test_missing_side_is_a_one_line_error(tmp_path):
    r = runner.invoke(app, ["diff", str(tmp_path / "nope.har"), str(SAMPLES / "okta-failure")])
    assert r.exit_code == 2 and "no such file or folder" in r.stderr and "Traceback" not in r.output


def test_an_unreadable_file_is_named_once_under_its_own_side(tmp_path):
    (tmp_path / "empty.har").write_bytes(b"")
    r = runner.invoke(app, ["diff", str(tmp_path / "empty.har"), str(SAMPLES / "okta-failure"), "--no-redact"],
                      catch_exceptions=False)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("GOOD") and lines[1] == "      input error: empty.har: file is empty", lines[:3]
    assert lines[2].startswith("BAD")
