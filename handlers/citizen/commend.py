"""Commending an official or a desk: it reaches the agency's leadership and counts in
summaries, because the directive asks agencies to reward good performers. The diagram is in
`commend.mmd` beside this file."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.actions import texts_for
from handlers.agency_picker import PickerStates, picker_steps
from handlers.casework.escalation import recipients
from handlers.clock import local_day
from handlers.flow import MENU, Answer, Drafts, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.lists import numbered, picked
from handlers.messages import Choice, Reply
from handlers.names import name_of, official_label
from handlers.steps import text_step
from storage import agencies, officers
from storage.citizens import find_citizen
from storage.models import Agency, Commendation, Official

FLOW = "commend"
PICKER = PickerStates("commend.agency", "commend.pick")
WHO, TEXT = "commend.who", "commend.text"
_LIMIT = 1000


class CommendDraft(BaseModel):
    """Whom the citizen commends: an agency, and one of its officials or (None) all of it."""

    agency_id: int | None = None
    official_id: int | None = None


DRAFT = Drafts(FLOW, CommendDraft)


async def begin(turn: Turn) -> Go:
    DRAFT.save(turn, CommendDraft())
    turn.say("commend.intro")
    return Go(PICKER.level)


async def on_agency_picked(turn: Turn, agency: Agency) -> Outcome:
    DRAFT.save(turn, CommendDraft(agency_id=agency.id))
    return Go(WHO)


async def _officials(turn: Turn) -> list[Official]:
    agency_id = DRAFT.load(turn).agency_id or 0
    return await officers.officials_of(agency_id, on=local_day(turn.now), session=turn.session)


async def ask_who(turn: Turn) -> Prompt:
    """Ask whom to praise: one of the agency's officials, or the whole desk."""
    t, locale = turn.texts, turn.dialog.locale
    listed = [official_label(o, locale) for o in await _officials(turn)]
    return Prompt(t("commend.q_who"), (*numbered(listed), Choice("all", t("commend.whole_unit"))))


async def take_who(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice == "all":
        DRAFT.update(turn, official_id=None)
        return Go(TEXT)
    official = picked(answer, await _officials(turn))
    if official is None:
        return Retry(turn.pick_hint())
    DRAFT.update(turn, official_id=official.id)
    return Go(TEXT)


async def commend(turn: Turn, text: str) -> Outcome:
    """Store the commendation and pass it to the agency's leadership."""
    draft = DRAFT.load(turn)
    key = turn.incoming.key
    citizen = await find_citizen(key.channel, turn.incoming.user_id, session=turn.session)
    agency = await agencies.agency_by_id(draft.agency_id or 0, session=turn.session)
    if citizen is None or agency is None or agency.id is None:
        return Go(MENU)
    official_id = draft.official_id
    turn.session.add(
        Commendation(
            citizen_id=citizen.id,
            agency_id=agency.id,
            official_id=official_id,
            text=text,
            channel=key.channel,
            created_at=turn.now,
        )
    )
    official = (
        await officers.official_by_id(official_id, session=turn.session) if official_id else None
    )
    for target in (await recipients(turn, agency.id, None)).agency:
        t = await texts_for(turn, target)
        whom = official.name if official else name_of(agency, t.locale)
        turn.send_to(target, Reply(t("commend.to_leaders", whom=whom, text=text)))
    turn.say("commend.thanks")
    return Go(MENU)


STEPS = (
    *picker_steps(PICKER, "commend.q_agency", on_agency_picked, owns=("agency_id",)),
    Step(WHO, ask_who, take_who, owns=("official_id",)),
    text_step(TEXT, "commend.q_text", _LIMIT, commend),
)
