"""`ssodiag explain`: what an error page, an error code or a pasted message means, with no SAML at all.

One classifier for every source: the vendors' declared error texts and codes (``diag.connectors``) and the
sentences of Atlan's Keycloak login. ``analyze`` reads the pages of a capture with the same tables (the vendor
checks and KC001), so a text gets the same reading in both commands.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from msgspec import Struct
from msgspec.structs import asdict

from ssodiag.diag.connectors import Tenant, classify_text
from ssodiag.diag.har import MAX_ERROR_SEARCH_CHARS
from ssodiag.diag.model import Connector
from ssodiag.diag.text import clip

KEYCLOAK_SOURCE = "Atlan's login (Keycloak)"


class Explanation(Struct, frozen=True):
    source: str  # who showed it: "Okta", "Atlan's login (Keycloak)"
    code: str
    seen: str  # the text that matched
    meaning: str
    causes: tuple[str, ...]
    fix: str
    docs: str | None
    check_id: str | None  # the finding `analyze` reports it under

    def to_dict(self) -> dict:
        return {**asdict(self), "causes": list(self.causes)}


def explain_text(text: str, values: Tenant, connectors: Iterable[Connector] | None = None) -> list[Explanation]:
    """Every known error the text shows, in its first MAX_ERROR_SEARCH_CHARS characters (an error message is short;
    a megabyte of pasted noise must not take seconds): the vendors' first (they name the cause), then Atlan's login."""
    text = text[:MAX_ERROR_SEARCH_CHARS]
    matches = classify_text(text, connectors)
    found = [Explanation(m.source, m.error.code, m.matched, m.error.meaning, m.error.causes, values.fill(m.error.fix),
                         m.error.docs, m.error.check_id)
             for m in matches]
    # Atlan's login-page sentences are classified by KC001's table (the check module is loaded by now).
    from ssodiag.checks.keycloak import KEYCLOAK_MESSAGES, classify

    # A vendor's own reading of a sentence replaces Keycloak's; a reading that holds only after that vendor's login
    # ("after the Okta login") is shown next to it.
    vendor_seen = {m.matched.lower() for m in matches if not m.error.shown_by}
    for row in classify(text):
        seen = row.pattern.search(text).group(0)
        if any(seen.lower() in v or v in seen.lower() for v in vendor_seen):
            continue  # a vendor row already reads this sentence with the vendor's fix
        found.append(Explanation(KEYCLOAK_SOURCE, row.key, seen, row.meaning, row.causes, row.look_at,
                                 KEYCLOAK_MESSAGES, "KC001"))
    return found


def render_text(found: list[Explanation], text: str) -> str:
    if not found:
        if re.fullmatch(r"https?://\S+", text.strip(), re.IGNORECASE):  # a launch link, not an error text
            return (f"Not an error text: `{clip(text, 120)}` is a URL. `ssodiag analyze 'URL'` judges it (an IdP's "
                    "launch link, a SAML message in its query), and the HAR of the login shows what followed.\n")
        return (f"Not recognised: `{clip(text, 120)}` holds no error text or code ssodiag knows. Give the HAR of "
                "the login to `ssodiag analyze`.\n")
    lines = []
    for e in found:
        lines += [f"{e.source} — {clip(e.code, 120)}", f"  seen:    {clip(e.seen, 200)}", f"  meaning: {e.meaning}"]
        lines += [f"  cause:   {c}" for c in e.causes]
        lines += [f"  fix:     {e.fix}"]
        if e.docs:
            lines.append(f"  docs:    {e.docs}")
        if e.check_id:
            lines.append(f"  check:   {e.check_id} (in `ssodiag analyze` reports)")
        lines.append("")
    return "\n".join(lines)
