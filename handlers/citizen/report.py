"""Reporting an official: what happened, where, who, when, evidence, anonymous or named.

Like the rating, the flow asks the first unanswered question (`next_state`), so "back", changing
an answer and arriving from a low rating need no special paths. Nothing is stored as a report
before the citizen submits the summary; evidence files are staged against the chat and dropped
if the report is abandoned. The diagram is in `report.mmd` beside this file.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from pydantic import BaseModel

from handlers.agency_picker import PickerStates, picker_steps
from handlers.casework.escalation import open_case
from handlers.casework.managing import managing_body
from handlers.casework.opinion import check_public_opinion
from handlers.casework.views import handling_line
from handlers.citizen.privacy import consented_citizen
from handlers.citizen.receipts import new_receipt
from handlers.clock import local_day
from handlers.dates import day_text, parse_day
from handlers.flow import (
    CONSENT,
    MENU,
    Answer,
    Drafts,
    Go,
    Outcome,
    Prompt,
    Rest,
    Retry,
    Step,
    Turn,
)
from handlers.lists import numbered, picked
from handlers.messages import Attachment, AttachmentKind, Choice
from handlers.names import name_of, official_label
from handlers.steps import summary_step, text_step
from storage import agencies, cases, officers
from storage.identity import keys_of
from storage.models import Agency, Evidence, Official, Report

FLOW = "report"
CATEGORY, AGENCY, OFFICIAL = "report.category", "report.agency", "report.official"
DESCRIBE, WHEN, WHAT, THREAT = "report.describe", "report.when", "report.what", "report.threat"
EVIDENCE, IDENTITY, NAME, PHONE = (
    "report.evidence",
    "report.identity",
    "report.name",
    "report.phone",
)
NOTICE, SUMMARY, CHANGE = "report.notice", "report.summary", "report.change"
PICKER = PickerStates(AGENCY, "report.pick")
CATEGORIES = (
    "harassment",
    "obstruction",
    "extra_papers",
    "bribe",
    "late_no_apology",
    "rude",
    "other",
)
_PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")
_OLDEST_DAYS = 5 * 365
_NAME_LIMIT = 100


class ReportDraft(BaseModel):
    """Answers so far; None means not asked yet."""

    category: str | None = None
    agency_id: int | None = None
    service_id: int | None = None
    official: str | None = None
    """"listed", "described" or "unknown"."""
    official_id: int | None = None
    description_of_official: str | None = None
    day: date | None = None
    what: str | None = None
    threatened: str | None = None
    evidence_done: bool = False
    identity: str | None = None
    name: str | None = None
    phone: str | None = None
    notice_seen: bool = False


DRAFT = Drafts(FLOW, ReportDraft)


def next_state(d: ReportDraft) -> str:
    """The first question without an answer; the summary once all are answered."""
    order: list[tuple[bool, str]] = [
        (d.category is None, CATEGORY),
        (d.agency_id is None, AGENCY),
        (d.official is None, OFFICIAL),
        (d.official == "described" and d.description_of_official is None, DESCRIBE),
        (d.day is None, WHEN),
        (d.what is None, WHAT),
        (d.threatened is None, THREAT),
        (not d.evidence_done, EVIDENCE),
        (d.identity is None, IDENTITY),
        (d.identity == "named" and d.name is None, NAME),
        (d.identity == "named" and d.phone is None, PHONE),
        (not d.notice_seen, NOTICE),
    ]
    return next((state for missing, state in order if missing), SUMMARY)


def staging_owner(turn: Turn) -> str:
    """Files of an unfinished report belong to the chat, named by its keyed hash."""
    key = turn.incoming.key
    return keys_of(turn.session).ref(key.channel, key.chat_id)


async def begin(turn: Turn, agency_id: int | None = None, service_id: int | None = None) -> Go:
    """Start a report, with the agency (and service) of a rating carried over."""
    await discard(turn)
    draft = ReportDraft(agency_id=agency_id, service_id=service_id)
    turn.say("report.intro")
    DRAFT.save(turn, draft)
    return Go(next_state(draft))


async def discard(turn: Turn) -> None:
    """Drop files staged for an unfinished report (on cancel, on a new start)."""
    await cases.drop_staged_evidence(staging_owner(turn), session=turn.session)


def _choices(turn: Turn, prefix: str, values: tuple[str, ...]) -> tuple[Choice, ...]:
    return tuple(Choice(v, turn.texts(f"report.{prefix}_{v}")) for v in values)


def _store(turn: Turn, **values: object) -> Outcome:
    return Go(next_state(DRAFT.update(turn, **values)))


async def ask_category(turn: Turn) -> Prompt:
    """Ask what kind of misconduct it was."""
    return Prompt(turn.texts("report.q_category"), _choices(turn, "category", CATEGORIES))


async def take_category(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice not in CATEGORIES:
        return Retry(turn.pick_hint())
    return _store(turn, category=answer.choice)


async def on_agency_picked(turn: Turn, agency: Agency) -> Outcome:
    """Store the agency; the official is asked next."""
    return _store(turn, agency_id=agency.id, official=None, official_id=None)


async def _officials(turn: Turn) -> list[Official]:
    return await officers.officials_of(
        DRAFT.load(turn).agency_id or 0, on=local_day(turn.now), session=turn.session
    )


async def ask_official(turn: Turn) -> Prompt:
    """List the agency's officials, or let the citizen describe the person."""
    t, locale = turn.texts, turn.dialog.locale
    listed = [official_label(o, locale) for o in await _officials(turn)]
    choices = (
        *numbered(listed),
        Choice("described", t("report.official_describe")),
        Choice("unknown", t("report.official_unknown")),
    )
    return Prompt(t("report.q_official"), choices)


async def take_official(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice in ("described", "unknown"):
        return _store(turn, official=answer.choice, official_id=None, description_of_official=None)
    official = picked(answer, await _officials(turn))
    if official is None:
        return Retry(turn.pick_hint())
    return _store(turn, official="listed", official_id=official.id)


async def describe_official(turn: Turn, text: str) -> Outcome:
    """Keep what the citizen knows of the person: name, post, desk."""
    return _store(turn, description_of_official=text)


async def ask_when(turn: Turn) -> Prompt:
    """Ask when it happened: today, yesterday or a typed date."""
    t = turn.texts
    choices = (
        Choice("today", t("report.when_today")),
        Choice("yesterday", t("report.when_yesterday")),
    )
    return Prompt(t("report.q_when"), choices, free_text=True)


async def take_when(turn: Turn, answer: Answer) -> Outcome:
    today = local_day(turn.now)
    if answer.choice == "today":
        return _store(turn, day=today)
    if answer.choice == "yesterday":
        return _store(turn, day=today - timedelta(days=1))
    day = parse_day(answer.text or "", today)
    if day is None:
        return Retry(turn.texts("report.when_invalid"))
    if day > today or day < today - timedelta(days=_OLDEST_DAYS):
        return Retry(turn.texts("report.when_out_of_range", today=day_text(today)))
    return _store(turn, day=day)


async def ask_what(turn: Turn) -> Prompt:
    """Ask what happened, within the limit."""
    return Prompt(turn.texts("report.q_what", limit=turn.rules.description_limit), free_text=True)


async def take_what(turn: Turn, answer: Answer) -> Outcome:
    text = (answer.text or "").strip()
    limit = turn.rules.description_limit
    if len(text) > limit:
        return Retry(turn.texts("report.what_too_long", limit=limit, length=len(text)))
    if len(text) < 10:
        return Retry(turn.texts("report.what_too_short"))
    return _store(turn, what=text)


async def ask_threat(turn: Turn) -> Prompt:
    """Ask whether the official threatened the citizen (flags the case at once)."""
    return Prompt(turn.texts("report.q_threat"), _choices(turn, "threat", ("yes", "no")))


async def take_threat(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice not in ("no", "yes"):
        return Retry(turn.pick_hint())
    return _store(turn, threatened=answer.choice)


async def ask_evidence(turn: Turn) -> Prompt:
    """Invite photos or documents, stating the limits."""
    rules = turn.rules
    return Prompt(
        turn.texts(
            "report.q_evidence",
            count=rules.evidence_max_files,
            megabytes=rules.evidence_max_bytes // (1024 * 1024),
        ),
        (Choice("done", turn.texts("report.evidence_done")),),
        files=True,
    )


def _refusal(turn: Turn, item: Attachment, staged: int) -> str | None:
    rules, t = turn.rules, turn.texts
    megabytes = rules.evidence_max_bytes // (1024 * 1024)
    if item.kind not in (AttachmentKind.PHOTO, AttachmentKind.DOCUMENT):
        return t("report.evidence_kind")
    if staged >= rules.evidence_max_files:
        return t("report.evidence_too_many", count=rules.evidence_max_files)
    if (item.size or 0) > rules.evidence_max_bytes or (
        item.content is not None and len(item.content) > rules.evidence_max_bytes
    ):
        return t("report.evidence_too_large", megabytes=megabytes)
    if item.media_type not in rules.evidence_types:
        return t("report.evidence_type")
    if item.content is None:
        return t("report.evidence_unreadable")
    return None


async def take_evidence(turn: Turn, answer: Answer) -> Outcome:
    """Keep each file (the bytes, not only the platform's id); "done" moves on."""
    if answer.choice == "done":
        return _store(turn, evidence_done=True)
    if not answer.attachments:
        return Retry(turn.texts("report.evidence_hint"))
    owner = staging_owner(turn)
    staged = len(await cases.staged_evidence(owner, session=turn.session))
    for item in answer.attachments:
        refusal = _refusal(turn, item, staged)
        if refusal is not None:
            turn.say_text(refusal)
            continue
        # Images arrive without their metadata: the engine re-encoded them before the turn
        # (`privacy.scrubbed`), so no transaction waits on an image codec.
        content = item.content or b""
        turn.session.add(
            Evidence(
                staged_by=owner,
                kind=item.kind,
                file_name=None,  # a citizen's own file name can give them away
                mime_type=item.media_type,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                created_at=turn.now,
            )
        )
        staged += 1
        turn.say("report.evidence_received", count=staged, limit=turn.rules.evidence_max_files)
    await turn.session.flush()
    return Rest()


async def ask_identity(turn: Turn) -> Prompt:
    """Ask whether to report anonymously or with name and phone."""
    return Prompt(
        turn.texts("report.q_identity"), _choices(turn, "identity", ("anonymous", "named"))
    )


async def take_identity(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice not in ("anonymous", "named"):
        return Retry(turn.pick_hint())
    if answer.choice == "anonymous":
        return _store(turn, identity="anonymous", name=None, phone=None)
    return _store(turn, identity="named", name=None, phone=None)


async def ask_name(turn: Turn) -> Prompt:
    """Ask the name the agency will see."""
    return Prompt(turn.texts("report.q_name"), free_text=True)


async def take_name(turn: Turn, answer: Answer) -> Outcome:
    name = " ".join((answer.text or "").split())
    if len(name) < 2 or len(name) > _NAME_LIMIT:
        return Retry(turn.texts("report.name_invalid", limit=_NAME_LIMIT))
    return _store(turn, name=name)


async def ask_phone(turn: Turn) -> Prompt:
    """Ask a phone number the agency can call."""
    return Prompt(turn.texts("report.q_phone"), free_text=True)


async def take_phone(turn: Turn, answer: Answer) -> Outcome:
    phone = re.sub(r"[\s.\-()]", "", answer.text or "")
    if not _PHONE.match(phone):
        return Retry(turn.texts("report.phone_invalid"))
    return _store(turn, phone=phone)


async def ask_notice(turn: Turn) -> Prompt:
    """Explain that this is feedback, not a formal denunciation or complaint, and name whom
    either goes to: the head of the body that manages the official."""
    t, draft = turn.texts, DRAFT.load(turn)
    agency = await agencies.agency_by_id(draft.agency_id or 0, session=turn.session)
    official = (
        await officers.official_by_id(draft.official_id, session=turn.session)
        if draft.official_id
        else None
    )
    body = await managing_body(turn, agency, official) if agency else None
    head = t("report.notice_head", body=name_of(body, turn.dialog.locale) if body else "?")
    return Prompt(t("report.notice", head=head), (Choice("ok", t("report.notice_ok")),))


async def take_notice(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice != "ok":
        return Retry(turn.pick_hint())
    return _store(turn, notice_seen=True)


async def summary_text(turn: Turn, d: ReportDraft) -> str:
    """Every answer in one message, for the citizen to check before sending."""
    t, locale = turn.texts, turn.dialog.locale
    agency = await agencies.agency_by_id(d.agency_id or 0, session=turn.session)
    official = (
        await officers.official_by_id(d.official_id, session=turn.session)
        if d.official_id
        else None
    )
    if official is not None:
        who = official_label(official, locale)
    elif d.official == "described":
        who = d.description_of_official or ""
    else:
        who = t("report.official_unknown")
    files = len(await cases.staged_evidence(staging_owner(turn), session=turn.session))
    identity = (
        t("report.identity_anonymous") if d.identity == "anonymous" else f"{d.name} – {d.phone}"
    )
    return "\n".join(
        [
            t("report.summary_title"),
            f"• {t('report.short_category')}: {t(f'report.category_{d.category}')}",
            f"• {t('report.short_agency')}: {name_of(agency, locale) if agency else '?'}",
            f"• {t('report.short_official')}: {who}",
            f"• {t('report.short_when')}: {day_text(d.day) if d.day else '?'}",
            f"• {t('report.short_what')}: {d.what}",
            f"• {t('report.short_threat')}: {t(f'report.threat_{d.threatened}')}",
            f"• {t('report.short_evidence')}: {files}",
            f"• {t('report.short_identity')}: {identity}",
        ]
    )


async def submit(turn: Turn, draft: ReportDraft) -> Outcome:
    """Store the report, open its case and give the receipt code."""
    key = turn.incoming.key
    citizen = await consented_citizen(turn)
    if citizen is None:
        return Go(CONSENT)
    receipt = await _unused_receipt(turn)
    report = Report(
        receipt=receipt,
        handle=keys_of(turn.session).handle(receipt),
        citizen_id=citizen.id,
        category=draft.category or "other",
        agency_id=draft.agency_id or 0,
        service_id=draft.service_id,
        official_id=draft.official_id,
        official_description=draft.description_of_official,
        occurred_on=draft.day or local_day(turn.now),
        description=draft.what,
        anonymous=draft.identity != "named",
        contact_name=draft.name,
        contact_phone=draft.phone,
        channel=key.channel,
        created_at=turn.now,
    )
    await cases.add(report, session=turn.session)
    await cases.attach_staged_evidence(staging_owner(turn), report.id or 0, session=turn.session)
    case = await open_case(turn, report, threatened=draft.threatened == "yes")
    await check_public_opinion(turn, report.official_id)
    turn.say_text(
        turn.texts("report.received", receipt=report.receipt)
        + "\n"
        + await handling_line(turn, turn.texts, case)
    )
    return Go(MENU)


async def _unused_receipt(turn: Turn) -> str:
    while True:
        code = new_receipt()
        if await cases.report_by_receipt(code, session=turn.session) is None:
            return code


_CHANGEABLE = ("category", "agency", "official", "when", "what", "threat", "evidence", "identity")
_STATE_OF = {
    "category": CATEGORY,
    "agency": AGENCY,
    "official": OFFICIAL,
    "when": WHEN,
    "what": WHAT,
    "threat": THREAT,
    "evidence": EVIDENCE,
    "identity": IDENTITY,
}


async def ask_change(turn: Turn) -> Prompt:
    """Ask which answer to change."""
    t = turn.texts
    return Prompt(
        t("report.q_change"), tuple(Choice(f, t(f"report.short_{f}")) for f in _CHANGEABLE)
    )


async def take_change(turn: Turn, answer: Answer) -> Outcome:
    if answer.choice not in _CHANGEABLE:
        return Retry(turn.pick_hint())
    return Go(_STATE_OF[answer.choice])


STEPS = (
    Step(CATEGORY, ask_category, take_category, owns=("category",)),
    *picker_steps(PICKER, "report.q_agency", on_agency_picked, owns=("agency_id",)),
    Step(OFFICIAL, ask_official, take_official, owns=("official", "official_id")),
    text_step(
        DESCRIBE, "report.q_describe", 300, describe_official, owns=("description_of_official",)
    ),
    Step(WHEN, ask_when, take_when, owns=("day",)),
    Step(WHAT, ask_what, take_what, owns=("what",)),
    Step(THREAT, ask_threat, take_threat, owns=("threatened",)),
    Step(EVIDENCE, ask_evidence, take_evidence, owns=("evidence_done",)),
    Step(IDENTITY, ask_identity, take_identity, owns=("identity",)),
    Step(NAME, ask_name, take_name, owns=("name",)),
    Step(PHONE, ask_phone, take_phone, owns=("phone",)),
    Step(NOTICE, ask_notice, take_notice, owns=("notice_seen",)),
    summary_step(
        SUMMARY,
        "report",
        DRAFT,
        next_state,
        summary_text,
        submit,
        change=CHANGE,
        on_cancel=discard,
    ),
    Step(CHANGE, ask_change, take_change),
)
