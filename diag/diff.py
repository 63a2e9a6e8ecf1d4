"""``ssodiag diff GOOD BAD``: what differs between a login that works and one that fails, most likely cause first.

Each side (a HAR, a SAML Response in any encoding, or a ticket folder with its ssodiag.toml) is analysed on its own,
then the Response each side ends with is compared field by field, in the order a difference most often explains a
failed login: the step where Atlan's broker stops (diag.broker), status, issuer, audience, destination and recipient, NameID, attributes, groups, signature,
initiation, timing. A difference whose field a check fails on for BAD only comes first and names the check. Values
that always differ between two logins (IDs, instants) are compared by what they mean (present or not, lifetime,
clock offset), never by value. Written files are redacted after the comparison ran on the real values, both sides
with one key, so that equal values keep equal tokens.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ssodiag.diag.errors import InputError
from ssodiag.diag.output import Format, check_output_path, choose_format, deliver, fail, wants_redaction
from ssodiag.diag.ticket import Ticket, folder_ticket, read_config, referenced_files, ticket_result

# The comparison order (most likely to explain a failure first) and the checks that judge each field: a check that
# fails for BAD and not for GOOD on the same field makes that difference the explanation.
CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("broker", frozenset()),  # the check that reports the broker's stop, diag.broker.BROKER_STOP_CHECK (see compare)
    ("status", frozenset({"SAML001"})),
    ("issuer", frozenset({"SAML015", "SAML016"})),
    ("audience", frozenset({"SAML012"})),
    ("destination", frozenset({"SAML010", "SAML013", "SAML014", "MDA001"})),
    ("nameid", frozenset({"SAML017", "SAML018"})),
    ("attributes", frozenset({"ATTR001", "ATTR002"})),
    ("groups", frozenset({"ATTR003", "ENTRA013", "ENTRA014"})),
    ("signature", frozenset({f"SIG{n:03d}" for n in range(1, 11)} | {"MD003", "MD004", "MD005"})),
    ("initiation", frozenset({"SAML011", "KC002"})),
    ("timing", frozenset({"SAML004", "SAML007", "SAML009", "SAML019"})),
)
CATEGORY_ORDER = [name for name, _ in CATEGORIES]
NONE = "(none)"
CLOCK_OFFSET_TOLERANCE = 60  # seconds: two logins' clock offsets closer than this are the same clock


def side_ticket(path: Path, config: Path | None) -> Ticket:
    """A side of the comparison as a ticket: a folder (with its own ssodiag.toml), or one file."""
    configs = (config,) if config else ()
    if path.is_dir():
        return folder_ticket(path, configs, referenced_files(read_config(config)) if config else set())
    if not path.is_file():
        raise InputError("no such file or folder", str(path))
    return Ticket(path.name, path.parent, (path,), configs)


def compare(good: dict[str, Any], bad: dict[str, Any]) -> dict[str, Any]:
    """The diff document of two report documents (reports.document), most likely explanation first."""
    only_bad = _failing(bad) - _failing(good)
    items: list[dict[str, Any]] = []
    g, b = _response(good), _response(bad)

    from ssodiag.diag.broker import BROKER_STOP_CHECK  # imported where used: `ssodiag --help` stays light

    judged_by = {**dict(CATEGORIES), "broker": frozenset({BROKER_STOP_CHECK})}

    def add(category: str, field: str, good_value: Any, bad_value: Any) -> None:
        gv, bv = _text(good_value), _text(bad_value)
        if gv != bv:
            checks = judged_by[category]
            items.append({"category": category, "field": field, "good": gv, "bad": bv,
                          "explains": sorted(c for c in only_bad if c in checks)})

    ga, ba = _assertion(g), _assertion(b)
    add("broker", "Where Atlan's broker stops", _broker_stop(good), _broker_stop(bad))
    add("status", "Response status", _status(g), _status(b))
    add("issuer", "Response Issuer", g.get("issuer"), b.get("issuer"))
    add("issuer", "Assertion Issuer", ga.get("issuer"), ba.get("issuer"))
    add("audience", "Audience", _audiences(ga), _audiences(ba))
    add("destination", "Response Destination", g.get("destination"), b.get("destination"))
    add("destination", "SubjectConfirmation Recipient", _confirmation(ga, "recipient"),
        _confirmation(ba, "recipient"))
    add("nameid", "NameID", ga.get("subject", {}).get("name_id"), ba.get("subject", {}).get("name_id"))
    add("nameid", "NameID Format", ga.get("subject", {}).get("format"), ba.get("subject", {}).get("format"))
    from ssodiag.diag.redact import GROUP_ATTRIBUTES  # imported where used: `ssodiag --help` stays light

    g_attrs, b_attrs = ga.get("attributes", {}), ba.get("attributes", {})
    for name in sorted(set(g_attrs) | set(b_attrs), key=lambda n: (n in GROUP_ATTRIBUTES, n)):
        if name in GROUP_ATTRIBUTES:
            _add_groups(add, name, g_attrs.get(name), b_attrs.get(name))
        elif name not in g_attrs or name not in b_attrs:
            add("attributes", f"Attribute {name}", "present" if name in g_attrs else "absent",
                "present" if name in b_attrs else "absent")
        else:
            add("attributes", f"Attribute {name}", g_attrs[name], b_attrs[name])
    gs, bs = g.get("signature", {}), b.get("signature", {})
    add("signature", "Signature verdict", gs.get("verdict"), bs.get("verdict"))
    add("signature", "Signing certificate", _certificate(gs), _certificate(bs))
    add("signature", "Signature algorithm", gs.get("algorithm"), bs.get("algorithm"))
    add("signature", "Digest algorithm", gs.get("digest_algorithm"), bs.get("digest_algorithm"))
    add("signature", "Signed elements", _signed(gs), _signed(bs))
    add("initiation", "Initiation", _initiation(good), _initiation(bad))
    add("initiation", "InResponseTo", _presence(g.get("in_response_to")), _presence(b.get("in_response_to")))
    add("initiation", "RelayState", _relay_state(g.get("relay_state")), _relay_state(b.get("relay_state")))
    add("timing", "Assertion lifetime (IssueInstant to NotOnOrAfter)", _lifetime(ga), _lifetime(ba))
    g_offset, b_offset = _offset(g), _offset(b)
    if g_offset is not None and b_offset is not None and abs(g_offset - b_offset) > CLOCK_OFFSET_TOLERANCE:
        add("timing", "IdP clock vs capture (IssueInstant minus capture time)", _seconds(g_offset),
            _seconds(b_offset))
    items.sort(key=lambda i: (not i["explains"], CATEGORY_ORDER.index(i["category"])))
    return {
        "kind": "ssodiag-diff",
        "redacted": False,
        "good": _side(good, g), "bad": _side(bad, b),
        "differences": items,
        "only_bad_fails": [_finding(f) for f in _first_failures(bad, only_bad)],
        "only_good_fails": [_finding(f) for f in _first_failures(good, _failing(good) - _failing(bad))],
    }


def _add_groups(add, name: str, good: list[str] | None, bad: list[str] | None) -> None:
    if good is None or bad is None:
        add("groups", f"Group attribute {name}", "present" if good is not None else "absent",
            "present" if bad is not None else "absent")
        return
    missing, extra = sorted(set(good) - set(bad)), sorted(set(bad) - set(good))
    if missing or extra:
        add("groups", f"Groups in {name}", ", ".join(missing) or NONE, ", ".join(extra) or NONE)


def _broker_stop(doc: dict[str, Any]) -> str | None:
    """The step of Atlan's broker (diag.broker) that stops the last Response of the evidence, with its page."""
    predictions = doc.get("broker") or []
    if not predictions:
        return None
    prediction = predictions[-1]
    stop = next((s for s in prediction["steps"] if s["number"] == prediction["stop_step"]), None)
    if stop is None:
        undecided = sum(1 for s in prediction["steps"] if s["outcome"] == "undecided")
        return "no step stops the login" + (f" ({undecided} step(s) undecided)" if undecided else "")
    page = f": `{stop['page']['text']}`" if stop["page"] else ""
    return f"step {stop['number']} ({stop['name']}){page}"


def _failing(doc: dict[str, Any]) -> set[str]:
    return {f["check_id"] for f in doc["findings"] if f["status"] == "fail"}


def _first_failures(doc: dict[str, Any], ids: set[str]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for f in doc["findings"]:
        if f["check_id"] in ids and f["status"] == "fail" and f["check_id"] not in seen:
            seen.add(f["check_id"])
            out.append(f)
    return out


def _finding(f: dict[str, Any]) -> dict[str, Any]:
    return {key: f[key] for key in ("check_id", "title", "severity", "message", "remediation")}


def _side(doc: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {"inputs": [i["source"] for i in doc["inputs"]], "verdict": doc["verdict"],
            "response": response.get("source"),
            "bad_files": [i["error"] for i in doc["inputs"] if i["error"]]}


def _response(doc: dict[str, Any]) -> dict[str, Any]:
    """The last Response of the evidence (the login the capture ends with); {} when there is none."""
    responses = [m for m in doc["messages"] if m["kind"] == "Response"]
    return responses[-1] if responses else {}


def _assertion(response: dict[str, Any]) -> dict[str, Any]:
    return (response.get("assertions") or [{}])[0]


def _text(value: Any) -> str:
    if value is None or value == [] or value == "":
        return NONE
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _status(response: dict[str, Any]) -> str | None:
    status = response.get("status") or {}
    code = (status.get("code") or "").rsplit(":", 1)[-1] or None
    sub = (status.get("sub_code") or "").rsplit(":", 1)[-1]
    return f"{code} / {sub}" if code and sub else code


def _audiences(assertion: dict[str, Any]) -> list[str]:
    return sorted({a for group in assertion.get("audience_restrictions", []) for a in group})


def _confirmation(assertion: dict[str, Any], key: str) -> str | None:
    confirmations = assertion.get("subject_confirmations") or [{}]
    return confirmations[0].get(key)


def _certificate(signature: dict[str, Any]) -> str | None:
    cert = signature.get("signing_certificate") or (signature.get("embedded_certificates") or [None])[0]
    return f"SHA-256 {cert['sha256'][:16]}… `{cert['subject']}`" if cert else None


def _signed(signature: dict[str, Any]) -> list[str]:
    return [s["element"] for s in signature.get("signed_elements", [])]


def _initiation(doc: dict[str, Any]) -> str | None:
    kinds = {"sp": "SP-initiated (from Atlan)", "idp": "IdP-initiated (from the IdP's dashboard)"}
    found = [f["initiation"] for f in doc.get("flow", [])]
    return kinds.get(found[-1], found[-1]) if found else None


def _presence(value: str | None) -> str:
    return "present" if value else "absent"


def _relay_state(value: str | None) -> str:
    """Keycloak's own RelayState is `code.tabId.clientId`; anything else (an IdP's start URL) is not its."""
    if not value:
        return "absent"
    return "Keycloak's (code.tab.client)" if value.count(".") == 2 and "/" not in value else "another value"


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _lifetime(assertion: dict[str, Any]) -> str | None:
    issued = _instant(assertion.get("issue_instant"))
    until = _instant((assertion.get("conditions") or {}).get("not_on_or_after"))
    return _seconds((until - issued).total_seconds()) if issued and until else None


def _offset(response: dict[str, Any]) -> float | None:
    issued, captured = _instant(response.get("issue_instant")), _instant(response.get("captured_at"))
    return (issued - captured).total_seconds() if issued and captured else None


def _seconds(value: float) -> str:
    from datetime import timedelta

    from ssodiag.diag.timefmt import format_duration

    return ("-" if value < 0 else "") + format_duration(timedelta(seconds=value))


def diff_sides(good: Ticket, bad: Ticket, *, redact: bool) -> dict[str, Any]:
    """Analyse both sides and compare them on the real values; then redact the comparison when asked, with one
    key for both sides (equal values, equal tokens)."""
    from ssodiag.diag.redact import KIND_LABEL, receipt_line, redactor_for
    from ssodiag.reports.document import build_document

    results = ticket_result(good), ticket_result(bad)
    diff = compare(*(build_document(r) for r in results))
    if not redact:
        return diff
    key, replaced = os.urandom(16), {}
    for ticket, result in zip((good, bad), results):
        redactor = redactor_for(result, local_paths=[os.fspath(f) for f in ticket.files], key=key)
        diff = redactor.walk(diff)
        for item in redactor.receipt():  # one line for both sides: counts of a kind added up
            count = replaced.get(item["kind"], {}).get("count", 0) + item["count"]
            replaced[item["kind"]] = {**item, "count": count, "label": KIND_LABEL[item["kind"]][count > 1]}
    diff["redacted"] = True
    diff["redaction"] = {"summary": receipt_line(list(replaced.values()))}
    return diff


def diff_command(
    good: Annotated[Path, typer.Argument(metavar="GOOD", hidden=True, show_default=False)],
    bad: Annotated[Path, typer.Argument(metavar="BAD", hidden=True, show_default=False)],
    config: Annotated[Optional[Path], typer.Option("--config", "-c", metavar="FILE", help="An ssodiag.toml with the options for both "
                                                   "(the keys of `ssodiag analyze`'s options).")] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json, md or html (default: "
                                                  "the -o file's extension, else terminal).", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="FILE", help="Write the comparison to this file (- is "
                                                   "stdout). Redacted unless --no-redact.")] = None,
    redact: Annotated[Optional[bool], typer.Option("--redact/--no-redact", help="Redact personal values (default: "
                                                   "on, except the terminal format shown on a terminal).",
                                                   show_default=False)] = None,
) -> None:
    """Compare a login that works with one that fails: what differs that matters, most likely cause first.

    GOOD: the login that works, BAD: the login that fails; each a HAR, a SAML Response, or a ticket folder.

    \b
    Examples:
      ssodiag diff works.har fails.har
      ssodiag diff good-response.xml bad-response.xml -c ssodiag.toml -o diff.html
    """
    from ssodiag.reports.render import render

    try:
        check_output_path(output, [good, bad, *([config] if config else [])])
        fmt = choose_format(fmt, output)
        diff = diff_sides(side_ticket(good, config), side_ticket(bad, config),
                          redact=wants_redaction(redact, fmt, output))
        deliver(render("diff", diff, fmt.value), output, what="comparison")
    except InputError as exc:
        fail(str(exc))
