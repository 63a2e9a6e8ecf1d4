"""Reading user files: bounded, read-only, one-line errors."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ssodiag.diag.errors import InputError
from ssodiag.diag.limits import MAX_FILE_BYTES

READ_CHUNK = 64 * 1024


def read_file(path: str | Path, label: str | None = None) -> bytes:
    """Read a whole file (never written to), refusing one over MAX_FILE_BYTES before reading it."""
    with open_file(path, label) as fh:
        return read_at_most(fh, MAX_FILE_BYTES + 1)


def read_at_most(fh: BinaryIO, limit: int) -> bytes:
    """At most ``limit`` bytes of ``fh``, read in chunks: ``fh.read(limit)`` allocates all of ``limit`` before it
    reads (64 MiB, for a Response of 5 KB: three times the cost of reading it)."""
    chunks: list[bytes] = []
    left = limit
    while left > 0 and (chunk := fh.read(min(READ_CHUNK, left))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


@contextmanager
def open_file(path: str | Path, label: str | None = None, *, max_bytes: int = MAX_FILE_BYTES) -> Iterator[BinaryIO]:
    """Open a file for reading only, refusing one over ``max_bytes`` before reading it; one-line errors."""
    name = f"{label} {path}" if label else str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise InputError(f"file is {size} bytes, over the {max_bytes}-byte limit", name)
        fh = p.open("rb")
    except IsADirectoryError:
        raise InputError("is a directory, not a file", name) from None
    except FileNotFoundError:
        raise InputError("no such file", name) from None
    except PermissionError:
        raise InputError("permission denied", name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", name) from None
    with fh:
        try:
            yield fh
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", name) from None
