"""Receipt codes for reports: random, unguessable, easy to read aloud and to type back."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: nothing a citizen could misread.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 12
_GROUP = 4
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def new_receipt() -> str:
    """12 characters drawn by the OS's secure generator (about 55 bits), shown in groups."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + _GROUP] for i in range(0, LENGTH, _GROUP))


def normalise_receipt(typed: str) -> str | None:
    """A typed code in the stored form, or None if it cannot be one (spaces, dashes, case ok)."""
    raw = _NOT_CODE.sub("", typed.upper())
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return "-".join(raw[i : i + _GROUP] for i in range(0, LENGTH, _GROUP))
