"""The rating conversation: agency, service, the five SIPAS factors, the directive's facts.

The flow always asks the first question that has no answer yet (`next_state`), so going back,
changing an answer from the summary and arriving by a QR deep link need no special paths: each
just clears or fills draft fields. The diagram is in `rating.mmd` beside this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from handlers.agency_picker import PickerStates, picker_steps
from handlers.casework.opinion import check_public_opinion
from handlers.citizen import report
from handlers.citizen.privacy import consented_citizen
from handlers.clock import local_day
from handlers.flow import CONSENT, MENU, Answer, Drafts, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.lists import numbered, picked, take_picked
from handlers.messages import Choice
from handlers.names import name_of, official_label
from handlers.steps import confirm_step, summary_step
from storage import agencies, officers
from storage.directory import is_current
from storage.models import Agency, Official, Rating, Service
from storage.ratings import add_rating

FLOW = "rating"
AGENCY, PICK, SERVICE = "rating.agency", "rating.pick", "rating.service"
COMMENT, SUMMARY, CHANGE = "rating.comment", "rating.summary", "rating.change"
SERVED = "rating.served"
OFFER = "rating.offer"
PICKER = PickerStates(AGENCY, PICK)
SKIP = "skip"
_DEEP_LINK = re.compile(r"^r_([A-Za-z0-9-]{1,40})(?:_([A-Za-z0-9-]{1,20}))?$")


class RatingDraft(BaseModel):
    """Answers so far; None means not asked yet. Option answers are stored as their values."""

    agency_id: int | None = None
    service_id: int | None = None
    sector: str | None = None
    """The service's sector, which chooses the questions."""
    access: str | None = None
    procedure: str | None = None
    conduct: str | None = None
    served_by: int | None = None
    """After a conduct mark of 1-2: the official who served (0: not said)."""
    result: str | None = None
    feedback: str | None = None
    timeliness: str | None = None
    apology: str | None = None
    extra_papers: str | None = None
    trips: str | None = None
    submission: str | None = None
    payment: str | None = None
    comment: str | None = None


def _always(_: RatingDraft) -> bool:
    return True


OWN_QUESTIONS = ("health", "education")
"""Sectors whose five factors are asked in their own words: a patient's (after the Ministry of
Health's satisfaction survey) and a parent's (after the education sector's), not a one-stop
desk's. Their indices are reported apart from administrative procedures."""
ONE_STOP = frozenset({"administrative", "other"})
"""Where the one-stop facts (appointment slip, extra papers, trips, submission) are asked."""


@dataclass(frozen=True, slots=True)
class Question:
    """A fixed-option question; its prompt is `rating.q_<field>` (`rating.<sector>_q_<field>`
    for a factor of a sector with its own questions), options `rating.<field>_<v>`."""

    state: str
    field: str
    values: tuple[str, ...]
    applies: Callable[[RatingDraft], bool] = _always
    skippable: bool = False
    scale: bool = False

    def label_key(self, value: str) -> str:
        return f"rating.scale_{value}" if self.scale else f"rating.{self.field}_{value}"

    def text_key(self, kind: str, sector: str | None) -> str:
        """`rating.q_<field>` or `rating.short_<field>`, in the sector's words if it has them."""
        if self.scale and sector in OWN_QUESTIONS:
            return f"rating.{sector}_{kind}_{self.field}"
        return f"rating.{kind}_{self.field}"


def _one_stop(draft: RatingDraft) -> bool:
    return draft.sector in ONE_STOP


_SCALE = ("1", "2", "3", "4", "5")
QUESTIONS = (
    Question("rating.access", "access", _SCALE, scale=True),
    Question("rating.procedure", "procedure", _SCALE, scale=True),
    Question("rating.conduct", "conduct", _SCALE, scale=True),
    Question("rating.result", "result", _SCALE, scale=True),
    Question("rating.feedback", "feedback", _SCALE, scale=True, skippable=True),
    Question(
        "rating.timeliness",
        "timeliness",
        ("early", "on_time", "late", "not_yet"),
        applies=_one_stop,
    ),
    Question(
        "rating.apology",
        "apology",
        ("yes", "no", "unsure"),
        applies=lambda d: _one_stop(d) and d.timeliness == "late",
    ),
    Question("rating.extra_papers", "extra_papers", ("yes", "no", "unsure"), applies=_one_stop),
    Question("rating.trips", "trips", ("0", "1", "2", "3"), applies=_one_stop),
    Question(
        "rating.submission",
        "submission",
        ("in_person", "online_full", "online_part", "postal"),
        applies=_one_stop,
    ),
    Question("rating.payment", "payment", ("yes", "no", "no_answer")),
)
_BY_FIELD = {q.field: q for q in QUESTIONS}


DRAFT = Drafts(FLOW, RatingDraft)


def next_state(draft: RatingDraft) -> str:
    """The first question without an answer; the summary once all are answered."""
    if draft.agency_id is None:
        return AGENCY
    if draft.service_id is None:
        return SERVICE
    for question in QUESTIONS:
        if question.applies(draft) and getattr(draft, question.field) is None:
            return question.state
        if question.field == "conduct" and low_conduct(draft) and draft.served_by is None:
            return SERVED
    return COMMENT if draft.comment is None else SUMMARY


def low_conduct(draft: RatingDraft) -> bool:
    """A conduct mark of 1-2: the citizen may say which official served (public opinion)."""
    return draft.conduct in ("1", "2")


def parse_deep_link(payload: str) -> tuple[str, str | None] | None:
    """`r_<agency code>[_<service code>]` from a QR code at the counter, or None."""
    match = _DEEP_LINK.match(payload.strip())
    return (match.group(1), match.group(2)) if match else None


async def begin(turn: Turn, link: tuple[str, str | None] | None) -> Outcome:
    """Start a rating, with the agency and service of a deep link filled in when they exist."""
    draft = RatingDraft()
    turn.say("rating.intro")
    if link is not None:
        agency = await agencies.agency_by_code(link[0], session=turn.session)
        if (
            agency is None
            or agency.parent_id is None
            or not is_current(agency.valid_from, agency.valid_to, local_day(turn.now))
        ):
            turn.say("rating.link_unknown")
        else:
            draft.agency_id = agency.id
            service = await _offered_service(turn, agency, link[1])
            draft.service_id = service.id if service else None
            draft.sector = service.sector if service else None
            turn.say("rating.link_agency", agency=name_of(agency, turn.dialog.locale))
            if service is not None:
                turn.say("rating.link_service", service=name_of(service, turn.dialog.locale))
    DRAFT.save(turn, draft)
    return Go(next_state(draft))


async def _offered_service(turn: Turn, agency: Agency, code: str | None) -> Service | None:
    if code is None:
        return None
    offered = await agencies.services_for(agency, on=local_day(turn.now), session=turn.session)
    return next((s for s in offered if s.code == code), None)


async def on_agency_picked(turn: Turn, agency: Agency) -> Outcome:
    """Store the agency unless it offers nothing to rate."""
    if not await agencies.services_for(agency, on=local_day(turn.now), session=turn.session):
        return Retry(turn.texts("rating.no_services"))
    draft = DRAFT.load(turn)
    draft.agency_id, draft.service_id, draft.sector = agency.id, None, None
    draft.served_by = None
    DRAFT.save(turn, draft)
    return Go(next_state(draft))


async def _services(turn: Turn) -> list[Service]:
    agency = await agencies.agency_by_id(DRAFT.load(turn).agency_id or 0, session=turn.session)
    return (
        []
        if agency is None
        else await agencies.services_for(agency, on=local_day(turn.now), session=turn.session)
    )


async def ask_service(turn: Turn) -> Prompt:
    """List the services this agency provides."""
    labels = [name_of(s, turn.dialog.locale) for s in await _services(turn)]
    return Prompt(turn.texts("rating.q_service"), numbered(labels))


async def store_service(turn: Turn, service: Service) -> Outcome:
    """Store the service, whose sector chooses the questions."""
    return Go(next_state(DRAFT.update(turn, service_id=service.id, sector=service.sector)))


def question_step(question: Question) -> Step:
    """Build the step of a fixed-option question from its row in QUESTIONS."""

    async def ask(turn: Turn) -> Prompt:
        t = turn.texts
        choices = [Choice(v, t(question.label_key(v))) for v in question.values]
        if question.skippable:
            choices.append(Choice(SKIP, t("rating.skip")))
        sector = DRAFT.load(turn).sector
        return Prompt(t(question.text_key("q", sector)), tuple(choices))

    async def take(turn: Turn, answer: Answer) -> Outcome:
        allowed = (*question.values, SKIP) if question.skippable else question.values
        if answer.choice not in allowed:
            return Retry(turn.pick_hint())
        draft = DRAFT.load(turn)
        setattr(draft, question.field, answer.choice)
        DRAFT.save(turn, draft)
        return Go(next_state(draft))

    return Step(question.state, ask, take, owns=(question.field,))


async def _officials(turn: Turn) -> list[Official]:
    agency_id = DRAFT.load(turn).agency_id or 0
    return await officers.officials_of(agency_id, on=local_day(turn.now), session=turn.session)


async def ask_served(turn: Turn) -> Prompt:
    """Ask, optionally, which official served: a low mark for a named official counts towards
    public opinion about them."""
    t, locale = turn.texts, turn.dialog.locale
    listed = numbered([official_label(o, locale) for o in await _officials(turn)])
    return Prompt(t("rating.q_served"), (*listed, Choice(SKIP, t("rating.served_skip"))))


async def take_served(turn: Turn, answer: Answer) -> Outcome:
    """Store the official picked from the list, or 0 when the citizen would rather not say."""
    if answer.choice == SKIP:
        return Go(next_state(DRAFT.update(turn, served_by=0)))
    official = picked(answer, await _officials(turn))
    if official is None:
        return Retry(turn.pick_hint())
    return Go(next_state(DRAFT.update(turn, served_by=official.id)))


async def ask_comment(turn: Turn) -> Prompt:
    """Invite an optional comment."""
    t = turn.texts
    return Prompt(
        t("rating.q_comment", limit=turn.rules.comment_limit),
        (Choice(SKIP, t("rating.no_comment")),),
        free_text=True,
    )


async def take_comment(turn: Turn, answer: Answer) -> Outcome:
    """Store the comment, refusing one over the limit."""
    text = "" if answer.choice == SKIP else (answer.text or "")
    if len(text) > turn.rules.comment_limit:
        return Retry(
            turn.texts("rating.comment_too_long", limit=turn.rules.comment_limit, length=len(text))
        )
    draft = DRAFT.load(turn)
    draft.comment = text
    DRAFT.save(turn, draft)
    return Go(next_state(draft))


async def summary_text(turn: Turn, draft: RatingDraft) -> str:
    """Every answer in one message, for the citizen to check before sending."""
    t, locale = turn.texts, turn.dialog.locale
    agency = await agencies.agency_by_id(draft.agency_id or 0, session=turn.session)
    service = await agencies.service_by_id(draft.service_id or 0, session=turn.session)
    lines = [
        t("rating.summary_title"),
        t("rating.summary_agency", name=name_of(agency, locale) if agency else "?"),
        t("rating.summary_service", name=name_of(service, locale) if service else "?"),
    ]
    for question in QUESTIONS:
        value = getattr(draft, question.field)
        if not question.applies(draft) or value is None:
            continue
        shown = t("rating.skipped") if value == SKIP else t(question.label_key(value))
        lines.append(f"• {t(question.text_key('short', draft.sector))}: {shown}")
        if question.field == "conduct" and low_conduct(draft) and draft.served_by:
            official = await officers.official_by_id(draft.served_by, session=turn.session)
            lines.append(f"• {t('rating.short_served')}: {official.name if official else '?'}")
    comment = draft.comment or t("rating.summary_no_comment")
    lines.append(f"• {t('rating.short_comment')}: {comment}")
    return "\n".join(lines)


async def submit(turn: Turn, draft: RatingDraft) -> Outcome:
    """Store the rating; nothing was stored before."""
    citizen = await consented_citizen(turn)
    if citizen is None or citizen.id is None:
        return Go(CONSENT)
    row = _to_row(draft, citizen.id, turn.incoming.key.channel, turn)
    await add_rating(row, session=turn.session)
    await check_public_opinion(turn, row.official_id)
    turn.say("rating.thanks")
    return Go(OFFER) if warrants_report(draft) else Go(MENU)


def warrants_report(draft: RatingDraft) -> bool:
    """The rule that offers a report: officials' conduct 1–2, extra papers, unofficial payment."""
    return draft.conduct in ("1", "2") or draft.extra_papers == "yes" or draft.payment == "yes"


async def report_offer(turn: Turn) -> str:
    """Offer to report the official, with the agency and service carried over."""
    return turn.texts("rating.q_offer")


async def to_menu(_: Turn) -> Outcome:
    return Go(MENU)


async def report_it(turn: Turn) -> Outcome:
    draft = DRAFT.load(turn)
    return await report.begin(turn, draft.agency_id, draft.service_id)


def _score(value: str | None) -> int | None:
    return None if value in (None, SKIP) else int(value)  # type: ignore[arg-type]


def _to_row(draft: RatingDraft, citizen_id: int, channel: str, turn: Turn) -> Rating:
    return Rating(
        citizen_id=citizen_id,
        agency_id=draft.agency_id,
        service_id=draft.service_id,
        channel=channel,
        score_access=_score(draft.access),
        score_procedure=_score(draft.procedure),
        score_conduct=_score(draft.conduct),
        score_result=_score(draft.result),
        score_feedback=_score(draft.feedback),
        timeliness=draft.timeliness,
        apology=draft.apology if draft.timeliness == "late" else None,
        extra_papers=draft.extra_papers,
        trips=None if draft.trips is None else int(draft.trips),
        submission=draft.submission,
        unofficial_payment=draft.payment,
        comment=draft.comment or None,
        official_id=(draft.served_by or None) if low_conduct(draft) else None,
        created_at=turn.now,
    )


_CHANGEABLE = {"agency": AGENCY, **{q.field: q.state for q in QUESTIONS}, "comment": COMMENT}
"""What the summary lets one change, and the state that asks it again."""


async def ask_change(turn: Turn) -> Prompt:
    """Ask which answer to change."""
    t, draft = turn.texts, DRAFT.load(turn)
    fields = [f for f in _CHANGEABLE if f not in _BY_FIELD or _BY_FIELD[f].applies(draft)]
    choices = tuple(Choice(f, t(f"rating.short_{f}")) for f in fields)
    return Prompt(t("rating.q_change"), choices)


async def take_change(turn: Turn, answer: Answer) -> Outcome:
    """Ask the chosen question again; the old answer stands until a new one is given, and the
    flow then returns to the summary (asking whatever the new answer makes necessary)."""
    if answer.choice not in _CHANGEABLE:
        return Retry(turn.pick_hint())
    return Go(_CHANGEABLE[answer.choice])


STEPS = (
    *picker_steps(PICKER, "rating.q_agency", on_agency_picked, owns=("agency_id",)),
    Step(SERVICE, ask_service, take_picked(_services, store_service), owns=("service_id",)),
    *(question_step(q) for q in QUESTIONS),
    Step(SERVED, ask_served, take_served, owns=("served_by",)),
    Step(COMMENT, ask_comment, take_comment, owns=("comment",)),
    summary_step(SUMMARY, "rating", DRAFT, next_state, summary_text, submit, change=CHANGE),
    Step(CHANGE, ask_change, take_change),
    confirm_step(OFFER, "rating.offer", report_offer, report_it, to_menu, back=False),
)
