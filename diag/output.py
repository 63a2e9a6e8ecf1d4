"""What every ssodiag command shares at its edge: report formats, one-line errors, writing a report."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import NoReturn

import typer

from ssodiag.diag.errors import InputError


class Format(str, Enum):
    terminal = "terminal"
    json = "json"
    md = "md"
    html = "html"


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit 2."""
    typer.echo(f"ssodiag: error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(2)


def wants_redaction(redact: bool | None, output: Path | None) -> bool:
    """Files written are redacted unless --no-redact; the screen only with --redact."""
    return redact if redact is not None else output is not None


def use_color(fmt: Format, output: Path | None) -> bool:
    return output is None and fmt is Format.terminal and sys.stdout.isatty()


def deliver(text: str, output: Path | None, *, what: str, redacted: bool) -> None:
    """Print the rendered report, or write it to ``output`` and say so on stderr."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    typer.echo(f"ssodiag: {what} written to {output}{' (redacted)' if redacted else ''}", err=True)
