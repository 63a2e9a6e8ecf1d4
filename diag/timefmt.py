"""Human wording for instants and time differences in findings: "expired 3 h 12 min before the capture".

Support engineers compare a SAML time condition against one reference instant (``DiagContext.instant_for``):
``--at``, else the HAR timestamp of the message (or of the capture), else the message's own IssueInstant (pasted
evidence: the login time is unknown), else the current time. Findings name which one was used, because
"expired" means something else for a message pasted days after the failed login.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ssodiag.diag.context import DiagContext
    from ssodiag.diag.model import SamlMessage

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def as_utc(instant: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC (SAML core §1.3.3: times are UTC, no offset)."""
    return instant.replace(tzinfo=timezone.utc) if instant.tzinfo is None else instant.astimezone(timezone.utc)


@lru_cache(maxsize=1024)  # findings name the same few instants of a message again and again; strftime is slow
def format_instant(instant: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second: how SAML writes xs:dateTime."""
    return as_utc(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(delta: timedelta) -> str:
    """The magnitude of ``delta`` in its two largest units: ``3 h 12 min``, ``2 d 4 h``, ``45 s``."""
    total = int(abs(delta.total_seconds()))
    if total == 0:
        return "0 s"
    # the largest unit and the one just below it; a non-adjacent second unit ("2 d 5 s") would mislead
    first = next(i for i, (_, size) in enumerate(_UNITS) if total >= size)
    unit, size = _UNITS[first]
    parts = [f"{total // size} {unit}"]
    if first + 1 < len(_UNITS):
        sub_unit, sub_size = _UNITS[first + 1]
        if (total % size) // sub_size:
            parts.append(f"{(total % size) // sub_size} {sub_unit}")
    return " ".join(parts)


def before_or_after(instant: datetime, reference: datetime) -> str:
    """``"3 h 12 min before"`` when ``instant`` precedes ``reference``, else ``"... after"``."""
    delta = as_utc(reference) - as_utc(instant)
    return f"{format_duration(delta)} {'before' if delta >= timedelta(0) else 'after'}"


def reference_name(ctx: DiagContext, message: SamlMessage | None = None) -> str:
    """What ``ctx.instant_for(message)`` is, in words: the instant a finding's delta is measured from."""
    if ctx.expect.at:
        return f"the --at time ({format_instant(ctx.expect.at)})"
    captured = message.captured_at if message is not None and message.captured_at else ctx.captured_at
    if captured:
        return f"the capture ({format_instant(captured)})"
    issued = message.issue_instant if message is not None and message.issue_instant else ctx.issued_at
    if issued:  # pasted evidence: SAML004 warns that the login time is unknown and points at --at
        return f"its IssueInstant ({format_instant(issued)}; login time unknown)"
    return f"now ({format_instant(ctx.now)})"
