"""`ssodiag sanitize`: secrets gone, SAML messages kept (redacted, re-encoded), same diagnosis, input untouched."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from ssodiag.diag.batch import summary_row
from ssodiag.diag.cli import app
from ssodiag.diag.demo import SAMPLES, STORIES
from ssodiag.diag.ticket import find_tickets, ticket_result
from ssodiag.reports.document import build_document

COOKIE = "planted-session-cookie-8f3a2b"
BEARER = "plantedBearer0123456789abcdef"
PASSWORD = "Plant3d-Passw0rd!"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ"
EMAIL = "planted.person@corp.example"


def _planted_har(tmp_path: Path) -> Path:
    har = json.loads((SAMPLES / "okta-healthy" / "login.har").read_text())
    entries = har["log"]["entries"]
    first = entries[0]
    first["request"]["headers"] += [{"name": "Cookie", "value": f"KC_SESSION={COOKIE}"},
                                    {"name": "Authorization", "value": f"Bearer {BEARER}"}]
    first["request"]["cookies"] = [{"name": "KC_SESSION", "value": COOKIE}]
    first["response"].setdefault("headers", []).append({"name": "Set-Cookie", "value": f"KC_SESSION={COOKIE}"})
    entries.append({
        "startedDateTime": first["startedDateTime"],
        "request": {"method": "POST", "url": f"https://idp.example.com/login?hint={EMAIL}&x={JWT}",
                    "headers": [], "postData": {"mimeType": "application/x-www-form-urlencoded",
                                                "text": f"username={EMAIL}&password={PASSWORD}",
                                                "params": [{"name": "username", "value": EMAIL},
                                                           {"name": "password", "value": PASSWORD}]}},
        "response": {"status": 200, "headers": [], "content": {"mimeType": "text/html",
                                                               "text": f"<p>Welcome {EMAIL} {COOKIE}</p>"}},
    })
    path = tmp_path / "capture.har"
    path.write_text(json.dumps(har))
    return path


def test_planted_secrets_are_gone_and_the_saml_response_stays(tmp_path):
    source = _planted_har(tmp_path)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "safe.har"
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(out), "--redaction-key",
                                      str(tmp_path / "key.json")])
    assert result.exit_code == 0, result.output
    assert "Redaction: replaced" in result.stderr
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    text = out.read_text()
    for secret in (COOKIE, BEARER, PASSWORD, JWT, EMAIL):
        assert secret not in text
    safe = json.loads(text)
    assert safe["log"]["_ssodiag"] == {"sanitized": True}
    posts = [p["value"] for e in safe["log"]["entries"] for p in e["request"].get("postData", {}).get("params", [])
             if p["name"] == "SAMLResponse"]
    assert posts
    xml = base64.b64decode(posts[0])
    assert xml.startswith(b"<samlp:Response") and b"NameID" in xml
    name_id = re.search(rb"<saml:NameID[^>]*>([^<]+)<", xml).group(1)
    assert name_id.startswith(b"&lt;email-")  # the reports' token, not the user's address
    assert name_id not in _original_response_xml()
    assert json.loads((tmp_path / "key.json").read_text())  # the tokens map back to the real values


def _original_response_xml() -> bytes:
    har = json.loads((SAMPLES / "okta-healthy" / "login.har").read_text())
    return next(base64.b64decode(unquote(p["value"])) for e in har["log"]["entries"]
                for p in e["request"].get("postData", {}).get("params", []) if p["name"] == "SAMLResponse")


def test_output_onto_the_input_is_refused(tmp_path):
    source = tmp_path / "login.har"
    shutil.copy(SAMPLES / "okta-healthy" / "login.har", source)
    before = source.read_bytes()
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(source)])
    assert result.exit_code == 2
    assert "is one of the inputs" in result.stderr
    assert source.read_bytes() == before


def test_a_saml_tracer_export_is_refused_in_one_line(tmp_path):
    source = tmp_path / "tracer.json"
    source.write_text(json.dumps({"requests": []}))
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(tmp_path / "out.har")])
    assert result.exit_code == 2
    assert "HAR files only" in result.stderr and "Traceback" not in result.output


@pytest.fixture(scope="module")
def sanitized_samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples") / "s"
    shutil.copytree(SAMPLES, folder)
    for name in STORIES:
        result = CliRunner().invoke(app, ["sanitize", str(SAMPLES / name / "login.har"), "-o",
                                          str(folder / name / "login.har")])
        assert result.exit_code == 0, result.output
    return {t.name: t for t in find_tickets(folder)}


@pytest.mark.parametrize("name", list(STORIES))
def test_analyze_reaches_the_same_diagnosis_on_the_sanitized_sample(name, sanitized_samples):
    original = {t.name: t for t in find_tickets(SAMPLES)}[name]
    before = summary_row(name, build_document(ticket_result(original)), {})
    result = ticket_result(sanitized_samples[name])
    after = summary_row(name, build_document(result), {})
    assert after["connector"] == before["connector"]
    assert after["check_id"] == before["check_id"]
    signed = [m for m in result.evidence.messages if m.signature.signed_elements]
    assert signed
    for message in result.evidence.messages:
        assert message.signature.verdict.value == "not-checked"
        assert message.signature.reason.startswith("not-checked: sanitized")
    summary = result.verdict.summary.lower()
    assert "tamper" not in summary and "wrapping" not in summary
