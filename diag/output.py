"""What every ssodiag command shares at its edge: report formats, one-line errors, writing a report safely.

Safe by default: a report leaves the machine as a file (written with -o, or a file format sent to stdout), so every
file format is redacted unless --no-redact; only the terminal format on a terminal shows the real values. A report is
written next to its destination under a temporary name and renamed into place (an interrupted write never leaves a
truncated report), never through a symbolic link, and never onto one of the inputs.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import NoReturn

import typer

from ssodiag.diag.errors import InputError
from ssodiag.diag.text import clip

STDOUT = "-"
MAX_ERROR_LINE = 2000


class Format(str, Enum):
    terminal = "terminal"
    json = "json"
    md = "md"
    html = "html"


# `-o report.html` writes HTML without --format; other names get the terminal text without colour.
EXTENSION_FORMATS = {".json": Format.json, ".md": Format.md, ".markdown": Format.md, ".html": Format.html,
                     ".htm": Format.html, ".txt": Format.terminal}


def error_line(message: object) -> str:
    """One line for stderr: whitespace collapsed, control and bidi characters shown as escapes (a file name with
    ESC or U+202E must not recolour, retitle or reorder the user's terminal)."""
    return f"ssodiag: error: {clip(message, MAX_ERROR_LINE)}"


def note(message: object) -> None:
    """A one-line notice on stderr (what was written, what was redacted)."""
    typer.echo(f"ssodiag: {clip(message, MAX_ERROR_LINE)}", err=True)


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit 2."""
    typer.echo(error_line(message), err=True)
    raise typer.Exit(2)


def to_stdout(output: Path | str | None) -> bool:
    return output is None or str(output) == STDOUT


def choose_format(fmt: Format | None, output: Path | str | None) -> Format:
    """--format when given, else the format the -o file's extension names, else the terminal text."""
    if fmt is not None:
        return fmt
    if to_stdout(output):
        return Format.terminal
    suffix = Path(str(output)).suffix.lower()
    if suffix == ".pdf":  # terminal text in a file named .pdf opens as a broken PDF
        raise InputError(f"-o {output}: ssodiag does not write PDF; write HTML (-o report.html) and print it to PDF "
                         "from the browser")
    return EXTENSION_FORMATS.get(suffix, Format.terminal)


def wants_redaction(redact: bool | None, fmt: Format, output: Path | str | None) -> bool:
    """--redact/--no-redact when given; else redacted unless it is the terminal format shown on a terminal."""
    if redact is not None:
        return redact
    return not (to_stdout(output) and fmt is Format.terminal and sys.stdout.isatty())


def use_color(fmt: Format, output: Path | str | None) -> bool:
    return to_stdout(output) and fmt is Format.terminal and sys.stdout.isatty()


def check_output_path(output: Path | str | None, inputs: Iterable[Path | str], option: str = "-o") -> None:
    """Refuse, before any work, an output that is a symbolic link, a folder, or one of the inputs."""
    if to_stdout(output):
        return
    path = str(output)
    if os.path.islink(path):
        raise InputError(f"{option} {path}: is a symbolic link; ssodiag does not write through links "
                         "(give the real path or another name)")
    if os.path.isdir(path):
        raise InputError(f"{option} {path}: is a folder; give a file name")
    if not os.path.exists(path):
        return
    for source in inputs:
        source = str(source)
        if source != STDOUT and os.path.exists(source) and os.path.samefile(source, path):
            raise InputError(f"{option} {path}: is one of the inputs ({source}); writing there would destroy the "
                             "evidence, give another name")


def write_file(path: Path | str, text: str | bytes | Iterable[str], *, mode: int | None = None) -> None:
    """Write ``text`` (or its pieces, written as they come; or bytes, UTF-8 already) to ``path`` atomically: a
    temporary file in the same folder, renamed into place; an error while the pieces are made leaves no file.

    The rename replaces a symbolic link at ``path`` rather than following it (rename(2)), and the check before it
    refuses one, so a link planted at the output name never redirects the report.
    """
    import tempfile  # only when a file is written: a report to stdout skips it (and the random module it loads)

    path = Path(path)
    if path.is_symlink():
        raise InputError(f"{path}: is a symbolic link; ssodiag does not write through links")
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if binary or isinstance(text, str):
                handle.write(text)
            else:
                handle.writelines(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror}") from None
        if isinstance(exc, UnicodeError):
            raise InputError(f"cannot write {path}: {exc.reason}") from None
        raise


def deliver(text: str | bytes, output: Path | str | None, *, what: str) -> None:
    """Print the rendered report, or write it to ``output`` and say so on stderr. Bytes (a JSON report) are UTF-8
    already and go out as they are."""
    if to_stdout(output):
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return
    write_file(output, text)
    note(f"{what} written to {output}")


def redaction_notice(summary: str) -> None:
    """Say on stderr what was redacted and how to see the real values."""
    note(f"{summary} Personal values are replaced by tokens; --no-redact shows the real values.")
