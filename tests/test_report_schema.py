"""The JSON contract: reports/schema/report.schema.json is generated from the code (ssodiag.reports.json_schema), lists
every block the report carries, and real reports of every sample ticket validate against it."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.demo import SAMPLES
from ssodiag.diag.model import Connector
from ssodiag.reports.json_schema import render

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "reports/schema/report.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
TICKETS = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir() and (p / "login.har").exists())
runner = CliRunner()


def validator(definition: str | None = None) -> jsonschema.Draft202012Validator:
    schema = SCHEMA if definition is None else {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def analyze_json(*args: str) -> dict:
    result = runner.invoke(app, ["analyze", *args, "--format", "json", "--fail-on", "never"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ticket_args(ticket: str) -> list[str]:
    folder = SAMPLES / ticket
    metadata = [str(p) for p in folder.glob("*.xml")]
    return [str(folder / "login.har"), *metadata, "--atlan", "https://acme.atlan.com", "--alias", ticket.split("-")[0]]


def test_the_schema_file_is_the_generated_one():
    assert SCHEMA_FILE.read_text() == render(), (
        "reports/schema/report.schema.json is stale: python -m ssodiag.reports.json_schema > "
        "reports/schema/report.schema.json")


def enum_locations(node, path="") -> list[str]:
    found = [path] if isinstance(node, dict) and "enum" in node else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return found + [loc for key, child in children for loc in enum_locations(child, f"{path}/{key}")]


def test_every_enum_is_written_once_and_comes_from_the_code():
    """Connectors used to be listed twice, by hand: now each enum is one definition referenced where it is used."""
    locations = enum_locations(SCHEMA)
    inline = [loc for loc in locations if not loc.startswith("/$defs/") or loc.count("/") != 2]
    assert inline == ["/$defs/groupsync_plan/properties/changes/items/properties/action"]  # add/remove: no Enum
    assert SCHEMA["$defs"]["connector"]["enum"] == [c.value for c in Connector]
    assert json.dumps(SCHEMA).count('"pingfederate"') == 1


@pytest.mark.parametrize("ticket", TICKETS)
def test_the_report_of_every_sample_ticket_validates(ticket):
    doc = analyze_json(*ticket_args(ticket), "--no-redact")
    validator().validate(doc)
    assert doc["messages"] and doc["findings"] and doc["flow"] and doc["metadata"]  # the blocks were exercised


def test_a_redacted_report_with_a_group_sync_plan_validates():
    doc = analyze_json(*ticket_args("okta-failure"), "--mappings", str(SAMPLES / "groupsync/mappings.csv"),
                       "--atlan-users", str(SAMPLES / "groupsync/atlan-users.csv"), "--redact")
    validator().validate(doc)
    assert doc["redaction"]["replaced"] and doc["groupsync"]["warnings"] and doc["expectations"]["acs_urls"]


def test_the_group_sync_plan_alone_validates_against_its_definition():
    folder = SAMPLES / "groupsync"
    result = runner.invoke(app, ["groupsync", "simulate", "--mappings", str(folder / "mappings.csv"),
                                 "--atlan-users", str(folder / "atlan-users.csv"), "--idp", str(folder / "idp-users.csv"),
                                 "--format", "json"], catch_exceptions=False)
    plan = json.loads(result.stdout)
    validator("groupsync_plan").validate(plan)
    assert plan["changes"] and plan["warnings"]


@pytest.mark.parametrize("where", [(), ("findings", 0), ("messages", 0, "signature"), ("flow", 0, "hops", 0)],
                         ids=["top", "finding", "signature", "hop"])
def test_a_block_the_schema_does_not_describe_fails_validation(where):
    doc = analyze_json(*ticket_args("okta-failure"))
    changed = copy.deepcopy(doc)
    node = changed
    for key in where:
        node = node[key]
    node["undocumented"] = {}
    validator().validate(doc)
    with pytest.raises(jsonschema.ValidationError, match="undocumented"):
        validator().validate(changed)
