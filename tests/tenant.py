"""The Atlan tenant the CLI tests log in to, and what a terminal must never receive raw."""
from __future__ import annotations

import re

ATLAN = "https://acme.atlan.com"
SP = f"{ATLAN}/auth/realms/default"
ACS = f"{SP}/broker/okta/endpoint"
OKTA = "http://www.okta.com/exk123"
ATLAN_ARGS = ("--atlan", ATLAN, "--alias", "okta")
# What must never be printed raw on a terminal: C0/C1 controls other than the newline, and bidi/zero-width marks.
RAW_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
