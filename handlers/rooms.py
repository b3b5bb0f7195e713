"""What may happen in which room, in one table that the router applies before anything runs.

Officer and admin work happens in private chats only: a group (an agency's, or any the bot was
added to) may be read by the official a report is about. There the bot answers `/register` (a
leader registers the agency's group) and `/help`; any other command gets one short refusal, and
plain messages and button presses get no answer. What a group receives besides is one-line
notices (`handlers/casework/escalation.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from handlers import access
from handlers.flow import Turn
from handlers.messages import ChatKind, Incoming

PRIVATE_ONLY = frozenset({ChatKind.PRIVATE})
ROOMS: Mapping[str, frozenset[ChatKind]] = {
    "help": frozenset(ChatKind),
    "register": frozenset({ChatKind.GROUP}),
}
"""The commands that work outside a private chat, and where; every other works only there."""
WRONG_ROOM = "wrong_room"


def admits(incoming: Incoming) -> bool:
    """Commands by the table; plain messages and button presses only in a private chat."""
    if incoming.command is None:
        return incoming.chat_kind is ChatKind.PRIVATE
    return incoming.chat_kind in ROOMS.get(incoming.command, PRIVATE_ONLY)


async def turn_away(turn: Turn) -> None:
    """A command in the wrong room gets one short refusal; in a group, a pressed button is
    written down and a plain message is not for the bot. Both refusals are audited."""
    incoming = turn.incoming
    if incoming.command is not None:
        in_group = incoming.chat_kind is ChatKind.GROUP
        await access.refuse(
            turn,
            await access.current_officer(turn),
            WRONG_ROOM,
            None,
            reason="rooms.private_only" if in_group else "rooms.group_only",
            detail=f"/{incoming.command}"[:64],
        )
    elif incoming.choice_token is not None:
        await access.audit_refused_press(turn, WRONG_ROOM)
