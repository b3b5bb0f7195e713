"""Public opinion about one official, as the directive means it, and the review it opens.

Signals: a report about the official (picked from the list, or described and later linked by an
officer) counts 1; a rating whose conduct mark is 1-2 and that names the official counts
`opinion_rating_weight`; a report its agency found unfounded drops out. Each citizen counts once,
at their strongest signal. When the weighted sum within `opinion_window_days` reaches
`opinion_threshold`, a review opens at the official's home agency, whose leader can move them to
other work (an official may serve at another agency's desk); signals weighed by an earlier review
count no more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.actions import send_with_actions, texts_for
from handlers.casework.escalation import notify_group, recipients
from handlers.casework.managing import managing_agency
from handlers.clock import LOCAL_ZONE, local_date_text
from handlers.dates import day_text
from handlers.flow import Turn
from handlers.names import name_of, post_of
from handlers.numbers import number_text
from handlers.texts import Texts
from storage import agencies, cases, officers, ratings
from storage.models import Case, Official, Rating, Report, Review

REPORT_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class Opinion:
    """The signals about one official within a window, and what they weigh."""

    reports: list[tuple[Report, Case]]
    ratings: list[Rating]
    rating_weight: float

    def signals(self) -> Iterable[tuple[int | None, float]]:
        yield from ((report.citizen_id, REPORT_WEIGHT) for report, _ in self.reports)
        yield from ((rating.citizen_id, self.rating_weight) for rating in self.ratings)

    def tally(self) -> tuple[float, int]:
        """The weighted sum and the number of distinct citizens (`weigh`)."""
        return weigh(self.signals())


def weigh(signals: Iterable[tuple[int | None, float]]) -> tuple[float, int]:
    """The weighted sum of distinct citizens (each at their strongest signal) and how many
    they are; a signal whose citizen is no longer known cannot be told apart, so it is left out."""
    strongest: dict[int, float] = {}
    for citizen, weight in signals:
        if citizen is not None:
            strongest[citizen] = max(weight, strongest.get(citizen, 0.0))
    return sum(strongest.values()), len(strongest)


async def gather(turn: Turn, official_id: int, since: datetime, until: datetime) -> Opinion:
    session = turn.session
    return Opinion(
        await cases.opinion_reports(official_id, since, until, session=session),
        await ratings.low_conduct_ratings(official_id, since, until, session=session),
        turn.rules.opinion_rating_weight,
    )


async def check_public_opinion(turn: Turn, official_id: int | None) -> Review | None:
    """Open a review when the signals about the official reach the threshold; None if not."""
    if official_id is None or await cases.open_review(official_id, session=turn.session):
        return None
    official = await officers.official_by_id(official_id, session=turn.session)
    if official is None:
        return None
    since = turn.now - timedelta(days=turn.rules.opinion_window_days)
    decided = await cases.last_review_decided(official_id, session=turn.session)
    if decided is not None:  # signals already weighed by a review count no more
        since = max(since, decided + timedelta(microseconds=1))
    weight, citizens = (await gather(turn, official_id, since, turn.now)).tally()
    if weight < turn.rules.opinion_threshold:
        return None
    review = Review(
        official_id=official_id,
        agency_id=(await managing_agency(turn, official)).id or 0,
        opened_at=turn.now,
        due_at=turn.rules.calendar.add_working_days(turn.now, turn.rules.review_days),
        reporters=citizens,
        counted_from=since,
    )
    await cases.add(review, session=turn.session)
    await _announce(turn, review, official)
    return review


async def _announce(turn: Turn, review: Review, official: Official) -> None:
    targets = await recipients(turn, review.agency_id, official.id)
    for target in targets.all():
        if target in targets.groups:
            await notify_group(turn, target, "rooms.review_notice", review=review.id)
            continue
        t = await texts_for(turn, target)
        text = t(
            "officer.review_opened",
            review=review.id,
            official=official.name,
            count=review.reporters,
            due=local_date_text(review.due_at),
        )
        text += "\n" + t("officer.review_hint", review=review.id)
        await send_with_actions(
            turn, target, text, [(t("officer.open"), "review", str(review.id))]
        )


async def review_card(turn: Turn, review: Review) -> str:
    """What the home agency's leader needs to decide: who, the signal counts, and the reports
    behind them without anything that identifies a reporter."""
    t, session = turn.texts, turn.session
    official = await officers.official_by_id(review.official_id, session=session)
    window = timedelta(days=turn.rules.opinion_window_days)
    since = review.counted_from or review.opened_at - window  # reviews opened before 0007
    opinion = await gather(turn, review.official_id, since, review.opened_at)
    weight, citizens = opinion.tally()
    lines = [
        t(
            "officer.review_card",
            official=official.name if official else "?",
            post=post_of(official, turn.dialog.locale) if official else "?",
            due=local_date_text(review.due_at),
        ),
        t(
            "officer.review_signals",
            since=day_text(since.astimezone(LOCAL_ZONE).date()),
            until=day_text(review.opened_at.astimezone(LOCAL_ZONE).date()),
            reports=len(opinion.reports),
            ratings=len(opinion.ratings),
            citizens=citizens,
            weight=number_text(weight, t.locale),
        ),
    ]
    if opinion.reports:
        lines.append(t("officer.review_reports"))
        lines += [await _report_line(turn, t, report, case) for report, case in opinion.reports]
    return "\n".join(lines)


async def _report_line(turn: Turn, t: Texts, report: Report, case: Case) -> str:
    agency = await agencies.agency_by_id(report.agency_id, session=turn.session)
    return t(
        "officer.review_report_line",
        case=case.id,
        category=t(f"report.category_{report.category}"),
        day=day_text(report.occurred_on),
        agency=name_of(agency, turn.dialog.locale) if agency else "?",
        state=t(f"state.{case.state}"),
    )
