"""`ssodiag groupsync simulate`: exit codes, formats, escaping, bounded rendering, redaction of -o files."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from ssodiag.diag.groupsync_cli import groupsync_app
from ssodiag.reports.render import render
from tests.markdown import as_html, live_tags
from tests.idp import ACS_URL, TestIdP

HOSTILE = '<script>alert("x")</script>'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path):
    m = write(tmp_path, "m.csv", "sso_group,atlan_group\neng,Engineering\nmkt,Marketing\n")
    a = write(tmp_path, "a.csv", "username,email,atlan_group\nalice,alice@corp.com,Marketing\n"
                                 "amorris,amorris@corp.com,Marketing\n,,Engineering\n")
    i = write(tmp_path, "i.csv", "username,email,sso_group\nalice,alice@corp.com,eng\n"
                                 "amorris@corp.com,amorris@corp.com,mkt\nbad-row\n")
    return tmp_path, ["-m", str(m), "-a", str(a), "-i", str(i)]


def invoke(*args: str):
    return CliRunner().invoke(groupsync_app, ["simulate", *args])


def test_json_plan_on_stdout(inputs):
    _, files = inputs
    result = invoke(*files, "--format", "json", "--no-redact")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {(c["username"], c["atlan_group"], c["action"]) for c in doc["changes"]} == {
        ("alice", "Engineering", "add"), ("alice", "Marketing", "remove")}
    assert doc["blocked"][0]["username"] == "amorris@corp.com" and doc["applies"] == "login"
    assert any(w["code"] == "malformed-input" and "line 4" in w["message"] for w in doc["warnings"])


def test_applies_option_overrides_the_inferred_mode(inputs):
    _, files = inputs
    doc = json.loads(invoke(*files, "-f", "json", "--applies", "scim").stdout)
    assert doc["applies"] == "scim"


@pytest.mark.parametrize("fmt, needle", [("terminal", "Group sync plan"), ("md", "# Group sync plan"),
                                         ("html", "<h1>Group sync plan</h1>")])
def test_human_formats(inputs, fmt, needle):
    _, files = inputs
    result = invoke(*files, "-f", fmt)
    assert result.exit_code == 0 and needle in result.stdout
    # stdout that is not a terminal may be a file: redacted by default, with the receipt at the end and a notice
    assert "amorris@corp.com" not in result.stdout and "Redaction: replaced" in result.stdout[-300:]
    assert "--no-redact" in result.stderr
    shown = invoke(*files, "-f", fmt, "--no-redact")
    assert "amorris@corp.com" in shown.stdout and "Redaction" not in shown.stdout


@pytest.mark.parametrize("change, message", [
    (lambda folder, args: args.__setitem__(1, str(folder / "nope.csv")), "nope.csv: no such file"),
    (lambda folder, args: args.__setitem__(3, str(write(folder, "bad.csv", "user,group\nx,y\n"))),
     "expected a CSV header"),
    (lambda folder, args: args.extend(["-f", "json", "-o", "/nonexistent-dir/plan.json"]), "cannot write"),
    (lambda folder, args: args.extend(["-i", str(write(folder, "s.json", '{"Resources": []}'))]), "mix kinds"),
])
def test_input_errors_exit_2_with_one_line(inputs, change, message):
    folder, args = inputs
    change(folder, args)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_required_option_is_a_usage_error(inputs):
    _, files = inputs
    assert invoke(*files[:4]).exit_code == 2


def test_output_file_is_redacted_by_default_and_not_with_no_redact(inputs):
    folder, files = inputs
    out = folder / "plan.json"
    result = invoke(*files, "-f", "json", "-o", str(out))
    assert result.exit_code == 0 and "redacted" in result.stderr
    text = out.read_text()
    assert "alice@corp.com" not in text and "amorris@corp.com" not in text
    assert "alice" not in text and "amorris" not in text  # also the bare Atlan username of the blocked user
    assert json.loads(text)["redacted"] is True
    invoke(*files, "-f", "json", "-o", str(out), "--no-redact")
    assert "amorris@corp.com" in out.read_text()


def test_redaction_covers_every_personal_value_of_a_large_plan_and_keeps_group_names(tmp_path):
    n = 20_000
    m = write(tmp_path, "m.csv", "sso_group,atlan_group\neng,Engineering\nteam@lists.corp.com,Team\n")
    a = write(tmp_path, "a.csv", "username,email,atlan_group\n,,Engineering\n,,Team\njsmith,js@corp.com,Team\n"
              + "".join(f"person{k},,\n" for k in range(n)))
    many = "".join(f"over150,,g{k}\n" for k in range(151))
    i = write(tmp_path, "i.csv", "username,email,sso_group\njohn.smith,JS@corp.com,eng\n" + many
              + "".join(f"person{k},,eng\nperson{k},,team@lists.corp.com\n" for k in range(n)))
    out = tmp_path / "plan.json"
    result = invoke("-m", str(m), "-a", str(a), "-i", str(i), "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for secret in ("person", "jsmith", "john.smith", "JS@corp.com", "over150"):
        assert secret not in text
    doc = json.loads(text)
    assert len(doc["changes"]) == 2 * n and len({c["username"] for c in doc["changes"]}) == n  # tokens are stable
    assert "team@lists.corp.com" in text and "Engineering" in text  # group names are configuration, not personal


def test_hostile_names_render_inert(tmp_path):
    m = write(tmp_path, "m.csv", f'sso_group,atlan_group\n"{HOSTILE.replace(chr(34), chr(34) * 2)}",G|[bold]x\n')
    a = write(tmp_path, "a.csv", "username,email,atlan_group\n,,G|[bold]x\n")
    i = write(tmp_path, "i.csv", f'username,email,sso_group\n"{HOSTILE.replace(chr(34), chr(34) * 2)}",,'
                                 f'"{HOSTILE.replace(chr(34), chr(34) * 2)}"\n')
    files = ["-m", str(m), "-a", str(a), "-i", str(i)]
    html = invoke(*files, "-f", "html").stdout
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = invoke(*files, "-f", "md").stdout
    assert not live_tags(as_html(md)) and "\\|" in md  # no live HTML, and a pipe cannot break the table
    terminal = invoke(*files, "-f", "terminal").stdout
    assert "[bold]x" in terminal  # printed literally, not taken as rich markup


def test_terminal_output_carries_no_escape_sequence_from_a_value():
    doc = big_plan(1)
    doc["changes"][0]["username"] = "\x1b[2J\x9b31mwiped"
    text = render("groupsync-plan", doc, "terminal")
    assert "wiped" in text and "\x1b" not in text and "\x9b" not in text


def big_plan(n: int) -> dict:
    return {"kind": "groupsync-plan", "applies": "login",
            "summary": {"users_in_idp": n, "users_in_atlan": n, "new_users": 0, "not_in_idp": 0, "adds": n,
                        "removes": 0, "blocked": 0, "unchanged": 0, "warnings": 0},
            "changes": [{"username": f"user{k}", "atlan_group": "G", "action": "add", "because": "in SSO group `g`",
                         "sso_groups": ["g"], "new_user": False} for k in range(n)],
            "blocked": [], "unchanged": 0, "warnings": []}


@pytest.mark.parametrize("fmt", ["terminal", "md", "html"])
def test_human_formats_show_the_first_rows_and_count_the_rest(fmt):
    text = render("groupsync-plan", big_plan(500), fmt, limit=50)
    assert "user49" in text and "user50" not in text and "450 more" in text


def test_json_format_keeps_every_change():
    assert len(json.loads(render("groupsync-plan", big_plan(500), "json"))["changes"]) == 500


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format"):
        render("groupsync-plan", big_plan(1), "pdf")


def har_of(response: bytes) -> str:
    """A minimal HAR holding one SAMLResponse POST to Atlan's broker endpoint."""
    body = "SAMLResponse=" + quote(base64.b64encode(response).decode())
    entry = {"startedDateTime": "2026-11-28T10:00:00.000Z", "time": 1,
             "request": {"method": "POST", "url": ACS_URL, "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                         "queryString": [], "headersSize": -1, "bodySize": len(body),
                         "postData": {"mimeType": "application/x-www-form-urlencoded", "text": body}},
             "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                          "content": {"size": 0, "mimeType": "text/html", "text": ""}, "redirectURL": "",
                          "headersSize": -1, "bodySize": 0},
             "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}}
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [entry]}})


def test_saml_response_and_har_files_as_idp_input(tmp_path):
    pytest.importorskip("ssodiag.diag.evidence", reason="diag.evidence (load_evidence) is written by another engineer")
    issuer = TestIdP()
    r1 = tmp_path / "alice.xml"
    r1.write_bytes(issuer.response(name_id="alice", attributes={"memberOf": ["eng"]}))
    r2 = write(tmp_path, "bob.har", har_of(issuer.response(name_id="bob", attributes={"memberOf": ["mkt"]})))
    m = write(tmp_path, "m.csv", "sso_group,atlan_group\neng,Engineering\n")
    a = write(tmp_path, "a.csv", "username,email,atlan_group\nalice,,\nbob,,Engineering\n")
    result = invoke("-m", str(m), "-a", str(a), "-i", str(r1), "-i", str(r2), "-f", "json", "--no-redact")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {(c["username"], c["atlan_group"], c["action"]) for c in doc["changes"]} == {
        ("alice", "Engineering", "add"), ("bob", "Engineering", "remove")}
    garbage = invoke("-m", str(m), "-a", str(a), "-i", str(write(tmp_path, "notes.txt", "hello")))
    assert garbage.exit_code == 2 and "no SAML Response" in garbage.stderr
