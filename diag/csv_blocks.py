"""A large CSV read in blocks of whole lines: clean blocks as columns (pyarrow's C++ reader), the others row by row.

A group-sync export holds millions of rows, nearly all of them plain `name,email,group` lines. A block of about a
megabyte with nothing suspect in it (no quote, no control character, no U+FFFD, no line over the name limit,
valid UTF-8, every row with the header's field count) is parsed by pyarrow into columns, and the directory is built
from them per user instead of per row. Any other block goes through the csv module row by row, with the line
number of each problem, exactly as a small file does. Memory stays bounded by the block size.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import IO, Any

from msgspec import Struct

BLOCK_BYTES = 1 << 20
# Smaller files are read row by row: loading pyarrow costs more than it saves under a few hundred thousand rows.
COLUMNAR_FROM_BYTES = 8 << 20
MAX_BLOCK_BYTES = 64 * BLOCK_BYTES  # an unclosed quote stops growing the block here; the csv module reports it
_BOM = b"\xef\xbb\xbf"
# bytes that send a block row by row: a quote (a quoted field may hold a comma or a line break), control characters
# but the line breaks, and (in non-ASCII text only) C1 controls and U+FFFD as UTF-8 (what the row check refuses,
# see groupsync_io._BAD_CHARS). One character class scans fast; the alternation only runs on non-ASCII blocks.
_SUSPECT_ASCII = re.compile(rb'[\x00-\x09\x0b\x0c\x0e-\x1f\x7f"]')
_SUSPECT_UTF8 = re.compile(rb'\xc2[\x80-\x9f]|\xef\xbf\xbd')


def _suspect(block: bytes) -> bool:
    return bool(_SUSPECT_ASCII.search(block) or (not block.isascii() and _SUSPECT_UTF8.search(block)))


class Block(Struct, frozen=True):
    first_line: int  # line number of the block's first line
    data: bytes
    clean: bool  # nothing suspect: may be read as columns

    def text_lines(self) -> Iterator[str]:
        """The block's lines as the csv module reads a file (a stray non-UTF-8 byte becomes U+FFFD)."""
        return io.StringIO(self.data.decode("utf-8", errors="replace"), newline="")


# What a person or a spreadsheet writes for a column name, read as the name the code uses ("Atlan Group",
# "SSO-group", "E-mail", "User name"): lower case, runs of spaces and hyphens as one underscore, then a synonym.
HEADER_SYNONYMS = {"e_mail": "email", "mail": "email", "email_address": "email", "user_name": "username",
                   "user": "username", "login": "username"}
# Excel writes `;` where the decimal separator is a comma, and "Unicode text" exports use tabs.
DELIMITERS = (",", ";", "\t")


def header_name(text: str) -> str:
    name = re.sub(r"[\s\-]+", "_", text.strip().lower())
    return HEADER_SYNONYMS.get(name, name)


def read_header(fh: IO[bytes]) -> tuple[list[str], list[str], str]:
    """(column names as the code names them, the header as written, the field delimiter) of the first line: the
    delimiter is whichever of `,` `;` and tab the header holds most. Raises csv.Error on an unreadable header."""
    first = fh.readline(MAX_BLOCK_BYTES)
    if first.startswith(_BOM):
        first = first[len(_BOM):]
    text = first.decode("utf-8", errors="replace")
    delimiter = max(DELIMITERS, key=text.count)
    row = next(csv.reader([text], delimiter=delimiter), [])
    return [header_name(h) for h in row], [h.strip() for h in row], delimiter


def blocks(fh: IO[bytes], max_line: int) -> Iterator[Block]:
    """The rest of the file (after the header) in blocks of whole lines; a quoted field never spans two blocks."""
    line, pending = 2, b""
    while True:
        data = fh.read(BLOCK_BYTES)
        pending += data
        cut = pending.rfind(b"\n") + 1 if data else len(pending)
        # a quote left open at the cut means a quoted field goes on: read on (up to a bound)
        if data and (cut == 0 or pending.count(b'"', 0, cut) % 2) and len(pending) < MAX_BLOCK_BYTES:
            continue
        if cut == 0:
            cut = len(pending)
        block, pending = pending[:cut], pending[cut:]
        if block:
            clean = not _suspect(block) and max(map(len, block.split(b"\n"))) <= max_line
            yield Block(line, block, clean)
            line += block.count(b"\n")
        if not data and not pending:
            return


def columns(block: Block, names: list[str], wanted: tuple[str, ...], delimiter: str = ",") -> Any | None:
    """The ``wanted`` columns of a clean block as a pyarrow Table (strings), or None when a row has another field
    count than the header or the bytes are not UTF-8 (the block is then read row by row)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    short: list[object] = []

    def refuse(row: object) -> str:
        short.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(block.data),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=refuse),
            convert_options=pacsv.ConvertOptions(include_columns=list(wanted),
                                                 column_types={c: pa.string() for c in wanted},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None
    return None if short else table


def by_user(table: Any) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    """A (username, email, group) table per user: the block's distinct group names, and per user (stripped
    username, first non-empty stripped email or None, indexes of its distinct non-empty groups into those names), in order
    of first appearance.

    Each distinct group name is then one Python string, whatever the number of memberships naming it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    none = pa.scalar(None, pa.string())
    username, email, group = (table.column(i) for i in range(3))
    email = pc.utf8_trim_whitespace(email)
    email = pc.if_else(pc.equal(email, ""), none, email)
    encoded = pc.dictionary_encode(pc.if_else(pc.equal(group, ""), none, group)).combine_chunks()
    grouped = pa.table({"u": pc.utf8_trim_whitespace(username), "e": email, "g": encoded.indices}).group_by(
        "u", use_threads=False).aggregate([("e", "first"), ("g", "distinct", pc.CountOptions(mode="only_valid"))])
    users = zip(grouped["u"].to_pylist(), grouped["e_first"].to_pylist(), grouped["g_distinct"].to_pylist())
    return encoded.dictionary.to_pylist(), list(users)
