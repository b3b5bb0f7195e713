"""The step contract: named states, prompts, answers and outcomes.

A conversation is a table of `Step`s keyed by state name ("rating.access"). A step asks (builds a
`Prompt`) and takes an answer (returns an `Outcome`); it never talks to a messenger. The router
(`handlers/router.py`) turns prompts into replies, resolves buttons and typed numbers, and keeps
the history that makes "back" work. State names are constants of their flow; each flow keeps its
answers in one typed draft (`Drafts`). A flow that asks the first unanswered question computes
it in a function named `next_state`, which the diagrams (`handlers/diagrams.py`) read as such.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Attachment, Choice, ConversationKey, Incoming, Reply
from handlers.texts import Texts
from handlers.workdays import WorkCalendar

MENU = "start.menu"
"""Where a chat rests after consent; every conversation returns here when it ends."""
CONSENT = "start.consent"
"""Where a chat rests before consent."""


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings that conversations obey; built by the runtime from its configuration."""

    retention_days: int = 730
    closed_case_retention_days: int = 365
    controller_name: str | None = None
    """None: the intake agency names itself."""
    controller_contact: str = "dulieucanhan@example.org"
    comment_limit: int = 1000
    description_limit: int = 2000
    evidence_max_files: int = 5
    evidence_max_bytes: int = 10 * 1024 * 1024
    evidence_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp", "application/pdf")
    ack_days: int = 2
    decide_days: int = 10
    decide_days_by_category: Mapping[str, int] = field(default_factory=dict)
    review_days: int = 5
    opinion_threshold: int = 3
    opinion_window_days: int = 90
    opinion_rating_weight: float = 0.5
    reopen_days: int = 14
    invite_days: int = 7
    intake_agency_code: str | None = None
    """None: the intake agency the directory file names."""
    inspectorate_agency_code: str | None = None
    """None: the Inspectorate the directory file names."""
    extension_days: int = 10
    bot_username: str | None = None
    min_sample: int = 30
    reporting_cutoff: int | None = 15
    """Reporting periods end the day before this day of their last month (Decree 09/2019)."""
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    web_base_url: str | None = None
    """Where the web server is reached; None: /dashboard has no link to give."""
    dashboard_link_minutes: int = 10


@dataclass(slots=True)
class DialogState:
    """The stored position of one chat: state name, language, draft data, offered options."""

    state: str
    locale: str
    data: dict[str, Any] = field(default_factory=dict)
    offered: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Prompt:
    """A question: its text, the options offered, and whether typed text is also accepted."""

    text: str
    choices: tuple[Choice, ...] = ()
    free_text: bool = False
    files: bool = False
    back: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    """A resolved answer: the id of an offered option, or typed text."""

    choice: str | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Go:
    """Move to a state and ask its question."""

    state: str


@dataclass(frozen=True, slots=True)
class Retry:
    """The answer was not acceptable: say why, then ask the same question again."""

    hint: str


@dataclass(frozen=True, slots=True)
class Rest:
    """Stay where we are without asking again (the step already said what was needed)."""


Outcome = Go | Retry | Rest


@dataclass(frozen=True, slots=True)
class Step:
    """One named state of a conversation.

    `owns` names the draft fields this step fills; going back to the step forgets them, so the
    flow asks again instead of skipping ahead.
    """

    name: str
    ask: Callable[[Turn], Awaitable[Prompt]]
    take: Callable[[Turn, Answer], Awaitable[Outcome]]
    owns: tuple[str, ...] = ()

    @property
    def flow(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(slots=True)
class Turn:
    """Everything a step may use while handling one incoming message."""

    incoming: Incoming
    dialog: DialogState
    session: AsyncSession
    rules: Rules
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    elsewhere: list[tuple[ConversationKey, Reply]] = field(default_factory=list)
    notice: str | None = None
    chosen_label: str | None = None
    locales: dict[ConversationKey, str] = field(default_factory=dict)
    """Languages of other chats, read once per turn for all who are told (`texts_for`)."""

    @property
    def texts(self) -> Texts:
        return Texts(self.dialog.locale)

    def pick_hint(self) -> str:
        """Why an answer was not taken, worded for how this channel shows options."""
        return self.texts("common.pick_number" if self.incoming.numbered else "common.pick_option")

    def say(self, key: str, **values: object) -> None:
        """Queue a catalog message."""
        self.replies.append(Reply(self.texts(key, **values)))

    def say_text(self, text: str) -> None:
        """Queue text already composed from catalog parts."""
        self.replies.append(Reply(text))

    def send_to(self, key: ConversationKey, reply: Reply) -> None:
        """Queue a message to another chat (an officer, a reporter), in the same transaction."""
        if key == self.incoming.key:
            self.replies.append(reply)
        else:
            self.elsewhere.append((key, reply))

    def draft(self, flow: str) -> dict[str, Any]:
        """The mutable draft of a flow, stored with the conversation."""
        drafts: dict[str, Any] = self.dialog.data.setdefault("drafts", {})
        return drafts.setdefault(flow, {})

    def offer(self, step: str, prompt: Prompt, choices: tuple[Choice, ...], text: str) -> None:
        """Send a question and remember its options; the same question keeps its token."""
        listed = [[c.id, c.label] for c in choices]
        previous = self.dialog.offered
        same = previous.get("state") == step and previous.get("choices") == listed
        token = previous["token"] if same else secrets.token_urlsafe(4)
        self.dialog.offered = {
            "state": step,
            "token": token,
            "choices": listed,
            "free_text": prompt.free_text,
            "files": prompt.files,
        }
        self.replies.append(Reply(text, choices, token if choices else None))


Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Drafts(Generic[Model]):
    """Where one flow keeps its answers so far: its name and its typed model, in one place.
    Step `owns` names are fields of this model (a test checks them)."""

    flow: str
    model: type[Model]

    def load(self, turn: Turn) -> Model:
        return self.model.model_validate(turn.draft(self.flow))

    def save(self, turn: Turn, draft: Model) -> None:
        """Store the draft (only what differs from the defaults), replacing what was there."""
        stored = turn.draft(self.flow)
        stored.clear()
        stored.update(draft.model_dump(mode="json", exclude_defaults=True))


MAX_ID = 2**31 - 1
"""The largest key an INTEGER column holds on PostgreSQL; a larger number names no record."""


def parse_id(text: str) -> int | None:
    """A record number typed by a person ("/case 12"), or None when it cannot name one: not
    digits, zero, or beyond any key, so a long number reads as "not found", never an error."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


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
