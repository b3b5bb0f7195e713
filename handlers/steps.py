"""Ready-made steps for the questions every flow asks alike: free text within a limit, one of
fixed options, yes or no, and the closing summary. Each builds a `Step` of the contract in
`handlers/flow.py` from catalog keys and the function that takes the answer on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.flow import MENU, Answer, Drafts, Go, Model, Outcome, Prompt, Retry, Step, Turn
from handlers.messages import Choice


def read_text(answer: Answer, limit: int) -> str | None:
    """The typed text, trimmed, if it is not empty and within the limit."""
    text = (answer.text or "").strip()
    return text if text and len(text) <= limit else None


def text_step(
    name: str,
    prompt_key: str,
    limit: int,
    take_text: Callable[[Turn, str], Awaitable[Outcome]],
    *,
    owns: tuple[str, ...] = (),
) -> Step:
    """A step that asks for free text of at most `limit` characters and hands it on."""

    async def ask(turn: Turn) -> Prompt:
        return Prompt(turn.texts(prompt_key, limit=limit), free_text=True)

    async def take(turn: Turn, answer: Answer) -> Outcome:
        text = read_text(answer, limit)
        if text is None:
            return Retry(turn.texts("common.text_limit", limit=limit))
        return await take_text(turn, text)

    return Step(name, ask, take, owns)


def option_step(
    name: str,
    question_key: str,
    options: tuple[str, ...],
    labels: str,
    take_option: Callable[[Turn, str], Awaitable[Outcome]],
    *,
    owns: tuple[str, ...] = (),
) -> Step:
    """A step that offers fixed options, each labelled `<labels>.<option>` in the catalog, and
    hands the chosen one on; any other answer is asked again."""

    async def ask(turn: Turn) -> Prompt:
        t = turn.texts
        return Prompt(t(question_key), tuple(Choice(o, t(f"{labels}.{o}")) for o in options))

    async def take(turn: Turn, answer: Answer) -> Outcome:
        if answer.choice not in options:
            return Retry(turn.pick_hint())
        return await take_option(turn, answer.choice)

    return Step(name, ask, take, owns)


def confirm_step(
    name: str,
    labels: str,
    question: Callable[[Turn], Awaitable[str]],
    on_yes: Callable[[Turn], Awaitable[Outcome]],
    on_no: Callable[[Turn], Awaitable[Outcome]],
    *,
    back: bool = True,
) -> Step:
    """A yes-or-no question, its options labelled `<labels>_yes` and `<labels>_no`; nothing
    happens before the answer, and any other answer is asked again."""

    async def ask(turn: Turn) -> Prompt:
        t = turn.texts
        choices = (Choice("yes", t(f"{labels}_yes")), Choice("no", t(f"{labels}_no")))
        return Prompt(await question(turn), choices, back=back)

    async def take(turn: Turn, answer: Answer) -> Outcome:
        if answer.choice == "yes":
            return await on_yes(turn)
        if answer.choice == "no":
            return await on_no(turn)
        return Retry(turn.pick_hint())

    return Step(name, ask, take)


def summary_step(
    name: str,
    catalog: str,
    drafts: Drafts[Model],
    next_state: Callable[[Model], str],
    describe: Callable[[Turn, Model], Awaitable[str]],
    submit: Callable[[Turn, Model], Awaitable[Outcome]],
    *,
    change: str,
    on_cancel: Callable[[Turn], Awaitable[None]] | None = None,
) -> Step:
    """The last step of a conversation: every answer shown, then send, change one, or cancel.
    Labels come from `<catalog>.submit`, `.change` and `.cancel`; nothing is stored before
    `submit` runs, and not while `next_state` finds a question still unanswered (a changed
    answer can make another one necessary): that question is asked first."""

    async def ask(turn: Turn) -> Prompt:
        t = turn.texts
        choices = tuple(Choice(c, t(f"{catalog}.{c}")) for c in ("submit", "change", "cancel"))
        return Prompt(await describe(turn, drafts.load(turn)), choices)

    async def take(turn: Turn, answer: Answer) -> Outcome:
        if answer.choice == "change":
            return Go(change)
        if answer.choice == "cancel":
            if on_cancel is not None:
                await on_cancel(turn)
            turn.say("common.cancelled")
            return Go(MENU)
        if answer.choice != "submit":
            return Retry(turn.pick_hint())
        draft = drafts.load(turn)
        unanswered = next_state(draft)
        return Go(unanswered) if unanswered != name else await submit(turn, draft)

    return Step(name, ask, take)
