"""`ssodiag sanitize`: secrets gone, SAML messages kept (redacted, re-encoded in their own form), same diagnosis,
input untouched; for HARs (read one entry at a time), SAML-tracer exports and single messages in every encoding."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import shutil
import tracemalloc
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote

import pytest
from lxml import etree
from typer.testing import CliRunner

from ssodiag.diag.batch import summary_row
from ssodiag.diag.cli import app
from ssodiag.diag.demo import SAMPLES, STORIES
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.redact import Redactor
from ssodiag.diag.sanitize import REMOVED_WORDS, sanitize_har, sanitize_tracer
from ssodiag.diag.ticket import folder_ticket, ticket_result
from ssodiag.reports.document import build_document
from tests.harbuild import (
    RSA_SHA256, HarBuilder, deflate, post_body, redirect_query, tracer_export_of, write_session_har,
)
from tests.idp import ACS_URL, SSO_URL, TestIdP, utc_now
from tests.xsw import xsw7

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
    assert xml.startswith(b"<!-- ssodiag-sanitized:") and b"<samlp:Response" in xml and b"NameID" in xml
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


def test_metadata_is_refused_in_one_line(tmp_path):
    source = SAMPLES / "okta-healthy" / "okta-metadata.xml"
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(tmp_path / "out.xml")])
    assert result.exit_code == 2
    assert "and error pages; this input is metadata (nothing personal to remove" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "out.xml").exists()


@pytest.fixture(scope="module")
def sanitized_samples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("samples") / "s"
    shutil.copytree(SAMPLES, folder)
    for name in STORIES:
        result = CliRunner().invoke(app, ["sanitize", str(SAMPLES / name / "login.har"), "-o",
                                          str(folder / name / "login.har")])
        assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize("name", list(STORIES))
def test_analyze_reaches_the_same_diagnosis_on_the_sanitized_sample(name, sanitized_samples):
    _same_diagnosis(SAMPLES / name, sanitized_samples / name)


# --------------------------------------------------------------------------- SAML-tracer exports

SAMPLE_USER = "jane.doe"  # the samples' user: her NameID and e-mail are jane.doe@acme.example


def _tracer(name: str) -> dict:
    return tracer_export_of(json.loads((SAMPLES / name / "login.har").read_text()))


def _under_home(tmp_path: Path, name: str) -> Path:
    """A file saved in a home folder that names its owner."""
    folder = tmp_path / "Users" / SAMPLE_USER / "Downloads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _sanitize(source: Path | str, out: Path) -> str:
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Redaction: replaced" in result.stderr
    return out.read_text()


def _assert_nothing_planted(text: str) -> None:
    for secret in (COOKIE, BEARER, PASSWORD, JWT, EMAIL):
        assert secret not in text
    assert SAMPLE_USER not in text.lower()  # her NameID, her e-mail, the home folder of the evidence


def _marked(xml: bytes) -> bytes:
    assert xml.startswith(b"<!-- ssodiag-sanitized:"), xml[:80]
    return xml


def test_a_saml_tracer_export_keeps_its_messages_and_loses_its_secrets(tmp_path):
    export = _tracer("okta-healthy")
    first = export["requests"][0]
    first["headers"] += [{"name": "Cookie", "value": f"KC_SESSION={COOKIE}"},
                         {"name": "Authorization", "value": f"Bearer {BEARER}"}]
    first["responseHeaders"].append({"name": "Set-Cookie", "value": f"KC_SESSION={COOKIE}"})
    export["requests"].append({
        "requestId": "99", "method": "POST", "url": f"https://idp.example.com/login?hint={EMAIL}&x={JWT}",
        "get": [["hint", EMAIL], ["x", JWT]], "post": [["username", EMAIL], ["password", PASSWORD]],
        "headers": [], "responseStatus": 200, "responseHeaders": [], "saml": None})
    source = _under_home(tmp_path, "trace.json")
    source.write_text(json.dumps(export))
    before = hashlib.sha256(source.read_bytes()).hexdigest()

    text = _sanitize(source, tmp_path / "safe.json")
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    _assert_nothing_planted(text)
    safe = json.loads(text)
    assert safe["_ssodiag"] == {"sanitized": True} and "signatures no longer verify" in safe["comment"]
    [acs] = [r for r in safe["requests"] if r["post"] and dict(r["post"]).get("SAMLResponse")]
    xml = _marked(base64.b64decode(dict(acs["post"])["SAMLResponse"]))
    assert b"<samlp:Response" in xml and b"&lt;email-" in xml  # the NameID is the reports' token
    assert _marked(acs["saml"].encode()) and "&lt;email-" in acs["saml"]  # the add-on's decoded copy too
    [request] = [r for r in safe["requests"] if "SAMLRequest=" in r["url"]]
    assert dict(request["get"])["SAMLRequest"] in unquote(request["url"])  # the query fields follow the URL
    assert dict(safe["requests"][-1]["post"])["password"] == "<redacted>"


def _ticket_copy(tmp_path: Path, name: str, evidence: dict[str, str]) -> Path:
    """The sample ticket `name` (its metadata and options) with other evidence files instead of its HAR."""
    folder = tmp_path / name
    shutil.copytree(SAMPLES / name, folder, ignore=shutil.ignore_patterns("login.har"))
    for file_name, text in evidence.items():
        (folder / file_name).write_text(text)
    return folder


def _same_diagnosis(original: Path, sanitized: Path) -> None:
    """`analyze` gives the sanitized ticket the verdict and root cause of the original, and says each signature
    was not checked because the evidence was sanitized."""
    before = ticket_result(folder_ticket(original))
    after = ticket_result(folder_ticket(sanitized))
    doc_before, doc_after = build_document(before), build_document(after)
    row_before, row_after = summary_row("t", doc_before, {}), summary_row("t", doc_after, {})
    failing = lambda doc: {f["check_id"] for f in doc["findings"] if f["status"] == "fail"}  # noqa: E731
    assert failing(doc_after) == failing(doc_before)
    for key in ("connector", "check_id"):
        assert row_after[key] == row_before[key], (key, row_before, row_after)
    # a healthy login cannot be called healthy without its signature: inconclusive, never a failure
    assert row_after["verdict"] == {"pass": "inconclusive"}.get(row_before["verdict"], row_before["verdict"])
    assert any(m.signature.signed_elements for m in after.evidence.messages)  # what is signed is still read
    for original, message in zip(before.evidence.messages, after.evidence.messages, strict=True):
        if original.signature.verdict.value == "absent":  # no signature to break (an AuthnRequest by Redirect)
            assert message.signature.verdict.value == "absent"
        else:
            assert message.signature.verdict.value == "not-checked"
            assert message.signature.reason.startswith("not-checked: sanitized")
    summary = after.verdict.summary.lower()
    assert "tamper" not in summary and "wrapping" not in summary


@pytest.mark.parametrize("name", list(STORIES))
def test_analyze_reaches_the_same_diagnosis_on_a_sanitized_saml_tracer_export(name, tmp_path):
    original = _ticket_copy(tmp_path / "original", name, {"trace.json": json.dumps(_tracer(name))})
    safe = _sanitize(original / "trace.json", tmp_path / "safe.json")
    _same_diagnosis(original, _ticket_copy(tmp_path / "sanitized", name, {"trace.json": safe}))


# --------------------------------------------------------------------------- single messages


def _sample_response(name: str) -> tuple[bytes, str | None]:
    """(XML, RelayState) of the SAMLResponse the sample's browser posted."""
    har = json.loads((SAMPLES / name / "login.har").read_text())
    form = next(dict(parse_qsl(e["request"]["postData"]["text"])) for e in har["log"]["entries"]
                if "SAMLResponse=" in (e["request"].get("postData") or {}).get("text", ""))
    return base64.b64decode(form["SAMLResponse"]), form.get("RelayState")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


FORMS = {  # a Response as people hand it over
    "raw XML": lambda xml, relay: xml.decode(),
    "base64": lambda xml, relay: _b64(xml),
    "base64 wrapped at 76 columns": lambda xml, relay: base64.encodebytes(xml).decode(),
    "URL-encoded base64 in quotes": lambda xml, relay: f'"{quote(_b64(xml), safe="")}"',
    "DEFLATE + base64 + URL-encoding": lambda xml, relay: quote(_b64(deflate(xml)), safe=""),
    "form body": lambda xml, relay: f"SAMLResponse={quote(_b64(xml), safe='')}"
                                    + (f"&RelayState={quote(relay, safe='')}" if relay else ""),
    "URL in a log line": lambda xml, relay: (
        f'10.0.0.7 - - "GET https://acme.atlan.com/sso?SAMLResponse={quote(_b64(deflate(xml)), safe="")} HTTP/1.1" '
        f"Authorization: Bearer {BEARER} Cookie: KC_SESSION={COOKIE}\n"),
    "two values, one per paragraph": lambda xml, relay: f"{_b64(xml)}\n\n{quote(_b64(deflate(xml)), safe='')}\n",
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("name", ["okta-failure", "pingfederate-failure", "entra-healthy"])
def test_a_single_message_is_written_back_in_its_own_encoding_and_diagnoses_the_same(name, form, tmp_path):
    text = FORMS[form](*_sample_response(name))
    original = _ticket_copy(tmp_path / "original", name, {"message.txt": text})
    source = _under_home(tmp_path, "message.txt")
    source.write_text(text)
    safe = _sanitize(source, tmp_path / "safe.txt")
    _assert_nothing_planted(safe)
    if "wrapped" in form:  # a wrapped value keeps its width
        assert {len(line) for line in safe.splitlines()[:-1]} == {len(line) for line in text.splitlines()[:-1]}
    else:  # one line stays one line
        assert safe.count("\n") == text.count("\n")
    before, after = (load_evidence([str(p)]).messages for p in (source, tmp_path / "safe.txt"))
    assert [(m.kind, m.binding, m.encoding_layers) for m in after] == [
        (m.kind, m.binding, m.encoding_layers) for m in before]
    assert all(m.sanitized and _marked(m.raw_xml) for m in after)
    _same_diagnosis(original, _ticket_copy(tmp_path / "sanitized", name, {"message.txt": safe}))


def test_a_file_of_pasted_values_is_split_as_analyze_splits_it_even_where_xml_holds_blank_lines(tmp_path):
    # analyze joined the paragraphs of a pretty-printed Response until they parsed; sanitize split at every blank
    # line and refused the file ("malformed XML: Premature end of data")
    xml, _ = _sample_response("okta-failure")
    issuer_end = xml.index(b"</saml:Issuer>") + len(b"</saml:Issuer>")  # the Response's: outside the signed assertion
    spaced = (xml[:issuer_end] + b"\n  \n" + xml[issuer_end:]).decode()
    text = f"{spaced}\n\n{_b64(xml)}\n"
    source = tmp_path / "pasted.txt"
    source.write_text(text)
    before = load_evidence([str(source)])
    assert before.inputs[0].detail == "2 documents: SAML Response (raw XML); SAML Response (base64)"
    safe = _sanitize(source, tmp_path / "safe.txt")
    _assert_nothing_planted(safe)
    first, blank, second = safe.partition("\n\n")
    assert "\n  \n" in first and first.startswith("<!-- ssodiag-sanitized:") and "\n" not in second.strip()
    after = load_evidence([str(tmp_path / "safe.txt")])
    assert after.inputs[0].detail == before.inputs[0].detail
    assert all(m.sanitized and _marked(m.raw_xml) for m in after.messages)


def test_a_pasted_email_holding_a_response_is_read_and_sanitized_and_prose_alone_is_refused(tmp_path):
    # a support engineer pastes the customer's e-mail: before, analyze refused it ("not recognised") and sanitize
    # either refused it or, when it quoted a known error, copied the SAMLResponse in it unchanged (her NameID, name
    # and e-mail inside the base64)
    xml, _ = _sample_response("okta-failure")
    wrapped = base64.encodebytes(xml).decode()  # 76 columns, as a mail program wraps it
    text = (f"Hi team,\n\nthe user {EMAIL} cannot sign in, Atlan shows Invalid requester. The SAMLResponse from "
            f"the browser:\n{wrapped}Thanks\nBob\n")  # a word right under the value is no part of it
    original = _ticket_copy(tmp_path / "original", "okta-failure", {"mail.txt": text})
    source = _under_home(tmp_path, "mail.txt")
    source.write_text(text)
    before = load_evidence([str(source)])
    assert before.inputs[0].detail == 'text holding SAML Response (base64); quotes "Invalid requester"'
    assert [m.raw_xml for m in before.messages] == [xml] and before.error_pages
    safe = _sanitize(source, tmp_path / "safe.txt")
    _assert_nothing_planted(safe)
    assert "Bob" not in safe and "Thanks" not in safe  # the words around the value are removed
    value_lines = safe.split(f"{REMOVED_WORDS}\n")[1].split(f"\n{REMOVED_WORDS}")[0].splitlines()
    assert len(value_lines) > 1 and {len(line) for line in value_lines[:-1]} == {76}  # wrapped as it was
    [message] = load_evidence([str(tmp_path / "safe.txt")]).messages
    assert message.sanitized and _marked(message.raw_xml)
    _same_diagnosis(original, _ticket_copy(tmp_path / "sanitized", "okta-failure", {"mail.txt": safe}))
    # the error text alone: only the error stays, and the copy is still that error
    said = tmp_path / "said.txt"
    said.write_text(f"Hi team, the user {EMAIL} cannot sign in. Atlan shows Invalid requester.\n")
    assert CliRunner().invoke(app, ["sanitize", str(said), "-o", str(tmp_path / "said-safe.txt")]).exit_code == 0
    assert (tmp_path / "said-safe.txt").read_text() == f"{REMOVED_WORDS} Invalid requester {REMOVED_WORDS}\n"
    [page] = load_evidence([str(tmp_path / "said-safe.txt")]).inputs
    assert (page.error, page.kind.value, page.detail) == (None, "error-page", 'error page: "Invalid requester"')
    prose = tmp_path / "prose.txt"
    prose.write_text(f"Hi team, the user {EMAIL} cannot sign in since Monday. Thanks, Bob\n")
    refused = CliRunner().invoke(app, ["sanitize", str(prose), "-o", str(tmp_path / "prose-safe.txt")])
    assert refused.exit_code == 2 and not (tmp_path / "prose-safe.txt").exists()
    assert len(refused.stderr.strip().splitlines()) == 1 and "not recognised" in refused.stderr
    assert "in a text such as a pasted e-mail" in refused.stderr and "error pages" in refused.stderr


def _customer_email(value: str, signature: str = "") -> str:
    """A customer's e-mail to support holding a SAMLResponse wrapped at 76 columns, signed with name and phone."""
    wrapped = "\n".join(value[i:i + 76] for i in range(0, len(value), 76))
    return ("Hi support,\n\nJohn Carpenter here from ACME Corp (phone +1 415 555 0199). Our users see Invalid "
            f"requester when logging in.\nHere is the SAMLResponse from the browser:\n\n{wrapped}\n\nThanks,\n"
            f"John Carpenter\nSenior IT Admin, ACME Corp\njohn.carpenter@acme.example\n{signature}")


@pytest.mark.parametrize("signature", ["", "https://acme.example/team/john-carpenter\n"])
def test_a_pasted_email_keeps_only_the_saml_value_and_the_error_it_quotes(signature, tmp_path):
    # the words around the value went through the report redactor, which replaces only the values it knows (the
    # Response's, e-mail addresses, tokens): the customer's name, phone number and job title stayed in the copy;
    # with a URL anywhere in it, the e-mail was even taken for a log line, every word kept but for the URL
    response = TestIdP().signed_response()
    text = _customer_email(_b64(response), signature)
    (tmp_path / "original").mkdir()
    source = tmp_path / "original" / "mail.txt"
    source.write_text(text)
    (tmp_path / "sanitized").mkdir()
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(tmp_path / "sanitized" / "mail.txt")])
    assert result.exit_code == 0, result.output
    safe = (tmp_path / "sanitized" / "mail.txt").read_text()
    value_lines = [line for line in safe.splitlines() if re.fullmatch(r"[A-Za-z0-9+/=]+", line)]
    words = "\n".join(line for line in safe.splitlines() if line not in value_lines)
    for personal in ("John", "Carpenter", "415", "555", "0199", "Senior", "ACME Corp", "phone", "Hi support"):
        assert personal not in words
    for personal in ("Carpenter", "Senior", "ACME Corp", "john.carpenter", "acme.example/team"):
        assert personal not in safe
    value = "\n".join(value_lines)  # each run of words is one mark; the lines between them are kept
    assert safe == f"{REMOVED_WORDS} Invalid requester {REMOVED_WORDS}\n\n{value}\n\n{REMOVED_WORDS}\n"
    assert f"removed {36 if signature else 35} words of the pasted text in 3 places" in result.stderr
    # the value, in its place and width, is the same Response with its personal values replaced
    assert len(value_lines) > 1 and {len(line) for line in value_lines[:-1]} == {76}
    xml = _marked(base64.b64decode("".join(value_lines)))
    original, sanitized = etree.fromstring(response), etree.fromstring(xml)
    assert [(e.tag, sorted(e.attrib)) for e in sanitized.iter()] == [(e.tag, sorted(e.attrib)) for e in original.iter()]
    changed = {(a.text, b.text) for a, b in zip(original.iter(), sanitized.iter()) if a.text != b.text}
    assert {before for before, _ in changed} == {"alice@example.test", "Alice", "Liddell"}
    assert all(after.startswith("<") for _, after in changed) and b"alice" not in xml.lower()
    # analyze reads the same in both: the Response and the error the customer quotes, and the same diagnosis
    before, after = (load_evidence([str(p)]) for p in (source, tmp_path / "sanitized" / "mail.txt"))
    assert after.inputs[0].detail == before.inputs[0].detail == \
        'text holding SAML Response (base64); quotes "Invalid requester"'
    assert [(m.kind, m.binding, m.encoding_layers, m.id) for m in after.messages] == [
        (m.kind, m.binding, m.encoding_layers, m.id) for m in before.messages]
    _same_diagnosis(tmp_path / "original", tmp_path / "sanitized")
    said = lambda ticket: [f.message for f in ticket_result(folder_ticket(ticket)).findings  # noqa: E731
                           if f.check_id == "KC001"]
    assert said(tmp_path / "sanitized") == said(tmp_path / "original") != []


def test_a_pasted_email_quoting_an_error_without_a_saml_value_keeps_only_the_error(tmp_path):
    # read as an error page, its words went through the report redactor: the words near the error became a token,
    # the name, phone number and job title further down stayed
    text = _customer_email("").replace("logging in.", "logging in. " + "We tried every browser we have. " * 6)
    (tmp_path / "original").mkdir()
    (tmp_path / "original" / "mail.txt").write_text(text)
    (tmp_path / "sanitized").mkdir()
    result = CliRunner().invoke(app, ["sanitize", str(tmp_path / "original" / "mail.txt"), "-o",
                                      str(tmp_path / "sanitized" / "mail.txt")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sanitized" / "mail.txt").read_text() == f"{REMOVED_WORDS} Invalid requester {REMOVED_WORDS}\n"
    assert "removed 71 words of the pasted text in 2 places" in result.stderr
    before, after = (ticket_result(folder_ticket(tmp_path / name)) for name in ("original", "sanitized"))
    assert [i.detail for i in after.evidence.inputs] == [i.detail for i in before.evidence.inputs] == [
        'error page: "Invalid requester"']
    failing = lambda result: [(f.check_id, f.message) for f in result.findings  # noqa: E731
                              if f.status.value in ("fail", "warn")]
    assert failing(after) == failing(before) != [] and after.verdict.summary == before.verdict.summary


@pytest.mark.parametrize("quoted, kept, dropped", [
    # Keycloak's sentence with its full stop (KC001 and the broker model read it so)
    ("the page said Invalid response from identity provider. and nothing else",
     "Invalid response from identity provider.", "nothing else"),
    # a vendor's sentence, read by its own pattern
    ("Okta shows: Sorry, you can't access Atlan because you are not assigned this app in Okta. Any idea?",
     "not assigned this app in Okta", "Sorry"),
    # the URL Entra's error names, which ENTRA001 compares with Atlan's endpoints
    ("Entra says AADSTS50011: The redirect URI 'https://acme.atlan.com/auth/realms/default/broker/azure/endpoint' "
     "specified in the request does not match the redirect URIs configured for the application. Help!",
     "AADSTS50011 (words removed by ssodiag sanitize) https://acme.atlan.com/auth/realms/default/broker/azure/endpoint",
     "Help"),
    # analyze reads the page around the first error only: an error quoted far below it stays out, else it would
    # come within that reach once the words between are removed, and change the diagnosis
    ("Atlan shows Invalid requester." + " We tried again on every browser we have." * 8 + " Then Page has expired.",
     "Invalid requester", "Page has expired"),
])
def test_a_pasted_email_keeps_each_error_text_as_the_checks_read_it(quoted, kept, dropped, tmp_path):
    text = f"Hello, Jane Roe from Initech.\n{quoted}\n{_b64(TestIdP().signed_response())}\nJane\n"
    (tmp_path / "original").mkdir()
    (tmp_path / "original" / "mail.txt").write_text(text)
    (tmp_path / "sanitized").mkdir()
    safe = _sanitize(tmp_path / "original" / "mail.txt", tmp_path / "sanitized" / "mail.txt")
    assert "Jane" not in safe and "Initech" not in safe
    assert kept in safe and dropped not in safe
    before, after = (ticket_result(folder_ticket(tmp_path / name)) for name in ("original", "sanitized"))
    assert before.evidence.error_pages and after.evidence.error_pages
    seen = lambda result: sorted((f.check_id, f.status.value, f.message) for f in result.findings  # noqa: E731
                                 if f.check_id.startswith(("KC0", "OKTA", "ENTRA", "GOOGLE", "PING", "DEF")) and
                                 f.status.value in ("fail", "warn") and "sanitized" not in f.message)
    assert seen(after) == seen(before) != []
    _same_diagnosis(tmp_path / "original", tmp_path / "sanitized")


CARRIERS = {  # text around a SAML value in a URL, as people paste it; {url} and {line} stand for the URL, {query}
    # for its parameters
    "e-mail": "Hi, John Carpenter here (+1 415 555 0199). Our login fails with Invalid requester, the browser went "
              "to {url} Thanks,\nJohn Carpenter, Senior IT Admin\n",
    "log line": "2026-11-28T09:30:01Z INFO GET {url} 302 device=John-Carpenter-MacBook-Pro\n",
    "curl command": f"curl '{{url}}' -H 'Cookie: KC_SESSION={COOKIE}' -H 'Authorization: Bearer {BEARER}' "
                    "-H 'X-Forwarded-User: John Carpenter'\n",
    # the parameters outside a URL, analyze reads them there; the Referer URL is no part of them
    "request line": '10.0.0.7 - jcarpenter [28/Nov/2026:09:30:01 +0000] "GET /sso?{query} HTTP/1.1" 302 '
                    '"https://acme.atlan.com/" "Mozilla/5.0 (John Carpenter)"\n',
    # with no URL at all: sanitize refused what analyze read
    "request line alone": '10.0.0.7 - jcarpenter [28/Nov/2026:09:30:01 +0000] "GET /sso?{query} HTTP/1.1" 302\n',
    "e-mail quoting the parameters": "Hi, John Carpenter here (+1 415 555 0199). The browser sent {query} and "
                                     "then failed.\nJohn Carpenter, Senior IT Admin\n",
    # analyze reads the first message: a second line is words, and its own user is in them
    "two log lines": "2026-11-28T09:30:01Z GET {url} 302\n2026-11-28T09:30:02Z GET {url} 302 user=John Carpenter\n",
}


@pytest.mark.parametrize("carrier", list(CARRIERS))
@pytest.mark.parametrize("kind", ["SAMLRequest", "SAMLResponse"])
def test_words_around_a_url_carrying_the_message_are_removed_and_analyze_reads_the_same(kind, carrier, tmp_path):
    # taken for a log line, the text went through the report redactor, which replaces only the values it knows:
    # the customer's name, phone number and job title stayed; a request line's message was even copied unchanged
    idp = TestIdP()
    xml = idp.authn_request(id="_req1") if kind == "SAMLRequest" else idp.signed_response(
        name_id="zebulon.quux@corp.example", attributes={"firstName": ["Zebulon"], "lastName": ["Quuxington"]})
    query = redirect_query(kind, xml, "rs1")
    text = CARRIERS[carrier].format(url=f"https://idp.example.com/sso?{query}", query=query)
    source, out = tmp_path / "pasted.txt", tmp_path / "safe.txt"
    source.write_text(text)
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    # what analyze reads is kept, in its place: the URL (or the parameters) with the message re-encoded; every
    # other run of words is one mark
    safe = out.read_text()
    kept = re.fullmatch(rf"{re.escape(REMOVED_WORDS)} (\S+) {re.escape(REMOVED_WORDS)}\n", safe).group(1)
    assert kept.startswith(f"https://idp.example.com/sso?{kind}=" if "url" in CARRIERS[carrier] else f"{kind}=")
    for personal in ("John", "Carpenter", "415", "0199", "Senior", "jcarpenter", "Mozilla", COOKIE, BEARER):
        assert personal not in safe.replace(kept, "")
    assert COOKIE not in kept and BEARER not in kept
    assert "removed " in result.stderr and " words of the pasted text in 2 places" in result.stderr
    before, after = (load_evidence([str(p)]) for p in (source, out))
    assert after.inputs[0].detail == before.inputs[0].detail
    [original], [sanitized] = before.messages, after.messages
    assert (sanitized.kind, sanitized.binding, sanitized.encoding_layers, sanitized.id) == (
        original.kind, original.binding, original.encoding_layers, original.id)
    assert sanitized.sanitized and _marked(sanitized.raw_xml) and not original.sanitized
    for personal in (b"zebulon", b"Zebulon", b"Quuxington"):
        assert personal not in sanitized.raw_xml
    assert original.relay_state == "rs1" and sanitized.relay_state.startswith("<relaystate-")
    # the same diagnosis: the verdict and every check's outcome and words, but for the signature checks (sanitized:
    # not checked) and the NameID each names (a token in the copy)
    at = original.issue_instant.isoformat()

    def diagnosis(path: Path) -> tuple:
        doc = json.loads(CliRunner().invoke(app, ["analyze", str(path), "-f", "json", "--no-redact", "--fail-on",
                                                  "never", "--at", at]).stdout)
        return doc["verdict"]["status"], doc["verdict"]["top_check_id"], sorted(
            (f["check_id"], f["status"], None if f["check_id"] == "SAML017" else f["message"])
            for f in doc["findings"] if not f["check_id"].startswith("SIG"))
    assert diagnosis(out) == diagnosis(source)


def test_a_url_broken_inside_a_parameter_name_is_refused_not_copied(tmp_path):
    # analyze reads the message from the lines joined; sanitize rewrote the URL up to the break and copied the rest,
    # the message with the user's NameID in it, unchanged
    response = TestIdP().signed_response(name_id="zebulon.quux@corp.example")
    url = f"https://idp.example.com/sso?{redirect_query('SAMLResponse', response, 'rs1')}"
    cut = url.index("SAMLRes") + len("SAMLRes")
    source = tmp_path / "wrapped.txt"
    source.write_text(f"{url[:cut]}\n{url[cut:]}\n")
    assert load_evidence([str(source)]).messages  # analyze reads it
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(tmp_path / "safe.txt")])
    assert result.exit_code == 2 and not (tmp_path / "safe.txt").exists()
    assert result.stderr.strip().splitlines() == [
        f"ssodiag: error: {source}: its SAML parameters are broken over lines: put the URL on one line"]


def test_the_receipt_agrees_with_the_words_removed(tmp_path):
    # words removed and no value replaced: the receipt said "nothing personal was found to replace" right under the
    # line counting the words it removed
    said = tmp_path / "said.txt"
    said.write_text("Hi team, John Carpenter here. Atlan shows Invalid requester. Thanks\n")
    result = CliRunner().invoke(app, ["sanitize", str(said), "-o", str(tmp_path / "said-safe.txt")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[1:] == [
        "ssodiag: removed 9 words of the pasted text in 2 places: only what analyze reads in it is kept (SAML values, "
        "the error texts it quotes)",
        "ssodiag: Redaction: nothing personal was found to replace in what was kept."]
    # nothing removed and nothing replaced: the receipt as it was
    url = f"https://idp.example.com/sso?{redirect_query('SAMLRequest', TestIdP().authn_request())}"
    result = CliRunner().invoke(app, ["sanitize", url, "-o", str(tmp_path / "url-safe.txt")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[1:] == ["ssodiag: Redaction: nothing personal was found to replace."]


def test_a_saml_value_in_a_captured_pages_text_is_re_encoded_without_its_personal_values(tmp_path):
    # an error page that prints the SAMLResponse it refused (not in a form, so analyze does not read it): sanitize
    # copied it unchanged, the user's name and e-mail inside the base64
    idp = TestIdP()
    response = idp.signed_response(name_id="zebulon.quux@corp.example", attributes={
        "email": ["zebulon.quux@corp.example"], "firstName": ["Zebulon"], "lastName": ["Quuxington"]})
    har = HarBuilder()
    har.add("POST", "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint", status=400,
            html=f"<html><body><h1>Invalid requester</h1><pre>SAMLResponse:\n{base64.encodebytes(response).decode()}"
                 "</pre></body></html>")
    source = tmp_path / "login.har"
    source.write_bytes(har.bytes())
    safe = _sanitize(source, tmp_path / "safe.har")
    [entry] = json.loads(safe)["log"]["entries"]
    page = entry["response"]["content"]["text"]
    value = page.split("SAMLResponse:\n")[1].split("</pre>")[0]
    xml = base64.b64decode(value)
    assert _marked(xml) and b"Invalid requester" in page.encode()
    for personal in (b"zebulon", b"Zebulon", b"Quuxington"):
        assert personal not in xml and personal.decode() not in safe
    assert max(len(line) for line in value.splitlines()) == 76  # wrapped as the page had it


def test_a_signed_redirect_url_stays_a_url_and_its_signature_is_not_checked(tmp_path):
    idp = TestIdP()
    request = idp.authn_request(id="_req1")
    query = redirect_query("SAMLRequest", request, "rs1", key=idp.key)
    url = (f"https://idp.example.com/sso;jsessionid={COOKIE}?{query}"
           f"&login_hint={quote(EMAIL)}&session_token={BEARER}&password={PASSWORD}&id_token={JWT}")
    source = tmp_path / "url.txt"
    source.write_text(url)
    safe = _sanitize(source, tmp_path / "safe.txt")
    _assert_nothing_planted(safe)
    assert safe.startswith("https://idp.example.com/sso;jsessionid=%3Credacted%3E?SAMLRequest=")
    [message] = load_evidence([str(tmp_path / "safe.txt")]).messages
    assert message.encoding_layers == ("url-decode", "base64", "inflate") and message.binding == "redirect"
    assert message.redirect_signature is not None and message.redirect_signature.sig_alg == RSA_SHA256
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "safe.txt"), "-f", "json", "--fail-on", "never"])
    [reported] = json.loads(result.stdout)["messages"]
    assert reported["signature"]["verdict"] == "not-checked"
    assert reported["signature"]["reason"].startswith("not-checked: sanitized")


def test_a_pasted_url_is_sanitized_from_the_command_line(tmp_path):
    request = TestIdP().authn_request(id="_req1")
    url = f"https://idp.example.com/sso?{redirect_query('SAMLRequest', request, 'rs1')}&password={PASSWORD}"
    safe = _sanitize(url, tmp_path / "safe.txt")
    assert safe.startswith("https://idp.example.com/sso?SAMLRequest=") and PASSWORD not in safe
    assert not Path("https:").exists()


# --------------------------------------------------------------------------- a HAR is read one entry at a time


def _session_tracer(path: Path, target_bytes: int, value_chars: int) -> None:
    """A SAML-tracer export of a long session written request by request (never held whole): the login's
    requests, then requests with a ``value_chars``-character header each, until the file is ``target_bytes``."""
    login = [json.dumps(r).encode() for r in _tracer("okta-healthy")["requests"]]
    filler = json.dumps({"method": "GET", "url": "https://cdn.example.test/app.js", "responseStatus": 200,
                         "headers": [{"name": "x-trace", "value": "x" * value_chars}]}).encode()
    with open(path, "wb") as out:
        out.write(b'{"requests": [' + b",".join(login))
        written = sum(map(len, login))
        while written < target_bytes:
            out.write(b",\n" + filler)
            written += len(filler) + 2
        out.write(b'], "timestamp": 1795000000000}')


@pytest.mark.parametrize("form", ["har", "saml-tracer"])
def test_a_capture_is_sanitized_in_memory_of_its_largest_entry_not_its_size(form, tmp_path):
    entry_chars = 400_000
    path = tmp_path / "session"
    if form == "har":
        har = HarBuilder()
        har.add("POST", ACS_URL, body=post_body("SAMLResponse", TestIdP().signed_response(), "relay"))
        write_session_har(path, har.entries[0], target_bytes=48 * 1024 * 1024, body_chars=entry_chars)
    else:
        _session_tracer(path, target_bytes=48 * 1024 * 1024, value_chars=entry_chars)
    sanitize = sanitize_har if form == "har" else sanitize_tracer
    tracemalloc.start()
    try:
        with open(path, "rb") as fh:
            pieces = sum(1 for _ in sanitize(fh, Redactor(), str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert pieces > 100  # every entry was written
    # read whole, the file alone is 48 MB (and json.load makes several times that); one entry is 0.4 MB
    assert peak < 12 * entry_chars, peak


def test_a_hostile_har_is_one_line_and_leaves_no_file(tmp_path):
    depth = 5_000  # ijson builds an entry of any depth; the copy of it must not crash
    source = tmp_path / "deep.har"
    source.write_text('{"log": {"entries": [{"request": {"url": "https://a.example/"}, "response": {"status": 200}, '
                      f'"_x": {"[" * depth}{"]" * depth}}}]}}}}')
    result = CliRunner().invoke(app, ["sanitize", str(source), "-o", str(tmp_path / "safe.har")])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"ssodiag: error: {source}: HAR entry 1 is nested too deeply"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.har"]  # no copy, no temporary file


def test_a_launch_url_and_an_error_page_are_sanitized_too(tmp_path):
    launch = (f"https://sso.acme.example/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms"
              f"%2Fdefault&TargetResource=https%3A%2F%2Facme.atlan.com%2F&login_hint={quote(EMAIL)}&token={BEARER}")
    safe = _sanitize(launch, tmp_path / "launch.txt")
    assert safe.startswith("https://sso.acme.example/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com")
    assert EMAIL not in unquote(safe) and BEARER not in safe
    page = _under_home(tmp_path, "error.html")
    page.write_text("<html><head><title>Sign in to Atlan</title></head><body><h1>We are sorry...</h1>"
                    f"<p>Hello {EMAIL}, Invalid requester</p><p>Bearer {BEARER} {JWT}</p></body></html>")
    safe = _sanitize(page, tmp_path / "safe.html")
    _assert_nothing_planted(safe)
    assert "Sign in to Atlan" in safe and "Invalid requester" in safe
    [loaded] = load_evidence([str(tmp_path / "safe.html")]).inputs
    assert loaded.kind.value == "error-page" and "Invalid requester" in loaded.detail


@pytest.mark.parametrize("tamper, verdict", [(None, "valid"), ("xsw", "wrapping")])
def test_the_sanitized_mark_never_hides_what_the_signature_proves(tamper, verdict, tmp_path):
    # the mark is a comment anyone can write: a signature that verifies, or an assertion moved aside for an unsigned
    # one (read from the structure, which sanitizing keeps), is reported as it is, not as "not-checked: sanitized"
    from ssodiag.diag.saml import SANITIZED_COMMENT
    from tests.interop import move_signed_assertion_aside

    idp = TestIdP()
    signed = idp.signed_response()
    if tamper == "xsw":
        signed = move_signed_assertion_aside(signed)
    (tmp_path / "r.xml").write_bytes(f"<!--{SANITIZED_COMMENT}-->".encode() + signed)
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    r = CliRunner().invoke(app, ["analyze", str(tmp_path / "r.xml"), "--idp-cert", str(tmp_path / "idp.pem"), "-f",
                            "json", "--fail-on", "never"])
    signature = json.loads(r.stdout)["messages"][0]["signature"]
    assert signature["verdict"] == verdict and "sanitized" not in (signature.get("reason") or "")


# --------------------------------------------------------------------------- what sanitizing cannot change

# The findings that need a signature to verify: whether it does, and so which key made it. Sanitizing breaks every
# signature, so on the copy these say "not-checked: sanitized"; every other finding is the original's.
SIGNATURE_VERIFICATION = {"SIG002", "SIG004", "SIG009"}
# The findings on the signing certificate: on the copy they judge the configured certificate KeyInfo names, as the
# original judges the one that verified, and say it is not a proven signer.
SIGNING_CERTIFICATE = {"SIG007", "SIG008", "SIG011"}
RESPONSES = {
    "unsigned": lambda idp: idp.response(),
    "signed on the Assertion only": lambda idp: idp.signed_response("assertion"),
    "signed on the Response only": lambda idp: idp.signed_response("response"),
    "wrapped (XSW7, its signature verifies)": lambda idp: xsw7(idp.signed_response()),
}


def _judged(path: Path, cert: Path, *options: str) -> tuple[dict, dict[tuple[str, str], list[dict]]]:
    """The JSON report of `analyze` on ``path`` trusting ``cert`` (and ``options``), and its findings by (check,
    locator)."""
    return _analyzed(path, "--idp-cert", str(cert), *options)


def _analyzed(path: Path, *options: str) -> tuple[dict, dict[tuple[str, str], list[dict]]]:
    result = CliRunner().invoke(app, ["analyze", str(path), *options, "-f", "json", "--no-redact", "--fail-on",
                                      "never"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    findings: dict[tuple[str, str], list[dict]] = {}
    for finding in doc["findings"]:
        findings.setdefault((finding["check_id"], finding["evidence"]["locator"]), []).append(finding)
    return doc, findings


@pytest.mark.parametrize("container", ["file", "HAR"])
@pytest.mark.parametrize("response", list(RESPONSES))
def test_a_sanitized_copy_is_judged_as_the_original_but_for_the_signatures_it_broke(response, container, tmp_path):
    # an unsigned Response has no signature to break: it fails SIG001 in the copy as in the original, and a
    # Redirect AuthnRequest, unsigned as SPs send them, stays unsigned (normal), not "not checked"
    idp = TestIdP()
    xml = RESPONSES[response](idp)
    source = tmp_path / ("login.har" if container == "HAR" else "response.xml")
    if container == "HAR":
        har = HarBuilder(start=utc_now())
        har.add("GET", f"{SSO_URL}?{redirect_query('SAMLRequest', idp.authn_request(id='_request-1'), 'rs1')}")
        har.add("POST", ACS_URL, body=post_body("SAMLResponse", xml, "rs1"))
        source.write_bytes(har.bytes())
    else:
        source.write_bytes(xml)
    cert = tmp_path / "idp.pem"
    cert.write_text(idp.cert_pem)
    copy = tmp_path / f"safe{source.suffix}"
    _sanitize(source, copy)
    before, before_findings = _judged(source, cert)
    after, after_findings = _judged(copy, cert)

    # a login that passes cannot pass without its signature: inconclusive; any other verdict is the original's
    status = before["verdict"]["status"]
    assert after["verdict"]["status"] == {"pass": "inconclusive"}.get(status, status)
    assert after["verdict"]["top_check_id"] == before["verdict"]["top_check_id"]
    signed = set()
    for original, sanitized in zip(before["messages"], after["messages"], strict=True):
        if original["signature"]["verdict"] == "absent":
            assert sanitized["signature"]["verdict"] == "absent"
        else:
            signed.add(original["kind"])
            assert sanitized["signature"]["verdict"] in ("not-checked", original["signature"]["verdict"])
    assert after_findings.keys() == before_findings.keys()
    for (check_id, locator), findings in before_findings.items():
        copied = after_findings[(check_id, locator)]
        if check_id in SIGNATURE_VERIFICATION and (locator or "").split("/")[0] in signed:
            assert all("sanitized" in f["message"] for f in copied), copied
        else:
            if check_id in SIGNING_CERTIFICATE and (locator or "").split("/")[0] in signed:
                assert all("not a proven signer" in f["message"] for f in copied if f["status"] != "skip"), copied
            assert [f["status"] for f in copied] == [f["status"] for f in findings], (check_id, findings, copied)
    if response == "unsigned":
        assert [f["status"] for f in after_findings[("SIG001", "Response/Signature")]] == ["fail"]
    if response.startswith("wrapped"):
        assert [f["status"] for f in after_findings[("SIG003", "Response/Signature")]] == ["fail"]


# --------------------------------------------------------------------------- the signing certificate of a copy

def _signed_login(tmp_path: Path, idp: TestIdP) -> tuple[Path, Path]:
    """(a Response ``idp`` signed, its sanitized copy)."""
    source = tmp_path / "response.xml"
    source.write_bytes(idp.signed_response())
    copy = tmp_path / "safe.xml"
    _sanitize(source, copy)
    return source, copy


def _at(instant: dt.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("trust", ["--idp-cert", "--idp-fingerprint"])
@pytest.mark.parametrize("certificate", ["expired", "healthy"])
def test_a_sanitized_copy_judges_the_configured_certificate_its_keyinfo_names(certificate, trust, tmp_path):
    # the IdP signing with an expired certificate (a missed rotation) fails SIG008 on the original: the copy, whose
    # signature cannot verify, names the same configured certificate in KeyInfo and must fail it too
    now = utc_now()
    idp = TestIdP(**{"expired": {"cert_valid_from": now - dt.timedelta(days=400),
                                 "cert_valid_to": now - dt.timedelta(days=3)}, "healthy": {}}[certificate])
    source, copy = _signed_login(tmp_path, idp)
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    configured = str(tmp_path / "idp.pem") if trust == "--idp-cert" else hashlib.sha256(idp.cert_der).hexdigest()
    before, before_findings = _analyzed(source, trust, configured, "--at", _at(now))
    after, after_findings = _analyzed(copy, trust, configured, "--at", _at(now))

    status = before["verdict"]["status"]
    assert after["verdict"]["status"] == {"pass": "inconclusive"}.get(status, status)
    assert after["verdict"]["top_check_id"] == before["verdict"]["top_check_id"]
    if certificate == "expired":
        assert (status, before["verdict"]["top_check_id"]) == ("fail", "SIG008")
    for check_id in sorted(SIGNING_CERTIFICATE):
        original, copied = before_findings[(check_id, "Response/Signature")], after_findings[(check_id,
                                                                                              "Response/Signature")]
        assert [f["status"] for f in copied] == [f["status"] for f in original], (original, copied)
        assert [f["status"] for f in original] == ["fail" if check_id == "SIG008" and certificate == "expired"
                                                   else "pass"]
        assert all(f["message"].startswith(f"Response `{before['messages'][0]['id']}` names in its KeyInfo a ")
                   and "not a proven signer" in f["message"] for f in copied), copied
    # which key signed stays unproven: nothing on the copy says its signature is valid or trusted
    assert after["messages"][0]["signature"]["verdict"] == "not-checked"
    assert [f["status"] for f in after_findings[("SIG004", "Response/Signature")]] == ["skip"]


def test_a_sanitized_copy_naming_no_configured_certificate_keeps_the_skip(tmp_path):
    # KeyInfo names a certificate nothing configured is: which certificate signed cannot be known on the copy (on
    # the original, the KeyInfo key that verifies is judged as the untrusted signer)
    idp, configured = TestIdP(), TestIdP(key_name="successor")
    source, copy = _signed_login(tmp_path, idp)
    cert = tmp_path / "configured.pem"
    cert.write_text(configured.cert_pem)
    _, findings = _judged(copy, cert)
    for check_id in sorted(SIGNING_CERTIFICATE):
        [finding] = findings[(check_id, "Response/Signature")]
        assert finding["status"] == "skip" and "not-checked: sanitized" in finding["message"], finding


def test_atlans_broker_says_the_copys_keyinfo_certificate_is_configured_but_dropped(tmp_path):
    # two configured certificates, the IdP signing with the expired one: Keycloak drops it at the login instant; the
    # copy must say so as the original does, not that KeyInfo names an unconfigured certificate (a rotation)
    now = utc_now()
    old = TestIdP(cert_valid_from=now - dt.timedelta(days=400), cert_valid_to=now - dt.timedelta(days=3))
    new = TestIdP(key_name="successor")
    source, copy = _signed_login(tmp_path, old)
    for idp, name in ((old, "old.pem"), (new, "new.pem")):
        (tmp_path / name).write_text(idp.cert_pem)
    options = ("--idp-cert", str(tmp_path / "old.pem"), "--idp-cert", str(tmp_path / "new.pem"), "--at", _at(now),
               "--atlan", "https://acme.atlan.com", "--alias", "okta")
    step7 = []
    for path in (source, copy):
        doc, _ = _analyzed(path, *options)
        [stop] = [f["message"] for f in doc["findings"] if "step 7 (Document signature)" in f["message"]]
        step7.append(stop)
    assert all("does not use at the login instant" in stop for stop in step7), step7
    assert "none of" not in step7[1] and "sanitized" in step7[1]
