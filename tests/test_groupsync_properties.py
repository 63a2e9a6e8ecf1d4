"""Property tests: the simulator against a plain, obviously-correct reference model on random inputs."""
from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ssodiag.diag.groupsync import AtlanDirectory, AtlanUser, IdpDirectory, IdpUser, Mapping, MappingSet, simulate
from ssodiag.diag.groupsync_io import read_atlan, read_idp, read_mappings

# Lower-case usernames without "@" and no emails: an IdP user whose name is not in Atlan is then always a new user,
# never a look-alike of an existing one, so the reference model needs no identity rules.
USERS = st.sampled_from([f"u{i}" for i in range(12)])
SSO = st.sampled_from(["eng", "Eng", "mkt", "ops", " ops", "sales", "x"])
ATLAN = st.sampled_from(["Engineering", "Marketing", "Ops", "Sales", "Ghost"])


@st.composite
def worlds(draw):
    rules = draw(st.lists(st.tuples(SSO, ATLAN), max_size=10))
    atlan_users = draw(st.dictionaries(USERS, st.frozensets(ATLAN.filter(lambda g: g != "Ghost"), max_size=4),
                                       max_size=8))
    idp_users = draw(st.dictionaries(USERS, st.frozensets(SSO, max_size=5), max_size=8))
    extra = draw(st.frozensets(ATLAN.filter(lambda g: g != "Ghost"), max_size=2))  # groups with no member
    return rules, atlan_users, idp_users, extra


def build(rules, atlan_users, idp_users, extra):
    groups = frozenset(g for gs in atlan_users.values() for g in gs) | extra
    return (MappingSet(tuple(Mapping(s, a) for s, a in rules)),
            AtlanDirectory({u: AtlanUser("", tuple(sorted(gs))) for u, gs in atlan_users.items()}, groups),
            IdpDirectory({u: IdpUser("", tuple(sorted(gs))) for u, gs in idp_users.items()}, "csv"))


def reference(rules, atlan_users, idp_users, extra):
    """Straight from Atlan's "Troubleshooting SSO" group-mapping answer, one (user, Atlan group) pair at a time."""
    existing = {g for gs in atlan_users.values() for g in gs} | extra
    expected = set()
    for user, sso_groups in idp_users.items():
        have = atlan_users.get(user, frozenset())
        for group in existing:
            sources = {s for s, a in rules if a == group}
            if not sources:
                continue  # mapped on one side only
            wanted = any(s in sso_groups for s in sources)
            if wanted and group not in have:
                expected.add((user, group, "add"))
            if group in have and not wanted:
                expected.add((user, group, "remove"))
    return expected


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_simulator_matches_the_reference_model(world):
    plan = simulate(*build(*world))
    rules, atlan_users, idp_users, extra = world
    assert {(c.username, c.atlan_group, c.action) for c in plan.changes} == reference(*world)
    assert len(plan.changes) == len({(c.username, c.atlan_group) for c in plan.changes})  # one change per pair
    changed = {c.username for c in plan.changes}
    assert plan.unchanged == sum(1 for u in idp_users if u in atlan_users and u not in changed)
    assert plan.new_users == sum(1 for u in idp_users if u not in atlan_users)
    assert plan.blocked == ()
    assert all(c.new_user == (c.username not in atlan_users) for c in plan.changes)


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_applying_the_plan_reaches_a_fixed_point(world):
    """After one login of everyone, a second simulation has nothing left to do (FORCE sync converges)."""
    rules, atlan_users, idp_users, extra = world
    plan = simulate(*build(*world))
    after = {u: set(gs) for u, gs in atlan_users.items()}
    after.update({u: set() for u in idp_users if u not in after})  # the login creates new users (JIT)
    for c in plan.changes:
        members = after.setdefault(c.username, set())
        (members.add if c.action == "add" else members.discard)(c.atlan_group)
    again = simulate(*build(rules, {u: frozenset(gs) for u, gs in after.items()}, idp_users, extra))
    assert again.changes == () and again.new_users == 0


@settings(max_examples=200, deadline=None)
@given(worlds(), st.data())
def test_renamed_users_are_blocked_and_never_changed(world, data):
    """Give some Atlan users an IdP username with a domain (`u1` → `u1@corp.com`): each is blocked, untouched."""
    rules, atlan_users, idp_users, extra = world
    renamed = data.draw(st.sets(st.sampled_from(sorted(atlan_users)), max_size=len(atlan_users))
                        if atlan_users else st.just(set()))
    idp_users = {u: g for u, g in idp_users.items() if u not in renamed and u.split("@")[0] not in renamed}
    idp_users.update({f"{u}@corp.com": frozenset({"eng"}) for u in renamed})
    plan = simulate(*build(rules, atlan_users, idp_users, extra))
    assert {(b.username, b.atlan_username) for b in plan.blocked} == {(f"{u}@corp.com", u) for u in renamed}
    touched = {c.username for c in plan.changes}
    assert not touched & (renamed | {f"{u}@corp.com" for u in renamed})


NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffd"), min_size=1,
                max_size=12).filter(lambda s: s.strip() == s and s)


def csv_text(header, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(NAMES, NAMES), max_size=6, min_size=1),
       st.dictionaries(NAMES, st.frozensets(NAMES, max_size=3), max_size=5),
       st.dictionaries(NAMES, st.frozensets(NAMES, max_size=3), max_size=5))
def test_csv_files_give_the_same_plan_as_the_same_data_in_memory(tmp_path_factory, rules, atlan_users, idp_users):
    """Commas, quotes and any printable Unicode in names survive the CSV readers unchanged."""
    folder = tmp_path_factory.mktemp("csv")
    (folder / "m.csv").write_text(csv_text(("sso_group", "atlan_group"), rules), encoding="utf-8")
    (folder / "a.csv").write_text(csv_text(("username", "email", "atlan_group"),
                                           [(u, "", g) for u, gs in atlan_users.items() for g in sorted(gs) or [""]]
                                           + [("", "", "Spare")]), encoding="utf-8")
    (folder / "i.csv").write_text(csv_text(("username", "email", "sso_group"),
                                           [(u, "", g) for u, gs in idp_users.items() for g in sorted(gs) or [""]]),
                                  encoding="utf-8")
    if not idp_users:
        return
    from_files = simulate(read_mappings(folder / "m.csv"), read_atlan(folder / "a.csv"), read_idp([folder / "i.csv"]))
    in_memory = simulate(*build(rules, atlan_users, idp_users, frozenset({"Spare"})))
    assert from_files.to_dict() == in_memory.to_dict()
