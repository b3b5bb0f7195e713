"""Choosing an agency, shared by every conversation that needs one.

Three steps per flow, named by the flow (`PickerStates`): choose the level (provincial agencies,
or a district and then its own units) or type part of a name, accents optional. The chosen
agency is handed to the flow's `on_picked`, which decides what comes next. The agencies found
are kept in the picker's own draft, not in the flow's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel

from handlers.flow import Answer, Drafts, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.messages import Choice
from handlers.textmatch import clip, search
from storage import agencies
from storage.models import Agency, Official, Service

MAX_FOUND = 8
"""A search offers this many best matches; a longer list would bury the right one."""
MAX_QUERY = 100
"""Agency names are far shorter; a longer text is not a search."""
OnPicked = Callable[[Turn, Agency], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class PickerStates:
    """The state names of one flow's picker: the level, the district, the list to pick from."""

    level: str
    district: str
    pick: str


class Found(BaseModel):
    """The agencies the last level, district or search listed, in order."""

    agency_ids: list[int] = []


FOUND = Drafts("agency_picker", Found)


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


def picker_steps(
    states: PickerStates, question_key: str, on_picked: OnPicked, *, owns: tuple[str, ...] = ()
) -> tuple[Step, ...]:
    """The three agency steps of a flow; `question_key` is the catalog key of the first one, and
    `owns` the flow's draft fields that `on_picked` fills."""
    level, district, pick = states.level, states.district, states.pick

    def browse(turn: Turn, found: list[Agency]) -> Outcome:
        FOUND.save(turn, Found(agency_ids=[a.id for a in found if a.id is not None]))
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
        ids = FOUND.load(turn).agency_ids
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
        Step(level, ask_level, take_level),
        Step(district, ask_district, take_district),
        Step(pick, ask_pick, take_pick, owns=owns),
    )
