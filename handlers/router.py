"""Routes one incoming message: commands first, then the step the chat is in.

This is the only place that resolves buttons and typed numbers against the options a question
offered, keeps the back-history, and refuses stale or forged presses. Steps stay simple.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from handlers import rating, start
from handlers.flow import Answer, Go, Outcome, Rest, Retry, Step, Turn
from handlers.messages import Choice
from handlers.textmatch import fold

log = logging.getLogger(__name__)

BACK = "back"
_BACK_WORDS = frozenset({"back", "quay lai", "tro lai"})
HISTORY = "history"


def build_registry(*tables: Iterable[Step]) -> dict[str, Step]:
    """Merge the step tables of every conversation; a state name may appear only once."""
    registry: dict[str, Step] = {}
    for table in tables:
        for step in table:
            if step.name in registry:
                raise ValueError(f"state {step.name} is defined twice")
            registry[step.name] = step
    return registry


STEPS = build_registry(start.STEPS, rating.STEPS)


class _Refused:
    """A press that does not belong to the current question."""


class _Back:
    """The user asked to return one question."""


async def respond(turn: Turn) -> None:
    """Handle one incoming message and queue every reply on the turn."""
    if turn.incoming.command is not None:
        await _run_command(turn)
        return
    step = STEPS.get(turn.dialog.state)
    if step is None:
        await go_home(turn)
        return
    answer = _read_answer(turn)
    if isinstance(answer, _Refused):
        turn.notice = turn.texts("common.stale_button")
        return
    if isinstance(answer, _Back):
        await _go_back(turn)
        return
    if isinstance(answer, str):
        await present(turn, step, hint=turn.texts(answer))
        return
    await apply(turn, step, await step.take(turn, answer))


async def apply(turn: Turn, step: Step, outcome: Outcome) -> None:
    """Carry out a step's outcome: move on, ask again with a hint, or stay."""
    if isinstance(outcome, Retry):
        await present(turn, step, hint=outcome.hint)
    elif isinstance(outcome, Go):
        await goto(turn, outcome.state, came_from=step.name)
    elif isinstance(outcome, Rest):
        return


async def goto(turn: Turn, state: str, *, came_from: str | None = None) -> None:
    """Enter a state and ask its question; leaving a flow for home forgets its history."""
    target = STEPS[state]
    history: list[str] = turn.dialog.data.setdefault(HISTORY, [])
    if state in start.HOME_STATES:
        turn.dialog.data.pop(HISTORY, None)
        turn.dialog.data.pop("drafts", None)
    elif came_from is not None and came_from != state and came_from not in start.HOME_STATES:
        history.append(came_from)
    turn.dialog.state = state
    await present(turn, target)


async def present(turn: Turn, step: Step, *, hint: str | None = None) -> None:
    """Ask a step's question, adding the back option when there is somewhere to go back to."""
    prompt = await step.ask(turn)
    choices = list(prompt.choices)
    if prompt.back and turn.dialog.data.get(HISTORY):
        choices.append(Choice(BACK, turn.texts("common.back")))
    text = prompt.text if hint is None else f"{hint}\n\n{prompt.text}"
    turn.offer(step.name, prompt, tuple(choices), text)


async def go_home(turn: Turn) -> None:
    await goto(turn, await start.home_state(turn))


async def _go_back(turn: Turn) -> None:
    history: list[str] = turn.dialog.data.get(HISTORY, [])
    previous = STEPS[history.pop()]
    draft = turn.draft(previous.flow)
    for name in (*STEPS[turn.dialog.state].owns, *previous.owns):
        draft.pop(name, None)
    turn.dialog.state = previous.name
    await present(turn, previous)


def _read_answer(turn: Turn) -> Answer | _Refused | _Back | str:
    """Resolve the input against the offered options; a string is the catalog key of a hint."""
    incoming, offered = turn.incoming, turn.dialog.offered
    choices: list[list[str]] = offered.get("choices", [])
    if incoming.choice_token is not None:
        token, _, choice_id = incoming.choice_token.partition(":")
        labels = dict((c[0], c[1]) for c in choices)
        if token != offered.get("token") or choice_id not in labels:
            return _Refused()
        turn.chosen_label = labels[choice_id]
        return _Back() if choice_id == BACK else Answer(choice=choice_id)
    if incoming.text is None:
        return "common.text_only"
    text = incoming.text.strip()
    folded = fold(text)
    if folded in _BACK_WORDS and turn.dialog.data.get(HISTORY):
        return _Back()
    chosen = _match_choice(text, folded, choices)
    if chosen is not None:
        return _Back() if chosen == BACK else Answer(choice=chosen)
    if offered.get("free_text") and text:
        return Answer(text=text)
    return "common.pick_option" if choices else "common.type_text"


def _match_choice(text: str, folded: str, choices: Sequence[Sequence[str]]) -> str | None:
    """A typed option number ("2") or the option's label, accents ignored."""
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1][0]
    for choice_id, label in choices:
        if fold(label) == folded:
            return choice_id
    return None


async def _command_start(turn: Turn) -> None:
    link = rating.parse_deep_link(turn.incoming.command_args)
    if await start.home_state(turn) == start.CONSENT:
        if link is not None:
            turn.dialog.data["deep_link"] = turn.incoming.command_args
        await goto(turn, start.CONSENT)
        return
    if link is not None:
        turn.dialog.data.pop(HISTORY, None)
        turn.dialog.data.pop("drafts", None)
        await apply(turn, STEPS[start.MENU], await rating.begin(turn, link))
        return
    turn.say("start.welcome_back")
    await goto(turn, start.MENU)


async def _command_cancel(turn: Turn) -> None:
    inside = turn.dialog.state not in start.HOME_STATES
    turn.say("common.cancelled" if inside else "common.nothing_to_cancel")
    await go_home(turn)


async def _command_help(turn: Turn) -> None:
    turn.say("common.help")
    await _ask_again(turn)


async def _command_language(turn: Turn) -> None:
    await start.switch_language(turn, turn.incoming.command_args)
    turn.say("common.language_set")
    await _ask_again(turn)


async def _command_unknown(turn: Turn) -> None:
    turn.say("common.unknown_command")
    turn.say("common.help")
    await _ask_again(turn)


async def _ask_again(turn: Turn) -> None:
    step = STEPS.get(turn.dialog.state)
    if step is None:
        await go_home(turn)
    else:
        await present(turn, step)


COMMANDS: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "start": _command_start,
    "cancel": _command_cancel,
    "help": _command_help,
    "language": _command_language,
}


async def _run_command(turn: Turn) -> None:
    command = turn.incoming.command or ""
    await COMMANDS.get(command, _command_unknown)(turn)
