"""Readers for the group-sync inputs: mappings (M), Atlan users (A), IdP users (I).

CSV files stream row by row (the csv module on a line iterator), so memory follows the number of distinct users
and memberships, never the file size. A malformed row is recorded with its line number and skipped; the rest of
the file is still used. A file that cannot be used at all (missing, wrong header, no usable row) raises
:class:`InputError` (exit 2).

Every value is untrusted: names are bounded (:data:`MAX_NAME_CHARS`) and may hold no control character, so a
hostile export cannot bloat the plan or smuggle terminal escapes into a report.
"""
from __future__ import annotations

import csv
import json
import operator
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from ssodiag.diag import csv_blocks
from ssodiag.diag.errors import InputError
from ssodiag.diag.groupsync import (
    AtlanDirectory, AtlanUser, IdpDirectory, IdpUser, InputProblem, MAPPER_CLAIM, Mapping, MappingSet, Problems,
)
from ssodiag.diag.limits import MAX_FILE_BYTES
from ssodiag.diag.model import Assertion, Evidence, MessageKind

MAX_NAME_CHARS = 1024  # a username, email or group name; Keycloak's own columns are 255 characters
MAX_PROBLEMS_KEPT = 100  # rows reported one by one; the rest are counted
MAX_SCIM_BYTES = 256 * 1024 * 1024  # a SCIM export is one JSON document, parsed whole: cap it

# Group claims Atlan's mapper may read (Atlan, "Troubleshooting IdP group sync"): Atlan's `memberOf`, the generic
# `groups`, and Entra's default group claim. Entra's overage claim replaces the groups when a user has over 150
# (Microsoft, "Configure group claims for applications").
GROUP_CLAIMS = frozenset({"memberOf", "groups", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"})
ENTRA_OVERAGE_CLAIM = "http://schemas.microsoft.com/claims/groups.link"
EMAIL_CLAIMS = ("email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")

SAML_GROUP_MAPPER = "saml-group-idp-mapper"  # Atlan's mapper type (developer.atlan.com, SSO group mapping)
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"  # RFC 7643 §4.1
SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"  # RFC 7643 §4.2

_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd]")  # controls, and U+FFFD from bytes that were not UTF-8


class _ProblemLog:
    def __init__(self, source: str) -> None:
        self.source = source
        self.kept: list[InputProblem] = []
        self.total = 0

    def add(self, where: str, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(InputProblem(self.source, where, message))

    def frozen(self) -> Problems:
        return Problems(tuple(self.kept), self.total)


def _check_name(value: object, what: str) -> str:
    """The value as a bounded, printable string, or ValueError with the reason (reported for its row)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    if len(value) > MAX_NAME_CHARS:
        raise ValueError(f"{what} is {len(value)} characters, over the {MAX_NAME_CHARS} limit")
    if _BAD_CHARS.search(value):
        raise ValueError(f"{what} holds a control character or bytes that are not UTF-8")
    return value


def _shown(value: object, limit: int = 100) -> str:
    """An unchecked value as it may appear inside a message: printable and short."""
    return _BAD_CHARS.sub("?", str(value))[:limit]


def _open(path: Path, binary: bool = False) -> IO:
    """The file opened for reading; text mode decodes UTF-8 (a BOM skipped) for the csv module."""
    if not path.is_file():
        raise InputError("not a regular file" if path.exists() else "no such file", str(path))
    try:
        # errors="replace": a stray non-UTF-8 byte spoils one row (reported by _check_name), not the whole file
        return path.open("rb") if binary else path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", str(path)) from None


class _CsvFile:
    """A CSV file whose header names the columns, in any order; read in blocks (diag.csv_blocks)."""

    def __init__(self, path: Path, columns: tuple[str, ...], log: _ProblemLog) -> None:
        self.path, self.columns, self.log = path, columns, log
        self.fh = _open(path, binary=True)
        try:
            self.names, written, self.delimiter = csv_blocks.read_header(self.fh)
        except csv.Error as exc:
            self.fh.close()
            raise InputError(f"line 1: unreadable CSV header ({exc})", str(path)) from None
        missing = [c for c in columns if c not in self.names]
        if missing:
            self.fh.close()
            shown = _shown(self.delimiter.join(written) or "(empty line)", 200)
            raise InputError(f"expected a CSV header with columns {','.join(columns)}; missing {','.join(missing)}; "
                             f"the header found is `{shown}`", str(path))
        self.pick = operator.itemgetter(*(self.names.index(c) for c in columns))  # never a single name
        self.width = max(self.names.index(c) for c in columns) + 1
        self.columnar = path.stat().st_size >= csv_blocks.COLUMNAR_FROM_BYTES

    def __enter__(self) -> _CsvFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.fh.close()

    def blocks(self) -> Iterator[csv_blocks.Block]:
        return csv_blocks.blocks(self.fh, MAX_NAME_CHARS)

    def table(self, block: csv_blocks.Block):
        """The block's columns (pyarrow), when it is clean and every row has the header's field count."""
        if not (block.clean and self.columnar):
            return None
        return csv_blocks.columns(block, self.names, self.columns, self.delimiter)

    def rows(self, block: csv_blocks.Block) -> Iterator[tuple[int, tuple[str, ...]]]:
        return _checked_rows(block.text_lines(), block.first_line - 1, self.columns, len(self.names), self.width,
                             self.pick, self.log, self.delimiter)


def _csv_rows(path: Path, columns: tuple[str, ...], log: _ProblemLog) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line number, values of ``columns``) for each usable row; the header names the columns, in any order."""
    with _CsvFile(path, columns, log) as f:
        for block in f.blocks():
            yield from f.rows(block)


def _checked_rows(lines: Iterator[str], line: int, columns: tuple[str, ...], fields: int, width: int,
                  pick: operator.itemgetter, log: _ProblemLog,
                  delimiter: str = ",") -> Iterator[tuple[int, tuple[str, ...]]]:
    """The rows of ``lines`` (the first is line ``line + 1``), each checked (line numbers counted by the csv
    reader: a quoted field may span lines)."""
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            for row in reader:
                number = line + reader.line_num
                if len(row) < width:
                    if row and any(v.strip() for v in row):  # a blank line is no row
                        log.add(f"line {number}", f"expected {fields} fields, found {len(row)}")
                    continue
                values = pick(row)
                joined = "".join(values)
                # one check for the whole row; the field-by-field pass runs only for a bad row
                if _BAD_CHARS.search(joined) or len(joined) > MAX_NAME_CHARS:
                    try:
                        for name, value in zip(columns, values):
                            _check_name(value, name)
                    except ValueError as exc:
                        log.add(f"line {number}", str(exc))
                        continue
                yield number, values
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit(); the reader goes on after it
            log.add(f"line {line + reader.line_num}", f"unreadable CSV ({exc})")


def _read_json(path: Path, cap: int) -> object:
    with _open(path, binary=True) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise InputError(f"JSON file is over the {cap}-byte limit", str(path))
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid JSON ({str(exc).splitlines()[0]})", str(path)) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", str(path)) from None


def _sniff(path: Path) -> str:
    """'json', 'xml' or 'text' from the first bytes (a BOM and whitespace skipped)."""
    with _open(path, binary=True) as fh:
        head = fh.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    return {b"{": "json", b"[": "json", b"<": "xml"}.get(head[:1], "text")


# --------------------------------------------------------------------------- M: mappings


def _group_name(value: str) -> str:
    """Keycloak stores a mapper's group as a path (``/Engineering``); Atlan groups are top-level names."""
    return value[1:] if value.startswith("/") and "/" not in value[1:] else value


def _mapping_from_item(item: object, where: str, log: _ProblemLog, notes: dict[str, list[str]]) -> Mapping | None:
    if not isinstance(item, dict):
        log.add(where, "expected an object")
        return None
    config = item.get("config")
    if isinstance(config, dict):  # a full Keycloak identity-provider mapper object
        kind = item.get("identityProviderMapper", SAML_GROUP_MAPPER)
        if kind != SAML_GROUP_MAPPER:
            notes.setdefault("other-type", []).append(_shown(item.get("name", where)))
            return None
        if str(config.get("are.attribute.values.regex", "")).lower() == "true":
            notes.setdefault("regex", []).append(_shown(config.get("attribute.value", where)))
            return None
        claim = config.get("attribute.name", "memberOf")
        if not isinstance(claim, str) or claim not in GROUP_CLAIMS:
            notes.setdefault("claim", []).append(_shown(claim))
        sync = config.get("syncMode") or item.get("syncMode")
        if sync and sync != "FORCE":  # IMPORT applies at first login only (Keycloak server admin guide)
            notes.setdefault("sync", []).append(_shown(sync))
        item = config
    try:
        sso = _check_name(item.get("attribute.value"), "attribute.value")
        atlan = _group_name(_check_name(item.get("group"), "group"))
    except ValueError as exc:
        log.add(where, str(exc))
        return None
    if not sso.strip() or not atlan.strip():
        log.add(where, "empty SSO group or Atlan group")
        return None
    return Mapping(sso, atlan)


_NOTE_TEXT = {
    "other-type": "mapper(s) that are not `saml-group-idp-mapper` were ignored: {}",
    "regex": "regex mapper(s) are not simulated (are.attribute.values.regex): {}",
    "claim": "mapper(s) read attribute {} instead of `memberOf`; make sure the IdP sends that attribute",
    "sync": "mapper(s) with sync mode {} apply only when the user is first created, not at every login",
}


def read_mappings(path: Path) -> MappingSet:
    """CSV ``sso_group,atlan_group``, or JSON: a list of ``{"attribute.value", "group"}`` or Keycloak mappers."""
    log = _ProblemLog(str(path))
    mappings: list[Mapping] = []
    notes: dict[str, list[str]] = {}
    if _sniff(path) == "json":
        doc = _read_json(path, MAX_FILE_BYTES)
        if not isinstance(doc, list):
            raise InputError('expected a JSON list of group mappings ({"attribute.value": ..., "group": ...})',
                             str(path))
        for n, item in enumerate(doc, 1):
            if (m := _mapping_from_item(item, f"item {n}", log, notes)) is not None:
                mappings.append(m)
    else:
        for line, (sso, atlan) in _csv_rows(path, ("sso_group", "atlan_group"), log):
            if not sso.strip() or not atlan.strip():
                log.add(f"line {line}", "empty sso_group or atlan_group")
                continue
            mappings.append(Mapping(sso, atlan))
    if not mappings and log.total:
        raise InputError(f"no usable mapping; first problem: {log.kept[0].where}: {log.kept[0].message}", str(path))
    note_lines = tuple(_NOTE_TEXT[k].format(", ".join(f"`{v}`" for v in list(dict.fromkeys(vs))[:10]))
                       for k, vs in notes.items())
    return MappingSet(tuple(mappings), log.frozen(), note_lines)


# --------------------------------------------------------------------------- A: Atlan users


class _DirectoryBuilder:
    """Collects memberships row by row; group names are shared objects, so 5M rows cost 5M pointers, not strings.

    A user's groups are a tuple of distinct names when they came from one block read as columns (the common case:
    nothing left to do), else a list deduplicated at the end.
    """

    def __init__(self) -> None:
        self.users: dict[str, list] = {}  # username -> [email, groups]
        self.names: dict[str, str] = {}

    def add(self, username: str, email: str, group: str) -> None:
        entry = self.users.get(username)
        if entry is None:
            entry = self.users[username] = [email, []]
        elif email and not entry[0]:
            entry[0] = email
        if group:
            if type(entry[1]) is tuple:
                entry[1] = list(entry[1])
            entry[1].append(self.names.setdefault(group, group))

    def add_block(self, names: list[str], users: list[tuple[str, str | None, list[int]]]) -> None:
        """A block read as columns (csv_blocks.by_user): per user, indexes into the block's group ``names``."""
        shared = [self.names.setdefault(n, n) for n in names]
        directory = self.users
        for username, email, indexes in users:
            groups = tuple(map(shared.__getitem__, indexes))
            entry = directory.get(username)
            if entry is None:
                directory[username] = [email or "", groups]
                continue
            if email and not entry[0]:
                entry[0] = email
            entry[1] = [*entry[1], *groups]

    @staticmethod
    def groups_of(entry: list) -> tuple[str, ...]:
        return entry[1] if type(entry[1]) is tuple else tuple(dict.fromkeys(entry[1]))


def read_atlan(path: Path) -> AtlanDirectory:
    """CSV ``username,email,atlan_group``, one row per membership.

    A user in no group has one row with an empty ``atlan_group``; a group with no member may be listed with an
    empty ``username`` (so that a mapping to it is not reported as a mapping to a missing group).
    """
    log = _ProblemLog(str(path))
    build = _DirectoryBuilder()
    with _CsvFile(path, ("username", "email", "atlan_group"), log) as f:
        for block in f.blocks():
            table = f.table(block)
            if table is not None:
                names, users = csv_blocks.by_user(table)
                for username, _email, indexes in users:
                    if not username:  # rows that only declare (empty) groups
                        for i in indexes:
                            if names[i]:
                                build.names.setdefault(names[i], names[i])
                build.add_block(names, [u for u in users if u[0]] if any(not u[0] for u in users) else users)
                continue
            for _line, (username, email, group) in f.rows(block):
                username = username.strip()
                if username:
                    build.add(username, email.strip(), group)
                elif group:
                    build.names.setdefault(group, group)
    if not build.users and not build.names:
        raise InputError("no usable Atlan user row", str(path))
    users = {u: AtlanUser(e[0], build.groups_of(e)) for u, e in build.users.items()}
    return AtlanDirectory(users, frozenset(build.names), log.frozen())


# --------------------------------------------------------------------------- I: IdP users


def _read_idp_csv(path: Path, build: _DirectoryBuilder, log: _ProblemLog) -> None:
    with _CsvFile(path, ("username", "email", "sso_group"), log) as f:
        for block in f.blocks():
            table = f.table(block)
            if table is not None:
                names, users = csv_blocks.by_user(table)
                names = [n.strip() for n in names]  # the IdP's SAML values, trimmed as Keycloak reads them
                if all(u[0] for u in users) and all(names):  # else row by row: empty usernames' lines, blank groups
                    build.add_block(names, users)
                    continue
            for line, (username, email, group) in f.rows(block):
                username = username.strip()
                if not username:
                    log.add(f"line {line}", "empty username")
                    continue
                build.add(username, email.strip(), group.strip())


def _objects(value: object) -> list[dict]:
    """The JSON objects of a list attribute; anything else in an untrusted export counts as absent."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _first_email(resource: dict) -> str:
    emails = _objects(resource.get("emails"))
    primary = next((e for e in emails if e.get("primary") is True), emails[0] if emails else {})
    value = primary.get("value", "")
    return value if isinstance(value, str) else ""


def _read_scim(doc: object, path: Path, build: _DirectoryBuilder, log: _ProblemLog) -> frozenset[str] | None:
    """A SCIM 2.0 ListResponse (RFC 7644 §3.4.2) of Users and/or Groups, a list of resources, or one resource.

    Returns the IdP's group list when the export has Group resources, else None.
    """
    resources = doc.get("Resources", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(resources, list):
        raise InputError("SCIM export: Resources is not a list", str(path))
    by_id: dict[str, str] = {}  # SCIM user id -> userName
    group_names: dict[str, str] = {}  # SCIM group id -> displayName
    listed: set[str] = set()  # displayName of every Group resource
    user_groups: list[tuple[str, str, str]] = []  # (userName, group id, display) from User.groups
    members: list[tuple[str, str, str]] = []  # (where, displayName, user id) from Group.members
    for n, res in enumerate(resources, 1):
        where = f"item {n}"
        schemas = res.get("schemas") if isinstance(res, dict) else None
        schemas = schemas if isinstance(schemas, list) else []
        try:
            if isinstance(res, dict) and (SCIM_USER in schemas or "userName" in res):
                username = _check_name(res.get("userName"), "userName").strip()
                if not username:
                    raise ValueError("empty userName")
                email = _first_email(res)
                build.add(username, _check_name(email, "email").strip(), "")
                if isinstance(res.get("id"), str):
                    by_id[res["id"]] = username
                for g in _objects(res.get("groups")):  # RFC 7643 §4.1.2: value = group id, display = its name
                    user_groups.append((username, str(g.get("value", "")), str(g.get("display") or "")))
            elif isinstance(res, dict) and (SCIM_GROUP in schemas or "displayName" in res):
                name = _check_name(res.get("displayName"), "displayName").strip()  # as a SAML value arrives
                listed.add(build.names.setdefault(name, name))
                if isinstance(res.get("id"), str):
                    group_names[res["id"]] = name
                for m in _objects(res.get("members")):
                    if m.get("type", "User") == "User":
                        members.append((where, name, str(m.get("value", ""))))
                    else:  # nested group: Atlan's mapper sees only direct memberOf values
                        log.add(where, f"nested member group `{_shown(m.get('display') or m.get('value'))}` "
                                       f"of `{name}` not flattened")
            else:
                raise ValueError("neither a SCIM User nor a SCIM Group resource")
        except ValueError as exc:
            log.add(where, str(exc))
    for username, gid, display in user_groups:
        name = display or group_names.get(gid, "")
        try:
            if name:
                build.add(username, "", _check_name(name, "group display").strip())
        except ValueError as exc:
            log.add(f"user `{_shown(username)}`", str(exc))
    for where, name, uid in members:
        if uid in by_id:
            build.add(by_id[uid], "", name)
        else:
            log.add(where, f"member `{_shown(uid)}` of `{name}` is not a user in this export")
    return frozenset(listed) if listed else None


def idp_user_from_assertion(assertion: Assertion) -> tuple[str, IdpUser] | None:
    """(username, user) from one assertion: NameID, the group claims, Entra's overage claim; None without NameID.

    Raises ValueError when a value is over the bounds or not printable.
    """
    if assertion.name_id is None or not assertion.name_id.value:
        return None
    username = _check_name(assertion.name_id.value, "NameID").strip()
    groups: list[str] = []
    claims: list[str] = []
    email = ""
    overage = False
    for attr in assertion.attributes:
        if MAPPER_CLAIM in (attr.name, attr.friendly_name):  # Name or FriendlyName, exact (MAPPER_ASSUMPTION)
            groups.extend(_check_name(v, f"{attr.name} value").strip() for v in attr.values)
            claims.append(MAPPER_CLAIM)
        elif attr.name in GROUP_CLAIMS or attr.friendly_name in GROUP_CLAIMS:  # a group claim the mapper ignores
            claims.append(attr.name if attr.name in GROUP_CLAIMS else attr.friendly_name)
        elif attr.name == ENTRA_OVERAGE_CLAIM:
            overage = True
        elif not email and (attr.name in EMAIL_CLAIMS or attr.friendly_name in EMAIL_CLAIMS) and attr.values:
            email = _check_name(attr.values[0], "email").strip()
    return username, IdpUser(email, tuple(dict.fromkeys(groups)), overage, tuple(dict.fromkeys(claims)))


def idp_from_evidence(evidence: Evidence, source: str = "evidence") -> IdpDirectory:
    """One user per SAML Response assertion; a later Response for the same user replaces the earlier one."""
    log = _ProblemLog(source)
    users: dict[str, IdpUser] = {}
    for message in evidence.messages:
        if message.kind is not MessageKind.RESPONSE:
            continue
        if message.encrypted_parts and not message.assertions:
            log.add(message.source, "the assertion is encrypted: its groups cannot be read (pass the SP key)")
        for assertion in message.assertions:
            try:
                found = idp_user_from_assertion(assertion)
            except ValueError as exc:
                log.add(message.source, str(exc))
                continue
            if found is None:
                log.add(message.source, "assertion without a NameID (encrypted NameID?)")
                continue
            users.pop(found[0], None)  # keep the latest login last, in capture order
            users[found[0]] = found[1]
    return IdpDirectory(users, "saml", None, log.frozen())


def _read_idp_evidence(path: Path) -> IdpDirectory:
    from ssodiag.diag.evidence import load_evidence  # the analyze loader: SAML message, HAR, SAML-tracer (import is heavy)

    evidence = load_evidence([str(path)])
    directory = idp_from_evidence(evidence, str(path))
    if not directory.users:
        errors = "; ".join(i.error for i in evidence.inputs if i.error)
        raise InputError("no SAML Response with a readable assertion" + (f" ({errors})" if errors else ""), str(path))
    return directory


def _is_scim(doc: object) -> bool:
    first = doc if isinstance(doc, dict) else (doc[0] if isinstance(doc, list) and doc else None)
    return isinstance(first, dict) and any(k in first for k in ("Resources", "schemas", "userName", "totalResults"))


def read_idp(paths: Sequence[Path]) -> IdpDirectory:
    """IdP users from CSV ``username,email,sso_group`` files, SCIM JSON exports, or SAML Responses / HARs.

    Several files of one kind are merged (memberships add up; for SAML, the latest Response per user wins).
    """
    if not paths:
        raise InputError("give at least one --idp file")
    build = _DirectoryBuilder()
    kinds: set[str] = set()
    listed: set[str] | None = None  # the IdP's group list, when a SCIM export has Group resources
    logs: list[_ProblemLog] = []
    saml: list[IdpDirectory] = []
    for path in paths:
        log = _ProblemLog(str(path))
        logs.append(log)
        shape = _sniff(path)
        doc = _read_json(path, MAX_SCIM_BYTES) if shape == "json" else None
        if doc is not None and _is_scim(doc):
            kinds.add("scim")
            groups = _read_scim(doc, path, build, log)
            if groups is not None:
                listed = (listed or set()) | groups
        elif shape == "text" and _looks_like_csv(path):
            kinds.add("csv")
            _read_idp_csv(path, build, log)
        else:
            kinds.add("saml")
            saml.append(_read_idp_evidence(path))
    if len(kinds) > 1:
        raise InputError(f"--idp files mix kinds ({', '.join(sorted(kinds))}); give one kind at a time")
    if saml:
        users = {u: user for d in saml for u, user in d.users.items()}
        kept = tuple(p for d in saml for p in d.problems.kept)
        return IdpDirectory(users, "saml", None, Problems(kept, sum(d.problems.total for d in saml)))
    if not build.users:
        raise InputError("no usable IdP user row or resource", ", ".join(str(p) for p in paths))
    users = {u: IdpUser(e[0], build.groups_of(e)) for u, e in build.users.items()}
    problems = Problems(tuple(p for lg in logs for p in lg.kept)[:MAX_PROBLEMS_KEPT], sum(lg.total for lg in logs))
    return IdpDirectory(users, kinds.pop(), None if listed is None else frozenset(listed), problems)


CSV_SUFFIXES = (".csv", ".tsv")


def _looks_like_csv(path: Path) -> bool:
    """A CSV of IdP users: by its name, or a header naming one of its columns (then a header that lacks another
    is shown, rather than the file being read as a SAML message)."""
    if path.suffix.lower() in CSV_SUFFIXES:
        return True
    with _open(path, binary=True) as fh:
        try:
            names, _, _ = csv_blocks.read_header(fh)
        except csv.Error:
            return False
    return len(names) > 1 and bool({"username", "email", "sso_group"} & set(names))
