"""``ssodiag groupsync simulate``: what the SSO group mappings will do to each user's Atlan groups.

Exit codes: 0 the plan was made (whatever it holds), 2 usage or input error (one line on stderr, no traceback).
:data:`ssodiag.diag.cli.COMMANDS` names :data:`groupsync_app` as ``ssodiag groupsync``.
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ssodiag.diag.errors import InputError
from ssodiag.diag.output import (
    Format, check_output_path, choose_format, deliver, fail, redaction_notice, use_color, wants_redaction,
)

groupsync_app = typer.Typer(
    help="Simulate Atlan's SSO group sync: which users gain or lose which Atlan groups, and who is blocked.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs more than the rest of `--help`
)


class Applies(str, Enum):
    auto = "auto"
    login = "login"
    scim = "scim"


@groupsync_app.callback()
def _group() -> None:
    """Group-sync tools."""  # a callback keeps `simulate` a sub-command when this is the only command


@groupsync_app.command("simulate")
def simulate_command(
    mappings: Annotated[Path, typer.Option("--mappings", "-m", metavar="FILE", help="Group mappings: CSV sso_group,atlan_group, or "
                                           "the JSON list of Atlan/Keycloak mappers.")],
    atlan_users: Annotated[Path, typer.Option("--atlan-users", "-a", metavar="FILE", help="Atlan users and their groups: CSV "
                                              "username,email,atlan_group (same option as in `analyze`).")],
    idp: Annotated[list[Path], typer.Option("--idp", "-i", metavar="FILE", help="IdP users: CSV username,email,sso_group, a SCIM "
                                            "Users/Groups JSON export, or SAML Responses / HARs (repeatable).")],
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json, md or html (default: the "
                                                  "-o file's extension, else terminal).", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write the plan to this file (- is "
                                                   "stdout; usernames and emails redacted unless --no-redact).")] = None,
    redact: Annotated[Optional[bool], typer.Option("--redact/--no-redact", help="Redact usernames and emails "
                                                   "(default: on, except the terminal format shown on a terminal).",
                                                   show_default=False)] = None,
    applies: Annotated[Applies, typer.Option("--applies", metavar="WHEN", help="login or scim; auto: scim for a SCIM export, "
                                             "else login.")] = Applies.auto,
    limit: Annotated[int, typer.Option("--limit", metavar="ROWS", min=1, help="Rows shown per list in terminal/md/html (JSON has "
                                       "all).")] = 200,
) -> None:
    """Show what the next sync does: changes[] (add/remove with the SSO groups behind each), blocked[] (username
    mismatches: Atlan usernames cannot change), unchanged, warnings[], and when it applies (login or scim).

    \b
    Examples:
      ssodiag groupsync simulate --mappings mappings.csv --atlan-users atlan-users.csv --idp idp-users.csv
      ssodiag groupsync simulate -m mappers.json -a atlan-users.csv -i scim-export.json -o plan.html
      ssodiag groupsync simulate -m mappings.csv -a atlan-users.csv -i login.har -f json
    """
    from ssodiag.diag.groupsync import simulate
    from ssodiag.diag.redact import redact_plan
    from ssodiag.diag.groupsync_io import read_atlan, read_idp, read_mappings
    from ssodiag.reports.render import render

    paths = [str(p) for p in (mappings, atlan_users, *idp)]
    try:
        check_output_path(output, paths)
        fmt = choose_format(fmt, output)
        plan = simulate(read_mappings(mappings), read_atlan(atlan_users), read_idp(idp),
                        applies=None if applies is Applies.auto else applies.value)
        doc = plan.to_dict()
        if wants_redaction(redact, fmt, output):
            doc, _ = redact_plan(plan, doc, local_paths=paths)
        text = render("groupsync-plan", doc, fmt.value, limit=limit, color=use_color(fmt, output))
        deliver(text, output, what="plan")
        if doc.get("redacted"):
            redaction_notice(doc["redaction"]["summary"])
    except InputError as exc:
        fail(str(exc))


