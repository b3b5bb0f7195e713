"""Choosing an agency, shared by every conversation that needs one.

Two steps per flow (`<flow>.agency`, `<flow>.pick`): choose a level or type part of a name
(accents optional), then pick from the list; an agency with units under it opens them, at any
depth, so a province → commune map and a province → district → commune one both work. Level
labels come from the directory's header. The chosen agency is handed to the flow's `on_picked`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from handlers.clock import local_today
from handlers.flow import Answer, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.messages import Choice
from handlers.textmatch import contains_phrase
from storage import agencies
from storage.models import Agency, Official, Service

MAX_LISTED = 12
PAGE_SIZE = 20
"""Options per message: a province has up to 170 communes, Telegram shows at most 100 buttons."""
BROWSE, OPENED, UNIT, PAGE = "browse", "opened", "unit", "page"
TOP, UNITS, MORE = "top", "units", "more"
OnPicked = Callable[[Turn, Agency], Awaitable[Outcome]]


class PickerDraft(BaseModel):
    """The picker's fields in a flow's typed draft, so saving the draft keeps them."""

    browse: list[int] = []
    opened: int | None = None
    unit: str | None = None
    page: int = 0


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


def level_text(level: dict[str, str], field: str, locale: str) -> str:
    """A level's `label` or `unit` in the chat's language, as the directory file gives it."""
    return level[f"{field}_en" if locale == "en" else f"{field}_vi"]


def picker_steps(flow: str, question_key: str, on_picked: OnPicked) -> tuple[Step, ...]:
    """The agency steps of `flow`; `question_key` is the catalog key of the first one."""
    level, pick = f"{flow}.agency", f"{flow}.pick"

    def browse(turn: Turn, found: list[Agency], *, opened: int | None = None) -> Outcome:
        draft = turn.draft(flow)
        draft[BROWSE] = [a.id for a in found if a.id is not None]
        draft[OPENED] = opened
        draft[UNIT] = None
        draft[PAGE] = 0
        return Go(pick)

    async def search(turn: Turn, query: str) -> Outcome:
        pool = await agencies.rateable_agencies(on=local_today(turn.now), session=turn.session)
        found = [
            a
            for a in pool
            if contains_phrase(a.name_vi, query) or contains_phrase(a.name_en, query)
        ]
        if not found:
            return Retry(turn.texts("agency.search_none", query=query))
        if len(found) > MAX_LISTED:
            return Retry(turn.texts("agency.search_many", count=len(found)))
        return browse(turn, found)

    async def levels(turn: Turn) -> list[dict[str, str]]:
        header = await agencies.directory_header(session=turn.session)
        return header.levels if header is not None else []

    async def ask_level(turn: Turn) -> Prompt:
        """Offer the agencies under the province and the units of the level below it (the
        first two levels of the directory), or a part of a name."""
        locale = turn.dialog.locale
        choices = tuple(
            Choice(option, level_text(entry, "label", locale))
            for option, entry in zip((TOP, UNITS), await levels(turn), strict=False)
        )
        return Prompt(turn.texts(question_key), choices, free_text=True)

    async def take_level(turn: Turn, answer: Answer) -> Outcome:
        """Open the chosen level, or search the typed name."""
        found = await levels(turn)
        kinds = [entry["kind"] for entry in found[1:]]
        today = local_today(turn.now)
        if answer.choice == TOP:
            top = await agencies.top_agencies(kinds, on=today, session=turn.session)
            return browse(turn, top)
        if answer.choice == UNITS and kinds:
            outcome = browse(
                turn, await agencies.units_of(kinds[0], on=today, session=turn.session)
            )
            turn.draft(flow)[UNIT] = level_text(found[1], "unit", turn.dialog.locale)
            return outcome
        return await search(turn, answer.text or "")

    async def listed(turn: Turn) -> list[Agency]:
        ids = turn.draft(flow).get(BROWSE, [])
        return await agencies.agencies_by_ids(ids, session=turn.session)

    async def ask_pick(turn: Turn) -> Prompt:
        """List the agencies found or opened, to pick one, a page at a time."""
        draft = turn.draft(flow)
        unit = draft.get(UNIT)
        question = turn.texts("agency.q_unit", unit=unit) if unit else turn.texts("agency.q_pick")
        labels = [name_of(a, turn.dialog.locale) for a in await listed(turn)]
        first = draft.get(PAGE, 0) * PAGE_SIZE
        choices = numbered(labels)[first : first + PAGE_SIZE]
        if len(labels) > PAGE_SIZE:
            last = min(first + PAGE_SIZE, len(labels))
            more = turn.texts("agency.more", first=first + 1, last=last, count=len(labels))
            choices += (Choice(MORE, more),)
        return Prompt(question, choices, free_text=True)

    async def take_pick(turn: Turn, answer: Answer) -> Outcome:
        """Open an agency that has units of its own (listed after it), at any depth; hand the
        agency to the flow once it has none or was picked from its own list."""
        if answer.text is not None:
            return await search(turn, answer.text)
        found = await listed(turn)
        if answer.choice == MORE:
            draft = turn.draft(flow)
            draft[PAGE] = (draft.get(PAGE, 0) + 1) % -(-len(found) // PAGE_SIZE)
            return Go(pick)
        index = chosen_index(answer, len(found))
        if index is None:
            return Retry(turn.texts("common.pick_option"))
        chosen = found[index]
        if chosen.id is not None and chosen.id != turn.draft(flow).get(OPENED):
            below = await agencies.children(
                chosen.id, on=local_today(turn.now), session=turn.session
            )
            if below:
                return browse(turn, [chosen, *below], opened=chosen.id)
        return await on_picked(turn, chosen)

    return (
        Step(level, ask_level, take_level, owns=(BROWSE, OPENED, UNIT, PAGE)),
        Step(pick, ask_pick, take_pick, owns=("agency_id",)),
    )
