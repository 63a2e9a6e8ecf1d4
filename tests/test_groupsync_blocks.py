"""Large group-sync CSVs are read in blocks: clean blocks as columns (pyarrow), the others row by row. Whatever the
block boundaries, the directories and the line-numbered problems are those of reading the file row by row."""
from __future__ import annotations

import csv
import io
import random

import pytest

from ssodiag.diag import csv_blocks
from ssodiag.diag.groupsync_io import read_atlan, read_idp


def plain_reading(text: str) -> tuple[dict[str, tuple[str, tuple[str, ...]]], list[int]]:
    """The rules of the readers, row by row with the csv module: stripped usernames and emails (the first non-empty
    one wins), distinct non-empty groups in order of first appearance; and the lines of the bad rows."""
    users: dict[str, list] = {}
    bad: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    for row in reader:
        if len(row) < 3 or any(ch in "".join(row) for ch in "\n\x07"):
            if row and any(v.strip() for v in row):
                bad.append(reader.line_num)
            continue
        username, email, group = row[0].strip(), row[1].strip(), row[2]
        if not username:
            continue
        entry = users.setdefault(username, [email, []])
        if email and not entry[0]:
            entry[0] = email
        if group and group not in entry[1]:
            entry[1].append(group)
    return {u: (e, tuple(g)) for u, (e, g) in users.items()}, bad


def queue_csv(seed: int, column: str) -> str:
    rnd = random.Random(seed)
    lines = [f"username,email,{column}"]
    for n in range(3000):
        user = f"user{rnd.randrange(600)}"  # each user's rows scattered over the file, so over many blocks
        email = rnd.choice(["", f" {user}@corp.example ", f"{user}@corp.example"])
        group = rnd.choice(["", "eng", "ops", "data stewards", "finance", "eng"])
        roll = rnd.random()
        if roll < 0.01:
            lines.append(f'{user},{email},"a, quoted group"')
        elif roll < 0.015:
            lines.append(f'{user},{email},"two\nlines"')  # a quoted line break: refused, with its first line
        elif roll < 0.02:
            lines.append(f"{user},{email}")  # a short row
        elif roll < 0.025:
            lines.append("")
        elif roll < 0.03:
            lines.append(f"{user},{email},bell\x07group")
        else:
            lines.append(f"  {user} ,{email},{group}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("block_bytes", [97, 1024, 1 << 20])
@pytest.mark.parametrize("seed", [1, 2])
def test_blocks_read_as_the_rows_do(tmp_path, monkeypatch, block_bytes, seed):
    monkeypatch.setattr(csv_blocks, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(csv_blocks, "COLUMNAR_FROM_BYTES", 0)
    for column, read in (("atlan_group", lambda p: read_atlan(p)), ("sso_group", lambda p: read_idp([p]))):
        text = queue_csv(seed, column)
        path = tmp_path / f"{column}.csv"
        path.write_text(text)
        expected, bad_lines = plain_reading(text)
        directory = read(path)
        assert {u: (v.email, v.groups) for u, v in directory.users.items()} == expected
        assert [p.where for p in directory.problems.kept] == [f"line {n}" for n in bad_lines][:100]


def test_a_large_clean_file_is_read_as_columns(tmp_path, monkeypatch):
    """The fast path is taken: a clean block never goes row by row."""
    path = tmp_path / "a.csv"
    path.write_text("username,email,atlan_group\n" + "".join(f"u{n},u{n}@x.example,g{n % 7}\n" for n in range(5000)))
    monkeypatch.setattr(csv_blocks, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(csv_blocks, "COLUMNAR_FROM_BYTES", 0)
    from ssodiag.diag import groupsync_io

    def no_rows(*_args, **_kwargs):
        raise AssertionError("a clean block went row by row")

    monkeypatch.setattr(groupsync_io, "_checked_rows", no_rows)
    directory = read_atlan(path)
    assert len(directory.users) == 5000 and directory.users["u12"].groups == ("g5",)
