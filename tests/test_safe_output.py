"""Safe by default wherever a report leaves the machine: the format follows -o, every file format is redacted (also
on stdout) with a receipt, planted secrets of every kind are removed, and reports are written without ever
destroying evidence (not onto an input, not through a link, atomically); stderr lines stay one escaped line."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssodiag.diag import output
from ssodiag.diag.cli import app
from ssodiag.diag.errors import InputError
from ssodiag.diag.redact import Redactor
from tests.harbuild import HarBuilder, post_body, redirect_query
from tests.idp import TestIdP
from tests.tenant import ACS, ATLAN, ATLAN_ARGS, OKTA, RAW_UNSAFE, SP

runner = CliRunner()

# Planted values, each a kind of leak found by trying: they must not appear in any redacted output.
PLANTED = {
    "SAMLart": "ARTIFACTsecret0001",
    "fragment token": "FRAGaccessTOKEN42",
    "jsessionid": "JSESSIONsecret77",
    "password": "hunter2pass",
    "sessionid": "SESSsecret9",
    "api token": "APITOKENvalue5",
    "name on error page": "Quisenberry",
    "NameID in another case": "zquisenberry",
    "short last name": "Li",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6cSJ9.c2lnbmF0dXJlc2ln",
    "home folder": "jane.doe",
}


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def leaky_login(tmp_path_factory) -> tuple[Path, Path]:
    """A HAR whose URLs and error page carry every planted secret, saved under a home folder that names a person."""
    idp = TestIdP(entity_id=OKTA)
    request = idp.authn_request(issuer=SP, acs_url=ACS, id="_req1")
    response = idp.signed_response(audiences=["https://wrong.example/"], destination=ACS, recipient=ACS,
                                   in_response_to="_req1", name_id="ZQuisenberry",
                                   attributes={"firstName": ["Zoe"], "lastName": ["Li"]})
    har = HarBuilder()
    har.add("GET", f"{ATLAN}/login;jsessionid={PLANTED['jsessionid']}?password={PLANTED['password']}"
                   f"&sessionid={PLANTED['sessionid']}&lang=en#access_token={PLANTED['fragment token']}",
            status=302, location=f"https://corp.okta.com/sso?{redirect_query('SAMLRequest', request, 'rs1')}")
    har.add("GET", "https://corp.okta.com/signin", status=200, html="<html><body>Signing in</body></html>")
    har.add("POST", f"{ACS}?SAMLart={PLANTED['SAMLart']}&x_api_token={PLANTED['api token']}&hint=zquisenberry",
            body=post_body("SAMLResponse", response, "rs1"), status=400,
            html=f"<html><body><p>Welcome back, Zoe Quisenberry (Li). Invalid requester. "
                 f"Bearer {PLANTED['JWT']}</p></body></html>")
    home = tmp_path_factory.mktemp("home") / "Users" / "jane.doe" / "Downloads"
    home.mkdir(parents=True)
    (home / "login.har").write_bytes(har.bytes())
    return home, home / "login.har"


# Certificates and signature values in the report's XML: base64, where two letters such as `Li` turn up by chance
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{40,}")


def _leaks(text: str) -> dict[str, str]:
    found = {}
    text = _BASE64_RUN.sub(" ", text)
    for what, value in PLANTED.items():
        # a short value is a word in its own case (`Li`, not the `<li>` of an HTML list)
        found_here = (re.search(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", text) if len(value) < 3
                      else re.search(re.escape(value), text, re.IGNORECASE))
        if found_here:
            found[what] = value
    return found


@pytest.mark.parametrize("fmt", ["json", "md", "html", "terminal"])
def test_file_formats_on_stdout_are_redacted_with_a_receipt_and_a_notice(leaky_login, fmt):
    _, har = leaky_login
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-f", fmt, "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert not _leaks(result.stdout)
    assert "login.har" in result.stdout  # the file name stays, the folders naming a person do not
    tail = result.stdout.rstrip().splitlines()[-3:]
    if fmt == "json":
        receipt = json.loads(result.stdout)["redaction"]["replaced"]
        kinds = {r["kind"] for r in receipt}
        assert {"secret", "nameid", "attr", "page", "path"} <= kinds
    else:
        assert any("Redaction: replaced" in line for line in tail), tail
    assert "--no-redact" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_no_redact_shows_the_real_values(leaky_login):
    _, har = leaky_login
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-f", "json", "--no-redact", "--fail-on", "never")
    assert "ZQuisenberry" in result.stdout
    assert all(value in result.stdout for value in PLANTED.values() if value != "jane.doe")
    assert "Redaction" not in result.stdout and "redact" not in result.stderr


def test_terminal_on_a_terminal_stays_real_and_elsewhere_is_redacted(monkeypatch):
    monkeypatch.setattr(output.sys.stdout, "isatty", lambda: True, raising=False)
    assert output.wants_redaction(None, output.Format.terminal, None) is False
    assert output.wants_redaction(None, output.Format.html, None) is True
    assert output.wants_redaction(None, output.Format.terminal, Path("r.txt")) is True
    assert output.wants_redaction(False, output.Format.json, Path("r.json")) is False
    monkeypatch.setattr(output.sys.stdout, "isatty", lambda: False, raising=False)
    assert output.wants_redaction(None, output.Format.terminal, None) is True


@pytest.mark.parametrize("name, start", [("report.html", "<!DOCTYPE html>"), ("report.md", "# "),
                                         ("report.json", "{"), ("report.txt", "Verdict")])
def test_format_follows_the_output_extension(leaky_login, tmp_path, name, start):
    _, har = leaky_login
    out = tmp_path / name
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-o", str(out), "--fail-on", "never")
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.lstrip().startswith(start) and not _leaks(text)


@pytest.mark.parametrize("command", [("analyze",), ("diff",)])
def test_a_pdf_output_is_refused_with_how_to_make_one(leaky_login, tmp_path, command):
    _, har = leaky_login
    inputs = [str(har)] * (2 if command == ("diff",) else 1)
    result = invoke(*command, *inputs, "-o", str(tmp_path / "report.pdf"))
    assert result.exit_code == 2 and "print it to PDF" in result.stderr
    assert not list(tmp_path.iterdir())


def test_redaction_key_maps_tokens_back_and_stays_out_of_the_report(leaky_login, tmp_path):
    _, har = leaky_login
    out, key = tmp_path / "r.json", tmp_path / "key.json"
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-o", str(out), "--redaction-key", str(key),
                    "--fail-on", "never")
    assert result.exit_code == 0, result.output
    mapping = json.loads(key.read_text())
    report = out.read_text()
    name_id_token = json.loads(report)["messages"][-1]["assertions"][0]["subject"]["name_id"]
    assert mapping[name_id_token] == "ZQuisenberry"
    assert "ZQuisenberry" not in report and str(key) not in report
    assert os.stat(key).st_mode & 0o077 == 0  # the key holds the real values: owner only
    refused = invoke("analyze", str(har), *ATLAN_ARGS, "--no-redact", "-f", "json", "--redaction-key",
                     str(tmp_path / "k2.json"))
    assert refused.exit_code == 2 and "not redacted" in refused.stderr
    assert not (tmp_path / "k2.json").exists()


def test_redactor_rules_one_by_one():
    r = Redactor()
    r.remember("ZQuisenberry", "nameid")
    r.remember("Li", "attr")
    assert "zquisenberry" not in r.text("user zquisenberry logged in").lower()
    assert r.text("Li") != "Li" and "<attr-" in r.text("Hello Li.") and r.text("Login list") == "Login list"
    url = r.text("https://x.example/a;jsessionid=S1;v=2/b?SAMLart=A1&code=C1&sid=D1&passwd=P1&user_session=E1"
                 "&lang=en#id_token=F1")
    assert not re.search(r"S1|A1|C1|D1|P1|E1|F1", url) and "lang=en" in url and "/b?" in url
    assert r.text("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6cSJ9.c2lnbmF0dXJl") == "token <redacted>"
    assert r.text("/home/jdoe/evidence/login.har") == "/home/<user>/evidence/login.har"
    kinds = {entry["kind"]: entry["count"] for entry in r.receipt()}
    assert kinds["nameid"] == 1 and kinds["attr"] == 1 and kinds["secret"] >= 7 and kinds["path"] == 1
    okta_app_link = "https://acme.okta.com/home/acme_atlan_1/0oa1b2c3/aln1b2c3"  # a URL path, not a home folder
    assert r.text(okta_app_link) == okta_app_link and r.text("C:/Users/jdoe/x.har") == "C:/Users/<user>/x.har"


def test_a_short_name_is_not_replaced_inside_the_reports_own_words():
    # the surname `Doe` of a sample user turned "The tenant does not require …" into "The tenant <attr-…>s not …"
    r = Redactor()
    r.remember("Doe", "attr")
    r.remember("Jane", "attr")
    r.remember("Quisenberry", "attr")
    assert r.text("The tenant does not require encrypted assertions.") == \
        "The tenant does not require encrypted assertions."
    assert "Doe" not in r.text("Jane Doe (doe@acme.com)") and "Jane" not in r.text("JANE")
    assert "quisenberry" not in r.text("zquisenberry1").lower()  # a longer value still goes wherever it is


def test_error_page_text_keeps_the_known_error_and_hides_the_rest():
    r = Redactor()
    r.remember_page("Welcome back, Zoe Quisenberry. Invalid requester. Contact your help desk")
    out = r.text("Welcome back, Zoe Quisenberry. Invalid requester. Contact your help desk")
    assert "Invalid requester" in out and "Quisenberry" not in out and "<page-" in out


def test_error_page_status_line_stays_readable_and_names_around_it_do_not():
    r = Redactor()
    r.remember_page("404 Not Found")
    r.remember_page("Hello Zoe Quisenberry. HTTP/1.1 500 Internal Server Error")
    r.remember_page("Found Zoe")  # a one-word reason phrase without its code is page text like any other
    # a check's title quoting the same status is not rewritten because a page said it
    assert r.text("PingFederate launch URL has `&` where `?` belongs (404 Not Found)") == \
        "PingFederate launch URL has `&` where `?` belongs (404 Not Found)"
    out = r.text("Hello Zoe Quisenberry. HTTP/1.1 500 Internal Server Error")
    assert "Internal Server Error" in out and "Quisenberry" not in out
    assert "Zoe" not in r.text("Found Zoe")


# --------------------------------------------------------------------------- writing files safely


def test_output_onto_an_input_is_refused_and_the_input_is_untouched(leaky_login, tmp_path):
    _, har = leaky_login
    before = har.read_bytes()
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-o", str(har))
    assert result.exit_code == 2 and "is one of the inputs" in result.stderr
    assert har.read_bytes() == before
    link = tmp_path / "hardlink.har"
    os.link(har, link)  # another name for the same file is still the input
    assert invoke("analyze", str(link), *ATLAN_ARGS, "-o", str(har)).exit_code == 2
    assert har.read_bytes() == before


@pytest.mark.parametrize("dangling", [False, True])
def test_output_through_a_symlink_is_refused(leaky_login, tmp_path, dangling):
    _, har = leaky_login
    target = tmp_path / "elsewhere.txt"
    if not dangling:
        target.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-o", str(link))
    assert result.exit_code == 2 and "symbolic link" in result.stderr
    assert (target.read_text() == "keep me") if not dangling else not target.exists()


def test_dash_is_stdout_and_no_file_named_dash(leaky_login, tmp_path, monkeypatch):
    _, har = leaky_login
    monkeypatch.chdir(tmp_path)
    result = invoke("analyze", str(har), *ATLAN_ARGS, "-o", "-", "-f", "json", "--fail-on", "never")
    assert result.exit_code == 0 and json.loads(result.stdout)["redacted"] is True
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("command", ["analyze", "sanitize"])
def test_the_key_never_takes_the_reports_place(leaky_login, tmp_path, monkeypatch, command):
    # `-o r.json --redaction-key r.json` wrote the key over the report: the file meant for the ticket held the real
    # values; `--redaction-key -` made a file named `-`
    _, har = leaky_login
    monkeypatch.chdir(tmp_path)
    out = "r.json" if command == "analyze" else "safe.har"
    options = ATLAN_ARGS if command == "analyze" else ()
    for key in (out, f"./{out}", "-"):
        result = invoke(command, str(har), *options, "-o", out, "--redaction-key", key)
        assert result.exit_code == 2 and "real values" in result.stderr, (key, result.output)
        assert sorted(p.name for p in tmp_path.iterdir()) == [], key  # refused before anything is written


def test_an_interrupted_write_leaves_the_old_report_and_no_partial_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old report")
    with pytest.raises(InputError):
        output.write_file(target, "new \ud800 report")  # a lone surrogate fails half-way through encoding
    assert target.read_text() == "old report" and [p.name for p in tmp_path.iterdir()] == ["report.md"]
    output.write_file(target, "new report")
    assert target.read_text() == "new report" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_error_lines_escape_control_and_bidi_characters(tmp_path):
    name = tmp_path / "evil\x1b]0;pwned\x07\u202eraw.har"
    result = invoke("analyze", str(name))
    assert result.exit_code == 2
    assert not RAW_UNSAFE.search(result.stderr) and "\\u001b" in result.stderr and "\\u202e" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_fixed_text_of_keycloak_and_atlan_pages_stays_and_the_person_on_them_does_not():
    """Keycloak's login theme titles every page of Atlan's login "Sign in to Atlan": remembered as page text, it
    was replaced wherever a report said it."""
    r = Redactor()
    page = ("Sign in to Atlan We are sorry... Hello Zoe Quisenberry, Invalid requester « Back to Application")
    r.remember_page(page)
    r.remember_page("Sign in to Atlan Account already exists User with email zoe@corp.example already exists. "
                    "How do you want to continue? Review profile Add to existing account")
    r.remember_page("Sign in to Atlan Update Account Information Email zoe@corp.example First name Zoe")
    for fixed in ("Sign in to Atlan", "the page titled Sign in to Atlan", "We are sorry...", "Review profile",
                  "First name", "Email"):
        assert r.text(fixed) == fixed
    out = r.text(page)
    assert "Sign in to Atlan" in out and "We are sorry..." in out and "Invalid requester" in out
    assert "Quisenberry" not in out and "<page-" in out
    assert "zoe@corp.example" not in r.text("User with email zoe@corp.example already exists.")
    assert "Zoe" not in r.text("Email zoe@corp.example First name Zoe")


def test_a_keycloak_page_title_stays_readable_in_the_redacted_report(leaky_login, tmp_path):
    _, har = leaky_login
    doc = json.loads(har.read_text())
    # Atlan's broker page as Keycloak renders it (login theme: title "Sign in to Atlan", error.ftl heading)
    doc["log"]["entries"][-1]["response"]["content"]["text"] = (
        "<html><head><title>Sign in to Atlan</title></head><body><h1>We are sorry...</h1>"
        "<p>Welcome back, Zoe Quisenberry. Invalid requester.</p></body></html>")
    source = tmp_path / "login.har"
    source.write_text(json.dumps(doc))
    report = invoke("analyze", str(source), *ATLAN_ARGS, "-f", "md", "--fail-on", "never").stdout
    assert "Sign in to Atlan" in report and "Invalid requester" in report
    assert "Quisenberry" not in report
