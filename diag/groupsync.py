"""Group-sync simulator: what Atlan's SSO group mapping will do to each user's Atlan groups.

Pure: takes the loaded mappings, the Atlan directory and the IdP directory (``diag.groupsync_io`` reads them)
and returns a :class:`SyncPlan`; no I/O, no rendering.

The rules (Atlan's "Troubleshooting SSO" and its SSO group-mapping API; docs/atlan-sso.md): Atlan applies Keycloak
``saml-group-idp-mapper`` mappers on ``memberOf`` with sync mode FORCE at every SSO login, so for each *mapped*
Atlan group the user ends up a member exactly when the IdP sends at least one SSO group mapped to it. A group mapped
on one side only changes nothing. The mapper compares the attribute value exactly, so a mapping with a stray space
or a different case never matches (Atlan's "Troubleshooting IdP group sync": "typos, extra spaces"): the simulator
does not normalise names, it warns. Usernames are permanent and are the unique identifier ("Troubleshooting SSO",
"Troubleshooting SCIM provisioning"): an IdP user whose username differs from the existing Atlan user's is a
different user, so the existing user is left alone and the case is reported as blocked.

Cost: linear in the number of memberships plus mappings; each user is looked at once.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from itertools import chain

from msgspec import Struct, field

APPLIES_LOGIN = "login"  # mappers run at each SSO login ("Sync is login-triggered, not real-time")
APPLIES_SCIM = "scim"  # the IdP pushes users and groups over SCIM 2.0 (Atlan's SCIM guides)
APPLIES = (APPLIES_LOGIN, APPLIES_SCIM)
MAPPER_CLAIM = "memberOf"  # the attribute Atlan's saml-group-idp-mapper reads

# Atlan's group mapper is not in its public Keycloak fork (20.0.2 has no SAML attribute-to-group mapper), so the
# plan assumes it behaves as Keycloak's own SAML mappers do, and says so in every plan. The rules that rest on the
# assumption: the group claim (groupsync_io.idp_user_from_assertion), the value comparison (_Compiled), "any one
# mapped SSO group keeps the user" (_user_changes) and the username as Keycloak stores it (keycloak_username).
MAPPER_ASSUMPTION = (
    "Atlan's group mapper is not public; this plan assumes it works as Keycloak's SAML mappers do: it reads the "
    "attribute whose Name or FriendlyName is exactly `memberOf` (case-sensitive), compares each value, trimmed as "
    "Keycloak's SAML parser trims it, exactly with the mapped SSO groups, keeps a user in an Atlan group when any "
    "one SSO group mapped to it is sent, runs at every login, and matches users by the username Keycloak stores "
    "(lower-cased).")


def keycloak_username(name: str) -> str:
    """The username as Keycloak stores it: trimmed and lower-cased (UserAdapter.java:89-92 in
    atlanhq/keycloak-identity 20.0.2); an IdP username differing only in letter case is the same Atlan user."""
    return name.strip().lower()

# Entra ID puts at most 150 groups in a SAML token; above that it sends only a groups.link claim (Microsoft,
# "Configure group claims for applications"), so a mapper sees no group at all and removes every mapped group.
ENTRA_SAML_GROUP_LIMIT = 150
MAX_LISTED = 10  # names quoted inside one message ("and N more" after that)

_GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# --------------------------------------------------------------------------- inputs


class Mapping(Struct, frozen=True):
    """One mapper: users sent ``sso_group`` (the memberOf value, exactly) become members of ``atlan_group``."""

    sso_group: str
    atlan_group: str


class InputProblem(Struct, frozen=True):
    """A row or item that could not be read; the rest of the file was still used."""

    source: str
    where: str  # "line 12", "item 3"
    message: str

    def __str__(self) -> str:
        return f"{self.source} {self.where}: {self.message}"


class Problems(Struct, frozen=True):
    """The first problems of an input (bounded) and how many there were in all."""

    kept: tuple[InputProblem, ...] = ()
    total: int = 0


class MappingSet(Struct, frozen=True):
    mappings: tuple[Mapping, ...]
    problems: Problems = field(default_factory=Problems)
    notes: tuple[str, ...] = ()  # mapper-level caveats found while reading (regex mappers, sync mode, ...)


class AtlanUser(Struct, frozen=True):
    email: str
    groups: tuple[str, ...]  # distinct Atlan group names


class AtlanDirectory(Struct, frozen=True):
    users: dict[str, AtlanUser]  # by username, exactly as Atlan holds it
    groups: frozenset[str]  # every Atlan group that exists (members' groups plus groups listed with no member)
    problems: Problems = field(default_factory=Problems)


class IdpUser(Struct, frozen=True):
    email: str
    groups: tuple[str, ...]  # distinct SSO group names as the IdP sends them
    overage: bool = False  # the token carried Entra's groups.link instead of the groups
    claims: tuple[str, ...] | None = None  # SAML only: the attributes that carried the groups (() = none did)


class IdpDirectory(Struct, frozen=True):
    users: dict[str, IdpUser]  # by username (NameID, username attribute or SCIM userName)
    kind: str  # "csv", "saml", "scim": where it came from, which decides `applies`
    listed_groups: frozenset[str] | None = None  # the IdP's own group list, when the export has one (SCIM Groups)
    problems: Problems = field(default_factory=Problems)

    @property
    def applies(self) -> str:
        return APPLIES_SCIM if self.kind == "scim" else APPLIES_LOGIN


# --------------------------------------------------------------------------- plan


class Change(Struct, frozen=True):
    username: str
    atlan_group: str
    action: str  # "add" or "remove"
    because: str
    sso_groups: tuple[str, ...]  # add: the SSO groups that grant it; remove: the mapped SSO groups the user lacks
    new_user: bool = False  # the user does not exist in Atlan yet and is created by this login / provisioning


class Blocked(Struct, frozen=True):
    username: str  # as the IdP sends it
    atlan_username: str  # the existing Atlan user it looks like
    reason: str
    email: str = ""  # the IdP's email for the user, when it has one


class PlanWarning(Struct, frozen=True):
    code: str
    message: str
    subjects: tuple[str, ...] = ()  # usernames for USER_WARNINGS, else group names or input files


USER_WARNINGS = frozenset({"entra-group-overage", "username-change", "group-claim"})  # warnings whose subjects are usernames


class SyncPlan(Struct, frozen=True):
    applies: str
    changes: tuple[Change, ...]
    blocked: tuple[Blocked, ...]
    unchanged: int  # existing users, matched exactly, whose mapped groups stay as they are
    warnings: tuple[PlanWarning, ...]
    users_in_idp: int = 0
    users_in_atlan: int = 0
    new_users: int = 0  # IdP users Atlan does not have yet (created at first login / by SCIM)
    not_in_idp: int = 0  # Atlan users the IdP input does not mention: not touched
    assumption: str = MAPPER_ASSUMPTION  # how Atlan's (not public) group mapper is taken to behave

    def to_dict(self) -> dict:
        """The JSON document every renderer reads (redaction runs on this dict, before rendering)."""
        adds = sum(1 for c in self.changes if c.action == "add")
        return {
            "kind": "groupsync-plan",
            "applies": self.applies,
            "assumption": self.assumption,
            "summary": {
                "users_in_idp": self.users_in_idp, "users_in_atlan": self.users_in_atlan,
                "new_users": self.new_users, "not_in_idp": self.not_in_idp,
                "adds": adds, "removes": len(self.changes) - adds,
                "blocked": len(self.blocked), "unchanged": self.unchanged, "warnings": len(self.warnings),
            },
            "changes": [
                {"username": c.username, "atlan_group": c.atlan_group, "action": c.action, "because": c.because,
                 "sso_groups": list(c.sso_groups), "new_user": c.new_user}
                for c in self.changes
            ],
            "blocked": [{"username": b.username, "atlan_username": b.atlan_username, "email": b.email,
                         "reason": b.reason} for b in self.blocked],
            "unchanged": self.unchanged,
            "warnings": [{"code": w.code, "message": w.message, "subjects": list(w.subjects)} for w in self.warnings],
        }


# --------------------------------------------------------------------------- helpers


def listing(names: Iterable[str], limit: int = MAX_LISTED) -> str:
    """Names quoted in backticks, comma-separated, the first ``limit`` only ("… and 3 more"): messages stay short."""
    names = list(names)
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _casefold_index(names: Iterable[str]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for name in names:
        index.setdefault(name.strip().casefold(), []).append(name)
    return index


class _Compiled(Struct, frozen=True):
    """The mappings as the simulator uses them: only those whose Atlan group exists can change anything."""

    sso_to_atlan: dict[str, tuple[str, ...]]
    atlan_to_sso: dict[str, tuple[str, ...]]
    mapped: frozenset[str]  # Atlan groups some mapping can change
    missing_text: dict[str, str]  # "because" of a removal, computed once per Atlan group

    @classmethod
    def build(cls, mappings: MappingSet, atlan_groups: frozenset[str]) -> _Compiled:
        sso_to_atlan: dict[str, list[str]] = {}
        atlan_to_sso: dict[str, list[str]] = {}
        for m in dict.fromkeys(mappings.mappings):  # duplicates are one mapper
            if m.atlan_group not in atlan_groups:
                continue  # mapped on one side only: no change; warned about separately
            sso_to_atlan.setdefault(m.sso_group, []).append(m.atlan_group)
            atlan_to_sso.setdefault(m.atlan_group, []).append(m.sso_group)
        missing = {a: f"in none of the SSO groups mapped to `{a}` ({listing(s)})" for a, s in atlan_to_sso.items()}
        return cls({k: tuple(v) for k, v in sso_to_atlan.items()},
                   {k: tuple(v) for k, v in atlan_to_sso.items()}, frozenset(atlan_to_sso), missing)


class _AtlanIdentity:
    """Finds the existing Atlan user an IdP user *looks like* when the usernames differ."""

    def __init__(self, atlan: AtlanDirectory) -> None:
        self.by_email: dict[str, str] = {}
        self.bare: dict[str, str] = {}  # usernames without "@", e.g. the email-prefix `amorris`
        self.by_local: dict[str, str] = {}  # email-style usernames by the part before "@"
        for username, user in atlan.users.items():
            if user.email:
                self.by_email.setdefault(user.email.casefold(), username)
            local, at, _domain = keycloak_username(username).partition("@")
            (self.by_local if at else self.bare).setdefault(local, username)

    def match(self, username: str, user: IdpUser) -> tuple[str, str] | None:
        """(Atlan username, why it is the same person) or None for a genuinely new user."""
        if user.email and (hit := self.by_email.get(user.email.casefold())):
            return hit, f"the same email `{user.email}`"
        folded = keycloak_username(username)
        # `amorris` (email-prefix username from before SSO/SCIM) vs `amorris@corp.com` (Atlan's SCIM
        # troubleshooting), either way round; two email-style usernames with different domains are different people
        local, at, _domain = folded.partition("@")
        if hit := (self.bare.get(local) if at else self.by_local.get(local)):
            return hit, "the same name before the `@`"
        return None


# --------------------------------------------------------------------------- simulation


def _user_changes(username: str, idp_groups: tuple[str, ...], atlan_groups: tuple[str, ...], rules: _Compiled,
                  new_user: bool) -> list[Change]:
    granted = [t for g in idp_groups if (t := rules.sso_to_atlan.get(g))]
    desired = set().union(*granted)
    current = set(atlan_groups)
    held = current & rules.mapped
    if desired == held:
        return []  # the common case, kept cheap: nothing to do for this user
    changes = []
    for target in sorted(desired - current):
        sources = tuple(g for g in idp_groups if target in rules.sso_to_atlan.get(g, ()))
        changes.append(Change(username, target, "add", f"in SSO group {listing(sources)} mapped to `{target}`",
                              sources, new_user))
    # Several SSO groups mapped to one Atlan group: any one of them keeps the user (MAPPER_ASSUMPTION).
    for group in sorted(held - desired):
        changes.append(Change(username, group, "remove", rules.missing_text[group], rules.atlan_to_sso[group]))
    return changes


def _blocked_reason(username: str, atlan_username: str, why: str, applies: str) -> str:
    effect = ("SCIM keeps the existing user and does not sync the new one"
              if applies == APPLIES_SCIM else "the login does not reach the existing user")
    return (f"the IdP sends username `{username}` but the Atlan user with {why} is `{atlan_username}`; usernames "
            f"are permanent in Atlan and cannot be changed, so they are different users: {effect} and its groups "
            f"are not changed. Make the IdP send `{atlan_username}` (NameID / SCIM userName), or ask Atlan support "
            f"to remove the old user.")


def _plan_users(idp: IdpDirectory, atlan: AtlanDirectory, rules: _Compiled, applies: str,
                ) -> tuple[list[Change], list[Blocked], int, int, set[str]]:
    identity: _AtlanIdentity | None = None  # built only when some username is not found as is
    changes: list[Change] = []
    blocked: list[Blocked] = []
    unchanged = new_users = 0
    claimed: set[str] = set()  # Atlan users the IdP input reached, exactly or through a blocked look-alike
    stored = {keycloak_username(name): name for name in atlan.users}
    for username, user in idp.users.items():
        atlan_name = stored.get(keycloak_username(username))
        if atlan_name is not None:
            claimed.add(atlan_name)
            found = _user_changes(atlan_name, user.groups, atlan.users[atlan_name].groups, rules, False)
            changes.extend(found)
            unchanged += not found
            continue
        identity = identity or _AtlanIdentity(atlan)
        twin = identity.match(username, user)
        if twin is None:
            new_users += 1
            changes.extend(_user_changes(username, user.groups, (), rules, True))
        else:
            claimed.add(twin[0])
            blocked.append(Blocked(username, twin[0], _blocked_reason(username, twin[0], twin[1], applies),
                                   user.email))
    return changes, blocked, unchanged, new_users, claimed


class _Sides(Struct, frozen=True):
    """What the mappings are compared with: the groups the IdP sends and the groups Atlan has, indexed once."""

    members: Counter[str]  # SSO group -> how many IdP users are in it
    sent: frozenset[str]  # every SSO group the IdP input shows (members' groups and its own group list)
    sent_fold: dict[str, list[str]]
    atlan_fold: dict[str, list[str]]

    @classmethod
    def of(cls, atlan: AtlanDirectory, idp: IdpDirectory) -> _Sides:
        members = Counter(chain.from_iterable(u.groups for u in idp.users.values()))  # counted in C
        sent = frozenset(members.keys() | (idp.listed_groups or frozenset()))
        return cls(members, sent, _casefold_index(sent), _casefold_index(atlan.groups))


def _atlan_group_missing(m: Mapping, atlan: AtlanDirectory, sides: _Sides) -> PlanWarning | None:
    if m.atlan_group in atlan.groups:
        return None
    near = sorted(a for a in sides.atlan_fold.get(m.atlan_group.strip().casefold(), ()) if a != m.atlan_group)
    hint = f"; Atlan has {listing(near)}, which differs only by spaces or case" if near else ""
    return PlanWarning(
        "atlan-group-missing",
        f"mapping `{m.sso_group}` → `{m.atlan_group}`: no Atlan group `{m.atlan_group}` exists{hint}, so this "
        f"mapping changes nothing; Atlan groups must exist before they are mapped.", (m.atlan_group,))


def _misspelt_sso_group(sso_group: str, sides: _Sides) -> PlanWarning | None:
    """A mapped SSO group the IdP does not send as written, because of spaces or letter case (the mapper compares
    exactly, MAPPER_ASSUMPTION)."""
    near = sorted(s for s in sides.sent_fold.get(sso_group.strip().casefold(), ()) if s != sso_group)
    if sso_group != sso_group.strip():
        return PlanWarning(
            "mapping-whitespace",
            f"SSO group `{sso_group}` in the mappings has leading or trailing spaces; the mapper compares exactly, "
            f"so it never matches" + (f" the IdP's {listing(near)}" if near else "") + ".", (sso_group,))
    if near:
        return PlanWarning(
            "mapping-case",
            f"SSO group `{sso_group}` in the mappings differs only by case from {listing(near)}, which the IdP sends; "
            f"the mapper compares exactly (case-sensitive), so it never matches.", (sso_group,))
    return None


def _unsent_sso_group(sso_group: str, targets: list[str], atlan_members: Callable[[], Counter[str]],
                      idp: IdpDirectory, applies: str) -> PlanWarning:
    """A mapped SSO group no user of the IdP population has: deleted at the IdP, or a stale name."""
    if idp.listed_groups is not None:
        emptied = ", ".join(f"`{t}` ({atlan_members().get(t, 0)} members now)"
                            for t in dict.fromkeys(targets[:MAX_LISTED]))
        return PlanWarning(
            "idp-group-deleted",
            f"SSO group `{sso_group}` is mapped but is not in the IdP's group list: if it was deleted, SCIM deletes "
            f"the mapping and empties Atlan group {emptied}; delete the mapping first to keep the members.",
            (sso_group,))
    scim = " (under SCIM, deleting the IdP group empties the mapped Atlan group)" if applies == APPLIES_SCIM else ""
    return PlanWarning(
        "sso-group-no-members",
        f"no user in the IdP input is in mapped SSO group `{sso_group}`: a stale or deleted group name removes its "
        f"Atlan members at their next sign-in unless another mapped group keeps them{scim}.", (sso_group,))


def _mapping_warnings(mappings: MappingSet, atlan: AtlanDirectory, idp: IdpDirectory, applies: str,
                      population: bool) -> list[PlanWarning]:
    """Anomalies in the mapping table against what the two sides hold."""
    sides = _Sides.of(atlan, idp)
    targets_of: dict[str, list[str]] = {}
    for m in mappings.mappings:
        targets_of.setdefault(m.sso_group, []).append(m.atlan_group)
    unique = list(dict.fromkeys(mappings.mappings))
    # Atlan's members per group, counted once and only if a SCIM group list lacks a mapped group
    atlan_members = cache(lambda: Counter(chain.from_iterable(u.groups for u in atlan.users.values())))
    warnings = [w for m in unique if (w := _atlan_group_missing(m, atlan, sides))]
    for sso_group in dict.fromkeys(m.sso_group for m in unique):
        if sso_group in sides.sent:
            continue
        warning = _misspelt_sso_group(sso_group, sides)
        if warning is None and population:  # one user's groups say nothing about whether a group has members
            warning = _unsent_sso_group(sso_group, targets_of[sso_group], atlan_members, idp, applies)
        if warning is not None:
            warnings.append(warning)
    mapped = set(targets_of)
    if population and idp.listed_groups is not None:
        empty = sorted(g for g in idp.listed_groups & mapped if not sides.members.get(g))
        if empty:
            warnings.append(PlanWarning(
                "sso-group-no-members",
                f"mapped SSO group {listing(empty)} exists in the IdP but has no member: every Atlan member of the "
                f"mapped group that no other mapped SSO group keeps is removed.", tuple(empty)))
    warnings.extend(_guid_warning(mapped, set(sides.sent)))
    return warnings


def _guid_warning(mapped: set[str], sent: set[str]) -> list[PlanWarning]:
    """Entra sends group object IDs unless the app emits names: mappings must use the same."""
    sent_guids = [g for g in sent if _GUID_RE.fullmatch(g)]
    mapped_names = [m for m in mapped if not _GUID_RE.fullmatch(m) and m not in sent]
    mapped_guids = [m for m in mapped if _GUID_RE.fullmatch(m) and m not in sent]
    if sent_guids and mapped_names:
        return [PlanWarning(
            "guid-vs-name",
            f"the IdP sends group IDs (GUIDs such as `{min(sent_guids)}`) but mappings use names such as "
            f"{listing(sorted(mapped_names), 3)}: map the GUIDs, or have the IdP emit group names (Entra ID sends "
            f"group object IDs unless its \"Group claims\" settings choose a name).",
            tuple(sorted(mapped_names)[:MAX_LISTED]))]
    if mapped_guids and sent and not sent_guids:
        return [PlanWarning(
            "guid-vs-name",
            f"mappings use group IDs (GUIDs such as `{min(mapped_guids)}`) but the IdP sends group names: map the "
            f"names the IdP sends in memberOf.", tuple(sorted(mapped_guids)[:MAX_LISTED]))]
    return []


def _overage_warnings(idp: IdpDirectory) -> list[PlanWarning]:
    """Entra replaces more than 150 groups by a `groups.link` claim: the mapper then sees none."""
    warnings = []
    overage = [u for u, user in idp.users.items() if user.overage]
    big = [u for u, user in idp.users.items() if not user.overage and len(user.groups) > ENTRA_SAML_GROUP_LIMIT]
    if overage:
        warnings.append(PlanWarning(
            "entra-group-overage",
            f"{len(overage)} user(s) ({listing(overage)}) got Entra's `groups.link` claim instead of their groups "
            f"(over {ENTRA_SAML_GROUP_LIMIT} groups): the mapper sees no group and removes every mapped group. "
            f"In Entra, emit only \"Groups assigned to the application\".", tuple(overage[:MAX_LISTED])))
    if big:
        warnings.append(PlanWarning(
            "entra-group-overage",
            f"{len(big)} user(s) ({listing(big)}) are in more than {ENTRA_SAML_GROUP_LIMIT} SSO groups: if the IdP is "
            f"Entra ID, their SAML token carries `groups.link` instead and they lose every mapped group; emit only "
            f"\"Groups assigned to the application\".", tuple(big[:MAX_LISTED])))
    return warnings


def _claim_warnings(idp: IdpDirectory) -> list[PlanWarning]:
    """SAML users whose assertion carried no `memberOf` (as Name or FriendlyName, MAPPER_ASSUMPTION)."""
    warnings = []
    no_claim = [u for u, user in idp.users.items() if user.claims == () and not user.overage]
    if no_claim:
        warnings.append(PlanWarning(
            "group-claim",
            f"{len(no_claim)} user(s) ({listing(no_claim)}) signed in with no group claim at all: Atlan's mapper "
            f"sees no group, so every mapped group is removed. Add the `{MAPPER_CLAIM}` attribute to the IdP's "
            f"SAML app and have the user sign in again.", tuple(no_claim[:MAX_LISTED])))
    renamed = [u for u, user in idp.users.items() if user.claims and MAPPER_CLAIM not in user.claims]
    if renamed:
        names = sorted({c for u in renamed for c in idp.users[u].claims})
        warnings.append(PlanWarning(
            "group-claim",
            f"{len(renamed)} user(s) ({listing(renamed)}) got their groups in {listing(names)}, not in "
            f"`{MAPPER_CLAIM}` (as Name or FriendlyName), the attribute Atlan's group mapper reads: unless the "
            f"mappers were changed to that name, Keycloak sees no group and removes every mapped group, and this "
            f"plan counts them as sending none. Name the claim `{MAPPER_CLAIM}` in the IdP.",
            tuple(renamed[:MAX_LISTED])))
    return warnings


def _user_warnings(idp: IdpDirectory, blocked: list[Blocked], not_in_idp: int,
                   applies: str, population: bool) -> list[PlanWarning]:
    warnings = _overage_warnings(idp) + _claim_warnings(idp)
    if len(blocked) > 1:
        warnings.append(PlanWarning(
            "username-change",
            f"{len(blocked)} IdP users have a different username from their existing Atlan user (a provider "
            f"migration or a username format change?); Atlan usernames cannot be changed: see blocked[].",
            tuple(b.username for b in blocked[:MAX_LISTED])))
    if population and applies == APPLIES_SCIM and not_in_idp:
        warnings.append(PlanWarning(
            "not-in-idp",
            f"{not_in_idp} Atlan user(s) are not in the IdP export: their groups are not changed here, but users "
            f"removed from the IdP are deactivated in Atlan."))
    return warnings


def _problem_warnings(*sources: Problems) -> list[PlanWarning]:
    warnings = [PlanWarning("malformed-input", f"skipped: {p}", (p.source,)) for s in sources for p in s.kept]
    dropped = sum(s.total - len(s.kept) for s in sources)
    if dropped:
        warnings.append(PlanWarning("malformed-input", f"and {dropped} more unreadable rows or items were skipped."))
    return warnings


def simulate(mappings: MappingSet, atlan: AtlanDirectory, idp: IdpDirectory, *, applies: str | None = None,
             population: bool = True) -> SyncPlan:
    """The plan for every IdP user: what each mapped Atlan group membership becomes, and what is blocked.

    ``applies`` overrides what the IdP input implies (SCIM export → ``scim``, else ``login``). ``population``
    is False when the IdP side is a sample (one user's assertion): warnings about groups no one has are skipped.
    """
    applies = applies or idp.applies
    if applies not in APPLIES:
        raise ValueError(f"applies must be one of {APPLIES}, not {applies!r}")
    rules = _Compiled.build(mappings, atlan.groups)
    changes, blocked, unchanged, new_users, claimed = _plan_users(idp, atlan, rules, applies)
    not_in_idp = len(atlan.users) - len(claimed)
    warnings = (_problem_warnings(mappings.problems, atlan.problems, idp.problems)
                + [PlanWarning("mapper", note) for note in mappings.notes]
                + _mapping_warnings(mappings, atlan, idp, applies, population)
                + _user_warnings(idp, blocked, not_in_idp, applies, population))
    return SyncPlan(applies=applies, changes=tuple(changes), blocked=tuple(blocked), unchanged=unchanged,
                    warnings=tuple(warnings), users_in_idp=len(idp.users), users_in_atlan=len(atlan.users),
                    new_users=new_users, not_in_idp=not_in_idp)
