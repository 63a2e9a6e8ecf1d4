"""``ssodiag demo``: the bundled sample tickets (one healthy login and one typical failure per connector, and a
group-sync plan), one line each; with ``-o DIR`` every report, the plan and an index.

The samples (diag/samples/, made by scripts/make_samples.py) are ticket folders as `ssodiag batch` reads them. Every
check judges at the capture's own time and every certificate is valid for years around it, so the outcome never
depends on the day the demo runs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from ssodiag.diag.batch import (
    REPORT_FORMATS, ReportOptions, sort_key, summary_row, write_index, write_reports,
)
from ssodiag.diag.groupsync import SyncPlan
from ssodiag.diag.output import write_file
from ssodiag.diag.ticket import Ticket, find_tickets, ticket_result
from ssodiag.diag.text import clip

SAMPLES = Path(__file__).resolve().parent / "samples"
# Sample folder -> the story it tells, in the order the demo shows them.
STORIES = {
    "okta-healthy": "Okta, SP-initiated login that works",
    "okta-failure": "Okta app re-created: new issuer and certificate, `given_name`, tile to the SP endpoint",
    "google-healthy": "Google Workspace, SP-initiated login that works",
    "google-failure": "Google dashboard launch posted to the SP-initiated endpoint",
    "entra-healthy": "Entra ID, SP-initiated login that works",
    "entra-failure": "Entra ID group overage: groups.link instead of memberOf",
    "pingfederate-healthy": "PingFederate startSSO.ping launch (IdP-initiated) that works",
    "pingfederate-failure": "PingFederate SP connection signing with RSA-SHA1",
    "defender-healthy": "Entra ID through the Defender for Cloud Apps proxy, works",
    "defender-failure": "Reply URL registered through the Defender proxy (*.mcas.ms)",
}
GROUPSYNC = SAMPLES / "groupsync"
PLAN_NAME = "groupsync-plan"


def sample_tickets() -> list[Ticket]:
    by_name = {t.name: t for t in find_tickets(SAMPLES)}
    return [by_name[name] for name in STORIES]


def groupsync_plan() -> SyncPlan:
    """The plan of the sample tenant's next sync (unredacted)."""
    from ssodiag.diag.groupsync import simulate
    from ssodiag.diag.groupsync_io import read_atlan, read_idp, read_mappings

    return simulate(read_mappings(GROUPSYNC / "mappings.csv"), read_atlan(GROUPSYNC / "atlan-users.csv"),
                    read_idp([GROUPSYNC / "idp-users.csv"]))


def line(row: dict[str, Any]) -> str:
    text = f"{row['ticket']:<21} {row['connector']:<20} {row['verdict'].upper():<5} {clip(row['cause'], 90)}"
    return text + (f"\n{'':<48}fix: {clip(row['fix'], 110)}" if row["verdict"] == "fail" else "")


def plan_line(plan: dict[str, Any]) -> str:
    s = plan["summary"]
    return (f"{'groupsync':<21} {'mappings + CSVs':<20} {'PLAN':<5} {s['adds']} add(s), {s['removes']} removal(s), "
            f"{s['blocked']} blocked (username differs), {s['warnings']} warning(s)")


def run_demo(output: Path | None) -> None:
    from ssodiag.diag.redact import redact_plan
    from ssodiag.reports.render import render

    options = ReportOptions(output, REPORT_FORMATS, True, os.urandom(16)) if output else None
    rows = []
    from ssodiag.reports.document import build_document

    for ticket in sample_tickets():
        result = ticket_result(ticket)
        rows.append(write_reports(result, ticket, options) if options
                    else summary_row(ticket.name, build_document(result), {}))
        typer.echo(line(rows[-1]))
    plan = groupsync_plan()
    plan_doc = plan.to_dict()
    typer.echo(plan_line(plan_doc))
    if options is None:
        typer.echo(f"(`ssodiag demo -o DIR` writes every report, the plan and an index; the samples: {SAMPLES})")
        return
    redacted, _ = redact_plan(plan, plan_doc, key=options.key)
    for fmt in REPORT_FORMATS:
        write_file(output / f"{PLAN_NAME}.{fmt}", render("groupsync-plan", redacted, fmt))
    write_index(sorted(rows, key=sort_key), output, title="ssodiag demo: sample tickets",
                extras=[("Group-sync plan of the sample tenant", f"{PLAN_NAME}.html")])
    typer.echo(f"ssodiag: every report (redacted), the plan and index.html written to {output}", err=True)
