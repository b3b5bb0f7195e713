"""What people can see and delete about themselves (/mydata and /forget), and what leaves a
report's files that could identify them."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace

from PIL import Image

from handlers.casework.states import OPEN_STATES
from handlers.clock import local_date_text
from handlers.flow import CONSENT, MENU, Go, Outcome, Turn
from handlers.messages import Attachment, Incoming
from handlers.names import name_of
from handlers.steps import confirm_step
from handlers.texts import Texts
from storage import agencies, cases, notify_tokens, officers
from storage.citizens import find_citizen, forget_citizen
from storage.commendations import commendations_of
from storage.models import Citizen, Officer
from storage.outbox import forget_chat
from storage.ratings import ratings_of

FORGET = "privacy.forget"
_IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def without_metadata(content: bytes, mime_type: str) -> bytes:
    """The image re-encoded without its metadata (camera, time, place), which could identify an
    anonymous reporter; other files, and images that cannot be read, are kept as they are."""
    image_format = _IMAGE_FORMATS.get(mime_type)
    if image_format is None:
        return content
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            clean = image.copy()
        clean.info = {}
        out = io.BytesIO()
        clean.save(out, format=image_format)
        return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return content


async def scrubbed(incoming: Incoming, max_bytes: int) -> Incoming:
    """The update with every image it carries (up to `max_bytes`, larger ones are refused
    anyway) re-encoded without metadata, in a worker thread. The engine calls this before the
    turn's transaction opens, so no writer waits while an image is decoded and encoded."""
    if not any(_to_clean(item, max_bytes) for item in incoming.attachments):
        return incoming

    def clean_all() -> tuple[Attachment, ...]:
        return tuple(
            replace(item, content=without_metadata(item.content or b"", item.media_type))
            if _to_clean(item, max_bytes)
            else item
            for item in incoming.attachments
        )

    return replace(incoming, attachments=await asyncio.to_thread(clean_all))


def _to_clean(item: Attachment, max_bytes: int) -> bool:
    return (
        item.content is not None
        and len(item.content) <= max_bytes
        and item.media_type in _IMAGE_FORMATS
    )


async def consented_citizen(turn: Turn) -> Citizen | None:
    """The person behind the message if they consented; otherwise say so (nothing is stored
    about anyone who has not)."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None:
        turn.say("rating.consent_missing")
    return citizen


SHOWN = 10
"""How many of the latest ratings and commendations /mydata lists one by one."""


async def show_my_data(turn: Turn) -> None:
    """/mydata: everything kept about the person asking, as a citizen and as an officer."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    officer = await officers.any_officer_of(
        key.channel, turn.incoming.user_id, session=turn.session
    )
    if citizen is None and officer is None:
        turn.say("privacy.nothing_kept")
        return
    lines = [turn.texts("privacy.title")]
    if citizen is not None:
        lines += await _citizen_lines(turn, citizen)
    if officer is not None:
        lines.append(await _officer_line(turn, officer))
    if citizen is not None:
        lines.append(turn.texts("privacy.how_to_forget"))
    turn.say_text("\n".join(lines))


async def _citizen_lines(turn: Turn, citizen: Citizen) -> list[str]:
    t, citizen_id = turn.texts, citizen.id or 0
    lines = [
        t(
            "privacy.consent",
            at=local_date_text(citizen.consented_at),
            version=citizen.consent_version,
        ),
        t(
            "privacy.account",
            channel=_name_or_code(t, f"channel.{citizen.channel}", citizen.channel),
            language=_name_or_code(t, f"language.{citizen.locale}", citizen.locale),
        ),
    ]
    if citizen.news:
        lines.append(t("privacy.news"))
    lines += await _rating_lines(turn, citizen_id)
    lines += await _commendation_lines(turn, citizen_id)
    lines += await _report_lines(turn, citizen_id)
    return lines


def _name_or_code(t: Texts, key: str, code: str) -> str:
    """The catalog's name of a messenger or a language; the code itself if it has none."""
    return t(key) if t.has(key) else code


async def _agency_name(turn: Turn, agency_id: int) -> str:
    agency = await agencies.agency_by_id(agency_id, session=turn.session)
    return name_of(agency, turn.texts.locale) if agency else "?"


async def _rating_lines(turn: Turn, citizen_id: int) -> list[str]:
    t = turn.texts
    ratings = await ratings_of(citizen_id, session=turn.session)
    lines = [t("privacy.ratings", count=len(ratings))]
    for rating in ratings[-SHOWN:]:
        agency = await _agency_name(turn, rating.agency_id)
        lines.append(
            t("privacy.rating_item", at=local_date_text(rating.created_at), agency=agency)
        )
        if rating.comment:
            lines.append(t("privacy.text_item", text=rating.comment))
    return lines


async def _commendation_lines(turn: Turn, citizen_id: int) -> list[str]:
    t = turn.texts
    found = await commendations_of(citizen_id, session=turn.session)
    lines = [t("privacy.commendations", count=len(found))]
    for commendation in found[-SHOWN:]:
        official = (
            await officers.official_by_id(commendation.official_id, session=turn.session)
            if commendation.official_id
            else None
        )
        whom = official.name if official else await _agency_name(turn, commendation.agency_id)
        at = local_date_text(commendation.created_at)
        lines.append(t("privacy.commendation_item", at=at, whom=whom))
        if commendation.text:
            lines.append(t("privacy.text_item", text=commendation.text))
    return lines


async def _report_lines(turn: Turn, citizen_id: int) -> list[str]:
    t = turn.texts
    reports = await cases.reports_of(citizen_id, session=turn.session)
    return [
        t("privacy.reports", count=len(reports)),
        *(
            t(
                "privacy.report_handle" if r.anonymous else "privacy.report_line",
                receipt=r.receipt,
                state=t(f"state.{c.state}"),
                handle=r.handle,
            )
            for r, c in reports
        ),
        *(
            t("privacy.contact", receipt=r.receipt, name=r.contact_name, phone=r.contact_phone)
            for r, _ in reports
            if r.contact_name
        ),
    ]


async def _officer_line(turn: Turn, officer: Officer) -> str:
    """The account's officer role and agency, current or former (kept for the audit log)."""
    key = "privacy.officer" if officer.active else "privacy.officer_inactive"
    agency = await _agency_name(turn, officer.agency_id)
    return turn.texts(key, role=turn.texts(f"role.{officer.role}"), agency=agency)


async def forget_question(turn: Turn) -> str:
    """Explain what deleting removes and what an open case keeps; ask to confirm."""
    return turn.texts("privacy.q_forget")


async def keep(turn: Turn) -> Outcome:
    turn.say("common.cancelled")
    return Go(MENU)


async def forget(turn: Turn) -> Outcome:
    """Delete what is kept about the asker, but what an open case still needs."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None:
        turn.say("privacy.nothing_kept")
        return Go(CONSENT)
    kept = await forget_citizen(citizen, [s.value for s in OPEN_STATES], session=turn.session)
    await forget_chat(key.channel, key.chat_id, session=turn.session)
    await notify_tokens.forget(key.channel, key.chat_id, session=turn.session)
    if kept:
        turn.say("privacy.forgotten_open", count=kept)
        return Go(MENU)
    turn.say("privacy.forgotten")
    return Go(CONSENT)


STEPS = (confirm_step(FORGET, "privacy.forget", forget_question, forget, keep, back=False),)
