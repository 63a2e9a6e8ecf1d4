"""The ``ssodiag`` command line (typer). Exit codes: 0 nothing at or above --fail-on failed, 1 something did,
2 usage or input error (one line on stderr, never a traceback)."""
# No `from __future__ import annotations` here: typer reads a command's parameters from its annotations
# (typing.get_type_hints), and a string annotation is compiled again at every run (about 5 ms of every `analyze`, for
# its 25 options); evaluated when this module runs, they come compiled from the bytecode cache and cost 1 ms.

import atexit
import copy
import gc
import importlib
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
import typer.core
import typer.main

from ssodiag.diag import __version__
from ssodiag.diag.errors import InputError
from ssodiag.diag.reconcile import check_atlan_url, reconcile_alias, reconcile_atlan
from ssodiag.diag.enums import Connector, InputKind, Severity, Status, VerdictStatus
from ssodiag.diag.output import (
    Format, check_output_path, choose_format, deliver, error_line, fail, note, redaction_notice, to_stdout,
    use_color, wants_redaction, write_file,
)
from ssodiag.diag.text import clip, printable

if TYPE_CHECKING:
    from ssodiag.diag.model import Expectations, RunResult

class PlainUsage(typer.core.TyperCommand):
    """A usage line as users read one: ``FOLDER``, not typer's ``{FOLDER}`` for a required argument."""

    def collect_usage_pieces(self, ctx):
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


class Commands(typer.core.TyperGroup):
    """``ssodiag``'s commands (:data:`COMMANDS`), each imported and built when it runs or a help lists it: typer
    reads a command's click parameters from its function's signature and type hints (about 2 ms a command), and
    building them all at every start cost every run the time of the commands it did not run."""

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        self.commands = BuiltOnUse()


class BuiltOnUse(Mapping):
    """The click command of each name in :data:`COMMANDS`, built on first look-up. Listing the names (typer's
    "Did you mean ...?") builds none."""

    def __init__(self) -> None:
        self.built: dict[str, object] = {}

    def __getitem__(self, name: str):
        if name not in self.built:
            self.built[name] = build_command(name, *COMMANDS[name])
        return self.built[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS

    def __iter__(self):
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


def build_command(name: str, target: str, cls: type[typer.core.TyperCommand] | None):
    """The click command of ``target`` (``module:attribute``): a function becomes the command ``name``, a Typer app
    is a group of its own."""
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        return typer.main.get_command(found)
    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command(name, cls=cls)(found)
    return typer.main.get_command(single)


app = typer.Typer(
    name="ssodiag",
    help="Diagnose a failed SAML single sign-on login from the evidence you have (HAR, SAML message, metadata).",
    cls=Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain CLI help: options with their metavars, examples kept as written
)
checks_app = typer.Typer(name="checks", help="The check catalogue.", no_args_is_help=True, add_completion=False,
                         rich_markup_mode=None)

AT_RANGE = (1990, 2199)  # --at outside this is a typo, and would overflow the time arithmetic of the checks
MAX_CLOCK_SKEW = 86_400


class FailOn(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    never = "never"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ssodiag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """ssodiag: SAML SSO diagnostics."""


# --------------------------------------------------------------------------- option parsing


def parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InputError(f"--at: `{clip(text, 60)}` is not an ISO 8601 time such as 2026-11-28T14:05:00Z") from None
    if not AT_RANGE[0] <= value.year <= AT_RANGE[1]:
        raise InputError(f"--at: {value.year} is outside {AT_RANGE[0]}-{AT_RANGE[1]}; give the time of the login")
    return value


def build_expectations(
    *, idp_metadata: list[Path], idp_cert: list[Path], idp_fingerprint: list[str], idp_entity_id: str | None,
    sp_entity_id: str | None, acs_url: list[str], sp_key: Path | None, request_id: str | None, at: str | None,
    clock_skew: int | None, connector: Connector | None, atlan: str | None, alias: str | None,
    mappings: Path | None = None, atlan_users: Path | None = None, sp_cert: list[Path] = (),
    sp_metadata: list[Path] = (), strict: bool = False, keycloak_idp: Path | None = None,
) -> "Expectations":
    """Turn option values into Expectations; a bad option file is an InputError naming the option."""
    from ssodiag.diag.certs import load_certificates, normalise_fingerprint
    from ssodiag.diag.files import read_file
    from ssodiag.diag.metadata import parse_metadata
    from ssodiag.diag.model import Expectations

    check_atlan_url(atlan)
    tenant_idp = None
    if keycloak_idp is not None:
        from ssodiag.diag.keycloak_config import read_keycloak_idp

        # --alias (or the capture's) picks the IdP of a realm export; the IdP's own alias names Atlan's ACS URLs
        tenant_idp = read_keycloak_idp(read_file(keycloak_idp, "--keycloak-idp"), f"--keycloak-idp {keycloak_idp}",
                                       alias)
        alias = tenant_idp.alias or alias
    if (atlan is None) != (alias is None) and not (atlan is None and tenant_idp is not None):
        raise InputError("--atlan and --alias go together (the alias is shown on Atlan's SSO page; with evidence "
                         "that shows Atlan's broker URL, a capture of the login or a message sent to it, --atlan alone "
                         "is enough)")
    certs = tuple(c for p in idp_cert for c in load_certificates(read_file(p, "--idp-cert"), f"--idp-cert {p}"))
    sp_certs = tuple(c for p in sp_cert for c in load_certificates(read_file(p, "--sp-cert"), f"--sp-cert {p}"))
    metadata = tuple(parse_metadata(read_file(p, "--idp-metadata"), f"--idp-metadata {p}") for p in idp_metadata)
    sp_metadata_docs = tuple(parse_metadata(read_file(p, "--sp-metadata"), f"--sp-metadata {p}") for p in sp_metadata)
    key = read_file(sp_key, "--sp-key") if sp_key else None
    if key is not None and b"PRIVATE KEY" not in key:
        raise InputError(f"--sp-key {sp_key}: not a PEM private key")
    if atlan_users is not None and mappings is None:
        raise InputError("--atlan-users needs --mappings (the plan compares the SSO group mappings with the users' "
                         "current Atlan groups)")
    if mappings is not None:  # the group-sync readers and model load only when a group-sync input is given
        from ssodiag.diag.groupsync_io import read_atlan, read_mappings
    if clock_skew is not None and not 0 <= clock_skew <= MAX_CLOCK_SKEW:
        raise InputError(f"--clock-skew must be 0 to {MAX_CLOCK_SKEW} seconds (a day); a larger skew hides "
                         "every time problem")
    return Expectations(
        idp_certificates=certs,
        idp_fingerprints=tuple(normalise_fingerprint(f) for f in idp_fingerprint),
        idp_metadata=metadata,
        idp_entity_id=idp_entity_id,
        sp_entity_id=sp_entity_id,
        acs_urls=tuple(acs_url),
        sp_key_pem=key,
        sp_certificates=sp_certs,
        sp_metadata=sp_metadata_docs,
        request_id=request_id,
        at=parse_time(at) if at else None,
        clock_skew=clock_skew,
        strict=strict,
        keycloak_idp=tenant_idp,
        connector=connector,
        atlan_url=atlan,
        atlan_alias=alias,
        group_mappings=read_mappings(mappings) if mappings else None,
        atlan_users=read_atlan(atlan_users) if atlan_users else None,
    )


def _stdin(sources: list[str]):
    """stdin only when asked for with `-` (CI and cron run us with no standard input at all)."""
    if "-" not in sources:
        return None
    if sys.stdin is None:
        raise InputError("-: no standard input to read")
    return sys.stdin.buffer


def exit_code(result: "RunResult", fail_on: FailOn) -> int:
    """1 when a failed check reaches --fail-on; else 2 when an input could not be read (the verdict is only
    "incomplete"); else 0. --fail-on never always gives 0."""
    if fail_on is FailOn.never:
        return 0
    threshold = Severity(fail_on.value).rank
    if any(f.status is Status.FAIL and f.severity.rank >= threshold for f in result.findings):
        return 1
    return 2 if result.verdict.status is VerdictStatus.INCOMPLETE else 0


def emit(result: "RunResult", fmt: Format | None, output: Path | None, redact: bool | None, show_all: bool, *,
         local_paths: list[str], redaction_key: Path | None = None) -> None:
    """Render the report of ``result`` in ``fmt`` (or the format -o names), redacted unless it stays on a terminal."""
    from ssodiag.reports.document import build_document
    from ssodiag.reports.render import render

    fmt = choose_format(fmt, output)
    doc = build_document(result)
    if wants_redaction(redact, fmt, output):
        from ssodiag.diag.redact import redact_report, write_key_map  # its patterns compile only when redacting

        doc, redactor = redact_report(result, doc, local_paths=local_paths)
    elif redaction_key is not None:
        raise InputError("--redaction-key: this report is not redacted (--no-redact, or the terminal on screen), so "
                         "it has no tokens to look up")
    text = render("report", doc, fmt.value, color=use_color(fmt, output), show_passed=show_all)
    deliver(text, output, what="report")
    if doc["redacted"]:
        if redaction_key is not None:
            write_key_map(redactor, redaction_key)
            note(f"redaction key written to {redaction_key} (keep it private: it holds the real values)")
        redaction_notice(doc["redaction"]["summary"])


def option_paths(*values: object) -> list[str]:
    """Every local file named on the command line (evidence and option files), flattened to strings; a pasted
    value or URL given as evidence is not a file."""
    from ssodiag.diag.evidence import is_pasted_value  # imported where used: `ssodiag --help` stays light

    found: list[str] = []
    for value in values:
        if isinstance(value, (list, tuple)):
            found += option_paths(*value)
        elif value is not None and not is_pasted_value(str(value)):
            found.append(str(value))
    return found


def check_outputs(output: Path | None, redaction_key: Path | None, inputs: list[str]) -> None:
    """Refuse before any work: an output onto an input, through a link, or the key map onto the report (the file
    meant to be shared would hold the real values) or onto stdout, where the report goes."""
    check_output_path(output, inputs)
    if redaction_key is None:
        return
    if to_stdout(redaction_key):
        raise InputError("--redaction-key -: the key holds the real values and never goes to stdout with the report; "
                         "give a file name")
    if output is not None and not to_stdout(output) and os.path.realpath(output) == os.path.realpath(redaction_key):
        raise InputError(f"--redaction-key {redaction_key}: is the -o file; the key holds the real values and must "
                         "never replace the report, give another name")
    check_output_path(redaction_key, inputs + option_paths(output), option="--redaction-key")


# --------------------------------------------------------------------------- analyze

# Described in each command's help text (a plain EVIDENCE... in the usage line, no Python type shown); checked by
# require_evidence so that a missing one is the same one-line usage error as any other.
EvidenceArg = Annotated[list[str], typer.Argument(metavar="EVIDENCE", hidden=True, show_default=False)]
EVIDENCE_HELP = ("EVIDENCE: HAR files, SAML-tracer exports, SAML messages in any encoding, metadata, certificates, "
                 "error pages; a URL or a pasted value; or - for stdin.")


def require_evidence(evidence: list[str]) -> None:
    if not evidence:
        raise typer.BadParameter(f"give the evidence to read ({EVIDENCE_HELP[10:]})", param_hint="EVIDENCE")


def analyze(
    evidence: EvidenceArg = [],
    idp_metadata: Annotated[list[Path], typer.Option("--idp-metadata", metavar="FILE", help="IdP metadata XML (trust + expected issuer).")] = [],
    idp_cert: Annotated[list[Path], typer.Option("--idp-cert", metavar="FILE", help="Trusted IdP signing certificate (repeat for rollover).")] = [],
    idp_fingerprint: Annotated[list[str], typer.Option("--idp-fingerprint", metavar="FINGERPRINT", help="Trusted IdP cert SHA-1/SHA-256 fingerprint.")] = [],
    idp_entity_id: Annotated[Optional[str], typer.Option("--idp-entity-id", metavar="ENTITY_ID", help="Expected IdP entity ID (Issuer).")] = None,
    sp_entity_id: Annotated[Optional[str], typer.Option("--sp-entity-id", metavar="ENTITY_ID", help="Expected SP entity ID (Audience).")] = None,
    acs_url: Annotated[list[str], typer.Option("--acs-url", metavar="URL", help="Expected ACS URL (repeatable).")] = [],
    sp_key: Annotated[Optional[Path], typer.Option("--sp-key", metavar="FILE", help="SP private key (PEM) to decrypt encrypted assertions.")] = None,
    sp_cert: Annotated[list[Path], typer.Option("--sp-cert", metavar="FILE", help="SP signing certificate, to verify signed AuthnRequests (repeatable).")] = [],
    sp_metadata: Annotated[list[Path], typer.Option("--sp-metadata", metavar="FILE", help="SP (Atlan) metadata XML: the expected SP entity ID and ACS URLs; its signing certificate verifies signed AuthnRequests.")] = [],
    request_id: Annotated[Optional[str], typer.Option("--request-id", metavar="ID", help="ID of the AuthnRequest the Response should answer.")] = None,
    at: Annotated[Optional[str], typer.Option("--at", metavar="TIME", help="Evaluate time conditions at this ISO 8601 time (default: the capture's time, else now).")] = None,
    clock_skew: Annotated[Optional[int], typer.Option("--clock-skew", metavar="SECONDS", help="Allowed clock skew in seconds (default: 0 for an Atlan login, Keycloak's default; 300 when judging strictly).", show_default=False)] = None,
    keycloak_idp: Annotated[Optional[Path], typer.Option("--keycloak-idp", metavar="FILE", help="The tenant's identity provider from Keycloak: admin API JSON (identity-provider/instances/ALIAS) or a realm export (pick with --alias). Its settings drive the broker steps; its certificates are trusted.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Judge an Atlan login by the SAML specifications too, as a strict service provider would (no Keycloak leniency, 300 s skew).")] = False,
    connector: Annotated[Optional[Connector], typer.Option("--connector", metavar="VENDOR", help="Force the connector instead of detecting it: generic, pingfederate, okta, google, defender or entra.")] = None,
    atlan: Annotated[Optional[str], typer.Option("--atlan", metavar="URL", help="Your Atlan URL, e.g. https://acme.atlan.com (with --alias).")] = None,
    alias: Annotated[Optional[str], typer.Option("--alias", metavar="ALIAS", help="The IdP alias shown on Atlan's SSO page.")] = None,
    mappings: Annotated[Optional[Path], typer.Option("--mappings", metavar="FILE", help="Atlan's SSO group mappings (CSV sso_group,atlan_group or mapper JSON).")] = None,
    atlan_users: Annotated[Optional[Path], typer.Option("--atlan-users", metavar="FILE", help="Atlan users and groups (CSV username,email,atlan_group): adds the group-sync plan for the users in the evidence.")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json, md or html (default: the -o file's extension, else terminal).", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file (- is stdout). Redacted unless --no-redact.")] = None,
    redact: Annotated[Optional[bool], typer.Option("--redact/--no-redact", help="Redact personal values (default: on, except the terminal format shown on a terminal).", show_default=False)] = None,
    redaction_key: Annotated[Optional[Path], typer.Option("--redaction-key", metavar="FILE", help="Also write the map from the report's tokens back to the real values to this file (never into the report).")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", metavar="SEVERITY", help="Exit 1 when a failed check has at least this severity: critical, high, medium, low, info or never.")] = FailOn.high,
    show_all: Annotated[bool, typer.Option("--show-all", help="Also list passed and skipped checks on the terminal.")] = False,
) -> None:
    """Diagnose a login: what happened, why, and exactly what to change.

    EVIDENCE: HAR files, SAML-tracer exports, SAML messages in any encoding, metadata, certificates, error pages; a
    URL or a pasted value; or - for stdin. Every format but the terminal on a terminal is redacted unless
    --no-redact.

    \b
    Examples:
      ssodiag analyze login.har --idp-metadata okta-metadata.xml --atlan https://acme.atlan.com
      ssodiag analyze login.har --idp-metadata idp.xml -o report.html
      ssodiag analyze 'https://idp.example.com/sso?SAMLRequest=...' -f json
    """
    require_evidence(evidence)
    from ssodiag.diag.evidence import load_evidence
    from ssodiag.diag.runner import analyze as run_analysis

    paths = option_paths(evidence, idp_metadata, idp_cert, sp_key, sp_cert, mappings, atlan_users, keycloak_idp)
    try:
        check_outputs(output, redaction_key, paths)
        fmt = choose_format(fmt, output)
        check_atlan_url(atlan)
        ev = load_evidence(evidence, stdin=_stdin(evidence))
        atlan, atlan_said = reconcile_atlan(atlan, ev)
        alias, said = reconcile_alias(atlan, alias, ev)
        expect = build_expectations(  # a bad option file is reported before the evidence's own errors
            idp_metadata=idp_metadata, idp_cert=idp_cert, idp_fingerprint=idp_fingerprint,
            idp_entity_id=idp_entity_id, sp_entity_id=sp_entity_id, acs_url=acs_url, sp_key=sp_key,
            request_id=request_id, at=at, clock_skew=clock_skew, connector=connector, atlan=atlan, alias=alias,
            mappings=mappings, atlan_users=atlan_users, sp_cert=sp_cert, sp_metadata=sp_metadata, strict=strict,
            keycloak_idp=keycloak_idp)
        for bad in (i for i in ev.inputs if i.error):
            typer.echo(error_line(bad.error), err=True)
        if not any(i.error is None for i in ev.inputs):
            raise typer.Exit(2)
        for line in (atlan_said, said):
            if line:
                note(line)
        if mappings is not None and atlan_users is None:
            note("--mappings without --atlan-users: the mappings judge the group claim (ATTR003); add --atlan-users "
                 "(CSV username,email,atlan_group) to see what the next sync does to each user's groups")
        result = run_analysis(ev, expect)
        emit(result, fmt, output, redact, show_all, local_paths=paths + option_paths(output, redaction_key),
             redaction_key=redaction_key)
    except InputError as exc:
        fail(str(exc))
    raise typer.Exit(exit_code(result, fail_on))


def demo(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write every report (HTML, Markdown, JSON), "
                                                   "the group-sync plan and an index into this folder (redacted).")] = None,
) -> None:
    """Analyse the bundled sample tickets (a healthy login and a typical failure per connector) and a group-sync plan.

    \b
    Examples:
      ssodiag demo
      ssodiag demo -o demo-reports/
    """
    from ssodiag.diag.demo import run_demo

    try:
        if output is not None:
            output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create {output}: {exc.strerror or exc}")
    try:
        run_demo(output)
    except InputError as exc:
        fail(str(exc))


def sanitize(
    evidence: Annotated[str, typer.Argument(metavar="INPUT", hidden=True, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="Write the sanitized copy here, in INPUT's form (never onto INPUT).", show_default=False)],
    redaction_key: Annotated[Optional[Path], typer.Option("--redaction-key", metavar="FILE", help="Also write the map from the tokens back to the real values to this file (never into the output).")] = None,
) -> None:
    """Write a copy of the evidence that is safe to attach to a ticket and still diagnoses the same.

    INPUT: a HAR, a SAML-tracer export, a SAML message (raw XML, base64, DEFLATE + base64, URL-encoded, a
    SAMLResponse= form body, a URL, a text file of pasted values; or the URL or value itself), or an error page.
    Cookies, Authorization headers, tokens, passwords and unrelated response bodies are removed; SAML messages are
    kept in their own encoding with personal values replaced by the reports' tokens (their signatures no longer
    verify, and analyze reports them as not-checked: sanitized).

    \b
    Examples:
      ssodiag sanitize login.har -o safe.har
      ssodiag sanitize saml-tracer.json -o safe.json --redaction-key key.json
      ssodiag sanitize response.b64 -o safe.b64
    """
    from ssodiag.diag.evidence import NOT_RECOGNISED, is_pasted_value, load_evidence
    from ssodiag.diag.model import Expectations
    from ssodiag.diag.redact import receipt_line, redactor_for, write_key_map
    from ssodiag.diag.runner import analyze as run_analysis
    from ssodiag.diag.sanitize import READS, keep_relay_state_shape, sanitized

    path = evidence
    try:
        if to_stdout(output):
            raise InputError("-o: give a file name (the sanitized copy is written to a file, never to stdout)")
        check_outputs(output, redaction_key, [path])
        ev = load_evidence([path])  # the personal values are read from the diagnosis of the real evidence
        [loaded] = ev.inputs
        if loaded.error:  # text that is none of the forms (prose without a SAML value) is refused, never copied
            raise InputError(f"{loaded.error}; {READS}" if loaded.error.endswith(NOT_RECOGNISED) else loaded.error)
        local_paths = [] if is_pasted_value(path) else [path]
        redactor = redactor_for(run_analysis(ev, Expectations()), local_paths=local_paths)
        keep_relay_state_shape(redactor, [m.relay_state for m in ev.messages])
        removed_words: list[str] = []
        write_file(output, sanitized(path, loaded.kind, redactor, removed_words))
        note(f"sanitized {loaded.kind.value} written to {output}")
        if removed_words:  # a pasted e-mail or ticket
            words, places = sum(len(run.split()) for run in removed_words), len(removed_words)
            note(f"removed {words} word{'s' * (words != 1)} of the pasted text in {places} place{'s' * (places != 1)}: "
                 "only what analyze reads in it is kept (SAML values, the error texts it quotes)")
        if redaction_key is not None:
            write_key_map(redactor, redaction_key)
            note(f"redaction key written to {redaction_key} (keep it private: it holds the real values)")
        receipt = redactor.receipt()
        # words removed and no value replaced: "nothing personal was found" would deny the line above
        note(receipt_line(receipt) if receipt or not removed_words
             else "Redaction: nothing personal was found to replace in what was kept.")
    except InputError as exc:
        fail(str(exc))


# --------------------------------------------------------------------------- decode


def decode(evidence: EvidenceArg = []) -> None:
    """Print each SAML message found, pretty-printed, with the encoding layers that were removed.

    EVIDENCE: HAR files, SAML-tracer exports, SAML messages in any encoding; a URL or a pasted value; or - for stdin.

    \b
    Examples:
      ssodiag decode 'https://idp.example.com/sso?SAMLRequest=...'
      ssodiag decode response.b64
      pbpaste | ssodiag decode -
    """
    require_evidence(evidence)
    from ssodiag.diag.evidence import load_evidence

    try:
        ev = load_evidence(evidence, stdin=_stdin(evidence))
    except InputError as exc:
        fail(str(exc))
    for bad in (i for i in ev.inputs if i.error):
        typer.echo(error_line(bad.error), err=True)
    if not ev.messages:
        if not any(i.error is None for i in ev.inputs):
            raise typer.Exit(2)
        url = next((i for i in ev.inputs if i.kind is InputKind.URL), None)
        fail("no SAML message found in the input" + (f": {url.source} has no SAMLRequest or SAMLResponse parameter; "
                                                      "`ssodiag analyze` judges the URL itself (e.g. an IdP's launch "
                                                      "link)" if url else ""))
    for index, m in enumerate(ev.messages, start=1):
        layers = ", ".join(m.encoding_layers) or "none (raw XML)"
        typer.echo(f"# message {index}: {m.kind.value} from {clip(m.source, 500)}")
        typer.echo(f"# binding: {m.binding}; layers removed: {layers}")
        if m.relay_state is not None:
            typer.echo(f"# RelayState: {clip(m.relay_state, 5000)}")
        if m.redirect_signature is not None:
            typer.echo(f"# SigAlg: {clip(m.redirect_signature.sig_alg, 500)}")
        from lxml import etree

        display = copy.deepcopy(m.root)  # display only: signatures are verified on m.raw_xml, never on this
        etree.indent(display)
        typer.echo(printable(etree.tostring(display, encoding="unicode")))


# --------------------------------------------------------------------------- explain

MAX_EXPLAIN_CHARS = 1_000_000  # of the text classified (a saved error page is a few KB)


def _explain_input(what: str) -> str:
    """The text to classify: stdin for `-`, the visible text of a file that exists, else the argument itself."""
    from ssodiag.diag.files import read_file
    from ssodiag.diag.har import page_text

    if what == "-":
        stream = _stdin([what])
        data = stream.read(MAX_EXPLAIN_CHARS + 1)
    elif len(what) < 4096 and "\n" not in what and Path(what).is_file():
        data = read_file(what)
    else:
        return " ".join(what[:MAX_EXPLAIN_CHARS].split())
    name = "stdin" if what == "-" else what
    if b"\0" in data[:4096]:
        raise InputError(f"{name}: binary data, not an error text")
    if not data.strip():
        raise InputError(f"{name}: empty, no error text to explain")
    return page_text(data[:MAX_EXPLAIN_CHARS].decode("utf-8", errors="replace"))


def explain(
    text: Annotated[str, typer.Argument(metavar="TEXT", hidden=True, show_default=False)],
    atlan: Annotated[Optional[str], typer.Option("--atlan", metavar="URL", help="Your Atlan URL (with --alias): the fix names your values.")] = None,
    alias: Annotated[Optional[str], typer.Option("--alias", metavar="ALIAS", help="The IdP alias shown on Atlan's SSO page.")] = None,
    connector: Annotated[Optional[Connector], typer.Option("--connector", metavar="VENDOR", help="Read the text as this vendor's only: pingfederate, okta, google, defender or entra.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="terminal or json.")] = Format.terminal,
) -> None:
    """Say what an error text or code means, its likely causes and the fix, with no SAML message needed.

    TEXT: an error page text, an error code (AADSTS50105, E0000004, app_not_configured_for_user, ...) or a pasted
    message; a file holding one (HTML or text); or - for stdin. Exit 0 when something was recognised, 1 when
    nothing was, 2 for bad input.

    \b
    Examples:
      ssodiag explain AADSTS50105
      ssodiag explain error-page.html --atlan https://acme.atlan.com --alias okta
      pbpaste | ssodiag explain - -f json
    """
    import json

    from ssodiag.diag.connectors import tenant
    from ssodiag.diag.context import DiagContext
    from ssodiag.diag.explain import explain_text, render_text
    from ssodiag.diag.model import Evidence, Expectations

    try:
        if (atlan is None) != (alias is None):
            raise InputError("--atlan and --alias go together (the alias is shown on Atlan's SSO page)")
        body = _explain_input(text)
    except InputError as exc:
        fail(str(exc))
    values = tenant(DiagContext(evidence=Evidence(), expect=Expectations(atlan_url=atlan, atlan_alias=alias)))
    found = explain_text(body, values, [connector] if connector else None)
    if fmt is Format.json:
        typer.echo(printable(json.dumps({"recognised": [e.to_dict() for e in found]}, indent=2, sort_keys=True)))
    else:
        typer.echo(printable(render_text(found, body)), nl=False)
    raise typer.Exit(0 if found else 1)


# --------------------------------------------------------------------------- checks


@checks_app.command("list")
def checks_list(fmt: Annotated[Format, typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json, md or html.")] = Format.terminal) -> None:
    """Print the catalogue of checks with their remediation.

    \b
    Examples:
      ssodiag checks list
      ssodiag checks list --format md > checks.md
      ssodiag checks list --format html > checks.html
    """
    from ssodiag.diag.registry import load_builtin_checks
    from ssodiag.reports.render import render

    specs = sorted(load_builtin_checks().values(), key=lambda s: s.id)
    catalogue = [{"id": s.id, "title": s.title, "severity": s.severity.value, "connector": s.connector.value,
                  "requires": sorted(n.value for n in s.requires), "remediation": s.remediation, "docs": s.docs,
                  "description": s.description} for s in specs]
    sys.stdout.write(render("catalogue", catalogue, fmt.value))


@checks_app.command("explain")
def checks_explain(check_id: Annotated[str, typer.Argument(metavar="CHECK_ID", hidden=True)] = "") -> None:
    """Print one check's full description. CHECK_ID: a check id, e.g. SAML010 (see `ssodiag checks list`).

    \b
    Examples:
      ssodiag checks explain SIG004
      ssodiag checks explain kc002
    """
    from ssodiag.diag.registry import load_builtin_checks

    if not check_id:
        raise typer.BadParameter("give a check id, e.g. SAML010", param_hint="CHECK_ID")
    spec = load_builtin_checks().get(check_id.upper())
    if spec is None:
        fail(f"no check with id {check_id!r} (see `ssodiag checks list`)")
    typer.echo(f"{spec.id}: {spec.title}\nseverity: {spec.severity.value}; connector: {spec.connector.value}; "
               f"needs: {', '.join(sorted(n.value for n in spec.requires)) or '-'}\n\n{spec.description}\n\n"
               f"Fix: {spec.remediation}" + (f"\nDocs: {spec.docs}" if spec.docs else ""))


# In the order `ssodiag --help` lists them: name -> (the function or Typer app, as module:attribute; the command
# class of a function, None for typer's).
COMMANDS: dict[str, tuple[str, type[typer.core.TyperCommand] | None]] = {
    "batch": ("ssodiag.diag.batch:batch_command", PlainUsage),
    "diff": ("ssodiag.diag.diff:diff_command", PlainUsage),
    "analyze": ("ssodiag.diag.cli:analyze", None),
    "demo": ("ssodiag.diag.cli:demo", None),
    "sanitize": ("ssodiag.diag.cli:sanitize", PlainUsage),
    "decode": ("ssodiag.diag.cli:decode", None),
    "explain": ("ssodiag.diag.cli:explain", PlainUsage),
    "checks": ("ssodiag.diag.cli:checks_app", None),
    "groupsync": ("ssodiag.diag.groupsync_cli:groupsync_app", None),
}


def main() -> None:
    """Entry point: every error is one line on stderr (usage errors name the --help to read), never a traceback."""
    # A run builds many small objects that live to its end (the evidence, the findings, a report of thousands of
    # values per message): at Python's default threshold (700) the cycle collector runs over a hundred times on 200
    # Responses and walks the survivors again, about 50 ms. Cycles are still collected, every 10,000 allocations.
    gc.set_threshold(10_000, 10, 10)
    # At exit the interpreter runs the cycle collector over every object still alive (the modules, the evidence,
    # the report), about 40 ms of a one-Response run, before freeing them all by reference counting anyway. Our
    # files are closed by `with` blocks and stdout is flushed regardless: freeze those objects out of the collector.
    atexit.register(gc.freeze)
    try:
        code = app(standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors (typer's click: bad option, missing argument, ...)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx else "ssodiag"
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if not message.strip():  # no arguments at all: the help was printed, nothing more to say
            sys.exit(2)
        typer.echo(f"{error_line(message)} (see `{command} --help`)", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug must still not print a traceback at a support engineer
        typer.echo(f"ssodiag: internal error: {type(exc).__name__}: {clip((str(exc).splitlines() or [''])[0], 200)} "
                   "(set SSODIAG_DEBUG=1 for details)", err=True)
        if os.environ.get("SSODIAG_DEBUG"):
            raise
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
