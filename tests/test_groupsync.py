"""Group-sync simulator rules (Atlan's "Troubleshooting SSO", "Troubleshooting IdP group sync" and SCIM pages; see
docs/atlan-sso.md) and the streaming readers of its inputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssodiag.diag.errors import InputError
from ssodiag.diag.groupsync import (
    MAPPER_ASSUMPTION,
    AtlanDirectory, AtlanUser, IdpDirectory, IdpUser, Mapping, MappingSet, simulate,
)
from ssodiag.diag.groupsync_io import (
    ENTRA_OVERAGE_CLAIM, MAX_NAME_CHARS, idp_from_evidence, read_atlan, read_idp, read_mappings,
)
from ssodiag.diag.model import Evidence
from ssodiag.diag.saml import parse_message
from tests.idp import TestIdP


# --------------------------------------------------------------------------- builders


def mappings(*pairs: tuple[str, str]) -> MappingSet:
    return MappingSet(tuple(Mapping(s, a) for s, a in pairs))


def atlan(users: dict[str, tuple[str, ...]], extra_groups: tuple[str, ...] = (), emails: dict | None = None,
          ) -> AtlanDirectory:
    emails = emails or {}
    groups = frozenset(g for gs in users.values() for g in gs) | frozenset(extra_groups)
    return AtlanDirectory({u: AtlanUser(emails.get(u, ""), gs) for u, gs in users.items()}, groups)


def idp(users: dict[str, tuple[str, ...]], kind: str = "csv", emails: dict | None = None,
        listed: frozenset[str] | None = None, overage: tuple[str, ...] = ()) -> IdpDirectory:
    emails = emails or {}
    return IdpDirectory({u: IdpUser(emails.get(u, ""), gs, u in overage) for u, gs in users.items()}, kind, listed)


def changes_of(plan) -> set[tuple[str, str, str]]:
    return {(c.username, c.atlan_group, c.action) for c in plan.changes}


def codes(plan) -> list[str]:
    return [w.code for w in plan.warnings]


# --------------------------------------------------------------------------- the rules


def test_user_in_mapped_sso_group_is_added_and_because_names_the_group():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"alice": ()}, ("Engineering",)),
                    idp({"alice": ("eng",)}))
    assert changes_of(plan) == {("alice", "Engineering", "add")}
    assert "`eng`" in plan.changes[0].because and plan.changes[0].sso_groups == ("eng",)
    assert plan.unchanged == 0


def test_user_in_mapped_atlan_group_without_any_mapped_sso_group_is_removed():
    plan = simulate(mappings(("eng", "Engineering"), ("eng-contractors", "Engineering")),
                    atlan({"bob": ("Engineering",)}), idp({"bob": ("sales",)}))
    assert changes_of(plan) == {("bob", "Engineering", "remove")}
    change = plan.changes[0]
    assert "`eng`" in change.because and "`eng-contractors`" in change.because  # names the missing SSO groups
    assert set(change.sso_groups) == {"eng", "eng-contractors"}


def test_any_one_of_several_sso_groups_keeps_the_user():
    rules = mappings(("eng", "Engineering"), ("eng-contractors", "Engineering"))
    plan = simulate(rules, atlan({"bob": ("Engineering",)}), idp({"bob": ("eng-contractors",)}))
    assert plan.changes == () and plan.unchanged == 1


def test_group_mapped_on_one_side_only_changes_nothing():
    # "Finance" exists in Atlan but no mapping names it; "ops" is mapped to an Atlan group that does not exist
    plan = simulate(mappings(("ops", "Operations")), atlan({"carol": ("Finance",)}), idp({"carol": ("ops",)}))
    assert plan.changes == () and plan.unchanged == 1
    assert "atlan-group-missing" in codes(plan)


def test_unmapped_atlan_groups_are_kept_while_mapped_ones_change():
    plan = simulate(mappings(("eng", "Engineering"), ("mkt", "Marketing")),
                    atlan({"dan": ("Finance", "Marketing")}, ("Engineering",)), idp({"dan": ("eng",)}))
    assert changes_of(plan) == {("dan", "Engineering", "add"), ("dan", "Marketing", "remove")}


def test_one_sso_group_mapped_to_two_atlan_groups_adds_both():
    plan = simulate(mappings(("eng", "Engineering"), ("eng", "Builders")),
                    atlan({"e": ()}, ("Engineering", "Builders")), idp({"e": ("eng",)}))
    assert changes_of(plan) == {("e", "Engineering", "add"), ("e", "Builders", "add")}


def test_mapper_compares_exactly_so_a_spaced_or_recased_mapping_never_matches():
    # the user is in Atlan's mapped group and the IdP sends "Engineering", but the mapping says " Engineering"
    plan = simulate(mappings((" Engineering", "Eng"), ("SALES", "Sales")),
                    atlan({"f": ("Eng", "Sales")}), idp({"f": ("Engineering", "sales")}))
    assert changes_of(plan) == {("f", "Eng", "remove"), ("f", "Sales", "remove")}
    messages = {w.code: w.message for w in plan.warnings}
    assert "` Engineering`" in messages["mapping-whitespace"] and "`Engineering`" in messages["mapping-whitespace"]
    assert "`SALES`" in messages["mapping-case"] and "`sales`" in messages["mapping-case"]


def test_applies_follows_the_idp_input_and_can_be_overridden():
    rules, people = mappings(("eng", "Engineering")), atlan({"a": ()}, ("Engineering",))
    assert simulate(rules, people, idp({"a": ("eng",)}, kind="csv")).applies == "login"
    assert simulate(rules, people, idp({"a": ("eng",)}, kind="saml")).applies == "login"
    assert simulate(rules, people, idp({"a": ("eng",)}, kind="scim")).applies == "scim"
    assert simulate(rules, people, idp({"a": ("eng",)}), applies="scim").applies == "scim"
    with pytest.raises(ValueError):
        simulate(rules, people, idp({"a": ("eng",)}), applies="nightly")


def test_new_idp_user_gets_the_mapped_groups_and_is_counted_as_new():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"old": ()}, ("Engineering",)), idp({"newbie": ("eng",)}))
    assert changes_of(plan) == {("newbie", "Engineering", "add")}
    assert plan.changes[0].new_user and plan.new_users == 1 and plan.not_in_idp == 1


# --------------------------------------------------------------------------- usernames are permanent


def test_email_prefix_username_versus_full_email_is_blocked_and_the_atlan_user_is_untouched():
    # Atlan's SCIM troubleshooting page: pre-SCIM user `amorris`, IdP now sends `amorris@yourcompany.com`
    plan = simulate(mappings(("eng", "Engineering"), ("mkt", "Marketing")),
                    atlan({"amorris": ("Marketing",)}, ("Engineering",)),
                    idp({"amorris@yourcompany.com": ("eng",)}))
    assert plan.changes == ()  # neither the removal from Marketing nor an add for a new user
    assert [(b.username, b.atlan_username) for b in plan.blocked] == [("amorris@yourcompany.com", "amorris")]
    assert "cannot be changed" in plan.blocked[0].reason and plan.new_users == 0 and plan.not_in_idp == 0


def test_email_usernames_with_different_domains_are_different_people():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"john@other.com": ()}, ("Engineering",)),
                    idp({"john@corp.com": ("eng",)}))
    assert plan.blocked == () and plan.new_users == 1
    reverse = simulate(mappings(("eng", "Engineering")), atlan({"john@corp.com": ()}, ("Engineering",)),
                       idp({"john": ("eng",)}))
    assert [b.atlan_username for b in reverse.blocked] == ["john@corp.com"]


def test_same_email_with_a_different_username_is_blocked():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"jsmith": ()}, ("Engineering",), {"jsmith": "j@c.com"}),
                    idp({"john.smith": ("eng",)}, emails={"john.smith": "J@c.com"}))
    assert [b.atlan_username for b in plan.blocked] == ["jsmith"] and plan.changes == ()
    assert "same email" in plan.blocked[0].reason


def test_case_only_username_difference_is_the_same_user():
    """Keycloak stores usernames lower-cased: `Alice` at the IdP is Atlan's `alice`, not a blocked look-alike."""
    plan = simulate(mappings(("eng", "Engineering")), atlan({"alice": ()}, ("Engineering",)), idp({"Alice": ("eng",)}))
    assert plan.blocked == () and changes_of(plan) == {("alice", "Engineering", "add")}
    assert plan.new_users == 0 and plan.not_in_idp == 0


def test_values_are_trimmed_as_keycloak_reads_them_but_mappings_are_not(tmp_path):
    """Keycloak's SAML parser trims attribute values, so an IdP CSV value ` eng ` is `eng`; a mapping's own stray
    space is compared as written and never matches."""
    (tmp_path / "idp.csv").write_text("username,email,sso_group\nalice,a@x.example, eng \nbob,b@x.example,ops\n")
    sso = read_idp([tmp_path / "idp.csv"])
    assert sso.users["alice"].groups == ("eng",)
    plan = simulate(mappings(("eng", "Engineering"), ("ops ", "Ops")), atlan({"alice": (), "bob": ()},
                                                                            ("Engineering", "Ops")), sso)
    assert changes_of(plan) == {("alice", "Engineering", "add")}
    assert any(w.code == "mapping-whitespace" for w in plan.warnings)


def test_every_plan_states_the_mapper_assumption():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"a": ()}, ("Engineering",)), idp({"a": ("eng",)}))
    assert plan.assumption == MAPPER_ASSUMPTION and plan.to_dict()["assumption"] == MAPPER_ASSUMPTION
    assert "not public" in MAPPER_ASSUMPTION and "Name or FriendlyName" in MAPPER_ASSUMPTION


def test_provider_migration_lists_every_user_whose_username_changes():
    old = atlan({"amorris": ("Eng",), "bkhan": ("Eng",), "cli": ("Eng",)})
    new = idp({"amorris@corp.com": ("eng",), "bkhan@corp.com": ("eng",), "cli": ("eng",)})
    plan = simulate(mappings(("eng", "Eng")), old, new, applies="scim")
    assert {b.username for b in plan.blocked} == {"amorris@corp.com", "bkhan@corp.com"}
    assert plan.unchanged == 1 and plan.changes == ()
    warning = next(w for w in plan.warnings if w.code == "username-change")
    assert warning.message.startswith("2 IdP users")
    assert "SCIM keeps the existing user" in plan.blocked[0].reason


# --------------------------------------------------------------------------- warnings


def test_mapping_to_missing_atlan_group_hints_the_near_name():
    plan = simulate(mappings(("eng", "engineering ")), atlan({"a": ("Engineering",)}), idp({"a": ("eng",)}))
    warning = next(w for w in plan.warnings if w.code == "atlan-group-missing")
    assert "`Engineering`" in warning.message and plan.changes == ()


def test_sso_group_no_user_has_is_reported_only_for_a_population():
    rules, people = mappings(("eng", "Engineering"), ("legacy-eng", "Engineering")), atlan({"a": ("Engineering",)})
    plan = simulate(rules, people, idp({"a": ("eng",)}))
    assert [w.subjects for w in plan.warnings if w.code == "sso-group-no-members"] == [("legacy-eng",)]
    one = simulate(rules, people, IdpDirectory({"a": IdpUser("", ("eng",), claims=("memberOf",))}, "saml"),
                   population=False)
    assert "sso-group-no-members" not in codes(one) and one.changes == ()


def test_scim_group_list_missing_a_mapped_group_warns_that_scim_empties_the_atlan_group():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"a": ("Engineering",), "b": ("Engineering",)}),
                    idp({"a": ("sales",), "b": ()}, kind="scim", listed=frozenset({"sales"})))
    warning = next(w for w in plan.warnings if w.code == "idp-group-deleted")
    assert "empties Atlan group `Engineering` (2 members now)" in warning.message
    assert changes_of(plan) == {("a", "Engineering", "remove"), ("b", "Engineering", "remove")}


def test_entra_overage_claim_and_over_150_groups_are_warned():
    many = tuple(f"g{i}" for i in range(151))
    plan = simulate(mappings(("g1", "G")), atlan({"a": ("G",), "b": ("G",)}),
                    idp({"a": (), "b": many}, overage=("a",)))
    overage = [w for w in plan.warnings if w.code == "entra-group-overage"]
    assert [w.subjects for w in overage] == [("a",), ("b",)]
    assert ("a", "G", "remove") in changes_of(plan)  # what Keycloak really does when no group claim comes


def test_guids_sent_where_mappings_use_names_are_warned():
    guid = "8c6b2b8e-3c9a-4f0e-9a7b-2d1e5f6a7b8c"
    plan = simulate(mappings(("Engineering", "Eng")), atlan({"a": ("Eng",)}), idp({"a": (guid,)}))
    warning = next(w for w in plan.warnings if w.code == "guid-vs-name")
    assert guid in warning.message and warning.subjects == ("Engineering",)
    reverse = simulate(mappings((guid, "Eng")), atlan({"a": ("Eng",)}), idp({"a": ("Engineering",)}))
    assert "guid-vs-name" in codes(reverse)
    clean = simulate(mappings((guid, "Eng")), atlan({"a": ("Eng",)}), idp({"a": (guid,)}))
    assert "guid-vs-name" not in codes(clean)


def test_scim_users_not_in_the_export_are_warned_about_deactivation_only_under_scim():
    people = atlan({"a": (), "gone": ()}, ("G",))
    assert "not-in-idp" in codes(simulate(mappings(("g", "G")), people, idp({"a": ()}, kind="scim")))
    assert "not-in-idp" not in codes(simulate(mappings(("g", "G")), people, idp({"a": ()}, kind="csv")))


def test_plan_document_holds_every_part_the_interface_names():
    plan = simulate(mappings(("eng", "Engineering")), atlan({"a": (), "amorris": ()}, ("Engineering",)),
                    idp({"a": ("eng",), "amorris@x.com": ()}))
    doc = plan.to_dict()
    assert json.loads(json.dumps(doc)) == doc
    assert doc["changes"] == [{"username": "a", "atlan_group": "Engineering", "action": "add", "new_user": False,
                               "because": "in SSO group `eng` mapped to `Engineering`", "sso_groups": ["eng"]}]
    assert doc["blocked"][0]["atlan_username"] == "amorris" and doc["unchanged"] == 0 and doc["applies"] == "login"
    assert doc["summary"]["adds"] == 1 and doc["summary"]["removes"] == 0


# --------------------------------------------------------------------------- readers


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_csv_readers_build_directories_and_report_bad_rows_by_line(tmp_path):
    m = write(tmp_path, "m.csv", "atlan_group,sso_group\nEngineering,eng\n,missing-target\nMarketing,mkt\n")
    a = write(tmp_path, "a.csv", "username,email,atlan_group\nalice,alice@x.com,Engineering\nalice,,Marketing\n"
                                 "bob,bob@x.com,\nbroken\n,,Marketing\n,,Empty Group\n")
    i = write(tmp_path, "i.csv", "Username, Email ,SSO_Group\nalice,alice@x.com,eng\nbob,bob@x.com,mkt\n"
                                 ",x@y.com,eng\ncarol,c@x.com,eng\n")
    rules, people, sso = read_mappings(m), read_atlan(a), read_idp([i])
    assert rules.mappings == (Mapping("eng", "Engineering"), Mapping("mkt", "Marketing"))
    assert [(p.where, p.message) for p in rules.problems.kept] == [("line 3", "empty sso_group or atlan_group")]
    assert people.users["alice"] == AtlanUser("alice@x.com", ("Engineering", "Marketing"))
    assert people.users["bob"].groups == () and "Empty Group" in people.groups
    assert [p.where for p in people.problems.kept] == ["line 5"]
    assert [p.where for p in sso.problems.kept] == ["line 4"] and set(sso.users) == {"alice", "bob", "carol"}
    plan = simulate(rules, people, sso)
    assert changes_of(plan) == {("alice", "Marketing", "remove"), ("bob", "Marketing", "add"),
                                ("carol", "Engineering", "add")}
    assert sum(w.code == "malformed-input" for w in plan.warnings) == 3


def test_csv_reader_rejects_control_characters_overlong_and_non_utf8_values_row_by_row(tmp_path):
    long = "g" * (MAX_NAME_CHARS + 1)
    a = write(tmp_path, "a.csv", b"username,email,atlan_group\nok,,G\nesc,,\x1b[31mred\nbig,," + long.encode()
              + b"\nlatin,,caf\xe9\nfine,,H\n")
    people = read_atlan(a)
    assert set(people.users) == {"ok", "fine"}
    assert [p.where for p in people.problems.kept] == ["line 3", "line 4", "line 5"]
    assert "over the 1024 limit" in people.problems.kept[1].message


def test_csv_reader_goes_on_after_an_oversized_field(tmp_path):
    a = write(tmp_path, "a.csv", 'username,email,atlan_group\nbad,,"' + "x" * 200_000 + '"\nafter,,G\n')
    people = read_atlan(a)
    assert "after" in people.users and people.problems.total == 1


def test_problem_list_is_bounded_but_counted(tmp_path):
    a = write(tmp_path, "a.csv", "username,email,atlan_group\n" + "x\n" * 5000 + "ok,,G\n")
    people = read_atlan(a)
    assert people.problems.total == 5000 and len(people.problems.kept) == 100
    plan = simulate(mappings(), people, idp({"ok": ()}))
    assert plan.warnings[-1].message == "and 4900 more unreadable rows or items were skipped."


@pytest.mark.parametrize("text, missing", [
    ("user,group\nalice,G\n", "missing email,atlan_group"),  # `user` is read as username
    ("username,email,group\nalice,,G\n", "missing atlan_group"),
    ("", "missing username,email,atlan_group"),
])
def test_csv_without_the_expected_header_is_an_input_error(tmp_path, text, missing):
    with pytest.raises(InputError, match=missing):
        read_atlan(write(tmp_path, "a.csv", text))


def test_missing_file_and_unusable_inputs_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_mappings(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no usable mapping"):
        read_mappings(write(tmp_path, "m.csv", "sso_group,atlan_group\n,\n"))
    with pytest.raises(InputError, match="nested too deeply"):
        read_mappings(write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000))
    with pytest.raises(InputError, match="not valid JSON"):
        read_mappings(write(tmp_path, "bad.json", '[{"group": '))
    with pytest.raises(InputError, match="mix kinds"):
        read_idp([write(tmp_path, "i.csv", "username,email,sso_group\na,,g\n"),
                  write(tmp_path, "s.json", json.dumps({"Resources": [{"userName": "a"}]}))])


def test_json_inputs_are_size_capped_and_shape_checked(tmp_path, monkeypatch):
    monkeypatch.setattr("ssodiag.diag.groupsync_io.MAX_FILE_BYTES", 100)
    with pytest.raises(InputError, match="over the 100-byte limit"):
        read_mappings(write(tmp_path, "m.json", json.dumps([{"attribute.value": "g", "group": "G"}] * 10)))
    with pytest.raises(InputError, match="Resources is not a list"):
        read_idp([write(tmp_path, "s.json", json.dumps({"schemas": [], "Resources": {"userName": "a"}}))])
    with pytest.raises(InputError, match="not a regular file"):
        read_atlan(tmp_path)


def test_json_mappings_accept_atlan_shape_and_keycloak_mapper_objects(tmp_path):
    doc = [
        {"attribute.value": "eng", "group": "Engineering"},
        {"name": "abc--1700000000", "identityProviderAlias": "azure", "identityProviderMapper": "saml-group-idp-mapper",
         "config": {"syncMode": "FORCE", "attribute.name": "memberOf", "attribute.value": "mkt",
                    "group": "/Marketing", "are.attribute.values.regex": ""}},
        {"name": "email", "identityProviderMapper": "saml-user-attribute-idp-mapper", "config": {"attribute": "email"}},
        {"identityProviderMapper": "saml-group-idp-mapper",
         "config": {"attribute.value": "team-.*", "group": "Teams", "are.attribute.values.regex": "true"}},
        {"identityProviderMapper": "saml-group-idp-mapper",
         "config": {"syncMode": "IMPORT", "attribute.name": "role", "attribute.value": "ops", "group": "Ops"}},
        "not an object",
        {"attribute.value": "x\u0000y", "group": "G"},
    ]
    rules = read_mappings(write(tmp_path, "m.json", json.dumps(doc)))
    assert rules.mappings == (Mapping("eng", "Engineering"), Mapping("mkt", "Marketing"), Mapping("ops", "Ops"))
    assert [p.where for p in rules.problems.kept] == ["item 6", "item 7"]
    notes = " ".join(rules.notes)
    assert "`email`" in notes and "`team-.*`" in notes and "`role`" in notes and "`IMPORT`" in notes


def test_scim_export_resolves_user_groups_and_group_members(tmp_path):
    export = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 4,
        "Resources": [
            {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "alice@corp.com",
             "emails": [{"value": "other@corp.com"}, {"value": "alice@corp.com", "primary": True}],
             "groups": [{"value": "g1", "display": "eng"}]},
            {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u2", "userName": "bob@corp.com",
             "groups": [{"value": "g2"}]},
            {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g2", "displayName": "mkt",
             "members": [{"value": "u1"}, {"value": "u-unknown"}, {"value": "g1", "type": "Group"}]},
            {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g3", "displayName": "empty"},
        ],
    }
    sso = read_idp([write(tmp_path, "scim.json", json.dumps(export))])
    assert sso.kind == "scim" and sso.applies == "scim"
    assert sso.users["alice@corp.com"] == IdpUser("alice@corp.com", ("eng", "mkt"))
    assert sso.users["bob@corp.com"].groups == ("mkt",)  # group id resolved through the Group resource
    assert sso.listed_groups == frozenset({"mkt", "empty"})
    assert {p.message.split(" ")[0] for p in sso.problems.kept} == {"member", "nested"}


def test_idp_users_from_parsed_saml_responses():
    issuer = TestIdP()
    first = parse_message(issuer.response(name_id="alice@corp.com", attributes={"memberOf": ["old"]}), source="r1")
    second = parse_message(issuer.response(name_id="alice@corp.com", attributes={
        "memberOf": ["eng", "mkt"], "email": ["alice@corp.com"]}), source="r2")
    entra = parse_message(issuer.response(name_id="bob@corp.com", attributes={
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": ["g-guid"],
        ENTRA_OVERAGE_CLAIM: ["https://graph.windows.net/t/users/b/getMemberObjects"]}), source="r3")
    hostile = parse_message(issuer.response(name_id="eve", attributes={"memberOf": ["\u009b31mred"]}), source="r4")
    sso = idp_from_evidence(Evidence(messages=(first, second, entra, hostile)), "capture")
    assert sso.users["alice@corp.com"] == IdpUser("alice@corp.com", ("eng", "mkt"), claims=("memberOf",))  # latest
    # Entra's own group claim is not `memberOf`: the mapper (as assumed) reads none of it
    assert sso.users["bob@corp.com"].overage and sso.users["bob@corp.com"].groups == ()
    assert "eve" not in sso.users and sso.problems.kept[0].where == "r4"
    plan = simulate(mappings(("eng", "Engineering")), atlan({"alice@corp.com": ()}, ("Engineering",)),
                    IdpDirectory({"alice@corp.com": sso.users["alice@corp.com"]}, "saml"), population=False)
    assert changes_of(plan) == {("alice@corp.com", "Engineering", "add")} and plan.warnings == ()


def test_assertion_without_group_claim_or_with_another_claim_name_is_warned():
    issuer = TestIdP()
    rules, people = mappings(("eng", "Engineering")), atlan({"carl": ("Engineering",), "dora": ("Engineering",)})
    bare = parse_message(issuer.response(name_id="carl", attributes={"email": ["carl@corp.com"]}), source="r1")
    renamed = parse_message(issuer.response(name_id="dora", attributes={"groups": ["eng"]}), source="r2")
    sso = idp_from_evidence(Evidence(messages=(bare, renamed)))
    plan = simulate(rules, people, sso)
    claim = [w for w in plan.warnings if w.code == "group-claim"]
    assert [w.subjects for w in claim] == [("carl",), ("dora",)]
    assert "no group claim" in claim[0].message and "`groups`" in claim[1].message
    # FORCE sync with no group: removed; `groups` is not the mapper's claim, so dora loses the group too
    assert changes_of(plan) == {("carl", "Engineering", "remove"), ("dora", "Engineering", "remove")}


def test_member_of_as_friendly_name_is_the_group_claim():
    """Keycloak's SAML mappers match the FriendlyName too (an LDAP-style Name with FriendlyName `memberOf`)."""
    statement = ('<saml:AttributeStatement><saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.1.5.1.1" '
                 'FriendlyName="memberOf"><saml:AttributeValue> eng </saml:AttributeValue></saml:Attribute>'
                 '</saml:AttributeStatement>')
    xml = TestIdP().response(name_id="erin", attributes={"email": ["erin@corp.com"]}, extra_assertion_xml=statement)
    sso = idp_from_evidence(Evidence(messages=(parse_message(xml, source="r"),)))
    assert sso.users["erin"].groups == ("eng",) and sso.users["erin"].claims == ("memberOf",)
    lower = TestIdP().response(name_id="finn", attributes={"memberof": ["eng"]})  # case-sensitive: not the claim
    assert idp_from_evidence(Evidence(messages=(parse_message(lower, source="r"),))).users["finn"].groups == ()
