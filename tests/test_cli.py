"""The `ssodiag` command end to end (typer's CliRunner, plus one real subprocess): exit codes 0/1/2, one-line
errors, JSON that validates, decode layers, the catalogue, redaction of written files."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import zlib
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.registry import load_builtin_checks
from tests.idp import ACS_URL, SP_ENTITY_ID, TestIdP

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "reports/schema/report.schema.json").read_text())
runner = CliRunner()


def invoke(*args: str, input: bytes | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP()


@pytest.fixture
def files(tmp_path, idp):
    good = tmp_path / "response.b64"
    good.write_text(base64.b64encode(idp.signed_response()).decode())
    cert = tmp_path / "idp.pem"
    cert.write_text(idp.cert_pem)
    return tmp_path, good, cert


def test_valid_signed_response_exits_0_with_valid_signature(files):
    tmp, good, cert = files
    r = invoke("analyze", str(good), "--idp-cert", str(cert), "--sp-entity-id", SP_ENTITY_ID,
               "--acs-url", ACS_URL, "--request-id", "_request-1", "--format", "json", "--no-redact")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    [m] = doc["messages"]
    assert m["kind"] == "Response" and m["encoding_layers"] == ["base64"]
    assert m["signature"]["verdict"] == "valid"
    assert m["assertions"][0]["subject"]["name_id"] == "alice@example.test"
    assert doc["inputs"][0]["kind"] == "saml-message"


def test_failing_finding_exits_1_and_fail_on_never_exits_0(tmp_path, idp, files):
    _, _, cert = files
    bad = tmp_path / "bad.xml"
    bad.write_bytes(idp.signed_response(audiences=["https://someone-else.example/"]))
    r = invoke("analyze", str(bad), "--idp-cert", str(cert), "--sp-entity-id", SP_ENTITY_ID, "--format", "json")
    assert r.exit_code == 1
    assert any(f["status"] == "fail" and "someone-else" in f["message"] for f in json.loads(r.stdout)["findings"])
    r = invoke("analyze", str(bad), "--idp-cert", str(cert), "--sp-entity-id", SP_ENTITY_ID, "--fail-on", "never")
    assert r.exit_code == 0


def test_redirect_binding_url_is_decoded(tmp_path, idp):
    raw = zlib.compress(idp.authn_request(id="_req42"))[2:-4]  # raw DEFLATE, SAML bindings §3.4.4.1
    url = "https://idp.example.test/sso?SAMLRequest=" + quote(base64.b64encode(raw).decode(), safe="") + "&RelayState=abc"
    f = tmp_path / "url.txt"
    f.write_text(url)
    r = invoke("analyze", str(f), "--format", "json", "--fail-on", "never", "--no-redact")
    assert r.exit_code == 0, r.output
    [m] = json.loads(r.stdout)["messages"]
    assert (m["kind"], m["id"], m["relay_state"]) == ("AuthnRequest", "_req42", "abc")
    assert m["encoding_layers"][-2:] == ["base64", "inflate"]


def test_stdin_dash(idp):
    r = invoke("analyze", "-", "--format", "json", "--fail-on", "never",
               input=base64.b64encode(idp.signed_response()))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["messages"][0]["kind"] == "Response"


@pytest.mark.parametrize("content, needle", [
    (b"<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><r>&x;</r>", "DOCTYPE"),
    (b"\x00\x01\x02\xff" * 100, "not recognised"),
    (b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'", "malformed"),
])
def test_hostile_input_is_one_line_exit_2(tmp_path, content, needle):
    f = tmp_path / "evil.bin"
    f.write_bytes(content)
    r = invoke("analyze", str(f))
    assert r.exit_code == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "evil.bin" in lines[0]
    assert "Traceback" not in r.output


def test_bad_input_reported_and_good_one_still_analysed(tmp_path, files):
    _, good, _ = files
    bad = tmp_path / "junk.txt"
    bad.write_text("hello, not SAML")
    r = invoke("analyze", str(bad), str(good), "--format", "json", "--fail-on", "never")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["inputs"][0]["error"] and doc["inputs"][1]["error"] is None
    assert len(doc["messages"]) == 1
    assert "junk.txt" in r.stderr


@pytest.mark.parametrize("args, needle", [
    (["analyze", "/nonexistent/x.har"], "no such file"),
    (["analyze", "{good}", "--idp-cert", "{good}"], "--idp-cert"),
    (["analyze", "{good}", "--at", "yesterday"], "--at"),
    (["analyze", "{good}", "--atlan", "https://acme.atlan.com"], "--alias"),
    (["analyze", "{good}", "--idp-fingerprint", "zz:11"], "fingerprint"),
    (["checks", "explain", "NOPE999"], "NOPE999"),
])
def test_usage_errors_exit_2_one_line(files, args, needle):
    _, good, _ = files
    r = invoke(*[a.replace("{good}", str(good)) for a in args])
    assert r.exit_code == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_output_file_is_redacted_by_default(tmp_path, files):
    _, good, cert = files
    out = tmp_path / "report.json"
    r = invoke("analyze", str(good), "--idp-cert", str(cert), "--format", "json", "-o", str(out), "--fail-on", "never")
    assert r.exit_code == 0
    text = out.read_text()
    assert "alice@example.test" not in text and json.loads(text)["redacted"] is True
    out2 = tmp_path / "report2.json"
    invoke("analyze", str(good), "--format", "json", "-o", str(out2), "--no-redact", "--fail-on", "never")
    assert "alice@example.test" in out2.read_text()


def test_decode_prints_layers_and_pretty_xml(files):
    _, good, _ = files
    before = good.read_bytes()
    r = invoke("decode", str(good))
    assert r.exit_code == 0
    assert "layers removed: base64" in r.stdout and "<saml:Assertion" in r.stdout
    assert good.read_bytes() == before  # input never modified


def test_checks_list_json_is_the_catalogue():
    r = invoke("checks", "list", "--format", "json")
    catalogue = json.loads(r.stdout)
    ids = [c["id"] for c in catalogue]
    assert ids == sorted(load_builtin_checks()) and all(c["remediation"] for c in catalogue)  # every check, once
    explain = invoke("checks", "explain", ids[0])
    assert explain.exit_code == 0 and catalogue[0]["title"] in explain.stdout


def test_real_subprocess_never_prints_a_traceback(tmp_path):
    evil = tmp_path / "bomb.txt"
    evil.write_bytes(b"SAMLResponse=" + base64.b64encode(zlib.compress(b"A" * 50_000_000)[2:-4]))
    p = subprocess.run([sys.executable, "-m", "ssodiag", "analyze", str(evil)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_analyze_with_mappings_shows_the_users_group_sync_plan(tmp_path, idp):
    # given a Response for alice in SSO group `engineering`, mapped to Atlan `eng`; alice is in Atlan `ops` (mapped)
    response = tmp_path / "r.xml"
    response.write_bytes(idp.signed_response(attributes={"email": ["alice@example.test"], "firstName": ["A"],
                                                         "lastName": ["L"], "memberOf": ["engineering"]}))
    mappings = tmp_path / "m.csv"
    mappings.write_text("sso_group,atlan_group\nengineering,eng\noperations,ops\n")
    atlan = tmp_path / "a.csv"
    atlan.write_text("username,email,atlan_group\nalice@example.test,alice@example.test,ops\n,,eng\n")
    # when
    r = invoke("analyze", str(response), "--mappings", str(mappings), "--atlan-users", str(atlan),
               "--format", "json", "--fail-on", "never", "--no-redact")
    # then the plan for alice is in the report: added to eng, removed from ops, applied at her next login
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)["groupsync"]
    assert plan["applies"] == "login"
    assert {(c["username"], c["atlan_group"], c["action"]) for c in plan["changes"]} == {
        ("alice@example.test", "eng", "add"), ("alice@example.test", "ops", "remove")}
    md = invoke("analyze", str(response), "--mappings", str(mappings), "--atlan-users", str(atlan),
                "--format", "md", "--fail-on", "never").stdout
    assert "Group sync plan" in md and "remove" in md


def test_missing_member_of_fails_when_mappings_are_given(tmp_path, idp):
    response = tmp_path / "r.xml"
    response.write_bytes(idp.signed_response(attributes={"email": ["a@example.test"], "firstName": ["A"],
                                                         "lastName": ["L"]}))
    mappings = tmp_path / "m.csv"
    mappings.write_text("sso_group,atlan_group\nengineering,eng\n")
    doc = json.loads(invoke("analyze", str(response), "--format", "json", "--fail-on", "never").stdout)
    assert {f["status"] for f in doc["findings"] if f["check_id"] == "ATTR003"} == {"warn"}
    doc = json.loads(invoke("analyze", str(response), "--mappings", str(mappings), "--format", "json",
                            "--fail-on", "never").stdout)
    assert {f["status"] for f in doc["findings"] if f["check_id"] == "ATTR003"} == {"fail"}


def test_atlan_users_without_mappings_is_a_usage_error(files):
    _, good, cert = files
    r = invoke("analyze", str(good), "--atlan-users", str(cert))
    assert r.exit_code == 2 and "--mappings" in r.stderr


@pytest.mark.parametrize("args, needle", [
    (["--at", "0001-01-01T00:00:00+14:00"], "--at"),
    (["--at", "9999-12-31T23:59:59"], "--at"),
    (["--clock-skew", "999999999999"], "--clock-skew"),
    (["--clock-skew", "-1"], "--clock-skew"),
])
def test_out_of_range_time_options_are_usage_errors(files, args, needle):
    _, good, _ = files
    r = invoke("analyze", str(good), *args)
    assert r.exit_code == 2 and needle in r.stderr and "internal error" not in r.stderr


def test_decode_and_json_never_print_terminal_control_characters(tmp_path, idp):
    url = ("https://sp.example.test/acs?SAMLResponse="
           + quote(base64.b64encode(idp.response(name_id="x\x9b31m\u202eevil")).decode(), safe="")
           + "&RelayState=" + quote("\x1b]0;pwned\x07"))
    f = tmp_path / "u.txt"
    f.write_text(url)
    for args in (["decode", str(f)], ["analyze", str(f), "--format", "json", "--fail-on", "never"]):
        out = invoke(*args).stdout
        assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out, args
    doc = json.loads(invoke("analyze", str(f), "--format", "json", "--fail-on", "never", "--no-redact").stdout)
    assert doc["messages"][0]["assertions"][0]["subject"]["name_id"] == "x\x9b31m\u202eevil"  # still exact data


def test_signed_authn_request_is_verified_with_the_sp_certificate(tmp_path, idp):
    # given an AuthnRequest signed by the SP (Atlan's Keycloak signs its requests)
    sp = TestIdP(key_name="sp-signer", common_name="tenant.atlan.example")
    request = tmp_path / "req.xml"
    request.write_bytes(sp.sign_request(sp.authn_request(id="_req7")))
    sp_cert = tmp_path / "sp.pem"
    sp_cert.write_text(sp.cert_pem)
    idp_cert = tmp_path / "idp.pem"
    idp_cert.write_text(idp.cert_pem)

    def verdict(*args):
        doc = json.loads(invoke("analyze", str(request), "--format", "json", "--fail-on", "never", *args).stdout)
        return doc["messages"][0]["signature"]
    # when only the IdP's certificate is configured, the request is untrusted and the reason names --sp-cert
    untrusted = verdict("--idp-cert", str(idp_cert))
    assert untrusted["verdict"] == "untrusted" and "--sp-cert" in untrusted["reason"]
    # then with the SP's certificate it is valid; with the IdP's certificate given as --sp-cert it is not
    assert verdict("--sp-cert", str(sp_cert))["verdict"] == "valid"
    assert verdict("--sp-cert", str(idp_cert))["verdict"] == "untrusted"


@pytest.mark.parametrize("args, needle", [
    (["analyze"], "EVIDENCE"),
    (["analyze", "x.har", "--bogus"], "--bogus"),
    (["analyze", "x.har", "--format", "pdf"], "pdf"),
    (["groupsync", "simulate"], "--mappings"),
])
def test_usage_errors_from_the_real_command_are_one_line(args, needle):
    p = subprocess.run([sys.executable, "-m", "ssodiag", *args], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and p.stdout == ""
    [line] = p.stderr.strip().splitlines()
    assert line.startswith("ssodiag: error:") and needle in line and "--help" in line


def _leaf_commands(group, path=()):
    """Every runnable command of the CLI, as its argument path (``("checks", "list")``)."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def _all_commands():
    import typer.main
    return sorted(_leaf_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("command", _all_commands(), ids=" ".join)
def test_every_commands_help_reads_as_a_cli_and_shows_examples(command):
    """No Python-ish metavar (`<path>`, `{folder}`, `<list[Path]>`, `<bool>`): users read FILE, FOLDER, URL; and
    2-3 runnable examples of this very command."""
    r = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert r.exit_code == 0, r.output
    assert not re.search(r"<[A-Za-z][\w\[\], ]*>|\{[A-Za-z_]+\}", r.output), r.output
    assert "Examples:" in r.output, r.output
    examples = [e.strip() for e in r.output.split("Examples:", 1)[1].split("\n\n", 1)[0].strip().splitlines()]
    invocation = re.compile(rf"(.*\| )?ssodiag {' '.join(command)}( |$)")
    assert 2 <= len(examples) <= 3 and all(invocation.match(e) for e in examples), examples
    # an option with a fixed set of values names them (`--format FORMAT` alone left a new user guessing)
    for option, value in (("--format", "json"), ("--connector", "okta"), ("--fail-on", "never")):
        options = r.output.split("Options:", 1)[-1]
        if re.search(rf"{option} [A-Z]+", options):
            described = options.split(option, 1)[1].split("\n  -", 1)[0]
            assert value in described, (option, described)


def test_the_command_list_covers_the_commands_users_run():
    assert {("analyze",), ("batch",), ("diff",), ("explain",), ("groupsync", "simulate")} <= set(_all_commands())
