"""Buttons on messages sent to someone else's chat (a new case to an officer, a question to a
reporter). Their tokens are stored in the recipient's conversation, so pressing one later is
resolved against what was offered to that chat, like any other button, and nothing else.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from handlers.flow import Turn
from handlers.messages import Choice, ConversationKey, Reply
from handlers.texts import DEFAULT_LOCALE, Texts
from storage.conversations import load_conversation, locales_of, new_conversation
from storage.identity import keys_of

ACTIONS = "actions"
_KEEP = 30


class Addressed(Protocol):
    """A stored recipient (citizen, officer, group chat): its chat id is kept sealed."""

    channel: str
    address: str


def chat_of(recipient: Addressed, turn: Turn) -> ConversationKey:
    """Where to write to a stored recipient: its sealed chat id, opened for this turn only."""
    return ConversationKey(recipient.channel, keys_of(turn.session).unseal(recipient.address))


def _remember(data: dict[str, Any], token: str, targets: dict[str, list[str]]) -> dict[str, Any]:
    actions = dict(data.get(ACTIONS, {}))
    actions[token] = targets
    while len(actions) > _KEEP:
        actions.pop(next(iter(actions)))
    return {**data, ACTIONS: actions}


async def send_with_actions(
    turn: Turn, key: ConversationKey, text: str, buttons: list[tuple[str, str, str]]
) -> None:
    """Send `text` to `key` with buttons (label, action name, argument)."""
    token = secrets.token_urlsafe(4)
    targets = {f"a{i}": [name, arg, label] for i, (label, name, arg) in enumerate(buttons)}
    choices = tuple(Choice(f"a{i}", label) for i, (label, _, _) in enumerate(buttons))
    if key == turn.incoming.key:
        turn.dialog.data = _remember(turn.dialog.data, token, targets)
    else:
        row = await load_conversation(key.channel, key.chat_id, session=turn.session)
        if row is None:
            row = new_conversation(key.channel, key.chat_id, turn.now, session=turn.session)
        row.data = _remember(row.data, token, targets)
    turn.send_to(key, Reply(text, choices, token, buttons_only=True))


def pressed_action(turn: Turn) -> tuple[str, str, str] | None:
    """(action, argument, label) behind a pressed notification button, if that is what it is.

    Each notification's buttons work once: pressing one forgets them all.
    """
    if turn.incoming.choice_token is None:
        return None
    token, _, choice = turn.incoming.choice_token.partition(":")
    actions: dict[str, dict[str, list[str]]] = turn.dialog.data.get(ACTIONS, {})
    target = actions.get(token, {}).get(choice)
    if not target:
        return None
    actions.pop(token)
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
