"""A support ticket: a folder of attachments, with its options in an ``ssodiag.toml``; analysed on its own.

`ssodiag batch` and `ssodiag demo` both work on tickets. A ticket's evidence is every file in its folder (and below),
except the configuration and the files the configuration names (IdP metadata, certificates, keys, CSVs), which
are read as the options they are. The configuration has the same keys as `ssodiag analyze`'s options, with
underscores, and paths relative to the folder that holds it::

    atlan = "https://acme.atlan.com"
    alias = "okta"
    idp_metadata = ["okta-metadata.xml"]
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from ssodiag.diag.enums import Connector
from ssodiag.diag.errors import InputError

if TYPE_CHECKING:
    from ssodiag.diag.model import RunResult

CONFIG_NAME = "ssodiag.toml"
MAX_CONFIG_BYTES = 64 * 1024
MAX_TICKET_FILES = 200  # attachments of one ticket; more is a mis-pointed folder (a home directory)

# Every option of `ssodiag analyze` that describes the configuration (cli.build_expectations), and how a TOML value
# is read: a path or list of paths (relative to the config's folder), text or a list of texts, a number.
OPTION_KINDS: dict[str, str] = {
    "idp_metadata": "paths", "idp_cert": "paths", "idp_fingerprint": "texts", "idp_entity_id": "text",
    "sp_entity_id": "text", "acs_url": "texts", "sp_key": "path", "sp_cert": "paths", "sp_metadata": "paths",
    "request_id": "text", "at": "text", "clock_skew": "int", "connector": "connector", "atlan": "text",
    "alias": "text", "mappings": "path", "atlan_users": "path", "strict": "bool", "keycloak_idp": "path",
}
DEFAULTS: dict[str, Any] = {name: [] if kind in ("paths", "texts") else False if kind == "bool" else None
                            for name, kind in OPTION_KINDS.items()}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Ticket(Struct, frozen=True):
    """One ticket of a batch: its evidence files and the configurations that apply to it."""

    name: str  # unique in its batch; names the report files
    folder: Path  # the ticket's folder (for a loose file: the folder holding it)
    files: tuple[Path, ...]  # the evidence
    configs: tuple[Path, ...] = ()  # applied in order, later keys win: the queue's, then the ticket's own
    error: str | None = None  # why the ticket cannot be analysed (its configuration is bad)

    def labels(self) -> list[str]:
        """How each file is named in the report: relative to the ticket folder."""
        return [f.relative_to(self.folder).as_posix() for f in self.files]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def find_tickets(root: Path) -> list[Ticket]:
    """One ticket per sub-folder of ``root``, and one per file directly in it; ``root/ssodiag.toml`` applies to all.

    Sorted by name, so that reports and their order never depend on the file system's listing order.
    """
    if not root.is_dir():
        raise InputError("not a folder of tickets", str(root))
    shared = root / CONFIG_NAME
    shared_configs = (shared,) if shared.is_file() else ()
    named = referenced_files(read_config(shared)) if shared_configs else set()
    found: list[Ticket] = []
    for entry in sorted(filter(_visible, root.iterdir())):
        if entry.is_dir():
            found.append(folder_ticket(entry, shared_configs, named))
        elif entry.is_file() and entry != shared and entry.resolve() not in named:
            found.append(Ticket(entry.name, root, (entry,), shared_configs))
    return list(_unique(found))


def folder_ticket(folder: Path, shared_configs: tuple[Path, ...] = (), named: set[Path] = frozenset()) -> Ticket:
    """The ticket of one folder: its files, less its ``ssodiag.toml`` and the files the configurations name."""
    own = folder / CONFIG_NAME
    configs = shared_configs + ((own,) if own.is_file() else ())
    skip = {c.resolve() for c in configs} | set(named)
    error = None
    try:
        for config in configs[len(shared_configs):]:
            skip |= referenced_files(read_config(config))
    except InputError as exc:  # this ticket's problem, reported with it; the others still run
        error = str(exc)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.resolve() not in skip
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if len(files) > MAX_TICKET_FILES:
        error = (f"{folder.name}: holds {len(files)} files, over {MAX_TICKET_FILES} for one ticket (give the "
                 "folder whose sub-folders are the tickets)")
        files = []
    return Ticket(folder.name, folder, tuple(files), configs, error)


def _unique(found: list[Ticket]) -> Iterator[Ticket]:
    """Names safe as file names, made unique in listing order (`a b` and `a_b` become `a_b` and `a_b-2`)."""
    seen: set[str] = set()
    for ticket in found:
        base = _UNSAFE_NAME.sub("_", ticket.name).strip("._") or "ticket"
        safe, n = base, 1
        while safe.lower() in seen:
            n += 1
            safe = f"{base}-{n}"
        seen.add(safe.lower())
        yield replace(ticket, name=safe)


def read_config(path: Path) -> dict[str, Any]:
    """The options of one ``ssodiag.toml``, paths made absolute; an unknown key or a wrong type is an InputError."""
    import tomllib  # imported where used, as the command line loads this module for every command

    from ssodiag.diag.files import read_file

    data = read_file(path)
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(f"over {MAX_CONFIG_BYTES} bytes, not a ticket configuration", str(path))
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({' '.join(str(exc).split())[:200]})", str(path)) from None
    options: dict[str, Any] = {}
    for key, value in table.items():
        kind = OPTION_KINDS.get(key)
        if kind is None:
            raise InputError(f"unknown key `{key[:60]}` (the keys are the options of `ssodiag analyze`: "
                             f"{', '.join(OPTION_KINDS)})", str(path))
        options[key] = _option(kind, key, value, path)
    return options


def _option(kind: str, key: str, value: Any, path: Path) -> Any:
    def wrong(expected: str) -> InputError:
        return InputError(f"`{key}` must be {expected}", str(path))

    if kind in ("paths", "texts"):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise wrong("a string or a list of strings")
        return [path.parent / v for v in values] if kind == "paths" else values
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong("a whole number")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if not isinstance(value, str):
        raise wrong("a string")
    if kind == "path":
        return path.parent / value
    if kind == "connector":
        try:
            return Connector(value)
        except ValueError:
            raise wrong("one of " + ", ".join(c.value for c in Connector)) from None
    return value


def referenced_files(options: dict[str, Any]) -> set[Path]:
    """The files a configuration names: they are options, not evidence."""
    found: set[Path] = set()
    for key, value in options.items():
        if OPTION_KINDS[key] == "path":
            found.add(value.resolve())
        elif OPTION_KINDS[key] == "paths":
            found |= {v.resolve() for v in value}
    return found


def ticket_options(ticket: Ticket) -> dict[str, Any]:
    """Every option, from the defaults and the ticket's configurations (later ones win key by key)."""
    options = dict(DEFAULTS)
    for config in ticket.configs:
        options.update(read_config(config))
    return options


def ticket_result(ticket: Ticket, *, now=None) -> RunResult:
    """The analysis of one ticket. A bad configuration is an InputError; bad evidence files are listed in the
    result's inputs and the rest is analysed."""
    from ssodiag.diag.cli import build_expectations
    from ssodiag.diag.evidence import load_evidence
    from ssodiag.diag.runner import analyze

    if ticket.error:
        raise InputError(ticket.error)
    expect = build_expectations(**ticket_options(ticket))
    evidence = load_evidence([os.fspath(f) for f in ticket.files], labels=ticket.labels())
    return analyze(evidence, expect, now=now)


CONFIG_FIX = ("Correct the ticket's ssodiag.toml (keys as the options of `ssodiag analyze`, paths relative to its "
              "folder).")


def unanalysed_result(ticket: Ticket, error: InputError) -> RunResult:
    """The result of a ticket whose configuration is bad: its evidence is not analysed (the configuration says how
    to judge it), the configuration is the input that could not be read, and the verdict is incomplete."""
    from ssodiag.diag.model import Answer, Evidence, Expectations, FixStep, LoadedInput, Verdict, VerdictStatus
    from ssodiag.diag.runner import analyze

    source, reason = ticket.folder.name, str(error)
    for config in ticket.configs:  # named by its place in the ticket, as evidence files are, not by a local path
        if reason.startswith(f"{config}: "):
            source = config.relative_to(ticket.folder).as_posix() if config.is_relative_to(ticket.folder) \
                else config.name
            reason = reason.removeprefix(f"{config}: ")
    inputs = (LoadedInput(source, None, error=reason),)
    result = analyze(Evidence(inputs=inputs), Expectations())
    verdict = Verdict(VerdictStatus.INCOMPLETE, f"Not analysed: the ticket's configuration could not be read "
                                                f"({source}: {reason}); its {len(ticket.files)} file(s) were not read.")
    answer = Answer(verdict.summary, (FixStep(CONFIG_FIX, (("Error", reason),)),),
                    ("Run the batch again: the ticket is analysed.",), basis="verdict")
    return replace(result, verdict=verdict, answer=answer, judged_at=None)  # nothing was judged: no instant


def analyze_ticket(ticket: Ticket, *, now=None) -> dict[str, Any]:
    """The report document of one ticket (unredacted)."""
    from ssodiag.reports.document import build_document

    return build_document(ticket_result(ticket, now=now))
