"""How a case reads for an officer (a card; an anonymous reporter only as the report's handle)
and for the reporter (a timeline without officers' names)."""

from __future__ import annotations

from handlers.casework.states import State
from handlers.clock import local_date_text
from handlers.dates import day_text
from handlers.flow import Turn
from handlers.names import name_of, official_label
from handlers.texts import Texts
from storage import agencies, cases, officers
from storage.models import Case, Report


async def officer_card(turn: Turn, case: Case, report: Report) -> str:
    """Everything an officer needs. An anonymous reporter appears only as the report's own
    handle; a named one by the name and phone they chose to give, with no handle to join."""
    t, locale, session = turn.texts, turn.dialog.locale, turn.session
    agency = await agencies.agency_by_id(report.agency_id, session=session)
    official = (
        await officers.official_by_id(report.official_id, session=session)
        if report.official_id
        else None
    )
    who = (
        official_label(official, locale)
        if official
        else report.official_description or t("report.official_unknown")
    )
    if not report.anonymous and report.contact_name:
        reporter = f"{report.contact_name} – {report.contact_phone}"
    elif report.citizen_id is not None:
        reporter = report.handle
    else:
        reporter = t("officer.reporter_gone")
    files = len(await cases.evidence_of(report.id or 0, session=session))
    lines = [
        t("officer.card_title", case=case.id, state=t(f"state.{case.state}")),
        t("officer.card_flag", reason=t(f"flag.{case.flag_reason}")) if case.flagged else "",
        f"• {t('report.short_category')}: {t(f'report.category_{report.category}')}",
        f"• {t('report.short_agency')}: {name_of(agency, locale) if agency else '?'}",
        f"• {t('report.short_official')}: {who}",
        f"• {t('report.short_when')}: {day_text(report.occurred_on)}",
        f"• {t('report.short_what')}: {report.description or t('officer.purged')}",
        f"• {t('report.short_evidence')}: {files}",
        f"• {t('officer.reporter')}: {reporter}",
        t(
            "officer.card_due",
            ack=local_date_text(case.ack_due),
            decide=local_date_text(case.decide_due),
        ),
    ]
    if case.pending_question:
        lines.append(t("officer.card_question", question=case.pending_question))
    said = [e for e in await cases.events_of(case.id or 0, session=session) if e.text]
    if said:
        lines.append(t("officer.card_history"))
        lines += [
            f"  – {local_date_text(e.at)} · {t(f'officer.event_{e.action}')}: {e.text}"
            for e in said[-6:]
        ]
    return "\n".join(line for line in lines if line)


INTERNAL_EVENTS = frozenset({"measure"})
"""Steps of the personnel track, which follows its own procedure apart from the reporter's."""


async def handling_line(turn: Turn, t: Texts, case: Case) -> str:
    """Which agency handles the case and, while the reporter waits for it, its deadline to
    answer (extended, if it was)."""
    agency = await agencies.agency_by_id(case.agency_id, session=turn.session)
    name = name_of(agency, t.locale) if agency else "?"
    if case.state in (State.DECIDED, State.CLOSED):
        return t("status.handled_by", agency=name)
    key = "status.handling_extended" if case.extended_days else "status.handling"
    return t(key, agency=name, due=local_date_text(case.decide_due))


async def timeline(t: Texts, case: Case, report: Report, turn: Turn) -> str:
    """The reporter's view: state and dated steps, never who at the agency did them."""
    lines = [
        t("status.title", receipt=report.receipt),
        t("status.state", state=t(f"state.{case.state}")),
        await handling_line(turn, t, case),
    ]
    for event in await cases.events_of(case.id or 0, session=turn.session):
        if event.action in INTERNAL_EVENTS:
            continue
        line = f"• {local_date_text(event.at)}: {t(f'event.{event.action}')}"
        outcome = event.detail.get("outcome")
        if event.action == "decide" and outcome:
            line += f" ({t(f'outcome.{outcome}')})"
        if event.action in ("ask", "decide", "close", "extend") and event.text:
            line += f" — {event.text}"
        lines.append(line)
    return "\n".join(lines)
