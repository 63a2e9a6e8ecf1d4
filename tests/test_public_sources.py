"""Sources are public: nothing the repository holds or the tool shows names a document outside the repository.

A rule cites the SAML specification, a vendor page or a Keycloak source file and line (docs/atlan-broker-steps.md,
docs/atlan-sso.md); the name of a private note ("<note> §3.1") is a dead end for a maintainer and a user alike.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from ssodiag.checks.keycloak import TABLE
from ssodiag.diag.cli import app
from ssodiag.diag.registry import load_builtin_checks

ROOT = Path(__file__).resolve().parent.parent
# Built from pieces so that this file does not name them itself.
PRIVATE_DOCUMENTS = re.compile("|".join([
    "sso" + "-facts", "saml" + "-validation", "keycloak" + "-broker", "STYLE" + r"\.md",
    "recipes" + r"\.md", r"\bshared" + "/",
]), re.IGNORECASE)
NOT_SOURCE = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks", "build", "dist"}


def private_citations(text: str) -> list[str]:
    return sorted({m.group(0) for m in PRIVATE_DOCUMENTS.finditer(text)})


def repository_files() -> list[Path]:
    return [p for p in ROOT.rglob("*") if p.is_file() and not NOT_SOURCE & set(p.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in p.parts)]


def test_the_pattern_finds_what_it_must_and_spares_the_repository_docs():
    assert private_citations("rule X (sso" + "-facts §3.1), see keycloak" + "-broker.md") == [
        "keycloak" + "-broker", "sso" + "-facts"]
    assert private_citations("details in docs/atlan-broker-steps.md and docs/atlan-sso.md") == []


def test_no_file_in_the_repository_names_a_private_document():
    files = repository_files()
    assert any(p.name == "model.py" for p in files) and any(p.suffix == ".md" for p in files)
    offenders = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary sample data
        if found := private_citations(text):
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, "cite the public source (spec section, vendor URL, Keycloak file:line) or nothing"


def test_no_catalogue_text_names_a_private_document():
    registry = load_builtin_checks()
    texts = {f"{cid} {field}": getattr(spec, field) or ""
             for cid, spec in registry.items() for field in ("title", "remediation", "description", "docs")}
    texts |= {f"KC001 {row.key}": f"{row.meaning} {row.look_at}" for row in TABLE}
    assert {where: found for where, text in texts.items() if (found := private_citations(text))} == {}


def test_no_message_of_a_real_run_names_a_private_document(tmp_path):
    """The bundled demo: every report of every sample ticket (findings, remediations, verdicts) and the group-sync
    plan with its warnings, as the user gets them. The source scan above covers every message template, including
    those this run does not produce."""
    result = CliRunner().invoke(app, ["demo", "--output", str(tmp_path)], catch_exceptions=False)
    reports = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    plan = json.loads(reports["groupsync-plan.json"])
    assert plan["warnings"] and any(json.loads(text).get("findings") for name, text in reports.items()
                                    if name.endswith(".json"))  # the run produced the texts this test reads
    assert private_citations(result.stdout) == []
    assert {name: found for name, text in reports.items() if (found := private_citations(text))} == {}
    listing = CliRunner().invoke(app, ["checks", "list", "--format", "json"], catch_exceptions=False)
    assert json.loads(listing.stdout) and private_citations(listing.stdout) == []
