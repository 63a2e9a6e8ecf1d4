"""``ssodiag batch DIR -o OUT``: every ticket of a queue analysed on its own, in parallel, one report per ticket, and an
index sorted by severity.

Each ticket runs in a worker process (the analysis is CPU-bound Python: threads would share one core). A worker
writes its ticket's reports itself, each through a temporary file renamed into place, so an interrupted run leaves
finished reports and never a half-written one; workers ignore Ctrl-C and finish the ticket in hand while the parent
cancels the rest. Results are sorted before the index is written, so one worker or many give the same output.
"""
from __future__ import annotations

import io
import json
import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from msgspec import Struct

from ssodiag.diag.errors import InputError
from ssodiag.diag.output import fail, write_file
from ssodiag.diag.ticket import CONFIG_FIX, Ticket, find_tickets, ticket_result, unanalysed_result
from ssodiag.diag.text import clip

if TYPE_CHECKING:
    from ssodiag.diag.model import RunResult

REPORT_FORMATS = ("html", "md", "json")
INDEX_FILES = ("index.html", "index.csv", "index.json")
# Index order: what needs action first. A ticket that could not be analysed ("error") sits right after failures.
VERDICT_ORDER = ("fail", "error", "warn", "inconclusive", "pass")
MAX_FIX_CHARS = 240


class ReportOptions(Struct, frozen=True):
    """How every ticket's reports are written: where, in which formats, redacted or not."""

    out: Path
    formats: tuple[str, ...]
    redact: bool
    key: bytes  # one redaction key for the whole run: the same user gets the same token in every ticket


# --------------------------------------------------------------------------- one ticket (runs in a worker)


def run_ticket(ticket: Ticket, options: ReportOptions) -> dict[str, Any]:
    """Analyse one ticket, write its reports, and return its index row. Never raises for bad input."""
    try:
        result = ticket_result(ticket)
    except InputError as exc:  # a bad configuration: its own report says which and why, its row is an error
        row = write_reports(unanalysed_result(ticket, exc), ticket, options)
        return error_row(ticket.name, str(exc), reports=row["reports"], bad_files=row["bad_files"])
    except Exception as exc:  # noqa: BLE001 - a bug on one ticket must not lose the queue
        return error_row(ticket.name, f"internal error: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
    return write_reports(result, ticket, options)


def write_reports(result: RunResult, ticket: Ticket, options: ReportOptions) -> dict[str, Any]:
    """Write the report of ``result`` in every asked format (redacted unless told otherwise) and return its index
    row; each file goes through a temporary file renamed into place (output.write_file)."""
    from ssodiag.diag.redact import redact_report
    from ssodiag.reports.document import build_document
    from ssodiag.reports.render import render

    doc = build_document(result)
    if options.redact:
        doc, _ = redact_report(result, doc, local_paths=[os.fspath(f) for f in ticket.files], key=options.key)
    reports = {}
    for fmt in options.formats:
        path = options.out / f"{ticket.name}.{fmt}"
        write_file(path, render("report", doc, fmt))
        reports[fmt] = path.name
    return summary_row(ticket.name, doc, reports)


def top_finding(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The finding the verdict rests on: the first failure, else the first error or warning (findings are sorted)."""
    for statuses in (("fail",), ("error", "warn")):
        found = next((f for f in doc["findings"] if f["status"] in statuses), None)
        if found:
            return found
    return None


def _cause(finding: dict[str, Any]) -> str:
    """A finding's title, except where Atlan's broker stops: its message names the step and the page."""
    from ssodiag.diag.broker import BROKER_STOP_CHECK  # imported where used: `ssodiag --help` stays light

    return finding["message"] if finding["check_id"] == BROKER_STOP_CHECK else finding["title"]


def summary_row(name: str, doc: dict[str, Any], reports: dict[str, str]) -> dict[str, Any]:
    """One line of the index: connector, verdict, top root cause, the fix in one line, counts, bad files, links."""
    verdict = doc["verdict"]
    top = top_finding(doc)
    return {
        "ticket": name,
        "connector": ", ".join(d["connector"] for d in doc["detections"]) or "generic",
        "verdict": verdict["status"],
        "severity": top["severity"] if top and verdict["status"] == "fail" else "",
        "check_id": top["check_id"] if top else "",
        "cause": clip(_cause(top) if top else verdict["summary"], MAX_FIX_CHARS),
        "fix": clip(top["remediation"], MAX_FIX_CHARS) if top else "",
        "counts": {s: doc["summary"].get(s, 0) for s in ("fail", "error", "warn", "skip", "pass")},
        "bad_files": [{"source": i["source"], "error": i["error"]} for i in doc["inputs"] if i["error"]],
        "error": "",
        "reports": reports,
    }


def error_row(name: str, error: str, *, reports: dict[str, str] | None = None,
              bad_files: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The index row of a ticket that could not be analysed (its configuration is bad), with the reason and the
    report that names the bad configuration."""
    return {"ticket": name, "connector": "", "verdict": "error", "severity": "", "check_id": "",
            "cause": clip(error, MAX_FIX_CHARS), "fix": CONFIG_FIX, "counts": {}, "bad_files": bad_files or [],
            "error": error, "reports": reports or {}}


def sort_key(row: dict[str, Any]) -> tuple:
    from ssodiag.reports.text import SEVERITY_ORDER  # imported where used: `ssodiag --help` stays light

    severity = SEVERITY_ORDER.index(row["severity"]) if row["severity"] in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return VERDICT_ORDER.index(row["verdict"]) if row["verdict"] in VERDICT_ORDER else len(VERDICT_ORDER), \
        severity, row["ticket"]


# --------------------------------------------------------------------------- the queue


def _ignore_sigint() -> None:
    """Workers finish the ticket in hand on Ctrl-C; the parent decides what stops."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_tickets(tickets: list[Ticket], options: ReportOptions, workers: int,
                advance: Callable[[dict[str, Any]], None] = lambda row: None) -> list[dict[str, Any]]:
    """Every ticket's index row, sorted by severity; ``advance`` is called as each ticket finishes.

    On KeyboardInterrupt, tickets not started are cancelled, the ones in hand finish, and the interrupt goes on.
    """
    rows: list[dict[str, Any]] = []
    if workers <= 1 or len(tickets) <= 1:
        for ticket in tickets:
            rows.append(run_ticket(ticket, options))
            advance(rows[-1])
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed  # multiprocessing loads only for -j 2+

        pool = ProcessPoolExecutor(max_workers=min(workers, len(tickets)), initializer=_ignore_sigint)
        try:
            for future in as_completed([pool.submit(run_ticket, t, options) for t in tickets]):
                rows.append(future.result())
                advance(rows[-1])
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return sorted(rows, key=sort_key)


def write_index(rows: list[dict[str, Any]], out: Path, *, title: str, extras: Iterable[tuple[str, str]] = ()) -> None:
    """index.html (linked reports), index.csv (a spreadsheet of the queue) and index.json (for scripts)."""
    import csv  # imported where used, as the command line loads this module for every command

    from ssodiag.reports.jinja import environment

    view = [{**row, "link": main_report(row)} for row in rows]
    html = environment(False).get_template("index.html.j2").render(rows=view, title=title, extras=list(extras))
    write_file(out / "index.html", html)
    write_file(out / "index.json", json.dumps({"tickets": rows}, indent=2, ensure_ascii=False) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["ticket", "connector", "verdict", "severity", "check_id", "cause", "fix", "fail", "warn", "error",
                     "skip", "pass", "bad_files", "report"])
    for row in rows:
        counts = row["counts"]
        writer.writerow([_cell(v) for v in (
            row["ticket"], row["connector"], row["verdict"], row["severity"], row["check_id"], row["cause"],
            row["fix"], *(counts.get(s, "") for s in ("fail", "warn", "error", "skip", "pass")),
            "; ".join(b["error"] for b in row["bad_files"]), main_report(row))])
    write_file(out / "index.csv", buffer.getvalue())


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection: a leading = + - @ tab or CR)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def main_report(row: dict[str, Any]) -> str:
    """The report the index links to: HTML when written, else Markdown, else JSON."""
    return next((row["reports"][f] for f in REPORT_FORMATS if f in row["reports"]), "")


def parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise InputError(f"--format: `{clip(text, 60)}` must be a comma-separated list of {', '.join(REPORT_FORMATS)}")
    return formats


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- the command


def batch_command(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", hidden=True, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="Folder for the reports and the index (created).",
                                         show_default=False)],
    formats: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="Report formats, comma-separated: html, md, json.")]
    = "html,md,json",
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", metavar="N", min=1, max=256,
                                                   help="Worker processes (default: the CPU cores).")] = None,
    redact: Annotated[bool, typer.Option("--redact/--no-redact", help="Redact personal values in the reports.")]
    = True,
) -> None:
    """Analyse a queue of tickets in parallel: one report per ticket and an index sorted by severity.

    FOLDER: a folder of tickets, one sub-folder per ticket (a file directly in it is a ticket of its own); each may
    hold an ssodiag.toml with the ticket's options.

    \b
    Examples:
      ssodiag batch tickets/ -o reports/
      ssodiag batch tickets/ -o reports/ -f html -j 2
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        chosen = parse_formats(formats)
        tickets = find_tickets(folder)
        if not tickets:
            raise InputError("holds no ticket (no sub-folder, no file)", str(folder))
        output.mkdir(parents=True, exist_ok=True)
    except InputError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot create {output}: {exc.strerror or exc}")
    options = ReportOptions(output, chosen, redact, os.urandom(16))
    console = Console(stderr=True)
    done: list[dict[str, Any]] = []
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("tickets", total=len(tickets))

            def advance(row: dict[str, Any]) -> None:
                done.append(row)
                progress.update(task, advance=1, description=clip(row["ticket"], 30))

            rows = run_tickets(tickets, options, workers or default_workers(), advance)
        write_index(rows, output, title=f"ssodiag batch: {clip(folder.name or str(folder), 80)}")
    except KeyboardInterrupt:
        typer.echo(f"ssodiag: interrupted: {len(done)} of {len(tickets)} tickets reported in {output}; "
                   "the index was not written", err=True)
        raise typer.Exit(130) from None
    except InputError as exc:
        fail(str(exc))
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICT_ORDER}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    typer.echo(f"ssodiag: {len(rows)} tickets ({summary}); reports{' (redacted)' if redact else ''} and index "
               f"written to {output}", err=True)
