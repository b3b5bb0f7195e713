"""Buttons on messages sent to someone else's chat (a new case to an officer, a question to a
reporter). Their tokens are stored for the recipient's chat (`storage.notify_tokens`, not its
conversation row, which only the recipient's own turns lock), so pressing one later is resolved
against what was sent to that chat, and nothing else.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Protocol

from handlers.flow import Turn
from handlers.messages import Choice, ConversationKey, Reply
from handlers.texts import DEFAULT_LOCALE, Texts
from storage import notify_tokens
from storage.conversations import locales_of
from storage.identity import keys_of


class Addressed(Protocol):
    """A stored recipient (citizen, officer, group chat): its chat id is kept sealed."""

    channel: str
    address: str


def chat_of(recipient: Addressed, turn: Turn) -> ConversationKey:
    """Where to write to a stored recipient: its sealed chat id, opened for this turn only."""
    return ConversationKey(recipient.channel, keys_of(turn.session).unseal(recipient.address))


async def send_with_actions(
    turn: Turn, key: ConversationKey, text: str, buttons: list[tuple[str, str, str]]
) -> None:
    """Send `text` to `key` with buttons (label, action name, argument)."""
    token = secrets.token_urlsafe(4)
    targets = {f"a{i}": [name, arg, label] for i, (label, name, arg) in enumerate(buttons)}
    choices = tuple(Choice(f"a{i}", label) for i, (label, _, _) in enumerate(buttons))
    await notify_tokens.remember(
        key.channel, key.chat_id, token, targets, turn.now, session=turn.session
    )
    turn.send_to(key, Reply(text, choices, token, buttons_only=True))


async def pressed_action(turn: Turn) -> tuple[str, str, str] | None:
    """(action, argument, label) behind a pressed notification button, if that is what it is.

    Each notification's buttons work once: pressing one forgets them all. A press on the
    question the chat is at is an answer, not a notification: no lookup for it.
    """
    if turn.incoming.choice_token is None:
        return None
    token, _, choice = turn.incoming.choice_token.partition(":")
    if token == turn.dialog.offered.get("token"):
        return None
    key = turn.incoming.key
    targets = await notify_tokens.take(key.channel, key.chat_id, token, session=turn.session)
    target = (targets or {}).get(choice)
    if not target:
        return None
    return target[0], target[1], target[2]


async def texts_for(turn: Turn, key: ConversationKey) -> Texts:
    """The catalog in the language the recipient chose (Vietnamese if they never said)."""
    if key == turn.incoming.key:
        return turn.texts
    await learn_locales(turn, [key])
    return Texts(turn.locales[key])


async def learn_locales(turn: Turn, keys: Sequence[ConversationKey]) -> None:
    """Read the languages of these chats in one query, for `texts_for` to use this turn."""
    unknown = [k for k in dict.fromkeys(keys) if k not in turn.locales]
    if not unknown:
        return
    found = await locales_of([(k.channel, k.chat_id) for k in unknown], session=turn.session)
    for key in unknown:
        turn.locales[key] = found.get((key.channel, key.chat_id), DEFAULT_LOCALE)
