"""Errors that reach the user as one line and exit code 2 (never a traceback)."""
from __future__ import annotations


class InputError(ValueError):
    """Evidence or an option value that cannot be read. ``str()`` is the one-line message shown to the user."""

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
