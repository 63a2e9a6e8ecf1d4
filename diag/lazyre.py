"""Regular expressions compiled on first use instead of at import.

Compiling a pattern is pure Python (``re._parser``): the patterns our modules define cost several milliseconds of
every start, and most runs use few of them (a Response alone never reads an error page, a query string or a
fingerprint option). A :class:`LazyRegex` stands where the ``re.Pattern`` stood and compiles it the first time one
of its methods is asked for.
"""
from __future__ import annotations

import re


class LazyRegex:
    """``re.compile(pattern, flags)`` on first use; ``pattern`` is readable without compiling."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str):
        if name.startswith("_"):  # copy, pickle and the like probe for hooks: none here
            raise AttributeError(name)
        # Called only for what the instance does not hold yet: each method (search, match, sub, ...) is fetched
        # from the compiled pattern once and kept, so later calls cost what calling the pattern's own method does.
        value = getattr(re.compile(self.pattern, self._flags), name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r}, {self._flags!r})"
