"""Group-sync CSVs as people and spreadsheets write them: `;` or tab separators, header spellings such as
`Atlan Group` or `SSO-group` in any case; a header that fits none is shown in the error."""
from __future__ import annotations

from pathlib import Path

import pytest

from ssodiag.diag.errors import InputError
from ssodiag.diag.groupsync import simulate
from ssodiag.diag.groupsync_io import read_atlan, read_idp, read_mappings


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separators_and_spellings_give_the_same_plan(tmp_path, sep):
    def table(header: list[str], *rows: list[str]) -> str:
        return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"

    group = "Eng, Platform" if sep != "," else "Eng Platform"
    mappings = write(tmp_path, "m.csv", table(["SSO Group", "Atlan-Group"], ["engineering", group]))
    atlan = write(tmp_path, "a.csv", table(["User name", "E-mail", "ATLAN GROUP"], ["alice", "alice@x.test", "Ops"],
                                           ["", "", group]))  # a row with no user declares the (empty) group
    idp = write(tmp_path, "i.csv", table(["Username", "Email", "sso_group"], ["alice", "alice@x.test", "engineering"]))
    plan = simulate(read_mappings(mappings), read_atlan(atlan), read_idp([idp]))
    assert {(c.username, c.action) for c in plan.changes} >= {("alice", "add")}
    added = next(c.atlan_group for c in plan.changes if c.action == "add")
    assert added == group  # a comma is data under `;` and tab


def test_a_header_that_fits_none_is_shown(tmp_path):
    bad = write(tmp_path, "m.csv", "Group from IdP;Group in Atlan\nengineering;Eng\n")
    with pytest.raises(InputError) as info:
        read_mappings(bad)
    message = str(info.value)
    assert "missing sso_group,atlan_group" in message and "`Group from IdP;Group in Atlan`" in message


@pytest.mark.parametrize("name", ["idp-users.csv", "idp-users.txt"])
def test_an_idp_csv_whose_header_fits_none_shows_it(tmp_path, name):
    # it was read as a SAML message instead: "no SAML Response with a readable assertion (not recognised as SAML…)"
    idp = write(tmp_path, name, "User name,Email,Groups\nalice,alice@corp.com,eng\n")
    with pytest.raises(InputError) as info:
        read_idp([idp])
    message = str(info.value)
    assert "missing sso_group" in message and "`User name,Email,Groups`" in message and "SAML" not in message
