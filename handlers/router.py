"""Routes one incoming message: commands first, then the step the chat is in.

This is the only place that resolves buttons and typed numbers against the options a question
offered, keeps the back-history, and refuses stale or forged presses. Nothing runs in a room
that does not admit it (`handlers/rooms.py`). Steps stay simple.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from handlers import access, links, rooms
from handlers.actions import pressed_action
from handlers.admin import dashboard, news, roster, summary
from handlers.citizen import commend, privacy, rating, report, start, status
from handlers.flow import Answer, Go, Outcome, Rest, Retry, Step, Turn
from handlers.messages import BACK, ChatKind, Choice, option_numbers
from handlers.officer import cases, decide, desk, join, review, tracks
from handlers.textmatch import best, fold, words

log = logging.getLogger(__name__)

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


FLOW_MODULES = (
    start,
    rating,
    report,
    status,
    commend,
    cases,
    decide,
    review,
    tracks,
    roster,
    privacy,
)
"""The modules whose `STEPS` tables make up the conversations."""
STEPS = build_registry(*(module.STEPS for module in FLOW_MODULES))


class _Refused:
    """A press that does not belong to the current question."""


class _Back:
    """The user asked to return one question."""


async def respond(turn: Turn) -> None:
    """Handle one incoming message and queue every reply on the turn."""
    if not rooms.admits(turn.incoming):
        await rooms.turn_away(turn)
        return
    if turn.incoming.command is not None:
        await _run_command(turn)
        return
    action = await pressed_action(turn)
    if action is not None:
        await _run_action(turn, *action)
        return
    step = STEPS.get(turn.dialog.state)
    if step is None:
        await go_home(turn)
        return
    if not turn.dialog.offered and turn.incoming.choice_token is None:
        await present(turn, step)
        return
    answer = _read_answer(turn)
    if isinstance(answer, _Refused):
        turn.notice = turn.texts("common.stale_button")
        await access.audit_refused_press(turn)
        return
    if isinstance(answer, _Back):
        await _go_back(turn)
        return
    if isinstance(answer, str):
        await present(turn, step, hint=answer)
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
        await leave_flows(turn)
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


async def leave_flows(turn: Turn, keep: str | None = None) -> None:
    """Forget every unfinished conversation (but `keep`): history, drafts, staged files."""
    turn.dialog.data.pop(HISTORY, None)
    drafts: dict[str, object] = turn.dialog.data.pop("drafts", {})
    if drafts.get(report.FLOW) and keep != report.FLOW:
        await report.discard(turn)
    if keep is not None and keep in drafts:
        turn.dialog.data["drafts"] = {keep: drafts[keep]}


async def begin(turn: Turn, outcome: Outcome | None) -> None:
    """Start what a command or a notification button asked for, as a fresh conversation."""
    if isinstance(outcome, Go):
        turn.dialog.data.pop(HISTORY, None)
        await goto(turn, outcome.state)


async def switch_to(turn: Turn, flow: str, outcome: Outcome | None) -> None:
    """Leave the other conversations only once a command has succeeded, so a mistyped code
    does not throw away a half-finished report; without success, ask the same question again."""
    if isinstance(outcome, Go):
        await leave_flows(turn, keep=flow)
        await begin(turn, outcome)
    else:
        await _ask_again(turn)


async def _go_back(turn: Turn) -> None:
    history: list[str] = turn.dialog.data.get(HISTORY, [])
    if not history:
        await _ask_again(turn)
        return
    previous = STEPS[history.pop()]
    draft = turn.draft(previous.flow)
    for name in previous.owns:
        draft.pop(name, None)
    turn.dialog.state = previous.name
    await present(turn, previous)


def _read_answer(turn: Turn) -> Answer | _Refused | _Back | str:
    """Resolve the input against the offered options; a string is a hint to show."""
    incoming, offered = turn.incoming, turn.dialog.offered
    choices = [Choice(c[0], c[1]) for c in offered.get("choices", [])]
    if incoming.choice_token is not None:
        token, _, choice_id = incoming.choice_token.partition(":")
        labels = {c.id: c.label for c in choices}
        if token != offered.get("token") or choice_id not in labels:
            return _Refused()
        turn.chosen_label = labels[choice_id]
        return _Back() if choice_id == BACK else Answer(choice=choice_id)
    if incoming.attachments and offered.get("files"):
        return Answer(attachments=incoming.attachments)
    if incoming.text is None:
        return turn.texts("common.text_only")
    text = incoming.text.strip()
    free_text = bool(offered.get("free_text"))
    if fold(text) in _BACK_WORDS and turn.dialog.data.get(HISTORY):
        return _Back()
    chosen = _match_choice(text, choices, free_text=free_text)
    if chosen is not None:
        return _Back() if chosen == BACK else Answer(choice=chosen)
    if free_text and text:
        return Answer(text=text)
    if not choices:
        return turn.texts("common.type_text")
    if text.isdigit():
        return f"{turn.texts('common.no_such_number', number=text[:12])} {turn.pick_hint()}"
    return turn.pick_hint()


def _match_choice(text: str, choices: list[Choice], *, free_text: bool) -> str | None:
    """The option a typed number or label names, accents and case ignored ("hai long" is
    "4 – Hài lòng"). Where text is welcome too, only a whole label counts, so a comment is
    never mistaken for an option; elsewhere the one label that matches best."""
    numbers = {number: choice.id for number, choice in option_numbers(choices)}
    if text.isdigit():
        return numbers.get(text.lstrip("0") or "0")
    typed = words(text)
    if not typed:
        return None
    if free_text:
        return next((c.id for c in choices if typed in _label_forms(c.label)), None)
    found = best(text, choices, lambda c: (c.label,))
    return found.id if found is not None else None


def _label_forms(label: str) -> tuple[tuple[str, ...], ...]:
    """A label's words, and without its leading number ("4 – Hài lòng" is also "Hài lòng")."""
    full = words(label)
    return (full, full[1:]) if full and full[0].isdigit() else (full,)


async def _command_start(turn: Turn) -> None:
    args = turn.incoming.command_args
    if args.startswith(links.JOIN):
        await _command_join(turn, args.removeprefix(links.JOIN))
        return
    link = rating.parse_deep_link(args)
    if await start.home_state(turn) == start.CONSENT:
        if link is not None:
            turn.dialog.data["deep_link"] = args
        await goto(turn, start.CONSENT)
        return
    if link is not None:
        await leave_flows(turn)
        await begin(turn, await rating.begin(turn, link))
        return
    turn.say("start.welcome_back")
    await goto(turn, start.MENU)


async def _command_cancel(turn: Turn) -> None:
    inside = turn.dialog.state not in start.HOME_STATES
    turn.say("common.cancelled" if inside else "common.nothing_to_cancel")
    await go_home(turn)


async def _command_help(turn: Turn) -> None:
    if turn.incoming.chat_kind is ChatKind.GROUP:
        turn.say("rooms.group_help")  # no menu and no question: they would invite replies
        return
    turn.say("common.help")
    if await join.is_officer(turn):
        turn.say("officer.help")
    await _ask_again(turn)


async def _command_language(turn: Turn) -> None:
    switched = await start.switch_language(turn, turn.incoming.command_args)
    turn.say("common.language_set" if switched else "common.language_usage")
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


async def repeat_question(turn: Turn) -> None:
    """A reply to this chat was given up (the messenger was down too long): in the middle of a
    conversation, apologise and ask its current question again; at rest, say nothing."""
    step = STEPS.get(turn.dialog.state)
    if step is None or step.name in start.HOME_STATES:
        return
    await present(turn, step, hint=turn.texts("common.question_repeated"))


async def _citizen_only(turn: Turn) -> bool:
    """Citizen commands need consent first; without it the notice is shown again."""
    if await start.home_state(turn) == start.CONSENT:
        await goto(turn, start.CONSENT)
        return False
    await leave_flows(turn)
    return True


async def _command_report(turn: Turn) -> None:
    if await _citizen_only(turn):
        await begin(turn, await report.begin(turn))


async def _command_commend(turn: Turn) -> None:
    if await _citizen_only(turn):
        await begin(turn, await commend.begin(turn))


async def _command_status(turn: Turn) -> None:
    if await _citizen_only(turn):
        await begin(turn, await status.show(turn, turn.incoming.command_args))


async def _command_my_reports(turn: Turn) -> None:
    if await _citizen_only(turn):
        await begin(turn, Go(status.LIST))


async def _command_my_data(turn: Turn) -> None:
    await privacy.show_my_data(turn)
    await _ask_again(turn)


async def _command_forget(turn: Turn) -> None:
    await leave_flows(turn)
    await begin(turn, Go(privacy.FORGET))


async def _command_join(turn: Turn, code: str | None = None) -> None:
    outcome = await join.join(turn, turn.incoming.command_args if code is None else code)
    await switch_to(turn, desk.FLOW, outcome)


async def _command_cases(turn: Turn) -> None:
    await switch_to(turn, desk.FLOW, await cases.start_cases(turn))


async def _command_case(turn: Turn) -> None:
    await switch_to(turn, desk.FLOW, await cases.open_case_card(turn, turn.incoming.command_args))


async def _command_review(turn: Turn) -> None:
    await switch_to(turn, desk.FLOW, await review.open_review(turn, turn.incoming.command_args))


async def _command_register(turn: Turn) -> None:
    await join.register_group(turn)


async def _command_officers(turn: Turn) -> None:
    await switch_to(turn, desk.FLOW, await roster.start(turn, turn.incoming.command_args))


async def _command_invite(turn: Turn) -> None:
    await join.invite_in_chat(turn, turn.incoming.command_args)


async def _command_news(turn: Turn) -> None:
    await news.subscribe(turn, True)
    await _ask_again(turn)


async def _command_stop(turn: Turn) -> None:
    await news.subscribe(turn, False)
    await _ask_again(turn)


async def _command_announce(turn: Turn) -> None:
    await news.announce(turn)


async def _command_announcements(turn: Turn) -> None:
    await news.report_deliveries(turn)


async def _command_summary(turn: Turn) -> None:
    await summary.show_summary(turn)


async def _command_export(turn: Turn) -> None:
    await summary.send_export(turn)


async def _command_dashboard(turn: Turn) -> None:
    await dashboard.send_link(turn)


COMMANDS: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "start": _command_start,
    "cancel": _command_cancel,
    "help": _command_help,
    "language": _command_language,
    "report": _command_report,
    "commend": _command_commend,
    "status": _command_status,
    "myreports": _command_my_reports,
    "mydata": _command_my_data,
    "forget": _command_forget,
    "join": _command_join,
    "cases": _command_cases,
    "case": _command_case,
    "review": _command_review,
    "register": _command_register,
    "invite": _command_invite,
    "officers": _command_officers,
    "resume": _ask_again,
    "summary": _command_summary,
    "news": _command_news,
    "stop": _command_stop,
    "announce": _command_announce,
    "announcements": _command_announcements,
    "export": _command_export,
    "dashboard": _command_dashboard,
}


async def _run_command(turn: Turn) -> None:
    command = turn.incoming.command or ""
    await COMMANDS.get(command, _command_unknown)(turn)


async def _action_answer(turn: Turn, argument: str) -> None:
    if await status.by_case(turn, argument) is not None:
        await begin(turn, Go(status.ANSWER))


async def _action_settle(turn: Turn, argument: str, *, resolved: bool) -> None:
    owned = await status.by_case(turn, argument)
    if owned is not None:
        await status.settle(turn, *owned, resolved=resolved)
        await begin(turn, Go(status.CARD))


async def _action_resolved(turn: Turn, argument: str) -> None:
    await _action_settle(turn, argument, resolved=True)


async def _action_unresolved(turn: Turn, argument: str) -> None:
    await _action_settle(turn, argument, resolved=False)


async def _action_case(turn: Turn, argument: str) -> None:
    await switch_to(turn, desk.FLOW, await cases.open_case_card(turn, argument))


async def _action_review(turn: Turn, argument: str) -> None:
    await switch_to(turn, desk.FLOW, await review.open_review(turn, argument))


ACTION_HANDLERS: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    "answer": _action_answer,
    "resolved": _action_resolved,
    "unresolved": _action_unresolved,
    "case": _action_case,
    "review": _action_review,
}


async def _run_action(turn: Turn, name: str, argument: str, label: str) -> None:
    """A button on a notification; its token was stored when the notification was sent."""
    turn.chosen_label = label
    handler = ACTION_HANDLERS.get(name)
    if handler is not None:
        await handler(turn, argument)
