"""How people are identified to anyone but themselves: by a keyed pseudonym only."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: bytes, channel: str, user_id: str) -> str:
    """A keyed HMAC of channel and user id: stable per person, useless without the key."""
    digest = hmac.new(key, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:24]}"
