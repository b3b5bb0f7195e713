"""Choosing an agency, shared by every conversation that needs one.

Three steps per flow (`<flow>.agency`, `<flow>.district`, `<flow>.pick`): choose the level
(provincial agencies, or a district and then its own units) or type part of a name, accents
optional. The chosen agency is handed to the flow's `on_picked`, which decides what comes next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.messages import Choice
from handlers.textmatch import clip, search
from storage import agencies
from storage.models import Agency, Official, Service

MAX_FOUND = 8
"""A search offers this many best matches; a longer list would bury the right one."""
MAX_QUERY = 100
"""No agency's name is longer; a longer text is not a search."""
BROWSE = "browse"
OnPicked = Callable[[Turn, Agency], Awaitable[Outcome]]


def name_of(row: Agency | Service, locale: str) -> str:
    return row.name_en if locale == "en" else row.name_vi


def post_of(official: Official, locale: str) -> str:
    return official.post_en if locale == "en" else official.post_vi


def numbered(labels: list[str]) -> tuple[Choice, ...]:
    """Options whose ids are positions: callback data never names an agency or a person."""
    return tuple(Choice(str(i), label) for i, label in enumerate(labels, start=1))


def chosen_index(answer: Answer, count: int) -> int | None:
    if answer.choice is None or not answer.choice.isdigit():
        return None
    index = int(answer.choice) - 1
    return index if 0 <= index < count else None


def picker_steps(flow: str, question_key: str, on_picked: OnPicked) -> tuple[Step, ...]:
    """The three agency steps of `flow`; `question_key` is the catalog key of the first one."""
    level, district, pick = f"{flow}.agency", f"{flow}.district", f"{flow}.pick"

    def browse(turn: Turn, found: list[Agency]) -> Outcome:
        turn.draft(flow)[BROWSE] = [a.id for a in found if a.id is not None]
        return Go(pick)

    async def find(turn: Turn, query: str) -> Outcome:
        if len(query) > MAX_QUERY:
            return Retry(turn.texts("agency.search_too_long", limit=MAX_QUERY))
        pool = await agencies.rateable_agencies(session=turn.session)
        found = search(query, pool, lambda a: (a.name_vi, a.name_en))
        if not found:
            return Retry(turn.texts("agency.search_none", query=clip(query)))
        if len(found) > MAX_FOUND:
            turn.say("agency.search_many", count=len(found), shown=MAX_FOUND)
        return browse(turn, found[:MAX_FOUND])

    async def ask_level(turn: Turn) -> Prompt:
        """Ask for the level of the agency, or a part of its name."""
        t = turn.texts
        choices = (
            Choice("province", t("agency.level_province")),
            Choice("district", t("agency.level_district")),
        )
        return Prompt(t(question_key), choices, free_text=True)

    async def take_level(turn: Turn, answer: Answer) -> Outcome:
        """Open the chosen level, or search the typed name."""
        if answer.choice == "province":
            return browse(turn, await agencies.provincial_agencies(session=turn.session))
        if answer.choice == "district":
            return Go(district)
        return await find(turn, answer.text or "")

    async def ask_district(turn: Turn) -> Prompt:
        """List the districts and the city."""
        found = await agencies.districts(session=turn.session)
        labels = [name_of(a, turn.dialog.locale) for a in found]
        return Prompt(turn.texts("agency.q_district"), numbered(labels), free_text=True)

    async def take_district(turn: Turn, answer: Answer) -> Outcome:
        """List the chosen district's own units: itself, its one-stop desk, its communes."""
        if answer.text is not None:
            return await find(turn, answer.text)
        found = await agencies.districts(session=turn.session)
        index = chosen_index(answer, len(found))
        if index is None or found[index].id is None:
            return Retry(turn.pick_hint())
        units = await agencies.children(found[index].id or 0, session=turn.session)
        return browse(turn, [found[index], *units])

    async def listed(turn: Turn) -> list[Agency]:
        ids = turn.draft(flow).get(BROWSE, [])
        return await agencies.agencies_by_ids(ids, session=turn.session)

    async def ask_pick(turn: Turn) -> Prompt:
        """List the agencies found or opened, to pick one."""
        labels = [name_of(a, turn.dialog.locale) for a in await listed(turn)]
        return Prompt(turn.texts("agency.q_pick"), numbered(labels), free_text=True)

    async def take_pick(turn: Turn, answer: Answer) -> Outcome:
        """Hand the agency to the flow (a typed name searches again)."""
        if answer.text is not None:
            return await find(turn, answer.text)
        found = await listed(turn)
        index = chosen_index(answer, len(found))
        if index is None:
            return Retry(turn.pick_hint())
        return await on_picked(turn, found[index])

    return (
        Step(level, ask_level, take_level, owns=(BROWSE,)),
        Step(district, ask_district, take_district),
        Step(pick, ask_pick, take_pick, owns=("agency_id",)),
    )
