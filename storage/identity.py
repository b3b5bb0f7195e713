"""Messenger ids at rest: found by a keyed hash, recovered only with a key kept outside the
database. A copy of the database alone identifies nobody.

Two keys, two jobs. The lookup key (`PSEUDONYM_KEY`) makes the hashes that find a chat or an
account and the per-report handles; it never changes, since handles already shown to officers
must stay valid. The encryption key (`ENCRYPTION_KEY`, Fernet: AES with an HMAC, from the
`cryptography` library) seals the ids the bot must send to; it can be rotated, older keys
still opening what they sealed until `feedbackbot keys rotate` has re-sealed everything.
The keys travel with the session (`session.info`), so storage functions take raw ids and never
store them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

SESSION_KEY = "identity"
_UNREADABLE = "a stored messenger id cannot be opened with ENCRYPTION_KEY"


class UnreadableId(RuntimeError):
    """A sealed id none of the configured encryption keys opens (a wrong or missing key)."""


class IdentityKeys:
    """The lookup key and the encryption keys, newest first (the first one seals)."""

    def __init__(self, lookup_key: bytes, encryption_keys: Sequence[bytes]) -> None:
        self._lookup_key = lookup_key
        self._fernet = MultiFernet([Fernet(key) for key in encryption_keys])

    def ref(self, channel: str, raw_id: str) -> str:
        """The keyed hash that finds a chat or an account: equal ids, equal refs."""
        return self._digest(f"id:{channel}:{raw_id}")

    def handle(self, receipt: str) -> str:
        """The pseudonym of one report, derived from its receipt: two reports of one person
        share nothing an officer could join."""
        return f"p-{self._digest(f'report:{receipt}')[:16]}"

    def audit_name(self, channel: str, raw_id: str) -> str:
        """How the audit log names someone who is not an officer: enough to count a person's
        refusals, unlike any hash stored elsewhere, so the log joins nothing."""
        return self._digest(f"audit:{channel}:{raw_id}")[:16]

    def seal(self, raw_id: str) -> str:
        return self._fernet.encrypt(raw_id.encode()).decode("ascii")

    def unseal(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken as error:
            raise UnreadableId(_UNREADABLE) from error

    def reseal(self, sealed: str) -> str:
        """The same id sealed with the newest key (for `keys rotate`)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken as error:
            raise UnreadableId(_UNREADABLE) from error

    def _digest(self, message: str) -> str:
        return hmac.new(self._lookup_key, message.encode(), hashlib.sha256).hexdigest()


def keys_of(session: AsyncSession | Session) -> IdentityKeys:
    """The keys the session was made with (see `storage.db.make_sessionmaker`)."""
    keys = session.info.get(SESSION_KEY)
    if not isinstance(keys, IdentityKeys):
        raise RuntimeError("this session was made without identity keys")
    return keys


def is_encryption_key(value: str) -> bool:
    """Whether `value` is a usable ENCRYPTION_KEY (32 bytes in URL-safe base64)."""
    try:
        Fernet(value.encode())
    except ValueError:
        return False
    return True


def new_encryption_key() -> str:
    """A fresh key for ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")
