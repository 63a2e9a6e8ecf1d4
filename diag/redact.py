"""Redaction of what leaves the machine: on by default for every file format, opt-out with --no-redact.

The diagnosis always runs on the real values first (HAR sanitizers that delete the SAMLResponse destroy the
evidence; we analyse, then redact). Redaction then replaces personal data with stable tokens, so a reader can still
see that two places hold the same value ("<email-3f9a1c…>@corp.com" twice) without seeing it.

Which values are personal is read from the typed result (:func:`redactor_for`): NameIDs, attribute values (except
group claims, which a group-sync diagnosis needs), RelayState, usernames of a group-sync plan, certificate names
holding an e-mail address, the text of error pages around the known error strings (a page greets the user by
name), and the local paths of the evidence (a home folder names a person: only the file name is kept). Every string
of the report is then rewritten (:meth:`Redactor.text`): remembered values in any letter case, e-mail addresses, JWTs,
and in URLs every query parameter whose name looks secret (default-deny: ``*pass*``, ``*session*``, ``*token*``,
``*secret*``, ``sid``, ``code``, ``SAMLart`` ...), every path parameter (``;jsessionid=``) and every fragment that
holds parameters (``#access_token=``).
Issuers, entity IDs, endpoints, certificate fingerprints and group names are configuration and stay readable.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import ntpath
import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ssodiag.diag.har import known_error_text
from ssodiag.diag.model import Certificate, RunResult, SamlMessage

if TYPE_CHECKING:  # the group-sync model loads only with a plan to redact: nothing else here needs it
    from ssodiag.diag.groupsync import SyncPlan

GROUP_ATTRIBUTES = {
    "memberOf", "groups", "group",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
}
# Query keys whose value is a credential or a SAML/OAuth message, whatever else the URL holds (default deny: a key
# is secret when its lower-case name contains one of _SECRET_KEY_PARTS or is one of _SECRET_KEYS).
_SECRET_KEY_PARTS = ("pass", "session", "token", "secret", "auth_code", "csrf", "apikey", "api_key", "signature")
_SECRET_KEYS = {"sid", "code", "samlart", "samlrequest", "samlresponse", "relaystate", "state", "nonce", "key",
                "sig", "mcascsrf", "assertion", "ticket"}
# \w is Unicode-aware: `josé@société.fr` (RFC 6531 internationalised address) is an address too. A match starts
# only where a local-part run starts (the lookbehind): with `\b` every `.` in "a.a.a.…" was a new start, and each
# start rescanned the run, quadratic time on one long attribute value.
_EMAIL_RE = re.compile(r"(?<![\w.%+-])([\w.%+-]+)@([\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,})\b")
_URL_RE = re.compile(r"https?://[^\s`'\"<>]+", re.IGNORECASE)
_PATH_PARAM_RE = re.compile(r";([^;=/?#]*)=([^;/?#]*)")
# A JWT (RFC 7519: base64url header `{"` = eyJ, payload, signature) or a bearer credential, anywhere in any text.
_JWT_RE = re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*")
# The credential of an Authorization header; it holds a digit, which the words after SAML's "bearer" never do.
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+(?=[\w.~+/=-]*\d)[\w.~+/=-]{12,}")
# A home folder in a local path names its owner (/Users/jane.doe/Downloads/login.har); not the path of a URL
# (`https://acme.okta.com/home/acme_atlan_1/…`, an Okta app link), where a host name comes before it.
_HOME_RE = re.compile(r"(?i)((?<![\w.%~-])/Users/|(?<![\w.%~-])/home/|[A-Z]:\\Users\\)[^/\\\s`'\"]+")
# Remembered values are found inside other text by their first characters, with one regex built as a trie (one
# pass per string, whatever the number of values: a capture of 500 logins holds tens of thousands of attribute
# values, and testing each against each string never finished), then compared in full.
_KEY_CHARS = 16
_FIND_CHARS = 4  # the regex finds where a key may start by this many characters
_MIN_COOKIE_SECRET = 8  # a cookie value at least this long is treated as a session secret
_MIN_ANYWHERE = 3  # the shortest page text remembered, and the shortest clipped value recognised
# Shorter values (`Li`, `Doe`, `Jane`) are replaced only as a whole word: inside another word they are an accident
# (the surname `Doe` in "does", `Ann` in "announce") and replacing them garbles the report's sentences.
_MIN_INSIDE_A_WORD = 5
_CLIPPED = "…"  # how reports cut a long value (diag.text.clip, diag.urls.quoted)
SECRET = "<redacted>"
_MAX_REMEMBERED_CHARS = 8_000_000  # of texts and their redactions kept for reuse; past it they are forgotten

KIND_LABEL = {  # kind -> (one, several), in the order the receipt lists them
    "email": ("e-mail address", "e-mail addresses"), "nameid": ("NameID", "NameIDs"),
    "attr": ("attribute value", "attribute values"), "relaystate": ("RelayState value", "RelayState values"),
    "user": ("username", "usernames"), "subject": ("certificate name", "certificate names"),
    "page": ("error-page text", "error-page texts"), "path": ("local file path", "local file paths"),
    "cookie": ("session cookie value", "session cookie values"),
    "secret": ("secret in URLs and headers (removed)", "secrets in URLs and headers (removed)"),
    "value": ("other personal value", "other personal values"),
}


def _fold(text: str) -> str:
    """Lower case with the same length as ``text`` (a few characters, like `İ`, grow when lowered)."""
    folded = text.lower()
    return folded if len(folded) == len(text) else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def is_secret_key(key: str) -> bool:
    key = key.lower()
    return key in _SECRET_KEYS or any(part in key for part in _SECRET_KEY_PARTS)


def _trie_pattern(words: Iterable[str]) -> str:
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


def _word_edge(text: str, index: int) -> bool:
    return index < 0 or index >= len(text) or not text[index].isalnum()


# The fixed text of the pages a login passes through, which names no one: Keycloak's login theme as Atlan's realm
# shows it (realm display name "Atlan"; keys of themes/src/main/resources/theme/base/login/messages/
# messages_en.properties: loginTitle, loginAccountTitle, errorTitle, backToApplication, backToLogin, doLogIn,
# usernameOrEmail, password, doForgotPassword, rememberMe, identity-provider-login-label, doTryAnotherWay,
# confirmLinkIdpTitle, confirmLinkIdpReviewProfile, confirmLinkIdpContinue, email, firstName, lastName, doSubmit)
# and Atlan's own page titles. Remembered as page text, "Sign in to Atlan" was replaced wherever a report said it.
PRODUCT_PAGE_TEXT = (
    r"Sign in to (?:Atlan|your account)", r"Welcome to Atlan", r"We are sorry\.*",
    r"«?\s*Back to (?:Application|Login)", r"Sign In", r"Log In", r"Username or email", r"Forgot Password\??",
    r"Remember me", r"Or sign in with", r"Try Another Way", r"Account already exists", r"Review profile",
    r"Add to existing account", r"First name", r"Last name", r"Email", r"Password", r"Submit",
)


@functools.cache
def _kept_page_text() -> re.Pattern[str]:
    """What stays readable in an error page: the known error texts, the pages' fixed product text
    (PRODUCT_PAGE_TEXT) and HTTP status lines ("HTTP/1.1 404 Not Found", "Internal Server Error"; RFC 9110 §15
    reason phrases, as Python's http.HTTPStatus lists them). A one-word phrase ("Found", "Gone") counts only after
    its code: alone it may be part of a person's name or greeting."""
    phrases = sorted((s.phrase for s in HTTPStatus), key=len, reverse=True)
    several_words = "|".join(re.escape(p) for p in phrases if " " in p)
    any_phrase = "|".join(re.escape(p) for p in phrases)
    status = rf"(?:HTTP/\d(?:\.\d)?\s+)?(?:\b[1-5]\d\d\s+(?:{any_phrase})|\b(?:{several_words}))\b"
    product = r"(?<!\w)(?:" + "|".join(PRODUCT_PAGE_TEXT) + r")(?!\w)"
    return re.compile(known_error_text().pattern + "|" + product + "|" + status, re.IGNORECASE)


class Redactor:
    """Replaces personal values with tokens keyed by a per-report secret (tokens cannot be looked up offline), and
    counts what it replaced for the receipt."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or os.urandom(16)
        self._values: dict[str, tuple[str, str]] = {}  # folded value -> (replacement, kind)
        self._by_key: dict[str, list[str]] = {}  # first _KEY_CHARS folded characters -> folded values, longest first
        self._finder: re.Pattern[str] | None = None  # rebuilt after remember()
        self._kept: set[str] = set()  # configuration that looks personal (a group named like an e-mail address)
        self._replaced: dict[str, set[str]] = {}  # kind -> distinct real values replaced (the receipt counts them)
        self._tokens: dict[str, str] = {}  # token -> real value (--redaction-key)
        self._done: dict[str, str] = {}  # text -> redacted text (reports repeat the same strings many times)
        self._done_chars = 0  # held in _done: bounded, so that a HAR rewritten entry by entry stays that small

    # ----------------------------------------------------------------- what is personal
    def token(self, value: str, kind: str = "value") -> str:
        # 12 hex digits: a million users must not share tokens (6 digits collide from a few thousand values on).
        # Keyed on the lower-case value: `ZQuisenberry` and `zquisenberry` are one person and one token.
        digest = hmac.new(self._key, _fold(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
        token = f"<{kind}-{digest}>"
        self._tokens.setdefault(token, value)
        return token

    def remember(self, value: str | None, kind: str = "value") -> None:
        """Mark a value as personal; every later occurrence in any string, in any letter case, is replaced."""
        if not value or not value.strip():
            return
        match = _EMAIL_RE.fullmatch(value)
        self.rename(value, f"{self.token(match.group(1), 'email')}@{match.group(2)}" if match
                    else self.token(value, kind), "email" if match else kind)

    def rename(self, value: str, replacement: str, kind: str, *, override: bool = False) -> None:
        """Replace ``value`` (in any letter case) with ``replacement`` wherever it appears; ``override`` replaces
        a replacement chosen before."""
        folded = _fold(value)
        known = folded in self._values
        if (known and not override) or folded in self._kept:
            return
        self._values[folded] = (replacement, kind)
        self._forget()
        if len(folded) > 1 and not known:  # one letter is only ever replaced where it is the whole string
            candidates = self._by_key.setdefault(folded[:_KEY_CHARS], [])
            candidates.append(folded)
            candidates.sort(key=len, reverse=True)
            self._finder = None

    def _forget(self) -> None:
        self._done.clear()
        self._done_chars = 0

    def keep(self, value: str | None) -> None:
        """Mark a value as configuration: it stays readable even where it looks like an e-mail address."""
        if value:
            self._kept.add(_fold(value))
            self._forget()

    def remember_page(self, text: str | None) -> None:
        """An error page's text: the known error strings stay, every other run of text (a greeting with the user's
        name, an account hint) is personal."""
        if not text:
            return
        start = 0
        for match in [*_kept_page_text().finditer(text), None]:
            end = match.start() if match else len(text)
            segment = text[start:end].strip(" \t\r\n.,:;!?()[]\"'" + _CLIPPED)
            if len(segment) >= _MIN_ANYWHERE:
                self.remember(segment, "page")
            start = match.end() if match else end

    # ----------------------------------------------------------------- rewriting
    def _count(self, kind: str, value: str) -> None:
        self._replaced.setdefault(kind, set()).add(value)

    def _email(self, match: re.Match[str]) -> str:
        address = match.group(0)
        if _fold(address) in self._kept:
            return address
        self._count("email", _fold(address))
        return f"{self.token(match.group(1), 'email')}@{match.group(2)}"

    def _replace_known(self, text: str) -> str:
        """Remembered values inside ``text`` in any letter case, also where a report clipped one
        (`a-long-opaque-nameid…`)."""
        if not self._by_key:
            return text
        if self._finder is None:
            # only the first _FIND_CHARS characters of each key go into the regex: a trie of 100,000 whole keys
            # takes the regex compiler longer than all the rewriting; the keys themselves are looked up below
            self._finder = re.compile("(?=" + _trie_pattern({key[:_FIND_CHARS] for key in self._by_key}) + ")")
        folded = _fold(text)
        out: list[str] = []
        done = resume = 0
        for match in self._finder.finditer(folded):
            start = match.start()
            if start < resume:
                continue
            key_length = next((n for n in range(min(_KEY_CHARS, len(folded) - start), 1, -1)
                               if folded[start:start + n] in self._by_key), 0)
            if not key_length:
                continue
            end, value = self._known_at(folded, start, key_length)
            resume = start + key_length  # the longest key found here is passed over whole, matched or not
            if value is not None:
                replacement, kind = self._values[value]
                self._count(kind, value)
                out += [text[done:start], replacement]
                done, resume = end, max(end, resume)
        return "".join(out) + text[done:]

    def _known_at(self, folded: str, start: int, key_length: int) -> tuple[int, str | None]:
        """(end, value) of the longest remembered value at ``start``, whole or cut by a clip mark; (start, None)."""
        for length in range(key_length, 1, -1):  # a shorter key may hold a shorter value
            for value in self._by_key.get(folded[start:start + length], ()):
                common = _common_length(folded, start, value)
                whole = common == len(value)
                if not (whole or (common >= _MIN_ANYWHERE and folded.startswith(_CLIPPED, start + common))):
                    continue
                if len(value) < _MIN_INSIDE_A_WORD and not (_word_edge(folded, start - 1)
                                                            and _word_edge(folded, start + common)):
                    continue
                return start + common, value
        return start, None

    def _url(self, url: str) -> str:
        """Secret query parameters, every path parameter and a fragment holding parameters become <redacted>; the
        other parameters are redacted as plain text once URL-decoded, so that `login_hint=alice%40corp.com` is
        caught (re-encoding would otherwise hide the address from the e-mail rule)."""
        try:
            parts = urlsplit(url)
        except ValueError:  # an unbalanced `[` in the host: not a URL we can take apart, redact it whole
            self._count("secret", url)
            return SECRET
        path = _PATH_PARAM_RE.sub(self._path_param, parts.path)
        fragment = parts.fragment
        if "=" in fragment:  # parameters in a fragment (`#access_token=…`, OAuth implicit flow); `#rsa-sha256` stays
            self._count("secret", fragment)
            fragment = SECRET
        query = parts.query
        if query:
            pairs = []
            for k, v in parse_qsl(query, keep_blank_values=True):
                if is_secret_key(k) and v:
                    self._count("secret", v)
                    v = SECRET
                else:
                    v = self._plain(v)
                pairs.append((k, v))
            query = urlencode(pairs, safe="<>@")
        return urlunsplit(parts._replace(path=path, query=query, fragment=fragment))

    def _path_param(self, match: re.Match[str]) -> str:
        if not match.group(2):
            return match.group(0)
        self._count("secret", match.group(2))
        return f";{match.group(1)}={SECRET}"

    def _secret(self, match: re.Match[str]) -> str:
        self._count("secret", match.group(0))
        return SECRET if match.re is _JWT_RE else f"{match.group(1)} {SECRET}"

    def _home(self, match: re.Match[str]) -> str:
        self._count("path", match.group(0))
        return f"{match.group(1)}<user>"

    def _plain(self, value: str) -> str:
        """Remembered personal values, e-mail addresses, tokens and home folders replaced in text that is not a URL."""
        entry = self._values.get(_fold(value))
        if entry is not None:
            self._count(entry[1], _fold(value))
            return entry[0]
        value = self._replace_known(value)
        # each rule only where its cheap marker is present: a report holds hundreds of thousands of strings
        if "eyJ" in value:
            value = _JWT_RE.sub(self._secret, value)
        if "earer" in value or "asic" in value or "EARER" in value or "ASIC" in value:
            value = _BEARER_RE.sub(self._secret, value)
        if "/" in value or "\\" in value:
            value = _HOME_RE.sub(self._home, value)
        return _EMAIL_RE.sub(self._email, value) if "@" in value else value

    def text(self, value: str) -> str:
        done = self._done.get(value)
        if done is None:
            done = self._text(value)
            self._done_chars += len(value) + len(done)
            if self._done_chars > _MAX_REMEMBERED_CHARS:
                self._forget()
            self._done[value] = done
        return done

    def _text(self, value: str) -> str:
        folded = _fold(value)
        if folded in self._kept:
            return value
        if folded in self._values:
            return self._plain(value)
        if "://" in value:  # URLs first, on their raw form: a secret's token must not end the URL match early
            value = _URL_RE.sub(lambda m: self._url(m.group(0)), value)
        return self._plain(value)

    def walk(self, node: Any) -> Any:
        """A copy of a JSON-shaped document with every string redacted (keys are the schema's, not evidence).

        Strings are handled inline, not by a call per value: a report of a capture with hundreds of messages holds
        hundreds of thousands of them."""
        done, text = self._done, self.text

        def copy(value: Any) -> Any:
            kind = type(value)
            if kind is str:
                return done.get(value) or text(value)
            if kind is dict:
                return {k: (done.get(v) or text(v)) if type(v) is str else copy(v) if type(v) in (dict, list) else v
                        for k, v in value.items()}
            if kind is list:
                return [(done.get(v) or text(v)) if type(v) is str else copy(v) for v in value]
            return value

        return copy(node)

    # ----------------------------------------------------------------- what was done
    def receipt(self) -> list[dict[str, Any]]:
        """Which kinds of values were replaced and how many distinct ones, in a fixed order."""
        return [{"kind": kind, "label": KIND_LABEL[kind][len(self._replaced[kind]) > 1],
                 "count": len(self._replaced[kind])}
                for kind in KIND_LABEL if self._replaced.get(kind)]

    def key_map(self) -> dict[str, str]:
        """Token -> real value, for tokens that were actually used (``--redaction-key``; never in a report)."""
        used = {v for values in self._replaced.values() for v in values}
        return {token: value for token, value in sorted(self._tokens.items()) if _fold(value) in used}


def receipt_line(receipt: list[dict[str, Any]]) -> str:
    """The receipt in one sentence, for stderr and the end of every redacted output."""
    if not receipt:
        return "Redaction: nothing personal was found to replace."
    return "Redaction: replaced " + ", ".join(f"{r['count']} {r['label']}" for r in receipt) + "."


# --------------------------------------------------------------------------- what is personal, from typed values


def redactor_for(result: RunResult, *, local_paths: Iterable[str] = (), key: bytes | None = None) -> Redactor:
    """A Redactor that knows every personal value of ``result`` (read from the typed evidence, not the document)."""
    r = Redactor(key)
    ev = result.evidence
    _remember_paths(r, local_paths)
    for message in ev.messages:
        remember_message(r, message)
    for flow in ev.flows:
        for hop in flow.hops:
            r.remember(hop.relay_state, "relaystate")
            r.remember_page(hop.page_excerpt)
    for page in ev.error_pages:
        r.remember_page(page.text)
    for cookie in ev.cookies:
        # a session cookie is a credential (PingFederate's PF, shown for the server log, opens the IdP session);
        # short values (`en`, `true`) are settings, not sessions
        if len(cookie.value) >= _MIN_COOKIE_SECRET:
            r.remember(cookie.value, "cookie")
    if result.groupsync is not None:
        remember_plan(r, result.groupsync)
    for cert in _certificates(result):
        for name in (cert.subject, cert.issuer):
            # A DN with emailAddress (RFC 5280 §4.1.2.6 legacy attribute) names a person, and its CN is then
            # usually their name too: the whole DN is personal. The fingerprints, kept, still identify the cert.
            if name and _EMAIL_RE.search(name):
                r.remember(name, "subject")
    return r


def remember_message(r: Redactor, message: SamlMessage) -> None:
    """The personal values of one message: its RelayState, NameIDs and attribute values (group names are kept:
    they are configuration)."""
    r.remember(message.relay_state, "relaystate")
    for assertion in message.assertions:
        if assertion.name_id is not None:
            r.remember(assertion.name_id.value, "nameid")
        for attribute in assertion.attributes:
            for value in attribute.values:
                if attribute.name in GROUP_ATTRIBUTES:
                    r.keep(value)
                else:
                    r.remember(value, "attr")


def _remember_paths(r: Redactor, paths: Iterable[str]) -> None:
    """A local path is shown as its file name: the folders above it often name a person."""
    for path in sorted({p for p in paths if p and p != "-"}, key=len, reverse=True):
        name = ntpath.basename(posixpath.basename(path))
        if name and name != path:
            r.rename(path, name, "path")


def _certificates(result: RunResult) -> Iterator[Certificate]:
    ev, expect = result.evidence, result.expectations
    yield from ev.certificates
    yield from expect.idp_certificates
    yield from expect.sp_certificates
    for metadata in (*ev.metadata, *expect.idp_metadata):
        for entity in metadata.entities:
            for role in entity.roles:
                yield from (k.certificate for k in role.keys if k.certificate)
    for message in ev.messages:
        yield from message.signature.embedded_certificates
        if message.signature.signing_certificate:
            yield message.signature.signing_certificate
    yield from result.resolved.trusted_certificates


def redact_report(result: RunResult, doc: dict[str, Any], *, local_paths: Iterable[str] = (),
                  key: bytes | None = None) -> tuple[dict[str, Any], Redactor]:
    """A redacted copy of the report document of ``result`` with its receipt; the original is not modified."""
    r = redactor_for(result, local_paths=local_paths, key=key)
    out = r.walk(doc)
    out["redacted"] = True
    out["redaction"] = {"replaced": r.receipt(), "summary": receipt_line(r.receipt())}
    return out, r


def redact_plan(plan: SyncPlan, doc: dict[str, Any], *, local_paths: Iterable[str] = (),
                key: bytes | None = None) -> tuple[dict[str, Any], Redactor]:
    """A redacted copy of the document of a group-sync plan with its receipt: usernames and e-mails become tokens,
    group names (configuration) stay readable."""
    r = Redactor(key)
    _remember_paths(r, local_paths)
    remember_plan(r, plan)
    out = r.walk(doc)
    out["redacted"] = True
    out["redaction"] = {"replaced": r.receipt(), "summary": receipt_line(r.receipt())}
    return out, r


def remember_plan(r: Redactor, plan: SyncPlan) -> None:
    """The plan says where its personal values are: usernames, blocked users' e-mails, subjects of user warnings.
    Group names are kept first, so a group named like a person's address stays readable."""
    from ssodiag.diag.groupsync import USER_WARNINGS

    for change in plan.changes:
        r.keep(change.atlan_group)
        for group in change.sso_groups:
            r.keep(group)
    for warning in plan.warnings:
        if warning.code not in USER_WARNINGS:
            for subject in warning.subjects:
                r.keep(subject)  # group names or input files
    for change in plan.changes:
        r.remember(change.username, "user")
    for blocked in plan.blocked:
        r.remember(blocked.username, "user")
        r.remember(blocked.atlan_username, "user")
        r.remember(blocked.email, "email")
    for warning in plan.warnings:
        if warning.code in USER_WARNINGS:
            for subject in warning.subjects:
                r.remember(subject, "user")


def write_key_map(redactor: Redactor, path: str) -> None:
    """``--redaction-key FILE``: the tokens of this report and the real values behind them, as JSON."""
    from ssodiag.diag.output import write_file

    write_file(path, json.dumps(redactor.key_map(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
               mode=0o600)
