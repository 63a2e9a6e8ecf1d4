"""Reading user files: bounded, read-only, one-line errors."""
from __future__ import annotations

from pathlib import Path

from ssodiag.diag.errors import InputError
from ssodiag.diag.limits import MAX_FILE_BYTES


def read_file(path: str | Path, label: str | None = None) -> bytes:
    """Read a whole file (never written to), refusing one over MAX_FILE_BYTES before reading it."""
    name = f"{label} {path}" if label else str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit", name)
        with p.open("rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise InputError("is a directory, not a file", name) from None
    except FileNotFoundError:
        raise InputError("no such file", name) from None
    except PermissionError:
        raise InputError("permission denied", name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", name) from None
