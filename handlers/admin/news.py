"""Announcements: citizens opt in with /news and out with /stop; an administrator sends one
with /announce and follows its delivery with /announcements. Sending is paced by the outbox."""

from __future__ import annotations

from handlers import access
from handlers.clock import local_date_text
from handlers.flow import Turn
from handlers.messages import Reply, encode_reply
from storage.announcements import deliveries, queue_announcement
from storage.citizens import find_citizen

_LIMIT = 2000


async def subscribe(turn: Turn, wanted: bool) -> None:
    """/news and /stop."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None:
        turn.say("news.consent_first")
        return
    citizen.news, citizen.unreachable = wanted, False
    turn.say("news.subscribed" if wanted else "news.unsubscribed")


async def announce(turn: Turn) -> None:
    """/announce TEXT (administrators): queue the text for everyone who opted in."""
    officer = await access.current_officer(turn)
    if officer is None or not access.is_admin(officer):
        await access.refuse(turn, officer, "announce", None)
        return
    text = turn.incoming.command_args.strip()
    if not text or len(text) > _LIMIT:
        turn.say("news.usage", limit=_LIMIT)
        return
    body = turn.texts("news.header") + "\n" + text + "\n\n" + turn.texts("news.footer")
    announcement = await queue_announcement(
        text, encode_reply(Reply(body)), officer_id=officer.id, now=turn.now, session=turn.session
    )
    await access.record(turn, officer, "announce", None)
    turn.say("news.queued", number=announcement.id, count=announcement.recipients)


async def report_deliveries(turn: Turn) -> None:
    """/announcements (administrators): delivered, pending and failed, per announcement."""
    officer = await access.current_officer(turn)
    if officer is None or not access.is_admin(officer):
        await access.refuse(turn, officer, "announcements", None)
        return
    found = await deliveries(5, session=turn.session)
    if not found:
        turn.say("news.none")
        return
    lines = [turn.texts("news.deliveries_title")]
    for item in found:
        lines.append(
            turn.texts(
                "news.delivery_line",
                number=item.announcement.id,
                at=local_date_text(item.announcement.created_at),
                recipients=item.announcement.recipients,
                delivered=item.delivered,
                pending=item.pending,
                failed=item.failed,
            )
        )
    turn.say_text("\n".join(lines))
