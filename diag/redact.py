"""Redaction of a report document before it is written: on by default for files, opt-in for the screen.

The diagnosis always runs on the real values first (sso-facts / saml-validation §1.19: HAR sanitizers delete the
SAML evidence; we analyse, then redact). Redaction then replaces personal data with stable tokens, so a reader can
still see that two places hold the same value ("<email-3f9a1c>@corp.com" twice) without seeing it.

What is personal: NameIDs, attribute values (except group claims, which a group-sync diagnosis needs), e-mail
addresses anywhere in any string, RelayState, usernames, and SAML/credential values inside URLs (SAMLRequest,
SAMLResponse, Signature, RelayState, code, token). Issuers, entity IDs, endpoints, certificate data and group names
are configuration, not personal data, and stay readable.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

GROUP_ATTRIBUTES = {
    "memberOf", "groups", "group",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
}
_SECRET_QUERY_KEYS = {"samlrequest", "samlresponse", "signature", "relaystate", "code", "token", "id_token",
                      "access_token", "sessiontoken", "mcascsrf", "state"}
# \w is Unicode-aware: `josé@société.fr` (RFC 6531 internationalised address) is an address too. A match starts
# only where a local-part run starts (the lookbehind): with `\b` every `.` in "a.a.a.…" was a new start, and each
# start rescanned the run, quadratic time on one long attribute value.
_EMAIL_RE = re.compile(r"(?<![\w.%+-])([\w.%+-]+)@([\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,})\b")
_URL_RE = re.compile(r"https?://[^\s`'\"<>]+")
# Remembered values are found inside other text by their first characters, with one regex built as a trie (one
# pass per string, whatever the number of values: a capture of 500 logins holds tens of thousands of attribute
# values, and testing each against each string never finished), then compared in full.
_KEY_CHARS = 16
_MIN_SUBSTRING = 3  # shorter values are replaced only where they stand alone
_CLIPPED = "…"  # how reports cut a long value (diag.text.clip, diag.urls.quoted)


def _trie_pattern(words: list[str]) -> str:
    """A regex matching any of ``words``, longest first, built as a trie so matching costs one walk per position."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _common_length(text: str, start: int, word: str) -> int:
    if text.startswith(word, start):
        return len(word)
    n, limit = 0, min(len(word), len(text) - start)
    while n < limit and text[start + n] == word[n]:
        n += 1
    return n


class Redactor:
    """Replaces personal values with tokens keyed by a per-report secret (tokens cannot be looked up offline)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or os.urandom(16)
        self._values: dict[str, str] = {}
        self._by_key: dict[str, list[str]] = {}  # first _KEY_CHARS characters -> remembered values, longest first
        self._finder: re.Pattern[str] | None = None  # rebuilt after remember()
        self._kept: set[str] = set()  # configuration that looks personal (a group named like an e-mail address)

    def token(self, value: str, kind: str = "value") -> str:
        # 12 hex digits: a million users must not share tokens (6 digits collide from a few thousand values on)
        digest = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
        return f"<{kind}-{digest}>"

    def remember(self, value: str | None, kind: str = "value") -> None:
        """Mark a value as personal; every later occurrence in any string is replaced."""
        if value and value.strip() and value not in self._values:
            match = _EMAIL_RE.fullmatch(value)
            self._values[value] = (f"{self.token(match.group(1), 'email')}@{match.group(2)}" if match
                                   else self.token(value, kind))
            if len(value) >= _MIN_SUBSTRING:
                candidates = self._by_key.setdefault(value[:_KEY_CHARS], [])
                candidates.append(value)
                candidates.sort(key=len, reverse=True)
                self._finder = None

    def keep(self, value: str | None) -> None:
        """Mark a value as configuration: it stays readable even where it looks like an e-mail address."""
        if value:
            self._kept.add(value)

    def _email(self, match: re.Match[str]) -> str:
        address = match.group(0)
        return address if address in self._kept else f"{self.token(match.group(1), 'email')}@{match.group(2)}"

    def _replace_known(self, text: str) -> str:
        """Remembered values inside ``text``, also where a report clipped one (`a-long-opaque-nameid…`)."""
        if not self._by_key:
            return text
        if self._finder is None:
            self._finder = re.compile(_trie_pattern(list(self._by_key)))
        out: list[str] = []
        done = 0
        for match in self._finder.finditer(text):
            start = match.start()
            if start < done:
                continue
            end, token = self._known_at(text, start, len(match.group(0)))
            if token is not None:
                out += [text[done:start], token]
                done = end
        return "".join(out) + text[done:]

    def _known_at(self, text: str, start: int, key_length: int) -> tuple[int, str | None]:
        """(end, token) of the longest remembered value at ``start``, whole or cut by a clip mark; (start, None)."""
        for length in range(key_length, _MIN_SUBSTRING - 1, -1):  # a shorter key may hold a shorter value
            for value in self._by_key.get(text[start:start + length], ()):
                common = _common_length(text, start, value)
                if common == len(value) or text.startswith(_CLIPPED, start + common):
                    return start + common, self._values[value]
        return start, None

    def _url(self, url: str) -> str:
        """Secret parameters become <redacted>; the others are redacted as plain text once URL-decoded, so that
        `login_hint=alice%40corp.com` is caught (re-encoding would otherwise hide the address from the e-mail rule)."""
        parts = urlsplit(url)
        if not parts.query:
            return url
        query = [(k, "<redacted>" if k.lower() in _SECRET_QUERY_KEYS else self._plain(v))
                 for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return urlunsplit(parts._replace(query=urlencode(query, safe="<>@")))

    def _plain(self, value: str) -> str:
        """Remembered personal values and e-mail addresses replaced in text that is not a URL."""
        if value in self._values:
            return self._values[value]
        value = self._replace_known(value)
        return _EMAIL_RE.sub(self._email, value)

    def text(self, value: str) -> str:
        if value in self._values:
            return self._values[value]
        if value in self._kept:
            return value
        # URLs first, on their raw form: a secret's token must not end the URL match early (`<` ends it).
        return self._plain(_URL_RE.sub(lambda m: self._url(m.group(0)), value))

    def walk(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, list):
            return [self.walk(v) for v in node]
        if isinstance(node, dict):
            return {k: self.walk(v) for k, v in node.items()}
        return node


def redact_document(doc: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """A redacted copy of a report document (reports.document); the original is not modified."""
    r = Redactor(key)
    for message in doc.get("messages", []):
        r.remember(message.get("relay_state"), "relaystate")
        for assertion in message.get("assertions", []):
            r.remember(assertion["subject"].get("name_id"), "nameid")
            for name, values in assertion.get("attributes", {}).items():
                for v in values:
                    if name in GROUP_ATTRIBUTES:
                        r.keep(v)
                    else:
                        r.remember(v, "attr")
    for hop in (h for flow in doc.get("flow", []) for h in flow.get("hops", [])):
        r.remember(hop.get("relay_state"), "relaystate")
    if isinstance(doc.get("groupsync"), dict):
        _remember_plan(r, doc["groupsync"])
    for name in _certificate_names(doc):
        r.remember(name, "subject")
    out = r.walk(doc)
    out["redacted"] = True
    return out


def redact_plan(plan: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """A redacted copy of a group-sync plan (``SyncPlan.to_dict()``): usernames and e-mails become tokens, group
    names (configuration) stay readable."""
    r = Redactor(key)
    _remember_plan(r, plan)
    out = r.walk(plan)
    out["redacted"] = True
    return out


def _remember_plan(r: Redactor, plan: dict[str, Any]) -> None:
    """The plan says where its personal values are: usernames, blocked users' e-mails, subjects of user warnings."""
    from ssodiag.diag.groupsync import USER_WARNINGS

    for change in plan.get("changes", []):
        r.remember(change.get("username"), "user")
        r.keep(change.get("atlan_group"))
        for group in change.get("sso_groups", []):
            r.keep(group)
    for blocked in plan.get("blocked", []):
        r.remember(blocked.get("username"), "user")
        r.remember(blocked.get("atlan_username"), "user")
        r.remember(blocked.get("email"), "email")
    for warning in plan.get("warnings", []):
        for subject in warning.get("subjects", []):
            if warning.get("code") in USER_WARNINGS:
                r.remember(subject, "user")
            else:
                r.keep(subject)  # group names or input files


def _certificate_names(node: Any) -> list[str]:
    """Subject and issuer DNs of every certificate in the document that hold an e-mail address.

    A DN with emailAddress (RFC 5280 §4.1.2.6 legacy attribute, OID 1.2.840.113549.1.9.1) names a person, and its
    CN is then usually their name too: the whole DN is personal. The certificate stays identifiable by its
    fingerprints, which are kept.
    """
    found: list[str] = []
    if isinstance(node, dict):
        if "sha256" in node and "subject" in node:  # the shape of reports.document.certificate_doc
            found += [node[k] for k in ("subject", "issuer")
                      if isinstance(node.get(k), str) and _EMAIL_RE.search(node[k])]
        for value in node.values():
            found += _certificate_names(value)
    elif isinstance(node, list):
        for value in node:
            found += _certificate_names(value)
    return found
