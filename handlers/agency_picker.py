"""Choosing an agency, shared by every conversation that needs one.

Two steps per flow, named by the flow (`PickerStates`): choose a level or type part of a name
(accents optional), then pick from the list, a page at a time; an agency with units under it
opens them, at any depth, so a province → commune map and a province → district → commune one
both work. Level labels come from the directory's header, and only what exists today is listed.
The chosen agency is handed to the flow's `on_picked`, which decides what comes next. What was
listed is kept in the picker's own draft, not in the flow's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from handlers.clock import local_day
from handlers.flow import Answer, Drafts, Go, Outcome, Prompt, Retry, Step, Turn
from handlers.lists import numbered, picked
from handlers.messages import Choice
from handlers.names import name_of
from handlers.textmatch import clip, fold, search
from storage import agencies
from storage.models import Agency

MAX_FOUND = 8
"""A search offers this many best matches; a longer list would bury the right one."""
MAX_QUERY = 100
"""Agency names are far shorter; a longer text is not a search."""
PAGE_SIZE = 20
"""Options per message: a province has up to 170 communes, Telegram shows at most 100 buttons."""
TOP, UNITS, MORE = "top", "units", "more"
OnPicked = Callable[[Turn, Agency], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class PickerStates:
    """The state names of one flow's picker: the level, the list to pick from."""

    level: str
    pick: str


class Found(BaseModel):
    """The agencies the last level, opened agency or search listed, in order."""

    agency_ids: list[int] = []
    opened: int | None = None
    """The agency listed first with its own units, which is picked rather than opened again."""
    unit: str | None = None
    """What one of a level's units is called ("xã, phường hoặc đặc khu"), for the question."""
    page: int = 0


FOUND = Drafts("agency_picker", Found)


def level_text(level: dict[str, str], field: str, locale: str) -> str:
    """A level's `label` or `unit` in the chat's language, as the directory file gives it."""
    return level[f"{field}_en" if locale == "en" else f"{field}_vi"]


def place_example(names: Sequence[str]) -> str | None:
    """A part of a unit's name a citizen might type, taken from the directory rather than
    written in a catalog: what follows the words every unit's name begins with and the word
    most of them go on with, the kind of unit ("Ủy ban nhân dân xã Đăk Hà" → "Đăk Hà")."""
    words = [name.split() for name in names]
    shared = 0
    while all(len(w) > shared for w in words) and len({w[shared] for w in words}) == 1:
        shared += 1
    rests = [w[shared:] for w in words if len(w) > shared + 1]
    if not rests:
        return None
    kind = Counter(rest[0] for rest in rests).most_common(1)[0][0]
    return next(" ".join(rest[1:]) for rest in rests if rest[0] == kind)


def picker_steps(
    states: PickerStates, question_key: str, on_picked: OnPicked, *, owns: tuple[str, ...] = ()
) -> tuple[Step, ...]:
    """The two agency steps of a flow; `question_key` is the catalog key of the first one, and
    `owns` the flow's draft fields that `on_picked` fills."""
    level, pick = states.level, states.pick

    def browse(
        turn: Turn, found: list[Agency], *, opened: int | None = None, unit: str | None = None
    ) -> Outcome:
        ids = [a.id for a in found if a.id is not None]
        FOUND.save(turn, Found(agency_ids=ids, opened=opened, unit=unit))
        return Go(pick)

    async def example(turn: Turn) -> str:
        """How a search is typed, with and without accents, by a unit of the directory."""
        below = (await levels(turn))[1:2]
        if not below:
            return ""
        units = await agencies.units_of(
            below[0]["kind"], on=local_day(turn.now), session=turn.session
        )
        place = place_example([unit.name_vi for unit in units])
        return turn.texts("agency.search_example", name=place, plain=fold(place)) if place else ""

    async def find(turn: Turn, query: str) -> Outcome:
        if len(query) > MAX_QUERY:
            hint = await example(turn)
            return Retry(turn.texts("agency.search_too_long", limit=MAX_QUERY, example=hint))
        pool = await agencies.rateable_agencies(on=local_day(turn.now), session=turn.session)
        found = search(query, pool, lambda a: (a.name_vi, a.name_en))
        if not found:
            return Retry(turn.texts("agency.search_none", query=clip(query)))
        if len(found) > MAX_FOUND:
            turn.say("agency.search_many", count=len(found), shown=MAX_FOUND)
        return browse(turn, found[:MAX_FOUND])

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
        return Prompt(
            turn.texts(question_key, example=await example(turn)), choices, free_text=True
        )

    async def take_level(turn: Turn, answer: Answer) -> Outcome:
        """Open the chosen level, or search the typed name."""
        found = await levels(turn)
        kinds = [entry["kind"] for entry in found[1:]]
        today = local_day(turn.now)
        if answer.choice == TOP:
            top = await agencies.top_agencies(kinds, on=today, session=turn.session)
            return browse(turn, top)
        if answer.choice == UNITS and kinds:
            units = await agencies.units_of(kinds[0], on=today, session=turn.session)
            return browse(turn, units, unit=level_text(found[1], "unit", turn.dialog.locale))
        return await find(turn, answer.text or "")

    async def listed(turn: Turn) -> list[Agency]:
        ids = FOUND.load(turn).agency_ids
        return await agencies.agencies_by_ids(ids, session=turn.session)

    async def ask_pick(turn: Turn) -> Prompt:
        """List the agencies found or opened, to pick one, a page at a time."""
        found = FOUND.load(turn)
        t = turn.texts
        question = t("agency.q_unit", unit=found.unit) if found.unit else t("agency.q_pick")
        labels = [name_of(a, turn.dialog.locale) for a in await listed(turn)]
        first = found.page * PAGE_SIZE
        choices = numbered(labels)[first : first + PAGE_SIZE]
        if len(labels) > PAGE_SIZE:
            last = min(first + PAGE_SIZE, len(labels))
            choices += (
                Choice(MORE, t("agency.more", first=first + 1, last=last, count=len(labels))),
            )
        return Prompt(question, choices, free_text=True)

    async def take_pick(turn: Turn, answer: Answer) -> Outcome:
        """Open an agency that has units of its own (listed after it), at any depth; hand the
        agency to the flow once it has none or was picked from its own list."""
        if answer.text is not None:
            return await find(turn, answer.text)
        found = await listed(turn)
        if answer.choice == MORE:
            draft = FOUND.load(turn)
            draft.page = (draft.page + 1) % -(-len(found) // PAGE_SIZE)
            FOUND.save(turn, draft)
            return Go(pick)
        chosen = picked(answer, found)
        if chosen is None:
            return Retry(turn.pick_hint())
        if chosen.id is not None and chosen.id != FOUND.load(turn).opened:
            below = await agencies.children(
                chosen.id, on=local_day(turn.now), session=turn.session
            )
            if below:
                return browse(turn, [chosen, *below], opened=chosen.id)
        return await on_picked(turn, chosen)

    return (
        Step(level, ask_level, take_level),
        Step(pick, ask_pick, take_pick, owns=owns),
    )
