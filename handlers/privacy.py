"""What people can see and delete about themselves (/mydata and /forget), and what leaves a
report's files that could identify them."""

from __future__ import annotations

import io

from PIL import Image

from handlers.casework import OPEN_STATES
from handlers.clock import local_date_text
from handlers.flow import CONSENT, MENU, Answer, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.messages import Choice
from storage import cases
from storage.citizens import find_citizen, forget_citizen
from storage.models import Citizen
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


async def consented_citizen(turn: Turn) -> Citizen | None:
    """The person behind the message if they consented; otherwise say so (nothing is stored
    about anyone who has not)."""
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None:
        turn.say("rating.consent_missing")
    return citizen


async def show_my_data(turn: Turn) -> None:
    """/mydata: everything kept about the person asking."""
    t, key = turn.texts, turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None or citizen.id is None:
        turn.say("privacy.nothing_kept")
        return
    ratings = await ratings_of(citizen.id, session=turn.session)
    reports = await cases.reports_of(citizen.id, session=turn.session)
    lines = [
        t("privacy.title"),
        t(
            "privacy.consent",
            at=local_date_text(citizen.consented_at),
            version=citizen.consent_version,
        ),
        t("privacy.account", channel=citizen.channel, language=citizen.locale),
        t("privacy.ratings", count=len(ratings)),
        *(f"  – {local_date_text(r.created_at)}" for r in ratings[-10:]),
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
        t("privacy.how_to_forget"),
    ]
    turn.say_text("\n".join(lines))


async def ask_forget(turn: Turn) -> Prompt:
    """Explain what deleting removes and what an open case keeps; ask to confirm."""
    t = turn.texts
    return Prompt(
        t("privacy.q_forget"),
        (Choice("yes", t("privacy.forget_yes")), Choice("no", t("privacy.forget_no"))),
        back=False,
    )


async def take_forget(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice == "no":
        turn.say("common.cancelled")
        return Go(MENU)
    if answer.choice != "yes":
        return Retry(turn.texts("common.pick_option"))
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    if citizen is None:
        turn.say("privacy.nothing_kept")
        return Go(CONSENT)
    kept = await forget_citizen(citizen, [s.value for s in OPEN_STATES], session=turn.session)
    await forget_chat(key.channel, key.chat_id, session=turn.session)
    if kept:
        turn.say("privacy.forgotten_open", count=kept)
        return Go(MENU)
    turn.say("privacy.forgotten")
    return Go(CONSENT)


STEPS = (Step(FORGET, ask_forget, take_forget),)
